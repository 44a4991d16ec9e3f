"""Results of checking a rating export without holding its rows (plain types, no I/O).

A :class:`RatingScan` is what the columnar engines (:mod:`instrval.io.engine`) return
for exports too large to hold: the counts a reader prints, the quarantined rows and their
problems, and the sufficient statistics of the analyses that run on ratings - per-item
value counts (descriptives) and per-respondent sums (relevance ratios and their cluster
intervals, :class:`RelevanceCounts`). Memory grows with the number of respondents and of
quarantined rows, not with the number of ratings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import Problem, StatisticsError
from instrval.model.instrument import Instrument
from instrval.model.ratings import RatingData

__all__ = [
    "RatingScan",
    "RelevanceCounts",
    "RelevanceIndicators",
    "ScanTotals",
    "relevance_counts",
    "relevance_indicators",
    "respondent_sums",
    "scan_counts",
]


@dataclass(frozen=True)
class RelevanceCounts:
    """Sufficient statistics of :func:`relevance_ratios` (without ``by``/``period``).

    Per respondent (rows, in order of the respondent's first accepted rating) the number
    of ratings selecting each item (``Y``, respondents x items) and presenting each
    presentation pattern (``P``, respondents x patterns; item ``j`` uses column
    ``pidx[j]``). Every column of the item table - counts, ratios, Wilson, delta-method and
    bootstrap intervals - is a function of these sums, so they can be computed chunk by
    chunk or partition by partition and added up (:meth:`merge`) without holding ratings.
    """

    meta: pd.DataFrame
    pidx: np.ndarray
    skipped: tuple[str, ...]
    respondents: np.ndarray
    first_row: np.ndarray
    Y: np.ndarray
    P: np.ndarray
    n_ratings: int = 0

    def merge(self, other: RelevanceCounts) -> RelevanceCounts:
        """Add up two sets of counts (respondents matched by id; first row = the smaller).
        The sums are integers held exactly in float64, so the order of merging does not
        change the result."""
        if not self.meta["item_id"].equals(other.meta["item_id"]):
            raise StatisticsError("cannot merge relevance counts of different items")
        fast = _merge_unique(self, other)
        if fast is not None:
            return fast
        k, m = self.Y.shape[1], self.P.shape[1]
        frames = []
        for c in (self, other):
            f = pd.DataFrame(np.hstack([c.Y, c.P]), columns=[f"c{i}" for i in range(k + m)])
            f.insert(0, "first", c.first_row)
            f.insert(0, "resp", c.respondents)
            frames.append(f)
        both = pd.concat(frames, ignore_index=True)
        agg = {"first": "min", **{f"c{i}": "sum" for i in range(k + m)}}
        g = both.groupby("resp", sort=False).agg(agg).sort_values("first", kind="stable")
        vals = g[[f"c{i}" for i in range(k + m)]].to_numpy(dtype="float64")
        return RelevanceCounts(self.meta, self.pidx, self.skipped,
                               g.index.to_numpy(dtype=object),
                               g["first"].to_numpy(dtype=np.int64), vals[:, :k], vals[:, k:],
                               self.n_ratings + other.n_ratings)


def _merge_unique(a: RelevanceCounts, b: RelevanceCounts) -> RelevanceCounts | None:
    """:meth:`RelevanceCounts.merge` with arrays when each side lists a respondent once
    and no id is missing (always so for counts made by a scan); ``None`` otherwise.

    The result equals the grouped merge: respondents in order of first appearance, sums
    added, first row the smaller, then a stable sort by first row. Memory: one hash table
    of ids and one copy of the sums, no frame of respondents x counters."""
    n1 = len(a.respondents)
    resp = np.concatenate([np.asarray(a.respondents, dtype=object),
                           np.asarray(b.respondents, dtype=object)])
    if len(resp) and bool(pd.isna(resp).any()):
        return None
    codes, uniq = pd.factorize(resp, use_na_sentinel=False)
    c1, c2 = codes[:n1], codes[n1:]
    if not np.array_equal(c1, np.arange(n1)) or len(np.unique(c2)) != len(c2):
        return None
    nu = len(uniq)
    k, m = a.Y.shape[1], a.P.shape[1]
    first = np.full(nu, np.iinfo(np.int64).max, dtype=np.int64)
    first[:n1] = a.first_row
    first[c2] = np.minimum(first[c2], np.asarray(b.first_row, dtype=np.int64))
    order = np.argsort(first, kind="stable")
    out = []
    for x, y in ((a.Y, b.Y), (a.P, b.P)):
        v = np.zeros((nu, x.shape[1]), dtype="float64")
        v[:n1] = x
        v[c2] += y
        out.append(v[order])
        del v
    return RelevanceCounts(a.meta, a.pidx, a.skipped,
                           np.asarray(uniq, dtype=object)[order], first[order],
                           out[0].reshape(nu, k), out[1].reshape(nu, m),
                           a.n_ratings + b.n_ratings)


@dataclass(frozen=True)
class RatingScan:
    """Counts, quarantine, problems and sufficient statistics of a checked export.

    Behaves like :class:`~instrval.model.ratings.RatingData` for everything that does
    not need the accepted rows: ``n_read``, ``n_accepted``, ``n_quarantined``,
    ``n_respondents``, :meth:`summary`, :meth:`problems_frame`, ``quarantine``,
    ``problems``, ``source``. ``item_counts[item] = (n_rows, {value: count})`` holds, per
    multi-select, binary and Likert item, the accepted ratings in which it could be
    answered (gate open, for gated constructs) and the count of each value among them.
    """

    instrument: Instrument
    n_read: int
    quarantine: pd.DataFrame
    problems: tuple[Problem, ...]
    source: Mapping[str, Any]
    respondents: int
    dates: tuple[pd.Timestamp, pd.Timestamp] | None
    presented: Mapping[str, int]
    gates_open: Mapping[str, int]
    item_counts: Mapping[str, tuple[int, Mapping[int, int]]]
    relevance_counts: RelevanceCounts
    engine: str = "duckdb"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def n_accepted(self) -> int:
        return self.n_read - self.n_quarantined

    @property
    def n_respondents(self) -> int:
        return self.respondents

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        return self.dates

    def problems_frame(self) -> pd.DataFrame:
        """The problems as a table: file, row, column, value, reason, message, severity."""
        cols = ["file", "row", "column", "value", "reason", "message", "severity"]
        return pd.DataFrame([{k: getattr(p, k) for k in cols} for p in self.problems],
                            columns=cols)

    def summary(self) -> dict[str, Any]:
        """The same counts as :meth:`RatingData.summary`."""
        dr = self.dates
        return {
            "read": self.n_read,
            "accepted": self.n_accepted,
            "quarantined": self.n_quarantined,
            "respondents": self.n_respondents,
            "date_min": dr[0].date().isoformat() if dr else None,
            "date_max": dr[1].date().isoformat() if dr else None,
            "presented": {c.id: int(self.presented.get(c.id, 0))
                          for c in self.instrument.constructs},
            "gates_open": {g.id: int(self.gates_open.get(g.id, 0))
                           for g in self.instrument.gates},
        }


@dataclass(frozen=True)
class RelevanceIndicators:
    """Per-rating 0/1 indicators: ``S`` (selected, one column per item) and ``P``
    (presented, one column per distinct presentation pattern; item ``j`` uses column
    ``pidx[j]``, so items of one construct share a column)."""

    meta: pd.DataFrame
    S: np.ndarray
    P: np.ndarray
    pidx: np.ndarray
    skipped: tuple[str, ...]

    def take(self, rows: np.ndarray) -> RelevanceIndicators:
        return RelevanceIndicators(self.meta, self.S[rows], self.P[rows], self.pidx,
                                   self.skipped)


def relevance_indicators(ratings: RatingData, likert_relevant_min: float | None = None
                         ) -> RelevanceIndicators:
    """The selected / presented indicators of every item of checked ratings.

    An item is presented in a rating when its construct was (behind an open gate, if it
    has one) and selected when, presented, it was chosen: value 1 of a multi-select or
    binary item, the item's id in a single-choice construct's column, or (only with
    ``likert_relevant_min``) an answer of at least that value on a Likert item, which is
    then presented when answered. Likert items are otherwise skipped
    (:func:`instrval.stats.relevance.relevance_ratios`).
    """
    inst = ratings.instrument
    data = ratings.data
    n = len(data)
    meta: list[tuple[str, str, str]] = []
    s_cols: list[np.ndarray] = []
    p_cols: list[np.ndarray] = []
    pidx: list[int] = []
    skipped: list[str] = []
    for c in inst.constructs:
        if c.kind == "likert" and likert_relevant_min is None:
            skipped.extend(c.item_ids)
            continue
        missing = [col for col in ratings.construct_columns(c) if col not in data.columns]
        if c.gate is not None and c.gate.id not in data.columns:
            missing.append(c.gate.id)
        if missing:
            raise StatisticsError(
                f"the rating data has no column {missing[0]!r} for construct {c.id!r}; "
                f"columns are: {', '.join(map(str, data.columns))}")
        if c.kind == "likert":
            gate = (ratings.gate_open(c.gate.id).to_numpy(bool) if c.gate is not None
                    else np.ones(n, dtype=bool))
            for it in c.items:
                v = data[it.id].to_numpy(dtype="float64", na_value=np.nan)
                pres = gate & ~np.isnan(v)
                with np.errstate(invalid="ignore"):
                    sel = pres & (v >= likert_relevant_min)
                meta.append((it.id, c.id, c.kind))
                s_cols.append(sel)
                pidx.append(len(p_cols))
                p_cols.append(pres)
            continue
        pres = ratings.presented(c).to_numpy(bool)
        j = len(p_cols)
        p_cols.append(pres)
        if c.kind == "single_choice":
            codes, uniques = pd.factorize(data[c.id], use_na_sentinel=True)
            where = {str(u): i for i, u in enumerate(uniques)}
            for it in c.items:
                k = where.get(it.id)
                sel = (codes == k) & pres if k is not None else np.zeros(n, dtype=bool)
                meta.append((it.id, c.id, c.kind))
                s_cols.append(sel)
                pidx.append(j)
        else:  # multi_select, binary: selected = value 1 in a presented rating
            for it in c.items:
                v = data[it.id].to_numpy(dtype="float64", na_value=np.nan)
                meta.append((it.id, c.id, c.kind))
                s_cols.append((v == 1.0) & pres)
                pidx.append(j)
    items = pd.DataFrame(meta, columns=["item_id", "construct_id", "kind"])
    S = np.column_stack(s_cols) if s_cols else np.zeros((n, 0), dtype=bool)
    P = np.column_stack(p_cols) if p_cols else np.zeros((n, 0), dtype=bool)
    return RelevanceIndicators(items, S, P, np.asarray(pidx, dtype=np.intp), tuple(skipped))


def respondent_sums(codes: np.ndarray, n_groups: int, X: np.ndarray) -> np.ndarray:
    """Column sums of ``X`` per respondent code: a (n_groups x n_cols) float array.

    A sparse (n_groups x n_rows) membership matrix times ``X``. Counts are accumulated in
    float32 (exact for integers below 2**24) unless there are 2**24 rows or more.
    """
    from scipy import sparse

    n = len(codes)
    dt = np.float32 if n < 2**24 else np.float64
    A = sparse.csr_matrix((np.ones(n, dtype=dt), (codes, np.arange(n))), shape=(n_groups, n))
    return np.asarray(A @ X.astype(dt), dtype="float64")


def relevance_counts(ratings: RatingData, *, rows: np.ndarray | None = None,
                     likert_relevant_min: float | None = None) -> RelevanceCounts:
    """The :class:`RelevanceCounts` of checked ratings; ``rows`` gives each accepted
    rating's row in the export (default ``0, 1, ...``) to order respondents by their
    first rating across chunks."""
    ind = relevance_indicators(ratings, likert_relevant_min)
    data = ratings.data
    codes, resp_ids = pd.factorize(data["respondent_id"], use_na_sentinel=False)
    k = len(ind.meta)
    sums = respondent_sums(codes, len(resp_ids), np.hstack([ind.S, ind.P]))
    r = np.arange(len(data), dtype=np.int64) if rows is None else np.asarray(rows, np.int64)
    _, first_idx = np.unique(codes, return_index=True)
    return RelevanceCounts(ind.meta, ind.pidx, ind.skipped,
                           np.asarray(resp_ids, dtype=object), r[first_idx],
                           sums[:, :k], sums[:, k:], len(data))



def scan_counts(rd: RatingData, rows: np.ndarray) -> tuple[
        RelevanceCounts, dict[str, tuple[int, dict[int, int]]]]:
    """Per-respondent relevance sums and per-item value counts of checked ratings whose
    export rows are ``rows`` (the part of a scan that went through the pandas checker).

    Selected/presented are :func:`relevance_counts`'s (Likert items skipped); value counts
    follow :func:`instrval.stats.descriptives.item_descriptives`: per item of a
    multi-select, binary or Likert construct, the ratings whose gate was open and the
    count of each answer among them.
    """
    data = rd.data
    n = len(data)
    items: dict[str, tuple[int, dict[int, int]]] = {}
    for c in rd.instrument.constructs:
        if c.kind == "single_choice":
            continue
        gate = (rd.gate_open(c.gate.id).to_numpy(bool) if c.gate is not None
                else np.ones(n, dtype=bool))
        for it in c.items:
            v = data[it.id].to_numpy(dtype="float64", na_value=np.nan)[gate]
            ok = v[~np.isnan(v)].astype(np.int64)
            vals, cnt = np.unique(ok, return_counts=True)
            items[it.id] = (int(gate.sum()), dict(zip(vals.tolist(), cnt.tolist(),
                                                      strict=True)))
    return relevance_counts(rd, rows=rows), items


class ScanTotals:
    """Adds up checked parts of one export (blocks of a file read in turn) into a
    :class:`RatingScan`: relevance sums (:meth:`RelevanceCounts.merge`), presented and
    open-gate counts, item value counts and the date range of the accepted ratings; the
    quarantine and problems of every part, put in row order by :meth:`result`.

    ``add(rd, rows)`` takes a part as :class:`~instrval.model.ratings.RatingData` and the
    export rows of its accepted ratings (``rows[i]`` is the row of ``rd.data.iloc[i]``).
    """

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.counts: RelevanceCounts | None = None
        self.presented: dict[str, int] = {c.id: 0 for c in instrument.constructs}
        self.gates_open: dict[str, int] = {g.id: 0 for g in instrument.gates}
        self.items: dict[str, tuple[int, dict[int, int]]] = {}
        self.dates: tuple[pd.Timestamp, pd.Timestamp] | None = None
        self.quarantine: list[pd.DataFrame] = []
        self.file_problems: list[Problem] = []
        self.row_problems: list[Problem] = []
        self.n_read = 0

    def add(self, rd: RatingData, rows: np.ndarray, *, file_level: bool = True) -> None:
        """Add a checked part; ``file_level=False`` drops its file-level problems (those
        without a row, and column problems, which every part of a file repeats)."""
        counts, items = scan_counts(rd, rows)
        self.counts = counts if self.counts is None else self.counts.merge(counts)
        summ = rd.summary()
        for cid, v in summ["presented"].items():
            self.presented[cid] = self.presented.get(cid, 0) + int(v)
        for gid, v in summ["gates_open"].items():
            self.gates_open[gid] = self.gates_open.get(gid, 0) + int(v)
        for it, (n_rows, vc) in items.items():
            n0, vc0 = self.items.get(it, (0, {}))
            merged = dict(vc0)
            for v, c in vc.items():
                merged[v] = merged.get(v, 0) + c
            self.items[it] = (n0 + n_rows, merged)
        dr = rd.date_range()
        if dr is not None:
            lo, hi = pd.Timestamp(dr[0]), pd.Timestamp(dr[1])
            self.dates = (lo, hi) if self.dates is None else (
                min(self.dates[0], lo), max(self.dates[1], hi))
        if len(rd.quarantine):
            self.quarantine.append(rd.quarantine)
        for p in rd.problems:
            if p.row is None or p.reason in ("duplicate_column", "unknown_column"):
                if file_level:
                    self.file_problems.append(p)
            else:
                self.row_problems.append(p)
        self.n_read += rd.n_read

    def result(self, *, source: Mapping[str, Any], engine: str,
               empty_quarantine: pd.DataFrame) -> RatingScan:
        """The scan of everything added (``empty_quarantine``: the quarantine's columns
        when no row was quarantined)."""
        if self.counts is None:
            raise StatisticsError("nothing was added to the scan")
        if self.quarantine:
            q = pd.concat(self.quarantine, ignore_index=True) if len(self.quarantine) > 1 \
                else self.quarantine[0]
            q = q.sort_values("row", kind="stable").reset_index(drop=True)
            q["row"] = q["row"].astype("int64")
        else:
            q = empty_quarantine
        probs = sorted(self.row_problems, key=lambda p: p.row or 0)
        items = {it: (n, {v: c for v, c in sorted(vc.items()) if c})
                 for it, (n, vc) in self.items.items()}
        return RatingScan(instrument=self.instrument, n_read=self.n_read, quarantine=q,
                          problems=tuple(self.file_problems + probs),
                          source={**source, "rows_read": self.n_read, "engine": engine},
                          respondents=len(self.counts.respondents), dates=self.dates,
                          presented=self.presented, gates_open=self.gates_open,
                          item_counts=items, relevance_counts=self.counts, engine=engine)
