"""ML confirmatory factor analysis against R lavaan 0.6.14.

Reference values: tests/fixtures/cfa.json, written by tests/fixtures/r/cfa.R.

Tolerances: fit measures at rtol 1e-6; estimates, standard errors and standardized values at
atol 1e-5 for the Holzinger-Swineford models and 1e-4 for bfi.  The bfi gap (up to 2.5e-5)
is lavaan's: its nlminb stops at a relative change of 1e-10 in F, and instrval's optimum has
the lower F (checked below), so instrval is the more precise of the two.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose

import instrval.cli.cfa  # noqa: F401  (registers the commands)
import instrval.stats.cfa as cfa_mod
from instrval.cli._base import main
from instrval.errors import ConvergenceWarning, HeywoodWarning, StatisticsError
from instrval.io.instrument import read_instrument
from instrval.stats.cfa import cfa, model_from_instrument

HERE = Path(__file__).parent
ROOT = HERE.parent
FIX = json.loads((HERE / "fixtures" / "cfa.json").read_text())

HS_MODEL = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
            "speed": ["x7", "x8", "x9"]}
BFI_MODEL = {f: [c + str(i) for i in range(1, 6)]
             for f, c in zip(["agree", "consc", "extra", "neuro", "open"], "ACENO", strict=True)}
CROSS_MODEL = {"visual": ["x1", "x2", "x3"], "textual": ["x1", "x4", "x5", "x6"]}

FIT_MAP = {  # instrval key -> lavaan fitMeasures name
    "chi2": "chisq", "df": "df", "pvalue": "pvalue", "cfi": "cfi", "tli": "tli",
    "rmsea": "rmsea", "rmsea_ci_low": "rmsea.ci.lower", "rmsea_ci_high": "rmsea.ci.upper",
    "srmr": "srmr", "aic": "aic", "bic": "bic", "loglik": "logl",
    "loglik_unrestricted": "unrestricted.logl", "baseline_chi2": "baseline.chisq",
    "baseline_df": "baseline.df", "fmin": "fmin", "npar": "npar", "n": "ntotal",
}


@pytest.fixture(scope="module")
def fits(hs, bfi):
    return {
        "hs": cfa(hs, HS_MODEL),
        "hs_std_lv": cfa(hs, HS_MODEL, std_lv=True),
        "bfi": cfa(bfi, BFI_MODEL),
        "cross": cfa(hs, CROSS_MODEL),
    }


CASES = [("hs", 1e-5), ("hs_std_lv", 1e-5), ("bfi", 1e-4), ("cross", 1e-5)]


@pytest.mark.parametrize("key,_tol", CASES)
def test_fit_measures_match_lavaan(fits, key, _tol):
    res, ref = fits[key], FIX[key]["fit"]
    for ours, theirs in FIT_MAP.items():
        assert_allclose(res.fit[ours], ref[theirs], rtol=1e-6, atol=1e-12, err_msg=ours)
    assert res.converged


def test_hs_headline_values(fits):
    f = fits["hs"].fit
    assert_allclose([f["chi2"], f["df"], f["cfi"], f["tli"], f["rmsea"], f["rmsea_ci_low"],
                     f["rmsea_ci_high"], f["srmr"]],
                    [85.306, 24, .9306, .8958, .0921, .0714, .1137, .0652], atol=6e-4)


@pytest.mark.parametrize("key,tol", CASES)
def test_parameters_match_lavaan(fits, key, tol):
    res = fits[key]
    ref = pd.DataFrame(FIX[key]["params"])
    merged = ref.merge(res.parameters, on=["lhs", "op", "rhs"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert_allclose(merged["estimate"], merged["est"], atol=tol, err_msg="estimates")
    assert_allclose(merged["std_all"], merged["std.all"], atol=tol, err_msg="std.all")
    assert_allclose(merged["std_lv"], merged["std.lv"], atol=tol, err_msg="std.lv")
    free = merged["free"].to_numpy(dtype=bool)
    # lavaan gives fixed parameters se = 0; instrval gives NaN (not estimated)
    assert np.isnan(merged.loc[~free, "se_y"]).all()
    assert_allclose(merged.loc[free, "se_y"], merged.loc[free, "se_x"], atol=tol, err_msg="se")


@pytest.mark.parametrize("key,tol", CASES)
def test_factor_correlations_and_implied_covariance(fits, key, tol):
    res, ref = fits[key], FIX[key]
    assert_allclose(res.factor_correlations.to_numpy(), np.array(ref["cor_lv"]), atol=tol)
    assert_allclose(res.factor_covariances.to_numpy(), np.array(ref["cov_lv"]), atol=tol)
    assert_allclose(res.implied_covariance.to_numpy(), np.array(ref["implied"]), atol=tol)
    assert_allclose(res.sample_covariance.to_numpy(), np.array(ref["sample_cov"]), atol=1e-12)
    assert res.n == ref["nobs"]


def test_instrval_optimum_is_at_least_as_good_as_lavaan(fits):
    res = fits["bfi"]
    s = res.sample_covariance.to_numpy()

    def fml(sig):
        return (np.linalg.slogdet(sig)[1] + np.trace(s @ np.linalg.inv(sig))
                - np.linalg.slogdet(s)[1] - s.shape[0])

    ours = fml(res.implied_covariance.to_numpy())
    theirs = fml(np.array(FIX["bfi"]["implied"]))
    assert ours <= theirs + 1e-14


def test_loadings_table_layout(fits):
    lo = fits["hs"].loadings
    assert list(lo.columns) == ["factor", "item_id", "estimate", "se", "z", "pvalue",
                                "std_lv", "std_all", "fixed"]
    assert lo["fixed"].sum() == 3
    assert (lo.loc[lo["fixed"], "estimate"] == 1.0).all()
    rv = fits["hs"].residual_variances
    assert list(rv["item_id"]) == [f"x{i}" for i in range(1, 10)]
    # std_all residual variance = 1 - (std_all loading)^2 for items on one factor
    assert_allclose(rv["std_all"].to_numpy(), 1 - lo["std_all"].to_numpy() ** 2, atol=1e-12)


def test_to_dict_is_json(fits):
    d = fits["hs"].to_dict()
    text = json.dumps(d)
    assert "NaN" not in text
    assert {"chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high",
            "srmr", "aic", "bic"} <= set(d["fit"])
    assert d["loadings"][0]["se"] is None  # the fixed marker loading


def test_model_from_instrument(bfi):
    inst = read_instrument(ROOT / "instruments" / "bfi" / "bfi-1.0.yaml")
    model = model_from_instrument(inst)
    assert len(model) == 5
    assert [len(v) for v in model.values()] == [5] * 5
    res = cfa(bfi, inst)
    ref = FIX["bfi"]["fit"]
    assert_allclose(res.fit["chi2"], ref["chisq"], rtol=1e-6)


# ------------------------------------------------------------------ improper solutions
def _exact_sample(cov: np.ndarray, n: int, seed: int = 1) -> pd.DataFrame:
    """Data whose ML sample covariance (divisor n) is exactly ``cov``."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, cov.shape[0]))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / n)).T
    x = z @ np.linalg.cholesky(cov).T
    return pd.DataFrame(x, columns=[f"y{i}" for i in range(1, cov.shape[0] + 1)])


