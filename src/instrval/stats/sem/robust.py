r"""Robust ML (lavaan's ``estimator = "MLR"``): Huber-White standard errors and the
Yuan-Bentler scaled chi-square (Mplus variant).

The estimates are the ML ones.  With :math:`N = \sum_g N_g`, :math:`f_g = N_g/N`:

* :math:`E` -- the observed information per case, the Hessian of lavaan's
  :math:`f_{min} = \tfrac12\sum_g f_g F_g` at :math:`\hat\theta` (central differences of the
  analytic gradient; lavaan's ``information = "observed"``, ``observed.information =
  "hessian"``);
* :math:`B_{0g} = \frac1{N_g}\sum_{i\in g} s_i s_i'` with :math:`s_i` the score of case
  :math:`i`'s log-likelihood at :math:`\hat\theta`, :math:`B_0 = \sum_g f_g B_{0g}`;
* standard errors: :math:`\mathrm{acov}(\hat\theta) = \frac1N E^{-1}B_0E^{-1}`
  (``se = "robust.huber.white"``);
* scaling factor (``test = "yuan.bentler.mplus"``):
  :math:`c = \big[\sum_g \mathrm{tr}(B_{1g}A_{1g}^{-1}) - \sum_g f_g\,\mathrm{tr}(B_{0g}
  E^{-1})\big]/df`, where :math:`A_{1g}` and :math:`B_{1g}` are the expected and first-order
  information of the saturated model (means and covariances) at the sample moments;
  :math:`\chi^2_{scaled} = \chi^2/c`.  The baseline (independence) model is scaled the same
  way; CFI, TLI and RMSEA are recomputed from the scaled statistics (lavaan's
  ``cfi.scaled``, ``tli.scaled``, ``rmsea.scaled``); the RMSEA interval inverts the
  noncentral chi-square of the unscaled statistic on :math:`c\,df` degrees of freedom, as
  lavaan does.

References
----------
Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and covariance
structure analysis with nonnormal missing data. Sociological Methodology, 30, 165-200.
Huber, P. J. (1967). The behavior of maximum likelihood estimates under nonstandard
conditions. White, H. (1982). Maximum likelihood estimation of misspecified models.
Econometrica, 50, 1-25.
Muthén, L. K., & Muthén, B. O. (1998-2017). Mplus User's Guide (MLR).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from instrval.errors import StatisticsError
from instrval.stats._dist import chi2_sf, norm_sf
from instrval.stats.sem.common import rmsea_ci, single_threaded_blas
from instrval.stats.sem.fitmeasures import FitMeasures, cfi_tli
from instrval.stats.sem.ml import Engine, GroupData, MLSolution

__all__ = ["ROBUST_FIT_KEYS", "mlr"]

#: The keys MLR adds to the fit measures.
ROBUST_FIT_KEYS = ("chi2_scaled", "df_scaled", "pvalue_scaled", "scaling_factor",
                   "baseline_chi2_scaled", "baseline_scaling_factor", "cfi_scaled",
                   "tli_scaled", "rmsea_scaled", "rmsea_ci_low_scaled", "rmsea_ci_high_scaled")


def _sym_units(p: int) -> np.ndarray:
    """dSigma/d(vech Sigma) as (p*, p, p) symmetric unit matrices."""
    jj, kk = np.tril_indices(p)
    e = np.zeros((jj.size, p, p))
    e[np.arange(jj.size), jj, kk] = 1.0
    e[np.arange(jj.size), kk, jj] = 1.0
    return e


def _saturated_trace(d: GroupData, meanstructure: bool) -> float:
    r""":math:`\mathrm{tr}(B_1A_1^{-1})` of the saturated model at the sample moments."""
    assert d.x is not None
    inv = np.linalg.inv(d.S)
    e = _sym_units(d.S.shape[0])
    a = (d.x - d.means) @ inv
    m = np.einsum("pq,kqr->kpr", inv, e)
    sc = 0.5 * (np.einsum("ip,kpq,iq->ik", a, e, a, optimize=True)
                - np.einsum("kpp->k", m)[None, :])
    info = 0.5 * np.einsum("kpq,lqp->kl", m, m)
    if meanstructure:
        sc = np.hstack([a, sc])
        info = np.block([[inv, np.zeros((inv.shape[0], info.shape[0]))],
                         [np.zeros((info.shape[0], inv.shape[0])), info]])
    return float(np.mean(np.einsum("ik,ik->i", sc @ np.linalg.inv(info), sc)))


def _baseline_trace(d: GroupData, meanstructure: bool) -> float:
    r""":math:`\mathrm{tr}(B_{0g}E_g^{-1})` of the independence model (free variances and,
    with a mean structure, means) at its estimates :math:`\mathrm{diag}(S)`, :math:`\bar y`."""
    assert d.x is not None
    s = np.diag(d.S)
    r = d.x - d.means
    sc = 0.5 * (r * r / s ** 2 - 1.0 / s)
    einv = 2.0 * s ** 2
    tr = float(np.sum(np.mean(sc * sc, axis=0) * einv))
    if meanstructure:
        tr += float(np.sum(np.mean((r / s) ** 2, axis=0) * s))
    return tr


def mlr(sol: MLSolution) -> MLSolution:
    """The solution with robust (Huber-White) standard errors and scaled fit measures added
    (``fit`` gains :data:`ROBUST_FIT_KEYS`; ``parameters`` the robust ``se``, ``z`` and
    ``pvalue``)."""
    if any(d.x is None for d in sol.data):
        raise StatisticsError("MLR needs the data rows of every group")
    pt = sol.partable
    eng = Engine(pt, sol.data)
    ntot = float(sum(d.n for d in sol.data))
    fg = np.array([d.n for d in sol.data], float) / ntot
    with single_threaded_blas():
        hess = eng.fd_hessian(sol.theta)
        if hess is None:
            raise StatisticsError("the observed information is not available at the estimates")
        e = hess / 2.0
        try:
            einv = np.linalg.inv(e)
        except np.linalg.LinAlgError:
            raise StatisticsError("the observed information matrix is singular: the model "
                                  "may not be identified") from None
        b0g = []
        for g, d in enumerate(sol.data):
            sc = eng.casewise_scores(sol.theta, g)
            b0g.append(sc.T @ sc / d.n)
        b0 = sum(f * b for f, b in zip(fg, b0g, strict=True))
        acov = einv @ b0 @ einv / ntot
        se = np.sqrt(np.where(np.diag(acov) > 0, np.diag(acov), np.nan))
        tr_h1 = sum(_saturated_trace(d, pt.meanstructure) for d in sol.data)
        tr_base = sum(_baseline_trace(d, pt.meanstructure) for d in sol.data)
    tr_h0 = float(sum(f * np.sum(b * einv.T) for f, b in zip(fg, b0g, strict=True)))
    fit = dict(sol.fit)
    df = fit["df"]
    G = len(sol.data)
    c = (tr_h1 - tr_h0) / df if df > 0 else math.nan
    chi2_s = fit["chi2"] / c if df > 0 else math.nan
    base_df = fit["baseline_df"]
    c0 = (tr_h1 - tr_base) / base_df
    base_s = fit["baseline_chi2"] / c0
    cfi_s, tli_s = cfi_tli(chi2_s, df, base_s, base_df)
    rmsea_s = (math.sqrt(G) * math.sqrt(max(chi2_s / ntot / df - 1.0 / ntot, 0.0))
               if df > 0 else 0.0)
    lo, hi = rmsea_ci(fit["chi2"], c * df, ntot)   # lavaan: X2 on df = tr(U Gamma)
    fit.update({
        "chi2_scaled": float(chi2_s), "df_scaled": float(df),
        "pvalue_scaled": float(chi2_sf(chi2_s, df)) if df > 0 else math.nan,
        "scaling_factor": float(c), "baseline_chi2_scaled": float(base_s),
        "baseline_scaling_factor": float(c0), "cfi_scaled": float(cfi_s),
        "tli_scaled": float(tli_s), "rmsea_scaled": float(rmsea_s),
        "rmsea_ci_low_scaled": float(lo * math.sqrt(G)),
        "rmsea_ci_high_scaled": float(hi * math.sqrt(G)),
    })
    params = sol.parameters.copy()
    free = params["parameter"].to_numpy(dtype=int)
    new_se = np.where(free > 0, se[np.maximum(free, 1) - 1], np.nan)
    z = np.where(new_se > 0, params["estimate"].to_numpy() / new_se, np.nan)
    params["se"] = new_se
    params["z"] = z
    params["pvalue"] = pd.Series(2.0 * norm_sf(np.abs(z)), index=params.index)
    return replace(sol, se=se, acov=acov, fit=FitMeasures.from_dict(fit), parameters=params)
