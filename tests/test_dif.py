"""Tests of instrval.stats.dif (differential item functioning) against MASS::polr, glm and
stats::mantelhaen.test (tests/fixtures/dif.json, written by tests/fixtures/r/dif.R), planted
DIF in simulated data, and the command line."""

from __future__ import annotations

import json
import warnings
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose

from instrval.cli import main
from instrval.errors import ConvergenceWarning, DataQualityWarning, StatisticsError
from instrval.io.instrument import read_instrument
from instrval.stats._cumlogit import fit_cumlogit
from instrval.stats.dif import DIFResult, dif

HERE = Path(__file__).parent
ROOT = HERE.parent
FIXTURE = json.loads((HERE / "fixtures" / "dif.json").read_text())
SIM_CSV = HERE / "fixtures" / "dif_binary.csv"
BFI_CSV = HERE / "data" / "bfi.csv"
BFI_YAML = ROOT / "instruments" / "bfi" / "bfi-1.0.yaml"
REVERSE = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]

TOL_LOGLIK = 1e-6  # absolute: log-likelihoods and LR chi-squares
TOL_P = 1e-8  # absolute: p values and R-squared changes
TOL_POLR = 1e-4  # absolute: polr coefficients (polr's BFGS stops at ~1e-6 from the optimum)
TOL_GLM = 1e-6  # absolute: glm coefficients (IRLS run to epsilon = 1e-14)
TOL_MH = 1e-8  # relative: every Mantel-Haenszel number


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    return pd.read_csv(BFI_CSV, index_col=0)


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return pd.read_csv(SIM_CSV)


def _case_data(case: dict, bfi: pd.DataFrame, sim: pd.DataFrame) -> dict:
    """The data and dif() options reproducing one R logistic case."""
    items = case["items"]
    name = case["name"]
    if name.startswith("sim"):
        return {"data": sim, "group": "group", "levels": ("ref", "foc"), "items": items}
    if "dichotomised" in name:
        d = bfi[items + ["gender"]].copy()
        for it in items:
            v = 7 - d[it] if it in REVERSE else d[it]
            d[it] = (v >= 4).astype(float).where(v.notna())
        return {"data": d, "group": "gender", "levels": (1, 2), "items": items,
                "scale_range": (0, 1)}
    rev = [r for r in REVERSE if r in items]
    if "empty_categories" in name:
        d = bfi[items + ["gender"]].copy()
        d.loc[d["A2"] == 1, "A2"] = 2
        d.loc[d["A3"] <= 2, "A3"] = 3
        return {"data": d, "group": "gender", "levels": (1, 2), "items": items,
                "reverse": rev, "scale_range": (1, 6)}
    if "first250" in name:
        return {"data": bfi.iloc[:250], "group": "education", "levels": (1, 3),
                "items": items, "reverse": rev, "scale_range": (1, 6)}
    return {"data": bfi, "group": "gender", "levels": (1, 2), "items": items,
            "reverse": rev, "scale_range": (1, 6)}


LOGISTIC = FIXTURE["logistic"]


@pytest.mark.parametrize("case", LOGISTIC, ids=[c["name"] for c in LOGISTIC])
def test_logistic_dif_matches_polr_and_glm(case, bfi, sim):
    kw = _case_data(case, bfi, sim)
    data = kw.pop("data")
    res = dif(data, **kw)
    t = res.items.set_index("item_id")
    assert list(t.index) == case["items"]
    assert res.reference in ("1", "ref") and res.focal in ("2", "3", "foc")
    for it in case["items"]:
        exp = case["results"][it]
        row = t.loc[it]
        assert row["n"] == exp["n"] == case["n"]
        assert row["n_reference"] == case["n_reference"]
        assert row["n_focal"] == case["n_focal"]
        assert row["n_categories"] == exp["n_categories"]
        assert row["model"] == exp["model"]
        assert row["converged"]
        assert_allclose([row[f"loglik_{m}"] for m in range(4)], exp["loglik"], rtol=0,
                        atol=TOL_LOGLIK, err_msg=f"{it} loglik")
        for key in ("12", "13", "23"):
            assert_allclose(row[f"chi2_{key}"], exp[f"chi2_{key}"], rtol=0, atol=TOL_LOGLIK,
                            err_msg=f"{it} chi2_{key}")
            assert row[f"df_{key}"] == exp[f"df_{key}"]
            assert_allclose(row[f"p_{key}"], exp[f"p_{key}"], rtol=0, atol=TOL_P,
                            err_msg=f"{it} p_{key}")
        for key in ("r2_change_12", "r2_change_13", "mcfadden_change_12",
                    "mcfadden_change_13"):
            assert_allclose(row[key], exp[key], rtol=0, atol=TOL_P, err_msg=f"{it} {key}")
        for m in (1, 2, 3):
            est = res.coefficients.query("item_id == @it and model == @m")["estimate"]
            est = est.to_numpy().copy()
            if exp["model"] == "glm":  # glm's intercept is minus polr's threshold
                est[0] = -est[0]
                tol = TOL_GLM
            else:
                tol = TOL_POLR
            assert_allclose(est, exp[f"coef_{m}"], rtol=0, atol=tol, err_msg=f"{it} M{m}")
        assert_allclose(row["beta_group"], exp["coef_2"][-1], atol=TOL_POLR)
        assert_allclose(row["beta_interaction"], exp["coef_3"][-1], atol=TOL_POLR)


