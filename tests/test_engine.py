"""The DuckDB engine gives exactly the pandas reader's results, on clean and faulty data."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from instrval.datasets.iam import generate_iam_ratings
from instrval.errors import DataQualityWarning
from instrval.io.engine import (
    EngineNotApplicable,
    choose_engine,
    ratings_parts,
    read_ratings_any,
    scan_ratings,
)
from instrval.io.instrument import read_instrument
from instrval.io.ratings import inspect_ratings
from instrval.stats.descriptives import item_descriptives
from instrval.stats.relevance import relevance_ratios

pytest.importorskip("duckdb")

IAM = Path(__file__).resolve().parents[1] / "instruments" / "iam" / "iam-2011.yaml"


@pytest.fixture(scope="module")
def inst():
    return read_instrument(IAM)


def faulty_frame(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    """IAM ratings with every kind of fault the checker knows, and some valid oddities."""
    df = generate_iam_ratings(n, max(2, n // 30), seed)
    df["date"] = df["date"].dt.strftime("%Y-%m-%d").astype(object)
    for c in df.columns:
        if df[c].dtype.kind in "iu":
            df[c] = df[c].astype("float64")
    for c in ("rating_id", "respondent_id", "clinical_relevance", "use_gate",
              "benefit_gate", "specialty"):
        df[c] = df[c].astype(object)
    df.loc[3, "rating_id"] = None                       # blank id
    df.loc[4, "respondent_id"] = "   "                  # blank respondent (spaces)
    df.loc[10, "rating_id"] = df.loc[11, "rating_id"]   # duplicate
    df.loc[20, "rating_id"] = " " + str(df.loc[21, "rating_id"]) + " "  # duplicate once stripped
    df.loc[30, "use_gate"] = "maybe"                    # invalid option
    df.loc[31, "use_gate"] = "YES"                      # valid, any case
    df.loc[32, "use_gate"] = "1"                        # valid, by position
    df.loc[33, "benefit_gate"] = " yes "                # valid once stripped
    g = df.index[df["use_gate"] == "no"][:2]
    df.loc[g, "use_justify_choice"] = 1.0               # skip logic
    df.loc[40, "ci_learned_new"] = 2.0                  # out of range
    df.loc[41, "ci_learned_new"] = np.nan               # blank cell (fine)
    df.loc[42, "clinical_relevance"] = "nonsense"       # invalid level
    df.loc[43, "clinical_relevance"] = "2"              # a level by its code
    df.loc[44, "clinical_relevance"] = ""               # blank level
    df.loc[45, "date"] = "2012-02-30"                   # invalid date
    df.loc[46, "date"] = "2012-03-04T10:00:00"          # valid, with a time
    df.loc[47, "date"] = None                           # no date (fine)
    value_cols = [c for c in df.columns if c not in ("rating_id", "respondent_id", "date",
                                                     "specialty")]
    df.loc[50, value_cols] = None                       # nothing answered
    df.loc[51, "rating_id"] = "r\u00e9-51"              # non-ASCII id (valid)
    return df


def _same(rd, sc) -> None:
    assert sc.summary() == rd.summary()
    assert sc.problems == rd.problems
    pd.testing.assert_frame_equal(sc.quarantine, rd.quarantine)
    assert sc.n_accepted == rd.n_accepted and sc.n_read == rd.n_read


def assert_same_scan(one, dist) -> None:
    """Every count, problem, quarantined row and sufficient statistic identical."""
    assert dist.summary() == one.summary()
    if dist.source["file"] == one.source["file"]:
        assert dist.problems == one.problems
    else:  # the same data under another name (a URL): problems name it
        assert all(p.file == dist.source["file"] for p in dist.problems)
        assert [replace(p, file=None) for p in dist.problems] == \
            [replace(p, file=None) for p in one.problems]
    pd.testing.assert_frame_equal(dist.quarantine, one.quarantine, check_exact=True)
    assert dict(dist.item_counts) == dict(one.item_counts)
    a, b = one.relevance_counts, dist.relevance_counts
    assert np.array_equal(a.respondents, b.respondents)
    assert np.array_equal(a.first_row, b.first_row)
    assert np.array_equal(a.Y, b.Y) and np.array_equal(a.P, b.P)
    ra = relevance_ratios(one, seed=5, n_boot=100)
    rb = relevance_ratios(dist, seed=5, n_boot=100)
    pd.testing.assert_frame_equal(ra.items, rb.items, check_exact=True)


def _same_stats(rd, sc) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        for method in ("bootstrap", "delta"):
            a = relevance_ratios(rd, seed=3, n_boot=50, cluster_method=method)
            b = relevance_ratios(sc, seed=3, n_boot=50, cluster_method=method)
            pd.testing.assert_frame_equal(a.items, b.items, check_exact=True)
            assert (a.n_ratings, a.n_respondents) == (b.n_ratings, b.n_respondents)
    da = item_descriptives(rd)
    db = item_descriptives(sc)
    exact = [c for c in da.items.columns if c != "sd"]
    pd.testing.assert_frame_equal(da.items[exact], db.items[exact], check_exact=True)
    # sd from value counts: the same formula, summed in another order
    np.testing.assert_allclose(db.items["sd"].to_numpy(float), da.items["sd"].to_numpy(float),
                               rtol=1e-13)
    pd.testing.assert_frame_equal(da.distribution, db.distribution, check_exact=True)


def test_clean_export_identical(tmp_path, inst):
    df = generate_iam_ratings(4000, 150, 11)
    p = tmp_path / "iam.parquet"
    df.to_parquet(p)
    rd = inspect_ratings(p, inst)
    sc = scan_ratings(p, inst)
    _same(rd, sc)
    assert sc.source["rows_checked_by_pandas"] == 0
    _same_stats(rd, sc)


def test_faulty_export_identical(tmp_path, inst):
    df = faulty_frame()
    p = tmp_path / "bad.parquet"
    df.to_parquet(p)
    rd = inspect_ratings(p, inst)
    sc = scan_ratings(p, inst)
    assert rd.n_quarantined >= 10
    reasons = {pr.reason for pr in rd.problems}
    assert {"blank_id", "duplicate_id", "invalid_option", "skip_logic", "out_of_range",
            "invalid_level", "invalid_date", "nothing_answered"} <= reasons
    _same(rd, sc)
    assert 0 < sc.source["rows_checked_by_pandas"] < 200
    _same_stats(rd, sc)


def test_folder_of_parts_equals_one_file(tmp_path, inst):
    df = faulty_frame(2400, 9)
    one = tmp_path / "one.parquet"
    df.to_parquet(one)
    parts = tmp_path / "parts"
    parts.mkdir()
    for i, lo in enumerate(range(0, len(df), 700)):
        df.iloc[lo:lo + 700].to_parquet(parts / f"part-{i:03d}.parquet")
    rd = inspect_ratings(one, inst)
    sc = scan_ratings(parts, inst)
    assert sc.source["parts"] == 4
    assert sc.summary() == rd.summary()
    assert [(p.reason, p.row, p.column, p.message) for p in sc.problems] == \
        [(p.reason, p.row, p.column, p.message) for p in rd.problems]
    pd.testing.assert_frame_equal(sc.quarantine.drop(columns=[]), rd.quarantine)
    _same_stats(rd, sc)
    # the pandas engine reads the folder too, with the same result
    rp = read_ratings_any(parts, inst, engine="pandas", inspect=True)
    assert rp.summary() == rd.summary()
    sg = scan_ratings(str(parts / "part-*.parquet"), inst)
    assert sg.summary() == rd.summary()


def test_parts_and_choice(tmp_path, inst):
    assert choose_engine(tmp_path / "x.csv") == "pandas"
    (tmp_path / "a.parquet").write_bytes(b"")
    assert choose_engine(tmp_path) == "duckdb"
    assert ratings_parts(tmp_path) == [str(tmp_path / "a.parquet")]
    with pytest.raises(Exception, match="no files match"):
        ratings_parts(str(tmp_path / "nothing-*.parquet"))


def test_not_applicable_falls_back(tmp_path, inst):
    df = generate_iam_ratings(300, 20, 1).rename(columns={"use_gate": "USE_GATE"})
    p = tmp_path / "renamed.parquet"
    df.to_parquet(p)
    with pytest.raises(EngineNotApplicable):
        scan_ratings(p, inst)
    rd = read_ratings_any(p, inst, engine="duckdb")
    assert rd.source.get("engine") == "pandas"
    assert rd.n_read == 300


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_local_cluster_identical(tmp_path, inst, dask_client):
    from instrval.io.dask_engine import scan_ratings_dask

    df = faulty_frame(3000, 13)
    # a rating id repeated across partitions (rows 100 and 2900 fall in different parts)
    df.loc[2900, "rating_id"] = df.loc[100, "rating_id"]
    parts = tmp_path / "parts"
    parts.mkdir()
    for i, lo in enumerate(range(0, len(df), 600)):
        df.iloc[lo:lo + 600].to_parquet(parts / f"part-{i:03d}.parquet")
    one = scan_ratings(parts, inst)
    dist = scan_ratings_dask(parts, inst, scheduler=dask_client)
    assert dist.engine == "dask" and one.engine == "duckdb"
    assert dist.source["file"] == one.source["file"]
    assert any(p.reason == "duplicate_id" and p.row in (102, 2902) for p in dist.problems)
    assert_same_scan(one, dist)
    rb = relevance_ratios(dist, seed=5, n_boot=100)
    # and both equal the pandas reader on the same rows
    rd = read_ratings_any(parts, inst, engine="pandas", inspect=True)
    assert rd.summary() == dist.summary()
    pd.testing.assert_frame_equal(relevance_ratios(rd, seed=5, n_boot=100).items, rb.items,
                                  check_exact=True)


def test_out_of_memory_retried_with_twice_the_default(tmp_path, inst, monkeypatch):
    """With the default limit, a DuckDB out-of-memory error is retried with twice the
    limit (up to half the machine's memory); a limit the user set is not changed."""
    import instrval.io.engine as engine
    from instrval.errors import RatingsError

    df = generate_iam_ratings(50_000, 800, 11)
    p = tmp_path / "iam.parquet"
    df.to_parquet(p)
    limits = {0: "1MB", 1: "256MB"}  # the first is too small for any GROUP BY
    monkeypatch.setattr(engine, "_default_memory", lambda rows, attempt=0: limits.get(attempt))
    said: list[str] = []
    sc = scan_ratings(p, inst, progress=said.append)
    assert "DuckDB ran out of its memory limit; again with 256MB" in said
    _same(inspect_ratings(p, inst), sc)
    limits.pop(1)  # the cap reached: the error names the variable that raises the limit
    with pytest.raises(RatingsError, match="INSTRVAL_DUCKDB_MEMORY") as e:
        scan_ratings(p, inst)
    assert e.value.problems[0].reason == "too_large"
    monkeypatch.setattr(engine, "_default_memory", lambda rows, attempt=0: "256MB")
    with pytest.raises(RatingsError, match="INSTRVAL_DUCKDB_MEMORY"):
        scan_ratings(p, inst, memory_limit="1MB")  # the user's limit: no second attempt


def test_default_memory_doubles_up_to_half_the_machine():
    from instrval.io.engine import _default_memory, _half_memory_mb

    half = _half_memory_mb()
    assert _default_memory(1_000_000) == "600MB"
    assert _default_memory(100_000_000) == f"{min(3346, max(600, half or 3346))}MB"
    if half is not None and half > 1200:
        assert _default_memory(1_000_000, 1) == "1200MB"
        steps = [_default_memory(1_000_000, a) for a in range(40)]
        assert steps[-1] is None and f"{half}MB" in steps  # capped, then no more attempts
