r"""Multi-group WLSMV for ordered items, as lavaan's ``cfa(..., ordered = TRUE, group = )``.

Each group :math:`g` has its own sample statistics :math:`s_g = (\hat\tau_g', \hat\rho_g')'`
(thresholds and polychoric correlations, stages 1 and 2 of
:func:`~instrval.stats.cfa_ordinal.cfa_ordinal`) and its own :math:`\Gamma_g` (:math:`N_g`
times their asymptotic covariance matrix).  The weight matrix is block diagonal,
:math:`W = \mathrm{diag}(W_1, \ldots, W_G)` with :math:`W_g = \mathrm{diag}(\Gamma_g)^{-1}`,
and the estimates minimise

.. math:: F(\theta) = \sum_g \frac{N_g - 1}{N}\,(s_g - \sigma_g(\theta))' W_g
   (s_g - \sigma_g(\theta)),

with :math:`T = N F = \sum_g (N_g - 1) F_g` (lavaan multiplies each group's DWLS function by
:math:`(N_g-1)/N_g`).

The model (delta parameterization).  Per group, latent responses
:math:`y^* = \Lambda\eta + \varepsilon` with :math:`\eta` of mean :math:`(I-B)^{-1}\alpha`
and covariance :math:`(I-B)^{-1}\Psi(I-B)^{-\top}`; the scaling factors
:math:`\Delta = \mathrm{diag}(\delta)` are the inverse standard deviations of :math:`y^*`.
The implied thresholds and correlations are

.. math:: \tau^{std}_{ik} = \delta_i(\tau_{ik} - \mu_i), \quad \mu = \Lambda(I-B)^{-1}\alpha,
   \qquad \rho_{ij} = \delta_i\delta_j\,[\Lambda(I-B)^{-1}\Psi(I-B)^{-\top}\Lambda' +
   \Theta]_{ij},

and the residual variances :math:`\theta_{ii} = 1/\delta_i^2 -
[\Lambda(I-B)^{-1}\Psi(I-B)^{-\top}\Lambda']_{ii}` are not free.  Identification (lavaan's
defaults): in the configural model :math:`\delta = 1` and :math:`\alpha = 0` in every
group (the model is the single-group model in each group); with equal loadings and
thresholds, the latent means and the scaling factors are free in every group but the
first.

Standard errors (lavaan ``se = "robust.sem"``), with the group fractions
:math:`f_g = N_g/N`, :math:`\Delta_g = \partial\sigma_g/\partial\theta'`,
:math:`E = \sum_g f_g\Delta_g'W_g\Delta_g`:

.. math:: \mathrm{acov}(\hat\theta) = \frac1{N-G} E^{-1}\Big(\sum_g f_g\Delta_g'W_g\Gamma_gW_g
   \Delta_g\Big) E^{-1}.

The scaled and shifted statistic uses :math:`U = V - V\Delta E^{-1}\Delta'V` with
:math:`V = \mathrm{diag}(f_g W_g)` and :math:`\Gamma^* = \mathrm{diag}(\Gamma_g/f_g)`:
:math:`T_{ss} = aT + b`, :math:`a = \sqrt{df/\mathrm{tr}((U\Gamma^*)^2)}`,
:math:`b = df - a\,\mathrm{tr}(U\Gamma^*)`.

The difference test of nested models (lavaan ``lavTestLRT``'s default for WLSMV: Satorra,
2000, scaled and shifted, with lavaan's ``A.method = "delta"``): with the Jacobians
:math:`\Delta_1` (less restricted model) and :math:`\Delta_0`, :math:`H = \Delta_1^+\Delta_0`,
:math:`A` the orthogonal complement of the columns of :math:`H` (:math:`m = df_0 - df_1`
rows), :math:`P = E_1^{-1}` and
:math:`U_d = V\Delta_1 P A'(APA')^{-1}AP\Delta_1'V`:

.. math:: \Delta T = a(T_0 - T_1) + b, \quad a = \sqrt{m/\mathrm{tr}((U_d\Gamma^*)^2)},
   \quad b = m - a\,\mathrm{tr}(U_d\Gamma^*).

References
----------
Muthén, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted least
squares and quadratic estimating equations in latent variable modeling with categorical and
continuous outcomes. Unpublished technical report.
Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of moment
structures. In R. D. H. Heijmans, D. S. G. Pollock & A. Satorra (Eds.), Innovations in
multivariate statistical analysis (pp. 233-247). Kluwer.
Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
different levels of invariance for ordered categorical outcomes. Psychometrika, 81,
1014-1045.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import ConvergenceWarning, StatisticsError
from instrval.stats._dist import chi2_sf
from instrval.stats.sem.common import rmsea_ci, single_threaded_blas
from instrval.stats.sem.fitmeasures import FitMeasures
from instrval.stats.sem.ml import Engine, GroupData
from instrval.stats.sem.ml import start_values as ml_start
from instrval.stats.sem.partable import ParTable, build_partable

__all__ = ["OrdinalGroup", "WLSMVSolution", "fit_wlsmv", "ordinal_groups", "wlsmv_difference"]

#: Identifications of the constrained models (see :func:`fit_wlsmv`).
IDENTIFICATIONS = ("lavaan", "wu.estabrook")


@dataclass(frozen=True)
class OrdinalGroup:
    """One group's sample statistics for WLSMV (stages 1 and 2)."""

    name: str
    n: int
    s12: dict[str, Any] = field(repr=False)

    @property
    def stats(self) -> np.ndarray:
        """Thresholds then polychoric correlations (lavaan's order)."""
        return np.concatenate([self.s12["th"], self.s12["rho"]])

    @property
    def gamma(self) -> np.ndarray:
        return self.s12["gamma"]