def test_empty_categories_are_dropped_like_factor(bfi, sim):
    # A2 without 1s and A3 without 1s and 2s: R's factor() drops the empty categories and
    # so does dif() (polr would fail on an empty level).
    case = next(c for c in LOGISTIC if "empty_categories" in c["name"])
    assert [case["results"][i]["n_categories"] for i in case["items"]] == [6, 5, 4, 6, 6]
    kw = _case_data(case, bfi, sim)
    res = dif(kw.pop("data"), **kw)
    assert list(res.items["n_categories"]) == [case["results"][i]["n_categories"]
                                               for i in case["items"]]


def test_codes_need_not_be_consecutive():
    # Categories 1, 3, 6 (2, 4, 5 empty) give the same fit as the codes 0, 1, 2.
    rng = np.random.default_rng(5)
    theta = rng.normal(size=600)
    g = np.repeat([0, 1], 300)
    df = pd.DataFrame({f"i{j}": np.digitize(theta + rng.logistic(size=600), [-1, 1])
                       for j in range(4)})
    df["g"] = g
    gapped = df.copy()
    gapped["i0"] = gapped["i0"].map({0: 1, 1: 3, 2: 6})
    a = dif(df, group="g", items=["i0", "i1", "i2", "i3"]).items
    total_shift = dif(gapped, group="g", items=["i0", "i1", "i2", "i3"]).items
    # the matching total changes (i0 enters with other values), so compare i0 against a
    # direct fit with the gapped total
    row = total_shift.iloc[0]
    assert row["n_categories"] == 3
    total = gapped[["i0", "i1", "i2", "i3"]].sum(axis=1).to_numpy(float)
    y = np.unique(gapped["i0"], return_inverse=True)[1]
    f1 = fit_cumlogit(y, total[:, None])
    assert_allclose(row["loglik_1"], f1.loglik, rtol=0, atol=1e-9)
    assert a.iloc[0]["n_categories"] == 3


def test_weighted_patterns_equal_full_data_fit():
    rng = np.random.default_rng(11)
    x = rng.integers(0, 10, size=(500, 2)).astype(float)
    y = np.digitize(0.3 * x[:, 0] - 0.2 * x[:, 1] + rng.logistic(size=500), [-1, 0.5, 2])
    full = fit_cumlogit(y, x)
    pat, inv, cnt = np.unique(np.column_stack([y, x]), axis=0, return_inverse=True,
                              return_counts=True)
    w = fit_cumlogit(pat[:, 0].astype(int), pat[:, 1:], weights=cnt)
    assert full.converged and w.converged
    assert_allclose(w.loglik, full.loglik, rtol=1e-12)
    assert_allclose(np.r_[w.zeta, w.beta], np.r_[full.zeta, full.beta], atol=1e-8)


MH = FIXTURE["mh"]


@pytest.mark.parametrize("case", MH, ids=[c["name"] for c in MH])
def test_mantel_haenszel_matches_mantelhaen_test(case, sim):
    res = dif(sim, group="group", levels=("ref", "foc"), method="mh", purify=case["purify"])
    t = res.items.set_index("item_id")
    for it, exp in case["results"].items():
        row = t.loc[it]
        for key in ("mh_chi2", "p", "or_mh", "ci_low", "ci_high", "delta_mh", "se_delta"):
            assert_allclose(row[key], exp[key], rtol=TOL_MH, atol=0, err_msg=f"{it} {key}")
        assert row["n_strata"] == exp["n_strata"]
        assert row["n_strata_dropped"] == exp["n_strata_dropped"]
        assert row["effect_class"] == exp["effect_class"]
        assert row["df"] == 1
    assert list(res.flagged) == case["flagged"]
    assert res.iterations == {"scale": case["passes"]}
    assert list(res.anchors["scale"]) == case["anchors"]


