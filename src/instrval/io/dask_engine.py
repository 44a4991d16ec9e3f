"""Checking rating exports on a Dask cluster: the columnar engine, partition by partition.

Each Parquet part is a partition, and the work stays in the cluster:

1. the rating ids of every part are shuffled on the id (``dask.dataframe``), so that every
   copy of an id meets in one partition, where the repeated ones are found; their rows are
   routed back to the partition of their part - no machine holds every id;
2. each worker runs the DuckDB pass of :func:`instrval.io.engine.scan_ratings` on its part
   (its rows with a repeated id left out): per-respondent sums of the clean rows (the
   sufficient statistics of relevance ratios and descriptives) and the rows left for the
   pandas checker;
3. the per-respondent sums of the parts are shuffled on the respondent id into
   ``split_out`` partitions of disjoint respondents (Dask's shuffle, which spills to disk)
   and each partition is added up on its worker
   (:func:`~instrval.io.engine.reduce_respondents`): integer counts, minima and maxima,
   so the order does not matter. No task holds more than one part's sums or one
   partition's; the client receives one row per respondent and the rows to check (few),
   which the pandas checker reads exactly as on one machine.

The result is identical to :func:`~instrval.io.engine.scan_ratings`'s.

``scheduler`` is ``"local"`` (a :class:`distributed.LocalCluster` on this machine), the
address of a running scheduler (``"tcp://10.0.0.5:8786"``), or a
:class:`distributed.Client`. The parts must be readable by every worker: under the same
path (a shared or network file system) or as a URL in object storage (``s3://``,
``gs://``, ``abfs://``, read through fsspec with ``storage_options``). Needs the ``dask``
extra: ``pip install 'instrval[dask]'``.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import Problem, RatingsError
from instrval.io.engine import (
    EngineNotApplicable,
    ProgressFn,
    StorageOptions,
    _agg_df,
    _check_rest,
    _connect,
    _counters,
    _plan,
    _schema,
    _source_sql,
    parquet_parts,
    reduce_respondents,
)
from instrval.model.instrument import Instrument
from instrval.model.scan import RatingScan

__all__ = ["scan_ratings_dask", "dask_client"]


def dask_client(scheduler: Any) -> tuple[Any, bool]:
    """A :class:`distributed.Client` for ``scheduler`` and whether it was made here (and
    must be closed)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the environment
        raise RatingsError("--engine dask needs dask.distributed: pip install "
                           "'instrval[dask]'",
                           [Problem("missing_dependency", "dask is not installed")]) from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if scheduler in (None, "local"):
        # the shuffle's notices ("Shuffle ... initialized") would fill standard error
        cluster = LocalCluster(n_workers=min(2, os.cpu_count() or 1), threads_per_worker=1,
                               dashboard_address=":0", processes=True,
                               silence_logs=logging.ERROR)
        return Client(cluster), True
    return Client(str(scheduler)), True


def _part_ids(part: str, offset: int, so: StorageOptions) -> pd.DataFrame:
    """The rating ids of one part as text, with their rows (for the shuffle)."""
    con = _connect(threads=1, parts=[part], storage_options=so)
    src = _source_sql([part], [offset])
    df = con.execute(f"SELECT CAST(rating_id AS VARCHAR) AS k, __row FROM ({src}) "
                     f"WHERE rating_id IS NOT NULL").df()
    con.close()
    return df


def _dups(frame: pd.DataFrame, offsets: list[int]) -> pd.DataFrame:
    """The rows of one shuffled partition whose id occurs more than once (every row of an
    id is in the same partition after the shuffle), with the part each row belongs to."""
    d = frame[frame["k"].duplicated(keep=False)]
    part = np.searchsorted(np.asarray(offsets, np.int64), d["__row"].to_numpy(np.int64) - 2,
                           side="right") - 1
    return pd.DataFrame({"__part": part.astype(np.int64),
                         "__row": d["__row"].to_numpy(np.int64)})


def _rows_sql(con: Any, name: str, rows: np.ndarray) -> str:
    """`` AND __row NOT IN (...)`` for rows registered as a table (empty: nothing)."""
    if not len(rows):
        return ""
    con.register(name, pd.DataFrame({"r": np.asarray(rows, np.int64)}))
    return f" AND __row NOT IN (SELECT r FROM {name})"


def _bind(template: str, part: str, offset: int, so: StorageOptions, *,
          empty: bool = False) -> tuple[Any, str]:
    """A one-thread DuckDB connection reading ``part``, and the plan's checked source
    (``template``) bound to that part (``empty``: to none of its rows, for the types of a
    result)."""
    from instrval.io.engine import _SRC

    con = _connect(threads=1, parts=[part], storage_options=so)
    src = _source_sql([part], [offset])
    if empty:
        src = f"SELECT * FROM ({src}) LIMIT 0"
    return con, template.replace(_SRC, src)