def ordinal_groups(x: np.ndarray, labels: np.ndarray, order: Sequence[str],
                   items: list[str]) -> list[OrdinalGroup]:
    """Stages 1 and 2 per group; every group must use every category of every item.

    ``x`` holds the complete rows (float answers), ``labels`` their group labels.
    """
    from instrval.stats.cfa_ordinal import _stage12

    p = x.shape[1]
    codes = np.empty(x.shape, dtype=np.intp)
    ncat = np.empty(p, dtype=np.intp)
    levels = []
    for i in range(p):
        lev, inv = np.unique(x[:, i], return_inverse=True)
        if lev.size < 2:
            raise StatisticsError(f"item {items[i]!r} has a single category ({lev[0]:g}); an "
                                  "ordered item needs at least 2")
        codes[:, i] = inv
        ncat[i] = lev.size
        levels.append(lev)
    out = []
    for g in order:
        sel = labels == g
        cg = codes[sel]
        for i in range(p):
            used = np.unique(cg[:, i])
            if used.size < ncat[i]:
                miss = sorted(set(range(ncat[i])) - set(used.tolist()))
                raise StatisticsError(
                    f"item {items[i]!r} has no answer {levels[i][miss[0]]:g} in group {g!r}; "
                    "with ordered items every group needs every category (merge sparse "
                    "categories first)")
        s12 = _stage12(cg, ncat, items)
        if not s12["converged"]:
            warnings.warn(f"a polychoric correlation did not converge in group {g!r}",
                          ConvergenceWarning, stacklevel=3)
        dg = np.diag(s12["gamma"])
        if not (np.all(np.isfinite(dg)) and np.all(dg > 0)):
            raise StatisticsError(f"group {g!r}: the diagonal of Gamma is not positive")
        out.append(OrdinalGroup(str(g), int(cg.shape[0]), s12))
    return out


@dataclass(frozen=True)
class WLSMVSolution:
    """A multi-group WLSMV solution: free parameters, SEs, fit measures, the parameter
    table (lavaan's ``parameterEstimates`` layout with a ``group`` column) and what the
    difference test needs."""

    theta: np.ndarray
    se: np.ndarray
    fit: FitMeasures
    parameters: pd.DataFrame
    converged: bool
    iterations: int
    jacobian: np.ndarray = field(repr=False)      # stacked Delta (all groups' statistics)
    information: np.ndarray = field(repr=False)   # E = sum_g f_g Delta_g' W_g Delta_g
    groups: tuple[OrdinalGroup, ...] = field(repr=False)


