"""Item descriptives: response distributions, missing shares, floor and ceiling effects.

For each item: the number of answers, the share missing, the mean and standard deviation,
the share of answers at each response option, and floor and ceiling effects -- the share of
answers at the lowest and at the highest option, flagged when above
``DecisionRules.floor_ceiling_max`` (15%, McHorney & Tarlov 1995; Terwee et al. 2007).

Floor and ceiling effects are defined for rated items (a Likert scale); for check boxes and
binary items the distribution is still reported, but the flags are ``<NA>``: a 0/1 box has
only a lowest and a highest option, so the shares say nothing about a scale's range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from instrval._result import Result
from instrval.errors import StatisticsError

__all__ = ["DescriptivesResult", "item_descriptives", "ITEM_COLUMNS", "DISTRIBUTION_COLUMNS",
           "ScaleTotalsResult", "scale_totals", "SCALE_COLUMNS"]

ITEM_COLUMNS = ("item_id", "construct_id", "kind", "n_rows", "n", "n_missing",
                "missing_share", "mean", "sd", "min_option", "max_option", "floor_share",
                "ceiling_share", "floor_flag", "ceiling_flag")
DISTRIBUTION_COLUMNS = ("item_id", "value", "count", "share")


def _f(v: Any) -> float | None:
    if v is None or v is pd.NA:
        return None
    f = float(v)
    return None if math.isnan(f) or math.isinf(f) else f


@dataclass(frozen=True, repr=False)
class DescriptivesResult(Result):
    """Item descriptives.

    Attributes
    ----------
    items : DataFrame
        One row per item: ``item_id``, ``construct_id``, ``kind``, ``n_rows`` (rows in
        which the item could be answered: all rows, or those that opened the construct's
        gate), ``n`` (answers), ``n_missing``, ``missing_share`` (= n_missing / n_rows),
        ``mean``, ``sd`` (n - 1 denominator), ``min_option``, ``max_option``,
        ``floor_share`` and ``ceiling_share`` (share of answers at the lowest / highest
        option), ``floor_flag`` and ``ceiling_flag`` (share > ``floor_ceiling_max``;
        ``<NA>`` for items without a rating scale).
    distribution : DataFrame
        One row per item and response option: ``item_id``, ``value``, ``count``,
        ``share`` (of the answers); options nobody chose are listed with count 0.
    floor_ceiling_max : float
    """

    items: pd.DataFrame
    distribution: pd.DataFrame
    floor_ceiling_max: float = 0.15

    def to_frame(self) -> pd.DataFrame:
        return self.items.copy()

    def to_dict(self) -> dict[str, Any]:
        def rec(r: dict[str, Any]) -> dict[str, Any]:
            out = {}
            for k, v in r.items():
                if k in ("item_id", "construct_id", "kind"):
                    out[k] = None if v is None or v is pd.NA else str(v)
                elif k in ("floor_flag", "ceiling_flag"):
                    out[k] = None if v is None or v is pd.NA else bool(v)
                elif k in ("n_rows", "n", "n_missing", "count", "value"):
                    out[k] = None if v is None or v is pd.NA else int(v)
                else:
                    out[k] = _f(v)
            return out

        return {"floor_ceiling_max": float(self.floor_ceiling_max),
                "items": [rec(r) for r in self.items.to_dict(orient="records")],
                "distribution": [rec(r) for r in self.distribution.to_dict(orient="records")]}


def item_descriptives(data: Any, instrument: Any = None, *,
                      items: Sequence[str] | None = None,
                      scale_range: tuple[int, int] | None = None,
                      floor_ceiling_max: float = 0.15) -> DescriptivesResult:
    """Response distribution, missing share, floor and ceiling effects per item.

    For item *j* with answers :math:`x_{1j}, \\dots, x_{n_j j}` on options
    :math:`\\{a, \\dots, b\\}`:

    * missing share :math:`= (N_j - n_j) / N_j`, with :math:`N_j` the rows in which the
      item could be answered (all rows; for a gated construct, those that opened the gate);
    * floor share :math:`= \\#\\{x_{ij} = a\\} / n_j`, ceiling share
      :math:`= \\#\\{x_{ij} = b\\} / n_j`, flagged when strictly greater than
      ``floor_ceiling_max`` (McHorney & Tarlov 1995; Terwee et al. 2007, criterion 15%).

    Equivalent R: ``psych::response.frequencies(x)`` for the shares and
    ``psych::describe(x)`` for the mean and SD.

    Parameters
    ----------
    data : DataFrame or RatingData
        Item columns (numeric codes; NaN / ``<NA>`` = no answer). A ``RatingData``
        supplies its instrument and gates.
    instrument : Instrument, optional
        Gives the items, constructs, kinds and scale ranges (and gates, with a
        ``RatingData``). Without it every numeric column is an item whose options are the
        range of the values seen, or ``scale_range``.
    items : sequence of str, optional
        A subset of the items.
    scale_range : (int, int), optional
        Lowest and highest option, for data without an instrument.
    floor_ceiling_max : float
        The share above which a floor or ceiling effect is flagged.

    Returns
    -------
    DescriptivesResult

    Examples
    --------
    >>> import pandas as pd
    >>> d = item_descriptives(pd.DataFrame({"q1": [1, 1, 2, 5, None]}), scale_range=(1, 5))
    >>> float(d.items.loc[0, "floor_share"]), bool(d.items.loc[0, "floor_flag"])
    (0.5, True)
    """
    if not 0 <= floor_ceiling_max <= 1:
        raise StatisticsError(f"floor_ceiling_max must be between 0 and 1, got {floor_ceiling_max!r}")
    rating_data = None
    counts = getattr(data, "item_counts", None)
    if counts is not None and hasattr(data, "instrument"):
        return _from_counts(data, counts, items=items, floor_ceiling_max=floor_ceiling_max)
    if hasattr(data, "data") and hasattr(data, "instrument"):
        rating_data = data
        instrument = instrument if instrument is not None else data.instrument
        frame = data.data
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        raise StatisticsError(f"data must be a DataFrame or RatingData, got {type(data).__name__}")

    specs: list[tuple[str, str | None, str, tuple[int, int] | None, Any]] = []
    if instrument is not None:
        for c in instrument.constructs:
            if c.kind == "single_choice":
                continue
            rng: tuple[int, int] | None
            if c.kind == "likert":
                sc = instrument.scale_of(c)
                rng = (sc.min, sc.max) if sc is not None else None
            else:
                rng = (0, 1)
            gate_mask = None
            if rating_data is not None and c.gate is not None:
                gate_mask = rating_data.gate_open(c.gate.id).to_numpy()
            for it in c.items:
                if items is None or it.id in items:
                    specs.append((it.id, c.id, c.kind, rng, gate_mask))
    else:
        cols = list(items) if items is not None else [
            c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        specs = [(c, None, "likert", scale_range, None) for c in cols]
    missing_cols = [s[0] for s in specs if s[0] not in frame.columns]
    if missing_cols:
        raise StatisticsError(f"items not in the data: {', '.join(missing_cols)}")

    rows, dist = [], []
    for item_id, cid, kind, rng, gate_mask in specs:
        col = pd.to_numeric(frame[item_id], errors="coerce").astype("float64").to_numpy()
        if gate_mask is not None:
            col = col[gate_mask]
        n_rows = int(col.size)
        ok = col[~np.isnan(col)]
        n = int(ok.size)
        lo, hi = rng if rng is not None else (
            (int(ok.min()), int(ok.max())) if n else (None, None))
        rated = kind == "likert"
        floor = ceil = float("nan")
        if n and lo is not None:
            floor = float(np.count_nonzero(ok == lo)) / n
            ceil = float(np.count_nonzero(ok == hi)) / n
        rows.append({
            "item_id": item_id, "construct_id": cid, "kind": kind, "n_rows": n_rows, "n": n,
            "n_missing": n_rows - n,
            "missing_share": (n_rows - n) / n_rows if n_rows else float("nan"),
            "mean": float(ok.mean()) if n else float("nan"),
            "sd": float(ok.std(ddof=1)) if n > 1 else float("nan"),
            "min_option": lo, "max_option": hi,
            "floor_share": floor, "ceiling_share": ceil,
            "floor_flag": (floor > floor_ceiling_max) if rated and n else pd.NA,
            "ceiling_flag": (ceil > floor_ceiling_max) if rated and n else pd.NA,
        })
        if lo is not None:
            values, counts = np.unique(ok.astype(np.int64), return_counts=True)
            cmap = dict(zip(values.tolist(), counts.tolist(), strict=True))
            options = sorted(set(range(int(lo), int(hi) + 1)) | set(cmap))
            for v in options:
                cnt = int(cmap.get(v, 0))
                dist.append({"item_id": item_id, "value": int(v), "count": cnt,
                             "share": cnt / n if n else float("nan")})
    items_df = pd.DataFrame(rows, columns=list(ITEM_COLUMNS))
    for c in ("floor_flag", "ceiling_flag"):
        items_df[c] = items_df[c].astype("boolean")
    for c in ("min_option", "max_option"):
        items_df[c] = items_df[c].astype("Int64")
    return DescriptivesResult(items_df, pd.DataFrame(dist, columns=list(DISTRIBUTION_COLUMNS)),
                              float(floor_ceiling_max))


def _from_counts(scan: Any, counts: Any, *, items: Sequence[str] | None,
                 floor_ceiling_max: float) -> DescriptivesResult:
    """:func:`item_descriptives` from per-item value counts (a scanned export,
    :class:`~instrval.model.scan.RatingScan`): the same table, computed from
    ``n_rows`` and the count of each value. Counts, shares and means are exact; the SD is
    ``sqrt(sum_v c_v (v - mean)^2 / (n - 1))``, equal to the row-wise sum up to rounding."""
    instrument = scan.instrument
    rows, dist = [], []
    for c in instrument.constructs:
        if c.kind == "single_choice":
            continue
        if c.kind == "likert":
            sc = instrument.scale_of(c)
            rng = (sc.min, sc.max) if sc is not None else None
        else:
            rng = (0, 1)
        for it in c.items:
            if items is not None and it.id not in items:
                continue
            n_rows, vc = counts.get(it.id, (0, {}))
            vals = np.array(sorted(vc), dtype=np.int64)
            cnt = np.array([vc[v] for v in vals.tolist()], dtype=np.int64)
            n = int(cnt.sum())
            lo, hi = rng if rng is not None else (
                (int(vals.min()), int(vals.max())) if n else (None, None))
            rated = c.kind == "likert"
            floor = ceil = float("nan")
            if n and lo is not None:
                floor = float(vc.get(lo, 0)) / n
                ceil = float(vc.get(hi, 0)) / n
            mean = float(np.float64(int((vals * cnt).sum())) / n) if n else float("nan")
            sd = float("nan")
            if n > 1:
                sd = float(np.sqrt(float((cnt * (vals - mean) ** 2).sum()) / (n - 1)))
            rows.append({
                "item_id": it.id, "construct_id": c.id, "kind": c.kind, "n_rows": int(n_rows),
                "n": n, "n_missing": int(n_rows) - n,
                "missing_share": (n_rows - n) / n_rows if n_rows else float("nan"),
                "mean": mean, "sd": sd, "min_option": lo, "max_option": hi,
                "floor_share": floor, "ceiling_share": ceil,
                "floor_flag": (floor > floor_ceiling_max) if rated and n else pd.NA,
                "ceiling_flag": (ceil > floor_ceiling_max) if rated and n else pd.NA,
            })
            if lo is not None:
                options = sorted(set(range(int(lo), int(hi) + 1)) | set(vc))
                for v in options:
                    k = int(vc.get(v, 0))
                    dist.append({"item_id": it.id, "value": int(v), "count": k,
                                 "share": k / n if n else float("nan")})
    items_df = pd.DataFrame(rows, columns=list(ITEM_COLUMNS))
    for col in ("floor_flag", "ceiling_flag"):
        items_df[col] = items_df[col].astype("boolean")
    for col in ("min_option", "max_option"):
        items_df[col] = items_df[col].astype("Int64")
    return DescriptivesResult(items_df, pd.DataFrame(dist, columns=list(DISTRIBUTION_COLUMNS)),
                              float(floor_ceiling_max))
#: Columns of :attr:`ScaleTotalsResult.scales`.
SCALE_COLUMNS = ("construct_id", "kind", "k", "n", "min_possible", "max_possible", "mean",
                 "sd", "floor_share", "ceiling_share", "floor_flag", "ceiling_flag")


@dataclass(frozen=True, repr=False)
class ScaleTotalsResult(Result):
    """Floor and ceiling effects of scale totals (see :func:`scale_totals`).

    Attributes
    ----------
    scales : DataFrame
        One row per scale (:data:`SCALE_COLUMNS`): ``k`` items, ``n`` respondents who
        answered every item, the lowest and highest possible total, the mean and SD of the
        totals, the shares at the lowest / highest possible total and their flags
        (share > ``floor_ceiling_max``).
    floor_ceiling_max : float
    """

    scales: pd.DataFrame
    floor_ceiling_max: float = 0.15

    def to_frame(self) -> pd.DataFrame:
        return self.scales.copy()

    def to_dict(self) -> dict[str, Any]:
        recs = []
        for r in self.scales.to_dict(orient="records"):
            recs.append({k: (None if v is pd.NA else bool(v) if k.endswith("_flag")
                             else _f(v) if k in ("floor_share", "ceiling_share", "mean", "sd")
                             else v) for k, v in r.items()})
        return {"floor_ceiling_max": float(self.floor_ceiling_max), "scales": recs}


def scale_totals(data: pd.DataFrame, instrument: Any, *,
                 floor_ceiling_max: float = 0.15) -> ScaleTotalsResult:
    """Floor and ceiling effects on the totals of each Likert or binary scale.

    The total of a respondent is the sum of the scale's items after reverse keying
    (``x' = max + min - x``); only respondents who answered every item of the scale have a
    total. A floor (ceiling) effect is present when more than ``floor_ceiling_max`` of them
    have the lowest (highest) possible total, ``k * min`` (``k * max``) (Terwee et al.
    2007, criterion 15%; McHorney & Tarlov 1995). Item-level shares
    (:func:`item_descriptives`) stay descriptive.

    R equivalent: ``tot <- rowSums(psych::reverse.code(keys, x)); mean(tot == k * min,
    na.rm = TRUE)``.

    Examples
    --------
    >>> from instrval.model.instrument import Instrument
    >>> inst = Instrument.from_dict({"format_version": "1.0", "id": "t", "version": "1",
    ...     "title": "T",
    ...     "scales": {"s": {"min": 1, "max": 4}},
    ...     "constructs": [{"id": "c", "label": "C", "kind": "likert", "scale": "s",
    ...                     "items": [{"id": "a", "label": "A"},
    ...                               {"id": "b", "label": "B", "reverse": True}]}]})
    >>> df = pd.DataFrame({"a": [1, 1, 4, 2], "b": [4, 4, 1, 3]})
    >>> float(scale_totals(df, inst).scales.loc[0, "floor_share"])
    0.5
    """
    if not 0 <= floor_ceiling_max <= 1:
        raise StatisticsError(
            f"floor_ceiling_max must be between 0 and 1, got {floor_ceiling_max!r}")
    rows = []
    for c in instrument.constructs:
        if c.kind not in ("likert", "binary") or len(c.items) < 2:
            continue
        if c.kind == "likert":
            sc = instrument.scale_of(c)
            lo, hi = (sc.min, sc.max) if sc is not None else (None, None)
        else:
            lo, hi = 0, 1
        ids = list(c.item_ids)
        absent = [i for i in ids if i not in data.columns]
        if absent or lo is None:
            continue
        x = data[ids].apply(pd.to_numeric, errors="coerce").astype("float64")
        for it in c.items:
            if it.reverse:
                x[it.id] = hi + lo - x[it.id]
        tot = x.dropna().sum(axis=1).to_numpy()
        n = int(tot.size)
        k = len(ids)
        fl = float(np.count_nonzero(tot == k * lo)) / n if n else float("nan")
        ce = float(np.count_nonzero(tot == k * hi)) / n if n else float("nan")
        rows.append({
            "construct_id": c.id, "kind": c.kind, "k": k, "n": n,
            "min_possible": k * lo, "max_possible": k * hi,
            "mean": float(tot.mean()) if n else float("nan"),
            "sd": float(tot.std(ddof=1)) if n > 1 else float("nan"),
            "floor_share": fl, "ceiling_share": ce,
            "floor_flag": bool(fl > floor_ceiling_max) if n else pd.NA,
            "ceiling_flag": bool(ce > floor_ceiling_max) if n else pd.NA,
        })
    df = pd.DataFrame(rows, columns=list(SCALE_COLUMNS))
    for col in ("floor_flag", "ceiling_flag"):
        df[col] = df[col].astype("boolean")
    return ScaleTotalsResult(df, float(floor_ceiling_max))
