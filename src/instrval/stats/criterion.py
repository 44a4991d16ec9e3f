"""Criterion validity and responsiveness: correlations with a gold standard, areas under
the ROC curve with DeLong intervals, and change scores against an anchor.

* **Correlation with a gold standard**: Pearson's r, its Fisher-z interval
  ``tanh(atanh(r) +- z / sqrt(n - 3))`` and ``t = r sqrt((n - 2) / (1 - r^2))`` on n - 2 df,
  as R's ``cor.test``.
* **Area under the ROC curve** for a dichotomous criterion: ``AUC = mean psi(X_i, Y_j)``
  over the m positives ``X`` and n negatives ``Y``, ``psi = 1`` when ``X > Y``, ``1/2``
  when tied, 0 otherwise (the Mann-Whitney statistic). DeLong et al. (1988): the
  placements ``V10_i = mean_j psi(X_i, Y_j)`` and ``V01_j = mean_i psi(X_i, Y_j)`` give
  ``Var(AUC) = s10^2 / m + s01^2 / n`` (sample variances); interval
  ``AUC +- z sqrt(Var)``, as ``pROC::ci.auc(method = "delong")``. Higher scores are taken
  to indicate the positive class (``direction = "<"`` in pROC).
* **COSMIN criteria** (Prinsen et al. 2018): criterion validity is sufficient when the
  correlation with the gold standard, or the AUC, is at least 0.70.
* **Responsiveness** (:func:`responsiveness`): change scores (second minus first
  occasion) tested against hypotheses (:func:`~instrval.stats.hypotheses.evaluate_hypotheses`)
  -- typically the AUC of the change score for an anchor that says who changed (AUC >=
  0.70) and differences between those who did and did not; sufficient when at least 75%
  of the results agree with the hypotheses.

References: DeLong ER, DeLong DM, Clarke-Pearson DL (1988) Comparing the areas under two
or more correlated receiver operating characteristic curves: a nonparametric approach.
Biometrics 44, 837-845. Hanley JA, McNeil BJ (1982) Radiology 143, 29-36. Prinsen CAC et
al. (2018) COSMIN guideline for systematic reviews of PROMs. Qual Life Res 27, 1147-1157.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from instrval._choices import check_choice
from instrval._jsonable import float_or_none
from instrval._result import Result
from instrval.errors import StatisticsError
from instrval.stats._dist import norm_ppf, t_sf

__all__ = ["AUCResult", "auc_delong", "pearson_ci", "CriterionResult", "criterion_validity",
           "ResponsivenessResult", "responsiveness", "CRITERION_MIN"]

#: COSMIN's threshold for criterion validity (r or AUC), Prinsen et al. 2018.
CRITERION_MIN = 0.70


@dataclass(frozen=True, repr=False)
class AUCResult(Result):
    """Area under the ROC curve with its DeLong standard error and interval."""

    auc: float
    se: float
    ci_low: float
    ci_high: float
    n_positive: int
    n_negative: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (float_or_none(v) if isinstance(v, float) else v)
                for k, v in self.__dict__.items()}


def _binary(values: Any, positive: Any, what: str) -> np.ndarray:
    v = pd.Series(values)
    if positive is None:
        levels = sorted(v.dropna().unique().tolist(), key=str)
        if set(levels) <= {0, 1} and len(levels) == 2:
            positive = 1
        else:
            raise StatisticsError(f"{what} has values {levels[:6]!r}; say which is positive "
                                  "(positive=)")
    elif not (v == positive).any():
        levels = sorted(v.dropna().unique().tolist(), key=str)
        raise StatisticsError(f"positive={positive!r} is not a value of {what}; its values: "
                              f"{', '.join(map(str, levels[:20]))}")
    return (v == positive).to_numpy()


def auc_delong(scores: Any, labels: Any, *, positive: Any = None,
               confidence: float = 0.95) -> AUCResult:
    """AUC of ``scores`` for the positive ``labels``, with DeLong's standard error.

    Parameters
    ----------
    scores : array-like of float
    labels : array-like
        Two classes; ``positive`` names the one higher scores should indicate (default 1
        for 0/1 labels). Pairs with a missing score or label are left out.
    confidence : float

    Returns
    -------
    AUCResult

    Notes
    -----
    R equivalent: ``pROC::ci.auc(pROC::roc(labels, scores, direction = "<"),
    method = "delong")`` (interval not truncated to [0, 1]).

    Examples
    --------
    >>> r = auc_delong([1, 2, 3, 4, 5, 6], [0, 0, 1, 0, 1, 1])
    >>> round(r.auc, 4)
    0.8889
    """
    s = pd.to_numeric(pd.Series(np.asarray(scores, dtype=object)), errors="coerce")
    lab = pd.Series(np.asarray(labels, dtype=object))
    if len(s) != len(lab):
        raise StatisticsError(f"scores ({len(s)}) and labels ({len(lab)}) differ in length")
    ok = s.notna().to_numpy() & lab.notna().to_numpy()
    s, lab = s[ok].to_numpy(dtype=float), lab[ok]
    pos = _binary(lab.to_numpy(), positive, "the criterion")
    x, y = s[pos], s[~pos]
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise StatisticsError(f"the AUC needs at least 2 positive and 2 negative cases; got "
                              f"{m} and {n}")
    # placements from mid-ranks (ties count 1/2), O(N log N) instead of the m x n table:
    # V10_i = (rank of x_i among all - rank among the positives) / n, and likewise V01_j
    from scipy.stats import rankdata

    r_all = rankdata(np.concatenate([x, y]))
    v10 = (r_all[:m] - rankdata(x)) / n
    v01 = 1.0 - (r_all[m:] - rankdata(y)) / m
    auc = float(v10.mean())
    var = v10.var(ddof=1) / m + v01.var(ddof=1) / n
    se = float(np.sqrt(var))
    z = float(norm_ppf(0.5 + confidence / 2))
    return AUCResult(auc=auc, se=se, ci_low=auc - z * se, ci_high=auc + z * se,
                     n_positive=m, n_negative=n, confidence=float(confidence))


def _numbers(x: Any) -> np.ndarray:
    """Values as floats (NaN for anything that is not a number)."""
    s = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x, dtype=object))
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        s = pd.to_numeric(s.astype(object), errors="coerce")
    return s.to_numpy(dtype=float, na_value=np.nan)


def pearson_ci(x: Any, y: Any, *, confidence: float = 0.95) -> dict[str, float]:
    """Pearson's r of complete pairs with the Fisher-z interval, t, df and p of
    ``cor.test(x, y)``."""
    a = _numbers(x)
    b = _numbers(y)
    ok = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[ok], b[ok]
    n = len(a)
    if n < 4:
        raise StatisticsError(f"a correlation with an interval needs at least 4 complete "
                              f"pairs; got {n}")
    r = float(np.corrcoef(a, b)[0, 1])
    z = float(norm_ppf(0.5 + confidence / 2))
    fz, se = np.arctanh(r), 1.0 / np.sqrt(n - 3)
    df = n - 2
    t = r * np.sqrt(df / (1 - r * r)) if abs(r) < 1 else np.inf * np.sign(r)
    p = float(2 * t_sf(abs(t), df))
    return {"n": n, "r": r, "ci_low": float(np.tanh(fz - z * se)),
            "ci_high": float(np.tanh(fz + z * se)), "t": float(t), "df": df, "p": p}


@dataclass(frozen=True, repr=False)
class CriterionResult(Result):
    """Criterion validity of one scale score against a gold standard.

    ``kind`` is ``continuous`` (``estimate`` is Pearson's r with its Fisher-z interval) or
    ``dichotomous`` (``estimate`` is the AUC with its DeLong interval). ``sufficient``
    applies COSMIN's rule (estimate >= ``threshold``)."""

    scale: str
    criterion: str
    kind: str
    n: int
    estimate: float
    ci_low: float
    ci_high: float
    threshold: float
    sufficient: bool
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: v for k, v in self.to_dict().items() if k != "details"}])

    def to_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "criterion": self.criterion, "kind": self.kind,
                "n": int(self.n), "estimate": float_or_none(self.estimate),
                "statistic": "r" if self.kind == "continuous" else "auc",
                "ci_low": float_or_none(self.ci_low), "ci_high": float_or_none(self.ci_high),
                "threshold": self.threshold, "sufficient": bool(self.sufficient),
                "details": {k: (float_or_none(v) if isinstance(v, float) else v)
                            for k, v in self.details.items()}}


