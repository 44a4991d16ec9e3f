"""Tests of instrval.stats.measurement_error against psych::ICC (variance components with
lmer = TRUE, ICCs with lmer = FALSE), t.test and Bland & Altman's formulas
(tests/fixtures/measurement_error.json, written by tests/fixtures/r/measurement_error.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.io.instrument import read_instrument
from instrval.stats.measurement_error import retest

HERE = Path(__file__).parent
ROOT = HERE.parent
FIX = {c["name"]: c for c in
       json.loads((HERE / "fixtures" / "measurement_error.json").read_text())["cases"]}
REPEATED = ROOT / "examples" / "stai6" / "data" / "stai-repeated.csv"
TOL = 1e-10
# lme4's REML optimiser stops up to 4e-5 from the ANOVA estimators (4 respondents);
# the exact check is against the mean squares above (TOL)
TOL_LMER = 1e-4


def _long(case) -> pd.DataFrame:
    n = len(case["first"])
    return pd.DataFrame({"id": list(case["ids"]) * 2, "t": [1] * n + [2] * n,
                         "s": list(case["first"]) + list(case["second"])})


def _check(row, case):
    for col in ("var_subject", "var_time", "var_error", "sem_agreement", "sem_consistency",
                "sdc_individual", "sdc_group"):
        assert_allclose(row[col], case[col], rtol=0, atol=TOL, err_msg=col)
    for col in ("var_subject", "var_time", "var_error"):
        assert_allclose(row[col], case["lmer"][col], rtol=TOL_LMER, atol=TOL_LMER, err_msg=col)
    for col in ("icc_agreement", "icc_consistency", "mean_diff", "sd_diff", "loa_low",
                "loa_high"):
        assert_allclose(row[col], case[col], rtol=0, atol=TOL, err_msg=col)
    assert_allclose([row["icc_agreement_ci_low"], row["icc_agreement_ci_high"]],
                    case["icc_agreement_ci"], atol=1e-8)
    assert_allclose([row["mean_diff_ci_low"], row["mean_diff_ci_high"]], case["mean_diff_ci"],
                    atol=TOL)
    assert_allclose([row["loa_low_ci_low"], row["loa_low_ci_high"]], case["loa_low_ci"],
                    atol=TOL)
    assert_allclose([row["loa_high_ci_low"], row["loa_high_ci_high"]], case["loa_high_ci"],
                    atol=TOL)
    assert row["n"] == case["n"]


@pytest.mark.parametrize("name", ["small", "stai6_control"])
def test_retest_from_scores_matches_r(name):
    case = FIX[name]
    r = retest(_long(case), id="id", time="t", score="s", mic="half_sd")
    row = r.table.iloc[0]
    _check(row, case)
    assert_allclose(row["mic"], case["half_sd"], atol=TOL)
    assert row["sdc_below_mic"] == bool(case["sdc_individual"] < case["half_sd"])
    assert r.times == (1, 2)


def test_small_case_by_hand():
    # d = (1, -1, 1, 2): MSE = var(d)/2 = 0.791667, MSJ = 1.125, var_time = 0.083333
    r = retest(_long(FIX["small"]), id="id", time="t", score="s").table.iloc[0]
    assert_allclose(r["var_error"], 4.75 / 3 / 2)
    assert_allclose(r["var_time"], (1.125 - 4.75 / 6) / 4)
    assert_allclose(r["sem_agreement"], np.sqrt(0.875))


def test_retest_scores_items_from_instrument():
    """The STAI-6 control studies scored from the items (instrument reverse keys, psych's
    rule min_items=0) give R's numbers."""
    inst = read_instrument(ROOT / "instruments" / "stai6" / "stai6-1.0.yaml")
    d = pd.read_csv(REPEATED)
    d = d[d["design"] == "control"]
    r = retest(d, id="respondent_id", time="time", instrument=inst, min_items=0)
    _check(r.table.iloc[0], FIX["stai6_control"])
    assert r.table["scale"].tolist() == ["stai6"]
    assert "mean of the items answered" in r.score_rule
    out = r.to_dict()
    assert out["scales"][0]["n"] == FIX["stai6_control"]["n"]
    assert out["times"] == ["1", "2"]
    # the respondents without two scores are listed
    assert len(r.respondents_dropped) == d["respondent_id"].nunique() - r.table["n"].iloc[0]


def test_mic_given_per_scale():
    r = retest(_long(FIX["small"]), id="id", time="t", score="s", mic={"s": 5.0})
    assert r.table["mic"].iloc[0] == 5.0 and bool(r.table["sdc_below_mic"].iloc[0])
    assert r.mic_source == "given"


def test_retest_errors():
    d = _long(FIX["small"])
    with pytest.raises(StatisticsError, match="column 'when' not found"):
        retest(d, id="id", time="when", score="s")
    with pytest.raises(StatisticsError, match="needs two"):
        retest(d[d["t"] == 1], id="id", time="t", score="s")
    dup = pd.concat([d, d.iloc[[0]]])
    with pytest.raises(StatisticsError, match="more than one row"):
        retest(dup, id="id", time="t", score="s")
    with pytest.raises(StatisticsError, match="at least 3"):
        retest(d.iloc[[0, 1, 4, 5]], id="id", time="t", score="s")
    with pytest.raises(StatisticsError, match="mic must be"):
        retest(d, id="id", time="t", score="s", mic=-1)
    with pytest.raises(StatisticsError, match="score= columns"):
        retest(d, id="id", time="t")
