"""Every item-data command reads a folder of Parquet parts, a glob and a file:// URL as it
reads the same rows from one file: the parts are concatenated in name order with the
pandas reader, within the memory limit."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
STAI = ROOT / "examples/stai-trait"
INST = STAI / "stai-trait-1.0.yaml"
ITEMS = "pleasant,nervous,not_satisfied,wish_happy,failure"


@pytest.fixture(scope="module")
def stai(tmp_path_factory):
    d = tmp_path_factory.mktemp("parts")
    df = pd.read_csv(STAI / "tai.csv").head(400).dropna()
    df.to_csv(d / "wide.csv", index=False)
    (d / "parts").mkdir()
    for i, lo in enumerate(range(0, len(df), 100)):
        df.iloc[lo:lo + 100].to_parquet(d / "parts" / f"part-{i}.parquet", index=False)
    (d / "parts" / "_SUCCESS").write_text("")
    return d


def _json(run_cli, *args):
    r = run_cli(*args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize("command,extra", [
    ("efa", ["--factors", "1"]), ("factors", ["--iterations", "5", "--seed", "1"]),
    ("omega", ["--factors", "2"]), ("cfa", []), ("reliability", [])])
def test_instrument_commands_read_parts(run_cli, stai, command, extra):
    one = _json(run_cli, command, stai / "wide.csv", "--instrument", INST, *extra)
    for data in (stai / "parts", str(stai / "parts" / "part-*.parquet"),
                 (stai / "parts").as_uri() + "/"):
        assert _json(run_cli, command, data, "--instrument", INST, *extra) == one


@pytest.mark.parametrize("command,extra", [
    ("correlations", ["--method", "polychoric"]), ("reliability", []),
    ("efa", ["--factors", "1"])])
def test_plain_table_commands_read_parts(run_cli, stai, command, extra):
    one = _json(run_cli, command, stai / "wide.csv", "--items", ITEMS, *extra)
    assert _json(run_cli, command, stai / "parts", "--items", ITEMS, *extra) == one


def test_parts_past_the_memory_limit_are_refused(run_cli, stai, monkeypatch):
    monkeypatch.setenv("INSTRVAL_MAX_MEMORY_BYTES", "50000")
    r = run_cli("efa", stai / "parts", "--instrument", INST, "--factors", "1")
    assert r.exit_code == 1
    assert "4 part(s) hold 394 rows" in r.output and "INSTRVAL_MAX_MEMORY_BYTES" in r.output
    r = run_cli("correlations", stai / "parts", "--items", ITEMS)
    assert r.exit_code == 1 and "INSTRVAL_MAX_MEMORY_BYTES" in r.output


def test_folder_without_parts(run_cli, tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    r = run_cli("correlations", tmp_path)
    assert r.exit_code == 1 and "holds no Parquet parts" in r.output
