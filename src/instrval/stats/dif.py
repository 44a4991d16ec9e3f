"""Differential item functioning (DIF) between two groups of respondents.

Two methods, both matching respondents on the total score of the item's construct (reverse
keys applied: ``x' = min + max - x``; the studied item is part of its total):

``method="ordinal"`` -- logistic regression DIF (Swaminathan & Rogers 1990; Zumbo 1999).
    For each item three nested proportional-odds models (``MASS::polr``, logistic link;
    for a two-category item the same model is logistic regression, ``glm(family =
    binomial)``) are fitted by maximum likelihood:

    * M1: ``item ~ total``
    * M2: ``item ~ total + group``
    * M3: ``item ~ total + group + total:group``

    and compared by likelihood ratios, ``chi2_ab = 2 (logLik_b - logLik_a)`` with ``df_ab``
    the number of added terms: ``chi2_13`` (2 df) tests any DIF, ``chi2_12`` (1 df) uniform
    DIF, ``chi2_23`` (1 df) non-uniform DIF. Effect sizes are changes in pseudo-R-squared
    between the models: Nagelkerke's ``R2_N = (1 - exp(2 (l0 - l) / n)) / (1 - exp(2 l0 /
    n))`` (``r2_change_12``, ``r2_change_13``; Zumbo 1999) and McFadden's ``R2_M = 1 - l /
    l0`` (``mcfadden_change_12``, ``mcfadden_change_13``), with ``l0`` the log-likelihood
    of the thresholds-only model. Jodoin & Gierl (2001) classes: A (negligible) when
    ``p_13 >= alpha`` or ``r2_change_13 < 0.035``; C (large) when ``p_13 < alpha`` and
    ``r2_change_13 >= 0.070``; B (moderate) otherwise. An item is flagged for classes B
    and C; its DIF is called non-uniform when ``p_23 < alpha``, else uniform.

``method="mh"`` -- Mantel-Haenszel for binary (0/1) items (Holland & Thayer 1988).
    One 2 x 2 table (group x response) per total-score stratum; strata holding only one
    group carry no information and are dropped (``stats::mantelhaen.test`` refuses strata
    of one respondent). With ``A_k, B_k`` the reference group's 1 and 0 counts, ``C_k,
    D_k`` the focal group's and ``N_k`` the stratum size:

    * ``mh_chi2 = (|sum_k (A_k - E A_k)| - 1/2)^2 / sum_k Var A_k`` (1 df, continuity
      correction), ``E A_k = n_Rk m_1k / N_k``, ``Var A_k = n_Rk n_Fk m_1k m_0k / (N_k^2
      (N_k - 1))``;
    * ``or_mh = sum_k A_k D_k / N_k / sum_k B_k C_k / N_k`` (> 1: the item favours the
      reference group), with the Robins-Breslow-Greenland standard error of its log and
      the Wald interval ``ci_low, ci_high``;
    * ETS delta ``delta_mh = -2.35 ln or_mh`` (negative: the item is harder for the
      focal group), ``se_delta = 2.35 se(ln or_mh)``;
    * ETS classes (Zwick 2012): A when ``p >= alpha`` or ``|delta_mh| < 1``; C when
      ``|delta_mh| >= 1.5`` and ``|delta_mh|`` is significantly greater than 1 (one-sided
      ``(|delta_mh| - 1) / se_delta > z_(1-alpha)``; Paek & Holland 2015); B otherwise.
      Classes B and C are flagged.

Purification (``purify=True``): items flagged in one pass are left out of the matching
score of the next (the studied item always stays in its own score), until the flagged set
repeats or ``max_iter`` passes (Holland & Thayer 1988; Zumbo 1999).

Missing values: within a construct, a respondent is used only with a response to every item
of the construct and a group; the others are listed in :attr:`DIFResult.excluded` with the
reason. R equivalents: ``MASS::polr(factor(item) ~ total * group, method = "logistic")``
and ``anova()``; ``glm(item ~ total * group, family = binomial)``;
``mantelhaen.test(table(group, factor(item, levels = 1:0), total))``. Checked against them
in ``tests/fixtures/dif*.json`` (written by ``tests/fixtures/r/dif*.R``).

References
----------
Swaminathan H, Rogers HJ (1990). Detecting differential item functioning using logistic
regression procedures. Journal of Educational Measurement 27, 361-370.
Zumbo BD (1999). A handbook on the theory and methods of differential item functioning
(DIF): logistic regression modeling as a unitary framework. Ottawa: Department of National
Defence.
Jodoin MG, Gierl MJ (2001). Evaluating Type I error and power rates using an effect size
measure with the logistic regression procedure for DIF detection. Applied Measurement in
Education 14, 329-349.
Holland PW, Thayer DT (1988). Differential item performance and the Mantel-Haenszel
procedure. In Wainer H, Braun HI (eds), Test validity, 129-145. Hillsdale: Erlbaum.
Zwick R (2012). A review of ETS differential item functioning assessment procedures.
ETS Research Report RR-12-08.
Paek I, Holland PW (2015). A note on statistical hypothesis testing based on log
transformation of the Mantel-Haenszel common odds ratio for differential item functioning
classification. Psychometrika 80, 406-411.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtrc, ndtri

from instrval._jsonable import float_or_none
from instrval._result import Result
from instrval.errors import ConvergenceWarning, DataQualityWarning, StatisticsError
from instrval.stats._common import show_value
from instrval.stats._cumlogit import fit_cumlogit, null_loglik

__all__ = ["DIFResult", "dif", "DIF_METHODS", "JODOIN_GIERL", "ETS_DELTA"]

DIF_METHODS = ("ordinal", "mh")
#: Nagelkerke R-squared change bounds of classes B and C (Jodoin & Gierl 2001).
JODOIN_GIERL = (0.035, 0.070)
#: |ETS delta| bounds of classes B and C (Holland & Thayer 1988; Zwick 2012).
ETS_DELTA = (1.0, 1.5)
_DEFAULT_ALPHA = {"ordinal": 0.01, "mh": 0.05}


@dataclass(frozen=True, repr=False)
class DIFResult(Result):
    """Differential item functioning of each item between a reference and a focal group.

    Attributes
    ----------
    items : DataFrame
        One row per item. Always: ``item_id``, ``construct``, ``n``, ``n_reference``,
        ``n_focal``, ``n_anchor`` (items in the matching score besides the studied one),
        ``effect_class`` (A/B/C), ``flag`` (bool), ``dif_type`` (``"uniform"``,
        ``"non-uniform"`` or ``"none"``), ``reason`` (one sentence). ``method="ordinal"``
        adds ``model`` (``"polr"`` or ``"glm"``), ``n_categories``, ``loglik_0`` ...
        ``loglik_3``, ``chi2_12``, ``df_12``, ``p_12``, ``chi2_13``, ``df_13``, ``p_13``,
        ``chi2_23``, ``df_23``, ``p_23``, ``r2_change_12``, ``r2_change_13`` (Nagelkerke),
        ``mcfadden_change_12``, ``mcfadden_change_13``, ``beta_group`` (M2),
        ``beta_interaction`` (M3), ``converged``. ``method="mh"`` adds ``mh_chi2``,
        ``df``, ``p``, ``or_mh``, ``ci_low``, ``ci_high``, ``delta_mh``, ``se_delta``,
        ``n_strata``, ``n_strata_dropped``.
    coefficients : DataFrame
        ``method="ordinal"``: every estimate, ``item_id``, ``model`` (1, 2, 3), ``term``
        (``zeta_1`` ... thresholds as polr's, ``total``, ``group``, ``total:group``),
        ``estimate``. Empty for ``"mh"``.
    method, group, reference, focal : str
        The method and the group column; the group coded 0 (reference) and 1 (focal).
    alpha : float
        Significance level of the flags.
    purify : bool
    iterations : dict
        Construct id -> number of passes (1 without purification).
    anchors : dict
        Construct id -> items of the final matching score.
    excluded : DataFrame
        Rows left out: ``row`` (the data's index), ``construct``, ``reason``.
    criteria : dict
        The classification rule and its thresholds, with their sources.
    """

    items: pd.DataFrame = field(repr=False)
    coefficients: pd.DataFrame = field(repr=False)
    method: str
    group: str
    reference: str
    focal: str
    alpha: float
    purify: bool
    iterations: dict[str, int]
    anchors: dict[str, tuple[str, ...]]
    excluded: pd.DataFrame = field(repr=False)
    criteria: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> tuple[str, ...]:
        """Ids of the flagged items."""
        return tuple(self.items.loc[self.items["flag"], "item_id"])

    def to_frame(self) -> pd.DataFrame:
        """The per-item table (a copy)."""
        return self.items.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``{"items": [...], "method", "group", "levels": {"reference",
        "focal"}, "alpha", "purify", "iterations", "matching", "excluded", "criteria"}``."""
        rows = []
        for rec in self.items.to_dict(orient="records"):
            out: dict[str, Any] = {}
            for k, v in rec.items():
                if isinstance(v, (bool, np.bool_)):
                    out[k] = bool(v)
                elif isinstance(v, (int, np.integer)):
                    out[k] = int(v)
                elif isinstance(v, (float, np.floating)):
                    out[k] = float_or_none(v)
                else:
                    out[k] = v
            rows.append(out)
        return {
            "items": rows,
            "method": self.method,
            "group": self.group,
            "levels": {"reference": self.reference, "focal": self.focal},
            "alpha": float(self.alpha),
            "purify": bool(self.purify),
            "iterations": {k: int(v) for k, v in self.iterations.items()},
            "matching": {k: {"score": "total (reverse keys applied)", "items": list(v)}
                         for k, v in self.anchors.items()},
            "excluded": [{"row": str(r["row"]), "construct": r["construct"],
                          "reason": r["reason"]}
                         for r in self.excluded.to_dict(orient="records")],
            "criteria": dict(self.criteria),
        }


# ---------------------------------------------------------------------- input handling
def _label(v: Any) -> str:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _scales(data: pd.DataFrame, instrument: Any, construct: str | None,
            items: list[str] | None, reverse: list[str] | None,
            scale_range: tuple[int, int] | None, group: str
            ) -> list[tuple[str, list[str], list[str], tuple[float, ...] | None]]:
    """(construct id, items, reverse-keyed items, scale range) of each scale to analyse."""
    if instrument is None:
        if construct is not None:
            raise StatisticsError("construct= needs instrument=")
        cols: list[str] = (list(items) if items is not None
                           else [c for c in data.columns if c != group])
        return [("scale", cols, list(reverse or []),
                 tuple(scale_range) if scale_range is not None else None)]
    if items is not None:
        raise StatisticsError("dif takes the items from the instrument; drop items= "
                              "(or choose a construct with construct=)")
    if construct is not None:
        chosen = [instrument.find_construct(construct)]
        if chosen[0].kind not in ("likert", "binary"):
            raise StatisticsError(f"construct {construct!r} is {chosen[0].kind!r}; DIF needs "
                                  "a likert or binary construct")
    else:
        chosen = [c for c in instrument.constructs if c.kind in ("likert", "binary")]
        if not chosen:
            raise StatisticsError(f"{instrument.label} has no likert or binary construct")
    out: list[tuple[str, list[str], list[str], tuple[float, ...] | None]] = []
    for c in chosen:
        if c.kind == "binary":
            rng: tuple[float, ...] | None = (0, 1)
        else:
            sc = instrument.scale_of(c)
            rng = (sc.min, sc.max) if sc is not None else None
        rev = list(reverse) if reverse is not None else [i.id for i in c.items if i.reverse]
        out.append((c.id, list(c.item_ids), rev, rng))
    return out


def _group_levels(g: pd.Series, group: str, levels: tuple[Any, Any] | None
                  ) -> tuple[str, str]:
    observed = list(dict.fromkeys(_label(v) for v in pd.unique(g.dropna())))

    def order(v: str) -> tuple[int, float | str]:
        try:
            return (0, float(v))
        except ValueError:
            return (1, v)

    observed.sort(key=order)
    if levels is not None:
        if len(levels) != 2:
            raise StatisticsError(f"levels= takes two group levels (reference, focal), "
                                  f"got {len(levels)}")
        ref, foc = (_label(v) for v in levels)
        unknown = [v for v in (ref, foc) if v not in observed]
        if unknown:
            raise StatisticsError(
                f"group level(s) {', '.join(map(repr, unknown))} not found in column "
                f"{group!r}; it has: {', '.join(observed)}")
        if ref == foc:
            raise StatisticsError("levels= needs two different group levels")
        return ref, foc
    if len(observed) != 2:
        raise StatisticsError(
            f"group column {group!r} has {len(observed)} level(s) "
            f"({', '.join(observed) or 'none'}); DIF compares two groups: choose the "
            "reference and focal levels with levels=(reference, focal) (CLI: --levels)")
    return observed[0], observed[1]


# ---------------------------------------------------------------------- ordinal method
def _nagelkerke(l0: float, lm: float, n: int) -> float:
    return float(-np.expm1(2.0 * (l0 - lm) / n) / -np.expm1(2.0 * l0 / n))


def _ordinal_item(y_raw: np.ndarray, total: np.ndarray, grp: np.ndarray, alpha: float,
                  r2_bounds: tuple[float, float], item_id: str
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    cats, y = np.unique(y_raw, return_inverse=True)
    n = y.size
    k = cats.size
    row: dict[str, Any] = {"model": "glm" if k == 2 else "polr", "n_categories": int(k)}
    nan_keys = ("loglik_0", "loglik_1", "loglik_2", "loglik_3", "chi2_12", "p_12",
                "chi2_13", "p_13", "chi2_23", "p_23", "r2_change_12", "r2_change_13",
                "mcfadden_change_12", "mcfadden_change_13", "beta_group", "beta_interaction")
    if k < 2:
        row.update(dict.fromkeys(nan_keys, np.nan))
        row.update(df_12=1, df_13=2, df_23=1, converged=False, effect_class="A", flag=False,
                   dif_type="none",
                   reason=f"not tested: every respondent answered {_label(cats[0])}"
                          if k else "not tested: no responses")
        return row, []
    # The likelihood depends on the data only through the distinct (item, total, group)
    # patterns and their counts: fit those (same estimates, far fewer rows).
    tv, ti = np.unique(total, return_inverse=True)
    key = (y * tv.size + ti) * 2 + grp.astype(np.intp)
    cnt = np.bincount(key, minlength=k * tv.size * 2)
    pat = np.flatnonzero(cnt)
    cnt = cnt[pat]
    gp = (pat % 2).astype(float)
    tp = tv[(pat // 2) % tv.size]
    yp = pat // (2 * tv.size)
    x3 = np.column_stack([tp, gp, tp * gp])
    f1 = fit_cumlogit(yp, x3[:, :1], weights=cnt)
    f2 = fit_cumlogit(yp, x3[:, :2], weights=cnt, start=np.concatenate([f1.zeta, f1.beta]))
    f3 = fit_cumlogit(yp, x3, weights=cnt, start=np.concatenate([f2.zeta, f2.beta]))
    l0 = null_loglik(y, k)
    l1, l2, l3 = f1.loglik, f2.loglik, f3.loglik
    chi = {"12": 2 * (l2 - l1), "13": 2 * (l3 - l1), "23": 2 * (l3 - l2)}
    dfs = {"12": 1, "13": 2, "23": 1}
    for pair in chi:
        c = max(chi[pair], 0.0)
        row[f"chi2_{pair}"] = c
        row[f"df_{pair}"] = dfs[pair]
        row[f"p_{pair}"] = float(chdtrc(dfs[pair], c))
    row.update(loglik_0=l0, loglik_1=l1, loglik_2=l2, loglik_3=l3)
    nk = {m: _nagelkerke(l0, lm, n) for m, lm in (("1", l1), ("2", l2), ("3", l3))}
    mf = {m: (1.0 - lm / l0) if l0 < 0 else np.nan for m, lm in (("1", l1), ("2", l2),
                                                                    ("3", l3))}
    row["r2_change_12"] = nk["2"] - nk["1"]
    row["r2_change_13"] = nk["3"] - nk["1"]
    row["mcfadden_change_12"] = mf["2"] - mf["1"]
    row["mcfadden_change_13"] = mf["3"] - mf["1"]
    row["beta_group"] = float(f2.beta[1])
    row["beta_interaction"] = float(f3.beta[2])
    row["converged"] = all(f.converged and not f.boundary for f in (f1, f2, f3))
    sig = row["p_13"] < alpha
    r2 = row["r2_change_13"]
    cls = "A" if (not sig or r2 < r2_bounds[0]) else ("C" if r2 >= r2_bounds[1] else "B")
    flag = cls != "A"
    kind = ("non-uniform" if row["p_23"] < alpha else "uniform") if flag else "none"
    row.update(effect_class=cls, flag=flag, dif_type=kind)
    test = (f"chi2(2) = {row['chi2_13']:.2f}, p = {row['p_13']:.3g}, "
            f"Nagelkerke R2 change = {r2:.3f}")
    if flag:
        row["reason"] = (f"{kind} DIF, class {cls} (Jodoin & Gierl 2001): {test}; "
                         f"uniform p = {row['p_12']:.3g}, non-uniform p = {row['p_23']:.3g}")
    elif sig:
        row["reason"] = f"negligible DIF, class A: {test} < {r2_bounds[0]:g}"
    else:
        row["reason"] = f"no DIF, class A: {test} (p >= {alpha:g})"
    if not row["converged"]:
        row["reason"] += ("; a model did not converge or has fitted probabilities of 0 or 1 "
                          "(separation): its estimates are unreliable")
    coefs = []
    for m, fit in ((1, f1), (2, f2), (3, f3)):
        names = [f"zeta_{j + 1}" for j in range(k - 1)] + ["total", "group",
                                                             "total:group"][: m]
        vals = np.concatenate([fit.zeta, fit.beta])
        coefs += [{"item_id": item_id, "model": m, "term": t, "estimate": float(v)}
                  for t, v in zip(names, vals, strict=True)]
    return row, coefs


# ---------------------------------------------------------------------- Mantel-Haenszel
def _mh_item(y: np.ndarray, total: np.ndarray, grp: np.ndarray, alpha: float,
             delta_bounds: tuple[float, float]) -> dict[str, Any]:
    strata, s_idx = np.unique(total, return_inverse=True)
    ns = strata.size
    a = np.bincount(s_idx, weights=(grp == 0) & (y == 1), minlength=ns)
    b = np.bincount(s_idx, weights=(grp == 0) & (y == 0), minlength=ns)
    c = np.bincount(s_idx, weights=(grp == 1) & (y == 1), minlength=ns)
    d = np.bincount(s_idx, weights=(grp == 1) & (y == 0), minlength=ns)
    keep = (a + b > 0) & (c + d > 0)
    a, b, c, d = a[keep], b[keep], c[keep], d[keep]
    row: dict[str, Any] = {"n_strata": int(keep.sum()), "n_strata_dropped": int(ns - keep.sum()),
                           "df": 1}
    n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = float(np.sum(a - (a + b) * (a + c) / n))
        var = float(np.sum((a + b) * (c + d) * (a + c) * (b + d) / (n * n * (n - 1))))
        yates = 0.5 if abs(delta) >= 0.5 else 0.0
        chi2 = (abs(delta) - yates) ** 2 / var if var > 0 else np.nan
        sd_ = float(np.sum(a * d / n))
        so = float(np.sum(b * c / n))
        orr = sd_ / so if so > 0 else (np.inf if sd_ > 0 else np.nan)
        se_log = float(np.sqrt(
            np.sum((a + d) * a * d / n**2) / (2 * sd_**2)
            + np.sum(((a + d) * b * c + (b + c) * a * d) / n**2) / (2 * sd_ * so)
            + np.sum((b + c) * b * c / n**2) / (2 * so**2)))
        z = ndtri(0.975)
        ci = (orr * np.exp(-z * se_log), orr * np.exp(z * se_log))
        dmh = -2.35 * np.log(orr)
    p = float(chdtrc(1, chi2)) if np.isfinite(chi2) else np.nan
    se_d = 2.35 * se_log
    row.update(mh_chi2=chi2, p=p, or_mh=orr, ci_low=ci[0], ci_high=ci[1], delta_mh=dmh,
               se_delta=se_d)
    if not np.isfinite(chi2) or not np.isfinite(dmh):
        row.update(effect_class="A", flag=False, dif_type="none",
                   reason="not tested: no stratum holds both responses in both groups"
                   if not np.isfinite(chi2) else
                   "not estimable: the common odds ratio is 0 or infinite")
        return row
    ad = abs(dmh)
    sig = p < alpha
    if not sig or ad < delta_bounds[0]:
        cls = "A"
    elif ad >= delta_bounds[1] and se_d > 0 and (ad - 1.0) / se_d > ndtri(1 - alpha):
        cls = "C"
    else:
        cls = "B"
    flag = cls != "A"
    side = "focal" if dmh < 0 else "reference"
    test = f"MH chi2 = {chi2:.2f}, p = {p:.3g}, ETS delta = {dmh:.2f}"
    row.update(effect_class=cls, flag=flag, dif_type="uniform" if flag else "none",
               reason=(f"DIF against the {side} group, ETS class {cls}: {test}" if flag
                       else f"negligible DIF, ETS class A: {test}"))
    return row


# ---------------------------------------------------------------------- driver
def dif(
    data: pd.DataFrame,
    *,
    group: str,
    instrument: Any = None,
    construct: str | None = None,
    items: list[str] | None = None,
    reverse: list[str] | None = None,
    scale_range: tuple[int, int] | None = None,
    levels: tuple[Any, Any] | None = None,
    method: str = "ordinal",
    alpha: float | None = None,
    purify: bool = False,
    max_iter: int = 10,
    r2_thresholds: tuple[float, float] = JODOIN_GIERL,
    delta_thresholds: tuple[float, float] = ETS_DELTA,
) -> DIFResult:
    """Differential item functioning of each item between two groups.

    See the module docstring for the formulas; ``docs/methods/dif.md`` for the details.

    Parameters
    ----------
    data : DataFrame
        One row per respondent: item columns and the ``group`` column.
    group : str
        Column holding the group of each respondent.
    instrument : Instrument, optional
        Gives the items, reverse keys and scale range of each construct; every likert or
        binary construct is analysed unless ``construct`` names one. Without it, ``items``
        (default: every column but ``group``) form one scale, ``reverse`` lists its
        reverse-keyed items and ``scale_range`` its ``(min, max)`` (needed with
        ``reverse``).
    levels : (reference, focal), optional
        The two groups compared (needed when the column has more than two levels; rows of
        other levels are excluded). Default: the two levels in sorted order, the first as
        reference.
    method : {"ordinal", "mh"}
        Logistic regression DIF (ordinal and binary items) or Mantel-Haenszel (binary).
    alpha : float, optional
        Significance level of the flags; default 0.01 for ``"ordinal"`` (as R's
        ``lordif``), 0.05 for ``"mh"`` (the ETS rules).
    purify : bool
        Iteratively drop flagged items from the matching score.
    r2_thresholds, delta_thresholds : (float, float)
        Bounds of classes B and C: Nagelkerke R-squared change (Jodoin & Gierl 2001) and
        ``|ETS delta|`` (Zwick 2012).

    Returns
    -------
    DIFResult

    Raises
    ------
    StatisticsError
        Unknown method, column, construct or group level; a group column without exactly
        two levels (and no ``levels``); a response outside the scale; a non-binary item
        with ``method="mh"``; a group without respondents.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> theta = rng.normal(size=400)
    >>> df = pd.DataFrame({f"i{j}": (theta + rng.logistic(size=400) > 0).astype(int)
    ...                    for j in range(5)})
    >>> df["sex"] = np.repeat(["f", "m"], 200)
    >>> res = dif(df, group="sex", method="mh")
    >>> res.items[["item_id", "effect_class"]].shape
    (5, 2)
    """
    if method not in DIF_METHODS:
        raise StatisticsError(f"unknown DIF method {method!r}; choose one of "
                              f"{', '.join(DIF_METHODS)}")
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(f"dif needs a pandas DataFrame, got {type(data).__name__}")
    if group not in data.columns:
        raise StatisticsError(f"group column {group!r} not found; the data has: "
                              f"{', '.join(map(str, data.columns))}")
    if alpha is None:
        alpha = _DEFAULT_ALPHA[method]
    if not 0 < alpha < 1:
        raise StatisticsError(f"alpha must lie in (0, 1), got {show_value(alpha)}")
    if max_iter < 1:
        raise StatisticsError(f"max_iter must be at least 1, got {max_iter}")
    scales = _scales(data, instrument, construct, items, reverse, scale_range, group)
    ref, foc = _group_levels(data[group], group, levels)
    labels = {v: _label(v) for v in pd.unique(data[group].dropna())}
    glab = data[group].map(labels)

    all_rows: list[dict[str, Any]] = []
    all_coefs: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    iterations: dict[str, int] = {}
    anchors_out: dict[str, tuple[str, ...]] = {}
    for cid, cols, rev, rng in scales:
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise StatisticsError(f"item column(s) {', '.join(map(repr, missing))} of "
                                  f"{cid!r} not found in the data")
        if group in cols:
            raise StatisticsError(f"the group column {group!r} cannot also be an item")
        if len(cols) < 2:
            raise StatisticsError(f"{cid!r} has {len(cols)} item(s); a matching score needs "
                                  "at least 2")
        bad_rev = [r for r in rev if r not in cols]
        if bad_rev:
            raise StatisticsError(f"reverse-keyed item(s) {', '.join(map(repr, bad_rev))} "
                                  f"are not items of {cid!r}")
        if rev and rng is None:
            raise StatisticsError("reverse keys need the scale range: give scale_range="
                                  "(min, max) or an instrument")
        try:
            x = np.array(data[cols].to_numpy(dtype=float, na_value=np.nan), copy=True)
        except (TypeError, ValueError) as exc:
            raise StatisticsError(f"{cid!r}: item responses must be numbers ({exc})") from None
        if rng is not None:
            out = ~np.isnan(x) & ((x < rng[0]) | (x > rng[1]))
            if out.any():
                r, j = np.argwhere(out)[0]
                raise StatisticsError(
                    f"row index {show_value(data.index[r])}, column {cols[j]!r}: value "
                    f"{show_value(x[r, j])} is outside the scale {rng[0]}-{rng[1]} "
                    f"({int(out.sum())} such cell(s))")
        for j, c in enumerate(cols):
            if c in rev and rng is not None:  # rev without rng was refused above
                x[:, j] = rng[0] + rng[1] - x[:, j]
        if method == "mh":
            nonbin = [c for j, c in enumerate(cols)
                      if not np.all(np.isin(x[~np.isnan(x[:, j]), j], (0.0, 1.0)))]
            if nonbin:
                raise StatisticsError(
                    f"method='mh' needs binary items scored 0/1; {', '.join(nonbin)} "
                    "has other values (use method='ordinal')")
        no_group = glab.isna().to_numpy()
        other = ~no_group & ~glab.isin([ref, foc]).to_numpy()
        incomplete = np.isnan(x).any(axis=1)
        for pos in np.flatnonzero(no_group | other | incomplete):
            if no_group[pos]:
                why = f"no group ({group!r} is empty)"
            elif other[pos]:
                why = f"group {glab.iloc[pos]!r} is not compared"
            else:
                why = "missing response to " + ", ".join(
                    c for j, c in enumerate(cols) if np.isnan(x[pos, j]))
            excluded.append({"row": data.index[pos], "construct": cid, "reason": why})
        use = ~(no_group | other | incomplete)
        xs = x[use]
        grp = (glab[use] == foc).to_numpy().astype(float)
        n_f = int(grp.sum())
        n_r = int(grp.size - n_f)
        if n_r == 0 or n_f == 0:
            raise StatisticsError(
                f"{cid!r}: no complete responses in group "
                f"{ref if n_r == 0 else foc!r} ({int(use.sum())} complete rows)")
        k = len(cols)
        anchor = np.ones(k, dtype=bool)
        flagged_prev: frozenset[int] = frozenset()  # the items left out of the anchors
        passes = 0
        while True:
            passes += 1
            anchor_total = xs[:, anchor].sum(axis=1)
            rows, coefs = [], []
            for j, c in enumerate(cols):
                total = anchor_total if anchor[j] else anchor_total + xs[:, j]
                if method == "ordinal":
                    row, cf = _ordinal_item(xs[:, j], total, grp, alpha, r2_thresholds, c)
                    coefs += cf
                else:
                    row = _mh_item(xs[:, j], total, grp, alpha, delta_thresholds)
                row = {"item_id": c, "construct": cid, "n": int(xs.shape[0]),
                       "n_reference": n_r, "n_focal": n_f,
                       "n_anchor": int(anchor.sum() - anchor[j]), **row}
                rows.append(row)
            flagged = frozenset(j for j, r in enumerate(rows) if r["flag"])
            if not purify or flagged == flagged_prev or passes >= max_iter:
                break
            if len(flagged) >= k - 1:
                warnings.warn(f"{cid!r}: {len(flagged)} of {k} items flagged; purification "
                              "stopped (too few anchor items left)", DataQualityWarning,
                              stacklevel=2)
                break
            flagged_prev = flagged
            anchor = np.array([j not in flagged for j in range(k)])
        if purify and passes >= max_iter and flagged != flagged_prev:
            warnings.warn(f"{cid!r}: purification did not settle in {max_iter} passes",
                          ConvergenceWarning, stacklevel=2)
        for r in rows:
            if method == "ordinal" and not r.get("converged", True) and r["n_categories"] > 1:
                warnings.warn(f"item {r['item_id']!r}: a DIF model did not converge or has "
                              "fitted probabilities of 0 or 1 (separation)",
                              ConvergenceWarning, stacklevel=2)
            if r.get("n_categories", 2) < 2:
                warnings.warn(f"item {r['item_id']!r} has a single response category; "
                              "not tested", DataQualityWarning, stacklevel=2)
        iterations[cid] = passes
        anchors_out[cid] = tuple(c for j, c in enumerate(cols) if anchor[j])
        all_rows += rows
        all_coefs += coefs

    table = pd.DataFrame(all_rows)
    lead = ["item_id", "construct", "n", "n_reference", "n_focal", "n_anchor"]
    tail = ["effect_class", "flag", "dif_type", "reason"]
    mid = [c for c in table.columns if c not in lead + tail]
    table = table[lead + mid + tail].reset_index(drop=True)
    table["flag"] = table["flag"].astype(bool)
    coef_df = pd.DataFrame(all_coefs, columns=["item_id", "model", "term", "estimate"])
    excluded_df = pd.DataFrame(excluded, columns=["row", "construct", "reason"])
    if method == "ordinal":
        criteria = {"rule": "Jodoin & Gierl (2001)", "test": "chi2_13 (2 df)",
                    "effect_size": "Nagelkerke R2 change, M1 to M3",
                    "class_b": float(r2_thresholds[0]), "class_c": float(r2_thresholds[1]),
                    "alpha": float(alpha)}
    else:
        criteria = {"rule": "ETS (Holland & Thayer 1988; Zwick 2012)",
                    "test": "mh_chi2 (continuity corrected, 1 df)",
                    "effect_size": "|ETS delta| = |-2.35 ln or_mh|",
                    "class_b": float(delta_thresholds[0]),
                    "class_c": float(delta_thresholds[1]), "alpha": float(alpha)}
    return DIFResult(items=table, coefficients=coef_df, method=method, group=group,
                     reference=ref, focal=foc, alpha=float(alpha), purify=bool(purify),
                     iterations=iterations, anchors=anchors_out, excluded=excluded_df,
                     criteria=criteria)