# --------------------------------------------------------------------------- the model
class _Model:
    """Free parameters: the parameter table's, then thresholds, scaling factors, means."""

    def __init__(self, pt: ParTable, groups: Sequence[OrdinalGroup], *, equal_thresholds: bool,
                 free_delta: Sequence[Any], free_alpha: Sequence[bool],
                 free_nu: Sequence[bool] | None = None):
        self.pt = pt
        self.groups = list(groups)
        self.G = len(groups)
        self.p, self.m = len(pt.ov), len(pt.lv)
        dummy = [GroupData(g.name, g.n, g.s12["cor"], np.zeros(self.p)) for g in groups]
        self.eng = Engine(pt, dummy)
        s0 = groups[0].s12
        self.nth_i = s0["nth_i"]
        self.nth = int(s0["nth"])
        self.th_item = np.repeat(np.arange(self.p), self.nth_i)
        self.il, self.jl = s0["il"], s0["jl"]
        k = pt.nfree
        # thresholds: index per group (-1: fixed to fix_th value)
        self.th_idx = np.zeros((self.G, self.nth), dtype=int)
        for g in range(self.G):
            if equal_thresholds and g > 0:
                self.th_idx[g] = self.th_idx[0]
            else:
                self.th_idx[g] = np.arange(k, k + self.nth)
                k += self.nth
        # scaling factors: free_delta[g] is a bool (every item) or a bool per item
        self.delta_idx = np.full((self.G, self.p), -1, dtype=int)
        for g in range(self.G):
            fd = np.broadcast_to(np.asarray(free_delta[g], dtype=bool), (self.p,))
            nd = int(fd.sum())
            self.delta_idx[g, fd] = np.arange(k, k + nd)
            k += nd
        # intercepts of the latent responses (0 unless freed)
        self.nu_idx = np.full((self.G, self.p), -1, dtype=int)
        for g in range(self.G):
            if free_nu is not None and free_nu[g]:
                self.nu_idx[g] = np.arange(k, k + self.p)
                k += self.p
        self.alpha_idx = np.full((self.G, self.m), -1, dtype=int)
        for g in range(self.G):
            if free_alpha[g]:
                self.alpha_idx[g] = np.arange(k, k + self.m)
                k += self.m
        self.q = k

    def parts(self, theta: np.ndarray, g: int) -> dict[str, Any]:
        mats = self.eng.matrices(theta[:self.pt.nfree], g)
        sigma, _, aux = self.eng.implied(mats)
        tau = theta[self.th_idx[g]]
        delta = np.where(self.delta_idx[g] >= 0, theta[np.maximum(self.delta_idx[g], 0)], 1.0)
        alpha = np.where(self.alpha_idx[g] >= 0, theta[np.maximum(self.alpha_idx[g], 0)], 0.0)
        nu = np.where(self.nu_idx[g] >= 0, theta[np.maximum(self.nu_idx[g], 0)], 0.0)
        mu = nu + aux["L"] @ alpha
        return {"mats": mats, "sigma": sigma, "aux": aux, "tau": tau, "delta": delta,
                "alpha": alpha, "nu": nu, "mu": mu}

    def implied(self, theta: np.ndarray, g: int) -> np.ndarray:
        pr = self.parts(theta, g)
        d = pr["delta"]
        ti = self.th_item
        th = d[ti] * (pr["tau"] - pr["mu"][ti])
        rho = d[self.il] * d[self.jl] * pr["sigma"][self.il, self.jl]
        return np.concatenate([th, rho])

    def implied_all(self, theta: np.ndarray) -> np.ndarray:
        return np.concatenate([self.implied(theta, g) for g in range(self.G)])

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """The stacked :math:`\\Delta = \\partial\\sigma/\\partial\\theta'` (chain rule through
        the scaling factors, thresholds and means)."""
        out = []
        ti, il, jl = self.th_item, self.il, self.jl
        nfree = self.pt.nfree
        for g in range(self.G):
            pr = self.parts(theta, g)
            mats, aux = pr["mats"], dict(pr["aux"])
            mats["alpha"] = pr["alpha"]
            aux["ma"] = aux["ib"] @ pr["alpha"]
            ds, dm = self.eng.derivatives(theta[:nfree], g, mats, aux)
            d, sig = pr["delta"], pr["sigma"]
            jg = np.zeros((self.nth + il.size, self.q))
            jg[:self.nth, :nfree] = -(d[ti][:, None] * dm[:, ti].T)
            jg[self.nth:, :nfree] = (d[il] * d[jl])[:, None] * ds[:, il, jl].T
            rows = np.arange(self.nth)
            jg[rows, self.th_idx[g]] += d[ti]
            didx = self.delta_idx[g]
            if (didx >= 0).any():
                okt = didx[ti] >= 0
                jg[rows[okt], didx[ti][okt]] += (pr["tau"] - pr["mu"][ti])[okt]
                pr_rows = self.nth + np.arange(il.size)
                oki = didx[il] >= 0
                jg[pr_rows[oki], didx[il][oki]] += (d[jl] * sig[il, jl])[oki]
                okj = didx[jl] >= 0
                jg[pr_rows[okj], didx[jl][okj]] += (d[il] * sig[il, jl])[okj]
            nidx = self.nu_idx[g]
            if (nidx >= 0).any():
                okt = nidx[ti] >= 0
                jg[rows[okt], nidx[ti][okt]] += -d[ti][okt]
            if (self.alpha_idx[g] >= 0).any():
                lf = aux["L"]
                for f in range(self.m):
                    jg[rows, self.alpha_idx[g, f]] += -d[ti] * lf[ti, f]
            out.append(jg)
        return np.vstack(out)

    def jacobian_numeric(self, theta: np.ndarray) -> np.ndarray:
        """Central differences, to check :meth:`jacobian`."""
        cols = []
        for k in range(theta.size):
            h = 1e-6 * max(1.0, abs(theta[k]))
            tp = theta.copy()
            tp[k] += h
            tm = theta.copy()
            tm[k] -= h
            cols.append((self.implied_all(tp) - self.implied_all(tm)) / (2 * h))
        return np.column_stack(cols)


