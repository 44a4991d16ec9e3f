"""The distribution functions of ``instrval.stats._dist`` give the very bits of the
``scipy.stats`` calls they stand for (so that results stay identical), over grids that
cover the tails, zero, negative values, infinities and NaN."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import stats

from instrval.stats._dist import chi2_cdf, chi2_sf, ncx2_cdf, norm_pdf, norm_sf

RNG = np.random.default_rng(20261207)
X = np.concatenate([RNG.normal(0.0, 4.0, 4000), RNG.exponential(60.0, 4000),
                    [0.0, -0.0, 1e-300, 1e-12, -1e-12, -1.0, 40.0, -40.0, 1e6,
                     np.inf, -np.inf, np.nan]])
DFS = [0.5, 1, 2, 3.5, 10, 165, 1000, 0, -1, np.nan]


def _same(ours, theirs):
    assert_array_equal(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float))
    assert np.ndim(ours) == np.ndim(theirs)


def test_normal():
    finite = X[np.isfinite(X)]
    _same(norm_pdf(finite), stats.norm.pdf(finite))
    _same(norm_sf(X), stats.norm.sf(X))
    for x in [-1.0, 0.0, 1.959963984540054, 38.0, np.inf, -np.inf, np.nan]:
        _same(norm_sf(x), stats.norm.sf(x))
        assert type(norm_sf(x)) is type(stats.norm.sf(x))
    _same(norm_pdf(1.0), stats.norm.pdf(1.0))


@pytest.mark.parametrize("df", DFS)
def test_chi_square(df):
    _same(chi2_sf(X, df), stats.chi2.sf(X, df))
    _same(chi2_cdf(X, df), stats.chi2.cdf(X, df))
    for x in [-1.0, 0.0, 3.0, 1e5, np.inf, np.nan]:
        _same(chi2_sf(x, df), stats.chi2.sf(x, df))
        _same(chi2_cdf(x, df), stats.chi2.cdf(x, df))
        assert type(chi2_sf(x, df)) is type(stats.chi2.sf(x, df))


@pytest.mark.parametrize("df", DFS)
@pytest.mark.parametrize("nc", [0.0, 1e-8, 0.3, 10.0, 250.0, 4000.0, -1.0, np.nan])
def test_noncentral_chi_square(df, nc):
    _same(ncx2_cdf(X[::4], df, nc), stats.ncx2.cdf(X[::4], df, nc))
    for x in [-1.0, 0.0, 3.0, np.inf, np.nan]:
        _same(ncx2_cdf(x, df, nc), stats.ncx2.cdf(x, df, nc))