def test_mh_recovers_planted_dif(sim):
    planted = FIXTURE["planted"]
    res = dif(sim, group="group", levels=("ref", "foc"), method="mh")
    assert set(res.flagged) == {planted["uniform"], planted["nonuniform"]}
    q03 = res.items.set_index("item_id").loc["q03"]
    # the planted shift makes q03 harder for the focal group: delta < 0, OR > 1
    assert q03["delta_mh"] < -1 and q03["or_mh"] > 1
    assert "against the focal group" in q03["reason"]


def test_logistic_recovers_planted_nonuniform_dif(sim):
    res = dif(sim, group="group", levels=("ref", "foc"))
    t = res.items.set_index("item_id")
    assert res.flagged == ("q08",)
    assert t.loc["q08", "dif_type"] == "non-uniform"
    assert t.loc["q08", "p_23"] < res.alpha
    # q03's uniform DIF is significant but below Jodoin & Gierl's .035 (class A)
    assert t.loc["q03", "p_12"] < 1e-6 and t.loc["q03", "effect_class"] == "A"
    assert "negligible" in t.loc["q03", "reason"]


def _graded(theta: np.ndarray, b: np.ndarray, a: float, rng) -> np.ndarray:
    return np.digitize(a * theta + rng.logistic(size=theta.size), b) + 1


def test_ordinal_recovers_planted_uniform_dif_and_purifies():
    rng = np.random.default_rng(2026)
    n = 1500
    g = np.repeat([0, 1], n)
    theta = rng.normal(size=2 * n)
    cuts = np.array([-2.0, -0.7, 0.5, 1.8])
    df = pd.DataFrame({f"x{j}": _graded(theta, cuts, 1.6, rng) for j in range(8)})
    df["x3"] = _graded(theta + 1.5 * g, cuts, 1.6, rng)  # focal group answers higher
    df["grp"] = np.where(g == 1, "F", "M")
    items = [f"x{j}" for j in range(8)]
    plain = dif(df, group="grp", items=items, levels=("M", "F"))
    t = plain.items.set_index("item_id")
    assert plain.flagged == ("x3",)
    assert t.loc["x3", "dif_type"] == "uniform" and t.loc["x3", "beta_group"] > 0
    assert t.loc["x3", "effect_class"] in ("B", "C")
    pur = dif(df, group="grp", items=items, levels=("M", "F"), purify=True)
    assert pur.flagged == ("x3",)
    assert pur.iterations == {"scale": 2}
    assert pur.anchors["scale"] == tuple(i for i in items if i != "x3")
    pt = pur.items.set_index("item_id")
    assert pt.loc["x3", "n_anchor"] == 7 and pt.loc["x0", "n_anchor"] == 6
    # a purified matching score for x0 = the 7 anchors (x0 included): check one fit by hand
    total = df[list(pur.anchors["scale"])].sum(axis=1).to_numpy(float)
    y = df["x0"].to_numpy() - 1
    f1 = fit_cumlogit(y, total[:, None])
    assert_allclose(pt.loc["x0", "loglik_1"], f1.loglik, rtol=0, atol=1e-8)
    # purification removes the contamination: the other items' group effects shrink
    assert (pt.drop(index="x3")["chi2_12"].mean() < t.drop(index="x3")["chi2_12"].mean())


def test_instrument_gives_constructs_and_reverse_keys(bfi):
    inst = read_instrument(BFI_YAML)
    res = dif(bfi, instrument=inst, group="gender")
    assert list(res.items["construct"].unique()) == list(inst.construct_ids)
    assert len(res.items) == 25
    # agreeableness through the instrument == the R case (A1 reverse keyed)
    case = next(c for c in LOGISTIC if c["name"] == "bfi_agreeableness_gender")
    t = res.items.set_index("item_id")
    for it in case["items"]:
        assert_allclose(t.loc[it, "chi2_13"], case["results"][it]["chi2_13"], atol=TOL_LOGLIK)
    one = dif(bfi, instrument=inst, group="gender", construct="agreeableness")
    assert list(one.items["item_id"]) == case["items"]
    assert one.anchors == {"agreeableness": tuple(case["items"])}
    assert one.iterations == {"agreeableness": 1}
    # excluded rows: missing gender never happens in bfi; missing responses do
    exc = one.excluded
    assert len(exc) == len(bfi) - case["n"]
    assert exc["reason"].str.startswith("missing response to").all()
    kept = set(bfi.index) - set(exc["row"])
    assert sorted(map(str, kept)) == sorted(case["rows"])


