"""The few distribution functions the statistics need, straight from ``scipy.special``.

``scipy.stats`` takes longer to import than the rest of a command's start-up together
(it builds its distribution classes at import), while the functions below are the very
``scipy.special`` routines that its ``norm``, ``chi2``, ``ncx2``, ``t`` and ``f`` methods
call. Each gives the same bits as the ``scipy.stats`` call named in its docstring, edge
cases (zero, negative values, infinities, NaN, bad degrees of freedom) included, as
``tests/test_dist.py`` checks, without the argument handling of the distribution objects.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import chdtr, chdtrc, chndtr, fdtrc, fdtri, ndtr, ndtri, stdtr, stdtrit

__all__ = ["chi2_cdf", "chi2_sf", "f_ppf", "f_sf", "ncx2_cdf", "norm_pdf", "norm_ppf", "norm_sf",
           "t_ppf", "t_sf"]

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


def norm_ppf(q: Any) -> Any:
    """Standard normal quantile :math:`\\Phi^{-1}(q)`: ``scipy.stats.norm.ppf(q)`` (R
    ``qnorm``)."""
    return ndtri(np.asarray(q, dtype=float))[()]


def _quantile(q: Any, value: Any, low: float, ok: Any) -> Any:
    """The ``ppf`` of a ``scipy.stats`` distribution from its special function: the lower
    end of the support at 0, infinity at 1, NaN outside [0, 1] or for bad parameters."""
    q = np.asarray(q, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.where(q == 0, low, np.where(q == 1, np.inf, value))
    return np.where(ok & (q >= 0) & (q <= 1), out, np.nan)[()]


def t_ppf(q: Any, df: Any) -> Any:
    """Student t quantile: ``scipy.stats.t.ppf(q, df)`` for ``df > 0`` (R ``qt``)."""
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        value = stdtrit(df, q)
    return _quantile(q, value, -np.inf, df > 0)


def t_sf(x: Any, df: Any) -> Any:
    """Student t upper tail :math:`P(T > x)`: ``scipy.stats.t.sf(x, df)``, NaN unless
    ``df > 0`` (R ``pt(x, df, lower.tail = FALSE)``)."""
    x, df = np.asarray(x, dtype=float), np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        out = stdtr(df, -x)
    return np.where(df > 0, out, np.nan)[()]


def f_ppf(q: Any, dfn: Any, dfd: Any) -> Any:
    """F quantile: ``scipy.stats.f.ppf(q, dfn, dfd)`` for positive degrees of freedom (R
    ``qf``)."""
    dfn, dfd = np.asarray(dfn, dtype=float), np.asarray(dfd, dtype=float)
    with np.errstate(invalid="ignore"):
        value = fdtri(dfn, dfd, q)
    return _quantile(q, value, 0.0, (dfn > 0) & (dfd > 0))


def f_sf(x: Any, dfn: Any, dfd: Any) -> Any:
    """F upper tail :math:`P(F > x)`: ``scipy.stats.f.sf(x, dfn, dfd)``, 1 at and below
    zero and NaN unless both degrees of freedom are positive (R ``pf(x, dfn, dfd,
    lower.tail = FALSE)``)."""
    x, dfn, dfd = (np.asarray(v, dtype=float) for v in (x, dfn, dfd))
    with np.errstate(invalid="ignore"):
        out = np.where(x <= 0, 1.0, fdtrc(dfn, dfd, x))
    return np.where((dfn > 0) & (dfd > 0), out, np.nan)[()]


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
