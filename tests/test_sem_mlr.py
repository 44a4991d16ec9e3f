"""Robust ML (MLR) against R lavaan 0.6.14 ``estimator = "MLR"``.

Reference values: tests/fixtures/sem_mlr.json, written by tests/fixtures/r/sem_mlr.R
(Holzinger-Swineford three factors; with a residual covariance and an intercept; bfi five
factors on 25 Likert items; two groups with equal loadings).

Tolerances: the scaled statistics at rtol 1e-6 (lavaan's optimum and its finite-difference
Hessian agree with instrval's to about 5e-7), p-values at rtol 1e-4; robust SEs at
atol 1e-4 (observed differences below 1e-5).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose

from instrval.stats.cfa import cfa
from instrval.stats.sem.ml import fit_ml, group_data
from instrval.stats.sem.partable import build_partable
from instrval.stats.sem.robust import mlr

HERE = Path(__file__).parent
FIX = json.loads((HERE / "fixtures" / "sem_mlr.json").read_text())
SINGLE = ["hs_three", "hs_correlated_residuals", "bfi_five"]
SCALED = {"chi2_scaled": "chisq.scaled", "scaling_factor": "chisq.scaling.factor",
          "baseline_chi2_scaled": "baseline.chisq.scaled",
          "baseline_scaling_factor": "baseline.chisq.scaling.factor",
          "cfi_scaled": "cfi.scaled", "tli_scaled": "tli.scaled",
          "rmsea_scaled": "rmsea.scaled", "rmsea_ci_low_scaled": "rmsea.ci.lower.scaled",
          "rmsea_ci_high_scaled": "rmsea.ci.upper.scaled", "chi2": "chisq", "cfi": "cfi",
          "df_scaled": "df.scaled"}


@pytest.fixture(scope="module")
def fits(hs, bfi):
    out = {k: cfa(hs if FIX[k]["data"] == "hs" else bfi, FIX[k]["syntax"], estimator="mlr")
           for k in SINGLE}
    ref = FIX["hs_groups"]
    pt = build_partable(ref["syntax"], groups=("Pasteur", "Grant-White"),
                        group_equal=("loadings",))
    gd = [group_data(hs.loc[hs["school"] == g, list(pt.ov)].to_numpy(float), g, pt.ov)
          for g in ("Pasteur", "Grant-White")]
    out["hs_groups"] = mlr(fit_ml(pt, gd))
    return out


@pytest.mark.parametrize("key", [*SINGLE, "hs_groups"])
def test_scaled_fit_matches_lavaan(fits, key):
    fit, ref = fits[key].fit, FIX[key]["fit"]
    for ours, theirs in SCALED.items():
        assert_allclose(fit[ours], ref[theirs], rtol=1e-6, err_msg=ours)
    assert_allclose(fit["pvalue_scaled"], ref["pvalue.scaled"], rtol=1e-4, atol=1e-300)


@pytest.mark.parametrize("key", [*SINGLE, "hs_groups"])
def test_robust_standard_errors_match_lavaan(fits, key):
    ours = fits[key].parameters
    ref = pd.DataFrame(FIX[key]["params"])
    on = ["lhs", "op", "rhs"] + (["group"] if key == "hs_groups" else [])
    m = ref.merge(ours, on=on, how="outer", indicator=True)
    assert (m["_merge"] == "both").all()
    assert_allclose(m["estimate"], m["est"], atol=1e-4)
    free = m["free"].to_numpy(dtype=bool)
    assert_allclose(m.loc[free, "se_y"], m.loc[free, "se_x"], atol=1e-4)


def test_mlr_mapping_model_and_estimator_label(hs, fits):
    res = cfa(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                   "speed": ["x7", "x8", "x9"]}, estimator="mlr")
    assert res.estimator == "mlr"
    assert_allclose(res.fit["chi2_scaled"], fits["hs_three"].fit["chi2_scaled"], rtol=1e-9)
    # the ML estimates are unchanged; only the SEs differ
    ml = cfa(hs, FIX["hs_three"]["syntax"])
    assert_allclose(res.loadings["estimate"], ml.loadings["estimate"], atol=1e-7)
    assert not np.allclose(res.loadings["se"].dropna(), ml.loadings["se"].dropna())


def test_cli_cfa_mlr_json(tmp_path):
    import instrval.cli.cfa  # noqa: F401  (registers the command)
    from instrval.cli._base import main

    model = tmp_path / "hs.lav"
    model.write_text(FIX["hs_three"]["syntax"])
    out = CliRunner().invoke(main, ["cfa", str(HERE / "data" / "HolzingerSwineford1939.csv"),
                                    "--model", str(model), "--estimator", "mlr", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["estimator"] == "mlr"
    assert_allclose(doc["fit"]["chi2_scaled"], FIX["hs_three"]["fit"]["chisq.scaled"],
                    rtol=1e-6)
    assert_allclose(doc["fit"]["cfi_scaled"], FIX["hs_three"]["fit"]["cfi.scaled"], rtol=1e-6)
