"""Binomial intervals (instrval.stats.intervals) against R and against hand computation.

R fixtures: tests/fixtures/relevance.json, written by tests/fixtures/r/relevance.R
(prop.test, binom.test, qbeta). Closed forms: compared at 1e-10 absolute.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.stats.intervals import (
    INTERVAL_METHODS,
    binomial_interval,
    clopper_pearson_interval,
    jeffreys_interval,
    wilson_interval,
    z_value,
)

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "relevance.json").read_text())
CASES = FIXTURE["intervals"]
IDS = [f"{int(c['x'])}/{int(c['n'])}@{c['confidence']}" for c in CASES]
TOL = 1e-10


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("method", ["wilson", "clopper_pearson", "jeffreys", "agresti_coull"])
def test_against_r(case, method):
    low, high = binomial_interval(case["x"], case["n"], confidence=case["confidence"],
                                  method=method)
    assert_allclose([low, high], case[method], rtol=0, atol=TOL)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_wilson_cc_against_r(case):
    """Newcombe's method 4 equals R prop.test(correct=TRUE) except when |x - n/2| < 0.5,
    where R shrinks the correction towards its null p = 0.5 (so for x = n/2 it returns the
    uncorrected interval). instrval deliberately keeps the full correction there."""
    x, n, conf = case["x"], case["n"], case["confidence"]
    got = wilson_interval(x, n, confidence=conf, correct=True)
    if abs(x - n / 2) >= 0.5:
        assert_allclose(got, case["wilson_cc_r"], rtol=0, atol=TOL)
    else:
        assert_allclose(case["wilson_cc_r"], case["wilson"], rtol=0, atol=TOL)
        assert got[0] < case["wilson"][0] and got[1] > case["wilson"][1]


def test_wilson_by_hand_iam_figure():
    """11,382 of 234,196 (the IAM ungated non-relevant item), worked step by step."""
    x, n = 11382, 234196
    z = 1.959963984540054  # qnorm(0.975)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = wilson_interval(x, n)
    assert_allclose([low, high], [centre - half, centre + half], rtol=0, atol=1e-15)
    assert p == 11382 / 234196
    assert low < p < high


def test_wilson_zero_successes_closed_form():
    """For x = 0 the Wilson bounds are 0 and z^2 / (n + z^2)."""
    z = z_value(0.95)
    for n in (1, 10, 20, 1000):
        low, high = wilson_interval(0, n)
        assert low == 0.0
        assert_allclose(high, z * z / (n + z * z), rtol=1e-14)
        low, high = wilson_interval(n, n)
        assert high == 1.0
        assert_allclose(low, n / (n + z * z), rtol=1e-14)


def test_vectorised_equals_scalar_and_zero_n():
    x = np.array([0, 3, 50, 11382, 0])
    n = np.array([20, 7, 1000, 234196, 0])
    for method in INTERVAL_METHODS:
        lo, hi = binomial_interval(x, n, method=method)
        assert lo.shape == (5,)
        for i in range(4):
            slo, shi = binomial_interval(int(x[i]), int(n[i]), method=method)
            assert isinstance(slo, float)
            assert lo[i] == slo and hi[i] == shi
        assert math.isnan(lo[4]) and math.isnan(hi[4])


def test_fractional_counts_allowed_for_wilson_not_clopper():
    lo, hi = wilson_interval(3.5, 10.2)
    assert 0 < lo < 3.5 / 10.2 < hi < 1
    with pytest.raises(StatisticsError, match="whole numbers"):
        clopper_pearson_interval(3.5, 10)


def test_jeffreys_edge_rules():
    assert jeffreys_interval(0, 10)[0] == 0.0
    assert jeffreys_interval(10, 10)[1] == 1.0


@pytest.mark.parametrize("x, n, match", [(5, 3, "0 <= x <= n"), (-1, 3, "0 <= x <= n"),
                                         (float("nan"), 3, "0 <= x <= n"),
                                         ("a", 3, "numbers")])
def test_bad_counts(x, n, match):
    with pytest.raises(StatisticsError, match=match):
        wilson_interval(x, n)


@pytest.mark.parametrize("conf", [0, 1, 1.5, -0.1, True, "95%"])
def test_bad_confidence(conf):
    with pytest.raises(StatisticsError, match="between 0 and 1"):
        wilson_interval(1, 10, confidence=conf)


def test_unknown_method_names_choices():
    with pytest.raises(StatisticsError, match="'score'.*wilson, wilson_cc"):
        binomial_interval(1, 10, method="score")


def test_shape_mismatch():
    with pytest.raises(StatisticsError, match="same shape"):
        wilson_interval(np.array([1, 2]), np.array([3, 4, 5]))
