"""Checking rating exports on a Dask cluster: the columnar engine, partition by partition.

Each Parquet part is a partition. The workers run the same DuckDB query as
:func:`instrval.io.engine.scan_ratings` on their part - per-respondent sums of the clean
rows and the rows left for the pandas checker - and the client adds the sums up
(:func:`~instrval.io.engine.reduce_respondents`): integer counts, so the order of the
reduction does not matter. Rating ids repeated across partitions are found by a shuffle
on the id (``dask.dataframe``), so that no machine sees every id. The rows that are not
certainly clean (few) are then checked by the pandas checker on the client, exactly as on
one machine; the result is identical to :func:`~instrval.io.engine.scan_ratings`'s.

``scheduler`` is ``"local"`` (a :class:`distributed.LocalCluster` on this machine), the
address of a running scheduler (``"tcp://10.0.0.5:8786"``), or a
:class:`distributed.Client`. The parts must be readable by every worker under the same
path (a shared or network file system). Needs the ``dask`` extra:
``pip install 'instrval[dask]'``.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import Problem, RatingsError
from instrval.io.engine import (
    _PARQUET,
    EngineNotApplicable,
    ProgressFn,
    _agg_df,
    _check_rest,
    _connect,
    _plan,
    _schema,
    _source_sql,
    ratings_parts,
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
        cluster = LocalCluster(n_workers=min(2, os.cpu_count() or 1), threads_per_worker=1,
                               dashboard_address=None, processes=True)
        return Client(cluster), True
    return Client(str(scheduler)), True


def _part_ids(part: str, offset: int) -> pd.DataFrame:
    """The rating ids of one part as text, with their rows (for the shuffle)."""
    con = _connect(threads=1)
    src = _source_sql([part], [offset])
    df = con.execute(f"SELECT CAST(rating_id AS VARCHAR) AS k, __row FROM ({src}) "
                     f"WHERE rating_id IS NOT NULL").df()
    con.close()
    return df


def _dups(part: pd.DataFrame) -> pd.DataFrame:
    return part[part["k"].duplicated(keep=False)]


def _part_agg(template: str, plan: Any, part: str, offset: int, dup_ids: list[str],
              extra_rows: list[int]) -> pd.DataFrame:
    """The grouped pass of :func:`instrval.io.engine.scan_ratings` on one part."""
    from instrval.io.engine import _SRC

    con = _connect(threads=1)
    p = replace(plan, source_sql=template.replace(_SRC, _source_sql([part], [offset])))
    where = "COALESCE(__clean, FALSE)"
    if dup_ids:
        con.register("__dup", pd.DataFrame({"k": pd.Series(dup_ids, dtype=object)}))
        where += " AND __rid NOT IN (SELECT k FROM __dup)"
    if extra_rows:
        con.register("__extra", pd.DataFrame({"r": np.asarray(extra_rows, np.int64)}))
        where += " AND __row NOT IN (SELECT r FROM __extra)"
    out = _agg_df(con, p, where)
    con.close()
    return out


def _part_stripped(template: str, plan: Any, part: str, offset: int, keys: list[str]
                   ) -> np.ndarray:
    from instrval.io.engine import _SRC

    con = _connect(threads=1)
    src = template.replace(_SRC, _source_sql([part], [offset]))
    con.register("__keys", pd.DataFrame({"k": pd.Series(keys, dtype=object)}))
    got = con.execute(f"SELECT __row FROM ({src}) WHERE __clean AND "
                      f"__rid IN (SELECT k FROM __keys)").fetchnumpy()["__row"]
    con.close()
    return np.asarray(got, dtype=np.int64)


def scan_ratings_dask(path: str | os.PathLike[str], instrument: Instrument, *,
                      scheduler: Any = "local", progress: ProgressFn | None = None
                      ) -> RatingScan:
    """:func:`instrval.io.engine.scan_ratings` on a Dask cluster, one task per part.

    Parameters
    ----------
    path : path-like or str
        A folder of Parquet parts, a glob, or one Parquet file (one partition).
    instrument : Instrument
    scheduler : str or distributed.Client
        ``"local"``, a scheduler address, or a client.
    progress : callable(str), optional
        Receives a line per step (parts done, rows per second).

    Returns
    -------
    RatingScan
        Identical to :func:`~instrval.io.engine.scan_ratings` on the same parts.
    """
    import dask
    import dask.dataframe as dd

    parts = ratings_parts(path)
    for f in parts:
        if Path(f).suffix.lower() not in _PARQUET:
            raise EngineNotApplicable(f"{f} is not a Parquet file")
    t0 = time.perf_counter()
    schema, offsets, total, nulls = _schema(parts)
    if total == 0:
        raise EngineNotApplicable("no rows")
    plan = _plan(instrument, schema, parts, _source_sql(parts, offsets))
    client, own = dask_client(scheduler)
    try:
        if progress:
            progress(f"scanning {total:,} ratings in {len(parts)} part(s) on Dask "
                     f"({len(client.scheduler_info().get('workers', {}))} workers)")
        # rating ids repeated anywhere: a shuffle on the id, then duplicates per partition
        meta = pd.DataFrame({"k": pd.Series([], dtype=object),
                             "__row": pd.Series([], dtype=np.int64)})
        ids = dd.from_map(_part_ids, parts, offsets, meta=meta, enforce_metadata=False)
        dups = ids.shuffle("k").map_partitions(_dups, meta=meta)
        dup_rows = dask.compute(dups, scheduler=client.get)[0]
        dup_ids = sorted(set(dup_rows["k"].tolist()))
        if progress:
            progress(f"ids shuffled: {len(dup_ids):,} repeated ids "
                     f"({time.perf_counter() - t0:.1f} s)")
        tasks = [dask.delayed(_part_agg)(plan.template, plan, f, off, dup_ids, [])
                 for f, off in zip(parts, offsets, strict=True)]
        aggs = list(dask.compute(*tasks, scheduler=client.get))
        if progress:
            dt = time.perf_counter() - t0
            progress(f"parts done: {len(parts)} of {len(parts)} "
                     f"({total / max(dt, 1e-9):,.0f} ratings/s)")
        bad = [a[a["__bad"] >= 0] for a in aggs]
        sus = pd.concat([pd.DataFrame({"__row": b["__bad"].to_numpy(np.int64),
                                       "__rid": b["__badrid"].to_numpy(object)})
                         for b in bad], ignore_index=True).sort_values("__row")
        from instrval.validate.ratings import as_text

        stripped = as_text(sus["__rid"].astype(object))
        differ = stripped.notna() & (stripped.astype(object) != sus["__rid"].astype(object))
        extra = np.zeros(0, dtype=np.int64)
        if differ.any():
            keys = sorted(set(stripped[differ].astype(str)))
            got = dask.compute(*[dask.delayed(_part_stripped)(plan.template, plan, f, off,
                                                              keys)
                                 for f, off in zip(parts, offsets, strict=True)],
                               scheduler=client.get)
            extra = np.concatenate([np.zeros(0, np.int64), *got])
            if len(extra):
                tasks = [dask.delayed(_part_agg)(plan.template, plan, f, off, dup_ids,
                                                 extra.tolist())
                         for f, off in zip(parts, offsets, strict=True)]
                aggs = list(dask.compute(*tasks, scheduler=client.get))
    finally:
        if own:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()
    clean = reduce_respondents([a[a["__bad"] < 0].drop(columns=["__bad", "__badrid"])
                                for a in aggs])
    scan = _check_rest(instrument, plan, clean, path, parts, offsets, sus, extra, nulls,
                       total, "dask")
    if progress:
        dt = time.perf_counter() - t0
        progress(f"done: {total:,} ratings in {dt:.1f} s")
    return scan


