"""The Dask engine and URL inputs (fsspec): the same result as one machine, bit for bit.

A ``memory://`` filesystem lives in one process: it is read by DuckDB and by a threaded
cluster; ``file://`` URLs are read by a LocalCluster of two worker processes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from instrval.cli import main
from instrval.errors import RatingsError
from instrval.io.engine import choose_engine, ratings_parts, read_ratings_any, scan_ratings
from instrval.io.instrument import read_instrument
from test_engine import _same_stats, assert_same_scan, faulty_frame

pytest.importorskip("duckdb")
distributed = pytest.importorskip("distributed")
fsspec = pytest.importorskip("fsspec")

ROOT = Path(__file__).resolve().parents[1]
IAM = ROOT / "instruments" / "iam" / "iam-2011.yaml"


@pytest.fixture(scope="module")
def inst():
    return read_instrument(IAM)


@pytest.fixture(scope="module")
def threads_client():
    """Two workers in this process (they see the ``memory://`` filesystem)."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


#: (part, row in the part) of rating ids repeated across parts: exactly, once stripped
#: (the second pair), three times (the last three)
DUP_AT = [(0, 60), (8, 70), (2, 61), (5, 62), (3, 63), (6, 64), (7, 65)]


def several_faulty_parts(folder: Path, rows: int = 300) -> pd.DataFrame:
    """Nine parts of ``rows`` rows: three faulty exports one after the other (faults in
    parts 0, 3 and 6), rating ids repeated across parts (:data:`DUP_AT`); respondents
    span the parts."""
    chunks = []
    for i in range(3):
        c = faulty_frame(3 * rows, 40 + i)

        def prefix(v, i=i):
            if v is None:
                return None
            s = str(v)
            return f" c{i}-{s.strip()} " if s != s.strip() else f"c{i}-{s}"

        c["rating_id"] = c["rating_id"].map(prefix).astype(object)
        chunks.append(c)
    df = pd.concat(chunks, ignore_index=True)
    at = [k * rows + j for k, j in DUP_AT]
    df.loc[at[1], "rating_id"] = df.loc[at[0], "rating_id"]
    df.loc[at[3], "rating_id"] = " " + str(df.loc[at[2], "rating_id"]) + " "
    df.loc[at[5], "rating_id"] = df.loc[at[4], "rating_id"]
    df.loc[at[6], "rating_id"] = df.loc[at[4], "rating_id"]
    assert len(df) == 9 * rows
    folder.mkdir(parents=True, exist_ok=True)
    for k, lo in enumerate(range(0, len(df), rows)):
        df.iloc[lo:lo + rows].to_parquet(folder / f"part-{k:03d}.parquet")
    return df


def test_dask_faults_in_several_parts(tmp_path, inst, threads_client):
    from instrval.io.dask_engine import scan_ratings_dask

    parts = tmp_path / "parts"
    several_faulty_parts(parts)
    one = scan_ratings(parts, inst)
    # split_out=4: the nine parts' per-respondent sums shuffled into four partitions
    said: list[str] = []
    dist = scan_ratings_dask(parts, inst, scheduler=threads_client, split_out=4,
                             progress=said.append)
    assert dist.engine == "dask" and dist.source["parts"] == 9
    # progress as the parts finish: the last line counts them all
    done = [line for line in said if line.startswith("parts done: ")]
    assert done and done[-1].startswith("parts done: 9 of 9 (")
    assert_same_scan(one, dist)
    dup_rows = {p.row for p in dist.problems if p.reason == "duplicate_id"}
    # spreadsheet rows: export row + 2; every row of each repeated id is reported
    assert {k * 300 + j + 2 for k, j in DUP_AT} <= dup_rows
    faulty_parts = {(p.row - 2) // 300 for p in dist.problems if p.reason != "duplicate_id"}
    assert {0, 3, 6} <= faulty_parts
    # and the pandas reader on the same rows
    rd = read_ratings_any(parts, inst, engine="pandas", inspect=True)
    assert rd.summary() == dist.summary()
    assert rd.problems == dist.problems
    _same_stats(rd, dist)


def test_dask_one_part(tmp_path, inst, threads_client):
    from instrval.io.dask_engine import scan_ratings_dask

    df = faulty_frame(900, 3)
    df.loc[800, "rating_id"] = df.loc[5, "rating_id"]
    p = tmp_path / "one.parquet"
    df.to_parquet(p)
    assert_same_scan(scan_ratings(p, inst), scan_ratings_dask(p, inst,
                                                               scheduler=threads_client))


@pytest.fixture()
def memory_parts(tmp_path):
    """The parts of :func:`several_faulty_parts` in a ``memory://`` bucket, and locally."""
    local = tmp_path / "parts"
    several_faulty_parts(local, rows=100)
    fs = fsspec.filesystem("memory")
    root = f"/bucket-{uuid.uuid4().hex}/exports"
    for f in sorted(local.iterdir()):
        fs.pipe(f"{root}/{f.name}", f.read_bytes())
    fs.pipe(f"{root}/_SUCCESS", b"")  # markers are skipped, as in a local folder
    yield f"memory://{root}/", local
    fs.rm(root.rsplit("/", 1)[0], recursive=True)


def test_memory_url_every_engine(inst, memory_parts, threads_client):
    from instrval.io.dask_engine import scan_ratings_dask

    url, local = memory_parts
    assert len(ratings_parts(url)) == 9
    assert ratings_parts(url)[0].startswith("memory://")
    assert choose_engine(url) == "duckdb"
    one = scan_ratings(local, inst)
    by_url = scan_ratings(url, inst)
    assert by_url.source["file"] == url
    assert_same_scan(one, by_url)
    assert_same_scan(one, scan_ratings(url + "part-*.parquet", inst))
    assert_same_scan(one, scan_ratings_dask(url, inst, scheduler=threads_client))
    rd = read_ratings_any(url, inst, engine="pandas", inspect=True)
    assert rd.source["engine"] == "pandas" and rd.summary() == one.summary()
    assert [replace(p, file=None) for p in rd.problems] == \
        [replace(p, file=None) for p in one.problems]
    one_file = url + "part-002.parquet"
    assert read_ratings_any(one_file, inst, inspect=True).n_read == 100


def test_file_url_on_worker_processes(tmp_path, inst):
    """``--scheduler local``: a LocalCluster of two worker processes reads file:// URLs."""
    from instrval.io.dask_engine import scan_ratings_dask

    parts = tmp_path / "parts"
    several_faulty_parts(parts, rows=100)
    url = parts.as_uri() + "/"
    one = scan_ratings(parts, inst)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    try:
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
            dist = scan_ratings_dask(url, inst, scheduler=client,
                                     storage_options={"auto_mkdir": False})
    finally:
        cluster.close()
    assert dist.source["file"] == url
    assert_same_scan(one, dist)


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_cli_url_and_storage_options(tmp_path):
    parts = tmp_path / "parts"
    several_faulty_parts(parts, rows=100)
    url = parts.as_uri() + "/"
    got = {}
    for name, data, extra in (("local", parts, ()),
                              ("url", url, ("--storage-option", "auto_mkdir=false"))):
        r = run("ratings", "check", data, "--instrument", IAM, "--json", *extra)
        assert r.exit_code == 0, r.output
        got[name] = json.loads(r.stdout)
        r = run("relevance", data, "--instrument", IAM, "--json", "--seed", "3",
                "--bootstrap", "50", *extra)
        assert r.exit_code == 0, r.output
        got[name + "-relevance"] = json.loads(r.stdout)
    assert got["local"] == got["url"]
    assert got["local-relevance"] == got["url-relevance"]
    r = CliRunner().invoke(main, ["ratings", "check", url, "--instrument", str(IAM),
                                  "--storage-option", "novalue"])
    assert r.exit_code != 0 and "KEY=VALUE" in r.output


def test_cli_report_from_url(tmp_path):
    parts = tmp_path / "parts"
    several_faulty_parts(parts, rows=100)
    url = parts.as_uri() + "/"
    got = {}
    for name, data in (("local", parts), ("url", url)):
        out = tmp_path / name
        r = run("report", "--instrument", IAM, "--ratings", data, "--engine", "duckdb",
                "--out", out, "--timestamp", "2024-01-01T00:00:00Z", "--seed", "2", "-q")
        assert r.exit_code == 0, r.output
        got[name] = json.loads((out / "results.json").read_text())
    a, b = got["local"], got["url"]
    ia, ib = a.pop("inputs"), b.pop("inputs")
    assert ib["ratings"]["file"] == url and ib["ratings"]["parts"] == 9
    assert len(ib["ratings"]["sha256"]) == 64 and ib["ratings"]["bytes"] == \
        ia["ratings"]["bytes"]
    assert ib["ratings"]["rows_read"] == ia["ratings"]["rows_read"] == 900
    a.pop("study", None), b.pop("study", None)
    assert a["relevance"] == b["relevance"] and a["summary"] == b["summary"]
    assert (tmp_path / "local" / "quarantine.csv").read_bytes() == \
        (tmp_path / "url" / "quarantine.csv").read_bytes()


def test_url_errors(inst, tmp_path):
    import importlib.util

    if importlib.util.find_spec("s3fs") is None:
        with pytest.raises(RatingsError, match="s3fs") as e:
            read_ratings_any("s3://bucket/exports/", inst)
        assert e.value.problems[0].reason == "missing_dependency"
    with pytest.raises(RatingsError, match="Protocol not known") as e:
        read_ratings_any("nosuchfs://x/y.parquet", inst)
    with pytest.raises(RatingsError, match="no such file or folder"):
        read_ratings_any(f"memory://nothing-{uuid.uuid4().hex}/x.parquet", inst)
    with pytest.raises(RatingsError, match="http"):
        ratings_parts("https://example.org/exports/")
    csv = tmp_path / "r.csv"
    csv.write_text("rating_id,respondent_id\nr1,c1\n")
    with pytest.raises(RatingsError, match="must be Parquet") as e:
        read_ratings_any(csv.as_uri(), inst)
    assert e.value.problems[0].file == csv.as_uri()


def test_url_keeps_parquet_bounds(inst, memory_parts, monkeypatch):
    url, _ = memory_parts
    monkeypatch.setenv("INSTRVAL_MAX_MEMORY_BYTES", "100000")
    with pytest.raises(RatingsError, match="INSTRVAL_MAX_MEMORY_BYTES") as e:
        read_ratings_any(url, inst, engine="pandas")
    assert e.value.problems[0].reason == "too_large"
    monkeypatch.delenv("INSTRVAL_MAX_MEMORY_BYTES")
    monkeypatch.setenv("INSTRVAL_MAX_PARQUET_RATIO", "1.5")
    with pytest.raises(RatingsError, match="decompression bomb") as e:
        scan_ratings(url, inst)
    assert e.value.problems[0].reason == "decompression_bomb"
