r"""Maximum-likelihood fit measures for one or several groups, as lavaan's ``fitMeasures``.

With :math:`G` groups of :math:`N_g` rows (:math:`N = \sum N_g`), sample covariances
:math:`S_g` (divisor :math:`N_g`) and means :math:`\bar y_g`, and the implied
:math:`\Sigma_g`, :math:`\mu_g`:

* :math:`F_g = \log|\Sigma_g| + \mathrm{tr}(S_g\Sigma_g^{-1}) - \log|S_g| - p
  + (\bar y_g - \mu_g)'\Sigma_g^{-1}(\bar y_g - \mu_g)` (the mean term only with a mean
  structure); :math:`\chi^2 = \sum_g N_g F_g`, ``fmin`` :math:`= \chi^2 / (2N)`.
* Baseline (independence) model: :math:`\chi^2_0 = \sum_g N_g(\sum_i\log s_{g,ii} -
  \log|S_g|)` with :math:`df_0 = G\,p(p-1)/2`.
* CFI, TLI as Bentler (1990) and Tucker & Lewis (1973); RMSEA
  :math:`= \sqrt{G}\sqrt{\max(\chi^2/(N\,df) - 1/N, 0)}` (Steiger, 1998: the
  :math:`\sqrt G` multi-group correction lavaan applies) with its 90% interval.
* SRMR (lavaan's ``srmr_bentler``): per group the root mean square of the residual
  covariances scaled by :math:`\sqrt{s_{ii}s_{jj}}` (:math:`i \le j`) and, with a mean
  structure, the residual means scaled by :math:`\sqrt{s_{ii}}`; groups weighted by
  :math:`N_g/N`.
* :math:`\log L = -\sum_g \frac{N_g}{2}(p\log 2\pi + \log|\Sigma_g| +
  \mathrm{tr}(S_g\Sigma_g^{-1}) + (\bar y_g-\mu_g)'\Sigma_g^{-1}(\bar y_g-\mu_g))`,
  AIC :math:`= -2\log L + 2q`, BIC :math:`= -2\log L + q\log N`.

R equivalent: ``lavaan::fitMeasures(fit)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from instrval._jsonable import to_jsonable
from instrval._result import Result
from instrval.stats._dist import chi2_sf
from instrval.stats.sem.common import rmsea_ci

__all__ = ["FIT_KEYS", "LAVAAN_NAMES", "SCALED_SUMMARY_KEYS", "SUMMARY_KEYS", "FitMeasures", "cfi_tli",
           "discrepancy", "ml_fit_measures"]

#: The keys of an ML fit-measure dictionary, in order.
FIT_KEYS = ("chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high",
            "srmr", "aic", "bic", "loglik", "loglik_unrestricted", "baseline_chi2",
            "baseline_df", "fmin", "npar", "n")

#: Each measure's name in lavaan's ``fitMeasures``.
LAVAAN_NAMES: Mapping[str, str] = MappingProxyType({
    "chi2": "chisq", "df": "df", "pvalue": "pvalue", "cfi": "cfi", "tli": "tli",
    "rmsea": "rmsea", "rmsea_ci_low": "rmsea.ci.lower", "rmsea_ci_high": "rmsea.ci.upper",
    "srmr": "srmr", "aic": "aic", "bic": "bic", "loglik": "logl",
    "loglik_unrestricted": "unrestricted.logl", "baseline_chi2": "baseline.chisq",
    "baseline_df": "baseline.df", "fmin": "fmin", "npar": "npar", "n": "ntotal",
    "chi2_scaled": "chisq.scaled", "df_scaled": "df.scaled", "pvalue_scaled": "pvalue.scaled",
    "scaling_factor": "chisq.scaling.factor", "shift_parameter": "chisq.shift.parameters",
    "baseline_chi2_scaled": "baseline.chisq.scaled",
    "baseline_scaling_factor": "baseline.chisq.scaling.factor",
    "baseline_shift_parameter": "baseline.chisq.shift.parameters",
    "cfi_scaled": "cfi.scaled", "tli_scaled": "tli.scaled", "rmsea_scaled": "rmsea.scaled",
    "rmsea_ci_low_scaled": "rmsea.ci.lower.scaled",
    "rmsea_ci_high_scaled": "rmsea.ci.upper.scaled",
})

#: The measures of :meth:`FitMeasures.summary` (what ``instrval cfa`` prints), in order,
#: followed by the :data:`SCALED_SUMMARY_KEYS` the estimator computed.
SUMMARY_KEYS = ("chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high",
                "srmr", "aic", "bic")
SCALED_SUMMARY_KEYS = ("chi2_scaled", "df_scaled", "pvalue_scaled", "cfi_scaled", "tli_scaled",
                       "rmsea_scaled", "rmsea_ci_low_scaled", "rmsea_ci_high_scaled")


@dataclass(frozen=True, repr=False)
class FitMeasures(Result, Mapping[str, float]):
    r"""The fit measures of a confirmatory factor model (lavaan's ``fitMeasures``).

    A frozen dataclass with one field per measure; a measure the estimator does not
    compute is ``None`` (a computed measure that is undefined, e.g. the AIC of a WLSMV
    fit, is NaN). It is also a read-only mapping of the computed measures, so
    ``fit["cfi"]``, ``"cfi_scaled" in fit``, ``fit.get(...)`` and ``dict(fit)`` work;
    iteration and :meth:`to_dict` follow the order in which the estimator reports them.

    The fields keep the names of ``results.json``; :data:`LAVAAN_NAMES` gives lavaan's
    name of each (``chi2`` is ``chisq``, ``rmsea_ci_low`` is ``rmsea.ci.lower``, ``n`` is
    ``ntotal`` ...) and :meth:`to_lavaan` the measures under those names.

    Examples
    --------
    >>> fm = FitMeasures.from_dict({"chi2": 85.3, "df": 24.0, "cfi": 0.931})
    >>> fm.cfi, fm["chi2"], fm.rmsea is None, "rmsea" in fm
    (0.931, 85.3, True, False)
    >>> fm.to_dict()
    {'chi2': 85.3, 'df': 24.0, 'cfi': 0.931}
    >>> fm.to_lavaan()
    {'chisq': 85.3, 'df': 24.0, 'cfi': 0.931}
    """

    chi2: float | None = None
    df: float | None = None
    pvalue: float | None = None
    cfi: float | None = None
    tli: float | None = None
    rmsea: float | None = None
    rmsea_ci_low: float | None = None
    rmsea_ci_high: float | None = None
    srmr: float | None = None
    aic: float | None = None
    bic: float | None = None
    loglik: float | None = None
    loglik_unrestricted: float | None = None
    baseline_chi2: float | None = None
    baseline_df: float | None = None
    fmin: float | None = None
    npar: float | None = None
    n: float | None = None
    chi2_scaled: float | None = None
    df_scaled: float | None = None
    pvalue_scaled: float | None = None
    scaling_factor: float | None = None
    shift_parameter: float | None = None
    baseline_chi2_scaled: float | None = None
    baseline_scaling_factor: float | None = None
    baseline_shift_parameter: float | None = None
    cfi_scaled: float | None = None
    tli_scaled: float | None = None
    rmsea_scaled: float | None = None
    rmsea_ci_low_scaled: float | None = None
    rmsea_ci_high_scaled: float | None = None
    #: The computed measures in the order the estimator reports them (default: field order).
    order: tuple[str, ...] = field(default=(), compare=False, kw_only=True)

    def __post_init__(self) -> None:
        computed = [f.name for f in dataclasses.fields(self)
                    if f.name != "order" and getattr(self, f.name) is not None]
        if not self.order:
            object.__setattr__(self, "order", tuple(computed))
        elif sorted(self.order) != sorted(computed):
            raise ValueError("FitMeasures.order must list exactly the measures that are set")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> FitMeasures:
        """The fit measures of a mapping ``{name: value}`` (its order is kept).

        Raises
        ------
        TypeError
            A name that is not a field of :class:`FitMeasures`.
        """
        if isinstance(values, FitMeasures):
            return values
        return cls(**{str(k): (None if v is None else float(v)) for k, v in values.items()},
                   order=tuple(str(k) for k in values))

    # ------------------------------------------------------------ mapping
    def __getitem__(self, key: str) -> float:
        if key == "order" or key not in self.order:
            raise KeyError(key)
        return float(getattr(self, key))

    def __iter__(self) -> Iterator[str]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)

    def __contains__(self, key: object) -> bool:
        return key in self.order

    def summary(self) -> dict[str, float]:
        """The usual report: :data:`SUMMARY_KEYS`, then the scaled measures computed
        (MLR, WLSMV) of :data:`SCALED_SUMMARY_KEYS`."""
        keys = [*SUMMARY_KEYS, *(k for k in SCALED_SUMMARY_KEYS if k in self)]
        return {k: self[k] for k in keys}

    def to_lavaan(self) -> dict[str, float]:
        """The computed measures under lavaan's ``fitMeasures`` names
        (:data:`LAVAAN_NAMES`), in :attr:`order`."""
        return {LAVAAN_NAMES[k]: float(getattr(self, k)) for k in self.order}

    # ------------------------------------------------------------ protocol
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{name: value}`` of the computed measures, in :attr:`order`
        (NaN becomes ``None``)."""
        return to_jsonable({k: getattr(self, k) for k in self.order})

    def _fields(self) -> list[tuple[str, Any]]:
        return [(k, getattr(self, k)) for k in self.order]


def discrepancy(S: np.ndarray, sigma: np.ndarray, mean_resid: np.ndarray | None = None
                ) -> float:
    """:math:`F_{ML}` of one group (``inf`` if :math:`\\Sigma` is not positive definite)."""
    try:
        c = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return math.inf
    logdet = 2.0 * float(np.sum(np.log(np.diag(c))))
    inv = np.linalg.inv(sigma)
    f = logdet + float(np.sum(S * inv)) - float(np.linalg.slogdet(S)[1]) - S.shape[0]
    if mean_resid is not None:
        f += float(mean_resid @ inv @ mean_resid)
    return f


def cfi_tli(chi2: float, df: float, base_chi2: float, base_df: float) -> tuple[float, float]:
    """CFI and TLI (lavaan's formulas, CFI bounded to [0, 1])."""
    t1 = max(chi2 - df, 0.0)
    t2 = max(chi2 - df, base_chi2 - base_df, 0.0)
    cfi = 1.0 - t1 / t2 if t2 > 0 else 1.0
    tli = ((base_chi2 / base_df - chi2 / df) / (base_chi2 / base_df - 1.0)
           if df > 0 else math.nan)
    return cfi, tli


def ml_fit_measures(*, S: Sequence[np.ndarray], sigma: Sequence[np.ndarray],
                    n: Sequence[int], q: int, df: int,
                    M: Sequence[np.ndarray] | None = None,
                    mu: Sequence[np.ndarray] | None = None,
                    missing: tuple[float, float, float] | None = None) -> dict[str, float]:
    r"""The fit measures (keys :data:`FIT_KEYS`) of an ML solution over the groups.

    ``M``/``mu`` (sample and implied means) are given with a mean structure, else None.
    With missing data (FIML) ``missing`` is ``(loglik, loglik_h1, loglik_baseline)``, the
    case-wise log-likelihoods of the model, the saturated model (EM) and the independence
    model; ``S``/``M`` are then the EM estimates, and :math:`\chi^2 = 2(\ell_1 - \ell_0)`,
    :math:`\chi^2_0 = 2(\ell_1 - \ell_b)` (lavaan ``missing = "ml"``).
    """
    G = len(S)
    ntot = float(sum(n))
    p = S[0].shape[0]
    log2pi = math.log(2.0 * math.pi)
    chi2 = base = loglik = loglik_u = srmr = 0.0
    for g in range(G):
        d = None if M is None or mu is None else np.asarray(M[g]) - np.asarray(mu[g])
        fg = discrepancy(S[g], sigma[g], d)
        chi2 += n[g] * fg
        logdet_s = float(np.linalg.slogdet(S[g])[1])
        base += n[g] * (float(np.sum(np.log(np.diag(S[g])))) - logdet_s)
        loglik += -n[g] / 2.0 * (p * log2pi + logdet_s + p + fg)
        loglik_u += -n[g] / 2.0 * (p * log2pi + logdet_s + p)
        sd = np.sqrt(np.diag(S[g]))
        resid = ((S[g] - sigma[g]) / np.outer(sd, sd))[np.tril_indices(p)]
        if d is not None:
            resid = np.concatenate([d / sd, resid])
        srmr += n[g] / ntot * math.sqrt(float(np.mean(resid ** 2)))
    if missing is not None:
        loglik, loglik_u, ll_base = missing
        chi2 = 2.0 * (loglik_u - loglik)
        base = 2.0 * (loglik_u - ll_base)
    base_df = G * p * (p - 1) / 2
    cfi, tli = cfi_tli(chi2, df, base, base_df)
    rmsea = math.sqrt(G) * math.sqrt(max(chi2 / ntot / df - 1.0 / ntot, 0.0)) if df > 0 else 0.0
    lo, hi = rmsea_ci(chi2, df, ntot)
    return {
        "chi2": float(chi2), "df": float(df),
        "pvalue": float(chi2_sf(chi2, df)) if df > 0 else math.nan,
        "cfi": float(cfi), "tli": float(tli), "rmsea": float(rmsea),
        "rmsea_ci_low": float(lo * math.sqrt(G)), "rmsea_ci_high": float(hi * math.sqrt(G)),
        "srmr": float(srmr),
        "aic": float(-2.0 * loglik + 2.0 * q), "bic": float(-2.0 * loglik + q * math.log(ntot)),
        "loglik": float(loglik), "loglik_unrestricted": float(loglik_u),
        "baseline_chi2": float(base), "baseline_df": float(base_df),
        "fmin": float(chi2 / ntot / 2.0), "npar": float(q), "n": ntot,
    }
