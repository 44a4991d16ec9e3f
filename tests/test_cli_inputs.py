"""The analysis commands read what `ratings check` reads: --format, --mapping and
--dictionary (with --instrument), Parquet and long exports; and one helpful error when
`reliability` gets a file with text columns and no --items."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

ROOT = Path(__file__).resolve().parents[1]
STAI = ROOT / "examples/stai-trait"
INST = STAI / "stai-trait-1.0.yaml"


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    df = pd.read_csv(STAI / "tai.csv").head(400).dropna()
    df.to_csv(d / "wide.csv", index=False)
    return d, df


def _alpha(run_cli, *args):
    r = run_cli("reliability", *args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["constructs"]["trait_anxiety"]["alpha"]


def test_long_parquet_and_mapped_exports_give_the_same_alpha(run_cli, wide):
    d, df = wide
    base = _alpha(run_cli, d / "wide.csv", "--instrument", INST)
    items = [c for c in df.columns if c not in ("rating_id", "respondent_id", "study")]
    long = df.melt(id_vars=["rating_id", "respondent_id"], value_vars=items,
                   var_name="item_id", value_name="value")
    long.to_csv(d / "long.csv", index=False)
    assert_allclose(_alpha(run_cli, d / "long.csv", "--instrument", INST, "--format", "long"),
                    base, rtol=1e-12)
    df.to_parquet(d / "wide.parquet", index=False)
    assert_allclose(_alpha(run_cli, d / "wide.parquet", "--instrument", INST), base,
                    rtol=1e-12)
    renamed = df.rename(columns={c: f"Q{i}" for i, c in enumerate(items, 1)})
    renamed.to_csv(d / "renamed.csv", index=False)
    (d / "mapping.yaml").write_text(
        'mapping_version: "1.0"\ninstrument: stai-trait@1.0\ncolumns:\n'
        + "".join(f"  Q{i}: {c}\n" for i, c in enumerate(items, 1)) + "groups: [study]\n")
    assert_allclose(_alpha(run_cli, d / "renamed.csv", "--instrument", INST, "--mapping",
                           d / "mapping.yaml"), base, rtol=1e-12)


@pytest.mark.parametrize("command,extra", [
    ("efa", ["--factors", "1"]), ("factors", ["--iterations", "5", "--seed", "1"]),
    ("omega", ["--factors", "2"]), ("cfa", [])])
def test_factor_commands_read_exports(run_cli, wide, command, extra):
    d, df = wide
    items = [c for c in df.columns if c not in ("rating_id", "respondent_id", "study")]
    long = df.melt(id_vars=["rating_id", "respondent_id"], value_vars=items,
                   var_name="item_id", value_name="value")
    long.to_csv(d / "long2.csv", index=False)
    a = run_cli(command, d / "wide.csv", "--instrument", INST, *extra, "--json")
    b = run_cli(command, d / "long2.csv", "--instrument", INST, "--format", "long", *extra,
                "--json")
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    assert json.loads(a.stdout) == json.loads(b.stdout)


def test_export_options_need_an_instrument(run_cli, wide):
    d, _ = wide
    r = run_cli("efa", d / "wide.csv", "--factors", "1", "--format", "wide")
    assert r.exit_code == 2 and "give --instrument" in r.output


def test_reliability_without_items_gives_one_error(run_cli):
    r = run_cli("reliability", STAI / "tai.csv")
    assert r.exit_code == 1
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) <= 3, r.output
    assert "--items" in r.output and "--instrument" in r.output
    assert "rating_id" in r.output


def test_omega_default_is_the_number_of_constructs(run_cli):
    bfi = ROOT / "tests/data/bfi.csv"
    inst = ROOT / "instruments/bfi/bfi-1.0.yaml"
    a = json.loads(run_cli("omega", bfi, "--instrument", inst, "--json").stdout)
    b = json.loads(run_cli("omega", bfi, "--instrument", inst, "--factors", "5",
                           "--json").stdout)
    assert a == b


def test_one_construct_in_the_singular(run_cli):
    r = run_cli("instrument", "check", INST)
    assert r.exit_code == 0 and "1 construct," in r.output and "1 constructs" not in r.output