def test_missing_values_listwise_within_construct(bfi):
    items = ["A1", "A2", "A3", "A4", "A5"]
    d = bfi[items + ["gender"]].copy()
    d.loc[d.index[0], "gender"] = np.nan
    res = dif(d, group="gender", items=items, reverse=["A1"], scale_range=(1, 6))
    ref = dif(d.dropna(), group="gender", items=items, reverse=["A1"], scale_range=(1, 6))
    assert_allclose(res.items["chi2_13"], ref.items["chi2_13"], rtol=1e-12)
    reasons = dict(zip(res.excluded["row"], res.excluded["reason"], strict=True))
    assert reasons[d.index[0]].startswith("no group")


def test_three_groups_need_levels(bfi):
    items = ["A1", "A2", "A3", "A4", "A5"]
    with pytest.raises(StatisticsError, match=r"'education' has 5 level\(s\) \(1, 2, 3, 4, 5\)"):
        dif(bfi, group="education", items=items)
    res = dif(bfi, group="education", items=items, levels=(1, 3))
    assert (res.reference, res.focal) == ("1", "3")
    other = res.excluded["reason"].str.contains("is not compared")
    assert other.sum() == bfi["education"].isin([2, 4, 5]).sum()
    with pytest.raises(StatisticsError, match="level.*'7' not found"):
        dif(bfi, group="education", items=items, levels=(1, 7))


def test_single_category_item_is_reported_not_tested():
    rng = np.random.default_rng(3)
    theta = rng.normal(size=400)
    df = pd.DataFrame({f"i{j}": (theta + rng.logistic(size=400) > 0).astype(int)
                       for j in range(4)})
    df["const"] = 1
    df["g"] = np.tile(["a", "b"], 200)
    with pytest.warns(DataQualityWarning, match="'const' has a single response category"):
        res = dif(df, group="g", items=["i0", "i1", "i2", "i3", "const"])
    row = res.items.set_index("item_id").loc["const"]
    assert np.isnan(row["chi2_13"]) and not row["flag"]
    assert row["reason"] == "not tested: every respondent answered 1"
    assert np.isfinite(res.items.set_index("item_id").loc["i0", "chi2_13"])
    json.dumps(res.to_dict())  # NaN -> null


def test_separation_warns():
    rng = np.random.default_rng(4)
    g = np.tile([0, 1], 150)
    df = pd.DataFrame({f"i{j}": rng.integers(0, 2, 300) for j in range(3)})
    df["sep"] = g  # answered 1 exactly by the focal group
    df["g"] = g
    with pytest.warns(ConvergenceWarning, match="'sep'.*separation"):
        res = dif(df, group="g", items=["i0", "i1", "i2", "sep"])
    row = res.items.set_index("item_id").loc["sep"]
    assert not row["converged"] and "separation" in row["reason"]
    assert res.items.set_index("item_id").loc["i0", "converged"]


def test_bad_input(bfi, sim):
    items = ["A1", "A2", "A3", "A4", "A5"]
    with pytest.raises(StatisticsError, match="unknown DIF method 'irt'"):
        dif(bfi, group="gender", items=items, method="irt")
    with pytest.raises(StatisticsError, match="group column 'sex' not found"):
        dif(bfi, group="sex", items=items)
    with pytest.raises(StatisticsError, match="method='mh' needs binary items.*A1"):
        dif(bfi, group="gender", items=items, method="mh")
    with pytest.raises(StatisticsError, match="reverse keys need the scale range"):
        dif(bfi, group="gender", items=items, reverse=["A1"])
    bad = bfi[items + ["gender"]].copy()
    bad.loc[bad.index[4], "A3"] = 9
    with pytest.raises(StatisticsError, match=r"row index 61622, column 'A3': value 9 is "
                                              r"outside the scale 1-6"):
        dif(bad, group="gender", items=items, scale_range=(1, 6))
    with pytest.raises(StatisticsError, match="at least 2"):
        dif(bfi, group="gender", items=["A1"])
    with pytest.raises(StatisticsError, match="unknown construct 'grit'"):
        dif(bfi, group="gender", instrument=read_instrument(BFI_YAML), construct="grit")
    with pytest.raises(StatisticsError, match="alpha must lie"):
        dif(sim, group="group", alpha=1.5)


