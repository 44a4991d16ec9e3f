"""Content validity from an expert panel: I-CVI, modified kappa, CVR and Aiken's V.

For an item rated by ``N`` experts on a 1..4 relevance scale (``lo``..``hi`` in general,
``c = hi - lo + 1`` categories), with ``A`` experts rating it relevant (``>= relevant_min``,
3 or 4 by default) and ``n_e`` rating it "essential":

* **I-CVI** ``= A / N`` (Lynn 1986; Polit & Beck 2006).
* **Modified kappa** ``k* = (I-CVI - pc) / (1 - pc)`` with ``pc = C(N, A) * 0.5^N``, the
  probability of chance agreement on relevance (Polit, Beck & Owen 2007). Bands (Cicchetti
  & Sparrow 1981, as used by Polit et al.): excellent ``> 0.74``, good ``0.60-0.74``, fair
  ``0.40-0.59``, poor ``< 0.40``.
* **CVR** ``= (n_e - N/2) / (N/2)`` (Lawshe 1975). "Essential" means rated ``>=
  relevant_min`` unless another rule is given.
* **Critical CVR** (Ayre & Scally 2014): the smallest ``n_crit`` with exact one-tailed
  binomial ``P(X >= n_crit | N, 0.5) < alpha`` (alpha = .05), ``CVR_crit = (n_crit - N/2) /
  (N/2)``. For ``N <= 4`` no count is significant and the critical value is undefined (NaN).
* **Aiken's V** ``= sum(r - lo) / (N (c - 1))`` (Aiken 1985) and its score interval
  (Penfield & Giacobbi 2004), with ``k = c - 1``:
  ``(2 N k V + z^2 -/+ z sqrt(4 N k V (1 - V) + z^2)) / (2 (N k + z^2))``.
* Scale level: **S-CVI/Ave** = mean of the I-CVIs, **S-CVI/UA** = share of items with
  I-CVI = 1 (Polit & Beck 2006).

No R package computes these the way the literature defines them, so tests compare with the
published tables (Polit et al. 2007 Table 4; Ayre & Scally 2014 Table 2, checked against the
exact binomial) and with hand-worked values.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from instrval._jsonable import float_or_none
from instrval._result import Result
from instrval.errors import DataQualityWarning, StatisticsError

__all__ = [
    "ContentValidityResult",
    "content_validity",
    "modified_kappa",
    "kappa_band",
    "cvr",
    "cvr_critical",
    "aiken_v",
    "aiken_interval",
]

_ITEM_COLUMNS = [
    "item_id", "n_experts", "n_relevant", "i_cvi", "pc", "modified_kappa", "kappa_band",
    "n_essential", "cvr", "ne_critical", "cvr_critical", "cvr_significant",
    "aiken_v", "aiken_ci_low", "aiken_ci_high", "mean_rating",
]


# ----------------------------------------------------------------------------- formulas
def modified_kappa(n_agree: int, n_experts: int) -> tuple[float, float]:
    """Modified kappa of Polit, Beck & Owen (2007): returns ``(k*, pc)``.

    ``pc = C(N, A) 0.5^N``, ``k* = (A/N - pc) / (1 - pc)``.

    >>> k, pc = modified_kappa(5, 6)
    >>> round(pc, 3), round(k, 2)
    (0.094, 0.82)
    """
    if n_experts <= 0:
        return float("nan"), float("nan")
    pc = math.comb(n_experts, n_agree) * 0.5**n_experts
    icvi = n_agree / n_experts
    return (icvi - pc) / (1.0 - pc), pc


def kappa_band(k: float) -> str | None:
    """Polit et al. (2007) band of a modified kappa: excellent (> .74), good (.60-.74),
    fair (.40-.59), poor (< .40)."""
    if k is None or math.isnan(k):
        return None
    if k > 0.74:
        return "excellent"
    if k >= 0.60:
        return "good"
    if k >= 0.40:
        return "fair"
    return "poor"


def cvr(n_essential: int, n_experts: int) -> float:
    """Lawshe's (1975) content validity ratio ``(n_e - N/2) / (N/2)``."""
    if n_experts <= 0:
        return float("nan")
    half = n_experts / 2.0
    return (n_essential - half) / half


