"""instrval.stats.omega against R psych::omega (tests/fixtures/r/omega.R -> omega_bfi.json).

omega rests on iterative minres fits (the first-order solution and the second-order
factor of Phi), so coefficients are compared at 1e-5 and Schmid-Leiman loadings at 1e-4.
The 5-item, 3-factor case is ill-posed (more parameters than correlations; its
second-order factor is a Heywood case), and is compared at 1e-4."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import HeywoodWarning
from instrval.stats.omega import omega, omega_one_factor

ROOT = Path(__file__).resolve().parents[1]
FIX = json.loads((ROOT / "tests/fixtures/omega_bfi.json").read_text())
BFI = pd.read_csv(ROOT / "tests/data/bfi.csv", index_col=0).iloc[:, :25]


def _num(v):
    return np.array([np.nan if x in (None, "NA") else x for x in v], dtype=float)


@pytest.mark.parametrize("key,n_factors,n_items,tol", [
    ("bfi25_3", 3, 25, 1e-5), ("bfi25_5", 5, 25, 1e-5), ("agree_1", 1, 5, 1e-5),
    ("agree_3", 3, 5, 1e-4)])
def test_omega_matches_psych(key, n_factors, n_items, tol):
    c = FIX["cases"][key]
    x = BFI[c["items"]]
    if key == "agree_3":
        with pytest.warns(HeywoodWarning):
            res = omega(x, n_factors=n_factors)
    else:
        res = omega(x, n_factors=n_factors)
    assert_allclose(res.omega_hierarchical, c["omega_h"], atol=tol)
    assert_allclose(res.omega_total, c["omega_total"], atol=tol)
    assert_allclose(res.omega_limit, c["omega_lim"], atol=tol)
    assert_allclose(res.alpha, c["alpha"], atol=1e-12)
    assert_allclose(res.g6, c["G6"], atol=1e-12)
    assert_allclose(res.ecv, c["ECV"], atol=10 * tol)
    sl = np.array(c["sl"]).reshape(n_items, -1)
    assert list(res.schmid.columns[1:]) == c["sl_cols"]
    assert_allclose(res.schmid.drop(columns="item_id").to_numpy(), sl, atol=10 * tol)
    assert_allclose(res.groups["total"], _num(c["group_total"]), atol=10 * tol)
    assert_allclose(res.groups["general"], _num(c["group_general"]), atol=10 * tol)
    assert_allclose(res.groups["group"], _num(c["group_group"]), atol=10 * tol)
    reversed_r = tuple(i for i, k in zip(c["items"], c["key"], strict=True) if k < 0)
    assert res.reversed_items == reversed_r


def test_headline_bfi25():
    res = omega(BFI, n_factors=5)
    assert round(res.omega_hierarchical, 4) == 0.4617
    assert round(res.omega_total, 4) == 0.8748


def test_omega_one_factor():
    ref = FIX["agree_one_factor"]
    res = omega_one_factor(BFI[[f"A{i}" for i in range(1, 6)]])
    assert_allclose(res.omega, ref["omega"], atol=1e-6)
    assert_allclose(res.loadings["loading"], ref["loadings"], atol=1e-5)
    assert res.reversed_items == ("A1",)


def test_to_dict_and_cli(cli_json):
    d = omega(BFI[[f"A{i}" for i in range(1, 6)]], n_factors=1).to_dict()
    json.dumps(d, allow_nan=False)
    d = cli_json("omega", ROOT / "tests/data/bfi.csv", "--instrument",
                 ROOT / "instruments/bfi/bfi-1.0.yaml", "--factors", "5", "--json")
    # reverse keys applied from the instrument; omega is invariant to them
    assert_allclose(d["omega_hierarchical"], FIX["cases"]["bfi25_5"]["omega_h"], atol=1e-5)
    assert_allclose(d["omega_total"], FIX["cases"]["bfi25_5"]["omega_total"], atol=1e-5)
