"""Scale scores: sums or means of keyed items, and factor scores from an EFA.

Scale scores (:func:`score_items`), as ``psych::scoreItems``:

* Reverse-keyed items are scored ``min + max - x`` (the scale's range from the instrument,
  or the range given).
* ``impute="none"`` (the default) *prorates*: a respondent's mean is the mean of the items
  answered, and the sum is that mean times the number of items, provided at least
  ``min_items`` of the items were answered (default: half of them, the "half rule"); with
  fewer the score is missing. ``impute="mean"`` or ``"median"`` first replaces each
  missing answer by the item's mean or median (as psych), so every respondent gets a score.
* Scale statistics from the item covariance matrix ``C`` (pairwise; of the imputed items
  when imputing) and the keys matrix ``K`` (+1, -1 or 0): the scale variances
  ``V = diag(K' C K)`` (without imputation) or the variances of the scores (with it);
  Cronbach's alpha ``k / (k - 1) (1 - sum(c_ii) / V)``; Guttman's lambda 6
  ``(V - sum(c_ii) + sum(smc_i)) / V`` with the squared multiple correlations of every
  scored item on all the others, in covariance units; the mean inter-item correlation
  ``alpha / (k - alpha (k - 1))``; the correlations between scales ``cov2cor(K' C K)`` and
  the same corrected for attenuation ``r_ij / sqrt(alpha_i alpha_j)``.

Factor scores (:func:`factor_scores`), as ``psych::factor.scores``: standardised item
responses ``Z`` (missing answers replaced by the item median) times weights ``W``:

* regression (Thurstone 1935): ``W = R^{-1} Lambda Phi`` (``R`` the item correlations);
* Bartlett (1937): ``W = U^{-2} Lambda (Lambda' U^{-2} Lambda)^{-1}``, with
  ``U^2 = 1 - diag(Lambda Phi Lambda')``.

References: Revelle W, psych (``scoreItems``, ``factor.scores``); Guttman L (1945);
Thurstone LL (1935) The vectors of mind; Bartlett MS (1937) The statistical conception
of mental factors. Br J Psychol 28, 97-104; Grice JW (2001) Computing and evaluating
factor scores. Psychol Methods 6, 430-450.
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

__all__ = ["ScoreResult", "score_items", "FactorScoresResult", "factor_scores",
           "IMPUTE_CHOICES", "SCORE_METHODS", "FACTOR_SCORE_METHODS", "keys_from_instrument"]

IMPUTE_CHOICES = ("none", "mean", "median")
SCORE_METHODS = ("mean", "sum")
FACTOR_SCORE_METHODS = ("regression", "bartlett")


@dataclass(frozen=True, repr=False)
class ScoreResult(Result):
    """Scale scores and the statistics of each scale (see :func:`score_items`).

    Attributes
    ----------
    scores : DataFrame
        One row per respondent (the index of the data), one column per scale.
    n_answered : DataFrame
        Items answered per respondent and scale.
    scales : DataFrame
        One row per scale: ``scale``, ``n_items``, ``n_scored`` (respondents with a score),
        ``mean``, ``sd``, ``alpha``, ``g6``, ``average_r``.
    correlations, corrected : DataFrame
        Correlations between scales (of ``K' C K``) and the same corrected for attenuation
        (alpha on the diagonal).
    keys : dict
        Scale -> item ids, reverse-keyed items prefixed with ``-``.
    method, impute : str
    min_items : float
    scale_range : tuple
    rule : str
        The missing-data rule in words (printed in reports).
    """

    scores: pd.DataFrame = field(repr=False)
    n_answered: pd.DataFrame = field(repr=False)
    scales: pd.DataFrame
    correlations: pd.DataFrame = field(repr=False)
    corrected: pd.DataFrame = field(repr=False)
    keys: Mapping[str, tuple[str, ...]]
    method: str
    impute: str
    min_items: float
    scale_range: tuple[float, float]
    rule: str

    def to_frame(self) -> pd.DataFrame:
        """The per-scale table (a copy)."""
        return self.scales.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (without the per-respondent scores)."""
        return {
            "method": self.method, "impute": self.impute, "min_items": self.min_items,
            "scale_range": list(self.scale_range), "rule": self.rule,
            "keys": {k: list(v) for k, v in self.keys.items()},
            "scales": [{k: (float_or_none(v) if isinstance(v, float) else
                            int(v) if isinstance(v, (int, np.integer)) else v)
                        for k, v in r.items()} for r in self.scales.to_dict(orient="records")],
            "correlations": {str(i): {str(j): float_or_none(v) for j, v in row.items()}
                             for i, row in self.correlations.iterrows()},
        }


def keys_from_instrument(instrument: Any, constructs: Sequence[str] | None = None
                         ) -> tuple[dict[str, list[str]], dict[str, tuple[float, float]]]:
    """Keys (``-`` marks reverse-keyed items) and the score range of each Likert or binary
    construct of an instrument."""
    keys: dict[str, list[str]] = {}
    ranges: dict[str, tuple[float, float]] = {}
    for c in instrument.constructs:
        if constructs is not None and c.id not in constructs:
            continue
        if c.kind not in ("likert", "binary"):
            continue
        keys[c.id] = [("-" if it.reverse else "") + it.id for it in c.items]
        if c.kind == "binary":
            ranges[c.id] = (0.0, 1.0)
        else:
            sc = instrument.scale_of(c)
            ranges[c.id] = (float(min(sc.values)), float(max(sc.values)))
    if constructs is not None:
        unknown = [c for c in constructs if c not in keys]
        if unknown:
            raise StatisticsError(
                f"construct(s) {', '.join(map(repr, unknown))} are not Likert or binary "
                f"constructs of {instrument.label}; scorable: "
                f"{', '.join(keys) or '(none)'}")
    if not keys:
        raise StatisticsError(f"{instrument.label} has no Likert or binary construct to score")
    return keys, ranges


def _parse_keys(keys: Mapping[str, Sequence[str]]) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    if not isinstance(keys, Mapping) or not keys:
        raise StatisticsError("keys must be a mapping of scale names to lists of item ids")
    for scale, items in keys.items():
        if isinstance(items, str) or not isinstance(items, Sequence) or not items:
            raise StatisticsError(f"keys[{scale!r}] must be a non-empty list of item ids")
        out[str(scale)] = [(str(i)[1:], -1) if str(i).startswith("-") else (str(i), 1)
                           for i in items]
    return out


def _min_count(min_items: float, k: int) -> int:
    if min_items < 1:
        return max(1, int(np.ceil(min_items * k - 1e-12)))
    return int(min_items)


def _smc_cov(C: np.ndarray) -> np.ndarray:
    """Squared multiple correlations of each variable on the others, times its variance
    (``psych::smc(C, covar = TRUE)``)."""
    v = np.diag(C)
    s = np.sqrt(v)
    R = C / np.outer(s, s)
    try:
        inv = np.linalg.inv(R)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(R)
    smc = 1.0 - 1.0 / np.diag(inv)
    return np.clip(smc, 0.0, 1.0) * v


def score_items(data: pd.DataFrame, *, instrument: Any = None,
                keys: Mapping[str, Sequence[str]] | None = None,
                constructs: Sequence[str] | None = None, method: str = "mean",
                impute: str = "none", min_items: float = 0.5,
                scale_range: tuple[float, float] | None = None) -> ScoreResult:
    """Score scales as sums or means of their (reverse-keyed) items.

    Parameters
    ----------
    data : DataFrame
        One row per respondent; item columns (other columns are ignored).
    instrument : Instrument, optional
        Scales, items, reverse keys and response range from the instrument (its Likert and
        binary constructs; ``constructs`` selects some).
    keys : mapping, optional
        Instead of an instrument: scale -> item ids, reverse-keyed ids prefixed with ``-``
        (as ``psych::scoreItems`` keys lists).
    method : {"mean", "sum"}
    impute : {"none", "mean", "median"}
        ``none`` prorates (see the module docstring); ``mean``/``median`` replace missing
        answers by the item mean/median first.
    min_items : float
        Without imputation, the least number of answered items for a score: a fraction of
        the scale's items when below 1 (default 0.5, half of them, rounded up) or a count.
        ``0`` scores anyone who answered at least one item (psych's rule).
    scale_range : (min, max), optional
        Range used to reverse items given by ``keys`` (default: the smallest and largest
        value in the data, as psych).

    Returns
    -------
    ScoreResult

    Notes
    -----
    R equivalent: ``psych::scoreItems(keys, items, totals = (method == "sum"),
    impute = impute, min = min, max = max)``; its ``scores``, ``alpha``, ``G6``, ``cor``
    and ``corrected``. Without imputation psych's totals are unprorated sums of the
    answered items (psych warns about them); instrval's prorated sum is psych's mean
    times the number of items.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, 2, 4, 5], "b": [2, 2, 5, 4], "c": [5, 4, 1, None]})
    >>> r = score_items(d, keys={"s": ["a", "b", "-c"]}, scale_range=(1, 5))
    >>> r.scores["s"].round(3).tolist()
    [1.333, 2.0, 4.667, 4.5]
    """
    check_choice("method", method, SCORE_METHODS)
    check_choice("impute", impute, IMPUTE_CHOICES)
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(f"score_items needs a pandas DataFrame, got {type(data).__name__}")
    if not (isinstance(min_items, (int, float)) and min_items >= 0):
        raise StatisticsError(f"min_items must be a number >= 0, got {min_items!r}")
    ranges: dict[str, tuple[float, float]] = {}
    if instrument is not None:
        if keys is not None:
            raise StatisticsError("give instrument= or keys=, not both")
        keys, ranges = keys_from_instrument(instrument, constructs)
    elif keys is None:
        raise StatisticsError("score_items needs instrument= or keys=")
    parsed = _parse_keys(keys)
    items = list(dict.fromkeys(i for v in parsed.values() for i, _ in v))
    missing = [i for i in items if i not in data.columns]
    if missing:
        raise StatisticsError(f"item column(s) {', '.join(map(repr, missing))} not found; the "
                              f"data has: {', '.join(map(str, data.columns))}")
    raw = data[items]
    num = raw.apply(pd.to_numeric, errors="coerce")
    bad = num.isna() & raw.notna()
    if bad.to_numpy().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        raise StatisticsError(f"item {items[c]!r}, row index {data.index[r]!r}: "
                              f"{raw.iloc[r, c]!r} is not a number")
    X = num.to_numpy(dtype=float)
    if scale_range is not None:
        lo, hi = float(scale_range[0]), float(scale_range[1])
        ranges = {s: (lo, hi) for s in parsed}
    elif not ranges:
        lo, hi = float(np.nanmin(X)), float(np.nanmax(X))
        ranges = {s: (lo, hi) for s in parsed}
    if impute == "mean":
        fill = np.nanmean(X, axis=0)
    elif impute == "median":
        fill = np.nanmedian(X, axis=0)
    if impute != "none":
        X = np.where(np.isnan(X), fill[None, :], X)
    col = {it: j for j, it in enumerate(items)}
    K = np.zeros((len(items), len(parsed)))
    for s, v in enumerate(parsed.values()):
        for it, sign in v:
            K[col[it], s] = sign
    C = pd.DataFrame(X).cov().to_numpy()  # pairwise complete
    scores = np.full((len(data), len(parsed)), np.nan)
    answered = np.zeros((len(data), len(parsed)), dtype=int)
    names = list(parsed)
    for s, name in enumerate(names):
        lo, hi = ranges[name]
        cols = [col[it] for it, _ in parsed[name]]
        sub = X[:, cols].copy()
        for j, (_, sign) in enumerate(parsed[name]):
            if sign < 0:
                sub[:, j] = lo + hi - sub[:, j]
        k = len(cols)
        answered[:, s] = np.sum(~np.isnan(sub), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.nansum(sub, axis=1) / answered[:, s]
        m[answered[:, s] == 0] = np.nan
        if impute == "none":
            need = _min_count(min_items, k)
            m = np.where(answered[:, s] >= max(need, 1), m, np.nan)
        scores[:, s] = m * k if method == "sum" else m
    cov_scales = (K.T @ C @ K if impute == "none"
                  else np.atleast_2d(np.cov((X @ K).T, ddof=1)))
    v = np.diag(cov_scales)
    kk = np.abs(K).sum(axis=0)
    sum_var = np.diag(C) @ np.abs(K)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = (v - sum_var) * kk / ((kk - 1) * v)
        av_r = alpha / (kk - alpha * (kk - 1))
        g6 = (v - sum_var + _smc_cov(C) @ np.abs(K)) / v
        sd = np.sqrt(v)
        cor = cov_scales / np.outer(sd, sd)
        corrected = cor / np.sqrt(np.outer(alpha, alpha))
    np.fill_diagonal(corrected, alpha)
    sc = pd.DataFrame(scores, index=data.index, columns=names)
    table = pd.DataFrame({
        "scale": names, "n_items": kk.astype(int),
        "n_scored": sc.notna().sum().to_numpy().astype(int),
        "mean": sc.mean().to_numpy(), "sd": sc.std(ddof=1).to_numpy(),
        "alpha": alpha, "g6": g6, "average_r": av_r,
    })
    if impute == "none":
        need_txt = ("at least one item" if min_items == 0 else
                    f"at least {min_items:g} of the items" if min_items >= 1 else
                    f"at least {100 * min_items:g}% of the items (rounded up)")
        rule = (f"{method} of the items answered"
                + (" times the number of items (prorated)" if method == "sum" else "")
                + f", when {need_txt} were answered; otherwise missing")
    else:
        rule = f"missing answers replaced by the item {impute}, then the {method} of the items"
    return ScoreResult(
        scores=sc, n_answered=pd.DataFrame(answered, index=data.index, columns=names),
        scales=table, correlations=pd.DataFrame(cor, index=names, columns=names),
        corrected=pd.DataFrame(corrected, index=names, columns=names),
        keys={n: tuple(("-" if sg < 0 else "") + i for i, sg in parsed[n]) for n in names},
        method=method, impute=impute, min_items=float(min_items),
        scale_range=next(iter(ranges.values())), rule=rule)


# --------------------------------------------------------------------- factor scores
@dataclass(frozen=True, repr=False)
class FactorScoresResult(Result):
    """Factor scores (see :func:`factor_scores`).

    Attributes
    ----------
    scores : DataFrame
        One row per respondent, one column per factor.
    weights : DataFrame
        ``item_id`` then one column of weights per factor.
    r2 : dict
        Squared multiple correlation of each factor with its score estimate
        (``diag(W' Lambda Phi)``, psych's ``R2``; for regression scores).
    method : str
    """

    scores: pd.DataFrame = field(repr=False)
    weights: pd.DataFrame
    r2: Mapping[str, float]
    method: str

    def to_frame(self) -> pd.DataFrame:
        return self.weights.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method,
                "weights": self.weights.to_dict(orient="records"),
                "r2": {k: float_or_none(v) for k, v in self.r2.items()}}


def factor_scores(data: pd.DataFrame, efa_result: Any, *, method: str = "regression"
                  ) -> FactorScoresResult:
    """Factor scores from an exploratory factor solution.

    Parameters
    ----------
    data : DataFrame
        Item responses, with the items of the solution as columns.
    efa_result : EFAResult
        Anything with ``loadings`` (``item_id`` then one column per factor) and ``phi``
        (factor correlations; identity when absent).
    method : {"regression", "bartlett"}
        Thurstone's regression scores or Bartlett's weighted least-squares scores.

    Returns
    -------
    FactorScoresResult

    Notes
    -----
    Formulas: see the module docstring. Missing answers are replaced by the item median
    before standardising (psych's default ``impute = "median"``). R equivalent:
    ``psych::factor.scores(x, fa_object, method = "Thurstone" | "Bartlett")``; psych
    switches a one-factor solution to Thurstone whatever the method, instrval does not.
    """
    check_choice("method", method, FACTOR_SCORE_METHODS)
    load = getattr(efa_result, "loadings", None)
    if not isinstance(load, pd.DataFrame) or "item_id" not in load.columns:
        raise StatisticsError("factor_scores needs an EFA result with a loadings table")
    ids = [str(i) for i in load["item_id"]]
    facs = [c for c in load.columns if c != "item_id"]
    missing = [i for i in ids if i not in data.columns]
    if missing:
        raise StatisticsError(f"item column(s) {', '.join(map(repr, missing))} of the factor "
                              "solution are not in the data")
    L = load[facs].to_numpy(dtype=float)
    phi = getattr(efa_result, "phi", None)
    Phi = np.eye(len(facs)) if phi is None else np.asarray(phi, dtype=float)
    try:
        X = data[ids].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise StatisticsError(f"factor_scores needs numeric item responses: {exc}") from None
    R = pd.DataFrame(X).corr().to_numpy()
    S = L @ Phi
    if method == "regression":
        W = np.linalg.solve(R, S)
    else:
        u2 = 1.0 - np.diag(L @ Phi @ L.T)
        Ui = np.diag(1.0 / u2)
        W = Ui @ L @ np.linalg.inv(L.T @ Ui @ L)
    med = np.nanmedian(X, axis=0)
    X = np.where(np.isnan(X), med[None, :], X)
    Z = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    scores = pd.DataFrame(Z @ W, index=data.index, columns=facs)
    r2 = dict(zip(facs, np.diag(W.T @ S).tolist(), strict=True))
    weights = pd.DataFrame(W, columns=facs)
    weights.insert(0, "item_id", ids)
    return FactorScoresResult(scores=scores, weights=weights, r2=r2, method=method)
