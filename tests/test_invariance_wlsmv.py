"""Measurement invariance of ordered items (WLSMV) against R lavaan 0.6.14 and semTools.

Reference values: tests/fixtures/invariance_wlsmv.json, written by
tests/fixtures/r/invariance_wlsmv.R: bfi by gender, agreeableness and conscientiousness
(10 items), as Likert answers 1-6 and as binary items (4-6 against 1-3); the configural model
and lavaan's ``group.equal = c("loadings", "thresholds")`` (delta parameterization), their
fit measures, parameter estimates and SEs, and ``lavTestLRT``'s default difference test
(``satorra.2000``, scaled and shifted); and the Wu & Estabrook (2016) sequence as semTools
0.5.6 ``measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016")`` writes it
(configural; equal thresholds; + equal loadings).

Tolerances: fit measures rtol 1e-6; the difference test rtol 1e-5; estimates and SEs
rtol 1e-4 with atol 1e-4.  In the binary scalar model lavaan's ``nlminb`` stops where the
DWLS statistic is 6e-7 above the minimum found here (the function is flat along the scaling
factors), so its estimates differ by up to 1.1e-4 (6e-5 relative) and its difference test
by 1.5e-6 relative; in the other models every estimate agrees to 6e-6.
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

from instrval.errors import StatisticsError
from instrval.stats.sem.invariance import measurement_invariance
from instrval.stats.sem.wlsmv import _Model, build_partable, ordinal_groups

HERE = Path(__file__).parent
FIX = json.loads((HERE / "fixtures" / "invariance_wlsmv.json").read_text())
ITEMS = FIX["items"]
FIT_MAP = {"chi2": "chisq", "df": "df", "pvalue": "pvalue", "chi2_scaled": "chisq.scaled",
           "pvalue_scaled": "pvalue.scaled", "scaling_factor": "chisq.scaling.factor",
           "baseline_chi2": "baseline.chisq", "baseline_chi2_scaled": "baseline.chisq.scaled",
           "cfi": "cfi", "tli": "tli", "cfi_scaled": "cfi.scaled", "tli_scaled": "tli.scaled",
           "rmsea": "rmsea", "rmsea_scaled": "rmsea.scaled", "srmr": "srmr", "npar": "npar",
           "n": "ntotal"}


def _bfi(kind: str) -> pd.DataFrame:
    d = pd.read_csv(HERE / "data" / "bfi.csv", index_col=0)
    d["gender"] = np.where(d["gender"] == 1, "male", "female")
    d = d[ITEMS + ["gender"]].copy()
    if kind == "binary":
        for v in ITEMS:
            d[v] = np.where(d[v].isna(), np.nan, (d[v] >= 4).astype(float))
    return d


@pytest.fixture(scope="module", params=["likert", "binary"])
def case(request):
    kind = request.param
    res = measurement_invariance(_bfi(kind), FIX["model"], group="gender", estimator="wlsmv")
    return kind, res


def test_groups_and_levels(case):
    kind, res = case
    ref = FIX[kind]
    assert dict(res.groups) == ref["groups"]
    assert list(res.levels["level"]) == ["configural", "scalar"]
    assert res.estimator == "wlsmv"


def test_fit_measures_match_lavaan(case):
    kind, res = case
    for lev in ("configural", "scalar"):
        fit = res.fits[lev].fit
        ref = FIX[kind]["levels"][lev]
        for ours, theirs in FIT_MAP.items():
            if ref[theirs] == 0:
                assert fit[ours] < 1e-12, (kind, lev, ours)
            else:
                # p-values below 1e-12 are rounding noise (R: 1 - pchisq)
                assert_allclose(fit[ours], ref[theirs], rtol=1e-6,
                                atol=1e-12 if ours.startswith("pvalue") else 0,
                                err_msg=f"{kind} {lev} {ours}")
        assert fit["df"] == ref["df"]


def test_levels_table_uses_scaled_measures(case):
    kind, res = case
    for row in res.levels.itertuples():
        ref = FIX[kind]["levels"][row.level]
        assert_allclose([row.chi2, row.cfi, row.tli, row.rmsea, row.srmr],
                        [ref["chisq.scaled"], ref["cfi.scaled"], ref["tli.scaled"],
                         ref["rmsea.scaled"], ref["srmr"]], rtol=1e-6)
        assert row.df == ref["df"]


def test_difference_test_matches_lavtestlrt(case):
    kind, res = case
    lrt = FIX[kind]["lrt"]
    assert "satorra.2000" in lrt["method"]
    sc = res.levels.iloc[1]
    assert_allclose(sc.delta_chi2, lrt["chisq_diff"][1], rtol=1e-5)
    assert sc.delta_df == lrt["df_diff"][1]
    assert_allclose(sc.delta_pvalue, lrt["p"][1], rtol=1e-5)
    conf = res.levels.iloc[0]
    assert_allclose(sc.delta_cfi, sc.cfi - conf.cfi)
    assert_allclose(sc.delta_rmsea, sc.rmsea - conf.rmsea)
    assert math.isnan(conf.delta_chi2)


def test_estimates_and_ses_match_lavaan(case):
    kind, res = case
    for lev in ("configural", "scalar"):
        ref = pd.DataFrame(FIX[kind]["params"][lev])
        ref["rhs"] = ref["rhs"].fillna("")
        ours = res.fits[lev].parameters
        m = ref.merge(ours, on=["lhs", "op", "rhs", "group"], how="left",
                      suffixes=("_r", ""))
        assert len(m) == len(ref) and not m["est"].isna().any(), (kind, lev)
        assert_allclose(m["est"], m["est_r"], rtol=1e-4, atol=1e-4, err_msg=f"{kind} {lev}")
        se_r = pd.to_numeric(m["se_r"])
        free = se_r > 0
        assert_allclose(m.loc[free, "se"], se_r[free], rtol=1e-4, atol=1e-4)
        assert m.loc[~free, "se"].isna().all()
        # the thresholds, the scaling factors and the latent means are there
        assert {"|", "~*~", "~1", "=~"} <= set(m["op"])


def test_scalar_identification_is_lavaans(case):
    kind, res = case
    p = res.fits["scalar"].parameters
    assert not p[(p.group == 1) & p.op.isin(["~*~"])]["free"].any()
    assert p[(p.group == 2) & (p.op == "~*~")]["free"].all()
    lv_means = p[(p.op == "~1") & p.lhs.isin(["agree", "consc"])]
    assert list(lv_means["free"]) == [False, False, True, True]
    th = p[p.op == "|"]
    g1 = th[th.group == 1]["est"].to_numpy()
    assert_allclose(th[th.group == 2]["est"].to_numpy(), g1)


def test_analytic_jacobian_matches_differences():
    d = _bfi("likert").dropna()
    x = d[ITEMS].to_numpy(float)
    groups = ordinal_groups(x, d["gender"].to_numpy(), ["male", "female"], ITEMS)
    pt = build_partable("f1 =~ A1 + A2 + A3 + A4 + A5 + C1\nf2 =~ C1 + C2 + C3 + C4 + C5\n"
                        "h =~ f1 + f2\nA1 ~~ A2", groups=["male", "female"],
                        group_equal=("loadings",), ordered=True)
    mod = _Model(pt, groups, equal_thresholds=True, free_delta=[False, True],
                 free_alpha=[False, True])
    theta = np.random.default_rng(1).normal(0.5, 0.2, mod.q)
    assert_allclose(mod.jacobian(theta), mod.jacobian_numeric(theta), atol=1e-7)


def test_to_dict_shape_is_the_ml_shape(case):
    _, res = case
    out = res.to_dict()
    assert set(out) == {"groups", "estimator", "levels", "partial"}
    assert set(out["levels"][0]) == {"level", "chi2", "df", "pvalue", "cfi", "tli", "rmsea",
                                     "srmr", "delta_chi2", "delta_df", "delta_pvalue",
                                     "delta_cfi", "delta_rmsea", "holds"}
    assert out["partial"] == []
    assert out["estimator"] == "wlsmv"


def test_holds_applies_the_criteria():
    res = measurement_invariance(_bfi("likert"), FIX["model"], group="gender",
                                 estimator="wlsmv", levels=("configural",))
    assert list(res.levels["level"]) == ["configural"]
    row = res.levels.iloc[0]
    assert row.holds == bool(row.cfi >= 0.90 and row.rmsea <= 0.08)
    strict = measurement_invariance(_bfi("binary"), FIX["model"], group="gender",
                                    estimator="wlsmv", criteria={"delta_cfi_min": 0.01})
    assert not strict.levels.iloc[1].holds


@pytest.mark.parametrize(("kwargs", "msg"), [
    ({"group_partial": ["A1~1"]}, "group_partial"),
    ({"missing": "ml"}, "complete rows"),
    ({"levels": ("configural", "metric")}, "prefix"),
])
def test_wlsmv_bad_options(kwargs, msg):
    with pytest.raises(StatisticsError, match=msg):
        measurement_invariance(_bfi("binary"), FIX["model"], group="gender",
                               estimator="wlsmv", **kwargs)


def test_wlsmv_empty_category_in_a_group_is_refused():
    d = _bfi("likert").dropna()
    d.loc[(d["gender"] == "male") & (d["A1"] == 6), "A1"] = 5
    with pytest.raises(StatisticsError, match="no answer 6 in group 'male'"):
        measurement_invariance(d, FIX["model"], group="gender", estimator="wlsmv")


def test_cli_invariance_wlsmv_json(tmp_path):
    import instrval.cli.invariance  # noqa: F401  (registers the command)
    from instrval.cli._base import main

    data = tmp_path / "bin.csv"
    _bfi("binary").to_csv(data, index=False)
    model = tmp_path / "m.lav"
    model.write_text(FIX["model"])
    out = CliRunner().invoke(main, ["invariance", str(data), "--model", str(model),
                                    "--group", "gender", "--estimator", "wlsmv", "--json"])
    assert out.exit_code == 0, out.output
    js = json.loads(out.output)
    assert js["estimator"] == "wlsmv"
    assert [lv["level"] for lv in js["levels"]] == ["configural", "scalar"]
    # the JSON carries 6 decimals
    assert_allclose(js["levels"][1]["delta_chi2"], FIX["binary"]["lrt"]["chisq_diff"][1],
                    atol=2e-6)
    out = CliRunner().invoke(main, ["invariance", str(data), "--model", str(model),
                                    "--group", "gender", "--estimator", "wlsmv",
                                    "--identification", "wu.estabrook", "--json"])
    assert out.exit_code == 0, out.output
    js = json.loads(out.output)
    assert [lv["level"] for lv in js["levels"]] == ["configural", "thresholds", "metric"]
    assert_allclose(js["levels"][2]["delta_chi2"], FIX["binary_we"]["lrt"]["chisq_diff"][2],
                    atol=2e-6)
    out = CliRunner().invoke(main, ["invariance", str(data), "--model", str(model),
                                    "--group", "gender", "--identification", "wu.estabrook"])
    assert out.exit_code != 0 and "ordered items" in out.output


# --------------------------------------------------------------------------- Wu & Estabrook
WE_LEVELS = ["configural", "thresholds", "metric"]


@pytest.fixture(scope="module", params=["likert", "binary"])
def we_case(request):
    kind = request.param
    res = measurement_invariance(_bfi(kind), FIX["model"], group="gender", estimator="wlsmv",
                                 identification="wu.estabrook")
    return kind, res


def test_wu_estabrook_fit_and_lrt_match_semtools(we_case):
    kind, res = we_case
    ref = FIX[kind + "_we"]
    assert list(res.levels["level"]) == WE_LEVELS
    for lev in WE_LEVELS:
        fit = res.fits[lev].fit
        for ours, theirs in FIT_MAP.items():
            assert_allclose(fit[ours], ref["levels"][lev][theirs], rtol=1e-6,
                            atol=1e-12 if ours.startswith("pvalue") else 0,
                            err_msg=f"{kind} {lev} {ours}")
    lrt = ref["lrt"]
    for k in (1, 2):
        row = res.levels.iloc[k]
        assert row.delta_df == lrt["df_diff"][k]
        if lrt["df_diff"][k] == 0:     # binary items: equal thresholds change nothing
            assert abs(row.delta_chi2) < 1e-6 and math.isnan(row.delta_pvalue)
        else:
            assert_allclose(row.delta_chi2, lrt["chisq_diff"][k], rtol=1e-5)
            assert_allclose(row.delta_pvalue, lrt["p"][k], rtol=1e-5)


def test_wu_estabrook_estimates_and_ses_match_semtools(we_case):
    kind, res = we_case
    for lev in WE_LEVELS:
        ref = pd.DataFrame(FIX[kind + "_we"]["params"][lev])
        ref["rhs"] = ref["rhs"].fillna("")
        m = ref.merge(res.fits[lev].parameters, on=["lhs", "op", "rhs", "group"], how="left",
                      suffixes=("_r", ""))
        assert not m["est"].isna().any(), (kind, lev)
        assert_allclose(m["est"], m["est_r"], rtol=1e-4, atol=1e-4, err_msg=f"{kind} {lev}")
        se_r = pd.to_numeric(m["se_r"])
        free = se_r > 0
        assert_allclose(m.loc[free, "se"], se_r[free], rtol=1e-4, atol=1e-4)
        assert m.loc[~free, "se"].isna().all()


def test_wu_estabrook_identification(we_case):
    kind, res = we_case
    p = res.fits["thresholds"].parameters
    g2 = p[p.group == 2]
    nu = g2[(g2.op == "~1") & g2.lhs.isin(ITEMS)]
    assert nu["free"].all()
    # scaling factors free for items with 3+ categories only
    free_delta = g2[g2.op == "~*~"]["free"]
    if kind == "likert":
        assert free_delta.all()
    else:
        assert not free_delta.any()
    var = res.fits["metric"].parameters
    var = var[(var.op == "~~") & (var.lhs == var.rhs) & var.lhs.isin(["agree", "consc"])]
    assert list(var["free"]) == [False, False, True, True]


def test_identification_errors():
    with pytest.raises(StatisticsError, match="ordered items"):
        measurement_invariance(_bfi("likert"), FIX["model"], group="gender",
                               identification="wu.estabrook")
    with pytest.raises(StatisticsError, match="not available"):
        measurement_invariance(_bfi("likert"), FIX["model"], group="gender",
                               estimator="wlsmv", identification="theta")
