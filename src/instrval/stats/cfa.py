r"""Confirmatory factor analysis by maximum likelihood, matching R lavaan's defaults.

The model is the covariance structure

.. math:: \Sigma(\theta) = \Lambda \Phi \Lambda^\top + \Theta

with loadings :math:`\Lambda` (an item loads only on the factors the model names), factor
covariances :math:`\Phi` (all free) and diagonal residual variances :math:`\Theta`.  Each
factor is identified by its first item (loading fixed to 1, lavaan's default) or, with
``std_lv=True``, by fixing its variance to 1.

The ML discrepancy (lavaan's ``estimator="ML"``, ``likelihood="normal"``) is

.. math:: F_{ML} = \log|\Sigma| + \mathrm{tr}(S\Sigma^{-1}) - \log|S| - p

with :math:`S` the sample covariance matrix divided by :math:`N` (not :math:`N-1`).  Every
model, a ``{factor: [items]}`` mapping as well as lavaan syntax, is written as a parameter
table (:mod:`instrval.stats.sem.partable`) and fitted by the one ML engine of
:mod:`instrval.stats.sem.ml` (Fisher scoring, then Newton steps, until the largest gradient
element is below 1e-10; lavaan's nlminb stops at a relative change of 1e-10 in F, and both
reach the same optimum to about 1e-7 in the estimates).

References
----------
Bollen, K. A. (1989). Structural Equations with Latent Variables. Wiley.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
Statistical Software, 48(2), 1-36.  Version 0.6.14's fit measures are reproduced here.
Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit (RMSEA and its CI).
Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes (CFI, TLI, SRMR).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import StatisticsError
from instrval.stats.sem.common import (
    FACTOR_KINDS,
    CFAResult,
    check_improper,
    model_data,
    model_from_instrument,
    parse_factor_mapping,
)
from instrval.stats.sem.diagnostics import modification_indices, standardized_residuals
from instrval.stats.sem.ml import MLSolution, fit_ml, group_data, group_data_missing
from instrval.stats.sem.partable import build_partable, factor_syntax
from instrval.stats.sem.robust import mlr

__all__ = ["FACTOR_KINDS", "CFAResult", "cfa", "model_from_instrument"]

ESTIMATORS = ("ml", "mlr", "wlsmv")
MISSING = ("listwise", "ml")

def _fit(pt: Any, data: Any, *, max_iter: int = 500, stacklevel: int = 2) -> MLSolution:
    """The ML fit (:func:`~instrval.stats.sem.ml.fit_ml`) of every CFA model."""
    return fit_ml(pt, data, max_iter=max_iter, stacklevel=stacklevel + 1)


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
        from instrval.stats.cfa_ordinal import cfa_ordinal  # its start-up is for WLSMV only

        return cfa_ordinal(data, model, std_lv=std_lv, missing=missing, orthogonal=orthogonal)
    if missing not in MISSING:
        raise StatisticsError(f"missing={missing!r} is not allowed; choose one of {MISSING}")
    if missing == "ml" and (est != "ml" or mi):
        raise StatisticsError("missing='ml' (FIML) is available with estimator='ml' and "
                              "without modification indices")
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(f"cfa needs a pandas DataFrame, got {type(data).__name__}")
    if orthogonal and not isinstance(model, str):
        raise StatisticsError("orthogonal=True needs a model in lavaan syntax")
    syntax = model if isinstance(model, str) else factor_syntax(parse_factor_mapping(model))
    return _cfa_syntax(data, syntax, std_lv=std_lv, orthogonal=orthogonal, missing=missing,
                       estimator=est, mi=mi)


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
    sol = _fit(pt, [gd], stacklevel=3)
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
        fit=sol.fit, loadings=loadings.reset_index(drop=True),
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
