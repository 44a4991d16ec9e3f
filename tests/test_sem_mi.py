"""Modification indices and standardized residuals against R lavaan 0.6.14.

Reference values: tests/fixtures/sem_mi.json, written by tests/fixtures/r/sem_mi.R
(``modindices(fit)`` and ``residuals(fit, type = "standardized")`` for two Holzinger-Swineford
models, the second with a residual covariance and a mean structure).

Tolerances: MI atol 2e-4, EPC and standardized EPC atol 2e-4, standardized residuals
atol 2e-4 and rtol 5e-4 (the residual of the freed x7 ~~ x8 is almost fitted, its z the
ratio of two small numbers: -2.17488 here, -2.17539 in lavaan) -- the statistics are ratios of small quantities evaluated at the optimum, and
lavaan's optimum is precise to about 1e-6 in the estimates.  Residuals the model reproduces
exactly (variances, the freed x7 ~~ x8, the means) have no standard error: instrval gives
NaN where lavaan prints the ratio of two rounding errors.
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

HERE = Path(__file__).parent
FIX = json.loads((HERE / "fixtures" / "sem_mi.json").read_text())
KEYS = ["three", "means"]


@pytest.fixture(scope="module")
def fits(hs):
    return {k: cfa(hs, FIX[k]["syntax"], mi=True) for k in KEYS}


@pytest.mark.parametrize("key", KEYS)
def test_modification_indices_match_lavaan(fits, key):
    ours = fits[key].modification_indices
    ref = pd.DataFrame(FIX[key]["mi"])
    m = ref.merge(ours, on=["lhs", "op", "rhs"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
    assert_allclose(m["mi_y"], m["mi_x"], atol=2e-4)
    assert_allclose(m["epc_y"], m["epc_x"], atol=2e-4)
    assert_allclose(m["sepc_all"], m["sepc.all"], atol=2e-4)
    assert ours["mi"].is_monotonic_decreasing


def test_largest_index_is_the_known_one(fits):
    top = fits["three"].modification_indices.iloc[0]
    assert (top["lhs"], top["op"], top["rhs"]) == ("visual", "=~", "x9")
    assert_allclose(top["mi"], 36.411, atol=1e-3)


@pytest.mark.parametrize("key", KEYS)
def test_standardized_residuals_match_lavaan(fits, key):
    sr = fits[key].standardized_residuals
    ref = np.array(FIX[key]["resid_cov"])
    raw = np.array(FIX[key]["raw_cov"])
    items = [f"x{i}" for i in range(1, 10)]
    cov = sr[sr["item_id2"] != ""]
    assert len(cov) == 45
    for r in cov.itertuples():
        i, j = items.index(r.item_id), items.index(r.item_id2)
        assert_allclose(r.residual, raw[i, j], atol=1e-5)
        if np.isnan(r.z):
            # only residuals the model reproduces exactly have no standard error
            assert abs(raw[i, j]) < 1e-5, (r.item_id, r.item_id2)
        else:
            assert_allclose(r.z, ref[i, j], rtol=5e-4, atol=2e-4,
                            err_msg=f"{r.item_id}, {r.item_id2}")
    assert cov["z"].notna().sum() >= 35
    if key == "means":
        assert (sr["item_id2"] == "").sum() == 9


def test_to_dict_carries_them_only_when_asked(fits, hs):
    d = fits["three"].to_dict()
    assert {"modification_indices", "standardized_residuals"} <= set(d)
    assert "NaN" not in json.dumps(d)
    plain = cfa(hs, FIX["three"]["syntax"])
    assert plain.modification_indices is None
    assert "modification_indices" not in plain.to_dict()


def test_mi_with_a_mapping_model_and_wlsmv_refused(hs, bfi, fits):
    res = cfa(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                   "speed": ["x7", "x8", "x9"]}, mi=True)
    assert_allclose(res.modification_indices["mi"],
                    fits["three"].modification_indices["mi"], rtol=1e-8)
    with pytest.raises(StatisticsError, match="ML and MLR only"):
        cfa(bfi, {"A": ["A1", "A2", "A3"]}, estimator="wlsmv", mi=True)


def test_cli_cfa_mi(tmp_path):
    import instrval.cli.cfa  # noqa: F401  (registers the command)
    from instrval.cli._base import main

    model = tmp_path / "hs.lav"
    model.write_text(FIX["three"]["syntax"])
    data = str(HERE / "data" / "HolzingerSwineford1939.csv")
    out = CliRunner().invoke(main, ["cfa", data, "--model", str(model), "--mi", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["modification_indices"][0]["rhs"] == "x9"
    assert len(doc["standardized_residuals"]) == 45
    out = CliRunner().invoke(main, ["cfa", data, "--model", str(model), "--mi"])
    assert out.exit_code == 0 and "Modification indices" in out.output
