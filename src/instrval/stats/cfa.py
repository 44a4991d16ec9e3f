r"""Confirmatory factor analysis by maximum likelihood, matching R lavaan's defaults.

The model is the covariance structure

.. math:: \Sigma(\theta) = \Lambda \Phi \Lambda^\top + \Theta

with loadings :math:`\Lambda` (an item loads only on the factors the model names), factor
covariances :math:`\Phi` (all free) and diagonal residual variances :math:`\Theta`.  Each
factor is identified by its first item (loading fixed to 1, lavaan's default) or, with
``std_lv=True``, by fixing its variance to 1.

The ML discrepancy (lavaan's ``estimator="ML"``, ``likelihood="normal"``) is

.. math:: F_{ML} = \log|\Sigma| + \mathrm{tr}(S\Sigma^{-1}) - \log|S| - p

with :math:`S` the sample covariance matrix divided by :math:`N` (not :math:`N-1`).  It is
minimised by Fisher scoring, finished by Newton steps, with the analytic gradient
:math:`g_k = \mathrm{tr}(\Sigma^{-1}(\Sigma - S)\Sigma^{-1}\,\partial\Sigma/\partial\theta_k)` and
the expected information
:math:`H_{kl} = \mathrm{tr}(\Sigma^{-1}\dot\Sigma_k\Sigma^{-1}\dot\Sigma_l)`, with step halving,
until the largest gradient element is below 1e-10 (lavaan's nlminb stops at a relative change of
1e-10 in F; both reach the same optimum to about 1e-7 in the estimates).

References
----------
Bollen, K. A. (1989). Structural Equations with Latent Variables. Wiley.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
Statistical Software, 48(2), 1-36.  Version 0.6.14's fit measures are reproduced here.
Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit (RMSEA and its CI).
Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes (CFI, TLI, SRMR).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import ConvergenceWarning, StatisticsError
from instrval.stats.cfa_ordinal import cfa_ordinal
from instrval.stats.sem.common import (
    FACTOR_KINDS,
    CFAResult,
    check_improper,
    first_loadings_positive,
    free_positions,
    loading_pattern,
    model_data,
    model_from_instrument,
    param_row,
    parse_factor_mapping,
)
from instrval.stats.sem.diagnostics import modification_indices, standardized_residuals
from instrval.stats.sem.fitmeasures import ml_fit_measures
from instrval.stats.sem.ml import MLSolution, fit_ml, group_data, group_data_missing
from instrval.stats.sem.partable import build_partable, factor_syntax
from instrval.stats.sem.robust import mlr

__all__ = ["FACTOR_KINDS", "CFAResult", "cfa", "model_from_instrument"]

ESTIMATORS = ("ml", "mlr", "wlsmv")
MISSING = ("listwise", "ml")

# --------------------------------------------------------------------------- the structure
@dataclass
class _Structure:
    """Where the free parameters sit in Lambda, Phi and Theta."""

    items: list[str]
    factors: list[str]
    pattern: np.ndarray          # (p, m) bool: item loads on factor
    fixed_one: np.ndarray        # (p, m) bool: loading fixed to 1 (marker)
    std_lv: bool
    lam_idx: list[tuple[int, int]] = field(default_factory=list)
    phi_idx: list[tuple[int, int]] = field(default_factory=list)   # (f, g) with f >= g
    n_theta: int = 0

    def __post_init__(self) -> None:
        self.lam_idx, self.phi_idx = free_positions(self.pattern, self.fixed_one, self.std_lv)
        self.n_theta = self.pattern.shape[0]

    @property
    def q(self) -> int:
        return len(self.lam_idx) + self.n_theta + len(self.phi_idx)

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p, m = self.pattern.shape
        lam = self.fixed_one.astype(float)
        k = 0
        for i, f in self.lam_idx:
            lam[i, f] = theta[k]
            k += 1
        th = theta[k:k + p].copy()
        k += p
        phi = np.eye(m) if self.std_lv else np.zeros((m, m))
        for f, g in self.phi_idx:
            phi[f, g] = phi[g, f] = theta[k]
            k += 1
        return lam, phi, th

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        lam, phi, th = self.unpack(theta)
        return lam @ phi @ lam.T + np.diag(th)

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """dSigma/dtheta_k as a (q, p, p) array."""
        lam, phi, _ = self.unpack(theta)
        p, _m = lam.shape
        lp = lam @ phi  # (p, m)
        out = np.zeros((self.q, p, p))
        k = 0
        for i, f in self.lam_idx:
            out[k, i, :] += lp[:, f]
            out[k, :, i] += lp[:, f]
            k += 1
        for i in range(p):
            out[k, i, i] = 1.0
            k += 1
        for f, g in self.phi_idx:
            if f == g:
                out[k] = np.outer(lam[:, f], lam[:, f])
            else:
                out[k] = np.outer(lam[:, f], lam[:, g]) + np.outer(lam[:, g], lam[:, f])
            k += 1
        return out


def _start(st: _Structure, S: np.ndarray) -> np.ndarray:
    """Starting values: each factor's first principal axis of its items' covariances."""
    p, m = st.pattern.shape
    lam = st.fixed_one.astype(float)
    phi = np.eye(m)
    for f in range(m):
        idx = np.flatnonzero(st.pattern[:, f])
        vals, vecs = np.linalg.eigh(S[np.ix_(idx, idx)])
        load = vecs[:, -1] * math.sqrt(max(vals[-1], 1e-8))
        if st.std_lv:
            lam[idx, f] = load * (1.0 if load[0] >= 0 else -1.0)
        else:
            marker = idx[np.flatnonzero(st.fixed_one[idx, f])[0]]
            lm = load[list(idx).index(marker)]
            if abs(lm) < 1e-8:
                lm = 1e-8
            lam[idx, f] = load / lm
            phi[f, f] = lm * lm
    # items on several factors: share the start
    multi = st.pattern.sum(axis=1) > 1
    lam[multi] = np.where(st.fixed_one[multi], lam[multi], lam[multi] / 2.0)
    theta = [lam[i, f] for i, f in st.lam_idx]
    theta += list(np.diag(S) / 2.0)
    theta += [phi[f, g] if f == g else 0.0 for f, g in st.phi_idx]
    return np.array(theta, dtype=float)


def _fml(S: np.ndarray, sigma: np.ndarray, logdet_s: float) -> tuple[float, np.ndarray | None]:
    try:
        c = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return math.inf, None
    logdet = 2.0 * np.sum(np.log(np.diag(c)))
    inv = np.linalg.inv(sigma)
    return float(logdet + np.trace(S @ inv) - logdet_s - S.shape[0]), inv


def _gradient(st: _Structure, S: np.ndarray, theta: np.ndarray) -> np.ndarray | None:
    """Analytic gradient of F_ML, or None where Sigma is not positive definite."""
    sigma = st.sigma(theta)
    try:
        np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    inv = np.linalg.inv(sigma)
    return np.einsum("ij,kij->k", inv @ (sigma - S) @ inv, st.jacobian(theta))


def _fd_hessian(st: _Structure, S: np.ndarray, theta: np.ndarray) -> np.ndarray | None:
    """Central differences of the analytic gradient (for the final Newton steps)."""
    q = theta.size
    h = np.empty((q, q))
    for k in range(q):
        eps = 1e-6 * max(1.0, abs(theta[k]))
        e = np.zeros(q)
        e[k] = eps
        gp = _gradient(st, S, theta + e)
        gm = _gradient(st, S, theta - e)
        if gp is None or gm is None:
            return None
        h[:, k] = (gp - gm) / (2.0 * eps)
    return (h + h.T) / 2.0


def _fit(st: _Structure, S: np.ndarray, max_iter: int = 500, gtol: float = 1e-10
         ) -> tuple[np.ndarray, float, int, bool]:
    """Minimise F_ML; returns (theta, F, iterations, converged).

    Fisher scoring (expected information, step halving) while the largest gradient element is
    above 1e-4, then Newton steps with the Hessian from central differences of the analytic
    gradient (Fisher scoring alone converges only linearly when the model misfits), until the
    largest gradient element is below ``gtol``.
    """
    logdet_s = float(np.linalg.slogdet(S)[1])
    theta = _start(st, S)
    f, inv = _fml(S, st.sigma(theta), logdet_s)
    if inv is None:
        raise StatisticsError("the starting values give an implied covariance matrix that is "
                              "not positive definite")
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        sigma = st.sigma(theta)
        d = st.jacobian(theta)
        g = np.einsum("ij,kij->k", inv @ (sigma - S) @ inv, d)
        gmax = float(np.max(np.abs(g)))
        if gmax < gtol:
            converged = True
            break
        if gmax < 1e-4:
            hess = _fd_hessian(st, S, theta)
            if hess is not None and np.linalg.eigvalsh(hess).min() > 0:
                step = -np.linalg.solve(hess, g)
                cand = theta + step
                gc = _gradient(st, S, cand)
                if gc is not None and np.max(np.abs(gc)) < gmax:
                    fc, invc = _fml(S, st.sigma(cand), logdet_s)
                    if invc is not None and fc <= f + 1e-12 * max(1.0, abs(f)):
                        theta, f, inv = cand, fc, invc
                        continue
        a = np.einsum("ij,kjl->kil", inv, d)
        h = np.einsum("kij,lji->kl", a, a)
        try:
            step = -np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(h, g, rcond=None)[0]
        t = 1.0
        improved = False
        for _ in range(40):
            cand = theta + t * step
            fc, invc = _fml(S, st.sigma(cand), logdet_s)
            if invc is not None and fc <= f + 1e-4 * t * float(g @ step):
                theta, f, inv = cand, fc, invc
                improved = True
                break
            t /= 2.0
        if not improved:
            # no further decrease possible in floating point: accept if the gradient is tiny
            converged = gmax < 1e-7
            break
    return theta, f, it, converged


# --------------------------------------------------------------------------- the function
def cfa(data: pd.DataFrame, model: Any, *, estimator: str = "ml", missing: str = "listwise",
        std_lv: bool = False, orthogonal: bool = False, mi: bool = False) -> CFAResult:
    r"""Confirmatory factor analysis by maximum likelihood, as ``lavaan::cfa`` (0.6.14).

    Parameters
    ----------
    data : DataFrame
        One numeric column per item (other columns are ignored).
    model : str, mapping or Instrument
        lavaan model syntax (``"visual =~ x1 + x2 + x3"``, with ``~~`` covariances, ``~ 1``
        intercepts, fixed values ``1*x``, starts ``start(.5)*x``, labels, higher-order and
        bifactor models; see :mod:`instrval.stats.sem.syntax`), or
        ``{factor: [item ids]}`` (an item may appear under several factors: a
        cross-loading), or an :class:`~instrval.model.instrument.Instrument`, each of whose
        likert/binary constructs becomes a factor of its items (:func:`model_from_instrument`).
        The first item of each factor is its marker (loading fixed to 1).
    estimator : {"ml", "mlr", "wlsmv"}
        ``"ml"``: maximum likelihood (lavaan ``estimator="ML"``). ``"mlr"``: ML estimates
        with robust (Huber-White) standard errors and the Yuan-Bentler scaled chi-square
        (lavaan ``estimator="MLR"``; ``fit`` gains ``chi2_scaled``, ``scaling_factor``,
        ``cfi_scaled``, ``tli_scaled``, ``rmsea_scaled`` ...; see
        :mod:`instrval.stats.sem.robust`). ``"wlsmv"``: ordered
        items (polychoric correlations, DWLS, robust standard errors, scaled-shifted
        chi-square), handed to :func:`instrval.stats.cfa_ordinal.cfa_ordinal`.
    missing : {"listwise", "ml"}
        ``"listwise"``: rows with a missing answer to any item of the model are dropped
        (lavaan's default).  ``"ml"``: full-information maximum likelihood, every row with
        at least one answer contributes the likelihood of its observed items; the saturated
        model is estimated by EM, standard errors come from the observed information
        (lavaan ``missing = "ml"``; ML only).
    std_lv : bool
        Identify the factors by fixing their variances to 1 (all loadings free) instead of
        fixing the first loading (lavaan ``std.lv=TRUE``).
    orthogonal : bool
        Factors that are not indicators of another factor do not covary (lavaan
        ``orthogonal=TRUE``, e.g. for a bifactor model); syntax models only.
    mi : bool
        Also compute the modification indices and the standardized residuals
        (``modification_indices``, ``standardized_residuals``; ML and MLR, as lavaan's
        ``modindices(fit)`` and ``residuals(fit, type = "standardized")``).

    Returns
    -------
    CFAResult

    Notes
    -----
    Fit measures, as lavaan's ``fitMeasures`` with N the number of rows used:

    * :math:`\chi^2 = N F_{ML}` with :math:`df = p(p+1)/2 - q`; ``pvalue`` its upper tail.
    * Baseline (independence) model: :math:`\chi^2_0 = N(\sum\log s_{ii} - \log|S|)`,
      :math:`df_0 = p(p-1)/2`.
    * CFI :math:`= 1 - \max(\chi^2-df,0)/\max(\chi^2-df, \chi^2_0-df_0, 0)`;
      TLI :math:`= (\chi^2_0/df_0 - \chi^2/df)/(\chi^2_0/df_0 - 1)`.
    * RMSEA :math:`= \sqrt{\max(\chi^2/(N\,df) - 1/N, 0)}` (N, not N - 1); its 90% CI solves
      :math:`F_{\chi^2_{df}(\lambda)}(\chi^2) = .95` and :math:`.05` for :math:`\lambda`, then
      :math:`\sqrt{\lambda/(N\,df)}` (lavaan's ``lav_fit_rmsea_ci``).
    * SRMR (lavaan's ``srmr``, which without a mean structure is ``srmr_bentler``):
      :math:`\sqrt{\sum_{i\le j} r_{ij}^2 / (p(p+1)/2)}` with
      :math:`r_{ij} = (s_{ij}-\hat\sigma_{ij})/\sqrt{s_{ii}s_{jj}}`.
    * :math:`\log L = -\frac N2 (p\log 2\pi + \log|\hat\Sigma| + \mathrm{tr}(S\hat\Sigma^{-1}))`,
      AIC :math:`= -2\log L + 2q`, BIC :math:`= -2\log L + q\log N`.

    Standard errors come from the expected information, :math:`\mathrm{acov} =
    (\frac N2 H)^{-1}` (lavaan's default for complete data).  ``std_all`` rescales by the
    model-implied SDs of the items and the factor SDs (lavaan ``standardizedSolution``).

    Improper solutions are not prevented (lavaan leaves variances unbounded): a negative
    residual variance or a non-positive-definite :math:`\Phi` gives a
    :class:`~instrval.errors.HeywoodWarning` and ``heywood=True``; non-convergence gives a
    :class:`~instrval.errors.ConvergenceWarning` and ``converged=False``.

    R equivalent::

        fit <- lavaan::cfa("visual =~ x1 + x2 + x3 ...", data = d)   # std.lv = TRUE
        fitMeasures(fit); parameterEstimates(fit, standardized = TRUE)

    Examples
    --------
    >>> import pandas as pd
    >>> hs = pd.read_csv("tests/data/HolzingerSwineford1939.csv")  # doctest: +SKIP
    >>> res = cfa(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
    ...                "speed": ["x7", "x8", "x9"]})                 # doctest: +SKIP
    >>> round(res.fit["chi2"], 3)                                    # doctest: +SKIP
    85.306
    """
    est = str(estimator).lower()
    if est not in ESTIMATORS:
        raise StatisticsError(
            f"estimator={estimator!r} is not available; choose one of {ESTIMATORS}")
    if est == "wlsmv":
        if mi:
            raise StatisticsError("modification indices are available for ML and MLR only")
        return cfa_ordinal(data, model, std_lv=std_lv, missing=missing, orthogonal=orthogonal)
    if missing not in MISSING:
        raise StatisticsError(f"missing={missing!r} is not allowed; choose one of {MISSING}")
    if missing == "ml" and (est != "ml" or mi):
        raise StatisticsError("missing='ml' (FIML) is available with estimator='ml' and "
                              "without modification indices")
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(f"cfa needs a pandas DataFrame, got {type(data).__name__}")
    if isinstance(model, str) or est == "mlr" or mi or missing == "ml":
        syntax = model if isinstance(model, str) else factor_syntax(parse_factor_mapping(model))
        return _cfa_syntax(data, syntax, std_lv=std_lv, orthogonal=orthogonal, missing=missing,
                           estimator=est, mi=mi)
    if orthogonal:
        raise StatisticsError("orthogonal=True needs a model in lavaan syntax")
    spec = parse_factor_mapping(model)
    factors = list(spec)
    items, x = model_data(data, spec, "cfa")
    x = x[~np.isnan(x).any(axis=1)]
    n, p = x.shape
    if n < 2:
        raise StatisticsError(f"only {n} complete rows on the model's items")
    xc = x - x.mean(axis=0)
    S = xc.T @ xc / n
    zero_var = [items[i] for i in range(p) if not S[i, i] > 0]
    if zero_var:
        raise StatisticsError("items without variance: " + ", ".join(zero_var))
    if np.linalg.eigvalsh(S).min() <= 0:
        raise StatisticsError("the sample covariance matrix of the model's items is singular "
                              "(fewer complete rows than items, or a linear dependence)")
    pattern, fixed_one = loading_pattern(spec, items, std_lv)
    st = _Structure(items, factors, pattern, fixed_one, bool(std_lv))
    q = st.q
    df = p * (p + 1) // 2 - q
    if df < 0:
        raise StatisticsError(
            f"the model is not identified: {q} free parameters but only {p * (p + 1) // 2} "
            "variances and covariances")
    theta, fval, iters, converged = _fit(st, S)
    if not converged:
        warnings.warn(f"the CFA did not converge after {iters} iterations; the estimates are "
                      "not reliable", ConvergenceWarning, stacklevel=2)
    lam, phi, th = st.unpack(theta)
    if st.std_lv:  # sign convention: each factor's first loading positive
        first_loadings_positive(lam, phi, pattern)
        theta = _repack(st, lam, phi, th)
    sigma = lam @ phi @ lam.T + np.diag(th)
    inv = np.linalg.inv(sigma)
    # ---- standard errors (expected information)
    d = st.jacobian(theta)
    a = np.einsum("ij,kjl->kil", inv, d)
    h = np.einsum("kij,lji->kl", a, a)
    info = n / 2.0 * h
    try:
        if np.linalg.cond(info) > 1e14:
            raise np.linalg.LinAlgError
        acov = np.linalg.inv(info)
        se = np.sqrt(np.where(np.diag(acov) > 0, np.diag(acov), np.nan))
    except np.linalg.LinAlgError:
        warnings.warn("the information matrix is singular: the model may not be identified; "
                      "standard errors are not available", ConvergenceWarning, stacklevel=2)
        se = np.full(q, np.nan)
    fit = ml_fit_measures(S=[S], sigma=[sigma], n=[n], q=q, df=df)
    rows, load_rows, res_rows = _ml_tables(st, spec, theta, se, sigma)
    phi_df = pd.DataFrame(phi, index=factors, columns=factors)
    fsd = np.sqrt(np.where(np.diag(phi) > 0, np.diag(phi), np.nan))
    cor_lv = phi / np.outer(fsd, fsd)
    bad = check_improper(items, th, phi, stacklevel=2)
    return CFAResult(
        fit=fit,
        loadings=pd.DataFrame(load_rows),
        residual_variances=pd.DataFrame(res_rows),
        factor_covariances=phi_df,
        factor_correlations=pd.DataFrame(cor_lv, index=factors, columns=factors),
        parameters=pd.DataFrame(rows),
        implied_covariance=pd.DataFrame(sigma, index=items, columns=items),
        sample_covariance=pd.DataFrame(S, index=items, columns=items),
        model={f: list(v) for f, v in spec.items()}, n=int(n), estimator=est,
        missing=missing, std_lv=bool(std_lv), converged=bool(converged), iterations=int(iters),
        heywood=bool(bad), heywood_items=tuple(bad))


def _ml_tables(st: _Structure, spec: dict[str, list[str]], theta: np.ndarray, se: np.ndarray,
               sigma: np.ndarray) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                           list[dict[str, Any]]]:
    """The parameter table (lavaan's ``parameterEstimates`` layout), the loadings and the
    residual variances as records."""
    lam, phi, th = st.unpack(theta)
    items, factors = st.items, st.factors
    p, m = lam.shape
    vsd = np.sqrt(np.diag(sigma))
    fsd = np.sqrt(np.where(np.diag(phi) > 0, np.diag(phi), np.nan))
    se_of: dict[tuple[str, int, int], float] = {}
    k = 0
    for i, f in st.lam_idx:
        se_of[("lam", i, f)] = se[k]
        k += 1
    for i in range(p):
        se_of[("th", i, i)] = se[k]
        k += 1
    for f, g in st.phi_idx:
        se_of[("phi", f, g)] = se[k]
        k += 1
    rows = []
    load_rows = []
    for f, fac in enumerate(factors):
        for it in spec[fac]:
            i = items.index(it)
            e = lam[i, f]
            s = se_of.get(("lam", i, f), math.nan)
            r = param_row(fac, "=~", it, e, s, e * fsd[f], e * fsd[f] / vsd[i],
                           ("lam", i, f) in se_of)
            rows.append(r)
            load_rows.append({"factor": fac, "item_id": it, "estimate": r["estimate"],
                              "se": r["se"], "z": r["z"], "pvalue": r["pvalue"],
                              "std_lv": r["std_lv"], "std_all": r["std_all"],
                              "fixed": not r["free"]})
    res_rows = []
    for i, it in enumerate(items):
        s = se_of[("th", i, i)]
        r = param_row(it, "~~", it, th[i], s, th[i], th[i] / sigma[i, i], True)
        rows.append(r)
        res_rows.append({"item_id": it, "estimate": r["estimate"], "se": r["se"],
                         "std_all": r["std_all"]})
    for f in range(m):
        for g in range(f, m):
            s = se_of.get(("phi", g, f), math.nan)
            cor = phi[f, g] / (fsd[f] * fsd[g])
            rows.append(param_row(factors[f], "~~", factors[g], phi[f, g], s, cor, cor,
                                   ("phi", g, f) in se_of))
    return rows, load_rows, res_rows


def _repack(st: _Structure, lam: np.ndarray, phi: np.ndarray, th: np.ndarray) -> np.ndarray:
    vals = [lam[i, f] for i, f in st.lam_idx] + list(th) + [phi[f, g] for f, g in st.phi_idx]
    return np.array(vals, dtype=float)


def _cfa_syntax(data: pd.DataFrame, syntax: str, *, std_lv: bool, orthogonal: bool,
                missing: str, estimator: str = "ml", mi: bool = False) -> CFAResult:
    """ML or MLR CFA of a model in lavaan syntax (the engine of :mod:`instrval.stats.sem`)."""
    fiml = missing == "ml"
    pt = build_partable(syntax, std_lv=std_lv, orthogonal=orthogonal,
                        meanstructure=True if fiml else None)
    items, x = model_data(data, {"model": list(pt.ov)}, "cfa")
    if fiml:
        gd = group_data_missing(x, "1", items)
    else:
        gd = group_data(x[~np.isnan(x).any(axis=1)], "1", items)
    sol = fit_ml(pt, [gd], stacklevel=3)
    if estimator == "mlr":
        sol = mlr(sol)
    res = cfa_result_from_solution(sol, missing=missing, std_lv=std_lv, stacklevel=3,
                                   estimator=estimator)
    if mi:
        res = replace(res, modification_indices=modification_indices(sol).drop(
            columns="group"), standardized_residuals=standardized_residuals(sol).drop(
            columns="group"))
    return res


def cfa_result_from_solution(sol: MLSolution, *, missing: str = "listwise",
                             std_lv: bool = False, stacklevel: int = 2,
                             estimator: str = "ml") -> CFAResult:
    """A :class:`CFAResult` of a one-group :class:`~instrval.stats.sem.ml.MLSolution`."""
    pt = sol.partable
    pe = sol.parameters
    items, factors = list(pt.ov), list(pt.lv)
    lo = pe[pe["op"] == "=~"]
    loadings = pd.DataFrame({
        "factor": lo["lhs"].to_numpy(), "item_id": lo["rhs"].to_numpy(),
        "estimate": lo["estimate"].to_numpy(), "se": lo["se"].to_numpy(),
        "z": lo["z"].to_numpy(), "pvalue": lo["pvalue"].to_numpy(),
        "std_lv": lo["std_lv"].to_numpy(), "std_all": lo["std_all"].to_numpy(),
        "fixed": ~lo["free"].to_numpy(dtype=bool)})
    rv = pe[(pe["op"] == "~~") & (pe["lhs"] == pe["rhs"]) & pe["lhs"].isin(items)]
    residual = pd.DataFrame({"item_id": rv["lhs"].to_numpy(),
                             "estimate": rv["estimate"].to_numpy(), "se": rv["se"].to_numpy(),
                             "std_all": rv["std_all"].to_numpy()})
    mats = sol.matrices[0]
    ib = np.linalg.inv(np.eye(len(factors)) - mats["beta"])
    cov_lv = ib @ mats["psi"] @ ib.T
    fsd = np.sqrt(np.where(np.diag(cov_lv) > 0, np.diag(cov_lv), np.nan))
    bad = check_improper(items, np.diag(mats["theta"]), mats["psi"], stacklevel=stacklevel + 1)
    params = pe.drop(columns=["group", "group_name", "parameter"])
    return CFAResult(
        fit=dict(sol.fit), loadings=loadings.reset_index(drop=True),
        residual_variances=residual.reset_index(drop=True),
        factor_covariances=pd.DataFrame(cov_lv, index=factors, columns=factors),
        factor_correlations=pd.DataFrame(cov_lv / np.outer(fsd, fsd), index=factors,
                                         columns=factors),
        parameters=params.reset_index(drop=True),
        implied_covariance=pd.DataFrame(sol.sigma[0], index=items, columns=items),
        sample_covariance=pd.DataFrame(sol.data[0].S, index=items, columns=items),
        model={f: list(v) for f, v in pt.indicators.items()}, n=int(sol.data[0].n),
        estimator=estimator, missing=missing, std_lv=bool(std_lv), converged=sol.converged,
        iterations=sol.iterations, heywood=bool(bad), heywood_items=tuple(bad))
