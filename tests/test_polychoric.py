"""Polychoric and tetrachoric correlations against R psych 2.2.9.

Reference values: tests/fixtures/polychoric.json, written by tests/fixtures/r/polychoric.R.
instrval ports R's optimize() (Brent's fmin) step for step and computes the bivariate normal
probabilities with Genz's algorithm, the one mnormt uses, so the estimates are compared at
1e-7 (psych's own optimize() tolerance makes it accurate only to about 1e-4 of the true
maximum-likelihood value; instrval reproduces psych's stopping point, not the exact optimum).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, stats

from instrval.errors import DataQualityWarning, SmoothingWarning, StatisticsError
from instrval.stats.polychoric import (
    bivariate_normal_cdf,
    cor_smooth,
    polychoric,
    tetrachoric,
)

HERE = Path(__file__).parent
FIX = json.loads((HERE / "fixtures" / "polychoric.json").read_text())
RHO_TOL = 1e-7      # see the module docstring
TAU_TOL = 1e-12     # thresholds are closed-form qnorm() of proportions


def _arr(rows):
    return np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=float)


@pytest.fixture(scope="module")
def bfi25(bfi_items):
    return polychoric(bfi_items)


# ------------------------------------------------------------------ bivariate normal
def _plackett(h: float, k: float, r: float) -> float:
    """Phi2(h, k; r) = Phi(h) Phi(k) + int_0^r phi2(h, k; t) dt (Plackett's identity)."""
    def dens(t):
        return math.exp(-(h * h - 2 * t * h * k + k * k) / (2 * (1 - t * t))) / (
            2 * math.pi * math.sqrt(1 - t * t))
    val, _ = integrate.quad(dens, 0.0, r, epsabs=1e-15, epsrel=1e-13, limit=200)
    return stats.norm.cdf(h) * stats.norm.cdf(k) + val


@pytest.mark.parametrize("h,k,r", [
    (0.3, -0.2, 0.1), (1.2, 0.4, 0.5), (-1.5, -0.7, 0.8), (0.5, 1.9, -0.6),
    (-0.4, 0.2, 0.95), (1.1, -0.3, -0.97), (2.5, 2.2, 0.99), (-2.0, 1.0, -0.93),
])
def test_bivariate_cdf_against_quadrature(h, k, r):
    assert_allclose(bivariate_normal_cdf(h, k, r), _plackett(h, k, r), atol=1e-13)


def test_bivariate_cdf_closed_forms_and_infinities():
    r = np.array([-0.9, -0.3, 0.0, 0.4, 0.99])
    assert_allclose(bivariate_normal_cdf(0.0, 0.0, r), 0.25 + np.arcsin(r) / (2 * np.pi),
                    atol=1e-15)
    assert_allclose(bivariate_normal_cdf(0.7, -0.4, 0.0),
                    stats.norm.cdf(0.7) * stats.norm.cdf(-0.4), atol=1e-15)
    assert bivariate_normal_cdf(-np.inf, 0.3, 0.5) == 0.0
    assert_allclose(bivariate_normal_cdf(np.inf, 0.3, 0.5), stats.norm.cdf(0.3), atol=1e-16)
    assert_allclose(bivariate_normal_cdf(0.3, np.inf, -0.5), stats.norm.cdf(0.3), atol=1e-16)
    assert bivariate_normal_cdf(np.inf, np.inf, 0.2) == 1.0


# ------------------------------------------------------------------ polychoric
def test_polychoric_bfi25_matches_psych(bfi25):
    ref = FIX["bfi25"]
    assert list(bfi25.matrix.columns) == ref["items"]
    assert_allclose(bfi25.matrix.to_numpy(), _arr(ref["rho"]), atol=RHO_TOL, rtol=0)
    assert_allclose(bfi25.thresholds.iloc[:, 1:].to_numpy(), _arr(ref["tau"]), atol=TAU_TOL)
    assert bfi25.n == ref["n_obs"] == 2800
    assert bfi25.global_thresholds and bfi25.converged and not bfi25.smoothed
    assert bfi25.corrected_pairs == 0  # psych's global branch never applies `correct`


def test_polychoric_bfi25_pairwise_counts(bfi25):
    assert_allclose(bfi25.n_pairwise.to_numpy(), _arr(FIX["pairwise_n"]), atol=0)


def test_polychoric_a5_and_listwise(bfi_items):
    res = polychoric(bfi_items.iloc[:, :5])
    assert_allclose(res.matrix.to_numpy(), _arr(FIX["a5"]["rho"]), atol=RHO_TOL, rtol=0)
    lw = polychoric(bfi_items.iloc[:, :5], missing="listwise")
    ref = FIX["a5_listwise"]
    assert_allclose(lw.matrix.to_numpy(), _arr(ref["rho"]), atol=RHO_TOL, rtol=0)
    assert_allclose(lw.thresholds.iloc[:, 1:].to_numpy(), _arr(ref["tau"]), atol=TAU_TOL)
    assert lw.n == ref["n_obs"] == 2709


def test_polychoric_unequal_categories_uses_psych_per_pair_branch():
    ref = FIX["nonglobal"]
    data = pd.DataFrame(ref["data"], columns=ref["items"], dtype=float)
    with pytest.warns(DataQualityWarning, match="equal number of response alternatives"):
        res = polychoric(data)
    assert not res.global_thresholds
    assert res.corrected_pairs > 0  # empty cells got correct = .5 in this branch
    assert_allclose(res.matrix.to_numpy(), _arr(ref["rho"]), atol=RHO_TOL, rtol=0)
    # psych reports the global thresholds even here; qnorm(1) = Inf is null in the JSON
    tau = _arr(ref["tau"])
    tau[np.isnan(tau)] = np.inf
    assert_allclose(res.thresholds.iloc[:, 1:].to_numpy(), tau, atol=TAU_TOL)


def test_polychoric_is_symmetric_with_unit_diagonal(bfi25):
    m = bfi25.matrix.to_numpy()
    assert_allclose(m, m.T, atol=0)
    assert_allclose(np.diag(m), 1.0, atol=0)


def test_polychoric_to_dict_is_plain_json(bfi_items):
    d = polychoric(bfi_items.iloc[:, :3]).to_dict()
    text = json.dumps(d)
    assert "NaN" not in text
    assert d["matrix"][0]["item_id"] == "A1"
    assert set(d["thresholds"][0]) == {"item_id", "tau_1", "tau_2", "tau_3", "tau_4", "tau_5"}


# ------------------------------------------------------------------ tetrachoric
def test_tetrachoric_ability_matches_psych():
    ab = pd.read_csv(HERE / "data" / "ability.csv")
    ref = FIX["ability"]
    res = tetrachoric(ab)
    assert list(res.matrix.columns) == ref["items"]
    assert_allclose(res.matrix.to_numpy(), _arr(ref["rho"]), atol=RHO_TOL, rtol=0)
    assert_allclose(res.thresholds["tau_1"].to_numpy(), np.array(ref["tau"]), atol=TAU_TOL)
    assert res.n == ref["n_obs"] == 1525


def test_tetrachoric_empty_cells_and_smoothing():
    ref = FIX["dich"]
    data = pd.DataFrame(ref["data"], columns=ref["items"], dtype=float)
    with pytest.warns(SmoothingWarning):
        res = tetrachoric(data)
    assert res.smoothed and res.corrected_pairs > 0
    assert_allclose(res.matrix.to_numpy(), _arr(ref["rho"]), atol=RHO_TOL, rtol=0)
    raw = tetrachoric(data, smooth=False)
    assert not raw.smoothed
    assert_allclose(raw.matrix.to_numpy(), _arr(FIX["dich_unsmoothed"]["rho"]),
                    atol=RHO_TOL, rtol=0)


def test_tetrachoric_hand_worked_2x2():
    # A balanced table with a:b:c:d = 40:10:10:40 and thresholds 0: the ML estimate is the
    # closed form cos(pi * b / (a + b)) = cos(pi/5) (Pearson's "cosine-pi" is exact here).
    rows = [(0, 0)] * 40 + [(0, 1)] * 10 + [(1, 0)] * 10 + [(1, 1)] * 40
    df = pd.DataFrame(rows, columns=["a", "b"])
    res = tetrachoric(df)
    # Brent's method stops within about tol = 1.2e-4 of the exact value
    assert_allclose(res.matrix.loc["a", "b"], math.cos(math.pi / 5), atol=1.3e-4)
    assert_allclose(res.thresholds["tau_1"].to_numpy(), 0.0, atol=1e-15)


# ------------------------------------------------------------------ cor.smooth
def test_cor_smooth_matches_psych():
    ref = FIX["smooth"]
    with pytest.warns(SmoothingWarning):
        out, done = cor_smooth(np.array(ref["input"]))
    assert done
    assert_allclose(out, np.array(ref["smoothed"]), atol=1e-12)


def test_cor_smooth_leaves_positive_definite_alone():
    r = np.array([[1.0, 0.3], [0.3, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, done = cor_smooth(r)
    assert not done and out is r


# ------------------------------------------------------------------ input errors
def test_bad_inputs_raise_statistics_errors(bfi_items):
    with pytest.raises(StatisticsError, match="missing='both'"):
        polychoric(bfi_items.iloc[:, :3], missing="both")
    with pytest.raises(StatisticsError, match="integer category codes"):
        polychoric(pd.DataFrame({"a": [1.5, 2, 3], "b": [1, 2, 3]}))
    with pytest.raises(StatisticsError, match="no variance"):
        polychoric(pd.DataFrame({"a": [1, 1, 1], "b": [1, 2, 3]}))
    with pytest.raises(StatisticsError, match="at most 8"):
        polychoric(pd.DataFrame({"a": list(range(1, 11)), "b": list(range(10, 0, -1))}))
    with pytest.raises(StatisticsError, match="dichotomous"):
        tetrachoric(bfi_items.iloc[:, :3])
    with pytest.raises(StatisticsError, match="at least 2 items"):
        polychoric(bfi_items.iloc[:, :1])


def test_nullable_integer_columns_are_accepted(bfi_items):
    ints = bfi_items.iloc[:, :3].astype("Int64")
    res = polychoric(ints)
    ref = polychoric(bfi_items.iloc[:, :3])
    assert_allclose(res.matrix.to_numpy(), ref.matrix.to_numpy(), atol=0)


def test_polychoric_empty_categories_in_global_branch(bfi_items):
    # Unused codes inside the common range give -inf or repeated thresholds; their cells have
    # probability 0 and no observations, and psych (and instrval) simply skip them.
    ref = FIX["gaps"]
    gp = bfi_items.iloc[:300, :5].copy()
    gp.loc[gp["A2"] == 1, "A2"] = 2
    gp.loc[gp["A3"] == 3, "A3"] = 4
    res = polychoric(gp)
    assert res.global_thresholds
    assert_allclose(res.matrix.to_numpy(), _arr(ref["rho"]), atol=RHO_TOL, rtol=0)
    tau = _arr(ref["tau"])
    tau[np.isnan(tau)] = -np.inf  # qnorm(0) = -Inf is null in the JSON
    assert_allclose(res.thresholds.iloc[:, 1:].to_numpy(), tau, atol=TAU_TOL)
    assert res.thresholds.loc[1, "tau_1"] == -np.inf


def test_pair_without_common_rows_is_missing_and_not_smoothed():
    nan = np.nan
    d = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3, nan, nan, nan],
                      "b": [1, 2, 3, 2, 1, 3, nan, nan, nan],
                      "c": [nan] * 6 + [1, 2, 3]})
    res = polychoric(d)
    assert np.isnan(res.matrix.loc["a", "c"]) and not res.smoothed
    assert res.n_pairwise.loc["a", "c"] == 0
