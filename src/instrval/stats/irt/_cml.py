r"""Conditional maximum likelihood for the Rasch family (RM, PCM, RSM), as R's eRm.

Item :math:`i` has categories :math:`0..m_i`; with easiness parameters :math:`\beta_{ih}`
(:math:`\beta_{i0} = 0`)

.. math:: P(X_{vi} = h \mid \theta_v) = \frac{\exp(h\theta_v + \beta_{ih})}
   {\sum_{l=0}^{m_i} \exp(l\theta_v + \beta_{il})}.

Given the raw score :math:`r_v`, the person parameter drops out:

.. math:: \log L_C = \sum_{i,h} n_{ih}\beta_{ih} - \sum_v \log\gamma_{r_v}(\varepsilon),
   \qquad \gamma_r = [z^r]\prod_i \sum_h \varepsilon_{ih} z^h, \quad
   \varepsilon_{ih} = e^{\beta_{ih}},

the elementary symmetric functions :math:`\gamma_r` computed by the summation algorithm
(polynomial products).  Persons with a missing answer form groups by their pattern of
answered items, each with its own :math:`\gamma`; persons with an extreme raw score (0 or
the maximum of their answered items) carry no information and are left out.  The gradient
is :math:`n_{ih} - \sum_v P(X_i = h \mid r_v)` with
:math:`P(X_i = h \mid r) = \varepsilon_{ih}\gamma^{(i)}_{r-h}/\gamma_r`, and the Hessian the
negative sum of conditional covariances, from the second-order functions
:math:`\gamma^{(i,j)}` (exact Newton-Raphson).  Parameters are :math:`\beta = W\eta`:

* RM, PCM: all :math:`\beta_{ih}` sum to zero (eRm ``sum0 = TRUE``);
* RSM: :math:`\beta_{ih} = h\,b_i + \omega_h` with :math:`\sum_i b_i = 0` and
  :math:`\omega_1 = 0` (eRm's normalisation).

Standard errors: :math:`\mathrm{diag}(W(-W'HW)^{-1}W')^{1/2}` (eRm ``se.beta``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CMLFit", "fit_cml", "design", "person_ml"]


@dataclass(frozen=True)
class CMLFit:
    beta: np.ndarray          # item-category easiness parameters, item-major (length K)
    cov_beta: np.ndarray      # K x K covariance of beta
    eta: np.ndarray
    loglik: float
    iterations: int
    converged: bool
    n_used: int               # persons with a non-extreme raw score


def design(m: np.ndarray, model: str) -> np.ndarray:
    """The K x p design matrix W (beta = W eta) of eRm's sum-zero normalisation."""
    k_tot = int(m.sum())
    if model in ("rasch", "pcm"):
        w = np.zeros((k_tot, k_tot - 1))
        w[:-1, :] = np.eye(k_tot - 1)
        w[-1, :] = -1.0
        return w
    # rsm: eta = (b_1..b_{k-1}, omega_2..omega_M)
    k = len(m)
    mm = int(m[0])
    w = np.zeros((k_tot, k - 1 + mm - 1))
    row = 0
    for i in range(k):
        for h in range(1, mm + 1):
            if i < k - 1:
                w[row, i] = h
            else:
                w[row, : k - 1] = -h
            if h >= 2:
                w[row, k - 1 + h - 2] = 1.0
            row += 1
    return w


def _polys(eps: np.ndarray, m: np.ndarray) -> list[np.ndarray]:
    out = []
    pos = 0
    for mi in m:
        out.append(np.concatenate(([1.0], eps[pos:pos + mi])))
        pos += mi
    return out


