"""WLSMV CFA models in lavaan syntax against R lavaan 0.6.14 (ordered = TRUE, delta
parameterization).

Reference values: tests/fixtures/sem_wlsmv.json, written by tests/fixtures/r/sem_wlsmv.R
(bfi: two factors with two residual correlations; a higher-order factor over agreeableness,
conscientiousness and extraversion; two orthogonal factors with std.lv).

Tolerances: fit measures rtol 1e-6; estimates, SEs and standardized values atol 1e-4
(observed differences below 3e-6).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.stats.cfa import cfa
from instrval.stats.cfa_ordinal import OrdinalCFAResult, cfa_ordinal

HERE = Path(__file__).parent
FIX = json.loads((HERE / "fixtures" / "sem_wlsmv.json").read_text())
KEYS = [k for k in FIX if k != "versions"]
FIT_MAP = {"chi2": "chisq", "df": "df", "chi2_scaled": "chisq.scaled",
           "scaling_factor": "chisq.scaling.factor", "baseline_chi2": "baseline.chisq",
           "baseline_chi2_scaled": "baseline.chisq.scaled", "cfi": "cfi", "tli": "tli",
           "cfi_scaled": "cfi.scaled", "tli_scaled": "tli.scaled", "rmsea": "rmsea",
           "rmsea_scaled": "rmsea.scaled", "srmr": "srmr", "npar": "npar"}


@pytest.fixture(scope="module")
def fits(bfi):
    out = {}
    for k in KEYS:
        ref = FIX[k]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[k] = cfa(bfi[ref["items"]], ref["syntax"], estimator="wlsmv",
                         std_lv=ref["std_lv"], orthogonal=ref["orthogonal"])
    return out


@pytest.mark.parametrize("key", KEYS)
def test_fit_matches_lavaan(fits, key):
    res, ref = fits[key], FIX[key]["fit"]
    assert isinstance(res, OrdinalCFAResult) and res.converged
    for ours, theirs in FIT_MAP.items():
        assert_allclose(res.fit[ours], ref[theirs], rtol=1e-6, err_msg=ours)


@pytest.mark.parametrize("key", KEYS)
def test_parameters_match_lavaan(fits, key):
    ref = pd.DataFrame(FIX[key]["params"])
    ref = ref[ref["op"].isin(["=~", "~~", "|"])]
    m = ref.merge(fits[key].parameters, on=["lhs", "op", "rhs"], how="left", indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
    assert_allclose(m["estimate"], m["est"], atol=1e-4)
    free = m["free"].to_numpy(dtype=bool)
    assert_allclose(m.loc[free, "se_y"], m.loc[free, "se_x"], atol=1e-4)
    assert_allclose(m["std_all"], m["std.all"], atol=1e-4)


def test_syntax_equals_mapping_model(bfi, fits):
    items = FIX["std_lv_orthogonal"]["items"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = cfa_ordinal(bfi[items], "agree =~ A1 + A2 + A3 + A4 + A5\n"
                                    "consc =~ C1 + C2 + C3 + C4 + C5")
        b = cfa_ordinal(bfi[items], {"agree": items[:5], "consc": items[5:]})
    for k in ("chi2", "chi2_scaled", "cfi_scaled", "rmsea_scaled", "srmr"):
        assert_allclose(a.fit[k], b.fit[k], rtol=1e-8, err_msg=k)
    assert_allclose(a.loadings["estimate"], b.loadings["estimate"], atol=1e-7)
    assert_allclose(a.nacov.to_numpy(), b.nacov.to_numpy(), rtol=1e-12)


def test_residual_variances_are_not_parameters(bfi):
    with pytest.raises(StatisticsError, match="line 2: the residual variance of the ordered"):
        cfa_ordinal(bfi, "agree =~ A1 + A2 + A3\nA1 ~~ A1")
    with pytest.raises(StatisticsError, match="intercepts are not available"):
        cfa_ordinal(bfi, "agree =~ A1 + A2 + A3\nA1 ~ 1")


def test_cli_wlsmv_syntax(tmp_path):
    import instrval.cli.cfa  # noqa: F401  (registers the command)
    from instrval.cli._base import main

    ref = FIX["correlated_residuals"]
    model = tmp_path / "m.lav"
    model.write_text(ref["syntax"])
    out = CliRunner().invoke(main, ["cfa", str(HERE / "data" / "bfi.csv"), "--model",
                                    str(model), "--estimator", "wlsmv", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert_allclose(doc["fit"]["chi2_scaled"], ref["fit"]["chisq.scaled"], rtol=1e-6)
    assert np.isfinite(doc["fit"]["cfi_scaled"])
