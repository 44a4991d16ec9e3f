"""Maximum-likelihood fit of the proportional-odds (cumulative-logit) model (not public API).

The model is ``MASS::polr``'s logistic one: for an ordered response with categories
``0, ..., K-1`` and covariates ``x``,

    logit P(Y <= k | x) = zeta_k - x' beta,      k = 0, ..., K-2,   zeta_0 < ... < zeta_{K-2}.

With two categories it is logistic regression (``glm(family = binomial)``) with intercept
``-zeta_0`` and the same slopes. The log-likelihood of one observation in category ``k`` is
``log(F(a) - F(b))`` with ``a = zeta_k - eta``, ``b = zeta_{k-1} - eta`` (``zeta_{-1} =
-inf``, ``zeta_{K-1} = +inf``), ``F`` the logistic distribution function and ``eta = x'
beta``. It is maximised by Newton-Raphson with the analytic gradient and Hessian and step
halving (the step is halved until the log-likelihood does not decrease and the thresholds
stay ordered). Only the categories that occur are modelled: the caller passes response
codes ``0..K-1`` of observed categories, so an empty category never makes a threshold
unidentified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit

from instrval._result import Result

__all__ = ["CumLogitFit", "fit_cumlogit", "null_loglik"]


@dataclass(frozen=True, repr=False)
class CumLogitFit(Result):
    """Estimates of one proportional-odds fit."""

    zeta: np.ndarray
    beta: np.ndarray
    loglik: float
    converged: bool
    n_iter: int
    #: Fitted cumulative probabilities numerically 0 or 1 (|zeta_k - eta| > 36): complete
    #: or quasi-complete separation, the estimates run off to infinity (glm's warning
    #: "fitted probabilities numerically 0 or 1 occurred").
    boundary: bool = False


def null_loglik(y: np.ndarray, n_cat: int) -> float:
    """Log-likelihood of the thresholds-only model: sum_k n_k log(n_k / n)."""
    counts = np.bincount(y, minlength=n_cat).astype(float)
    counts = counts[counts > 0]
    return float(np.sum(counts * np.log(counts / counts.sum())))


def _log_prob(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(F(a) - F(b)) for a > b, accurate in both tails."""
    # F(a) - F(b) = F(a) (1 - exp(log F(b) - log F(a))) for b < 0 side; use the upper tail
    # form when both are large so that no catastrophic cancellation happens.
    upper = b > 0
    out = np.empty_like(a)
    lo = ~upper
    la, lb = log_expit(a[lo]), log_expit(b[lo])
    out[lo] = la + np.log1p(-np.exp(lb - la))
    ua, ub = log_expit(-a[upper]), log_expit(-b[upper])  # log(1-F(a)), log(1-F(b))
    out[upper] = ub + np.log1p(-np.exp(ua - ub))
    return out


def _loglik(theta: np.ndarray, y: np.ndarray, x: np.ndarray, n_cat: int,
            w: np.ndarray) -> float:
    q = n_cat - 1
    zeta, beta = theta[:q], theta[q:]
    if q > 1 and np.any(np.diff(zeta) <= 0):
        return -np.inf
    eta = x @ beta if beta.size else np.zeros(y.size)
    zfull = np.concatenate(([-np.inf], zeta, [np.inf]))
    a = zfull[y + 1] - eta
    b = zfull[y] - eta
    return float(w @ _log_prob(a, b))