def _group_terms(x: np.ndarray, m: np.ndarray, beta: np.ndarray, offsets: np.ndarray,
                 hessian: bool) -> tuple[float, np.ndarray, np.ndarray | None]:
    """-sum_v log gamma_{r_v}, minus the expected category counts, and minus the summed
    conditional covariances, for one group of persons sharing a pattern of answered items
    (x: persons x answered items, non-extreme rows only)."""
    k = x.shape[1]
    k_tot = int(m.sum())
    # centring constant: gamma_r scaled by exp(-r c) leaves conditional probabilities alone
    c = float(np.mean(beta)) if beta.size else 0.0
    hh = np.concatenate([np.arange(1, mi + 1) for mi in m])
    eps = np.exp(beta - hh * c)
    polys = _polys(eps, m)
    r_max = int(m.sum())
    scores = x.sum(axis=1).astype(int)
    n_r = np.bincount(scores, minlength=r_max + 1).astype(float)
    # prefix/suffix products
    pre = [np.array([1.0])]
    for p in polys[:-1]:
        pre.append(np.convolve(pre[-1], p))
    suf = [np.array([1.0])] * k
    acc = np.array([1.0])
    for i in range(k - 1, -1, -1):
        suf[i] = acc
        acc = np.convolve(acc, polys[i])
    gamma = acc
    used = n_r > 0
    loglik = -float(np.sum(n_r[used] * (np.log(gamma[used]) + np.arange(r_max + 1)[used] * c)))
    w = np.zeros(r_max + 1)
    w[used] = n_r[used] / gamma[used]
    # pi[r, (i,h)] = P(X_i = h | r)
    pi = np.zeros((r_max + 1, k_tot))
    for i in range(k):
        g_i = np.convolve(pre[i], suf[i])
        for h in range(1, m[i] + 1):
            col = offsets[i] + h - 1
            pi[h:h + len(g_i), col] = eps[col] * g_i[: r_max + 1 - h]
    pi[used] /= gamma[used, None]
    pi[~used] = 0.0
    expected = n_r @ pi
    if not hessian:
        return loglik, expected, None
    cov = -(pi.T * n_r) @ pi
    for i in range(k):
        oi = offsets[i]
        cov[oi:oi + m[i], oi:oi + m[i]] += np.diag(expected[oi:oi + m[i]])
        left = pre[i]                       # product of the items before i, then i+1..j-1
        hi = np.arange(1, m[i] + 1)[:, None]
        for j in range(i + 1, k):
            g_ij = np.convolve(left, suf[j])   # gamma without items i and j
            # s[t] = sum_r w_r gamma^{ij}_{r - t}, t = 0..m_i + m_j
            s = np.correlate(w, g_ij, mode="valid")
            lj = np.arange(1, m[j] + 1)[None, :]
            oj = offsets[j]
            block = eps[oi:oi + m[i], None] * eps[oj:oj + m[j]][None, :] * s[hi + lj]
            cov[oi:oi + m[i], oj:oj + m[j]] += block
            cov[oj:oj + m[j], oi:oi + m[i]] += block.T
            left = np.convolve(left, polys[j])
    return loglik, expected, cov


