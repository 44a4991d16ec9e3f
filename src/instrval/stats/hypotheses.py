"""Hypotheses testing for construct validity (and responsiveness).

Each :class:`~instrval.model.hypotheses.Hypothesis` is evaluated on the data, with an
interval at the level ``confidence``:

* ``correlation``: Pearson's r with the Fisher-z interval and the t test of ``cor.test``
  (Spearman's rho with the Bonett & Wright (2000) interval, variance
  ``(1 + rho^2 / 2) / (n - 3)`` on the z scale, when ``method: spearman``).
* ``known_groups``: Welch's t test of the mean difference ``higher - lower`` with its
  interval (``t.test(x, y)``); Hedges' g = ``J d``, ``d = diff / s_pooled``,
  ``J = 1 - 3 / (4 (n1 + n2) - 9)``, with the large-sample interval
  ``g +- z sqrt((n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2)))`` (Hedges & Olkin 1985).
* ``auc``: the area under the ROC curve with DeLong's interval
  (:func:`~instrval.stats.criterion.auc_delong`).

A hypothesis *holds* when the point estimate lies in the expected band and direction
(COSMIN: a result "in accordance with the hypothesis"); the interval is reported beside it.
COSMIN's rule (Prinsen et al. 2018; Terwee et al. 2007): hypotheses testing is
*sufficient* when at least 75% of the results agree with the hypotheses, *insufficient*
otherwise, *indeterminate* without hypotheses.

References: Prinsen CAC et al. (2018) Qual Life Res 27, 1147-1157. Terwee CB et al. (2007)
Quality criteria were proposed for measurement properties of health status
questionnaires. J Clin Epidemiol 60, 34-42. Hedges LV, Olkin I (1985) Statistical methods
for meta-analysis. Bonett DG, Wright TA (2000) Psychometrika 65, 23-28.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from instrval._jsonable import float_or_none
from instrval._result import Result
from instrval.errors import StatisticsError
from instrval.model.hypotheses import Hypothesis
from instrval.stats._dist import norm_ppf, t_ppf, t_sf
from instrval.stats.criterion import auc_delong, pearson_ci

__all__ = ["HypothesesResult", "evaluate_hypotheses", "welch_hedges", "HYPOTHESES_SHARE_MIN"]

#: COSMIN: sufficient when at least 75% of the results agree with the hypotheses.
HYPOTHESES_SHARE_MIN = 0.75

COLUMNS = ("id", "type", "scale", "other", "n", "statistic", "estimate", "ci_low", "ci_high",
           "mean_diff", "mean_diff_ci_low", "mean_diff_ci_high", "t", "df", "p", "expected",
           "holds", "description")


@dataclass(frozen=True, repr=False)
class HypothesesResult(Result):
    """The hypotheses and their results (one row each) and COSMIN's overall rating.

    Attributes
    ----------
    table : DataFrame
        ``id``, ``type``, ``scale``, ``other`` (the variable or grouping), ``n``,
        ``statistic`` (``r``, ``rho``, ``g`` or ``auc``), ``estimate``, ``ci_low``,
        ``ci_high``, ``mean_diff`` (+ interval; known groups), ``t``, ``df``, ``p``,
        ``expected`` (in words), ``holds``, ``description``.
    n_hypotheses, n_holds : int
    share : float
    rating : str
        ``sufficient`` (share >= 0.75), ``insufficient`` or ``indeterminate``.
    confidence : float
    """

    table: pd.DataFrame
    n_hypotheses: int
    n_holds: int
    share: float
    rating: str
    confidence: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for rec in self.table.to_dict(orient="records"):
            out: dict[str, Any] = {}
            for k, v in rec.items():
                if k in ("n",):
                    out[k] = int(v)
                elif k == "holds":
                    out[k] = bool(v)
                elif isinstance(v, (float, np.floating)):
                    out[k] = float_or_none(float(v))
                else:
                    out[k] = v
            rows.append(out)
        return {"hypotheses": rows, "n_hypotheses": self.n_hypotheses,
                "n_holds": self.n_holds, "share": float_or_none(self.share),
                "rating": self.rating, "rule": "sufficient when >= 75% of hypotheses hold",
                "confidence": self.confidence}


def welch_hedges(x: Any, y: Any, *, confidence: float = 0.95) -> dict[str, float]:
    """Welch's t test of ``mean(x) - mean(y)`` and Hedges' g with its interval."""
    a = pd.to_numeric(pd.Series(x), errors="coerce").dropna().to_numpy(float)
    b = pd.to_numeric(pd.Series(y), errors="coerce").dropna().to_numpy(float)
    n1, n2 = len(a), len(b)
    if n1 < 2 or n2 < 2:
        raise StatisticsError(f"a group comparison needs at least 2 cases per group; got "
                              f"{n1} and {n2}")
    m1, m2 = a.mean(), b.mean()
    v1, v2 = a.var(ddof=1), b.var(ddof=1)
    diff = m1 - m2
    se = np.sqrt(v1 / n1 + v2 / n2)
    df = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    t = diff / se
    q = t_ppf(0.5 + confidence / 2, df)
    sp = np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    d = diff / sp
    g = (1 - 3 / (4 * (n1 + n2) - 9)) * d
    se_g = np.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    z = norm_ppf(0.5 + confidence / 2)
    return {"n1": n1, "n2": n2, "mean1": float(m1), "mean2": float(m2), "mean_diff": float(diff),
            "ci_low": float(diff - q * se), "ci_high": float(diff + q * se), "t": float(t),
            "df": float(df), "p": float(2 * t_sf(abs(t), df)), "g": float(g),
            "g_ci_low": float(g - z * se_g), "g_ci_high": float(g + z * se_g)}


def _column(data: pd.DataFrame, col: str | None, h: Hypothesis, what: str) -> pd.Series:
    if col is None or col not in data.columns:
        raise StatisticsError(f"hypothesis {h.id}: {what} column {col!r} not found; the data "
                              f"has: {', '.join(map(str, data.columns))}")
    return data[col]


def _is(col: pd.Series, value: Any) -> pd.Series:
    """Rows of ``col`` equal to ``value``: numerically for a numeric column (so that 1
    matches 1.0), as text otherwise."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        try:
            v = float(value)
        except (TypeError, ValueError):
            return pd.Series(False, index=col.index)
        return (col == v).fillna(False).astype(bool)
    return (col.astype(str) == str(value)) & col.notna()


