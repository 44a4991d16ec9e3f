"""Confidence intervals for a binomial proportion ``p = x / n``.

Every function is vectorised: ``x`` and ``n`` may be scalars (the interval comes back as a
pair of plain floats) or arrays of the same shape (a pair of float arrays). ``n = 0`` gives
``NaN`` bounds. Bounds are clipped to ``[0, 1]``. With ``a = 1 - confidence`` and
``z = qnorm(1 - a / 2)``:

* **Wilson score** (Wilson 1927; Newcombe 1998, method 3)::

      centre    = (p + z^2 / (2 n)) / (1 + z^2 / n)
      half      = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))
      interval  = centre -/+ half

  R: ``prop.test(x, n, correct = FALSE)$conf.int``. ``x`` need not be a whole number, so the
  same formula serves an *effective* sample size ``n / deff`` (Korn & Graubard 1998).
* **Wilson score with continuity correction** (Newcombe 1998, method 4)::

      low  = (2 n p + z^2 - 1 - z sqrt(z^2 - 2 - 1/n + 4 p (n (1 - p) + 1))) / (2 (n + z^2))
      high = (2 n p + z^2 + 1 + z sqrt(z^2 + 2 - 1/n + 4 p (n (1 - p) - 1))) / (2 (n + z^2))

  with ``low = 0`` when ``x = 0`` and ``high = 1`` when ``x = n``. R:
  ``prop.test(x, n, correct = TRUE)$conf.int`` gives the same bounds except when
  ``|x - n / 2| < 0.5``: R shrinks the correction to ``|x - n p0|`` with the null value
  ``p0 = 0.5`` of its test, so for ``x = n / 2`` it returns the uncorrected Wilson interval.
  instrval always applies the full correction of 0.5, as Newcombe (1998) does.
* **Clopper-Pearson** "exact" (Clopper & Pearson 1934)::

      low = qbeta(a/2, x, n - x + 1),  high = qbeta(1 - a/2, x + 1, n - x)

  (0 when ``x = 0``, 1 when ``x = n``). R: ``binom.test(x, n)$conf.int``.
* **Jeffreys** (Brown, Cai & DasGupta 2001): the ``a/2`` and ``1 - a/2`` quantiles of
  ``Beta(x + 1/2, n - x + 1/2)``, with ``low = 0`` when ``x = 0`` and ``high = 1`` when
  ``x = n``. R: ``qbeta(c(a/2, 1 - a/2), x + .5, n - x + .5)``.
* **Agresti-Coull** (Agresti & Coull 1998): ``n~ = n + z^2``, ``p~ = (x + z^2/2) / n~``,
  ``p~ -/+ z sqrt(p~ (1 - p~) / n~)``.
* **Wald**: ``p -/+ z sqrt(p (1 - p) / n)`` (shown for comparison only: it collapses to a
  point at ``x = 0`` and undercovers for small ``p``).

References
----------
Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
*JASA* 22:209-212. Newcombe RG (1998). Two-sided confidence intervals for the single
proportion: comparison of seven methods. *Statistics in Medicine* 17:857-872. Brown LD, Cai
TT, DasGupta A (2001). Interval estimation for a binomial proportion. *Statistical Science*
16:101-133. Korn EL, Graubard BI (1998). Confidence intervals for proportions with small
expected number of positive counts estimated from survey data. *Survey Methodology* 24:193-201.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special as _sp

from instrval.errors import StatisticsError
from instrval.stats._dist import norm_ppf

__all__ = [
    "INTERVAL_METHODS",
    "binomial_interval",
    "wilson_interval",
    "clopper_pearson_interval",
    "jeffreys_interval",
    "agresti_coull_interval",
    "wald_interval",
    "z_value",
]

#: Methods accepted by :func:`binomial_interval`.
INTERVAL_METHODS = ("wilson", "wilson_cc", "clopper_pearson", "jeffreys", "agresti_coull",
                    "wald")

Bounds = tuple[Any, Any]


def z_value(confidence: float) -> float:
    """The two-sided normal quantile ``qnorm(1 - (1 - confidence) / 2)``."""
    _check_confidence(confidence)
    return float(norm_ppf(0.5 + confidence / 2.0))


def _check_confidence(confidence: float) -> None:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating)) \
            or not 0.0 < float(confidence) < 1.0:
        raise StatisticsError(
            f"confidence must be a number strictly between 0 and 1 (e.g. 0.95), "
            f"got {confidence!r}")


def _prepare(x: Any, n: Any, *, integer: bool) -> tuple[np.ndarray, np.ndarray, bool]:
    """Check counts and return float arrays plus whether the input was scalar."""
    scalar = np.ndim(x) == 0 and np.ndim(n) == 0
    try:
        xa = np.asarray(x, dtype="float64")
        na = np.asarray(n, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise StatisticsError(
            f"x and n must be numbers (counts), got x={x!r}, n={n!r}") from exc
    try:
        xa, na = np.broadcast_arrays(xa, na)
    except ValueError as exc:
        raise StatisticsError(
            f"x and n must have the same shape, got {xa.shape} and {na.shape}") from exc
    bad = ~np.isfinite(xa) | ~np.isfinite(na) | (xa < 0) | (na < 0) | (xa > na)
    if integer:
        bad |= (xa != np.round(xa)) | (na != np.round(na))
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        need = "whole numbers with " if integer else "finite numbers with "
        raise StatisticsError(
            f"binomial counts must be {need}0 <= x <= n, got x={xa.ravel()[i]!r}, "
            f"n={na.ravel()[i]!r}")
    return xa.astype("float64"), na.astype("float64"), scalar


def _finish(low: np.ndarray, high: np.ndarray, n: np.ndarray, scalar: bool) -> Bounds:
    low = np.clip(low, 0.0, 1.0)
    high = np.clip(high, 0.0, 1.0)
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    if scalar:
        return float(low), float(high)
    return low, high


def wilson_interval(x: Any, n: Any, *, confidence: float = 0.95,
                    correct: bool = False) -> Bounds:
    """Wilson score interval for ``x`` successes in ``n`` trials.

    ``p = x / n``, ``z = qnorm(1 - (1 - confidence) / 2)``::

        (p + z^2/(2n) -/+ z sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)

    Parameters
    ----------
    x, n : float or array_like
        Successes and trials. ``x`` may be fractional (effective counts); ``n = 0`` gives NaN.
    confidence : float
        Two-sided level, strictly between 0 and 1.
    correct : bool
        Apply Newcombe's (1998, method 4) continuity correction.

    Returns
    -------
    (low, high)
        Floats for scalar input, arrays otherwise.

    Notes
    -----
    R: ``prop.test(x, n, correct = FALSE)$conf.int`` (equal to rounding error; tested to
    1e-10). With ``correct=True`` R's ``prop.test(correct = TRUE)`` agrees except when
    ``|x - n/2| < 0.5`` (R reduces the correction there; see the module docstring).

    References
    ----------
    Wilson (1927); Newcombe (1998).

    Examples
    --------
    >>> low, high = wilson_interval(11382, 234196)
    >>> round(low, 5), round(high, 5)
    (0.04774, 0.04948)
    """
    xa, na, scalar = _prepare(x, n, integer=False)
    z = z_value(confidence)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        p = xa / na
        if not correct:
            denom = 1.0 + z2 / na
            centre = (p + z2 / (2.0 * na)) / denom
            half = z / denom * np.sqrt(p * (1.0 - p) / na + z2 / (4.0 * na * na))
            # exact at the edges (the formula gives 0 and 1 up to rounding error)
            low = np.where(xa == 0, 0.0, centre - half)
            high = np.where(xa == na, 1.0, centre + half)
        else:
            d = 2.0 * (na + z2)
            rl = np.maximum(z2 - 2.0 - 1.0 / na + 4.0 * p * (na * (1.0 - p) + 1.0), 0.0)
            rh = np.maximum(z2 + 2.0 - 1.0 / na + 4.0 * p * (na * (1.0 - p) - 1.0), 0.0)
            low = (2.0 * na * p + z2 - 1.0 - z * np.sqrt(rl)) / d
            high = (2.0 * na * p + z2 + 1.0 + z * np.sqrt(rh)) / d
            low = np.where(xa == 0, 0.0, low)
            high = np.where(xa == na, 1.0, high)
    return _finish(low, high, na, scalar)


def clopper_pearson_interval(x: Any, n: Any, *, confidence: float = 0.95) -> Bounds:
    """Clopper-Pearson interval: Beta quantiles that invert two one-sided binomial tests.

    ``low = qbeta(a/2, x, n-x+1)`` (0 if ``x = 0``), ``high = qbeta(1-a/2, x+1, n-x)``
    (1 if ``x = n``), ``a = 1 - confidence``. R: ``binom.test(x, n)$conf.int``.
    """
    xa, na, scalar = _prepare(x, n, integer=True)
    _check_confidence(confidence)
    a = 1.0 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(xa > 0, _sp.betaincinv(np.maximum(xa, 1e-300), na - xa + 1.0, a / 2),
                       0.0)
        high = np.where(xa < na,
                        _sp.betaincinv(xa + 1.0, np.maximum(na - xa, 1e-300), 1.0 - a / 2),
                        1.0)
    return _finish(low, high, na, scalar)


def jeffreys_interval(x: Any, n: Any, *, confidence: float = 0.95) -> Bounds:
    """Jeffreys interval: equal-tailed quantiles of ``Beta(x + 1/2, n - x + 1/2)``.

    ``low = 0`` when ``x = 0`` and ``high = 1`` when ``x = n`` (Brown, Cai & DasGupta 2001).
    R: ``qbeta(c(a/2, 1 - a/2), x + 0.5, n - x + 0.5)``.
    """
    xa, na, scalar = _prepare(x, n, integer=False)
    _check_confidence(confidence)
    a = 1.0 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(xa > 0, _sp.betaincinv(xa + 0.5, na - xa + 0.5, a / 2), 0.0)
        high = np.where(xa < na, _sp.betaincinv(xa + 0.5, na - xa + 0.5, 1.0 - a / 2), 1.0)
    return _finish(low, high, na, scalar)


def agresti_coull_interval(x: Any, n: Any, *, confidence: float = 0.95) -> Bounds:
    """Agresti-Coull interval: ``p~ -/+ z sqrt(p~(1-p~)/n~)``, ``n~ = n + z^2``,
    ``p~ = (x + z^2/2) / n~``; clipped to [0, 1]."""
    xa, na, scalar = _prepare(x, n, integer=False)
    z = z_value(confidence)
    nt = na + z * z
    pt = (xa + z * z / 2.0) / nt
    half = z * np.sqrt(pt * (1.0 - pt) / nt)
    return _finish(pt - half, pt + half, na, scalar)


def wald_interval(x: Any, n: Any, *, confidence: float = 0.95) -> Bounds:
    """Wald interval ``p -/+ z sqrt(p(1-p)/n)``, clipped to [0, 1] (comparison only)."""
    xa, na, scalar = _prepare(x, n, integer=False)
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = xa / na
        half = z * np.sqrt(p * (1.0 - p) / na)
    return _finish(p - half, p + half, na, scalar)


def binomial_interval(x: Any, n: Any, *, confidence: float = 0.95,
                      method: str = "wilson") -> Bounds:
    """Confidence interval for ``x / n`` by the named ``method``.

    Parameters
    ----------
    x, n : float or array_like
        Successes and trials.
    confidence : float
        Two-sided level in (0, 1).
    method : {"wilson", "wilson_cc", "clopper_pearson", "jeffreys", "agresti_coull", "wald"}
        See the module docstring for each formula and its R equivalent.

    Examples
    --------
    >>> binomial_interval(0, 10, method="clopper_pearson")[0]
    0.0
    """
    if method == "wilson":
        return wilson_interval(x, n, confidence=confidence)
    if method == "wilson_cc":
        return wilson_interval(x, n, confidence=confidence, correct=True)
    if method == "clopper_pearson":
        return clopper_pearson_interval(x, n, confidence=confidence)
    if method == "jeffreys":
        return jeffreys_interval(x, n, confidence=confidence)
    if method == "agresti_coull":
        return agresti_coull_interval(x, n, confidence=confidence)
    if method == "wald":
        return wald_interval(x, n, confidence=confidence)
    raise StatisticsError(
        f"unknown interval method {method!r}; choose one of {', '.join(INTERVAL_METHODS)}")
