"""correlation_matrix (Pearson / polychoric / tetrachoric) against R.

Reference values: tests/fixtures/polychoric.json (tests/fixtures/r/polychoric.R): R's
cor(x, use="pairwise"), cor(na.omit(x)), psych::pairwiseCount, psych::polychoric,
psych::tetrachoric.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import SmoothingWarning, StatisticsError
from instrval.stats.correlation import CorrelationResult, cor_smooth, correlation_matrix

HERE = Path(__file__).parent
FIX = json.loads((HERE / "fixtures" / "polychoric.json").read_text())


def test_pearson_pairwise_matches_r(bfi_items):
    res = correlation_matrix(bfi_items)
    assert isinstance(res, CorrelationResult)
    assert_allclose(res.matrix.to_numpy(), np.array(FIX["pearson_pairwise"]), atol=1e-13)
    # psych's n is nrow(x), incomplete rows included, for pairwise
    assert res.n == 2800
    assert_allclose(res.n_pairwise.to_numpy(), np.array(FIX["pairwise_n"]), atol=0)
    assert res.method == "pearson" and res.missing == "pairwise"
    assert res.thresholds is None and not res.smoothed


def test_pearson_listwise_matches_r(bfi_items):
    res = correlation_matrix(bfi_items, missing="listwise")
    assert_allclose(res.matrix.to_numpy(), np.array(FIX["pearson_listwise"]), atol=1e-13)
    assert res.n == FIX["pearson_listwise_n"] == 2436
    assert (res.n_pairwise.to_numpy() == 2436).all()


def test_polychoric_through_correlation_matrix(bfi_items):
    res = correlation_matrix(bfi_items.iloc[:, :5], method="polychoric")
    assert_allclose(res.matrix.to_numpy(), np.array(FIX["a5"]["rho"]), atol=1e-7)
    assert res.n == 2800 and res.method == "polychoric"
    assert list(res.thresholds.columns) == ["item_id"] + [f"tau_{k}" for k in range(1, 6)]


def test_tetrachoric_through_correlation_matrix():
    ab = pd.read_csv(HERE / "data" / "ability.csv")
    res = correlation_matrix(ab, method="tetrachoric", smooth=False)
    assert_allclose(res.matrix.to_numpy(), np.array(FIX["ability"]["rho"]), atol=1e-7)
    assert res.n == 1525 and not res.smoothed


def test_pearson_smoothing_of_a_non_positive_definite_pairwise_matrix():
    # Pairwise deletion can give an indefinite matrix: a-b and b-c correlate +1 on their
    # complete rows, a-c correlates -1 on theirs.
    nan = np.nan
    df = pd.DataFrame({
        "a": [1, 2, 3, 1, 2, 3, nan, nan, nan],
        "b": [1, 2, 3, nan, nan, nan, 1, 2, 3],
        "c": [nan, nan, nan, 3, 2, 1, 1, 2, 3],
    })
    raw = correlation_matrix(df, smooth=False)
    assert_allclose(raw.matrix.to_numpy(), [[1, 1, -1], [1, 1, 1], [-1, 1, 1]], atol=1e-15)
    with pytest.warns(SmoothingWarning):
        sm = correlation_matrix(df)
    assert sm.smoothed
    with pytest.warns(SmoothingWarning):  # cor_smooth itself is checked against psych
        expected, _ = cor_smooth(raw.matrix.to_numpy())
    assert_allclose(sm.matrix.to_numpy(), expected, atol=1e-15)
    assert np.linalg.eigvalsh(sm.matrix.to_numpy()).min() > 0
    assert_allclose(np.diag(sm.matrix.to_numpy()), 1.0, atol=1e-15)
    assert sm.n == 9


def test_hand_worked_pearson():
    df = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 1, 4, 3]})
    # cov = 1.0 (divisor n-1: 3/3), var = 5/3 each: r = 3/5
    assert_allclose(correlation_matrix(df).matrix.loc["a", "b"], 0.6, atol=1e-15)


def test_to_dict_and_frame(bfi_items):
    res = correlation_matrix(bfi_items.iloc[:, :3], method="polychoric")
    d = res.to_dict()
    json.dumps(d)
    assert set(d) == {"method", "missing", "n", "smoothed", "matrix", "n_pairwise", "thresholds"}
    assert d["matrix"][1]["item_id"] == "A2"
    fr = res.to_frame()
    assert list(fr.columns) == ["item_id", "A1", "A2", "A3"]


def test_bad_options(bfi_items):
    with pytest.raises(StatisticsError, match="method must be one of 'pearson'.*got 'spearman'"):
        correlation_matrix(bfi_items, method="spearman")
    with pytest.raises(StatisticsError, match="missing must be one of 'pairwise'.*got 'none'"):
        correlation_matrix(bfi_items, missing="none")
    with pytest.raises(StatisticsError, match="no variance|without variance"):
        correlation_matrix(pd.DataFrame({"a": [1, 1, 1], "b": [1, 2, 3]}))