# --------------------------------------------------------------------------- fitting
def fit_wlsmv(syntax: str, groups: Sequence[OrdinalGroup], *, equal: Sequence[str] = (),
              identification: str = "lavaan", stacklevel: int = 2) -> WLSMVSolution:
    """Fit a multi-group WLSMV model; ``equal`` a subset of ``("loadings", "thresholds")``.

    ``identification="lavaan"``: lavaan's defaults (marker loadings; with equal thresholds
    the latent means and scaling factors of every group but the first are free).
    ``identification="wu.estabrook"``: semTools ``measEq.syntax(ID.fac = "std.lv",
    ID.cat = "Wu.Estabrook.2016", parameterization = "delta")``: factor variances 1 and
    latent means 0; with equal thresholds the intercepts of the latent responses and the
    scaling factors of items with three or more categories are free beyond the first group;
    with equal loadings too, the factor variances are free beyond the first group.
    """
    if identification not in IDENTIFICATIONS:
        raise StatisticsError(f"identification={identification!r}; choose one of "
                              f"{IDENTIFICATIONS}")
    groups = list(groups)
    G = len(groups)
    names = [g.name for g in groups]
    eq_pt = tuple(e for e in equal if e == "loadings")
    eq_th = "thresholds" in equal
    if identification == "lavaan":
        pt = build_partable(syntax, groups=names, group_equal=eq_pt, ordered=True)
        free_rest = [g > 0 and eq_th for g in range(G)]
        mod = _Model(pt, groups, equal_thresholds=eq_th, free_delta=free_rest,
                     free_alpha=free_rest)
    else:
        pt = build_partable(syntax, groups=names, group_equal=eq_pt, ordered=True,
                            std_lv=True)
        if eq_pt:
            pt = _free_lv_variances(pt)
        multi = groups[0].s12["nth_i"] >= 2
        mod = _Model(pt, groups, equal_thresholds=eq_th,
                     free_delta=[multi if (g > 0 and eq_th) else False for g in range(G)],
                     free_alpha=[False] * G, free_nu=[g > 0 and eq_th for g in range(G)])
    with single_threaded_blas():
        return _solve(mod, stacklevel=stacklevel + 1)