def criterion_validity(data: pd.DataFrame, *, score: str, criterion: str,
                       kind: str = "auto", positive: Any = None, confidence: float = 0.95,
                       threshold: float = CRITERION_MIN) -> CriterionResult:
    """Agreement of a scale score with a gold standard.

    Parameters
    ----------
    data : DataFrame
        With the ``score`` and ``criterion`` columns.
    kind : {"auto", "continuous", "dichotomous"}
        ``auto``: dichotomous when the criterion has two distinct values.
    positive : optional
        The criterion value higher scores should indicate (dichotomous).
    threshold : float
        COSMIN's 0.70 by default.

    Notes
    -----
    R equivalent: ``cor.test(score, criterion)`` or ``pROC::ci.auc(roc(criterion, score,
    direction = "<"), method = "delong")``.
    """
    for c in (score, criterion):
        if c not in data.columns:
            raise StatisticsError(f"column {c!r} not found; the data has: "
                                  f"{', '.join(map(str, data.columns))}")
    check_choice("kind", kind, ("auto", "continuous", "dichotomous"))
    crit = data[criterion]
    if kind == "auto":
        kind = "dichotomous" if crit.dropna().nunique() == 2 else "continuous"
    if kind == "continuous":
        r = pearson_ci(data[score], crit, confidence=confidence)
        return CriterionResult(scale=score, criterion=criterion, kind=kind, n=int(r["n"]),
                               estimate=r["r"], ci_low=r["ci_low"], ci_high=r["ci_high"],
                               threshold=threshold, sufficient=bool(r["r"] >= threshold),
                               details={"t": r["t"], "df": r["df"], "p": r["p"]})
    a = auc_delong(data[score], crit, positive=positive, confidence=confidence)
    return CriterionResult(scale=score, criterion=criterion, kind=kind,
                           n=a.n_positive + a.n_negative, estimate=a.auc, ci_low=a.ci_low,
                           ci_high=a.ci_high, threshold=threshold,
                           sufficient=bool(a.auc >= threshold),
                           details={"se": a.se, "n_positive": a.n_positive,
                                    "n_negative": a.n_negative})