def _spearman(x: pd.Series, y: pd.Series, confidence: float) -> dict[str, float]:
    a = pd.to_numeric(x, errors="coerce")
    b = pd.to_numeric(y, errors="coerce")
    ok = a.notna() & b.notna()
    n = int(ok.sum())
    if n < 4:
        raise StatisticsError(f"a correlation with an interval needs at least 4 complete pairs; "
                              f"got {n}")
    from scipy.stats import spearmanr

    rho = float(spearmanr(a[ok], b[ok]).statistic)
    z = norm_ppf(0.5 + confidence / 2)
    se = np.sqrt((1 + rho**2 / 2) / (n - 3))
    return {"n": n, "r": rho, "ci_low": float(np.tanh(np.arctanh(rho) - z * se)),
            "ci_high": float(np.tanh(np.arctanh(rho) + z * se)), "t": float("nan"),
            "df": float("nan"), "p": float("nan")}


def evaluate_hypotheses(data: pd.DataFrame, hypotheses: Sequence[Hypothesis], *,
                        confidence: float = 0.95) -> HypothesesResult:
    """Evaluate hypotheses about scale scores (see the module docstring).

    Parameters
    ----------
    data : DataFrame
        The scale scores (columns named by each hypothesis' ``scale``) and the other
        variables and grouping columns.
    hypotheses : list of Hypothesis
        E.g. from :func:`instrval.io.hypotheses.read_hypotheses`.
    confidence : float

    Returns
    -------
    HypothesesResult

    Notes
    -----
    R equivalents: ``cor.test(scale, other)``; ``t.test(scale[group == higher],
    scale[group == lower])`` (Welch); ``pROC::ci.auc(..., method = "delong")``.

    Examples
    --------
    >>> import pandas as pd
    >>> from instrval.model.hypotheses import Hypothesis
    >>> d = pd.DataFrame({"s": [1, 2, 3, 4, 5, 6], "o": [2, 1, 4, 3, 6, 5]})
    >>> r = evaluate_hypotheses(d, [Hypothesis("H1", "correlation", "s", other="o", min=.5)])
    >>> r.rating, round(float(r.table["estimate"].iloc[0]), 4)
    ('sufficient', 0.8286)
    """
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(f"evaluate_hypotheses needs a DataFrame, got {type(data).__name__}")
    rows = []
    seen: set[str] = set()
    for h in hypotheses:
        if h.id in seen:
            raise StatisticsError(f"hypothesis id {h.id!r} is used twice")
        seen.add(h.id)
        y = _column(data, h.scale, h, "scale")
        row: dict[str, Any] = {c: None for c in COLUMNS}
        row.update({"id": h.id, "type": h.type, "scale": h.scale, "expected": h.expected(),
                    "description": h.description})
        if h.type == "correlation":
            x = _column(data, h.other, h, "other")
            r = (_spearman(y, x, confidence) if h.method == "spearman"
                 else pearson_ci(y, x, confidence=confidence))
            est = r["r"]
            sign = {"positive": est, "negative": -est, "any": abs(est)}[h.direction]
            ok = True
            if h.min is not None:
                ok &= sign >= h.min
            elif h.direction != "any":
                ok &= sign > 0
            if h.max is not None:
                ok &= abs(est) < h.max
            row.update({"other": h.other, "n": r["n"],
                        "statistic": "rho" if h.method == "spearman" else "r",
                        "estimate": est, "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                        "t": r["t"], "df": r["df"], "p": r["p"], "holds": bool(ok)})
        elif h.type == "known_groups":
            g = _column(data, h.group, h, "group")
            hi = y[_is(g, h.higher)]
            lo = y[_is(g, h.lower)]
            w = welch_hedges(hi, lo, confidence=confidence)
            ok = w["mean_diff"] > 0
            if h.min is not None:
                ok &= w["g"] >= h.min
            if h.max is not None:
                ok &= w["g"] < h.max
            if h.min_diff is not None:
                ok &= w["mean_diff"] >= h.min_diff
            row.update({"other": f"{h.group}: {h.higher} vs {h.lower}",
                        "n": w["n1"] + w["n2"], "statistic": "g", "estimate": w["g"],
                        "ci_low": w["g_ci_low"], "ci_high": w["g_ci_high"],
                        "mean_diff": w["mean_diff"], "mean_diff_ci_low": w["ci_low"],
                        "mean_diff_ci_high": w["ci_high"], "t": w["t"], "df": w["df"],
                        "p": w["p"], "holds": bool(ok)})
        elif h.type == "auc":
            g = _column(data, h.group, h, "group")
            ok_rows = g.notna()
            labels = _is(g[ok_rows], h.positive).astype(int)
            a = auc_delong(y[ok_rows], labels, positive=1, confidence=confidence)
            lim = h.min if h.min is not None else 0.70
            row.update({"other": f"{h.group} = {h.positive}", "n": a.n_positive + a.n_negative,
                        "statistic": "auc", "estimate": a.auc, "ci_low": a.ci_low,
                        "ci_high": a.ci_high, "holds": bool(a.auc >= lim)})
        else:
            raise StatisticsError(f"hypothesis {h.id}: unknown type {h.type!r}")
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    n = len(table)
    k = int(table["holds"].sum()) if n else 0
    share = k / n if n else float("nan")
    rating = ("indeterminate" if n == 0 else
              "sufficient" if share >= HYPOTHESES_SHARE_MIN else "insufficient")
    return HypothesesResult(table=table, n_hypotheses=n, n_holds=k, share=share,
                            rating=rating, confidence=float(confidence))