def test_heywood_case_warns_and_flags_with_hand_worked_values():
    # One factor, three items, just identified: lambda_1^2 phi = s12 s13 / s23 = .64/.5 = 1.28,
    # so theta_1 = s11 - 1.28 = -.28 (a negative residual variance).
    cov = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    data = _exact_sample(cov, 200)
    with pytest.warns(HeywoodWarning, match="y1"):
        res = cfa(data, {"f": ["y1", "y2", "y3"]})
    assert res.heywood and res.heywood_items == ("y1",)
    rv = res.residual_variances.set_index("item_id")["estimate"]
    assert_allclose(rv["y1"], 1.0 - 0.8 * 0.8 / 0.5, atol=1e-8)
    assert_allclose(rv["y2"], 1.0 - 0.8 * 0.5 / 0.8, atol=1e-8)
    assert_allclose(res.fit["chi2"], 0.0, atol=1e-8)
    assert res.fit["df"] == 0


def test_non_convergence_warns_and_flags(hs, monkeypatch):
    monkeypatch.setattr(cfa_mod, "_fit", functools.partial(cfa_mod._fit, max_iter=2))
    with pytest.warns(ConvergenceWarning):
        res = cfa(hs, HS_MODEL)
    assert not res.converged
    assert math.isfinite(res.fit["chi2"])


# ------------------------------------------------------------------ bad input
def test_bad_input_raises(hs):
    with pytest.raises(StatisticsError, match="estimator='uls'"):
        cfa(hs, HS_MODEL, estimator="uls")
    with pytest.raises(StatisticsError, match="missing='pairwise'"):
        cfa(hs, HS_MODEL, missing="pairwise")
    with pytest.raises(StatisticsError, match="x99"):
        cfa(hs, {"f": ["x1", "x99"]})
    with pytest.raises(StatisticsError, match="at least 2"):
        cfa(hs, {"f": ["x1"], "g": ["x2", "x3"]})
    with pytest.raises(StatisticsError, match="not identified"):
        cfa(hs, {"f": ["x1", "x2"]})
    with pytest.raises(StatisticsError, match="mapping"):
        cfa(hs, 42)


# ------------------------------------------------------------------ CLI
def test_cli_cfa_json(tmp_path, cli_json):
    model = tmp_path / "model.yaml"
    model.write_text("visual: [x1, x2, x3]\ntextual: [x4, x5, x6]\nspeed: [x7, x8, x9]\n")
    out = cli_json("cfa", HERE / "data" / "HolzingerSwineford1939.csv", "--model", model, "--json")
    assert set(out["fit"]) == {"chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low",
                               "rmsea_ci_high", "srmr", "aic", "bic"}
    assert set(out["loadings"][0]) == {"factor", "item_id", "estimate", "std_all", "se"}
    assert_allclose(out["fit"]["chi2"], FIX["hs"]["fit"]["chisq"], rtol=1e-6)
    assert out["factor_correlations"][0]["factor"] == "visual"


def test_cli_cfa_instrument_and_errors(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["cfa", str(HERE / "data" / "bfi.csv"), "--instrument",
                             str(ROOT / "instruments" / "bfi" / "bfi-1.0.yaml")])
    assert r.exit_code == 0, r.output
    assert "Loadings" in r.output and "agreeableness" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("visual: x1\n")
    r = runner.invoke(main, ["cfa", str(HERE / "data" / "bfi.csv"), "--model", str(bad)])
    assert r.exit_code == 1
    r = runner.invoke(main, ["cfa", str(HERE / "data" / "bfi.csv")])
    assert r.exit_code == 2


def test_cli_correlations_json(cli_json):
    out = cli_json("correlations", HERE / "data" / "bfi.csv", "--items", "A1,A2,A3,A4,A5",
                   "--method", "polychoric", "--json")
    ref = json.loads((HERE / "fixtures" / "polychoric.json").read_text())["a5"]["rho"]
    got = np.array([[row[c] for c in ["A1", "A2", "A3", "A4", "A5"]] for row in out["matrix"]])
    assert_allclose(got, np.array(ref), atol=1e-7)