def _free_lv_variances(pt: ParTable) -> ParTable:
    """The factor variances (fixed to 1 by ``std_lv``) made free beyond the first group."""
    k = pt.nfree
    rows = []
    for r in pt.rows:
        if r.mat == "psi" and r.lhs == r.rhs and r.group > 0 and not r.free \
                and not _is_endogenous(pt, r.lhs):
            k += 1
            r = replace(r, free=k, value=math.nan)
        rows.append(r)
    return replace(pt, rows=tuple(rows), nfree=k)


def _is_endogenous(pt: ParTable, f: str) -> bool:
    return any(f in inds for inds in pt.indicators.values())


def _start(mod: _Model) -> np.ndarray:
    theta = np.zeros(mod.q)
    theta[:mod.pt.nfree] = ml_start(mod.eng)
    for g in range(mod.G - 1, -1, -1):
        theta[mod.th_idx[g]] = mod.groups[g].s12["th"]
    for g in range(mod.G):
        ok = mod.delta_idx[g] >= 0
        theta[mod.delta_idx[g][ok]] = 1.0
    return theta


def _solve(mod: _Model, stacklevel: int) -> WLSMVSolution:
    from scipy import optimize

    groups = mod.groups
    ns = np.array([g.n for g in groups], dtype=float)
    ntot = float(ns.sum())
    s = np.concatenate([g.stats for g in groups])
    w_g = [1.0 / np.diag(g.gamma) for g in groups]
    sqw = np.sqrt(np.concatenate([(g.n - 1) * wg for g, wg in zip(groups, w_g, strict=True)]))

    def resid(th: np.ndarray) -> np.ndarray:
        return sqw * (s - mod.implied_all(th))

    def jac(th: np.ndarray) -> np.ndarray:
        return -sqw[:, None] * mod.jacobian(th)

    theta0 = _start(mod)
    sol = optimize.least_squares(resid, theta0, jac=jac, method="lm", xtol=1e-12, ftol=1e-14,
                                 gtol=1e-12, max_nfev=2000)
    theta = sol.x
    converged = bool(sol.success)
    if not converged:
        warnings.warn("the WLSMV fit did not converge; the estimates are not reliable",
                      ConvergenceWarning, stacklevel=stacklevel)
    e = s - mod.implied_all(theta)
    chi2 = float(np.sum((sqw * e) ** 2))
    D = mod.jacobian(theta)
    fg = ns / ntot
    sizes = [g.stats.size for g in groups]
    bounds = np.cumsum([0, *sizes])
    vdiag = np.concatenate([f * wg for f, wg in zip(fg, w_g, strict=True)])
    info = D.T @ (vdiag[:, None] * D)
    q = mod.q
    df = float(sum(sizes) - q)
    se = np.full(q, np.nan)
    tr_ug = tr_ug2 = math.nan
    try:
        e_inv = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        e_inv = None
    gam_star = [g.gamma / f for g, f in zip(groups, fg, strict=True)]
    if e_inv is not None and np.all(np.isfinite(e_inv)):
        vd = vdiag[:, None] * D
        meat = np.zeros((q, q))
        for gi, gs in enumerate(gam_star):
            b = slice(bounds[gi], bounds[gi + 1])
            meat += vd[b].T @ gs @ vd[b]
        vcov = e_inv @ meat @ e_inv / (ntot - len(groups))
        dv = np.diag(vcov)
        se = np.sqrt(np.where(dv > 0, dv, np.nan))
        u = np.diag(vdiag) - vd @ e_inv @ vd.T
        ug = _times_blockdiag(u, gam_star, bounds)
        tr_ug = float(np.trace(ug))
        tr_ug2 = float(np.sum(ug * ug.T))
    else:
        warnings.warn("the information matrix is singular: the model may not be identified",
                      ConvergenceWarning, stacklevel=stacklevel)
    fit = FitMeasures.from_dict(_fit_measures(mod, theta, chi2, df, tr_ug, tr_ug2, w_g, ns))
    params = _parameter_frame(mod, theta, se)
    return WLSMVSolution(theta=theta, se=se, fit=fit, parameters=params, converged=converged,
                         iterations=int(sol.nfev), jacobian=D, information=info,
                         groups=tuple(groups))


