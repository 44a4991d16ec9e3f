r"""Where a fitted ML model misfits: modification indices and standardized residuals.

Modification indices (lavaan's ``modindices``, expected information).  Each parameter the
model leaves out -- a cross-loading ``f =~ x`` of an item on another factor, a residual
covariance ``x ~~ y``, a covariance between factors fixed to 0 -- is added at value 0 and
its score test is computed at the estimates:

.. math:: MI = \frac{N}{2}\,\frac{g^2}{V}, \qquad EPC = -\frac{g}{V}, \qquad
   V = \mathcal I_{aa} - \mathcal I_{a\theta}\mathcal I_{\theta\theta}^{-1}\mathcal I_{\theta a}

with :math:`g` the derivative of :math:`F_{ML}` with respect to the added parameter and
:math:`\mathcal I` the expected information of :math:`F_{ML}` (see
:mod:`instrval.stats.sem.ml`).  :math:`MI` is the expected drop in :math:`\chi^2` (1 df)
when the parameter is freed, :math:`EPC` its expected value; ``sepc_all`` standardizes the
EPC as lavaan (loadings by the factor and item SDs, residual covariances by the residual
SDs).  Indices with :math:`V` below :math:`\epsilon^{1/3}` are not defined (NaN).

Standardized residuals (lavaan's ``residuals(fit, type = "standardized")``).  The raw
residuals :math:`s - \hat\sigma` (covariances, and means with a mean structure) over their
standard errors, with

.. math:: \mathrm{acov}(s - \hat\sigma) = Q\,\Gamma\,Q', \qquad
   Q = I - \Delta(\Delta'A\Delta)^{-1}\Delta'A,

:math:`\Gamma = A_S^{-1}/N` the normal-theory covariance matrix of the sample moments (the
information :math:`A_S` of the saturated model at :math:`S`), :math:`A` the same information
at :math:`\hat\Sigma` and :math:`\Delta = \partial\sigma/\partial\theta'`.  Values above about
2.6 in absolute value point to pairs the model reproduces badly.

References
----------
Sörbom, D. (1989). Model modification. Psychometrika, 54, 371-384.
Saris, W. E., Satorra, A., & Sörbom, D. (1987). The detection and correction of
specification errors in structural equation models. Sociological Methodology, 17, 105-129.
Jöreskog, K. G., & Sörbom, D. (1996). LISREL 8 User's Reference Guide (standardized
residuals).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from instrval.stats.sem.common import single_threaded_blas
from instrval.stats.sem.ml import Engine, MLSolution
from instrval.stats.sem.partable import ParRow, ParTable

__all__ = ["modification_indices", "standardized_residuals"]

_V_MIN = float(np.finfo(float).eps) ** (1.0 / 3.0)


def _candidates(pt: ParTable) -> list[ParRow]:
    """Rows a model could add: cross-loadings, residual covariances, zero covariances."""
    have = {(r.lhs, r.op, r.rhs, r.group) for r in pt.rows}
    have |= {(r.rhs, r.op, r.lhs, r.group) for r in pt.rows if r.op == "~~"}
    free_of = {(r.lhs, r.op, r.rhs, r.group): r for r in pt.rows}
    oi = {v: i for i, v in enumerate(pt.ov)}
    li = {v: i for i, v in enumerate(pt.lv)}
    out = []
    for g in range(len(pt.groups)):
        for f in pt.lv:
            for v in pt.ov:
                if (f, "=~", v, g) not in have:
                    out.append(ParRow(f, "=~", v, g, 0, 0.0, "", False, "lambda", oi[v], li[f]))
        for a in range(len(pt.ov)):
            for b in range(a + 1, len(pt.ov)):
                x, y = pt.ov[a], pt.ov[b]
                if (x, "~~", y, g) not in have:
                    out.append(ParRow(x, "~~", y, g, 0, 0.0, "", False, "theta", b, a))
        for a in range(len(pt.lv)):
            for b in range(a + 1, len(pt.lv)):
                x, y = pt.lv[a], pt.lv[b]
                row = free_of.get((x, "~~", y, g)) or free_of.get((y, "~~", x, g))
                if row is not None and not row.free and row.value == 0.0:
                    out.append(replace(row, lhs=x, rhs=y))
    return out


def modification_indices(sol: MLSolution) -> pd.DataFrame:
    """Modification indices of an ML solution, largest first.

    Returns
    -------
    DataFrame
        ``lhs``, ``op``, ``rhs``, ``group`` (label), ``mi``, ``epc``, ``sepc_all``.
    """
    pt = sol.partable
    cand = _candidates(pt)
    q = pt.nfree
    ntot = sum(d.n for d in sol.data)
    if not cand:
        return pd.DataFrame(columns=["lhs", "op", "rhs", "group", "mi", "epc", "sepc_all"])
    cand_rows = [replace(r, free=q + 1 + k) for k, r in enumerate(cand)]
    keep = [r for r in pt.rows if not any(
        (r.lhs, r.op, r.rhs, r.group) == (c.lhs, c.op, c.rhs, c.group) for c in cand)]
    ext = replace(pt, rows=tuple(keep) + tuple(cand_rows), nfree=q + len(cand_rows))
    theta = np.concatenate([sol.theta, np.zeros(len(cand_rows))])
    with single_threaded_blas():
        g, h = Engine(ext, sol.data).gradient(theta, info=True)
    assert g is not None and h is not None
    i11 = np.diag(h)[q:]
    i12 = h[q:, :q]
    v = i11 - np.einsum("ak,ak->a", i12, np.linalg.solve(h[:q, :q], i12.T).T)
    v = np.where(v / 2.0 < _V_MIN, np.nan, v)
    ga = g[q:]
    mi = ntot / 2.0 * ga * ga / v
    epc = -ga / v
    rows = []
    for k, r in enumerate(cand):
        mats, sigma = sol.matrices[r.group], sol.sigma[r.group]
        ib = np.linalg.inv(np.eye(len(pt.lv)) - mats["beta"])
        cov_lv = ib @ mats["psi"] @ ib.T
        if r.op == "=~":
            scale = math.sqrt(cov_lv[r.col, r.col] / sigma[r.row, r.row])
        elif r.mat == "theta":
            t = mats["theta"]
            scale = 1.0 / math.sqrt(t[r.row, r.row] * t[r.col, r.col]) \
                if t[r.row, r.row] * t[r.col, r.col] > 0 else math.nan
        else:
            p_ = mats["psi"]
            scale = 1.0 / math.sqrt(p_[r.row, r.row] * p_[r.col, r.col]) \
                if p_[r.row, r.row] * p_[r.col, r.col] > 0 else math.nan
        rows.append({"lhs": r.lhs, "op": r.op, "rhs": r.rhs, "group": pt.groups[r.group],
                     "mi": float(mi[k]), "epc": float(epc[k]),
                     "sepc_all": float(epc[k] * scale)})
    out = pd.DataFrame(rows)
    return out.sort_values("mi", ascending=False, kind="stable",
                           na_position="last").reset_index(drop=True)


def _sym_units(p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    jj, kk = np.tril_indices(p)
    e = np.zeros((jj.size, p, p))
    e[np.arange(jj.size), jj, kk] = 1.0
    e[np.arange(jj.size), kk, jj] = 1.0
    return e, jj, kk


def _moment_information(sigma: np.ndarray, e: np.ndarray, meanstructure: bool) -> np.ndarray:
    inv = np.linalg.inv(sigma)
    m = np.einsum("pq,kqr->kpr", inv, e)
    info = 0.5 * np.einsum("kpq,lqp->kl", m, m)
    if meanstructure:
        p = sigma.shape[0]
        info = np.block([[inv, np.zeros((p, info.shape[0]))],
                         [np.zeros((info.shape[0], p)), info]])
    return info


def standardized_residuals(sol: MLSolution) -> pd.DataFrame:
    """Standardized residuals of an ML solution: one row per item pair (and, with a mean
    structure, per item mean) and group.

    Returns
    -------
    DataFrame
        ``group``, ``item_id``, ``item_id2`` (empty for a mean), ``residual`` (raw
        :math:`s - \\hat\\sigma`), ``z`` (the standardized residual; NaN where its standard
        error vanishes, e.g. for variances the model reproduces exactly).
    """
    pt = sol.partable
    p = len(pt.ov)
    e, jj, kk = _sym_units(p)
    eng = Engine(pt, sol.data)
    ntot = sum(d.n for d in sol.data)
    rows = []
    with single_threaded_blas():
        for g, d in enumerate(sol.data):
            mats = eng.matrices(sol.theta, g)
            sigma, mu, aux = eng.implied(mats)
            ds, dm = eng.derivatives(sol.theta, g, mats, aux)
            delta = ds[:, jj, kk].T                       # (p*, q)
            resid = (d.S - sigma)[jj, kk]
            if pt.meanstructure:
                delta = np.vstack([dm.T, delta])
                resid = np.concatenate([d.means - mu, resid])
            a1 = _moment_information(sigma, e, pt.meanstructure)
            a_s = _moment_information(d.S, e, pt.meanstructure)
            gamma = np.linalg.inv(a_s) / d.n
            gw = d.n / ntot
            _, h = eng.gradient(sol.theta, info=True)
            assert h is not None
            a0_inv = np.linalg.pinv(h / 2.0)
            q_mat = np.eye(delta.shape[0]) - gw * delta @ a0_inv @ delta.T @ a1
            var = np.diag(q_mat @ gamma @ q_mat.T)
            with np.errstate(invalid="ignore", divide="ignore"):
                z = np.where(var > 1e-8 * np.abs(np.diag(gamma)), resid / np.sqrt(
                    np.where(var > 0, var, 1.0)), np.nan)
            k0 = 0
            if pt.meanstructure:
                for i in range(p):
                    rows.append({"group": pt.groups[g], "item_id": pt.ov[i], "item_id2": "",
                                 "residual": float(resid[i]), "z": float(z[i])})
                k0 = p
            for a in range(jj.size):
                rows.append({"group": pt.groups[g], "item_id": pt.ov[kk[a]],
                             "item_id2": pt.ov[jj[a]], "residual": float(resid[k0 + a]),
                             "z": float(z[k0 + a])})
    return pd.DataFrame(rows)
