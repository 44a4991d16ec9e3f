r"""Maximum-likelihood estimation of a measurement model in one or more groups.

Per group :math:`g` the model implies

.. math:: \Sigma_g = \Lambda (I-B)^{-1}\Psi(I-B)^{-\top}\Lambda^\top + \Theta, \qquad
   \mu_g = \nu + \Lambda(I-B)^{-1}\alpha

(lavaan's LISREL representation; :math:`B` holds the loadings of first-order factors on
higher-order ones).  The estimates minimise

.. math:: F(\theta) = \sum_g \frac{N_g}{N}\Big[\log|\Sigma_g| + \mathrm{tr}(S_g\Sigma_g^{-1})
   - \log|S_g| - p + (\bar y_g-\mu_g)^\top\Sigma_g^{-1}(\bar y_g-\mu_g)\Big]

(the mean term only with a mean structure), lavaan's ``estimator = "ML"`` with
``likelihood = "normal"`` (:math:`S_g` with divisor :math:`N_g`).  Equality constraints
(labels, ``group.equal``) are imposed by letting the constrained cells share one parameter,
which gives the same estimates, standard errors and degrees of freedom as lavaan's
constraint machinery.

Minimisation: Fisher scoring with the expected information

.. math:: \mathcal I_{kl} = \sum_g \frac{N_g}{N}\Big[\mathrm{tr}(\Sigma_g^{-1}\dot\Sigma_{gk}
   \Sigma_g^{-1}\dot\Sigma_{gl}) + 2\dot\mu_{gk}^\top\Sigma_g^{-1}\dot\mu_{gl}\Big]

and step halving, then Newton steps (Hessian by central differences of the analytic
gradient) until the largest gradient element is below 1e-10.  Standard errors:
:math:`\mathrm{acov}(\hat\theta) = (\tfrac N2\mathcal I)^{-1}` (lavaan's default expected
information for complete data).

References
----------
Bollen, K. A. (1989). Structural Equations with Latent Variables. Wiley.
Jöreskog, K. G. (1971). Simultaneous factor analysis in several populations. Psychometrika,
36, 409-426.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
Statistical Software, 48(2), 1-36.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import ConvergenceWarning, StatisticsError
from instrval.stats._dist import norm_sf
from instrval.stats.sem.common import single_threaded_blas
from instrval.stats.sem.fitmeasures import FitMeasures, ml_fit_measures
from instrval.stats.sem.partable import ParTable

__all__ = ["Engine", "GroupData", "MLSolution", "Pattern", "em_moments", "fit_ml", "group_data",
           "group_data_missing", "start_values"]


@dataclass(frozen=True)
class Pattern:
    """The rows of a group that share a pattern of observed items: ``obs`` (item indices),
    ``n``, their covariance ``S`` (divisor n) and ``means`` on those items."""

    obs: np.ndarray
    n: int
    S: np.ndarray
    means: np.ndarray


@dataclass(frozen=True)
class GroupData:
    """One group's sample statistics: ``n``, covariances ``S`` (divisor n), ``means``, and
    the complete rows ``x`` (for case-wise scores).

    With missing answers (FIML), ``patterns`` holds the missing-data patterns, ``S`` and
    ``means`` are the EM estimates of the saturated model and ``loglik_h1`` its
    log-likelihood.
    """

    name: str
    n: int
    S: np.ndarray
    means: np.ndarray
    x: np.ndarray | None = None
    patterns: tuple[Pattern, ...] | None = None
    loglik_h1: float | None = None

    def blocks(self) -> tuple[list[tuple[np.ndarray, float, np.ndarray, np.ndarray]], float]:
        r"""``([(obs, weight, S_b, means_b), ...], c)``: the group's discrepancy is
        :math:`F_g = \sum_b w_b[\log|\Sigma_{oo}| + \mathrm{tr}(\Sigma_{oo}^{-1}S_b) +
        r_b'\Sigma_{oo}^{-1}r_b] + c`."""
        p = self.S.shape[0]
        if self.patterns is None:
            return ([(np.arange(p), 1.0, self.S, self.means)],
                    -float(np.linalg.slogdet(self.S)[1]) - p)
        log2pi = math.log(2.0 * math.pi)
        out = [(pt.obs, pt.n / self.n, pt.S, pt.means) for pt in self.patterns]
        c = sum(w * obs.size * log2pi for obs, w, _, _ in out)
        assert self.loglik_h1 is not None
        return out, c + 2.0 * self.loglik_h1 / self.n


def group_data(x: np.ndarray, name: str, items: Sequence[str]) -> GroupData:
    """Sample statistics of the complete rows ``x`` (n x p) of one group."""
    n, p = x.shape
    if n < 2:
        raise StatisticsError(f"group {name}: only {n} complete row(s) on the model's items")
    m = x.mean(axis=0)
    xc = x - m
    S = xc.T @ xc / n
    zero = [items[i] for i in range(p) if not S[i, i] > 0]
    if zero:
        raise StatisticsError(f"group {name}: items without variance: {', '.join(zero)}")
    if np.linalg.eigvalsh(S).min() <= 0:
        raise StatisticsError(f"group {name}: the sample covariance matrix of the model's "
                              "items is singular (fewer complete rows than items, or a "
                              "linear dependence)")
    return GroupData(name, int(n), S, m, x)


def _patterns(x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(observed item indices, rows)]`` for each missing-data pattern."""
    obs = ~np.isnan(x)
    keys, inverse = np.unique(obs, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    return [(np.flatnonzero(k), x[inverse == j][:, np.flatnonzero(k)])
            for j, k in enumerate(keys)]


def em_moments(x: np.ndarray, *, tol: float = 1e-11, max_iter: int = 10000
               ) -> tuple[np.ndarray, np.ndarray, float, int]:
    """ML means and covariances of incomplete multivariate-normal rows by EM
    (Dempster, Laird & Rubin, 1977): ``(means, cov, loglik, iterations)``; rows with no
    observed value must be removed first."""
    n, p = x.shape
    pats = _patterns(x)
    mu = np.nanmean(x, axis=0)
    sigma = np.diag(np.nanvar(x, axis=0))
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for obs, rows in pats:
            mis = np.setdiff1d(np.arange(p), obs)
            y = np.empty((rows.shape[0], p))
            y[:, obs] = rows
            if mis.size:
                b = np.linalg.solve(sigma[np.ix_(obs, obs)], sigma[np.ix_(obs, mis)]).T
                y[:, mis] = mu[mis] + (rows - mu[obs]) @ b.T
                t2[np.ix_(mis, mis)] += rows.shape[0] * (
                    sigma[np.ix_(mis, mis)] - b @ sigma[np.ix_(obs, mis)])
            t1 += y.sum(axis=0)
            t2 += y.T @ y
        mu_new = t1 / n
        sigma_new = t2 / n - np.outer(mu_new, mu_new)
        change = max(float(np.max(np.abs(mu_new - mu))),
                     float(np.max(np.abs(sigma_new - sigma))))
        mu, sigma = mu_new, sigma_new
        if change < tol:
            break
    return mu, sigma, _pattern_loglik(pats, mu, sigma), it


def _pattern_loglik(pats: list[tuple[np.ndarray, np.ndarray]], mu: np.ndarray,
                    sigma: np.ndarray) -> float:
    ll = 0.0
    for obs, rows in pats:
        so = sigma[np.ix_(obs, obs)]
        r = rows - mu[obs]
        inv = np.linalg.inv(so)
        ll += -0.5 * (rows.shape[0] * (obs.size * math.log(2.0 * math.pi)
                                        + float(np.linalg.slogdet(so)[1]))
                      + float(np.einsum("ij,jk,ik->", r, inv, r)))
    return ll


def group_data_missing(x: np.ndarray, name: str, items: Sequence[str]) -> GroupData:
    """Sample statistics of rows with missing answers (NaN) for FIML: the patterns, the EM
    estimates of the saturated model and its log-likelihood.  Rows with no answer at all
    are dropped."""
    x = x[~np.isnan(x).all(axis=1)]
    n, p = x.shape
    if n < 2:
        raise StatisticsError(f"group {name}: only {n} row(s) with an answer")
    nobs = (~np.isnan(x)).sum(axis=0)
    few = [items[i] for i in range(p) if nobs[i] < 2]
    if few:
        raise StatisticsError(f"group {name}: items answered by fewer than 2 rows: "
                              f"{', '.join(few)}")
    means, S, ll, _ = em_moments(x)
    if np.linalg.eigvalsh(S).min() <= 0:
        raise StatisticsError(f"group {name}: the EM estimate of the covariance matrix is "
                              "singular")
    pats = []
    for obs, rows in _patterns(x):
        m = rows.mean(axis=0)
        rc = rows - m
        pats.append(Pattern(obs, int(rows.shape[0]), rc.T @ rc / rows.shape[0], m))
    return GroupData(name, int(n), S, means, x, tuple(pats), float(ll))


def baseline_loglik_missing(d: GroupData) -> float:
    """Log-likelihood of the independence model (free means and variances) with missing
    answers: each item's available-case mean and variance (divisor n_j)."""
    assert d.x is not None
    ll = 0.0
    for j in range(d.x.shape[1]):
        v = d.x[:, j][~np.isnan(d.x[:, j])]
        var = float(np.mean((v - v.mean()) ** 2))
        ll += -0.5 * v.size * (math.log(2.0 * math.pi) + math.log(var) + 1.0)
    return ll


@dataclass(frozen=True)
class MLSolution:
    """An ML solution: free parameters, their SEs, the matrices and implied moments per
    group, fit measures and the parameter table as a DataFrame."""

    partable: ParTable
    data: tuple[GroupData, ...]
    theta: np.ndarray
    se: np.ndarray
    acov: np.ndarray
    matrices: tuple[dict[str, np.ndarray], ...]
    sigma: tuple[np.ndarray, ...]
    mu: tuple[np.ndarray, ...]
    fit: FitMeasures
    parameters: pd.DataFrame
    converged: bool
    iterations: int
    information: np.ndarray

    @property
    def df(self) -> int:
        return int(self.fit["df"])


class Engine:
    """Matrices, implied moments, gradient and information for a parameter table."""

    def __init__(self, pt: ParTable, data: Sequence[GroupData]):
        self.pt = pt
        self.data = list(data)
        self.G = len(pt.groups)
        self.p = len(pt.ov)
        self.m = len(pt.lv)
        self.q = pt.nfree
        self.rows_by_group = [[r for r in pt.rows if r.group == g] for g in range(self.G)]
        self.w = np.array([d.n for d in data], float) / sum(d.n for d in data)
        self._blocks = [d.blocks() for d in self.data]
        self._ix = [[np.ix_(b[0], b[0]) for b in blocks] for blocks, _ in self._blocks]

    def matrices(self, theta: np.ndarray, g: int) -> dict[str, np.ndarray]:
        p, m = self.p, self.m
        mats = {"lambda": np.zeros((p, m)), "beta": np.zeros((m, m)), "psi": np.zeros((m, m)),
                "theta": np.zeros((p, p)), "nu": np.zeros(p), "alpha": np.zeros(m)}
        for r in self.rows_by_group[g]:
            v = theta[r.free - 1] if r.free else r.value
            a = mats[r.mat]
            if a.ndim == 1:
                a[r.row] = v
            else:
                a[r.row, r.col] = v
                if r.mat in ("psi", "theta"):
                    a[r.col, r.row] = v
        return mats

    def implied(self, mats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, dict]:
        ib = np.linalg.inv(np.eye(self.m) - mats["beta"])
        lam = mats["lambda"]
        L = lam @ ib
        A = ib @ mats["psi"] @ ib.T
        sigma = L @ mats["psi"] @ L.T + mats["theta"]
        ma = ib @ mats["alpha"]
        mu = mats["nu"] + lam @ ma
        return sigma, mu, {"ib": ib, "L": L, "A": A, "ma": ma}

    def derivatives(self, theta: np.ndarray, g: int, mats: dict[str, np.ndarray], aux: dict
                    ) -> tuple[np.ndarray, np.ndarray]:
        """dSigma (q, p, p) and dmu (q, p) of group g."""
        p = self.p
        ds = np.zeros((self.q, p, p))
        dm = np.zeros((self.q, p))
        lam, L, A, ma = mats["lambda"], aux["L"], aux["A"], aux["ma"]
        al = A @ lam.T                      # (m, p)
        for r in self.rows_by_group[g]:
            if not r.free:
                continue
            k = r.free - 1
            i, j = r.row, r.col
            if r.mat == "lambda":
                ds[k, i, :] += al[j]
                ds[k, :, i] += al[j]
                dm[k, i] += ma[j]
            elif r.mat == "beta":
                t = np.outer(L[:, i], al[j])
                ds[k] += t + t.T
                dm[k] += L[:, i] * ma[j]
            elif r.mat == "psi":
                t = np.outer(L[:, i], L[:, j])
                ds[k] += t if i == j else t + t.T
            elif r.mat == "theta":
                ds[k, i, j] += 1.0
                if i != j:
                    ds[k, j, i] += 1.0
            elif r.mat == "nu":
                dm[k, i] += 1.0
            elif r.mat == "alpha":
                dm[k] += L[:, i]
        return ds, dm

    def objective(self, theta: np.ndarray) -> float:
        f = 0.0
        for g in range(self.G):
            sigma, mu, _ = self.implied(self.matrices(theta, g))
            blocks, const = self._blocks[g]
            fg = const
            for (obs, wb, sb, mb), ix in zip(blocks, self._ix[g], strict=True):
                so = sigma[ix]
                try:
                    c = np.linalg.cholesky(so)
                except np.linalg.LinAlgError:
                    return math.inf
                inv = np.linalg.inv(so)
                fb = 2.0 * float(np.sum(np.log(np.diag(c)))) + float(np.sum(sb * inv))
                if self.pt.meanstructure:
                    r = mb - mu[obs]
                    fb += float(r @ inv @ r)
                fg += wb * fb
            f += self.w[g] * fg
        return f

    def gradient(self, theta: np.ndarray, info: bool = False
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:
        grad = np.zeros(self.q)
        h = np.zeros((self.q, self.q)) if info else None
        for g, _d in enumerate(self.data):
            mats = self.matrices(theta, g)
            sigma, mu, aux = self.implied(mats)
            ds_all, dm_all = self.derivatives(theta, g, mats, aux)
            blocks, _ = self._blocks[g]
            for (obs, wb, sb, mb), ix in zip(blocks, self._ix[g], strict=True):
                full = obs.size == self.p
                so = sigma if full else sigma[ix]
                try:
                    chol = np.linalg.cholesky(so)
                except np.linalg.LinAlgError:
                    return None, None
                ci = np.linalg.inv(chol)
                inv = ci.T @ ci
                ds = ds_all if full else ds_all[:, obs][:, :, obs]
                dm = dm_all if full else dm_all[:, obs]
                r = mb - mu[obs]
                dev = sb + np.outer(r, r) if self.pt.meanstructure else sb
                wmat = inv @ (so - dev) @ inv
                gg = np.einsum("ij,kij->k", wmat, ds)
                if self.pt.meanstructure:
                    gg -= 2.0 * dm @ (inv @ r)
                grad += self.w[g] * wb * gg
                if h is not None:
                    a = np.einsum("ij,kjl->kil", inv, ds)
                    hg = np.einsum("kij,lji->kl", a, a)
                    if self.pt.meanstructure:
                        hg += 2.0 * dm @ inv @ dm.T
                    h += self.w[g] * wb * hg
        return grad, h

    def casewise_scores(self, theta: np.ndarray, g: int) -> np.ndarray:
        r"""Scores of each case's log-likelihood with respect to the free parameters of group
        ``g`` (n x q): :math:`\dot\mu_k'\Sigma^{-1}r + \frac12(r'\Sigma^{-1}\dot\Sigma_k
        \Sigma^{-1}r - \mathrm{tr}(\Sigma^{-1}\dot\Sigma_k))` with :math:`r = y - \mu`
        (:math:`\mu = \bar y` without a mean structure)."""
        d = self.data[g]
        if d.x is None:
            raise StatisticsError("case-wise scores need the data rows")
        mats = self.matrices(theta, g)
        sigma, mu, aux = self.implied(mats)
        inv = np.linalg.inv(sigma)
        ds, dm = self.derivatives(theta, g, mats, aux)
        r = d.x - (mu if self.pt.meanstructure else d.means)
        a = r @ inv
        quad = np.einsum("ip,kpq,iq->ik", a, ds, a, optimize=True)
        tr = np.einsum("pq,kqp->k", inv, ds)
        sc = 0.5 * (quad - tr[None, :])
        if self.pt.meanstructure:
            sc += a @ dm.T
        return sc

    def fd_hessian(self, theta: np.ndarray) -> np.ndarray | None:
        q = theta.size
        hess = np.empty((q, q))
        for k in range(q):
            eps = 1e-6 * max(1.0, abs(theta[k]))
            e = np.zeros(q)
            e[k] = eps
            gp, _ = self.gradient(theta + e)
            gm, _ = self.gradient(theta - e)
            if gp is None or gm is None:
                return None
            hess[:, k] = (gp - gm) / (2.0 * eps)
        return (hess + hess.T) / 2.0


def start_values(eng: Engine) -> np.ndarray:
    """Starting values: each factor's first principal axis of its items' covariances
    (pooled over groups), half the item variances for residuals, the sample means."""
    pt = eng.pt
    p, m = eng.p, eng.m
    S = sum(w * d.S for w, d in zip(eng.w, eng.data, strict=True))
    means = sum(w * d.means for w, d in zip(eng.w, eng.data, strict=True))
    lam0 = np.zeros((p, m))
    var0 = np.ones(m)
    oi = {v: i for i, v in enumerate(pt.ov)}
    multi = np.zeros(p)
    for f, fac in enumerate(pt.lv):
        ind = [oi[v] for v in pt.indicators[fac] if v in oi]
        if not ind:
            continue
        multi[ind] += 1
        vals, vecs = np.linalg.eigh(S[np.ix_(ind, ind)])
        load = vecs[:, -1] * math.sqrt(max(vals[-1], 1e-8))
        load = load * (1.0 if load[0] >= 0 else -1.0)
        marker = next((r for r in pt.rows if r.group == 0 and r.mat == "lambda"
                       and r.col == f and not r.free), None)
        if marker is not None and marker.value != 0:
            lm = load[ind.index(marker.row)] if marker.row in ind else load[0]
            lm = lm if abs(lm) > 1e-8 else 1e-8
            lam0[ind, f] = load / lm * marker.value
            var0[f] = (lm / marker.value) ** 2
        else:
            lam0[ind, f] = load
    share = np.where(multi > 1, multi, 1.0)
    theta = np.full(eng.q, np.nan)
    for r in pt.rows:
        if not r.free or not math.isnan(theta[r.free - 1]):
            continue
        k = r.free - 1
        if not math.isnan(r.value):
            theta[k] = r.value
        elif r.mat == "lambda":
            theta[k] = lam0[r.row, r.col] / share[r.row]
        elif r.mat == "beta":
            theta[k] = 1.0
        elif r.mat == "psi":
            theta[k] = (0.5 * var0[r.row] if r.row == r.col and _endogenous(pt, r.lhs)
                        else var0[r.row] if r.row == r.col else 0.0)
        elif r.mat == "theta":
            theta[k] = S[r.row, r.row] / 2.0 if r.row == r.col else 0.0
        elif r.mat == "nu":
            theta[k] = means[r.row]
        else:
            theta[k] = 0.0
    return theta


def _endogenous(pt: ParTable, f: str) -> bool:
    return any(f in inds for inds in pt.indicators.values())


def _quasi_newton(eng: Engine, theta: np.ndarray, f: float) -> tuple[np.ndarray, float]:
    """L-BFGS-B on F with the analytic gradient (points where Sigma is not positive definite
    count as a large value); returns the better of its end point and ``theta``."""
    from scipy import optimize

    def fun(t: np.ndarray) -> tuple[float, np.ndarray]:
        val = eng.objective(t)
        if not math.isfinite(val):
            return 1e10, np.zeros_like(t)
        grad, _ = eng.gradient(t)
        return val, (grad if grad is not None else np.zeros_like(t))

    res = optimize.minimize(fun, theta, jac=True, method="L-BFGS-B",
                            options={"maxiter": 10000, "ftol": 1e-15, "gtol": 1e-10})
    fc = eng.objective(res.x)
    return (res.x, fc) if math.isfinite(fc) and fc < f else (theta, f)


def _minimise(eng: Engine, theta: np.ndarray, max_iter: int = 500, gtol: float = 1e-10
              ) -> tuple[np.ndarray, float, int, bool]:
    f = eng.objective(theta)
    if not math.isfinite(f):
        raise StatisticsError("the starting values give an implied covariance matrix that is "
                              "not positive definite")
    converged = False
    it = stalled = quasi_newton = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        g, h = eng.gradient(theta, info=True)
        assert g is not None and h is not None
        gmax = float(np.max(np.abs(g)))
        if gmax < gtol:
            converged = True
            break
        if gmax < 1e-4:
            hess = eng.fd_hessian(theta)
            if hess is not None and np.linalg.eigvalsh(hess).min() > 0:
                cand = theta - np.linalg.solve(hess, g)
                gc, _ = eng.gradient(cand)
                if gc is not None and np.max(np.abs(gc)) < gmax:
                    fc = eng.objective(cand)
                    if fc <= f + 1e-12 * max(1.0, abs(f)):
                        theta, f = cand, fc
                        continue
        try:
            step = -np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(h, g, rcond=None)[0]
        t = 1.0
        improved = False
        for _ in range(40):
            cand = theta + t * step
            fc = eng.objective(cand)
            if math.isfinite(fc) and fc <= f + 1e-4 * t * float(g @ step):
                theta, f = cand, fc
                improved = True
                break
            t /= 2.0
        stalled = stalled + 1 if t < 0.02 else 0
        if (stalled >= 3 or not improved) and quasi_newton < 2:
            # Fisher scoring is crawling (typically near a saddle of a bifactor model):
            # a quasi-Newton run from here, then scoring and Newton steps finish
            quasi_newton += 1
            stalled = 0
            theta, f = _quasi_newton(eng, theta, f)
            continue
        if not improved:
            converged = gmax < 1e-7
            break
    return theta, f, it, converged


def fit_ml(pt: ParTable, data: Sequence[GroupData], *, start: np.ndarray | None = None,
           max_iter: int = 500, stacklevel: int = 2) -> MLSolution:
    """Fit the parameter table to the groups' sample statistics by ML (see the module)."""
    if any(d.patterns is not None for d in data) and not pt.meanstructure:
        raise StatisticsError("FIML (missing data) needs a mean structure")
    eng = Engine(pt, data)
    p = eng.p
    nmom = eng.G * (p * (p + 1) // 2 + (p if pt.meanstructure else 0))
    df = nmom - eng.q
    if df < 0:
        raise StatisticsError(f"the model is not identified: {eng.q} free parameters but "
                              f"only {nmom} sample moments")
    with single_threaded_blas():
        theta0 = start_values(eng) if start is None else np.asarray(start, float)
        theta, _f, iters, converged = _minimise(eng, theta0, max_iter=max_iter)
    if not converged:
        warnings.warn(f"the model did not converge after {iters} iterations; the estimates "
                      "are not reliable", ConvergenceWarning, stacklevel=stacklevel + 1)
    _, h = eng.gradient(theta, info=True)
    assert h is not None
    ntot = sum(d.n for d in data)
    fiml = any(d.patterns is not None for d in data)
    if fiml:  # lavaan's default for missing = "ml": the observed information (Hessian)
        with single_threaded_blas():
            hess = eng.fd_hessian(theta)
        if hess is not None:
            h = hess
    info = ntot / 2.0 * h
    try:
        if np.linalg.cond(info) > 1e14:
            raise np.linalg.LinAlgError
        acov = np.linalg.inv(info)
        se = np.sqrt(np.where(np.diag(acov) > 0, np.diag(acov), np.nan))
    except np.linalg.LinAlgError:
        warnings.warn("the information matrix is singular: the model may not be identified; "
                      "standard errors are not available", ConvergenceWarning,
                      stacklevel=stacklevel + 1)
        acov = np.full((eng.q, eng.q), np.nan)
        se = np.full(eng.q, np.nan)
    mats, sigmas, mus, auxs = [], [], [], []
    for g in range(eng.G):
        mm = eng.matrices(theta, g)
        sigma, mu, aux = eng.implied(mm)
        mats.append(mm)
        sigmas.append(sigma)
        mus.append(mu)
        auxs.append(aux)
    missing = None
    if fiml:
        ll_h1 = sum(float(d.loglik_h1 or 0.0) for d in data)
        ll = ll_h1 - ntot * eng.objective(theta) / 2.0
        missing = (ll, ll_h1, sum(baseline_loglik_missing(d) for d in data))
    fit = FitMeasures.from_dict(ml_fit_measures(
        S=[d.S for d in data], sigma=sigmas, n=[d.n for d in data], q=eng.q, df=df,
        M=[d.means for d in data] if pt.meanstructure else None,
        mu=mus if pt.meanstructure else None, missing=missing))
    params = _parameter_frame(pt, theta, se, mats, sigmas, auxs)
    return MLSolution(pt, tuple(data), theta, se, acov, tuple(mats), tuple(sigmas), tuple(mus),
                      fit, params, bool(converged), int(iters), h)


def _parameter_frame(pt: ParTable, theta: np.ndarray, se: np.ndarray,
                     mats: list[dict[str, np.ndarray]], sigmas: list[np.ndarray],
                     auxs: list[dict[str, Any]]) -> pd.DataFrame:
    """lavaan's ``parameterEstimates(fit, standardized = TRUE)`` layout."""
    rows = []
    oi = {v: i for i, v in enumerate(pt.ov)}
    li = {v: i for i, v in enumerate(pt.lv)}
    for r in pt.rows:
        mm, sigma, aux = mats[r.group], sigmas[r.group], auxs[r.group]
        sd_ov = np.sqrt(np.diag(sigma))
        sd_lv = np.sqrt(np.where(np.diag(aux["A"]) > 0, np.diag(aux["A"]), np.nan))
        est = float(theta[r.free - 1]) if r.free else float(r.value)
        s = float(se[r.free - 1]) if r.free else math.nan

        def sd(v: str) -> float:
            return float(sd_ov[oi[v]]) if v in oi else float(sd_lv[li[v]])  # noqa: B023

        def lvsd(v: str) -> float:
            return float(sd_lv[li[v]]) if v in li else 1.0  # noqa: B023

        if r.op == "=~":
            std_lv = est * sd(r.lhs) / (sd(r.rhs) if r.rhs in li else 1.0)
            std_all = est * sd(r.lhs) / sd(r.rhs)
        elif r.op == "~1":
            std_lv = est / lvsd(r.lhs)
            std_all = est / sd(r.lhs)
        else:
            a = mm[r.mat]
            if r.lhs == r.rhs:
                std_lv = est / lvsd(r.lhs) ** 2
                std_all = est / sd(r.lhs) ** 2
            else:
                i, j = r.row, r.col
                denom = math.sqrt(a[i, i] * a[j, j]) if a[i, i] * a[j, j] > 0 else math.nan
                std_all = est / denom
                std_lv = std_all if r.mat == "psi" else est
        z = est / s if r.free and math.isfinite(s) and s > 0 else math.nan
        rows.append({"lhs": r.lhs, "op": r.op, "rhs": r.rhs, "group": r.group + 1,
                     "group_name": pt.groups[r.group], "label": r.label, "estimate": est,
                     "se": s if r.free else math.nan, "z": z,
                     "pvalue": 2.0 * float(norm_sf(abs(z))) if math.isfinite(z)
                     else math.nan,
                     "std_lv": float(std_lv), "std_all": float(std_all), "free": bool(r.free),
                     "parameter": r.free})
    return pd.DataFrame(rows)