def _times_blockdiag(u: np.ndarray, blocks: Sequence[np.ndarray], bounds: np.ndarray
                     ) -> np.ndarray:
    out = np.empty_like(u)
    for gi, gb in enumerate(blocks):
        b = slice(bounds[gi], bounds[gi + 1])
        out[:, b] = u[:, b] @ gb
    return out


def _scaled_shifted(t: float, df: float, tr_ug: float, tr_ug2: float
                    ) -> tuple[float, float, float]:
    if df == 0:
        return t, math.nan, math.nan
    if not (df > 0 and math.isfinite(tr_ug2) and tr_ug2 > 0):
        return math.nan, math.nan, math.nan
    a = math.sqrt(df / tr_ug2)
    b = df - a * tr_ug
    return a * t + b, 1.0 / a, b


def _fit_measures(mod: _Model, theta: np.ndarray, chi2: float, df: float, tr_ug: float,
                  tr_ug2: float, w_g: list[np.ndarray], ns: np.ndarray) -> dict[str, float]:
    from instrval.stats.cfa_ordinal import _cfi, _rmsea, _tli

    groups = mod.groups
    G = len(groups)
    ntot = float(ns.sum())
    nth = mod.nth
    chi2_s, scaling, shift = _scaled_shifted(chi2, df, tr_ug, tr_ug2)
    # baseline: thresholds free, correlations 0, in every group
    base = b_tr = b_tr2 = 0.0
    for g, wg in zip(groups, w_g, strict=True):
        r = g.s12["rho"]
        wr = wg[nth:]
        base += (g.n - 1) * float(np.sum(wr * r * r))
        wgam = g.gamma[nth:, nth:] * wr[:, None]
        b_tr += float(np.trace(wgam))
        b_tr2 += float(np.sum(wgam * wgam.T))
    base_df = float(G * mod.il.size)
    base_s, _, _ = _scaled_shifted(base, base_df, b_tr, b_tr2)
    nn = ntot - G        # lavaan's N for RMSEA with (D)WLS: N minus the number of groups
    srmr = 0.0
    p = mod.p
    for gi, g in enumerate(groups):
        imp = mod.implied(theta, gi)[nth:]
        srmr += g.n / ntot * math.sqrt(float(np.sum((g.s12["rho"] - imp) ** 2))
                                       / (p * (p + 1) / 2))

    def rmsea(x2: float) -> float:
        return math.sqrt(G) * _rmsea(x2, df, nn) if math.isfinite(x2) else math.nan

    lo, hi = rmsea_ci(chi2, df, nn)
    return {
        "chi2": chi2, "df": df,
        "pvalue": float(chi2_sf(chi2, df)) if df > 0 else math.nan,
        "chi2_scaled": chi2_s, "df_scaled": df,
        "pvalue_scaled": float(chi2_sf(chi2_s, df))
        if df > 0 and math.isfinite(chi2_s) else math.nan,
        "scaling_factor": scaling, "shift_parameter": shift,
        "baseline_chi2": base, "baseline_df": base_df, "baseline_chi2_scaled": base_s,
        "cfi": _cfi(chi2, df, base, base_df), "tli": _tli(chi2, df, base, base_df),
        "cfi_scaled": _cfi(chi2_s, df, base_s, base_df) if math.isfinite(chi2_s) else math.nan,
        "tli_scaled": _tli(chi2_s, df, base_s, base_df) if math.isfinite(chi2_s) else math.nan,
        "rmsea": rmsea(chi2), "rmsea_ci_low": math.sqrt(G) * lo,
        "rmsea_ci_high": math.sqrt(G) * hi, "rmsea_scaled": rmsea(chi2_s),
        "srmr": srmr, "npar": float(mod.q), "n": ntot,
    }


