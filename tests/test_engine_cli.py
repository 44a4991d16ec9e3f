"""`--engine` on ratings check, relevance and report: the same output from every engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from instrval.cli import main

pytest.importorskip("duckdb")

ROOT = Path(__file__).resolve().parents[1]
IAM = str(ROOT / "instruments" / "iam" / "iam-2011.yaml")


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    from test_engine import faulty_frame

    d = tmp_path_factory.mktemp("parts")
    df = faulty_frame(2500, 21)
    for i, lo in enumerate(range(0, len(df), 1000)):
        df.iloc[lo:lo + 1000].to_parquet(d / f"part-{i}.parquet")
    return d


def test_check_engines_agree(parts, tmp_path):
    out = {}
    for engine in ("pandas", "duckdb"):
        q = tmp_path / f"q-{engine}.csv"
        r = run("ratings", "check", parts, "--instrument", IAM, "--engine", engine, "--json",
                "--quarantine", q)
        assert r.exit_code == 0, r.output
        out[engine] = json.loads(r.stdout)
        assert "scanning" not in r.output  # --json: no progress lines
        assert out[engine]["quarantined"] > 5
    assert out["pandas"] == out["duckdb"]
    assert (tmp_path / "q-pandas.csv").read_bytes() == (tmp_path / "q-duckdb.csv").read_bytes()


def test_check_text_shows_progress(parts):
    r = CliRunner().invoke(main, ["ratings", "check", str(parts), "--instrument", IAM,
                                  "--engine", "duckdb"])
    assert r.exit_code == 0, r.output
    assert "scanning 2,500 ratings in 3 part(s) with DuckDB" in r.output
    assert "quarantined:" in r.output


def test_relevance_engines_agree(parts):
    res = {}
    for engine in ("pandas", "duckdb"):
        r = run("relevance", parts, "--instrument", IAM, "--engine", engine, "--json",
                "--seed", "4", "--bootstrap", "60")
        assert r.exit_code == 0, r.output
        res[engine] = json.loads(r.stdout)
    assert res["pandas"] == res["duckdb"]


def test_report_engines_agree(parts, tmp_path):
    got = {}
    for engine in ("pandas", "duckdb"):
        out = tmp_path / engine
        r = run("report", "--instrument", IAM, "--ratings", parts, "--engine", engine,
                "--out", out, "--timestamp", "2024-01-01T00:00:00Z", "--seed", "2", "-q")
        assert r.exit_code == 0, r.output
        got[engine] = json.loads((out / "results.json").read_text())
    a, b = got["pandas"], got["duckdb"]
    for x, y in zip(a["descriptives"]["items"], b["descriptives"]["items"], strict=True):
        # the SD from value counts is summed in another order than row by row
        assert x.pop("sd") == pytest.approx(y.pop("sd"), rel=1e-13)
    assert a == b  # everything else, relevance and decisions included, is identical
    assert (tmp_path / "pandas" / "quarantine.csv").read_bytes() == \
        (tmp_path / "duckdb" / "quarantine.csv").read_bytes()


def test_generate_parts_equal_one_file(tmp_path):
    for extra in ([], ["--part-rows", "1500"]):
        r = run("ratings", "generate-iam", "--out", tmp_path, "--n-ratings", 4000,
                "--n-respondents", 90, "--format", "parquet", *extra)
        assert r.exit_code == 0, r.output
    parts = tmp_path / "iam-ratings-2012-parts"
    assert sorted(p.name for p in parts.iterdir()) == [
        "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    one = json.loads(run("ratings", "check", tmp_path / "iam-ratings-2012.parquet",
                         "--instrument", IAM, "--json").stdout)
    many = json.loads(run("ratings", "check", parts, "--instrument", IAM, "--json").stdout)
    assert one == many and one["read"] == 4000 and one["respondents"] == 90
