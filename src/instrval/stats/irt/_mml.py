r"""Marginal maximum likelihood for the 2PL and Samejima's graded response model.

Item :math:`i` has categories :math:`0..m_i` (:math:`m_i = 1`: the 2PL), slope :math:`a_i`
and intercepts :math:`d_{i1} > \dots > d_{im_i}` (:math:`b_{ik} = -d_{ik}/a_i`):

.. math:: P^*_{ik}(\theta) = P(X_i \ge k \mid \theta) = \frac{1}{1 + e^{-(a_i\theta + d_{ik})}}
   = \frac{1}{1 + e^{-a_i(\theta - b_{ik})}}, \qquad
   P_{ik} = P^*_{ik} - P^*_{i,k+1}

(:math:`P^*_{i0} = 1`, :math:`P^*_{i,m_i+1} = 0`), :math:`\theta \sim N(0, 1)` integrated by
fixed quadrature (:math:`Q` equally spaced nodes on :math:`[-6, 6]`, weights proportional to
the normal density).  Bock-Aitkin EM: the E-step gives the expected counts
:math:`r_{iqk} = \sum_v \pi_{vq} [x_{vi} = k]` from the posterior weights :math:`\pi_{vq}`;
the M-step maximises :math:`\sum_{iqk} r_{iqk}\log P_{ik}(\theta_q)` item by item by
Fisher scoring (steps halved to keep the intercepts ordered).  The EM cycles are
followed by Newton-Raphson steps on the marginal log-likelihood, whose gradient is the
expected complete-data score (Fisher's identity) and whose Hessian is the central
difference of that analytic gradient (the observed information, also used for the
standard errors).  Missing answers are left out of each person's likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

__all__ = ["MMLFit", "fit_mml", "quadrature", "category_probs", "item_information",
           "lord_wingersky"]


@dataclass(frozen=True)
class MMLFit:
    a: np.ndarray            # slopes (k)
    d: list[np.ndarray]      # intercepts per item (decreasing)
    cov: np.ndarray          # covariance of the packed (a_i, d_i1..d_im) parameters
    loglik: float
    em_cycles: int
    newton_steps: int
    converged: bool
    max_gradient: float
    nodes: np.ndarray
    weights: np.ndarray
    posterior: np.ndarray    # persons x nodes


def quadrature(n_nodes: int = 61, bound: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """Equally spaced nodes on [-bound, bound] with normalised N(0, 1) density weights."""
    nodes = np.linspace(-bound, bound, n_nodes)
    w = np.exp(-0.5 * nodes ** 2)
    return nodes, w / w.sum()


def category_probs(a: float, d: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Category probabilities (len(theta) x (m + 1)) and the cumulative P* (with the 1 and
    0 columns) of a graded item."""
    ps = np.ones((theta.size, d.size + 2))
    ps[:, -1] = 0.0
    ps[:, 1:-1] = expit(a * theta[:, None] + d[None, :])
    return ps[:, :-1] - ps[:, 1:], ps


