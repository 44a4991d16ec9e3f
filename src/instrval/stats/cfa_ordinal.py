r"""Ordinal confirmatory factor analysis by WLSMV, matching R lavaan's defaults for ordered items.

This is lavaan's ``cfa(model, data, ordered = TRUE, estimator = "WLSMV")`` (lavaan 0.6.14): a
three-stage estimator for items whose answers are ordered categories.

Stage 1 (thresholds).  Each item :math:`y_i` with categories :math:`1..K_i` is the cut-up of a
standard normal latent response :math:`y_i^*`; its thresholds are
:math:`\tau_{ik} = \Phi^{-1}(\sum_{c \le k} n_{ic}/N)`.

Stage 2 (polychoric correlations).  For every pair, :math:`\rho_{ij}` maximises the bivariate
multinomial likelihood :math:`\sum_{ab} n_{ab}\log\pi_{ab}(\rho)` with the thresholds of stage 1
held fixed (the two-step estimator; lavaan's ``lav_bvord_cor_twostep_fit``).

Stage 3 (DWLS).  With :math:`s = (\hat\tau', \hat\rho')'` the sample statistics and
:math:`\sigma(\theta)` their model-implied values, the estimates minimise

.. math:: F_{DWLS}(\theta) = (s - \sigma(\theta))' W (s - \sigma(\theta)),
   \qquad W = \mathrm{diag}(\Gamma)^{-1},

where :math:`\Gamma` is :math:`N` times the asymptotic covariance matrix of :math:`s`
(Muthén, 1984; Muthén, du Toit & Spisic, 1997), computed from the case-wise scores of the
univariate and bivariate log-likelihoods:

.. math:: \Gamma = N\, A^{-1} B A^{-\top}, \quad B = \sum_n g_n g_n', \quad
   A = \begin{pmatrix} A_{11} & 0 \\ A_{21} & A_{22} \end{pmatrix},

with :math:`g_n` the scores of case :math:`n` (threshold scores of the univariate
likelihoods, correlation scores of the bivariate ones), :math:`A_{11}` the block-diagonal
cross-products of each item's threshold scores, :math:`A_{22}` the diagonal of the squared
correlation scores and :math:`A_{21}` the cross-products of each correlation score with the
bivariate threshold scores of its two items (lavaan's ``muthen1984``).

The model (delta parameterization): the latent responses have unit variances, the implied
thresholds are free (so they equal the sample thresholds) and the implied correlations are
the off-diagonal elements of :math:`\Lambda\Phi\Lambda'`; the residual variances
:math:`1 - \mathrm{diag}(\Lambda\Phi\Lambda')` are not free parameters.

Robust standard errors (lavaan ``se = "robust.sem"``) come from the sandwich

.. math:: \mathrm{acov}(\hat\theta) = \frac1{N-1} (\Delta'W\Delta)^{-1}\Delta'W\Gamma W\Delta
   (\Delta'W\Delta)^{-1}, \qquad \Delta = \partial\sigma/\partial\theta'.

The test statistic is :math:`T = (N-1)F_{DWLS}` (lavaan's ``2 N f_{min}`` with
:math:`f_{min} = \tfrac12 \tfrac{N-1}{N} F`), and its mean-and-variance adjusted ("scaled and
shifted", Asparouhov & Muthén, 2010; lavaan's WLSMV default ``test = "scaled.shifted"``)
version is :math:`T_{ss} = aT + b` with :math:`U = W - W\Delta(\Delta'W\Delta)^{-1}\Delta'W`,
:math:`a = \sqrt{df/\mathrm{tr}((U\Gamma)^2)}` and :math:`b = df - a\,\mathrm{tr}(U\Gamma)`.

References
----------
Muthén, B. (1984). A general structural equation model with dichotomous, ordered
categorical, and continuous latent variable indicators. Psychometrika, 49, 115-132.
Muthén, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted least
squares and quadratic estimating equations in latent variable modeling with categorical and
continuous outcomes. Unpublished technical report.
Asparouhov, T., & Muthén, B. (2010). Simple second order chi-square correction. Mplus
technical appendix.
Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation coefficient.
Psychometrika, 44, 443-460.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
Statistical Software, 48(2), 1-36.  Version 0.6.14 is reproduced here.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from instrval._jsonable import to_jsonable
from instrval.errors import ConvergenceWarning, StatisticsError
from instrval.stats._dist import chi2_sf, norm_pdf
from instrval.stats.polychoric import _cell_probabilities, _solve_pairs
from instrval.stats.sem.common import (
    CFAResult,
    check_improper,
    first_loadings_positive,
    free_positions,
    loading_pattern,
    model_data,
    param_row,
    parse_factor_mapping,
    rmsea_ci,
)
from instrval.stats.sem.ml import Engine, GroupData
from instrval.stats.sem.ml import start_values as ml_start
from instrval.stats.sem.partable import ParTable, build_partable

__all__ = ["OrdinalCFAResult", "cfa_ordinal"]

ESTIMATORS = ("wlsmv",)
PARAMETERIZATIONS = ("delta",)
MISSING = ("listwise",)

#: lavaan floors cell probabilities at sqrt(machine epsilon) and drops such cells from the
#: gradient of the bivariate log-likelihood.
_SQRT_EPS = math.sqrt(float(np.finfo(float).eps))
_TWO_PI = 2.0 * math.pi
#: lavaan's bounds for a polychoric correlation (``nlminb(lower = -0.999, upper = 0.999)``).
_RHO_BOUND = 0.999


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, repr=False)
class OrdinalCFAResult(CFAResult):
    """A confirmatory factor model fitted to ordered items by WLSMV.

    The fields of :class:`~instrval.stats.cfa.CFAResult`, read for the latent responses:
    ``implied_covariance`` is the implied polychoric correlation matrix (unit diagonal),
    ``sample_covariance`` the sample polychoric correlations, ``residual_variances`` the
    (non-free) residual variances :math:`1 - \\mathrm{diag}(\\Lambda\\Phi\\Lambda')` with se
    NaN.  ``fit`` holds ``chi2``, ``df``, ``pvalue`` (the DWLS statistic), ``chi2_scaled``,
    ``df_scaled``, ``pvalue_scaled``, ``scaling_factor``, ``shift_parameter`` (the scaled and
    shifted statistic), ``baseline_chi2``, ``baseline_df``, ``baseline_chi2_scaled``,
    ``cfi``, ``tli``, ``cfi_scaled``, ``tli_scaled``, ``rmsea``, ``rmsea_ci_low``,
    ``rmsea_ci_high``, ``rmsea_scaled``, ``rmsea_ci_low_scaled``, ``rmsea_ci_high_scaled``,
    ``srmr``, ``fmin``, ``npar``, ``n``; ``aic``, ``bic`` and ``loglik`` are NaN (they are not
    defined for WLSMV; kept so that code written for ML results keeps working).

    Attributes
    ----------
    thresholds : DataFrame
        One row per threshold: ``item_id``, ``threshold`` (``"t1"``, ...), ``estimate``,
        ``se``, ``z``, ``pvalue``.
    nacov : DataFrame
        :math:`\\Gamma` (lavaan's ``lavInspect(fit, "gamma")``), :math:`N` times the asymptotic
        covariance matrix of the thresholds then the polychoric correlations (in lavaan's
        order: ``A1|t1`` ..., then ``A2~~A1``, ``A3~~A1``, ... column by column).
    polychoric_converged : bool
        Whether every polychoric correlation converged.
    """

    thresholds: pd.DataFrame
    nacov: pd.DataFrame
    polychoric_converged: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what :meth:`CFAResult.to_dict` gives, plus ``thresholds`` (records)
        and ``polychoric_converged``."""
        out = super().to_dict()
        out["thresholds"] = to_jsonable(self.thresholds)
        out["polychoric_converged"] = bool(self.polychoric_converged)
        return out


# --------------------------------------------------------------------------- stage 1 and 2
def _bvn_density(x: np.ndarray, y: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Standard bivariate normal density; 0 where x or y is infinite."""
    fin = np.isfinite(x) & np.isfinite(y)
    xs = np.where(fin, x, 0.0)
    ys = np.where(fin, y, 0.0)
    r2 = 1.0 - rho * rho
    d = np.exp(-(xs * xs - 2.0 * rho * xs * ys + ys * ys) / (2.0 * r2)) / (_TWO_PI * np.sqrt(r2))
    return np.where(fin, d, 0.0)


def _cell_terms(rho: np.ndarray, tr: np.ndarray, tc: np.ndarray, second: bool
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Cell probabilities, their derivative in rho (and the second derivative's numerator).

    ``tr`` (m, K-1) and ``tc`` (m, K-1) are the finite-or-+inf thresholds of the row and
    column items of m pairs.  Returns ``pi`` (m, K, K), ``phi`` = d pi / d rho and, when
    ``second``, ``gnorm`` = d phi / d rho (lavaan's ``lav_bvord_noexo_*_cache``).
    """
    m, k1 = tr.shape
    pi = _cell_probabilities(rho, tr, tc)
    t1 = tr[:, :, None]
    t2 = tc[:, None, :]
    r = rho[:, None, None]
    dens = _bvn_density(t1, t2, r)

    def spread(a: np.ndarray) -> np.ndarray:
        pad = np.zeros((m, k1 + 2, k1 + 2))
        pad[:, 1:-1, 1:-1] = a
        return pad[:, 1:, 1:] - pad[:, :-1, 1:] - pad[:, 1:, :-1] + pad[:, :-1, :-1]

    phi = spread(dens)
    gnorm = None
    if second:
        rr = 1.0 - r * r
        fin = np.isfinite(t1) & np.isfinite(t2)
        u = np.where(fin, t1, 0.0)
        v = np.where(fin, t2, 0.0)
        guv = (u * v * rr - r * (u * u - 2.0 * r * u * v + v * v) + r * rr) / (rr * rr)
        gnorm = spread(dens * guv)
    return pi, phi, gnorm


def _polychoric_pairs(freq: np.ndarray, tr: np.ndarray, tc: np.ndarray, start: np.ndarray,
                      max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Maximum likelihood polychoric correlations of m tables at once (thresholds fixed).

    Newton's method on lavaan's analytic gradient and Hessian (``lav_bvord_min_gradient`` /
    ``_hessian``; cells with probability at most sqrt(eps) are left out, as lavaan), from
    lavaan's start (the Pearson correlation), with step halving on the log-likelihood and
    the bounds (-0.999, 0.999); iterates until the Newton step is below 1e-10.  Pairs for
    which Newton fails are solved by Brent's method and then polished by Newton.
    Returns ``(rho, converged)``.
    """
    m = freq.shape[0]

    def loglik(rho: np.ndarray, idx: np.ndarray) -> np.ndarray:
        pi = _cell_probabilities(rho, tr[idx], tc[idx])
        pi = np.maximum(pi, _SQRT_EPS)
        return np.sum(freq[idx] * np.log(pi), axis=(1, 2))

    def newton(rho: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        done = np.zeros(idx.size, dtype=bool)
        ok = np.ones(idx.size, dtype=bool)
        ll = loglik(rho, idx)
        for _ in range(max_iter):
            act = np.flatnonzero(~done & ok)
            if act.size == 0:
                break
            sub = idx[act]
            pi, phi, gnorm = _cell_terms(rho[act], tr[sub], tc[sub], True)
            good = pi > _SQRT_EPS
            pis = np.where(good, pi, 1.0)
            f = freq[sub]
            g = np.sum(np.where(good, f * phi / pis, 0.0), axis=(1, 2))
            h = np.sum(np.where(good, f * gnorm / pis - f * phi * phi / (pis * pis), 0.0),
                       axis=(1, 2))
            concave = h < 0
            step = np.where(concave, -g / np.where(concave, h, 1.0), 0.0)
            # not concave here: a small gradient step instead of Newton
            step = np.where(concave, step, np.sign(g) * 0.05)
            t = np.ones(act.size)
            new = rho[act].copy()
            accepted = np.zeros(act.size, dtype=bool)
            for _half in range(30):
                cand = np.clip(rho[act] + t * step, -_RHO_BOUND, _RHO_BOUND)
                llc = loglik(cand, sub)
                better = ~accepted & (llc >= ll[act] - 1e-12 * np.abs(ll[act]))
                new = np.where(better, cand, new)
                ll[act] = np.where(better, llc, ll[act])
                accepted |= better
                if accepted.all():
                    break
                t = np.where(accepted, t, t / 2.0)
            rho[act] = new
            # converged: a Newton step below 1e-10 taken; or one below 1e-7 that no longer
            # changes the log-likelihood in floating point
            small = concave & (np.abs(step) < 1e-10)
            floor = concave & ~accepted & (np.abs(step) < 1e-7)
            ok[act] = accepted | floor
            done[act] = (small & accepted) | floor
        return rho, done & ok

    idx = np.arange(m)
    rho, conv = newton(np.clip(start.astype(float), -0.99, 0.99), idx)
    bad = np.flatnonzero(~conv)
    if bad.size:
        rb, _ = _solve_pairs(freq[bad], tr[bad], tc[bad])
        rho[bad] = np.clip(rb, -_RHO_BOUND + 1e-6, _RHO_BOUND - 1e-6)
        rho2, conv2 = newton(rho.copy(), bad)
        rho[bad] = rho2[bad]
        conv[bad] = conv2
    return rho, conv


def _stage12(codes: np.ndarray, ncat: np.ndarray, items: list[str]
             ) -> dict[str, Any]:
    """Thresholds, polychoric correlations and Gamma (lavaan's ``muthen1984``)."""
    n, p = codes.shape
    kmax = int(ncat.max())
    nth_i = ncat - 1
    th_end = np.cumsum(nth_i)
    th_start = th_end - nth_i
    nth = int(th_end[-1])
    # ---- thresholds (padded with +inf up to kmax - 1)
    tau = np.full((p, kmax - 1), np.inf)
    marg = np.zeros((p, kmax))
    for i in range(p):
        cnt = np.bincount(codes[:, i], minlength=kmax).astype(float)
        marg[i] = cnt
        tau[i, :nth_i[i]] = ndtri(np.cumsum(cnt)[:nth_i[i]] / n)
    # ---- pairs in lavaan's order: (2,1), (3,1), ..., (p,1), (3,2), ...
    jl, il = np.triu_indices(p, 1)
    npair = il.size
    onehot = np.zeros((n, p, kmax))
    onehot[np.arange(n)[:, None], np.arange(p)[None, :], codes] = 1.0
    flat = onehot.reshape(n, p * kmax)
    tabs_all = (flat.T @ flat).reshape(p, kmax, p, kmax).transpose(0, 2, 1, 3)
    counts = tabs_all[il, jl]                   # rows = item i (later), cols = item j
    # the zero-cell correction serves the polychoric estimates only; the scores (and so
    # Gamma) are the cases' own, as in lavaan
    freq = _zero_cells(counts, ncat[il], ncat[jl], items, il, jl)
    x = codes.astype(float)
    xc = x - x.mean(axis=0)
    sd = np.sqrt(np.sum(xc * xc, axis=0))
    pear = (xc.T @ xc) / np.outer(sd, sd)
    rho, conv = _polychoric_pairs(freq, tau[il], tau[jl], pear[il, jl])
    cor = np.eye(p)
    cor[il, jl] = rho
    cor[jl, il] = rho
    # ---- scores per cell
    pi, phi, _ = _cell_terms(rho, tau[il], tau[jl], False)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_rho = np.where(pi > 0, phi / pi, 0.0)            # (npair, K, K)
    # univariate threshold scores: s[i, c, k] = (d_{c,k} - d_{c,k+1}) phi(tau_k) / P_c
    dn = np.where(np.isfinite(tau), norm_pdf(np.where(np.isfinite(tau), tau, 0.0)), 0.0)
    pc = marg / n
    s_uni = np.zeros((p, kmax, kmax - 1))
    kk = np.arange(kmax - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_uni[:, kk, kk] = dn / np.where(pc[:, :-1] > 0, pc[:, :-1], np.inf)
        s_uni[:, kk + 1, kk] = -dn / np.where(pc[:, 1:] > 0, pc[:, 1:], np.inf)
    # case-wise score matrix SC = [thresholds, correlations]
    sc = np.empty((n, nth + npair))
    for i in range(p):
        sc[:, th_start[i]:th_end[i]] = s_uni[i][codes[:, i], :nth_i[i]]
    sc[:, nth:] = s_rho[np.arange(npair)[None, :], codes[:, il], codes[:, jl]]
    inner = sc.T @ sc
    # ---- A11^-1 (block diagonal), A22^-1 (diagonal), A21
    a11_inv = np.zeros((nth, nth))
    for i in range(p):
        b = slice(th_start[i], th_end[i])
        a11_inv[b, b] = np.linalg.inv(inner[b, b])
    a22 = np.diag(inner)[nth:]
    if np.any(a22 <= 0):
        raise StatisticsError("cannot compute the weight matrix: a polychoric correlation "
                              "has no information (a pair of items with a degenerate table)")
    a21 = _a21(counts, rho, tau[il], tau[jl], pi, s_rho, il, jl, th_start, nth_i, nth)
    binv = np.zeros((nth + npair, nth + npair))
    binv[:nth, :nth] = a11_inv
    binv[nth:, nth:] = np.diag(1.0 / a22)
    binv[nth:, :nth] = -(a21 / a22[:, None]) @ a11_inv
    gamma = n * (binv @ inner @ binv.T)
    th_vec = np.concatenate([tau[i, :nth_i[i]] for i in range(p)])
    return {"tau": tau, "th": th_vec, "cor": cor, "rho": rho, "il": il, "jl": jl,
            "gamma": gamma, "nth": nth, "th_start": th_start, "nth_i": nth_i,
            "converged": bool(conv.all())}


def _zero_cells(freq: np.ndarray, nr: np.ndarray, nc: np.ndarray, items: list[str],
                il: np.ndarray, jl: np.ndarray) -> np.ndarray:
    """lavaan's ``zero.add = c(0.5, 0)`` with ``zero.keep.margins = TRUE``: only 2 x 2 tables
    are touched, and only for estimating the correlation.

    One empty cell: 0.5 is moved into it keeping the margins; two empty cells (a
    correlation of +-1) are refused.  The case-wise scores, and the cross-products
    :math:`A_{21}` built from the cell counts, use the observed (unadjusted) counts.
    """
    freq = freq.copy()
    for t in np.flatnonzero((nr == 2) & (nc == 2)):
        tab = freq[t, :2, :2]
        zero = tab == 0
        if zero.sum() >= 2:
            raise StatisticsError(
                f"items {items[il[t]]} and {items[jl[t]]}: their 2 x 2 table has two empty "
                "cells, so their tetrachoric correlation is +-1 (lavaan stops here too)")
        if zero.sum() == 1:
            sgn = 1.0 if (zero[0, 0] or zero[1, 1]) else -1.0
            tab = tab + sgn * np.array([[0.5, -0.5], [-0.5, 0.5]])
            freq[t, :2, :2] = tab
    return freq


def _a21(freq: np.ndarray, rho: np.ndarray, tr: np.ndarray, tc: np.ndarray, pi: np.ndarray,
         s_rho: np.ndarray, il: np.ndarray, jl: np.ndarray, th_start: np.ndarray,
         nth_i: np.ndarray, nth: int) -> np.ndarray:
    """Cross-products of each correlation score with the bivariate threshold scores.

    For the row item's threshold :math:`\\tau_k`, :math:`\\partial\\pi_{ab}/\\partial\\tau_k =
    (\\delta_{a,k} - \\delta_{a,k+1})\\,\\phi(\\tau_k)[\\Phi((\\tau'_b - \\rho\\tau_k)/R) -
    \\Phi((\\tau'_{b-1} - \\rho\\tau_k)/R)]` with :math:`R = \\sqrt{1-\\rho^2}` (lavaan's
    ``lav_bvord_cor_scores``), and likewise for the column item.
    """
    m = tr.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        mm = np.where(pi > 0, freq * s_rho / pi, 0.0)        # n_ab s_rho / pi_ab
    r = np.sqrt(1.0 - rho * rho)[:, None, None]
    inf = np.full((m, 1), np.inf)

    def z_terms(t_own: np.ndarray, t_other: np.ndarray) -> np.ndarray:
        up = np.concatenate([t_other, inf], axis=1)          # (m, K) upper bound of category
        lo = np.concatenate([-inf, t_other], axis=1)
        fin = np.isfinite(t_own)
        t = np.where(fin, t_own, 0.0)[:, :, None]
        rr = rho[:, None, None]
        with np.errstate(invalid="ignore"):
            z = norm_pdf(t) * (ndtr((up[:, None, :] - rr * t) / r)
                               - ndtr((lo[:, None, :] - rr * t) / r))
        return np.where(fin[:, :, None], z, 0.0)              # (m, K-1, K)

    z1 = z_terms(tr, tc)      # [k, b]
    z2 = z_terms(tc, tr)      # [l, a]
    a_row = np.sum(z1 * (mm[:, :-1, :] - mm[:, 1:, :]), axis=2)           # (m, K-1)
    a_col = np.sum(z2 * (mm[:, :, :-1] - mm[:, :, 1:]).transpose(0, 2, 1), axis=2)
    out = np.zeros((m, nth))
    for t in range(m):
        i, j = il[t], jl[t]
        out[t, th_start[i]:th_start[i] + nth_i[i]] = a_row[t, :nth_i[i]]
        out[t, th_start[j]:th_start[j] + nth_i[j]] = a_col[t, :nth_i[j]]
    return out


# --------------------------------------------------------------------------- the model
@dataclass
class _Model:
    pattern: np.ndarray      # (p, m) bool
    fixed_one: np.ndarray    # (p, m) bool
    std_lv: bool

    def __post_init__(self) -> None:
        self.lam_idx, self.phi_idx = free_positions(self.pattern, self.fixed_one, self.std_lv)

    @property
    def q(self) -> int:
        return len(self.lam_idx) + len(self.phi_idx)

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _p, m = self.pattern.shape
        lam = self.fixed_one.astype(float)
        for k, (i, f) in enumerate(self.lam_idx):
            lam[i, f] = theta[k]
        phi = np.eye(m) if self.std_lv else np.zeros((m, m))
        off = len(self.lam_idx)
        for k, (f, g) in enumerate(self.phi_idx):
            phi[f, g] = phi[g, f] = theta[off + k]
        return lam, phi

    def implied_pairs(self, theta: np.ndarray, il: np.ndarray, jl: np.ndarray) -> np.ndarray:
        lam, phi = self.unpack(theta)
        return (lam @ phi @ lam.T)[il, jl]

    def pack(self, lam: np.ndarray, phi: np.ndarray) -> np.ndarray:
        return np.array([lam[i, f] for i, f in self.lam_idx]
                        + [phi[f, g] for f, g in self.phi_idx], dtype=float)

    def jacobian(self, theta: np.ndarray, il: np.ndarray, jl: np.ndarray) -> np.ndarray:
        """d rho_ij / d theta for the pairs (il, jl): (npair, q)."""
        lam, phi = self.unpack(theta)
        lp = lam @ phi
        out = np.zeros((il.size, self.q))
        for k, (i, f) in enumerate(self.lam_idx):
            out[:, k] = np.where(il == i, lp[jl, f], 0.0) + np.where(jl == i, lp[il, f], 0.0)
        off = len(self.lam_idx)
        for k, (f, g) in enumerate(self.phi_idx):
            if f == g:
                out[:, off + k] = lam[il, f] * lam[jl, f]
            else:
                out[:, off + k] = lam[il, f] * lam[jl, g] + lam[il, g] * lam[jl, f]
        return out


def _start(mod: _Model, cor: np.ndarray) -> np.ndarray:
    """Each factor's first principal axis of its items' polychoric correlations."""
    p, m = mod.pattern.shape
    lam = mod.fixed_one.astype(float)
    phi = np.eye(m)
    for f in range(m):
        idx = np.flatnonzero(mod.pattern[:, f])
        vals, vecs = np.linalg.eigh(cor[np.ix_(idx, idx)])
        load = vecs[:, -1] * math.sqrt(max(vals[-1] - 1.0 + 1.0 / idx.size, 1e-4))
        load = load * (1.0 if load[0] >= 0 else -1.0)
        if mod.std_lv:
            lam[idx, f] = load
        else:
            lm = load[0] if abs(load[0]) > 1e-4 else 1e-4
            lam[idx, f] = load / lm
            phi[f, f] = lm * lm
    multi = mod.pattern.sum(axis=1) > 1
    lam[multi] = np.where(mod.fixed_one[multi], lam[multi], lam[multi] / 2.0)
    return mod.pack(lam, phi)


def _dwls_fit(mod: Any, r: np.ndarray, w: np.ndarray, il: np.ndarray, jl: np.ndarray,
              theta: np.ndarray, max_iter: int = 500) -> tuple[np.ndarray, float, int, bool]:
    """Minimise sum w (r - rho(theta))^2 by Levenberg-Marquardt (Gauss-Newton) steps.

    Converged when the largest element of the gradient is below 1e-10 (relative to the
    weights' scale) or a full Gauss-Newton step changes no estimate by more than 1e-12.
    """
    def resid(th: np.ndarray) -> np.ndarray:
        return r - mod.implied_pairs(th, il, jl)

    e = resid(theta)
    f = float(np.sum(w * e * e))
    mu = 1e-6
    scale = float(np.max(w))
    for it in range(1, max_iter + 1):
        d = mod.jacobian(theta, il, jl)
        wd = d * w[:, None]
        jtj = d.T @ wd
        g = wd.T @ e                      # -1/2 gradient of F
        if np.max(np.abs(g)) < 1e-10 * scale:
            return theta, f, it, True
        improved = False
        for _ in range(60):
            try:
                step = np.linalg.solve(jtj + mu * np.diag(np.diag(jtj) + 1e-12), g)
            except np.linalg.LinAlgError:
                mu *= 10.0
                continue
            cand = theta + step
            ec = resid(cand)
            fc = float(np.sum(w * ec * ec))
            if fc <= f:
                small = np.max(np.abs(step)) < 1e-12
                theta, e, f = cand, ec, fc
                mu = max(mu / 10.0, 1e-12)
                improved = True
                if small:
                    return theta, f, it, True
                break
            mu *= 10.0
        if not improved:
            return theta, f, it, bool(np.max(np.abs(g)) < 1e-7 * scale)
    return theta, f, max_iter, False


# --------------------------------------------------------------------------- the function
def cfa_ordinal(data: pd.DataFrame, model: Any, *, estimator: str = "wlsmv",
                std_lv: bool = False, parameterization: str = "delta",
                missing: str = "listwise", orthogonal: bool = False) -> OrdinalCFAResult:
    r"""Confirmatory factor analysis of ordered items by WLSMV, as lavaan 0.6.14.

    Parameters
    ----------
    data : DataFrame
        One column per item; each item's distinct values (numbers) are its ordered
        categories (the smallest is category 1), as lavaan's ``ordered = TRUE``.  Other
        columns are ignored.
    model : str, mapping or Instrument
        lavaan model syntax (``=~`` including higher-order factors, ``~~`` residual
        correlations and factor covariances, fixed values, labels; no intercepts or residual
        variances of the items, which the thresholds and the delta parameterization fix),
        ``{factor: [item ids]}`` (cross-loadings allowed) or an
        :class:`~instrval.model.instrument.Instrument` (each likert/binary construct a
        factor; :func:`~instrval.stats.cfa.model_from_instrument`).  The first item of each
        factor is its marker unless ``std_lv``.
    estimator : {"wlsmv"}
        Diagonally weighted least squares with robust standard errors and the scaled and
        shifted test statistic (lavaan ``estimator = "WLSMV"``).
    std_lv : bool
        Identify the factors by fixing their variances to 1 (lavaan ``std.lv = TRUE``); the
        sign of each factor is then set so that its first loading is positive.
    parameterization : {"delta"}
        lavaan's default: latent responses with unit variances, residual variances not free.
    missing : {"listwise"}
        Rows with a missing answer to any item of the model are dropped (lavaan's default
        for ordered data).

    Returns
    -------
    OrdinalCFAResult

    Notes
    -----
    Fit measures (lavaan ``fitMeasures``; :math:`N` rows used, :math:`p` items,
    :math:`p^* = p(p-1)/2` correlations, :math:`q` free loadings and factor (co)variances):

    * ``chi2`` :math:`T = (N-1)F_{DWLS}`, ``df`` :math:`= p^* - q`;
      ``chi2_scaled`` :math:`= aT + b` (module docstring), ``scaling_factor`` :math:`=1/a`,
      ``shift_parameter`` :math:`= b`.
    * Baseline: correlations fixed to 0, thresholds free:
      :math:`T_0 = (N-1)\sum w_{ij} \hat\rho_{ij}^2`, :math:`df_0 = p^*`, scaled and shifted
      with :math:`U_0 = W`.
    * CFI :math:`= 1 - \max(T-df,0)/\max(T-df, T_0-df_0, 0)`, TLI
      :math:`= 1 - (T-df)df_0/((T_0-df_0)df)`; the ``_scaled`` versions use the scaled and
      shifted statistics of both models.
    * RMSEA :math:`= \sqrt{\max(T/(N'\,df) - 1/N', 0)}` with :math:`N' = N - 1` (lavaan
      uses :math:`N-1` for every estimator but ML) and lavaan's 90% CI (with :math:`N'`);
      ``rmsea_scaled`` the same with :math:`T_{ss}`.
    * SRMR (lavaan's ``srmr``, for ordered data ``srmr_bentler_nomean``):
      :math:`\sqrt{\sum_{i<j}(\hat\rho_{ij} - \rho_{ij}(\hat\theta))^2 / (p(p+1)/2)}`.

    Not computed: lavaan's ``cfi.robust`` / ``rmsea.robust`` (Savalei's corrections for
    categorical data via ``lav_fit_catml_dwls``), WRMR, and the RMSEA close-fit p-values.

    Deliberate differences from lavaan: fixed parameters have se NaN (lavaan prints 0); the
    polychoric correlations are solved to a Newton step below 1e-10 (lavaan's ``nlminb``
    stops at a relative change of 1e-10 in the objective) and the DWLS fit until the gradient
    vanishes, so estimates agree with lavaan to about 1e-7; a 2 x 2 table with two empty cells
    raises :class:`~instrval.errors.StatisticsError` (lavaan sets the correlation to +-1).

    Improper solutions are not prevented: a residual variance
    :math:`1 - (\Lambda\Phi\Lambda')_{ii} \le 0` or a non-positive-definite :math:`\Phi`
    gives a :class:`~instrval.errors.HeywoodWarning` and ``heywood=True``; non-convergence a
    :class:`~instrval.errors.ConvergenceWarning` and ``converged=False``.

    R equivalent::

        fit <- lavaan::cfa("A =~ A1 + A2 + A3 + A4 + A5", data = d, ordered = TRUE,
                           estimator = "WLSMV")                # std.lv = TRUE
        fitMeasures(fit); parameterEstimates(fit, standardized = TRUE)

    Examples
    --------
    >>> import pandas as pd
    >>> bfi = pd.read_csv("tests/data/bfi.csv", index_col=0)            # doctest: +SKIP
    >>> res = cfa_ordinal(bfi, {"A": ["A1", "A2", "A3", "A4", "A5"]})   # doctest: +SKIP
    >>> round(res.fit["chi2_scaled"], 3)                               # doctest: +SKIP
    143.536
    """
    est = str(estimator).lower()
    if est not in ESTIMATORS:
        raise StatisticsError(f"estimator={estimator!r} is not available; choose one of "
                              f"{ESTIMATORS}")
    if parameterization not in PARAMETERIZATIONS:
        raise StatisticsError(f"parameterization={parameterization!r} is not available; "
                              f"choose one of {PARAMETERIZATIONS}")
    if missing not in MISSING:
        raise StatisticsError(f"missing={missing!r} is not allowed; choose one of {MISSING}")
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(f"cfa_ordinal needs a pandas DataFrame, got {type(data).__name__}")
    if isinstance(model, str):
        pt = build_partable(model, std_lv=std_lv, orthogonal=orthogonal, ordered=True)
        spec = {f: list(v) for f, v in pt.indicators.items()}
        _, x = model_data(data, {"model": list(pt.ov)}, "cfa_ordinal")
        items = list(pt.ov)
    else:
        if orthogonal:
            raise StatisticsError("orthogonal=True needs a model in lavaan syntax")
        pt = None
        spec = parse_factor_mapping(model)
        items, x = model_data(data, spec, "cfa_ordinal")
    factors = list(spec)
    if np.isinf(x).any():
        j = int(np.flatnonzero(np.isinf(x).any(axis=0))[0])
        raise StatisticsError(f"item {items[j]!r} has infinite values")
    x = x[~np.isnan(x).any(axis=1)]
    n, p = x.shape
    if n < 3:
        raise StatisticsError(f"only {n} complete rows on the model's items")
    codes = np.empty((n, p), dtype=np.intp)
    ncat = np.empty(p, dtype=np.intp)
    for i in range(p):
        lev, inv = np.unique(x[:, i], return_inverse=True)
        if lev.size < 2:
            raise StatisticsError(f"item {items[i]!r} has a single category in the complete "
                                  f"rows ({lev[0]:g}); an ordered item needs at least 2")
        codes[:, i] = inv
        ncat[i] = lev.size
    if pt is not None:
        with _single_threaded_blas():
            return _fit_syntax(codes, ncat, pt, n, est, missing, bool(std_lv))
    pattern, fixed_one = loading_pattern(spec, items, std_lv)
    mod = _Model(pattern, fixed_one, bool(std_lv))
    pstar = p * (p - 1) // 2
    q = mod.q
    df = pstar - q
    if df < 0:
        raise StatisticsError(
            f"the model is not identified: {q} free loadings and factor (co)variances but "
            f"only {pstar} polychoric correlations")

    with _single_threaded_blas():
        return _fit_all(codes, ncat, items, spec, factors, mod, n, p, q, pstar, df, est,
                        missing, bool(std_lv))


def _single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """Keep BLAS on one thread: the matrices here are small (a few hundred rows) and threaded
    OpenBLAS slows down badly on a busy machine (as in :mod:`instrval.stats.relevance`)."""
    from instrval.stats._threads import small_matrix_blas

    return small_matrix_blas()


def _fit_all(codes: np.ndarray, ncat: np.ndarray, items: list[str],
             spec: dict[str, list[str]], factors: list[str], mod: _Model, n: int, p: int,
             q: int, pstar: int, df: int, est: str, missing: str, std_lv: bool
             ) -> OrdinalCFAResult:
    """Stages 1-3, standard errors, tests and the result (see :func:`cfa_ordinal`)."""
    pattern = mod.pattern
    # ---- stages 1 and 2
    s12 = _stage12(codes, ncat, items)
    if not s12["converged"]:
        warnings.warn("a polychoric correlation did not converge", ConvergenceWarning,
                      stacklevel=3)
    il, jl, nth = s12["il"], s12["jl"], s12["nth"]
    gamma = s12["gamma"]
    r = s12["rho"]
    big = np.abs(r) > 0.99
    if big.any():
        t = int(np.flatnonzero(big)[0])
        warnings.warn(f"the polychoric correlation of {items[il[t]]} and {items[jl[t]]} is "
                      f"(nearly) 1: {r[t]:.4f}", ConvergenceWarning, stacklevel=3)
    dg = np.diag(gamma)
    if not (np.all(np.isfinite(dg)) and np.all(dg > 0)):
        raise StatisticsError("the diagonal of Gamma (the asymptotic covariance matrix of the "
                              "thresholds and polychoric correlations) is not positive")
    w_all = 1.0 / dg
    w = w_all[nth:]

    # ---- stage 3: DWLS
    theta, fval, iters, converged = _dwls_fit(mod, r, w, il, jl, _start(mod, s12["cor"]))
    if not converged:
        warnings.warn(f"the WLSMV fit did not converge after {iters} iterations; the "
                      "estimates are not reliable", ConvergenceWarning, stacklevel=3)
    lam, phi = mod.unpack(theta)
    if mod.std_lv:
        first_loadings_positive(lam, phi, pattern)
        theta = mod.pack(lam, phi)
    implied = lam @ phi @ lam.T
    resvar = 1.0 - np.diag(implied)
    implied_cor = implied.copy()
    np.fill_diagonal(implied_cor, 1.0)

    d_r = mod.jacobian(theta, il, jl)
    se, fit = _robust_se_and_fit(d_r, w, gamma, r, implied[il, jl], nth=nth, n=n, q=q, df=df,
                                 pstar=pstar, p=p, fval=fval)
    return _build_result(
        fit=fit, spec=spec, factors=factors, items=items, mod=mod, lam=lam, phi=phi,
        resvar=resvar, se=se, s12=s12, implied_cor=implied_cor, n=n, est=est,
        missing=missing, std_lv=std_lv, converged=converged, iters=iters,
        gamma=gamma)


class _SyntaxModel:
    """A parameter-table model for DWLS: the implied correlations are the off-diagonal
    elements of :math:`\\Lambda(I-B)^{-1}\\Psi(I-B)^{-\top}\\Lambda' + \\Theta` (the items'
    residual variances are not parameters)."""

    def __init__(self, pt: ParTable, cor: np.ndarray, n: int):
        self.pt = pt
        p = cor.shape[0]
        self.eng = Engine(pt, [GroupData("1", n, cor, np.zeros(p))])
        self.q = pt.nfree

    def implied(self, theta: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray],
                                                  dict[str, Any]]:
        mats = self.eng.matrices(theta, 0)
        sigma, _, aux = self.eng.implied(mats)
        return sigma, mats, aux

    def implied_pairs(self, theta: np.ndarray, il: np.ndarray, jl: np.ndarray) -> np.ndarray:
        return self.implied(theta)[0][il, jl]

    def jacobian(self, theta: np.ndarray, il: np.ndarray, jl: np.ndarray) -> np.ndarray:
        _, mats, aux = self.implied(theta)
        ds, _ = self.eng.derivatives(theta, 0, mats, aux)
        return ds[:, il, jl].T


def _fit_syntax(codes: np.ndarray, ncat: np.ndarray, pt: ParTable, n: int, est: str,
                missing: str, std_lv: bool) -> OrdinalCFAResult:
    """WLSMV for a model in lavaan syntax: stages 1-3, standard errors, fit, result."""
    items = list(pt.ov)
    factors = list(pt.lv)
    p = len(items)
    pstar = p * (p - 1) // 2
    q = pt.nfree
    df = pstar - q
    if df < 0:
        raise StatisticsError(f"the model is not identified: {q} free parameters but only "
                              f"{pstar} polychoric correlations")
    s12 = _stage12(codes, ncat, items)
    if not s12["converged"]:
        warnings.warn("a polychoric correlation did not converge", ConvergenceWarning,
                      stacklevel=3)
    il, jl, nth, gamma, r = s12["il"], s12["jl"], s12["nth"], s12["gamma"], s12["rho"]
    dg = np.diag(gamma)
    if not (np.all(np.isfinite(dg)) and np.all(dg > 0)):
        raise StatisticsError("the diagonal of Gamma (the asymptotic covariance matrix of the "
                              "thresholds and polychoric correlations) is not positive")
    w = 1.0 / dg[nth:]
    mod = _SyntaxModel(pt, s12["cor"], n)
    theta, fval, iters, converged = _dwls_fit(mod, r, w, il, jl, ml_start(mod.eng))
    if not converged:
        warnings.warn(f"the WLSMV fit did not converge after {iters} iterations; the "
                      "estimates are not reliable", ConvergenceWarning, stacklevel=3)
    sigma, mats, aux = mod.implied(theta)
    common = sigma - mats["theta"] * np.eye(p)
    resvar = 1.0 - np.diag(common)
    implied_cor = sigma.copy()
    np.fill_diagonal(implied_cor, 1.0)
    se, fit = _robust_se_and_fit(mod.jacobian(theta, il, jl), w, gamma, r, sigma[il, jl],
                                 nth=nth, n=n, q=q, df=df, pstar=pstar, p=p, fval=fval)
    cov_lv = aux["A"]
    fsd = np.sqrt(np.where(np.diag(cov_lv) > 0, np.diag(cov_lv), np.nan))
    li = {f: k for k, f in enumerate(factors)}
    oi = {v: k for k, v in enumerate(items)}
    th_start, nth_i = s12["th_start"], s12["nth_i"]
    rows: list[dict[str, Any]] = []
    load_rows = []
    for row in pt.rows:
        est_v = float(theta[row.free - 1]) if row.free else float(row.value)
        se_v = float(se[nth + row.free - 1]) if row.free else math.nan
        if row.op == "=~":
            if row.rhs in li:
                std = est_v * fsd[li[row.lhs]] / fsd[li[row.rhs]]
            else:
                std = est_v * fsd[li[row.lhs]]
            rr = param_row(row.lhs, "=~", row.rhs, est_v, se_v, std, std, bool(row.free))
            load_rows.append({"factor": row.lhs, "item_id": row.rhs, "estimate": rr["estimate"],
                              "se": rr["se"], "z": rr["z"], "pvalue": rr["pvalue"],
                              "std_lv": rr["std_lv"], "std_all": rr["std_all"],
                              "fixed": not row.free})
        elif row.mat == "theta" and row.lhs == row.rhs:
            v = float(resvar[oi[row.lhs]])
            rr = param_row(row.lhs, "~~", row.rhs, v, math.nan, v, v, False)
        elif row.mat == "theta":
            i, j = oi[row.lhs], oi[row.rhs]
            d = math.sqrt(resvar[i] * resvar[j]) if resvar[i] * resvar[j] > 0 else math.nan
            rr = param_row(row.lhs, "~~", row.rhs, est_v, se_v, est_v / d, est_v / d,
                           bool(row.free))
        else:  # psi
            i, j = li[row.lhs], li[row.rhs]
            psi = mats["psi"]
            d = math.sqrt(psi[i, i] * psi[j, j]) if psi[i, i] * psi[j, j] > 0 else math.nan
            std = est_v / cov_lv[i, i] if i == j else est_v / d
            rr = param_row(row.lhs, "~~", row.rhs, est_v, se_v, std, std, bool(row.free))
        rr["label"] = row.label
        rows.append(rr)
    th_rows = []
    for i, it in enumerate(items):
        for k in range(nth_i[i]):
            t = s12["tau"][i, k]
            rr = param_row(it, "|", f"t{k + 1}", t, se[th_start[i] + k], t, t, True)
            rr["label"] = ""
            rows.append(rr)
            th_rows.append({"item_id": it, "threshold": f"t{k + 1}", "estimate": rr["estimate"],
                            "se": rr["se"], "z": rr["z"], "pvalue": rr["pvalue"]})
    res_rows = [{"item_id": it, "estimate": float(resvar[i]), "se": math.nan,
                 "std_all": float(resvar[i])} for i, it in enumerate(items)]
    bad = check_improper(items, resvar, mats["psi"], stacklevel=4)
    names = [f"{it}|t{k + 1}" for i, it in enumerate(items) for k in range(nth_i[i])]
    names += [f"{items[a]}~~{items[b]}" for a, b in zip(il, jl, strict=True)]
    from instrval.stats.sem.fitmeasures import FitMeasures

    return OrdinalCFAResult(
        fit=FitMeasures.from_dict(fit), loadings=pd.DataFrame(load_rows),
        residual_variances=pd.DataFrame(res_rows),
        factor_covariances=pd.DataFrame(cov_lv, index=factors, columns=factors),
        factor_correlations=pd.DataFrame(cov_lv / np.outer(fsd, fsd), index=factors,
                                         columns=factors),
        parameters=pd.DataFrame(rows),
        implied_covariance=pd.DataFrame(implied_cor, index=items, columns=items),
        sample_covariance=pd.DataFrame(s12["cor"], index=items, columns=items),
        model={f: list(v) for f, v in pt.indicators.items()}, n=int(n), estimator=est,
        missing=missing, std_lv=std_lv, converged=bool(converged), iterations=int(iters),
        heywood=bool(bad), heywood_items=tuple(bad), thresholds=pd.DataFrame(th_rows),
        nacov=pd.DataFrame(gamma, index=names, columns=names),
        polychoric_converged=bool(s12["converged"]))


def _robust_se_and_fit(d_r: np.ndarray, w: np.ndarray, gamma: np.ndarray, r: np.ndarray,
                       implied_pairs: np.ndarray, *, nth: int, n: int, q: int, df: int,
                       pstar: int, p: int, fval: float) -> tuple[np.ndarray, dict[str, float]]:
    """Robust standard errors (thresholds first) and the fit measures of a DWLS solution.

    Delta = [[I, 0], [0, D]] and W are block diagonal (thresholds | correlations), so the
    information Delta'W Delta = diag(W_t, D'W_r D), the thresholds' acov is Gamma_tt / (N - 1)
    and U = diag(0, U_r) with U_r = W_r - W_r D (D'W_r D)^-1 D'W_r.
    """
    k_all = nth + q
    g_rr = gamma[nth:, nth:]
    wd = d_r * w[:, None]
    info = d_r.T @ wd
    se = np.full(k_all, np.nan)
    se[:nth] = np.sqrt(np.diag(gamma)[:nth] / (n - 1))      # lavaan: N - 1 for (D)WLS
    tr_ug = tr_ug2 = math.nan
    ev = np.linalg.eigvalsh(info)
    if ev.min() > 1e-12 * max(ev.max(), 1e-300):
        e_inv = np.linalg.inv(info)
        vcov = e_inv @ (wd.T @ g_rr @ wd) @ e_inv / (n - 1)
        dv = np.diag(vcov)
        se[nth:] = np.sqrt(np.where(dv > 0, dv, np.nan))
        u = np.diag(w) - wd @ e_inv @ wd.T
        ug = u @ g_rr
        tr_ug = float(np.trace(ug))
        tr_ug2 = float(np.sum(ug * ug.T))
    else:
        warnings.warn("the information matrix is singular: the model may not be identified; "
                      "standard errors and the scaled test are not available",
                      ConvergenceWarning, stacklevel=4)
    chi2 = (n - 1) * fval
    chi2_s, scaling, shift = _scaled_shifted(chi2, df, tr_ug, tr_ug2)
    # baseline: thresholds free, correlations 0; U0 = W on the correlations
    base_chi2 = (n - 1) * float(np.sum(w * r * r))
    base_df = float(pstar)
    wg0 = g_rr * w[:, None]
    base_s, base_scaling, base_shift = _scaled_shifted(
        base_chi2, base_df, float(np.trace(wg0)), float(np.sum(wg0 * wg0.T)))
    fit = _fit_measures(chi2, df, chi2_s, base_chi2, base_df, base_s, n - 1)
    fit.update({
        "scaling_factor": scaling, "shift_parameter": shift,
        "baseline_scaling_factor": base_scaling, "baseline_shift_parameter": base_shift,
        "srmr": math.sqrt(float(np.sum((r - implied_pairs) ** 2)) / (p * (p + 1) / 2)),
        "fmin": float(0.5 * (n - 1) / n * fval), "npar": float(k_all), "n": float(n),
        "aic": math.nan, "bic": math.nan, "loglik": math.nan,
    })
    return se, fit


def _scaled_shifted(t: float, df: float, tr_ug: float, tr_ug2: float
                    ) -> tuple[float, float, float]:
    """lavaan's ``scaled.shifted``: (statistic, scaling factor 1/a, shift b).

    With ``df == 0`` lavaan returns the unscaled statistic and no scaling factor."""
    if df == 0:
        return t, math.nan, math.nan
    if not (df > 0 and math.isfinite(tr_ug2) and tr_ug2 > 0):
        return math.nan, math.nan, math.nan
    a = math.sqrt(df / tr_ug2)
    b = df - a * tr_ug
    return a * t + b, 1.0 / a, b


def _cfi(x2: float, df: float, x0: float, df0: float) -> float:
    t1 = max(x2 - df, 0.0)
    t2 = max(x2 - df, x0 - df0, 0.0)
    if math.isclose(t1, 0.0, abs_tol=1.5e-8) and math.isclose(t2, 0.0, abs_tol=1.5e-8):
        return 1.0
    return 1.0 - t1 / t2


def _tli(x2: float, df: float, x0: float, df0: float) -> float:
    t1 = (x2 - df) * df0
    t2 = (x0 - df0) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    return math.nan if not (math.isfinite(t1) and math.isfinite(t2)) else 1.0


def _rmsea(x2: float, df: float, n: float) -> float:
    if not math.isfinite(x2):
        return math.nan
    return math.sqrt(max(x2 / n / df - 1.0 / n, 0.0)) if df > 0 else 0.0


def _fit_measures(chi2: float, df: float, chi2_s: float, base: float, base_df: float,
                  base_s: float, n: int) -> dict[str, float]:
    """``n`` is lavaan's ``lav_utils_get_ntotal``: N - 1 for (D)WLS."""
    lo, hi = rmsea_ci(chi2, df, n)
    if math.isfinite(chi2_s):
        lo_s, hi_s = rmsea_ci(chi2_s, df, n)
    else:
        lo_s = hi_s = math.nan
    return {
        "chi2": float(chi2), "df": float(df),
        "pvalue": float(chi2_sf(chi2, df)) if df > 0 else math.nan,
        "chi2_scaled": float(chi2_s), "df_scaled": float(df),
        "pvalue_scaled": (float(chi2_sf(chi2_s, df))
                          if df > 0 and math.isfinite(chi2_s) else math.nan),
        "baseline_chi2": float(base), "baseline_df": float(base_df),
        "baseline_chi2_scaled": float(base_s),
        "cfi": _cfi(chi2, df, base, base_df), "tli": _tli(chi2, df, base, base_df),
        "cfi_scaled": _cfi(chi2_s, df, base_s, base_df) if math.isfinite(chi2_s) else math.nan,
        "tli_scaled": _tli(chi2_s, df, base_s, base_df) if math.isfinite(chi2_s) else math.nan,
        "rmsea": _rmsea(chi2, df, n), "rmsea_ci_low": float(lo), "rmsea_ci_high": float(hi),
        "rmsea_scaled": _rmsea(chi2_s, df, n), "rmsea_ci_low_scaled": float(lo_s),
        "rmsea_ci_high_scaled": float(hi_s),
    }


def _build_result(*, fit: dict[str, float], spec: dict[str, list[str]], factors: list[str],
                  items: list[str], mod: _Model, lam: np.ndarray, phi: np.ndarray,
                  resvar: np.ndarray, se: np.ndarray, s12: dict[str, Any],
                  implied_cor: np.ndarray, n: int, est: str, missing: str, std_lv: bool,
                  converged: bool, iters: int, gamma: np.ndarray) -> OrdinalCFAResult:
    p, m = mod.pattern.shape
    nth = s12["nth"]
    th_start, nth_i = s12["th_start"], s12["nth_i"]
    se_th = se[:nth]
    se_of: dict[tuple[str, int, int], float] = {}
    for k, (i, f) in enumerate(mod.lam_idx):
        se_of[("lam", i, f)] = se[nth + k]
    off = nth + len(mod.lam_idx)
    for k, (f, g) in enumerate(mod.phi_idx):
        se_of[("phi", f, g)] = se[off + k]
    fsd = np.sqrt(np.where(np.diag(phi) > 0, np.diag(phi), np.nan))
    rows: list[dict[str, Any]] = []
    load_rows = []
    for f, fac in enumerate(factors):
        for it in spec[fac]:
            i = items.index(it)
            e = lam[i, f]
            free = ("lam", i, f) in se_of
            rr = param_row(fac, "=~", it, e, se_of.get(("lam", i, f), math.nan), e * fsd[f],
                      e * fsd[f], free)
            rows.append(rr)
            load_rows.append({"factor": fac, "item_id": it, "estimate": rr["estimate"],
                              "se": rr["se"], "z": rr["z"], "pvalue": rr["pvalue"],
                              "std_lv": rr["std_lv"], "std_all": rr["std_all"],
                              "fixed": not free})
    th_rows = []
    for i, it in enumerate(items):
        for k in range(nth_i[i]):
            t = s12["tau"][i, k]
            rr = param_row(it, "|", f"t{k + 1}", t, se_th[th_start[i] + k], t, t, True)
            rows.append(rr)
            th_rows.append({"item_id": it, "threshold": f"t{k + 1}", "estimate": rr["estimate"],
                            "se": rr["se"], "z": rr["z"], "pvalue": rr["pvalue"]})
    res_rows = []
    for i, it in enumerate(items):
        rows.append(param_row(it, "~~", it, resvar[i], math.nan, resvar[i], resvar[i], False))
        res_rows.append({"item_id": it, "estimate": float(resvar[i]), "se": math.nan,
                         "std_all": float(resvar[i])})
    for f in range(m):
        for g in range(f, m):
            free = ("phi", g, f) in se_of
            cor = phi[f, g] / (fsd[f] * fsd[g])
            rows.append(param_row(factors[f], "~~", factors[g], phi[f, g],
                             se_of.get(("phi", g, f), math.nan), cor, cor, free))
    bad = check_improper(items, resvar, phi, stacklevel=4)
    il, jl = s12["il"], s12["jl"]
    names = [f"{it}|t{k + 1}" for i, it in enumerate(items) for k in range(nth_i[i])]
    names += [f"{items[a]}~~{items[b]}" for a, b in zip(il, jl, strict=True)]
    from instrval.stats.sem.fitmeasures import FitMeasures

    return OrdinalCFAResult(
        fit=FitMeasures.from_dict(fit),
        loadings=pd.DataFrame(load_rows),
        residual_variances=pd.DataFrame(res_rows),
        factor_covariances=pd.DataFrame(phi, index=factors, columns=factors),
        factor_correlations=pd.DataFrame(phi / np.outer(fsd, fsd), index=factors,
                                         columns=factors),
        parameters=pd.DataFrame(rows),
        implied_covariance=pd.DataFrame(implied_cor, index=items, columns=items),
        sample_covariance=pd.DataFrame(s12["cor"], index=items, columns=items),
        model={f: list(v) for f, v in spec.items()}, n=int(n), estimator=est,
        missing=missing, std_lv=std_lv, converged=bool(converged), iterations=int(iters),
        heywood=bool(bad), heywood_items=tuple(bad),
        thresholds=pd.DataFrame(th_rows),
        nacov=pd.DataFrame(gamma, index=names, columns=names),
        polychoric_converged=bool(s12["converged"]))
