"""Relevance ratios: the quantitative part of an IAM-style content validation.

For each item of a rated instrument (Pluye, Grad et al.; Information Assessment Method),

    R = (ratings in which the item was selected) / (ratings in which its construct was presented)

a per-rating proportion. A construct behind a gate ("will you use this information for a
specific patient?") counts only the ratings where the gate opened. An item with ``R`` below a
cut-off (:attr:`~instrval.model.rules.DecisionRules.relevance_min`) is judged not relevant.

Uncertainty, per item:

* ``ci_low`` / ``ci_high``: the Wilson (1927) score interval, treating the ``presented``
  ratings as independent. R: ``prop.test(selected, presented, correct = FALSE)$conf.int``.
* ``cluster_ci_low`` / ``cluster_ci_high``: an interval that respects the clustering of
  ratings within respondents (a few clinicians rate hundreds of times, so ratings are not
  independent and the Wilson interval is too narrow):

  - ``cluster_method="bootstrap"`` (default): a percentile bootstrap over respondents
    (Davison & Hinkley 1997, sec. 3.8; Field & Welsh 2007): draw respondents with
    replacement, recompute ``sum(selected) / sum(presented)`` over the drawn respondents,
    and take the ``a/2`` and ``1 - a/2`` quantiles (``numpy.quantile``'s default, R type 7)
    of the ``n_boot`` ratios.
  - ``cluster_method="delta"``: the Wilson interval at the effective sample size
    ``presented / max(deff, 1)`` (Korn & Graubard 1998), with ``deff`` from the
    linearisation (delta-method) variance of a ratio estimator (Cochran 1977, sec. 6.4)::

        var(R) = G / (G - 1) * sum_g (y_g - R m_g)^2 / (sum_g m_g)^2
        deff   = var(R) / (R (1 - R) / N)

    where ``y_g`` and ``m_g`` are respondent ``g``'s selected and presented counts, ``G`` the
    number of respondents to whom the construct was presented and ``N = sum_g m_g``. This is
    the cluster-robust variance of the intercept of ``lm(y ~ 1)`` on the presented ratings:
    R ``sandwich::vcovCL(fit, cluster = ~respondent_id, type = "HC0", cadjust = TRUE)``
    (Stata ``regress y, vce(cluster respondent_id)``). For equal cluster sizes ``m``,
    ``deff`` estimates Kish's (1965) ``1 + (m - 1) ICC``.

  ``deff``, ``n_eff = presented / deff`` and ``se_cluster = sqrt(var(R))`` are reported for
  every item whichever method fills the interval. ``deff`` is NaN when ``R`` is 0 or 1 (no
  binomial variance; the delta interval is then the Wilson interval) or when fewer than two
  respondents saw the construct (the cluster columns are then NaN).

References
----------
Pluye P, Grad RM, et al. (2013-2014) content validation of the IAM (ratings by 5,596 CMA
members in 2012). Wilson EB (1927) *JASA* 22:209-212. Newcombe RG (1998) *Stat Med*
17:857-872. Kish L (1965) *Survey Sampling*. Cochran WG (1977) *Sampling Techniques*, 3rd ed.
Davison AC, Hinkley DV (1997) *Bootstrap Methods and their Application*. Field CA, Welsh AH
(2007) Bootstrapping clustered data. *JRSS B* 69:369-390. Korn EL, Graubard BI (1998)
*Survey Methodology* 24:193-201.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from instrval._choices import CLUSTER_METHODS, RELEVANCE_PERIODS
from instrval._jsonable import jsonable_scalar
from instrval._result import Result
from instrval.errors import DataQualityWarning, StatisticsError
from instrval.model.ratings import RatingData
from instrval.model.rules import RULE_SOURCES, DecisionRules
from instrval.model.scan import (
    RelevanceCounts,
    RelevanceIndicators,
    relevance_counts,
    relevance_indicators,
    respondent_sums,
)
from instrval.stats._threads import small_matrix_blas
from instrval.stats.intervals import wilson_interval

__all__ = [
    "RelevanceResult",
    "RelevanceCounts",
    "relevance_counts",
    "relevance_ratios",
    "PERIODS",
    "CLUSTER_METHODS",
    "ITEM_COLUMNS",
]

#: Accepted values of ``period`` (``CLUSTER_METHODS``: of ``cluster_method``; both are
#: defined in :mod:`instrval._choices`, which the command line reads).
PERIODS = RELEVANCE_PERIODS

#: Columns of :attr:`RelevanceResult.items` (``groups`` adds the grouping columns first).
ITEM_COLUMNS = [
    "item_id",
    "construct_id",
    "kind",
    "selected",
    "presented",
    "ratio",
    "ci_low",
    "ci_high",
    "cluster_ci_low",
    "cluster_ci_high",
    "deff",
    "n_eff",
    "se_cluster",
    "n_respondents",
    "relevant",
    "threshold",
]

_PERIOD_FREQ = {"month": "M", "quarter": "Q", "year": "Y"}

#: Weight-matrix cells drawn per chunk by the bootstrap (small chunks stay in cache and
#: bound memory; about 45 resamples at a time for 5,596 respondents).
_BOOT_CHUNK_CELLS = 250_000

#: Weight-matrix cells multiplied at once (at most 128 MB, at most 64 resamples): with
#: many respondents, a matrix product over several resamples instead of one
#: matrix-vector product each.
_BOOT_PRODUCT_CELLS = 2**24


def _records(df: pd.DataFrame, first: Sequence[str]) -> list[dict[str, Any]]:
    cols = [c for c in first if c in df.columns] + [c for c in df.columns if c not in first]
    return [{c: jsonable_scalar(v) for c, v in zip(cols, row, strict=True)}
            for row in df[cols].itertuples(index=False, name=None)]


@dataclass(frozen=True, repr=False)
class RelevanceResult(Result):
    """Relevance ratio of every item, with Wilson and cluster-aware intervals.

    Attributes
    ----------
    items : pandas.DataFrame
        One row per item (columns :data:`ITEM_COLUMNS`): ``item_id``, ``construct_id``,
        ``kind``, ``selected``, ``presented``, ``ratio`` (``selected / presented``),
        ``ci_low``/``ci_high`` (Wilson), ``cluster_ci_low``/``cluster_ci_high`` (bootstrap
        over respondents or delta method, see ``cluster_method``), ``deff`` (design effect),
        ``n_eff`` (``presented / deff``), ``se_cluster`` (cluster-robust SE of the ratio),
        ``n_respondents`` (respondents to whom the construct was presented), ``relevant``
        (``ratio >= threshold``; NA when nothing was presented) and ``threshold``.
    threshold : float
        The cut-off applied.
    threshold_source : str
        Where the cut-off comes from (the rule's documented source, or "user").
    confidence : float
        Level of every interval.
    cluster_method : {"bootstrap", "delta", "none"}
        What fills ``cluster_ci_low``/``cluster_ci_high`` ("none": NaN, ``cluster=False``).
    n_boot : int
        Bootstrap resamples (0 unless ``cluster_method == "bootstrap"``).
    seed : int or None
        The seed given to the bootstrap.
    n_ratings, n_respondents : int
        Ratings and respondents analysed.
    skipped_items : tuple of str
        Likert items left out (a relevance ratio needs a selected / not selected answer).
    groups : pandas.DataFrame or None
        With ``by`` and/or ``period``: the grouping columns (``by`` columns, then ``period``)
        followed by the columns of ``items``, one row per group and item (tidy long format).
    group_columns : tuple of str
        The grouping columns of ``groups``.
    """

    items: pd.DataFrame = field(repr=False)
    threshold: float
    threshold_source: str
    confidence: float
    cluster_method: str
    n_boot: int
    seed: int | None
    n_ratings: int
    n_respondents: int
    skipped_items: tuple[str, ...] = ()
    groups: pd.DataFrame | None = field(default=None, repr=False)
    group_columns: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The per-item table (a copy)."""
        return self.items.copy()

    @property
    def not_relevant(self) -> tuple[str, ...]:
        """Ids of the items whose ratio is below the threshold."""
        rel = self.items["relevant"]
        return tuple(self.items.loc[rel.eq(False).fillna(False).astype(bool), "item_id"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``items`` (records), ``threshold``, the settings, and ``groups``
        (records) when a grouping was asked for. NaN becomes None."""
        first = ["item_id", "construct_id", "selected", "presented", "ratio", "ci_low",
                 "ci_high", "relevant"]
        out: dict[str, Any] = {
            "items": _records(self.items, first),
            "threshold": float(self.threshold),
            "threshold_source": self.threshold_source,
            "confidence": float(self.confidence),
            "cluster_method": self.cluster_method,
            "n_boot": int(self.n_boot),
            "seed": self.seed,
            "n_ratings": int(self.n_ratings),
            "n_respondents": int(self.n_respondents),
            "skipped_items": list(self.skipped_items),
        }
        if self.groups is not None:
            out["group_columns"] = list(self.group_columns)
            out["groups"] = _records(self.groups, [*self.group_columns, *first])
        return out


# ---------------------------------------------------------------------------- statistics
def _delta(Y: np.ndarray, M: np.ndarray, x: np.ndarray, n: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cluster-robust variance of the ratio, design effect and respondents per item."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = x / n
        g = (M > 0).sum(axis=0).astype("float64")
        u = Y - M * r
        var = g / (g - 1.0) * (u * u).sum(axis=0) / (n * n)
        var = np.where(g >= 2, var, np.nan)
        srs = r * (1.0 - r) / n
        deff = np.where(srs > 0, var / srs, np.nan)
    return var, deff, g


def _bootstrap(Y: np.ndarray, M: np.ndarray, *, n_boot: int, confidence: float,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the ratio of sums, resampling respondents (rows of Y, M)."""
    g, k = Y.shape
    if g < 2:
        return np.full(k, np.nan), np.full(k, np.nan)
    YM = np.hstack([Y, M])
    sums = np.empty((n_boot, 2 * k))
    chunk = max(1, _BOOT_CHUNK_CELLS // g)
    dtype = np.int32 if g * chunk < 2**31 else np.int64
    # the weights of several draws are multiplied at once (a matrix product, not one
    # matrix-vector product per resample when there are many respondents); the draws,
    # and so the result, are those of one product per draw: the sums are integers,
    # exact in float64 in any order of addition
    rows = min(n_boot, max(chunk, min(64, _BOOT_PRODUCT_CELLS // g)))
    W = np.empty((rows, g))
    fill = done = 0
    with small_matrix_blas():
        for start in range(0, n_boot, chunk):
            b = min(chunk, n_boot - start)
            if fill + b > rows:
                sums[done:done + fill] = W[:fill] @ YM
                done += fill
                fill = 0
            idx = rng.integers(0, g, size=(b, g), dtype=dtype)
            idx += (np.arange(b, dtype=dtype) * g)[:, None]
            W[fill:fill + b] = np.bincount(idx.ravel(), minlength=b * g).reshape(b, g)
            del idx
            fill += b
        if fill:
            sums[done:done + fill] = W[:fill] @ YM
    del W
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = sums[:, :k] / sums[:, k:]
    a = 1.0 - confidence
    low = np.full(k, np.nan)
    high = np.full(k, np.nan)
    ok = (M.sum(axis=0) > 0)
    if ok.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanquantile(ratios[:, ok], [a / 2.0, 1.0 - a / 2.0], axis=0)
        low[ok], high[ok] = q[0], q[1]
    return low, high


def _table(ind: RelevanceIndicators, codes: np.ndarray, n_codes: int, *, threshold: float,
           confidence: float, cluster_method: str, n_boot: int,
           rng: np.random.Generator | None) -> pd.DataFrame:
    """The per-item table for one set of ratings (rows of the indicators) whose
    respondents are coded ``0 .. n_codes - 1`` (every code used)."""
    k = len(ind.meta)
    Y = respondent_sums(codes, n_codes, np.hstack([ind.S, ind.P]))
    return _table_sums(ind.meta, ind.pidx, Y[:, :k], Y[:, k:], threshold=threshold,
                       confidence=confidence, cluster_method=cluster_method, n_boot=n_boot,
                       rng=rng)


def _table_sums(meta: pd.DataFrame, pidx: np.ndarray, Y: np.ndarray, P: np.ndarray, *,
                threshold: float, confidence: float, cluster_method: str, n_boot: int,
                rng: np.random.Generator | None) -> pd.DataFrame:
    """The per-item table from per-respondent sums: ``Y`` (respondents x items, ratings
    selecting each item) and ``P`` (respondents x presentation patterns, ratings
    presenting). These are the sufficient statistics of every column of the table."""
    k = len(meta)
    c_low, c_high = np.full(k, np.nan), np.full(k, np.nan)
    deff, n_eff, se = np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan)
    M = P[:, pidx]
    x = Y.sum(axis=0)
    n = M.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(n > 0, x / n, np.nan)
    ci_low, ci_high = wilson_interval(x, n, confidence=confidence)
    var, d, n_resp = _delta(Y, M, x, n)
    if cluster_method != "none":
        deff = d
        se = np.sqrt(var)
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = n / deff
        if cluster_method == "delta":
            d1 = np.where(np.isnan(deff) & np.isfinite(var), 1.0, deff)
            ne = n / np.maximum(d1, 1.0)
            ne = np.where(np.isnan(ne), 0.0, ne)
            c_low, c_high = wilson_interval(np.where(n > 0, ratio, 0.0) * ne, ne,
                                            confidence=confidence)
        else:
            c_low, c_high = _bootstrap(Y, M, n_boot=n_boot, confidence=confidence,
                                       rng=rng if rng is not None else np.random.default_rng())
    relevant = pd.array([None if np.isnan(r) else bool(r >= threshold) for r in ratio],
                        dtype="boolean")
    cols = {
        "item_id": meta["item_id"].to_numpy(),
        "construct_id": meta["construct_id"].to_numpy(),
        "kind": meta["kind"].to_numpy(),
        "selected": x.astype("int64"),
        "presented": n.astype("int64"),
        "ratio": ratio,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "cluster_ci_low": c_low,
        "cluster_ci_high": c_high,
        "deff": deff,
        "n_eff": n_eff,
        "se_cluster": se,
        "n_respondents": n_resp.astype("int64"),
        "relevant": relevant,
        "threshold": np.full(k, float(threshold)),
    }
    return pd.DataFrame(cols, columns=ITEM_COLUMNS)


# ---------------------------------------------------------------------------- public API
def relevance_ratios(
    ratings: RatingData,
    *,
    threshold: float | None = None,
    confidence: float = 0.95,
    by: str | Sequence[str] | None = None,
    period: str | None = None,
    cluster: bool = True,
    cluster_method: str = "bootstrap",
    n_boot: int = 1000,
    seed: int | None = None,
    likert_relevant_min: float | None = None,
) -> RelevanceResult:
    """Relevance ratio of every item: share of the ratings presenting its construct in
    which the item was selected, with a Wilson and a cluster-aware interval.

    ``R_i = selected_i / presented_i``, where, for ``multi_select`` and ``binary`` items,
    ``selected_i`` counts ratings in which the item's value is 1 and ``presented_i`` counts
    ratings in which its construct was presented (:meth:`RatingData.presented`: gate open,
    for gated constructs, and the construct answered); for a ``single_choice`` construct each
    level is an item, ``selected_i`` counts the ratings choosing it and ``presented_i`` the
    ratings answering the construct. ``relevant = R_i >= threshold``.

    Parameters
    ----------
    ratings : RatingData
        Checked ratings (canonical wide layout).
    threshold : float, optional
        Cut-off in [0, 1]; default ``DecisionRules().relevance_min`` (source:
        ``RULE_SOURCES["relevance_min"]``).
    confidence : float
        Level of every interval (default 0.95).
    by : str or list of str, optional
        Grouping column(s) of ``ratings.data``; adds a ``groups`` table. Missing group values
        form their own group (NA), so no rating is dropped.
    period : {"month", "quarter", "year"}, optional
        Group by calendar period of the ``date`` column (a ``period`` column such as
        ``"2012-03"``, ``"2012Q1"`` or ``"2012"``; ratings without a date form the NA group).
    cluster : bool
        Compute the cluster-aware interval and design effect (default True). False leaves
        ``cluster_ci_low``, ``cluster_ci_high``, ``deff``, ``n_eff`` and ``se_cluster`` NaN.
    cluster_method : {"bootstrap", "delta"}
        What fills the cluster interval: a percentile bootstrap over respondents, or the
        Wilson interval at the effective sample size from the delta-method design effect.
    n_boot : int
        Bootstrap resamples (default 1000).
    seed : int, optional
        Seed of the bootstrap (``numpy.random.default_rng(seed)``); the same seed gives the
        same intervals.
    likert_relevant_min : float, optional
        Likert items are skipped (listed in ``skipped_items``) unless this is given; then an
        item counts as selected in a rating when its value is ``>= likert_relevant_min`` and
        as presented when it was answered (and its gate, if any, open).

    Returns
    -------
    RelevanceResult

    Raises
    ------
    StatisticsError
        On an unknown option value, a threshold outside [0, 1], a missing column, or no
        ratings.

    Notes
    -----
    The ratio and its Wilson interval equal R's
    ``prop.test(selected, presented, correct = FALSE)`` (estimate and ``conf.int``). The
    delta-method variance equals ``sandwich::vcovCL(lm(y ~ 1, data = presented_ratings),
    cluster = ~respondent_id, type = "HC0", cadjust = TRUE)``. The bootstrap has no exact R
    twin (it is random); ``boot::boot`` over respondents with a ratio-of-sums statistic and
    ``type = "perc"`` is the same procedure. See the module docstring for formulas and
    references.

    Examples
    --------
    >>> import pandas as pd
    >>> from instrval.model.instrument import Instrument
    >>> inst = Instrument.from_dict({
    ...     "format_version": "1.0", "id": "demo", "version": "1", "title": "Demo",
    ...     "constructs": [{"id": "impact", "label": "Impact", "kind": "multi_select",
    ...                     "items": [{"id": "learned", "label": "Learned"},
    ...                               {"id": "reminded", "label": "Reminded"}]}]})
    >>> df = pd.DataFrame({"rating_id": ["1", "2", "3", "4"],
    ...                    "respondent_id": ["a", "a", "b", "c"],
    ...                    "learned": pd.array([1, 1, 0, 1], dtype="Int64"),
    ...                    "reminded": pd.array([0, 0, 0, 1], dtype="Int64")})
    >>> res = relevance_ratios(RatingData(instrument=inst, data=df), seed=1)
    >>> res.items[["item_id", "selected", "presented", "ratio", "relevant"]]
        item_id  selected  presented  ratio  relevant
    0   learned         3          4   0.75      True
    1  reminded         1          4   0.25      True
    """
    counts = getattr(ratings, "relevance_counts", None)
    if not isinstance(ratings, RatingData) and not isinstance(counts, RelevanceCounts):
        raise StatisticsError(
            f"relevance_ratios needs a RatingData (from instrval.io.ratings.read_ratings), "
            f"got {type(ratings).__name__}")
    default_rules = DecisionRules()
    if threshold is None:
        threshold = default_rules.relevance_min
        source = RULE_SOURCES["relevance_min"]
    else:
        source = "user"
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) \
            or not 0.0 <= float(threshold) <= 1.0:
        raise StatisticsError(
            f"threshold must be a proportion between 0 and 1 (e.g. 0.1 for 10%), "
            f"got {threshold!r}")
    threshold = float(threshold)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.number)) \
            or not 0.0 < float(confidence) < 1.0:
        raise StatisticsError(
            f"confidence must be strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")
    confidence = float(confidence)
    if cluster_method not in CLUSTER_METHODS:
        raise StatisticsError(
            f"unknown cluster_method {cluster_method!r}; choose one of "
            f"{', '.join(CLUSTER_METHODS)}")
    method = cluster_method if cluster else "none"
    if method == "bootstrap" and (isinstance(n_boot, bool) or not isinstance(
            n_boot, (int, np.integer)) or n_boot < 1):
        raise StatisticsError(
            f"n_boot must be a whole number >= 1 for the bootstrap, got {n_boot!r} "
            f"(use cluster_method='delta' for a closed-form cluster interval)")
    if period is not None and period not in PERIODS:
        raise StatisticsError(
            f"unknown period {period!r}; choose one of {', '.join(PERIODS)}")
    if likert_relevant_min is not None and (
            isinstance(likert_relevant_min, bool)
            or not isinstance(likert_relevant_min, (int, float, np.number))):
        raise StatisticsError(
            f"likert_relevant_min must be a number on the Likert scale, "
            f"got {likert_relevant_min!r}")
    if isinstance(counts, RelevanceCounts):
        return _from_counts(counts, by=by, period=period,
                            likert_relevant_min=likert_relevant_min, threshold=threshold,
                            source=source, confidence=confidence, method=method,
                            n_boot=n_boot, seed=seed)
    data = ratings.data
    if len(data) == 0:
        raise StatisticsError("no ratings to compute relevance ratios from (0 accepted rows)")
    if "respondent_id" not in data.columns:
        raise StatisticsError("the rating data has no 'respondent_id' column")

    by_cols: list[str] = [] if by is None else ([by] if isinstance(by, str) else list(by))
    for col in by_cols:
        if col not in data.columns or col in ("rating_id",):
            choices = ratings.group_columns or tuple(
                c for c in data.columns if c != "rating_id")
            raise StatisticsError(
                f"unknown grouping column {col!r}; the rating data has: "
                f"{', '.join(map(str, choices)) or '(no grouping columns)'}")
    if period is not None and "date" not in data.columns:
        raise StatisticsError(
            f"period={period!r} needs a 'date' column, but the ratings have no dates")
    if period is not None and "period" in by_cols:
        raise StatisticsError("a 'by' column named 'period' clashes with period=; rename it")

    ind = relevance_indicators(ratings, likert_relevant_min)
    if not len(ind.meta):
        raise StatisticsError(
            f"instrument {ratings.instrument.label} has no items a relevance ratio applies to "
            f"(only Likert items: pass likert_relevant_min)")
    codes, resp_ids = pd.factorize(data["respondent_id"], use_na_sentinel=False)
    rng = np.random.default_rng(seed) if method == "bootstrap" else None
    opts: dict[str, Any] = {"threshold": threshold, "confidence": confidence, "cluster_method": method,
            "n_boot": int(n_boot), "rng": rng}
    items = _table(ind, codes, len(resp_ids), **opts)
    empty = items.loc[items["presented"] == 0, "item_id"].tolist()
    if empty:
        warnings.warn(
            f"{len(empty)} item(s) never presented, ratio undefined: {', '.join(empty)}",
            DataQualityWarning, stacklevel=2)

    groups = None
    gcols: tuple[str, ...] = ()
    if by_cols or period is not None:
        keys = data[by_cols].copy() if by_cols else pd.DataFrame(index=data.index)
        if period is not None:
            per = pd.to_datetime(data["date"]).dt.to_period(_PERIOD_FREQ[period])
            pcodes, puniq = pd.factorize(per, use_na_sentinel=True)  # format each once
            labels = np.append(np.asarray(puniq.astype(str), dtype=object), pd.NA)
            keys["period"] = pd.array(labels[pcodes], dtype="string")
        gcols = tuple(keys.columns)
        gid = keys.groupby(list(gcols), dropna=False, sort=True).ngroup().to_numpy()
        firsts = keys.assign(_gid=gid).drop_duplicates("_gid").sort_values("_gid")
        order = np.argsort(gid, kind="stable")
        bounds = np.flatnonzero(np.r_[True, gid[order][1:] != gid[order][:-1], True])
        parts = []
        for j in range(len(bounds) - 1):
            rows = order[bounds[j]:bounds[j + 1]]
            used, sub = np.unique(codes[rows], return_inverse=True)
            t = _table(ind.take(rows), sub.ravel(), len(used), **opts)
            key = firsts.iloc[j]
            for pos, col in enumerate(gcols):
                t.insert(pos, col, key[col])
            parts.append(t)
        groups = pd.concat(parts, ignore_index=True)

    return RelevanceResult(
        items=items,
        threshold=threshold,
        threshold_source=source,
        confidence=confidence,
        cluster_method=method,
        n_boot=int(n_boot) if method == "bootstrap" else 0,
        seed=seed,
        n_ratings=len(data),
        n_respondents=len(resp_ids),
        skipped_items=ind.skipped,
        groups=groups,
        group_columns=gcols,
    )


def _from_counts(counts: RelevanceCounts, *, by: Any, period: str | None,
                 likert_relevant_min: float | None, threshold: float, source: str,
                 confidence: float, method: str, n_boot: int, seed: int | None
                 ) -> RelevanceResult:
    """:func:`relevance_ratios` from sufficient statistics (a scanned export)."""
    if by or period is not None or likert_relevant_min is not None:
        raise StatisticsError(
            "by=, period= and likert_relevant_min= need the ratings themselves; read the "
            "export with the pandas engine (engine='pandas') for these tables")
    if counts.n_ratings == 0:
        raise StatisticsError("no ratings to compute relevance ratios from (0 accepted rows)")
    if not len(counts.meta):
        raise StatisticsError(
            "the instrument has no items a relevance ratio applies to "
            "(only Likert items: pass likert_relevant_min)")
    rng = np.random.default_rng(seed) if method == "bootstrap" else None
    # row-major, as in the pandas path: numpy sums a row-major array row by row
    items = _table_sums(counts.meta, counts.pidx, np.ascontiguousarray(counts.Y),
                        np.ascontiguousarray(counts.P), threshold=threshold,
                        confidence=confidence, cluster_method=method, n_boot=int(n_boot),
                        rng=rng)
    empty = items.loc[items["presented"] == 0, "item_id"].tolist()
    if empty:
        warnings.warn(
            f"{len(empty)} item(s) never presented, ratio undefined: {', '.join(empty)}",
            DataQualityWarning, stacklevel=3)
    return RelevanceResult(
        items=items, threshold=threshold, threshold_source=source, confidence=confidence,
        cluster_method=method, n_boot=int(n_boot) if method == "bootstrap" else 0,
        seed=seed, n_ratings=counts.n_ratings, n_respondents=len(counts.respondents),
        skipped_items=counts.skipped, groups=None, group_columns=())
