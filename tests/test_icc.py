"""Tests of instrval.stats.icc against psych::ICC(x, lmer = FALSE)
(tests/fixtures/icc.json, written by tests/fixtures/r/icc.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.stats.icc import ICC_TYPES, icc

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "icc.json").read_text())
TOL = 1e-6  # absolute, every column including the CI bounds
CASES = FIXTURE["cases"]


def _wide(case) -> pd.DataFrame:
    return pd.DataFrame(np.array(case["data"], dtype=float), columns=case["raters"])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_icc_matches_psych(case):
    res = icc(_wide(case), confidence=case["confidence"])
    t = res.table
    exp = case["results"]
    assert list(t["type"]) == exp["type"] == list(ICC_TYPES)
    for col in ("icc", "f", "pvalue", "ci_low", "ci_high"):
        assert_allclose(t[col], exp[col], rtol=0, atol=TOL, err_msg=col)
    assert list(t["df1"]) == exp["df1"]
    assert list(t["df2"]) == exp["df2"]
    assert res.n_targets == case["n_targets"] and res.n_raters == case["n_raters"]


def test_shrout_fleiss_csv_and_published_values(shrout_fleiss):
    sf = shrout_fleiss
    res = icc(sf)
    # Shrout & Fleiss (1979) Table 4: .17 .29 .71 .44 .62 .91
    assert_allclose(res.table["icc"], [0.166, 0.290, 0.715, 0.443, 0.620, 0.909], atol=1e-3)
    assert_allclose(res.table["icc"], CASES[0]["results"]["icc"], rtol=0, atol=TOL)


def test_long_form_equals_wide_form(shrout_fleiss):
    sf = shrout_fleiss
    long = sf.rename_axis("target").reset_index().melt(
        id_vars="target", var_name="judge", value_name="score")
    long = long.sample(frac=1.0, random_state=3)  # order must not matter
    a = icc(long, targets="target", raters="judge", ratings="score").table
    b = icc(sf).table
    assert_allclose(a[["icc", "ci_low", "ci_high", "pvalue"]],
                    b[["icc", "ci_low", "ci_high", "pvalue"]], rtol=1e-12)


def test_missing_ratings(shrout_fleiss):
    sf = shrout_fleiss.astype(float)
    sf.loc["S2", "J3"] = np.nan
    with pytest.raises(StatisticsError, match="first: 'S2'"):
        icc(sf)
    res = icc(sf, nan_policy="omit")
    assert res.targets_dropped == ("S2",) and res.n_targets == 5
    assert_allclose(res.table["icc"], icc(sf.drop(index="S2")).table["icc"], rtol=1e-14)


def test_bad_input():
    long = pd.DataFrame({"t": [1, 1, 2, 2, 2], "r": ["a", "b", "a", "b", "b"],
                         "y": [1, 2, 3, 4, 5]})
    with pytest.raises(StatisticsError, match="target 2 was rated more than once by rater 'b'"):
        icc(long, targets="t", raters="r", ratings="y")
    with pytest.raises(StatisticsError, match="give all of targets="):
        icc(long, targets="t")
    with pytest.raises(StatisticsError, match="'rating' not found"):
        icc(long, targets="t", raters="r", ratings="rating")
    with pytest.raises(StatisticsError, match="confidence must be"):
        icc(pd.DataFrame({"a": [1, 2], "b": [2, 3]}), confidence=95)
    with pytest.raises(StatisticsError, match="at least 2 targets"):
        icc(pd.DataFrame({"a": [1], "b": [2]}))
    with pytest.raises(StatisticsError, match="'x' .* is not a number"):
        icc(pd.DataFrame({"a": [1, 2], "b": ["x", 3]}))


def test_to_dict_is_json_ready(shrout_fleiss):
    sf = shrout_fleiss
    d = icc(sf).to_dict()
    json.dumps(d, allow_nan=False)
    row = d["icc"][1]
    assert set(row) == {"type", "description", "icc", "f", "df1", "df2", "pvalue",
                        "ci_low", "ci_high"}
    assert row["type"] == "ICC2"
    assert isinstance(row["ci_low"], float)
    # full precision, not pingouin's 2-decimal rounding
    assert row["ci_low"] != round(row["ci_low"], 2)


def test_cli_icc_wide_and_long(tmp_path, shrout_fleiss):
    from click.testing import CliRunner

    from instrval.cli import main

    runner = CliRunner()
    r = runner.invoke(main, ["icc", str(HERE / "data" / "shrout_fleiss.csv"), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert_allclose([row["ci_high"] for row in d["icc"]], CASES[0]["results"]["ci_high"],
                    rtol=0, atol=TOL)
    sf = shrout_fleiss
    long = sf.rename_axis("target").reset_index().melt(
        id_vars="target", var_name="judge", value_name="score")
    p = tmp_path / "long.csv"
    long.to_csv(p, index=False)
    r = runner.invoke(main, ["icc", str(p), "--targets", "target", "--raters", "judge",
                             "--ratings", "score"])
    assert r.exit_code == 0, r.output
    assert "ICC3k" in r.output and "0.9093" in r.output