def _derivatives(theta: np.ndarray, y: np.ndarray, x: np.ndarray, n_cat: int,
                 w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, gradient and Hessian at ``theta = (zeta, beta)``."""
    n = y.size
    q = n_cat - 1
    p = x.shape[1]
    zeta, beta = theta[:q], theta[q:]
    eta = x @ beta if p else np.zeros(n)
    zfull = np.concatenate(([-np.inf], zeta, [np.inf]))
    a = zfull[y + 1] - eta
    b = zfull[y] - eta
    logp = _log_prob(a, b)
    # f(a) / P and f(b) / P through logs (f = F (1 - F), the logistic density), so that a
    # probability too small for a float cannot turn them into 0 / 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        ga = np.exp(log_expit(a) + log_expit(-a) - logp)
        gbp = np.exp(log_expit(b) + log_expit(-b) - logp)
    ga[~np.isfinite(a)] = 0.0
    gbp[~np.isfinite(b)] = 0.0
    ca = 1.0 - 2.0 * expit(a)  # f'(x) / f(x)
    cb = 1.0 - 2.0 * expit(b)
    haa = w * (ga * ca - ga * ga)
    hbb = w * (-gbp * cb - gbp * gbp)
    hab = w * ga * gbp  # = f(a) f(b) / P^2
    ga = w * ga
    gb = -w * gbp
    # d a / d theta = (e_y for zeta_y if y < K-1, -x); d b / d theta = (e_{y-1} if y > 0, -x)
    u = np.zeros((n, q + p))
    v = np.zeros((n, q + p))
    rows = np.arange(n)
    top = y < q
    u[rows[top], y[top]] = 1.0
    bot = y > 0
    v[rows[bot], y[bot] - 1] = 1.0
    if p:
        u[:, q:] = -x
        v[:, q:] = -x
    grad = u.T @ ga + v.T @ gb
    hess = (u.T * haa) @ u + (v.T * hbb) @ v
    cross = (u.T * hab) @ v
    hess += cross + cross.T
    return float(w @ logp), grad, hess


def _start_zeta(y: np.ndarray, n_cat: int, w: np.ndarray) -> np.ndarray:
    cum = np.cumsum(np.bincount(y, weights=w, minlength=n_cat))[:-1] / w.sum()
    cum = np.clip(cum, 1e-6, 1 - 1e-6)
    return np.log(cum / (1.0 - cum))


def fit_cumlogit(y: np.ndarray, x: np.ndarray, *, weights: np.ndarray | None = None,
                 start: np.ndarray | None = None, max_iter: int = 100, tol: float = 1e-15
                 ) -> CumLogitFit:
    """Fit the proportional-odds model of codes ``y`` (0..K-1, every code observed, K >= 2)
    on the columns of ``x`` (n x p, no intercept column) by Newton-Raphson.

    ``start`` gives starting values for ``(zeta, beta)``; a shorter vector is padded with
    zero slopes (a nested fit's estimates make a good start for the larger model).
    ``weights`` are frequency weights: the rows may be the distinct response patterns
    with their counts, which gives the same estimates as the full data, faster.
    Convergence: the Newton decrement ``g' (-H)^-1 g / 2`` (the predicted log-likelihood
    gain) below ``tol``.
    """
    y = np.asarray(y, dtype=np.intp)
    x = np.asarray(x, dtype=float).reshape(y.size, -1)
    w = np.ones(y.size) if weights is None else np.asarray(weights, dtype=float)
    n_cat = int(y.max()) + 1
    q, p = n_cat - 1, x.shape[1]
    theta = np.zeros(q + p)
    if start is None:
        theta[:q] = _start_zeta(y, n_cat, w)
    else:
        s = np.asarray(start, dtype=float)
        theta[: s.size] = s
    ll = _loglik(theta, y, x, n_cat, w)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        ll, grad, hess = _derivatives(theta, y, x, n_cat, w)
        neg = -hess
        try:
            step = np.linalg.solve(neg, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(neg, grad, rcond=None)[0]
        decrement = float(grad @ step) / 2.0
        if not np.isfinite(decrement):
            break
        if decrement < tol:
            converged = True
            break
        t = 1.0
        for _ in range(60):
            cand = theta + t * step
            ll_new = _loglik(cand, y, x, n_cat, w)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                break
            t /= 2.0
        else:
            break
        theta = cand
    ll = _loglik(theta, y, x, n_cat, w)
    eta = x @ theta[q:] if p else np.zeros(y.size)
    lin = theta[:q][None, :] - eta[:, None]
    boundary = bool(np.any(np.abs(lin) > 36.0))
    return CumLogitFit(zeta=theta[:q].copy(), beta=theta[q:].copy(), loglik=ll,
                       converged=converged, n_iter=it, boundary=boundary)
