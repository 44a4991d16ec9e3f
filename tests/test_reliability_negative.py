"""Cronbach's alpha on items that point in opposite directions, against psych::alpha
(tests/fixtures/reliability_negative.json, written by
tests/fixtures/r/reliability_negative.R): a negative alpha is returned (not an error),
r.cor is NaN where psych's is, and the items to reverse are named (psych's check.keys
advice)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from instrval.errors import DataQualityWarning
from instrval.stats.reliability import cronbach_alpha

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "reliability_negative.json").read_text())
TOL = 1e-6


def _list(v):
    return [v] if isinstance(v, str) else list(v)


def _nan(vals):
    return np.array([np.nan if v is None else v for v in _list(vals)], dtype=float)


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=lambda c: "-".join(c["items"]))
def test_alpha_on_opposite_items_matches_psych(bfi, case):
    items = _list(case["items"])
    with pytest.warns(DataQualityWarning, match="probably should be reversed") as rec:
        res = cronbach_alpha(bfi, items=items)
    assert_allclose(res.alpha, case["total"]["raw_alpha"], atol=TOL)
    assert_allclose(res.std_alpha, case["total"]["std_alpha"], atol=TOL)
    assert_allclose(res.items["r_cor"].to_numpy(), _nan(case["item_stats"]["r_cor"]),
                    atol=TOL, equal_nan=True)
    assert_allclose(res.items["r_drop"].to_numpy(), _nan(case["item_stats"]["r_drop"]),
                    atol=TOL)
    want = _list(case["negatively_keyed"])
    assert list(res.check_keys) == want
    msg = str(rec[0].message)
    assert all(i in msg for i in want) and "check.keys" in msg
    assert res.to_dict()["check_keys"] == want


def test_same_direction_items_give_no_advice(bfi):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        res = cronbach_alpha(bfi, items=["A1", "A2", "A3"], reverse=["A1"])
    assert res.check_keys == ()


def test_cli_negative_alpha_reports_and_advises(run_cli):
    r = run_cli("reliability", str(HERE / "data" / "bfi.csv"), "--items", "A1,A2", "--json")
    assert r.exit_code == 0, r.output
    assert "internal error" not in r.output
    d = json.loads(r.stdout)
    assert_allclose(d["alpha"], FIXTURE["cases"][1]["total"]["raw_alpha"], atol=TOL)
    assert d["check_keys"] == ["A1"]
    assert "probably should be reversed" in r.stderr