def _part_agg(template: str, plan: Any, part: str, offset: int, so: StorageOptions,
              dup_rows: pd.DataFrame, extra_rows: np.ndarray) -> pd.DataFrame:
    """The grouped pass of :func:`instrval.io.engine.scan_ratings` on one part: the rows
    whose id is repeated anywhere (``dup_rows``, this part's share of the shuffle) and
    ``extra_rows`` are left out of the sums and returned as rows to check."""
    con, src = _bind(template, part, offset, so)
    p = replace(plan, source_sql=src)
    where = "COALESCE(__clean, FALSE)"
    where += _rows_sql(con, "__dup", dup_rows["__row"].to_numpy(np.int64))
    where += _rows_sql(con, "__extra", extra_rows)
    out = _agg_df(con, p, where)
    con.close()
    return out


def _clean_of(agg: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """The per-respondent sums of one part: the columns of ``meta`` (no derived counters,
    which are copies of others), with its types (object ids, as the reduction expects)."""
    out = agg.loc[agg["__bad"] < 0, list(meta.columns)].reset_index(drop=True)
    return out.astype(meta.dtypes.to_dict())


def _bad_of(agg: pd.DataFrame) -> pd.DataFrame:
    """The rows of one part that go to the pandas checker."""
    b = agg[agg["__bad"] >= 0]
    return pd.DataFrame({"__row": b["__bad"].to_numpy(np.int64),
                         "__rid": b["__badrid"].to_numpy(object)})


def _reduce(frame: pd.DataFrame) -> pd.DataFrame:
    """One shuffled partition of per-respondent sums (every row of a respondent is in it)
    added up: one row per respondent."""
    return reduce_respondents([frame])


def _part_stripped(template: str, plan: Any, part: str, offset: int, so: StorageOptions,
                   keys: list[str]) -> np.ndarray:
    con, src = _bind(template, part, offset, so)
    con.register("__keys", pd.DataFrame({"k": pd.Series(keys, dtype=object)}))
    got = con.execute(f"SELECT __row FROM ({src}) WHERE __clean AND "
                      f"__rid IN (SELECT k FROM __keys)").fetchnumpy()["__row"]
    con.close()
    return np.asarray(got, dtype=np.int64)


def _sums_meta(plan: Any, part: str, offset: int, so: StorageOptions) -> pd.DataFrame:
    """The empty frame of one part's per-respondent sums, derived counters left out: the
    schema of the shuffle (the grouped pass on none of the part's rows; DuckDB gives an
    empty result the types of a full one)."""
    con, src = _bind(plan.template, part, offset, so, empty=True)
    agg = _agg_df(con, replace(plan, source_sql=src), "COALESCE(__clean, FALSE)")
    con.close()
    _, derived = _counters(plan)
    out = agg.drop(columns=["__bad", "__badrid", *derived])
    out["__resp"] = out["__resp"].astype(object)
    return out


def _respondent_sums(aggs: list[Any], meta: pd.DataFrame, split_out: int) -> list[Any]:
    """The per-respondent sums of every part added up on the workers: shuffled on the
    respondent id into ``split_out`` partitions of disjoint respondents, each reduced.
    One delayed frame per partition (computed, the client receives one row per
    respondent)."""
    import dask
    import dask.dataframe as dd

    with dask.config.set({"dataframe.convert-string": False}):
        sums = dd.from_delayed([dask.delayed(_clean_of)(a, meta) for a in aggs], meta=meta,
                               verify_meta=False)
        if split_out > 1 and len(aggs) > 1:
            sums = sums.shuffle("__resp", npartitions=split_out)
        elif len(aggs) > 1:
            sums = sums.repartition(npartitions=1)
        # delayed partitions, computed with the parts' rows to check in one graph (the
        # parts' passes are shared, not run twice)
        return list(sums.map_partitions(_reduce, meta=meta).to_delayed(optimize_graph=False))


def _with_derived(clean: pd.DataFrame, plan: Any) -> pd.DataFrame:
    """The reduced sums with the derived counters added back (copies of others)."""
    _, derived = _counters(plan)
    clean = clean.reset_index(drop=True)
    for name, src in derived.items():
        clean[name] = clean[src]
    return clean


def _compute(client: Any, summed: list[Any], per_part: list[Any],
             progress: ProgressFn | None, total: int, t0: float) -> list[Any]:
    """Compute ``summed`` and ``per_part`` (one delayed object a part) in one graph on
    the cluster; with ``progress``, a line as parts finish (at most one a second)."""
    from distributed import as_completed

    futures = client.compute([*summed, *per_part])
    if progress:
        n, said = len(per_part), 0.0
        for done, _ in enumerate(as_completed(futures[len(summed):]), start=1):
            now = time.perf_counter()
            if done == n or now - said >= 1.0:
                said = now
                progress(f"parts done: {done} of {n} "
                         f"({total * done / n / max(now - t0, 1e-9):,.0f} ratings/s)")
    return list(client.gather(futures))


def _dups_by_part(ids: Any, offsets: list[int], n_parts: int) -> list[Any]:
    """Rows whose rating id is repeated anywhere, found by a shuffle on the id and routed
    back to their parts: one delayed frame per part, kept on the workers."""
    meta = pd.DataFrame({"__part": pd.Series([], dtype=np.int64),
                         "__row": pd.Series([], dtype=np.int64)})
    dups = ids.shuffle("k").map_partitions(_dups, offsets, meta=meta)
    if n_parts == 1:
        return list(dups.repartition(npartitions=1).to_delayed())
    # partition i holds the rows of part i (divisions 0, 1, ..., n-1, n-1)
    routed = dups.set_index("__part", divisions=[*range(n_parts), n_parts - 1],
                            sorted=False).reset_index()
    out = routed.to_delayed()
    assert len(out) == n_parts
    return list(out)


def scan_ratings_dask(path: str | os.PathLike[str], instrument: Instrument, *,
                      scheduler: Any = "local", storage_options: StorageOptions = None,
                      split_out: int | None = None, progress: ProgressFn | None = None
                      ) -> RatingScan:
    """:func:`instrval.io.engine.scan_ratings` on a Dask cluster, one task per part.

    Parameters
    ----------
    path : path-like or str
        A folder of Parquet parts, a glob, or one Parquet file (one partition); local (a
        path every worker can read) or an fsspec URL (``"s3://bucket/exports/"``,
        ``"gs://..."``, ``"abfs://..."``, ``"file:///shared/parts/"``).
    instrument : Instrument
    scheduler : str or distributed.Client
        ``"local"``, a scheduler address, or a client.
    storage_options : dict, optional
        Options of the URL's fsspec filesystem, passed to every worker (as
        ``dask.dataframe.read_parquet`` takes them).
    split_out : int, optional
        Partitions of respondents the per-respondent sums are shuffled into and added up
        in (default: one per part). More partitions, less memory per task.
    progress : callable(str), optional
        Receives a line per step (parts done, rows per second).

    Returns
    -------
    RatingScan
        Identical to :func:`~instrval.io.engine.scan_ratings` on the same parts.
    """
    import dask
    import dask.dataframe as dd

    so = storage_options
    parts = parquet_parts(path, so)
    t0 = time.perf_counter()
    schema, offsets, total, nulls = _schema(parts, so)
    if total == 0:
        raise EngineNotApplicable("no rows")
    plan = _plan(instrument, schema, parts, _source_sql(parts, offsets), so)
    client, own = dask_client(scheduler)
    n = len(parts)
    n_out = max(1, int(split_out)) if split_out is not None else n
    sums_meta = _sums_meta(plan, parts[0], offsets[0], so)
    try:
        if progress:
            progress(f"scanning {total:,} ratings in {n} part(s) on Dask "
                     f"({len(client.scheduler_info().get('workers', {}))} workers)")
        with dask.config.set({"dataframe.convert-string": False}):
            meta = pd.DataFrame({"k": pd.Series([], dtype=object),
                                 "__row": pd.Series([], dtype=np.int64)})
            ids = dd.from_map(_part_ids, parts, offsets, [so] * n, meta=meta,
                              enforce_metadata=False)
            dup_parts = _dups_by_part(ids, offsets, n)
        no_extra = np.zeros(0, np.int64)
        aggs = [dask.delayed(_part_agg)(plan.template, plan, f, off, so, d, no_extra)
                for f, off, d in zip(parts, offsets, dup_parts, strict=True)]
        summed = _respondent_sums(aggs, sums_meta, n_out)
        bads = [dask.delayed(_bad_of)(a) for a in aggs]
        got = _compute(client, summed, bads, progress, total, t0)
        clean = pd.concat(got[:len(summed)], ignore_index=True)
        bad = list(got[len(summed):])
        del got
        sus = pd.concat(bad, ignore_index=True).sort_values("__row").reset_index(drop=True)
        if progress:
            progress(f"respondents added up; {len(sus):,} rows to check row by row")
        from instrval.validate.ratings import as_text

        stripped = as_text(sus["__rid"].astype(object))
        differ = stripped.notna() & (stripped.astype(object) != sus["__rid"].astype(object))
        extra = no_extra
        if differ.any():  # ids equal once stripped: count again without those rows
            keys = sorted(set(stripped[differ].astype(str)))
            got = dask.compute(*[dask.delayed(_part_stripped)(plan.template, plan, f, off, so,
                                                              keys)
                                 for f, off in zip(parts, offsets, strict=True)],
                               scheduler=client.get)
            extra = np.concatenate([no_extra, *got])
            if len(extra):
                aggs = [dask.delayed(_part_agg)(plan.template, plan, f, off, so, d, extra)
                        for f, off, d in zip(parts, offsets, dup_parts, strict=True)]
                summed = _respondent_sums(aggs, sums_meta, n_out)
                clean = pd.concat(dask.compute(*summed, scheduler=client.get),
                                  ignore_index=True)
    finally:
        if own:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()
    scan = _check_rest(instrument, plan, _with_derived(clean, plan), path, parts, offsets,
                       sus, extra, nulls, total, "dask", so)
    if progress:
        dt = time.perf_counter() - t0
        progress(f"done: {total:,} ratings in {dt:.1f} s")
    return scan
