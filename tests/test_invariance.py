"""Multi-group measurement invariance (ML) against R lavaan 0.6.14 and semTools 0.5.6.

Reference values: tests/fixtures/invariance.json, written by tests/fixtures/r/invariance.R
(Holzinger & Swineford by school, three factors; bfi by gender, agreeableness and
conscientiousness): the four group.equal levels' fit measures, lavTestLRT, semTools
compareFit, the parameter estimates of the configural and scalar models, lavTestScore's
univariate score tests and a partial-invariance model (group.partial).

Tolerances: fit measures rtol 1e-6 (SRMR 1e-5, RMSEA interval 1e-5: lavaan's uniroot);
estimates and SEs atol 1e-4; score tests atol 1e-4 (lavaan's optimum is precise to about
1e-5 in the estimates, which moves the score statistics by up to 4e-5).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose

import instrval
from instrval.errors import StatisticsError
from instrval.stats.sem.invariance import LEVELS, measurement_invariance, score_tests

HERE = Path(__file__).parent
FIX = json.loads((HERE / "fixtures" / "invariance.json").read_text())
CASES = ["hs_school", "bfi_gender"]
FIT_MAP = {"chi2": "chisq", "df": "df", "pvalue": "pvalue", "cfi": "cfi", "tli": "tli",
           "rmsea": "rmsea", "rmsea_ci_low": "rmsea.ci.lower",
           "rmsea_ci_high": "rmsea.ci.upper", "aic": "aic", "bic": "bic", "loglik": "logl",
           "baseline_chi2": "baseline.chisq", "baseline_df": "baseline.df", "npar": "npar",
           "n": "ntotal"}


def _data(key, hs, bfi):
    if key == "hs_school":
        return hs
    d = bfi.copy()
    d["gender"] = np.where(d["gender"] == 1, "male", "female")
    return d


@pytest.fixture(scope="module")
def results(hs, bfi):
    out = {}
    for key in CASES:
        ref = FIX[key]
        out[key] = measurement_invariance(_data(key, hs, bfi), ref["model"],
                                          group=ref["group"])
    return out


@pytest.mark.parametrize("key", CASES)
def test_groups_in_order_of_appearance(results, key):
    assert dict(results[key].groups) == FIX[key]["groups"]
    assert list(results[key].groups) == list(FIX[key]["groups"])


@pytest.mark.parametrize("key", CASES)
@pytest.mark.parametrize("level", list(LEVELS))
def test_level_fit_matches_lavaan(results, key, level):
    sol = results[key].fits[level]
    ref = FIX[key]["levels"][level]
    assert sol.converged
    for ours, theirs in FIT_MAP.items():
        rtol = 1e-5 if ours.startswith("rmsea_ci") else 1e-6
        assert_allclose(sol.fit[ours], ref[theirs], rtol=rtol, atol=1e-12, err_msg=ours)
    assert_allclose(sol.fit["srmr"], ref["srmr"], rtol=1e-5)


@pytest.mark.parametrize("key", CASES)
def test_levels_table_matches_lavtestlrt_and_comparefit(results, key):
    lv = results[key].levels
    ref = FIX[key]
    assert list(lv["level"]) == list(LEVELS)
    assert_allclose(lv["delta_chi2"][1:], ref["lrt"]["chisq_diff"][1:], rtol=1e-6)
    assert_allclose(lv["delta_df"][1:], ref["lrt"]["df_diff"][1:], rtol=0)
    assert_allclose(lv["delta_pvalue"][1:], ref["lrt"]["p"][1:], rtol=1e-5)
    cfi, rmsea = np.array(ref["compare_fit"]["cfi"]), np.array(ref["compare_fit"]["rmsea"])
    assert_allclose(lv["delta_cfi"][1:], np.diff(cfi), atol=1e-8)
    assert_allclose(lv["delta_rmsea"][1:], np.diff(rmsea), atol=1e-8)
    assert lv.loc[0, ["delta_chi2", "delta_cfi"]].isna().all()


@pytest.mark.parametrize("key", CASES)
@pytest.mark.parametrize("level", ["configural", "scalar"])
def test_parameters_match_lavaan(results, key, level):
    ours = results[key].fits[level].parameters
    ref = pd.DataFrame(FIX[key]["params"][level])
    m = ref.merge(ours, on=["lhs", "op", "rhs", "group"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
    assert_allclose(m["estimate"], m["est"], atol=1e-4)
    free = m["free"].to_numpy(dtype=bool)
    assert_allclose(m.loc[free, "se_y"], m.loc[free, "se_x"], atol=1e-4)


@pytest.mark.parametrize("key", CASES)
@pytest.mark.parametrize("level", ["metric", "scalar"])
def test_score_tests_match_lavtestscore(results, key, level):
    ours = score_tests(results[key].fits[level])
    ref = pd.DataFrame(FIX[key]["score"][level])
    ref["parameter"] = [f"{a}~1" if o == "~1" else f"{a}{o}{b}"
                        for a, o, b in zip(ref["lhs"], ref["op"], ref["rhs"], strict=True)]
    m = ref.merge(ours, on="parameter", how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
    assert_allclose(m["chi2"], m["X2"], atol=1e-4)
    assert_allclose(m["pvalue"], m["p.value"], atol=1e-4)


def test_partial_invariance_matches_group_partial(hs):
    ref = FIX["hs_school"]
    res = measurement_invariance(hs, ref["model"], group="school",
                                 group_partial=ref["partial"]["free"],
                                 levels=("configural", "metric", "scalar"))
    sol = res.fits["scalar"]
    for ours, theirs in FIT_MAP.items():
        rtol = 1e-5 if ours.startswith("rmsea_ci") else 1e-6
        assert_allclose(sol.fit[ours], ref["partial"]["fit"][theirs], rtol=rtol, err_msg=ours)
    freed = res.partial[res.partial["freed"]]
    assert list(freed["parameter"]) == ["x3~1", "x7~1"]
    # the freed intercepts are no longer release candidates
    cand = res.partial[~res.partial["freed"] & (res.partial["level"] == "scalar")]
    assert not set(cand["parameter"]) & {"x3~1", "x7~1"}


def test_partial_lists_largest_release_first(results):
    p = results["hs_school"].partial
    sc = p[p["level"] == "scalar"]
    assert sc["chi2"].is_monotonic_decreasing
    # x3's intercept is the constraint whose release most improves the scalar model
    assert sc.iloc[0]["parameter"] == "x3~1"
    assert set(sc["parameter"]) == {f"x{i}~1" for i in range(1, 10)}


def test_holds_follows_the_stated_criteria(results):
    bfi = results["bfi_gender"].levels
    # configural CFI .910 >= .90 and RMSEA .072 <= .08; every delta CFI >= -.010 and
    # delta RMSEA <= .015
    assert list(bfi["holds"]) == [True, True, True, True]
    hs = results["hs_school"].levels
    # configural RMSEA .097 > .08: nothing above it holds either
    assert list(hs["holds"]) == [False, False, False, False]


def test_criteria_can_be_changed(hs):
    ref = FIX["hs_school"]
    res = measurement_invariance(hs, ref["model"], group="school",
                                 criteria={"configural_rmsea_max": 0.10})
    lv = res.levels
    # metric: dCFI -.0025, dRMSEA -.004 -> holds; scalar: dCFI -.0385 < -.010 -> fails
    assert list(lv["holds"]) == [True, True, False, False]
    with pytest.raises(StatisticsError, match="unknown criterion"):
        measurement_invariance(hs, ref["model"], group="school", criteria={"cfi": 0.9})


def test_to_dict_has_exactly_the_documented_shape(results):
    d = results["hs_school"].to_dict()
    assert list(d) == ["groups", "estimator", "levels", "partial"]
    assert d["groups"] == {"Pasteur": 156, "Grant-White": 145}
    assert d["estimator"] == "ml"
    assert [set(r) for r in d["levels"]] == [{
        "level", "chi2", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "delta_chi2",
        "delta_df", "delta_pvalue", "delta_cfi", "delta_rmsea", "holds"}] * 4
    assert [r["level"] for r in d["levels"]] == ["configural", "metric", "scalar", "strict"]
    assert d["levels"][0]["delta_chi2"] is None
    assert "NaN" not in json.dumps(d)
    assert results["hs_school"].to_frame().shape == (4, 14)


def test_exported_from_package():
    assert instrval.measurement_invariance is measurement_invariance


def test_mapping_model_and_instrument_equal_syntax(hs, results):
    res = measurement_invariance(hs, {"visual": ["x1", "x2", "x3"],
                                      "textual": ["x4", "x5", "x6"],
                                      "speed": ["x7", "x8", "x9"]}, group="school",
                                 levels=("configural", "metric"))
    assert_allclose(res.levels["chi2"], results["hs_school"].levels["chi2"][:2], rtol=1e-9)


@pytest.mark.parametrize("kwargs,msg", [
    ({"group": "nope"}, "group column 'nope' is not in the data"),
    ({"group": "school", "group_partial": ["x10~1"]}, "x10~1 not parameters of the model"),
    ({"group": "school", "group_partial": ["x1"]}, "cannot read the parameter"),
    ({"group": "school", "levels": ("metric",)}, "levels must be a prefix"),
    ({"group": "school", "estimator": "wls"}, "not available for invariance"),
])
def test_bad_arguments(hs, kwargs, msg):
    with pytest.raises(StatisticsError, match=msg):
        measurement_invariance(hs, FIX["hs_school"]["model"], **kwargs)


def test_one_group_is_refused(hs):
    d = hs[hs["school"] == "Pasteur"]
    with pytest.raises(StatisticsError, match="at least 2"):
        measurement_invariance(d, FIX["hs_school"]["model"], group="school")


def test_rows_with_missing_group_are_dropped(hs):
    d = hs.copy()
    d.loc[:9, "school"] = np.nan
    res = measurement_invariance(d, FIX["hs_school"]["model"], group="school",
                                 levels=("configural",))
    assert sum(res.groups.values()) == len(hs) - 10
    assert math.isfinite(res.levels.loc[0, "chi2"])


# ------------------------------------------------------------------ the command line
def test_cli_invariance_json(tmp_path):
    import instrval.cli.invariance  # noqa: F401  (registers the command)
    from instrval.cli._base import main

    model = tmp_path / "hs.lav"
    model.write_text(FIX["hs_school"]["model"])
    out = CliRunner().invoke(main, ["invariance", str(HERE / "data" /
                                                      "HolzingerSwineford1939.csv"),
                                    "--model", str(model), "--group", "school",
                                    "--free", "x3~1", "--free", "x7~1", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert list(doc) == ["groups", "estimator", "levels", "partial"]
    ref = FIX["hs_school"]["partial"]["fit"]
    assert_allclose(doc["levels"][2]["chi2"], ref["chisq"], rtol=1e-6)
    assert [p["parameter"] for p in doc["partial"] if p["freed"]] == ["x3~1", "x7~1"]


def test_cli_invariance_table_and_errors(tmp_path):
    import instrval.cli.invariance  # noqa: F401
    from instrval.cli._base import main

    data = str(HERE / "data" / "HolzingerSwineford1939.csv")
    model = tmp_path / "hs.lav"
    model.write_text(FIX["hs_school"]["model"])
    out = CliRunner().invoke(main, ["invariance", data, "--model", str(model),
                                    "--group", "school"])
    assert out.exit_code == 0, out.output
    assert "Pasteur (n = 156)" in out.output and "strict" in out.output
    out = CliRunner().invoke(main, ["invariance", data, "--model", str(model),
                                    "--group", "nope"])
    assert out.exit_code != 0 and "group column 'nope'" in out.output
    assert "Traceback" not in out.output


# ------------------------------------------------------------------ MLR and FIML
def test_mlr_levels_match_lavaan(hs):
    ref = FIX["hs_school_mlr"]
    res = measurement_invariance(hs, FIX["hs_school"]["model"], group="school",
                                 estimator="mlr")
    lv = res.levels
    assert res.estimator == "mlr"
    for col, key in [("chi2", "chisq.scaled"), ("cfi", "cfi.scaled"), ("tli", "tli.scaled"),
                     ("rmsea", "rmsea.scaled"), ("srmr", "srmr")]:
        # the multi-group MLR scaling factors agree with lavaan's to about 1e-6
        assert_allclose(lv[col], [ref["levels"][lev][key] for lev in LEVELS], rtol=1e-5,
                        err_msg=col)
    # Satorra-Bentler (2001) scaled differences, lavTestLRT's default for MLR
    assert_allclose(lv["delta_chi2"][1:], ref["lrt"]["chisq_diff"][1:], rtol=2e-5)
    assert_allclose(lv["delta_pvalue"][1:], ref["lrt"]["p"][1:], rtol=1e-4)


def test_fiml_levels_match_lavaan():
    ref = FIX["hs_school_fiml"]
    hsm = pd.read_csv(HERE / "fixtures" / "hs_missing.csv")
    res = measurement_invariance(hsm, FIX["hs_school"]["model"], group="school",
                                 missing="ml")
    assert sum(res.groups.values()) == 301
    lv = res.levels
    for col, key in [("chi2", "chisq"), ("df", "df"), ("cfi", "cfi"), ("tli", "tli"),
                     ("rmsea", "rmsea")]:
        assert_allclose(lv[col], [ref["levels"][lev][key] for lev in LEVELS], rtol=1e-6,
                        err_msg=col)
    assert_allclose(lv["srmr"], [ref["levels"][lev]["srmr"] for lev in LEVELS], rtol=1e-5)
    assert_allclose(lv["delta_chi2"][1:], ref["lrt"]["chisq_diff"][1:], rtol=1e-6)
    with pytest.raises(StatisticsError, match="FIML"):
        measurement_invariance(hsm, FIX["hs_school"]["model"], group="school",
                               missing="ml", estimator="mlr")
