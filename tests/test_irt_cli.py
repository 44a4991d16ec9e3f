"""`instrval irt`: the command calls irt() and prints its JSON (checked against eRm in
tests/test_irt.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from instrval.stats.irt import irt

HERE = Path(__file__).parent
ERM = {c["name"]: c for c in json.loads((HERE / "fixtures" / "irt_erm.json").read_text())["cases"]}
BFI = HERE / "data" / "bfi.csv"
INSTRUMENT = HERE.parent / "instruments" / "bfi" / "bfi-1.0.yaml"


def test_rasch_json_matches_erm(cli_json: Callable[..., Any]) -> None:
    d = cli_json("irt", HERE / "data" / "raschdat1.csv", "--model", "rasch", "--json")
    case = ERM["raschdat1"]
    assert d["model"] == "rasch" and d["n"] == 100
    assert_allclose(d["loglik"], case["loglik"], atol=1e-3)
    assert_allclose([it["difficulty"] for it in d["items"]], -np.asarray(case["betapar"]),
                    atol=1e-3)
    assert_allclose([it["infit"] for it in d["items"]], case["itemfit"]["infit"], atol=1e-3)
    assert_allclose(d["lr_test"]["lr"], case["lrtest"]["lr"], atol=1e-3)
    assert d["items"][0]["thresholds"] is None and d["items"][0]["a"] is None
    assert len(d["scores"]) == 100


def test_items_option_and_tables(run_cli: Callable[..., Any]) -> None:
    out = run_cli("irt", BFI, "--items", "N1,N2,N3,N4,N5", "--model", "pcm", "--no-lr-test")
    assert out.exit_code == 0, out.output
    assert "Thresholds" in out.output and "Misfit rule" in out.output


def test_instrument_construct_reverses_keys(cli_json: Callable[..., Any], bfi: pd.DataFrame
                                            ) -> None:
    d = cli_json("irt", BFI, "--instrument", INSTRUMENT, "--construct", "agreeableness",
                 "--model", "rsm", "--no-lr-test", "--no-scores", "--json")
    assert d["scores"] is None
    df = bfi[["A1", "A2", "A3", "A4", "A5"]].copy()
    df["A1"] = 7 - df["A1"]   # reverse-keyed on the 1-6 scale
    res = irt(df, model="rsm", lr_test=False)
    assert_allclose([it["location"] for it in d["items"]], res.items["location"], rtol=1e-10)


def test_bad_model_data_is_a_clean_error(run_cli: Callable[..., Any]) -> None:
    out = run_cli("irt", BFI, "--items", "N1,N2", "--model", "rasch")
    assert out.exit_code == 1
    assert "binary items" in out.output and "Traceback" not in out.output


def test_warnings_name_their_construct(run_cli: Callable[..., Any]) -> None:
    """Fitting every construct of an instrument, a warning says which construct it is about:
    two of ICAR-16's four subscales have no Andersen LR test (the median split leaves too few
    items with both answers in both groups), the other two have one."""
    icar = HERE.parent / "examples" / "icar-ability"
    out = run_cli("irt", icar / "ability.csv", "--instrument", icar / "icar16-1.0.yaml",
                  "--model", "rasch", "--no-scores", "--json")
    assert out.exit_code == 0, out.output
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("Warning:")]
    assert lines == [f"Warning: construct {c}: Andersen's LR test: fewer than 2 items have "
                     "every category in both score groups; the test is left out (lr_test is "
                     "null)" for c in ("verbal_reasoning", "rotation")]
    d = json.loads(out.stdout)["constructs"]
    assert [c for c, r in d.items() if r["lr_test"] is None] == ["verbal_reasoning", "rotation"]


def test_unknown_construct_names_the_known_ones(run_cli: Callable[..., Any]) -> None:
    out = run_cli("irt", BFI, "--instrument", INSTRUMENT, "--construct", "nope")
    assert out.exit_code == 1
    assert "unknown construct 'nope'; the instrument has: agreeableness, " in out.output
    assert "Traceback" not in out.output
