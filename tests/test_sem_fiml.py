"""FIML (lavaan ``missing = "ml"``) against R lavaan 0.6.14.

Reference values: tests/fixtures/sem_fiml.json, written by tests/fixtures/r/sem_fiml.R, which
also writes tests/fixtures/hs_missing.csv (Holzinger-Swineford x1..x9 with about 10% of the
answers removed completely at random) -- and bfi's own missing answers (agreeableness and
conscientiousness, all 2,800 rows).

Tolerances: fit measures rtol 1e-6 (SRMR 1e-5, RMSEA interval 1e-5); estimates and SEs atol
1e-4, standardized values atol 1e-4.  The saturated model by EM agrees with lavaan's
``unrestricted.logl`` to 1e-11 relative.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.stats.cfa import cfa
from instrval.stats.sem.ml import em_moments

HERE = Path(__file__).parent
FIX = json.loads((HERE / "fixtures" / "sem_fiml.json").read_text())
HSM = pd.read_csv(HERE / "fixtures" / "hs_missing.csv")
FIT_MAP = {"chi2": "chisq", "df": "df", "pvalue": "pvalue", "cfi": "cfi", "tli": "tli",
           "rmsea": "rmsea", "rmsea_ci_low": "rmsea.ci.lower",
           "rmsea_ci_high": "rmsea.ci.upper", "aic": "aic", "bic": "bic", "loglik": "logl",
           "loglik_unrestricted": "unrestricted.logl", "baseline_chi2": "baseline.chisq",
           "baseline_df": "baseline.df", "fmin": "fmin", "npar": "npar", "n": "ntotal"}


@pytest.fixture(scope="module")
def fits(bfi):
    return {"hs_missing": cfa(HSM, FIX["hs_missing"]["syntax"], missing="ml"),
            "bfi": cfa(bfi, FIX["bfi"]["syntax"], missing="ml")}


@pytest.mark.parametrize("key", ["hs_missing", "bfi"])
def test_fiml_fit_matches_lavaan(fits, key):
    res, ref = fits[key], FIX[key]["fit"]
    assert res.converged and res.missing == "ml"
    for ours, theirs in FIT_MAP.items():
        rtol = 1e-5 if ours.startswith("rmsea_ci") else 1e-6
        # lavaan's p-value is 1 - pchisq, which loses everything below 1e-16
        atol = 1e-15 if ours == "pvalue" else 0.0
        assert_allclose(res.fit[ours], ref[theirs], rtol=rtol, atol=atol, err_msg=ours)
    assert_allclose(res.fit["srmr"], ref["srmr"], rtol=1e-5)


@pytest.mark.parametrize("key", ["hs_missing", "bfi"])
def test_fiml_parameters_match_lavaan(fits, key):
    ref = pd.DataFrame(FIX[key]["params"])
    m = ref.merge(fits[key].parameters, on=["lhs", "op", "rhs"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
    assert_allclose(m["estimate"], m["est"], atol=1e-4)
    free = m["free"].to_numpy(dtype=bool)
    assert_allclose(m.loc[free, "se_y"], m.loc[free, "se_x"], atol=1e-4)
    assert_allclose(m["std_all"], m["std.all"], atol=1e-4)


def test_fiml_uses_every_row_with_an_answer(fits, hs):
    assert fits["hs_missing"].n == 301
    listwise = cfa(HSM, FIX["hs_missing"]["syntax"])
    assert listwise.n < 200
    assert fits["bfi"].n == 2800


def test_fiml_on_complete_data_equals_ml_with_means(hs):
    syntax = FIX["hs_missing"]["syntax"]
    a = cfa(hs, syntax, missing="ml")
    b = cfa(hs, syntax + "\nx1 ~ 1")          # a mean structure, listwise
    assert_allclose(a.fit["chi2"], b.fit["chi2"], rtol=1e-8)
    assert_allclose(a.loadings["estimate"], b.loadings["estimate"], atol=1e-7)


def test_em_moments_recover_complete_data_moments(hs):
    x = hs[[f"x{i}" for i in range(1, 10)]].to_numpy(float)
    mu, sigma, _, it = em_moments(x)
    assert it <= 2
    assert_allclose(mu, x.mean(axis=0), rtol=1e-12)
    assert_allclose(sigma, np.cov(x.T, bias=True), rtol=1e-10)


def test_fiml_refusals(hs, bfi):
    with pytest.raises(StatisticsError, match="FIML"):
        cfa(HSM, FIX["hs_missing"]["syntax"], missing="ml", estimator="mlr")
    with pytest.raises(StatisticsError, match="FIML"):
        cfa(HSM, FIX["hs_missing"]["syntax"], missing="ml", mi=True)
    d = HSM.copy()
    d["x1"] = np.nan
    d.loc[0, "x1"] = 1.0
    with pytest.raises(StatisticsError, match="fewer than 2 rows: x1"):
        cfa(d, FIX["hs_missing"]["syntax"], missing="ml")


def test_cli_cfa_missing_ml():
    import instrval.cli.cfa  # noqa: F401  (registers the command)
    from instrval.cli._base import main

    model = HERE / "fixtures" / "hs_missing.lav"
    try:
        model.write_text(FIX["hs_missing"]["syntax"])
        out = CliRunner().invoke(main, ["cfa", str(HERE / "fixtures" / "hs_missing.csv"),
                                        "--model", str(model), "--missing", "ml", "--json"])
    finally:
        model.unlink()
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert_allclose(doc["fit"]["chi2"], FIX["hs_missing"]["fit"]["chisq"], rtol=1e-6)
    assert doc["n"] == 301