def item_information(a: float, d: np.ndarray, theta: np.ndarray) -> np.ndarray:
    r""":math:`I_i(\theta) = \sum_k (P_{ik}')^2 / P_{ik}` with
    :math:`P_{ik}' = a_i[P^*_{ik}(1-P^*_{ik}) - P^*_{i,k+1}(1-P^*_{i,k+1})]`."""
    p, ps = category_probs(a, d, theta)
    w = ps * (1.0 - ps)
    dp = a * (w[:, :-1] - w[:, 1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, dp ** 2 / p, 0.0)
    return terms.sum(axis=1)


def lord_wingersky(probs: list[np.ndarray]) -> np.ndarray:
    """Summed-score likelihoods f(s | theta_q) (Q x (S + 1)) of items with category
    probabilities ``probs`` (each Q x (m_i + 1)), by the Lord-Wingersky recursion."""
    q = probs[0].shape[0] if probs else 1
    f = np.ones((q, 1))
    for p in probs:
        m = p.shape[1] - 1
        new = np.zeros((q, f.shape[1] + m))
        for k in range(m + 1):
            new[:, k:k + f.shape[1]] += f * p[:, [k]]
        f = new
    return f


class _Problem:
    """Data, layout of the packed parameters and the E-step."""

    def __init__(self, x: np.ndarray, m: np.ndarray, nodes: np.ndarray, weights: np.ndarray):
        self.x = x
        self.m = m
        self.k = len(m)
        self.nodes = nodes
        self.logw = np.log(weights)
        self.cat_off = np.concatenate(([0], np.cumsum(m + 1)[:-1])).astype(int)
        self.par_off = np.concatenate(([0], np.cumsum(m + 1)[:-1])).astype(int)
        n_cat = int((m + 1).sum())
        y = np.zeros((x.shape[0], n_cat))
        for i in range(self.k):
            xi = x[:, i]
            ok = ~np.isnan(xi)
            y[np.flatnonzero(ok), self.cat_off[i] + xi[ok].astype(int)] = 1.0
        # persons with the same answers share their likelihood: work on distinct patterns
        yu, inverse, counts = np.unique(y, axis=0, return_inverse=True, return_counts=True)
        self.y = yu
        self.inverse = np.asarray(inverse).ravel()
        self.counts = counts.astype(float)
        self.yw = yu * self.counts[:, None]
        self.n_par = n_cat

    def unpack(self, par: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        a = np.array([par[o] for o in self.par_off])
        d = [par[o + 1:o + 1 + mi] for o, mi in zip(self.par_off, self.m, strict=True)]
        return a, d

    def log_probs(self, par: np.ndarray) -> np.ndarray:
        a, d = self.unpack(par)
        cols = []
        for i in range(self.k):
            p, _ = category_probs(a[i], d[i], self.nodes)
            cols.append(np.log(np.clip(p, 1e-300, None)))
        return np.concatenate(cols, axis=1)  # Q x C

    def estep(self, par: np.ndarray) -> tuple[float, np.ndarray]:
        ll_vq = self.y @ self.log_probs(par).T
        ll_vq += self.logw[None, :]
        mx = ll_vq.max(axis=1, keepdims=True)
        post = np.exp(ll_vq - mx)
        tot = post.sum(axis=1, keepdims=True)
        post /= tot
        return float(self.counts @ (np.log(tot[:, 0]) + mx[:, 0])), post

    def complete(self, par: np.ndarray, r: np.ndarray) -> tuple[float, np.ndarray]:
        """Expected complete-data log-likelihood and its gradient (packed parameters)."""
        a, d = self.unpack(par)
        val = 0.0
        grad = np.zeros_like(par)
        th = self.nodes
        for i in range(self.k):
            p, ps = category_probs(a[i], d[i], th)
            ri = r[:, self.cat_off[i]:self.cat_off[i] + self.m[i] + 1]
            if np.any(p <= 0):
                return -np.inf, grad
            val += float(np.sum(ri * np.log(p)))
            w = ps * (1.0 - ps)        # Q x (m + 2), zero in the first and last column
            rp = ri / p                 # Q x (m + 1)
            o = self.par_off[i]
            grad[o] = float(np.sum(th[:, None] * rp * (w[:, :-1] - w[:, 1:])))
            # d_k appears in P_{k-1} (minus) and P_k (plus)
            grad[o + 1:o + 1 + self.m[i]] = np.sum((rp[:, 1:] - rp[:, :-1]) * w[:, 1:-1], axis=0)
        return val, grad

    def marginal_grad(self, par: np.ndarray) -> tuple[float, np.ndarray]:
        ll, post = self.estep(par)
        _, g = self.complete(par, post.T @ self.yw)
        return ll, g


def _start(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    par = []
    for i, mi in enumerate(m):
        xi = x[:, i][~np.isnan(x[:, i])]
        p = np.array([np.mean(xi >= k) for k in range(1, mi + 1)])
        p = np.clip(p, 0.01, 0.99)
        par.append(1.0)
        par.extend(np.log(p / (1 - p)) * 1.16)
    return np.array(par)


def _mstep(par: np.ndarray, r: np.ndarray, prob: _Problem, *, steps: int = 5,
           tol: float = 1e-8) -> np.ndarray:
    """Fisher scoring for each item's expected complete-data log-likelihood."""
    th = prob.nodes
    par = par.copy()
    for i in range(prob.k):
        o, mi = prob.par_off[i], prob.m[i]
        ri = r[:, prob.cat_off[i]:prob.cat_off[i] + mi + 1]
        nq = ri.sum(axis=1)
        psi = par[o:o + mi + 1].copy()
        for _ in range(steps):
            p, ps = category_probs(psi[0], psi[1:], th)
            w = ps * (1.0 - ps)
            # dP_k / dpsi: Q x (m + 1) categories x (m + 1) parameters
            dp = np.zeros((th.size, mi + 1, mi + 1))
            dp[:, :, 0] = th[:, None] * (w[:, :-1] - w[:, 1:])
            for k in range(1, mi + 1):
                dp[:, k, k] += w[:, k]
                dp[:, k - 1, k] -= w[:, k]
            pc = np.clip(p, 1e-300, None)
            grad = np.einsum("qk,qkj->j", ri / pc, dp)
            info = np.einsum("q,qk,qkj,qkl->jl", nq, 1.0 / pc, dp, dp)
            step = np.linalg.solve(info + 1e-10 * np.eye(mi + 1), grad)
            t = 1.0
            while t > 1e-3:
                cand = psi + t * step
                if np.all(np.diff(cand[1:]) < 0):
                    break
                t /= 2
            psi = cand
            if np.max(np.abs(t * step)) < tol:
                break
        par[o:o + mi + 1] = psi
    return par


def fit_mml(x: np.ndarray, m: np.ndarray, *, n_nodes: int = 61, max_em: int = 500,
            em_tol: float = 1e-6, newton_tol: float = 1e-5, max_newton: int = 20) -> MMLFit:
    nodes, weights = quadrature(n_nodes)
    prob = _Problem(x, m, nodes, weights)
    par = _start(x, m)
    ll_old = -np.inf
    cycles = 0
    while cycles < max_em:
        cycles += 1
        ll, post = prob.estep(par)
        r = post.T @ prob.yw

        par = _mstep(par, r, prob)
        if abs(ll - ll_old) < em_tol * (1 + abs(ll)):
            break
        ll_old = ll

    def hessian(p: np.ndarray) -> np.ndarray:
        h = np.empty((p.size, p.size))
        for j in range(p.size):
            e = np.zeros_like(p)
            e[j] = 1e-5 * max(1.0, abs(p[j]))
            h[:, j] = (prob.marginal_grad(p + e)[1] - prob.marginal_grad(p - e)[1]) / (2 * e[j])
        return 0.5 * (h + h.T)

    # Newton-Raphson polish with the Hessian at the end of EM; it is recomputed for the
    # standard errors only when the polish moved the estimates by more than 1e-4
    steps = 0
    ll, g = prob.marginal_grad(par)
    h = hessian(par)
    at_h = par.copy()
    converged = bool(np.max(np.abs(g)) < newton_tol)
    while not converged and steps < max_newton:
        step = np.linalg.solve(h, -g)
        t = 1.0
        while True:
            cand = par + t * step
            ll_c, g_c = prob.marginal_grad(cand)
            if (np.isfinite(ll_c) and ll_c >= ll - 1e-10 * abs(ll)) or t < 1e-4:
                break
            t /= 2
        par, ll, g = cand, ll_c, g_c
        steps += 1
        converged = bool(np.max(np.abs(g)) < newton_tol)
    if np.max(np.abs(par - at_h)) > 1e-4:
        h = hessian(par)
    cov = np.linalg.inv(-h)
    ll, post = prob.estep(par)
    a, d = prob.unpack(par)
    return MMLFit(a=a, d=[di.copy() for di in d], cov=cov, loglik=ll, em_cycles=cycles,
                  newton_steps=steps, converged=bool(converged),
                  max_gradient=float(np.max(np.abs(g))), nodes=nodes, weights=weights,
                  posterior=post[prob.inverse])
