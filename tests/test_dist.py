"""The distribution functions of ``instrval.stats._dist`` give the very bits of the
``scipy.stats`` calls they stand for (so that results stay identical), over grids that
cover the tails, zero, negative values, infinities and NaN."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import stats

from instrval.stats._dist import (
    chi2_cdf,
    chi2_sf,
    f_ppf,
    f_sf,
    ncx2_cdf,
    norm_pdf,
    norm_ppf,
    norm_sf,
    t_ppf,
    t_sf,
)

RNG = np.random.default_rng(20261207)
X = np.concatenate([RNG.normal(0.0, 4.0, 4000), RNG.exponential(60.0, 4000),
                    [0.0, -0.0, 1e-300, 1e-12, -1e-12, -1.0, 40.0, -40.0, 1e6,
                     np.inf, -np.inf, np.nan]])
Q = np.concatenate([RNG.uniform(0.0, 1.0, 2000),
                    [0.0, 1.0, -0.1, 1.1, 1e-300, 1.0 - 1e-16, 0.5, 0.025, 0.975, np.nan]])
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
    _same(norm_ppf(Q), stats.norm.ppf(Q))
    for q in [0.975, 0.0, 1.0, 1.5, np.nan]:
        _same(norm_ppf(q), stats.norm.ppf(q))
        assert type(norm_ppf(q)) is type(stats.norm.ppf(q))


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


@pytest.mark.parametrize("df", [*DFS, 1e6, np.inf])
def test_student_t(df):
    _same(t_sf(X, df), stats.t.sf(X, df))
    _same(t_ppf(Q, df), stats.t.ppf(Q, df))
    for v in [1.5, 0.0, -2.0, 0.975, 1.0, np.inf, np.nan]:
        _same(t_sf(v, df), stats.t.sf(v, df))
        _same(t_ppf(v, df), stats.t.ppf(v, df))
        assert type(t_ppf(v, df)) is type(stats.t.ppf(v, df))


@pytest.mark.parametrize("dfn", [0.5, 1, 4, 37.25, 1e5, 0, -1, np.nan])
@pytest.mark.parametrize("dfd", [0.5, 2, 40, 1e5, 0, np.nan])
def test_f(dfn, dfd):
    _same(f_sf(X[::4], dfn, dfd), stats.f.sf(X[::4], dfn, dfd))
    _same(f_ppf(Q[::4], dfn, dfd), stats.f.ppf(Q[::4], dfn, dfd))
    for v in [3.0, 0.0, -1.0, 0.975, 1.0, np.inf, np.nan]:
        _same(f_sf(v, dfn, dfd), stats.f.sf(v, dfn, dfd))
        _same(f_ppf(v, dfn, dfd), stats.f.ppf(v, dfn, dfd))
        assert type(f_sf(v, dfn, dfd)) is type(stats.f.sf(v, dfn, dfd))