def _parameter_frame(mod: _Model, theta: np.ndarray, se: np.ndarray) -> pd.DataFrame:
    """lavaan's ``parameterEstimates`` rows: ``lhs, op, rhs, group`` (1-based), ``est``,
    ``se`` (NaN when fixed), ``free``."""
    rows = []
    pt = mod.pt
    items = list(pt.ov)
    for g in range(mod.G):
        pr = mod.parts(theta, g)
        common = pr["sigma"] - pr["mats"]["theta"]
        for r in pt.rows:
            if r.group != g:
                continue
            if r.mat == "theta" and r.lhs == r.rhs:
                i = r.row
                est = 1.0 / pr["delta"][i] ** 2 - common[i, i]
                rows.append((r.lhs, "~~", r.rhs, g + 1, est, math.nan, False))
                continue
            est = float(theta[r.free - 1]) if r.free else float(r.value)
            rows.append((r.lhs, r.op, r.rhs, g + 1, est,
                         float(se[r.free - 1]) if r.free else math.nan, bool(r.free)))
        t = 0
        for i, it in enumerate(items):
            for k in range(mod.nth_i[i]):
                idx = mod.th_idx[g, t]
                rows.append((it, "|", f"t{k + 1}", g + 1, float(pr["tau"][t]),
                             float(se[idx]), True))
                t += 1
        for i, it in enumerate(items):
            idx = mod.delta_idx[g, i]
            rows.append((it, "~*~", it, g + 1, float(pr["delta"][i]),
                         float(se[idx]) if idx >= 0 else math.nan, idx >= 0))
        for i, it in enumerate(items):      # intercepts of the latent responses
            idx = mod.nu_idx[g, i]
            rows.append((it, "~1", "", g + 1, float(pr["nu"][i]),
                         float(se[idx]) if idx >= 0 else math.nan, idx >= 0))
        for f, fac in enumerate(pt.lv):
            idx = mod.alpha_idx[g, f]
            rows.append((fac, "~1", "", g + 1, float(pr["alpha"][f]),
                         float(se[idx]) if idx >= 0 else math.nan, idx >= 0))
    return pd.DataFrame(rows, columns=["lhs", "op", "rhs", "group", "est", "se", "free"])


# --------------------------------------------------------------------------- difference test
def wlsmv_difference(m1: WLSMVSolution, m0: WLSMVSolution) -> dict[str, float]:
    """The scaled and shifted difference test of Satorra (2000) of the nested model ``m0``
    against ``m1`` (lavaan ``lavTestLRT(m1, m0)``'s default for WLSMV fits, with
    ``A.method = "delta"``): ``chi2``, ``df``, ``pvalue``, ``a``, ``b``."""
    with single_threaded_blas():
        return _difference(m1, m0)


def _difference(m1: WLSMVSolution, m0: WLSMVSolution) -> dict[str, float]:
    t1, t0 = m1.fit["chi2"], m0.fit["chi2"]
    d = int(round(m0.fit["df"] - m1.fit["df"]))
    if d <= 0:
        return {"chi2": t0 - t1, "df": float(d), "pvalue": math.nan, "a": math.nan,
                "b": math.nan}
    groups = m1.groups
    ns = np.array([g.n for g in groups], dtype=float)
    fg = ns / ns.sum()
    d1, d0 = m1.jacobian, m0.jacobian
    h = np.linalg.pinv(d1) @ d0
    # orthogonal complement of the columns of H (lavaan_matrix_orthogonal_complement)
    qq, _ = np.linalg.qr(h, mode="complete")
    rank = np.linalg.matrix_rank(h)
    a_mat = qq[:, rank:].T
    p_inv = np.linalg.inv(m1.information)
    apa = a_mat @ p_inv @ a_mat.T
    mm = p_inv @ a_mat.T @ np.linalg.pinv(apa) @ a_mat @ p_inv
    w_g = [1.0 / np.diag(g.gamma) for g in groups]
    vdiag = np.concatenate([f * wg for f, wg in zip(fg, w_g, strict=True)])
    vd = vdiag[:, None] * d1
    u = vd @ mm @ vd.T
    sizes = [g.stats.size for g in groups]
    bounds = np.cumsum([0, *sizes])
    ug = _times_blockdiag(u, [g.gamma / f for g, f in zip(groups, fg, strict=True)], bounds)
    tr_ug = float(np.trace(ug))
    tr_ug2 = float(np.sum(ug * ug.T))
    a = math.sqrt(d / tr_ug2)
    b = d - a * tr_ug
    t = (t0 - t1) * a + b
    return {"chi2": t, "df": float(d), "pvalue": float(chi2_sf(t, d)), "a": a, "b": b}

