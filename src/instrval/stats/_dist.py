"""The few distribution functions the statistics need, straight from ``scipy.special``.

``scipy.stats`` takes longer to import than the rest of a command's start-up together
(its distribution classes are built at import), while the functions below are the very
``scipy.special`` routines its ``norm``, ``chi2`` and ``ncx2`` methods call for standard
arguments. Each gives the same bits as the ``scipy.stats`` call named in its docstring
(checked in ``tests/test_dist.py``), without the argument checking and broadcasting
of the distribution wrapper.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import chdtr, chdtrc, chndtr, ndtr

__all__ = ["chi2_cdf", "chi2_sf", "ncx2_cdf", "norm_pdf", "norm_sf"]

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def norm_pdf(x: Any) -> Any:
    """Standard normal density :math:`e^{-x^2/2}/\\sqrt{2\\pi}`: ``scipy.stats.norm.pdf(x)``
    for finite ``x`` (R ``dnorm``)."""
    x = np.asarray(x, dtype=float)
    return np.exp(-x**2 / 2.0) / _SQRT_2PI


def norm_sf(x: Any) -> Any:
    """Standard normal upper tail :math:`1 - \\Phi(x) = \\Phi(-x)`: ``scipy.stats.norm.sf(x)``
    (R ``pnorm(x, lower.tail = FALSE)``)."""
    return ndtr(-np.asarray(x, dtype=float))


def chi2_sf(x: Any, df: Any) -> Any:
    """Chi-square upper tail :math:`P(X > x)`: ``scipy.stats.chi2.sf(x, df)``, 1 below zero
    and NaN unless ``df > 0`` (R ``pchisq(x, df, lower.tail = FALSE)``)."""
    x, df = np.asarray(x, dtype=float), np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.where(x < 0, 1.0, chdtrc(df, x))
    return np.where(df > 0, out, np.nan)[()]


def chi2_cdf(x: Any, df: Any) -> Any:
    """Chi-square distribution function :math:`P(X \\le x)`: ``scipy.stats.chi2.cdf(x, df)``,
    0 below zero and NaN unless ``df > 0`` (R ``pchisq(x, df)``)."""
    x, df = np.asarray(x, dtype=float), np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.where(x < 0, 0.0, chdtr(df, x))
    return np.where(df > 0, out, np.nan)[()]


def ncx2_cdf(x: Any, df: Any, nc: Any) -> Any:
    """Noncentral chi-square distribution function: ``scipy.stats.ncx2.cdf(x, df, nc)``
    (the central one where ``nc == 0``), 0 below zero and NaN unless ``df`` is positive
    and finite and ``nc >= 0`` (R ``pchisq(x, df, ncp = nc)``)."""
    x, df, nc = (np.asarray(v, dtype=float) for v in (x, df, nc))
    with np.errstate(invalid="ignore"):
        out = np.where(nc == 0, chdtr(df, x), chndtr(x, df, nc))
        out = np.where(x < 0, 0.0, out)
    return np.where((df > 0) & np.isfinite(df) & (nc >= 0), out, np.nan)[()]