def test_result_is_frozen_and_serialises(sim):
    res = dif(sim, group="group", levels=("ref", "foc"))
    assert isinstance(res, DIFResult)
    with pytest.raises(FrozenInstanceError):
        res.method = "mh"  # type: ignore[misc]
    d = json.loads(json.dumps(res.to_dict()))
    assert d["levels"] == {"reference": "ref", "focal": "foc"}
    assert d["method"] == "ordinal" and d["alpha"] == 0.01
    assert d["criteria"]["class_b"] == 0.035 and d["criteria"]["class_c"] == 0.07
    assert d["matching"]["scale"]["items"] == [f"q{j:02d}" for j in range(1, 11)]
    keys = {"item_id", "chi2_12", "df_12", "p_12", "chi2_13", "df_13", "p_13", "chi2_23",
            "df_23", "p_23", "r2_change_12", "r2_change_13", "flag", "reason",
            "effect_class"}
    assert keys <= set(d["items"][0])
    assert res.to_frame().equals(res.items) and res.to_frame() is not res.items


# ---------------------------------------------------------------------------- CLI
def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_json_matches_api(bfi):
    r = _run("dif", BFI_CSV, "--instrument", BFI_YAML, "--group", "gender",
             "--construct", "agreeableness", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    api = dif(bfi, instrument=read_instrument(BFI_YAML), group="gender",
              construct="agreeableness")
    assert [i["item_id"] for i in d["items"]] == ["A1", "A2", "A3", "A4", "A5"]
    assert_allclose([i["chi2_13"] for i in d["items"]], api.items["chi2_13"], rtol=1e-12)
    assert d["levels"] == {"reference": "1", "focal": "2"}


def test_cli_mh_and_purify_table():
    r = _run("dif", SIM_CSV, "--group", "group", "--levels", "ref,foc", "--method", "mh",
             "--purify")
    assert r.exit_code == 0, r.output
    assert "Mantel-Haenszel" in r.output and "2 passes" in r.output
    assert "q03: DIF against the focal group, ETS class C" in r.output


def test_cli_items_reverse_scale():
    r = _run("dif", BFI_CSV, "--items", "A1,A2,A3,A4,A5", "--reverse", "A1", "--scale", "1,6",
             "--group", "gender", "--json")
    assert r.exit_code == 0, r.output
    case = next(c for c in LOGISTIC if c["name"] == "bfi_agreeableness_gender")
    got = [i["chi2_13"] for i in json.loads(r.output)["items"]]
    assert_allclose(got, [case["results"][i]["chi2_13"] for i in case["items"]],
                    atol=TOL_LOGLIK)


def test_cli_errors():
    r = _run("dif", BFI_CSV, "--instrument", BFI_YAML, "--group", "education")
    assert r.exit_code == 1
    assert "has 5 level(s)" in r.output and "Traceback" not in r.output
    r = _run("dif", BFI_CSV, "--group", "nope")
    assert r.exit_code == 1 and "nope" in r.output
    r = _run("dif", BFI_CSV, "--group", "gender", "--levels", "1")
    assert r.exit_code == 2
    r = _run("dif", BFI_CSV, "--group", "gender", "--construct", "agreeableness")
    assert r.exit_code == 2 and "--construct needs --instrument" in r.output


def test_cli_help_has_example():
    r = _run("dif", "--help")
    assert r.exit_code == 0 and "Example:" in r.output


def test_no_warning_on_clean_data(bfi):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = dif(bfi, instrument=read_instrument(BFI_YAML), group="gender", purify=True)
    # nothing flagged in bfi by gender: one pass per construct, every item an anchor
    assert res.flagged == ()
    assert set(res.iterations.values()) == {1}
    assert all(len(a) == 5 for a in res.anchors.values())


def test_binary_construct_from_instrument(sim):
    from instrval.model.instrument import Instrument

    items = [f"q{j:02d}" for j in range(1, 11)]
    inst = Instrument.from_dict({
        "format_version": "1.0", "id": "test", "version": "1", "title": "Test",
        "constructs": [{"id": "skill", "label": "Skill", "kind": "binary",
                        "items": [{"id": i, "label": i} for i in items]}]})
    res = dif(sim, instrument=inst, group="group", levels=("ref", "foc"), method="mh")
    case = next(c for c in MH if not c["purify"])
    assert list(res.items["construct"].unique()) == ["skill"]
    assert_allclose(res.items["mh_chi2"], [case["results"][i]["mh_chi2"] for i in items],
                    rtol=TOL_MH)
    bad = sim.copy()
    bad.loc[5, "q04"] = 2
    with pytest.raises(StatisticsError, match="row index 5, column 'q04': value 2 is outside "
                                              "the scale 0-1"):
        dif(bad, instrument=inst, group="group", levels=("ref", "foc"), method="mh")