@dataclass(frozen=True, repr=False)
class ResponsivenessResult(Result):
    """Change scores and the hypotheses about them (see :func:`responsiveness`).

    ``changes`` has one row per respondent: ``id``, the anchor and other columns of the
    first occasion, and one change column per scale (``<scale>``); ``hypotheses`` is a
    :class:`~instrval.stats.hypotheses.HypothesesResult` evaluated on ``changes``."""

    changes: pd.DataFrame = field(repr=False)
    hypotheses: Any
    times: tuple[Any, Any]
    n: int

    def to_frame(self) -> pd.DataFrame:
        return self.hypotheses.to_frame()

    def to_dict(self) -> dict[str, Any]:
        return {"times": [str(t) for t in self.times], "n": int(self.n),
                **self.hypotheses.to_dict()}


def change_scores(data: pd.DataFrame, scores: pd.DataFrame, *, id: str, time: str,
                  times: Sequence[Any] | None = None) -> tuple[pd.DataFrame, tuple[Any, Any]]:
    """Second minus first occasion per respondent and scale, with the other columns of
    ``data`` (first occasion; a column that differs between occasions gets its change
    too when numeric)."""
    for c in (id, time):
        if c not in data.columns:
            raise StatisticsError(f"column {c!r} not found; the data has: "
                                  f"{', '.join(map(str, data.columns))}")
    occ = sorted(data[time].dropna().unique().tolist()) if times is None else list(times)
    if len(occ) < 2:
        raise StatisticsError(f"column {time!r} needs two occasions; got {occ!r}")
    t1, t2 = occ[0], occ[1]
    d = pd.concat([data.drop(columns=[c for c in scores.columns if c in data.columns]),
                   scores], axis=1)
    a = d[d[time] == t1].drop_duplicates(subset=[id]).set_index(id)
    b = d[d[time] == t2].drop_duplicates(subset=[id]).set_index(id)
    both = a.index.intersection(b.index)
    a, b = a.loc[both], b.loc[both]
    out = a.drop(columns=[time]).copy()
    for c in a.columns:
        if c == time:
            continue
        if c in scores.columns or (pd.api.types.is_numeric_dtype(a[c])
                                   and not a[c].equals(b[c])):
            out[c] = pd.to_numeric(b[c], errors="coerce") - pd.to_numeric(a[c], errors="coerce")
    out = out.reset_index().rename(columns={"index": id})
    return out, (t1, t2)


def responsiveness(data: pd.DataFrame, hypotheses: Sequence[Any], *, id: str, time: str,
                   instrument: Any = None, keys: Mapping[str, Sequence[str]] | None = None,
                   score: Sequence[str] | None = None, method: str = "mean",
                   impute: str = "none", min_items: float = 0.5,
                   times: Sequence[Any] | None = None, confidence: float = 0.95
                   ) -> ResponsivenessResult:
    """Test hypotheses about change scores (COSMIN responsiveness, construct approach).

    Parameters
    ----------
    data : DataFrame
        Long form (``id``, ``time``, items or score columns, anchor columns).
    hypotheses : list of Hypothesis
        Evaluated on the change scores: e.g. ``auc`` of the change for an anchor of
        change (``min: 0.70``), ``known_groups`` between changed and stable respondents,
        ``correlation`` with the change in another measure (numeric columns that vary
        between occasions are turned into change scores too).
    instrument, keys, score, method, impute, min_items
        How scale scores are obtained (as :func:`~instrval.stats.measurement_error.retest`).

    Returns
    -------
    ResponsivenessResult
    """
    from instrval.stats.hypotheses import evaluate_hypotheses
    from instrval.stats.scoring import score_items

    if score is not None:
        cols = [score] if isinstance(score, str) else list(score)
        sc = data[cols].apply(pd.to_numeric, errors="coerce")
    else:
        sc = score_items(data, instrument=instrument, keys=keys, method=method,
                         impute=impute, min_items=min_items).scores
    changes, occ = change_scores(data, sc, id=id, time=time, times=times)
    res = evaluate_hypotheses(changes, hypotheses, confidence=confidence)
    return ResponsivenessResult(changes=changes, hypotheses=res, times=occ, n=len(changes))