def _groups(x: np.ndarray, m: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(item indices, rows) of each pattern of answered items, extreme scores left out."""
    answered = ~np.isnan(x)
    keys, inverse = np.unique(answered, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    out = []
    for g, key in enumerate(keys):
        items = np.flatnonzero(key)
        rows = np.flatnonzero(inverse == g)
        if items.size == 0:
            continue
        sc = np.nansum(x[np.ix_(rows, items)], axis=1)
        keep = (sc > 0) & (sc < m[items].sum())
        if keep.any():
            out.append((items, rows[keep]))
    return out


def fit_cml(x: np.ndarray, m: np.ndarray, model: str, *, max_iter: int = 100,
            tol: float = 1e-10) -> CMLFit:
    """Newton-Raphson for the conditional likelihood (x: persons x items, NaN missing)."""
    w_mat = design(m, model)
    offsets = np.concatenate(([0], np.cumsum(m)[:-1])).astype(int)
    groups = _groups(x, m)
    k_tot = int(m.sum())
    counts = np.zeros(k_tot)
    n_used = 0
    for items, rows in groups:
        n_used += rows.size
        for i in items:
            xi = x[rows, i]
            for h in range(1, m[i] + 1):
                counts[offsets[i] + h - 1] += np.sum(xi == h)

    def evaluate(eta: np.ndarray, hess: bool) -> tuple[float, np.ndarray, np.ndarray | None]:
        beta = w_mat @ eta
        ll = float(counts @ beta)
        grad = counts.copy()
        info = np.zeros((k_tot, k_tot)) if hess else None
        for items, rows in groups:
            sub_m = m[items]
            sub_idx = np.concatenate([offsets[i] + np.arange(m[i]) for i in items])
            sub_off = np.concatenate(([0], np.cumsum(sub_m)[:-1])).astype(int)
            lg, ex, cv = _group_terms(x[np.ix_(rows, items)], sub_m, beta[sub_idx], sub_off,
                                      hess)
            ll += lg
            grad[sub_idx] -= ex
            if hess:
                info[np.ix_(sub_idx, sub_idx)] += cv
        return ll, w_mat.T @ grad, (w_mat.T @ info @ w_mat if hess else None)

    eta = np.zeros(w_mat.shape[1])
    ll, g, info = evaluate(eta, True)
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        step = np.linalg.solve(info, g)
        t = 1.0
        while True:
            new = eta + t * step
            ll_new, g_new, info_new = evaluate(new, True)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-9 * abs(ll) or t < 1e-6:
                break
            t /= 2
        eta, ll, g, info = new, ll_new, g_new, info_new
        if np.max(np.abs(t * step)) < tol or np.max(np.abs(g)) < tol:
            converged = True
            break
    cov_eta = np.linalg.inv(info)
    beta = w_mat @ eta
    return CMLFit(beta=beta, cov_beta=w_mat @ cov_eta @ w_mat.T, eta=eta, loglik=ll,
                  iterations=it, converged=converged, n_used=n_used)


def person_ml(beta: np.ndarray, m: np.ndarray, score: float, *, tol: float = 1e-10
              ) -> tuple[float, float]:
    """ML person parameter for a non-extreme raw score on the items of ``m``/``beta``
    (Newton on sum_i E(X_i | theta) = score); SE = 1/sqrt(information)."""
    hh = [np.arange(mi + 1) for mi in m]
    offsets = np.concatenate(([0], np.cumsum(m)[:-1])).astype(int)
    bb = [np.concatenate(([0.0], beta[o:o + mi])) for o, mi in zip(offsets, m, strict=True)]
    theta = 0.0
    for _ in range(200):
        e = v = 0.0
        for h, b in zip(hh, bb, strict=True):
            z = h * theta + b
            p = np.exp(z - z.max())
            p /= p.sum()
            mu = float(h @ p)
            e += mu
            v += float(((h - mu) ** 2) @ p)
        step = (score - e) / v
        step = float(np.clip(step, -2.0, 2.0))
        theta += step
        if abs(step) < tol:
            break
    return theta, 1.0 / np.sqrt(v)


def category_moments(beta: np.ndarray, m: np.ndarray, theta: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Expected score, variance, fourth central moment (persons x items) and the category
    probabilities (one persons x (m_i + 1) array per item) at ``theta``."""
    offsets = np.concatenate(([0], np.cumsum(m)[:-1])).astype(int)
    n = theta.size
    e = np.empty((n, len(m)))
    v = np.empty_like(e)
    c = np.empty_like(e)
    probs = []
    for i, (o, mi) in enumerate(zip(offsets, m, strict=True)):
        h = np.arange(mi + 1)
        b = np.concatenate(([0.0], beta[o:o + mi]))
        z = theta[:, None] * h[None, :] + b[None, :]
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        mu = p @ h
        d = h[None, :] - mu[:, None]
        e[:, i] = mu
        v[:, i] = np.sum(d ** 2 * p, axis=1)
        c[:, i] = np.sum(d ** 4 * p, axis=1)
        probs.append(p)
    return e, v, c, probs