def cvr_critical(n_experts: int, *, alpha: float = 0.05) -> tuple[int | None, float]:
    """Ayre & Scally (2014) critical CVR for a panel of ``n_experts``.

    The smallest number of "essential" ratings ``n_crit`` whose exact one-tailed binomial
    probability ``P(X >= n_crit | N, 0.5)`` is below ``alpha``; returns ``(n_crit,
    (n_crit - N/2) / (N/2))``, or ``(None, nan)`` when even unanimity is not significant.
    Computed in exact rational arithmetic.

    >>> cvr_critical(10)
    (9, 0.8)
    """
    if n_experts <= 0:
        return None, float("nan")
    a = Fraction(str(alpha))
    total = 2**n_experts
    tail = 0
    crit = None
    for ne in range(n_experts, -1, -1):
        tail += math.comb(n_experts, ne)
        if Fraction(tail, total) < a:
            crit = ne
        else:
            break
    if crit is None:
        return None, float("nan")
    return crit, cvr(crit, n_experts)


def aiken_v(ratings: Sequence[float], *, lo: int = 1, hi: int = 4) -> float:
    """Aiken's (1985) V: ``sum(r - lo) / (n (c - 1))`` with ``c = hi - lo + 1`` categories."""
    r = np.asarray(ratings, dtype=float)
    if len(r) == 0:
        return float("nan")
    return float((r - lo).sum() / (len(r) * (hi - lo)))


def aiken_interval(v: float, n: int, *, lo: int = 1, hi: int = 4,
                   z: float = 1.96) -> tuple[float, float]:
    """Penfield & Giacobbi (2004) score confidence interval for Aiken's V.

    With ``k = hi - lo`` (categories - 1):
    ``L, U = (2nkV + z^2 -/+ z sqrt(4nkV(1 - V) + z^2)) / (2(nk + z^2))``.
    """
    if n <= 0 or math.isnan(v):
        return float("nan"), float("nan")
    k = hi - lo
    nk = n * k
    root = z * math.sqrt(4.0 * nk * v * (1.0 - v) + z * z)
    den = 2.0 * (nk + z * z)
    base = 2.0 * nk * v + z * z
    return (base - root) / den, (base + root) / den


