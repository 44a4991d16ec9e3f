"""Tests of instrval.stats.scoring against psych::scoreItems and psych::factor.scores
(tests/fixtures/scoring.json, written by tests/fixtures/r/scoring.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.io.instrument import read_instrument
from instrval.stats.efa import efa
from instrval.stats.scoring import factor_scores, score_items

HERE = Path(__file__).parent
ROOT = HERE.parent
FIX = json.loads((HERE / "fixtures" / "scoring.json").read_text())
TOL = 1e-10  # scores and scale statistics: same arithmetic as psych


def _arr(x):
    return np.array([[np.nan if v is None or v == "NA" else v for v in row] for row in x],
                    dtype=float)


@pytest.fixture(scope="module")
def bfi500(bfi_items):
    return bfi_items.iloc[: FIX["n_rows"]].copy()


@pytest.mark.parametrize("case", FIX["scoring"],
                         ids=[f"{c['impute']}-{c['totals']}" for c in FIX["scoring"]])
def test_score_items_matches_psych(case, bfi500):
    method = "sum" if case["totals"] else "mean"
    r = score_items(bfi500, keys=FIX["keys"], method=method, impute=case["impute"],
                    min_items=0, scale_range=(1, 6))
    assert_allclose(r.scores.to_numpy(), _arr(case["scores"]), rtol=0, atol=TOL)
    assert_allclose(r.scales["alpha"], case["alpha"], rtol=0, atol=TOL)
    assert_allclose(r.scales["g6"], case["g6"], rtol=0, atol=TOL)
    assert_allclose(r.scales["average_r"], case["average_r"], rtol=0, atol=TOL)
    assert_allclose(r.correlations.to_numpy(), _arr(case["cor"]), rtol=0, atol=TOL)
    # psych's corrected: raw r below the diagonal, corrected above, alpha on it
    c = _arr(case["corrected"])
    up = np.triu_indices(5, 1)
    assert_allclose(r.corrected.to_numpy()[up], c[up], rtol=0, atol=TOL)
    assert_allclose(np.diag(r.corrected.to_numpy()), np.diag(c), rtol=0, atol=TOL)


def test_prorated_sum_is_psych_mean_times_items(bfi500):
    ref = _arr(FIX["scoring"][0]["scores"])  # impute none, means
    r = score_items(bfi500, keys=FIX["keys"], method="sum", min_items=0, scale_range=(1, 6))
    assert_allclose(r.scores.to_numpy(), ref * 5, rtol=0, atol=TOL)
    assert "prorated" in r.rule


def test_half_rule_by_hand():
    d = pd.DataFrame({"a": [1, 2, None, None], "b": [2, None, None, 4],
                      "c": [3, None, 5, None], "d": [4, 4, 1, None]})
    r = score_items(d, keys={"s": ["a", "b", "c", "-d"]}, scale_range=(1, 5))
    # row 0: 1,2,3,(6-4)=2 -> 2.0; row 1: 2,(6-4)=2 answered 2 of 4 -> 2.0 (half rule holds)
    # row 2: 5,(6-1)=5 -> 5.0; row 3: one of four answered -> missing
    assert_allclose(r.scores["s"].to_numpy(), [2.0, 2.0, 5.0, np.nan])
    assert r.n_answered["s"].tolist() == [4, 2, 2, 1]
    r3 = score_items(d, keys={"s": ["a", "b", "c", "-d"]}, scale_range=(1, 5), min_items=3)
    assert_allclose(r3.scores["s"].to_numpy(), [2.0, np.nan, np.nan, np.nan])
    assert "at least 3" in r3.rule


def test_instrument_keys_and_range(bfi500):
    inst = read_instrument(ROOT / "instruments" / "bfi" / "bfi-1.0.yaml")
    r = score_items(bfi500, instrument=inst, min_items=0)
    ref = _arr(FIX["scoring"][0]["scores"])
    assert list(r.scores.columns) == ["agreeableness", "conscientiousness", "extraversion",
                                      "neuroticism", "openness"]
    assert_allclose(r.scores.to_numpy(), ref, rtol=0, atol=TOL)
    assert r.keys["agreeableness"][0] == "-A1"
    d = r.to_dict()
    assert d["scales"][0]["scale"] == "agreeableness" and d["impute"] == "none"


def test_score_items_errors(bfi500):
    with pytest.raises(StatisticsError, match="method must be"):
        score_items(bfi500, keys=FIX["keys"], method="median")
    with pytest.raises(StatisticsError, match="impute must be"):
        score_items(bfi500, keys=FIX["keys"], impute="zero")
    with pytest.raises(StatisticsError, match="'Z9' not found"):
        score_items(bfi500, keys={"s": ["A1", "Z9"]})
    with pytest.raises(StatisticsError, match="instrument= or keys="):
        score_items(bfi500)
    bad = bfi500[["A1", "A2"]].astype(object).copy()
    bad.iloc[3, 1] = "x"
    with pytest.raises(StatisticsError, match="'x' is not a number"):
        score_items(bad, keys={"s": ["A1", "A2"]})


class _Given:
    """An EFA solution given by R's loadings and Phi."""

    def __init__(self, items, loadings, phi, names):
        self.loadings = pd.DataFrame(loadings, columns=names)
        self.loadings.insert(0, "item_id", items)
        self.phi = pd.DataFrame(phi, index=names, columns=names)


@pytest.mark.parametrize("method,key", [("regression", "regression"),
                                        ("bartlett", "bartlett")])
def test_factor_scores_match_psych_given_loadings(hs, method, key):
    f = FIX["factor"]
    items = [f"x{i}" for i in range(1, 10)]
    sol = _Given(items, _arr(f["loadings"]), _arr(f["phi"]), f["factor_names"])
    r = factor_scores(hs[items], sol, method=method)
    assert_allclose(r.weights[f["factor_names"]].to_numpy(), _arr(f[key]["weights"]),
                    rtol=0, atol=1e-10)
    assert_allclose(r.scores.to_numpy(), _arr(f[key]["scores"]), rtol=0, atol=1e-9)
    if method == "regression":
        assert_allclose(list(r.r2.values()), f[key]["r2"], rtol=0, atol=1e-10)


def test_factor_scores_from_instrval_efa(hs):
    """From instrval's own EFA: agrees with psych to the EFA's own tolerance."""
    f = FIX["factor"]
    items = [f"x{i}" for i in range(1, 10)]
    sol = efa(hs[items], n_factors=3, method="minres", rotation="oblimin")
    r = factor_scores(hs[items], sol, method="regression")
    ref = _arr(f["regression"]["scores"])
    # align factor order and sign by correlation with psych's scores
    got = r.scores.to_numpy()
    for j in range(3):
        cors = [abs(np.corrcoef(got[:, k], ref[:, j])[0, 1]) for k in range(3)]
        k = int(np.argmax(cors))
        sign = np.sign(np.corrcoef(got[:, k], ref[:, j])[0, 1])
        assert_allclose(sign * got[:, k], ref[:, j], rtol=0, atol=1e-4)


def test_factor_scores_errors(hs):
    with pytest.raises(StatisticsError, match="method must be"):
        factor_scores(hs, object(), method="tenberge")
    with pytest.raises(StatisticsError, match="loadings table"):
        factor_scores(hs, object())