# ----------------------------------------------------------------------------- result
@dataclass(frozen=True, repr=False)
class ContentValidityResult(Result):
    """Content-validity indices per item and for the scale.

    Attributes
    ----------
    items : DataFrame
        One row per item: ``item_id``, ``n_experts``, ``n_relevant``, ``i_cvi``, ``pc``,
        ``modified_kappa``, ``kappa_band``, ``n_essential``, ``cvr``, ``ne_critical``,
        ``cvr_critical``, ``cvr_significant``, ``aiken_v``, ``aiken_ci_low``,
        ``aiken_ci_high``, ``mean_rating``.
    scale : dict
        ``s_cvi_ave``, ``s_cvi_ua``, ``n_items``, ``n_experts``.
    options : dict
        The rules used: ``aspect``, ``relevant_min``, ``essential``, ``scale_min``,
        ``scale_max``, ``z``, ``alpha``.
    """

    items: pd.DataFrame = field(repr=False)
    scale: dict[str, Any]
    options: dict[str, Any]

    @property
    def aiken_confidence(self) -> float:
        """The level of Aiken's V interval, ``2 Phi(z) - 1`` for the ``z`` in ``options``
        (1.96 gives 0.95)."""
        z = float(self.options.get("z", 1.96))
        return math.erf(z / math.sqrt(2.0))

    def to_frame(self) -> pd.DataFrame:
        return self.items.copy()

    def to_dict(self) -> dict[str, Any]:
        """``{"items": [...], "scale": {"s_cvi_ave", "s_cvi_ua", ...}, "options": {...}}``."""
        items = []
        for rec in self.items.to_dict(orient="records"):
            out: dict[str, Any] = {}
            for k, v in rec.items():
                if k in ("item_id", "kappa_band"):
                    out[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                elif k in ("n_experts", "n_relevant", "n_essential", "ne_critical"):
                    out[k] = None if v is None or pd.isna(v) else int(v)
                elif k == "cvr_significant":
                    out[k] = bool(v)
                else:
                    out[k] = float_or_none(v)
            items.append(out)
        scale = {k: (float_or_none(v) if isinstance(v, float) else v) for k, v in self.scale.items()}
        return {"items": items, "scale": scale, "options": dict(self.options)}


def _essential_rule(essential: Any, relevant_min: int) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    if essential is None:
        return (lambda r: r >= relevant_min), f">= {relevant_min}"
    if isinstance(essential, (int, np.integer)) and not isinstance(essential, bool):
        return (lambda r: r >= essential), f">= {int(essential)}"
    if callable(essential):
        return (lambda r: np.asarray(essential(r), dtype=bool)), getattr(essential, "__name__", "custom")
    if isinstance(essential, Collection) and not isinstance(essential, str):
        codes = sorted(int(c) for c in essential)
        return (lambda r: np.isin(r, codes)), "in {" + ", ".join(map(str, codes)) + "}"
    raise StatisticsError(
        f"essential must be None, a minimum code, a collection of codes or a function; got {essential!r}"
    )


def content_validity(
    panel_df: Any,
    *,
    relevant_min: int = 3,
    essential: int | Collection[int] | Callable[[np.ndarray], np.ndarray] | None = None,
    aspect: str = "relevance",
    scale_min: int | None = None,
    scale_max: int | None = None,
    z: float = 1.96,
    alpha: float = 0.05,
    items: Sequence[str] | None = None,
) -> ContentValidityResult:
    """I-CVI, modified kappa, CVR (with Ayre & Scally's critical value), Aiken's V and
    S-CVI from expert ratings.

    Parameters
    ----------
    panel_df : DataFrame or PanelData
        Long form: ``expert``, ``item_id`` and the ``aspect`` column of integer ratings
        (``PanelData.data`` from :func:`instrval.io.panel.read_panel`). Missing ratings
        (NA) are left out of that item's counts.
    relevant_min : int
        Ratings ``>= relevant_min`` count as relevant (default 3: "quite" or "highly"
        relevant on the 4-point scale).
    essential : int, collection of int or callable, optional
        Which ratings count as "essential" for Lawshe's CVR: a minimum code, a set of
        codes, or a function of the ratings array returning booleans. Default: the
        relevance rule.
    aspect : str
        The rated aspect to analyse (default ``relevance``; e.g. ``clarity``).
    scale_min, scale_max : int, optional
        The rating scale for Aiken's V. Default: from a PanelData, else 1..4.
    z : float
        Normal quantile of Aiken's V interval (1.96 for 95 %).
    alpha : float
        One-tailed level of the critical CVR (0.05).
    items : sequence of str, optional
        Item order for the table. Items listed but not rated are left out with a
        :class:`~instrval.errors.DataQualityWarning`.

    Returns
    -------
    ContentValidityResult

    Notes
    -----
    Formulas and references: see the module docstring. There is no R equivalent in
    psych; the ``CVR`` of other R packages uses Lawshe's original (Lawshe 1975) critical
    table, which Ayre & Scally (2014) showed to contain errors.

    References
    ----------
    Lawshe CH (1975). A quantitative approach to content validity. Personnel Psychology 28,
    563-575. Lynn MR (1986). Determination and quantification of content validity. Nursing
    Research 35, 382-385. Aiken LR (1985). Three coefficients for analyzing the reliability
    and validity of ratings. Educ Psychol Meas 45, 131-142. Penfield RD, Giacobbi PR (2004).
    Applying a score confidence interval to Aiken's item content-relevance index.
    Measurement in Physical Education and Exercise Science 8, 213-225. Polit DF, Beck CT
    (2006). The content validity index. Res Nurs Health 29, 489-497. Polit DF, Beck CT,
    Owen SV (2007). Is the CVI an acceptable indicator of content validity? Res Nurs Health
    30, 459-467. Ayre C, Scally AJ (2014). Critical values for Lawshe's content validity
    ratio. Meas Eval Couns Dev 47, 79-86.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"expert": list("abcdef"), "item_id": ["q1"] * 6,
    ...                    "relevance": [4, 4, 3, 4, 3, 2]})
    >>> row = content_validity(df).to_dict()["items"][0]
    >>> round(row["i_cvi"], 2), round(row["modified_kappa"], 2), row["kappa_band"]
    (0.83, 0.82, 'excellent')
    """
    if hasattr(panel_df, "data") and hasattr(panel_df, "aspects"):
        scale_min = panel_df.scale_min if scale_min is None else scale_min
        scale_max = panel_df.scale_max if scale_max is None else scale_max
        df = panel_df.data
    elif isinstance(panel_df, pd.DataFrame):
        df = panel_df
    else:
        raise StatisticsError(
            f"panel_df must be a DataFrame or PanelData, got {type(panel_df).__name__}"
        )
    lo = 1 if scale_min is None else int(scale_min)
    hi = 4 if scale_max is None else int(scale_max)
    if not lo < hi:
        raise StatisticsError(f"scale_min must be below scale_max, got {lo} and {hi}")
    if not (lo <= relevant_min <= hi):
        raise StatisticsError(f"relevant_min must be a code from {lo} to {hi}, got {relevant_min!r}")
    if not (0 < alpha < 1):
        raise StatisticsError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not z > 0:
        raise StatisticsError(f"z must be positive, got {z!r}")
    needed = ["expert", "item_id", aspect]
    absent = [c for c in needed if c not in df.columns]
    if absent:
        raise StatisticsError(
            f"panel data lacks column(s) {', '.join(map(repr, absent))}; it has: "
            f"{', '.join(map(str, df.columns))}"
        )
    is_essential, essential_text = _essential_rule(essential, relevant_min)

    ratings = pd.to_numeric(df[aspect], errors="coerce").astype("float64")
    d = pd.DataFrame({"item_id": df["item_id"].astype(str), "r": ratings.to_numpy()})
    d = d[d["r"].notna()]
    out_of_scale = d[(d["r"] < lo) | (d["r"] > hi)]
    if len(out_of_scale):
        bad = out_of_scale.iloc[0]
        raise StatisticsError(
            f"item {bad['item_id']!r} has a {aspect} rating of {bad['r']:g}, outside the scale "
            f"{lo}..{hi}"
        )
    order = list(pd.unique(d["item_id"]))
    if items is not None:
        wanted = [str(i) for i in items]
        unrated = [i for i in wanted if i not in set(order)]
        if unrated:
            warnings.warn(
                f"{len(unrated)} item(s) have no {aspect} ratings and are left out: "
                f"{', '.join(unrated)}", DataQualityWarning, stacklevel=2)
        order = [i for i in wanted if i in set(order)] + [i for i in order if i not in set(wanted)]
    if not order:
        raise StatisticsError(f"no {aspect} ratings to compute content validity from")

    groups = {k: g["r"].to_numpy() for k, g in d.groupby("item_id", sort=False)}
    rows = []
    for item in order:
        r = groups[item]
        n = len(r)
        a = int((r >= relevant_min).sum())
        ne = int(np.asarray(is_essential(r), dtype=bool).sum())
        icvi = a / n
        k, pc = modified_kappa(a, n)
        crit_n, crit = cvr_critical(n, alpha=alpha)
        c = cvr(ne, n)
        v = aiken_v(r, lo=lo, hi=hi)
        v_lo, v_hi = aiken_interval(v, n, lo=lo, hi=hi, z=z)
        rows.append({
            "item_id": item, "n_experts": n, "n_relevant": a, "i_cvi": icvi, "pc": pc,
            "modified_kappa": k, "kappa_band": kappa_band(k), "n_essential": ne, "cvr": c,
            "ne_critical": crit_n, "cvr_critical": crit,
            "cvr_significant": bool(crit_n is not None and ne >= crit_n),
            "aiken_v": v, "aiken_ci_low": v_lo, "aiken_ci_high": v_hi,
            "mean_rating": float(r.mean()),
        })
    table = pd.DataFrame(rows, columns=_ITEM_COLUMNS)
    table["ne_critical"] = table["ne_critical"].astype("Int64")
    icvis = table["i_cvi"].to_numpy()
    scale = {
        "s_cvi_ave": float(icvis.mean()),
        "s_cvi_ua": float((icvis == 1.0).mean()),
        "n_items": len(table),
        "n_experts": int(df.loc[ratings.notna().to_numpy(), "expert"].nunique()),
    }
    options = {"aspect": aspect, "relevant_min": int(relevant_min), "essential": essential_text,
               "scale_min": lo, "scale_max": hi, "z": float(z), "alpha": float(alpha)}
    return ContentValidityResult(items=table, scale=scale, options=options)
