r"""The pieces every confirmatory factor analysis shares: the factor-mapping model, the data
it reads, the loading pattern, improper-solution checks, the RMSEA interval, the parameter-row
layout and the result class.

:mod:`instrval.stats.cfa` (ML), :mod:`instrval.stats.cfa_ordinal` (WLSMV) and the general
engine of :mod:`instrval.stats.sem` import from here; nothing here imports them.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from instrval._jsonable import to_jsonable
from instrval._result import Result
from instrval.errors import HeywoodWarning, StatisticsError
from instrval.stats._dist import chi2_cdf, ncx2_cdf, norm_sf

if TYPE_CHECKING:
    from instrval.stats.sem.fitmeasures import FitMeasures

__all__ = ["FACTOR_KINDS", "CFAResult", "model_from_instrument"]

#: Construct kinds whose items form a factor when an Instrument is given as the model.
FACTOR_KINDS = ("likert", "binary")


# --------------------------------------------------------------------------- model spec
def model_from_instrument(instrument: Any) -> dict[str, list[str]]:
    """The measurement model of an instrument: each likert/binary construct a factor.

    Parameters
    ----------
    instrument : Instrument
        Its ``constructs`` of kind ``likert`` or ``binary`` become factors named by the
        construct id, measured by the construct's ``item_ids`` in file order (the first is the
        marker).  ``multi_select`` and ``single_choice`` constructs are skipped.

    Returns
    -------
    dict
        ``{construct_id: [item ids]}``.
    """
    constructs = getattr(instrument, "constructs", None)
    if constructs is None:
        raise StatisticsError(
            f"the model must be a mapping {{factor: [items]}} or an Instrument, got "
            f"{type(instrument).__name__}")
    model = {c.id: list(c.item_ids) for c in constructs if c.kind in FACTOR_KINDS}
    if not model:
        raise StatisticsError(
            f"instrument {getattr(instrument, 'label', '?')} has no likert or binary "
            "constructs to use as factors")
    return model


def parse_factor_mapping(model: Any) -> dict[str, list[str]]:
    if isinstance(model, Mapping):
        spec = {}
        for f, items in model.items():
            if isinstance(items, str) or not isinstance(items, Sequence):
                raise StatisticsError(
                    f"factor {f!r}: items must be a list of item ids, got {items!r}")
            spec[str(f)] = [str(i) for i in items]
    else:
        spec = model_from_instrument(model)
    if not spec:
        raise StatisticsError("the model has no factors")
    for f, items in spec.items():
        if len(items) < 2:
            raise StatisticsError(
                f"factor {f!r} has {len(items)} item(s); each factor needs at least 2")
        dup = sorted({i for i in items if items.count(i) > 1})
        if dup:
            raise StatisticsError(f"factor {f!r} lists item(s) more than once: {', '.join(dup)}")
    return spec


def model_data(data: pd.DataFrame, spec: dict[str, list[str]], what: str
                ) -> tuple[list[str], np.ndarray]:
    """The model's items (in order of first mention) and their columns of ``data`` as a
    float array (NaN for missing); ``what`` names the function in messages."""
    items: list[str] = []
    for fac in spec:
        for it in spec[fac]:
            if it not in items:
                items.append(it)
    cols = {str(c): c for c in data.columns}
    absent = [i for i in items if i not in cols]
    if absent:
        raise StatisticsError(
            f"the model's item(s) {', '.join(absent)} are not columns of the data "
            f"(columns: {', '.join(map(str, data.columns))})")
    try:
        x = data[[cols[i] for i in items]].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise StatisticsError(f"{what} needs numeric item responses: {exc}") from None
    return items, x


def loading_pattern(spec: dict[str, list[str]], items: list[str], std_lv: bool
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(pattern, fixed_one)``, both (items x factors) bool: where an item loads, and the
    marker loadings fixed to 1 (each factor's first item, unless ``std_lv``)."""
    pattern = np.zeros((len(items), len(spec)), dtype=bool)
    fixed_one = np.zeros_like(pattern)
    for f, fac in enumerate(spec):
        for k, it in enumerate(spec[fac]):
            pattern[items.index(it), f] = True
            if k == 0 and not std_lv:
                fixed_one[items.index(it), f] = True
    return pattern, fixed_one


def free_positions(pattern: np.ndarray, fixed_one: np.ndarray, std_lv: bool
                    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The free loadings ``(item, factor)`` factor by factor, and the free factor
    (co)variances ``(f, g)`` with ``f >= g`` (no variances when ``std_lv``)."""
    p, m = pattern.shape
    lam_idx = [(i, f) for f in range(m) for i in range(p)
               if pattern[i, f] and not fixed_one[i, f]]
    phi_idx = [(f, g) for f in range(m) for g in range(f + 1) if not (std_lv and f == g)]
    return lam_idx, phi_idx


def first_loadings_positive(lam: np.ndarray, phi: np.ndarray, pattern: np.ndarray) -> None:
    """Flip factors (in place) so that each factor's first loading is positive."""
    for f in range(pattern.shape[1]):
        first = np.flatnonzero(pattern[:, f])[0]
        if lam[first, f] < 0:
            lam[:, f] = -lam[:, f]
            phi[f, :] = -phi[f, :]
            phi[:, f] = -phi[:, f]


def check_improper(items: list[str], resvar: np.ndarray, phi: np.ndarray, *, stacklevel: int
              ) -> list[str]:
    """Items with a residual variance <= 0, then ``"Phi"`` if :math:`\\Phi` is not positive
    definite; warns (:class:`~instrval.errors.HeywoodWarning`) when there is any, with the
    ``stacklevel`` the caller would give."""
    bad = [it for i, it in enumerate(items) if not resvar[i] > 0]
    if np.linalg.eigvalsh(phi).min() <= 0:
        bad.append("Phi")
    if bad:
        warnings.warn(
            "improper solution (Heywood case): "
            + ", ".join(f"negative residual variance of {b}" if b != "Phi"
                        else "factor covariance matrix not positive definite" for b in bad),
            HeywoodWarning, stacklevel=stacklevel + 1)
    return bad


def rmsea_ci(x2: float, df: float, n: float, level: float = 0.90) -> tuple[float, float]:
    """lavaan's ``lav_fit_rmsea_ci``: invert the noncentral chi-square for lambda."""
    if not (math.isfinite(x2) and df >= 1):
        return (math.nan, math.nan)
    from scipy.optimize import brentq

    upper_p = 1 - (1 - level) / 2
    lower_p = (1 - level) / 2

    def lo_fn(lam: float) -> float:
        return float(ncx2_cdf(x2, df, lam) if lam > 0 else chi2_cdf(x2, df)) - upper_p

    def up_fn(lam: float) -> float:
        return float(ncx2_cdf(x2, df, lam) if lam > 0 else chi2_cdf(x2, df)) - lower_p

    if lo_fn(0.0) < 0:
        lower = 0.0
    else:
        lam_l = brentq(lo_fn, 0.0, x2, xtol=1e-12, rtol=1e-14)
        lower = math.sqrt(lam_l / (n * df))
    n_rmsea = max(n, x2 * 4)
    if up_fn(n_rmsea) > 0 or up_fn(0.0) < 0:
        upper = 0.0
    else:
        lam_u = brentq(up_fn, 0.0, n_rmsea, xtol=1e-12, rtol=1e-14)
        upper = math.sqrt(lam_u / (n * df))
    return lower, upper


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, repr=False)
class CFAResult(Result):
    """A fitted confirmatory factor model.

    Attributes
    ----------
    fit : FitMeasures
        :class:`~instrval.stats.sem.fitmeasures.FitMeasures` (a frozen dataclass that is
        also a read-only mapping): ``chi2``, ``df``, ``pvalue``, ``cfi``, ``tli``,
        ``rmsea``, ``rmsea_ci_low``, ``rmsea_ci_high``, ``srmr``, ``aic``, ``bic``,
        ``loglik``, ``loglik_unrestricted``, ``baseline_chi2``, ``baseline_df``, ``fmin``
        (lavaan's ``F_ML / 2``), ``npar``, ``n``; MLR and WLSMV add the scaled measures.
    loadings : DataFrame
        One row per loading: ``factor``, ``item_id``, ``estimate``, ``se``, ``z``, ``pvalue``,
        ``std_lv``, ``std_all``, ``fixed`` (the marker loadings, fixed to 1, have se NaN).
    residual_variances : DataFrame
        One row per item: ``item_id``, ``estimate``, ``se``, ``std_all`` (= 1 - R^2).
    factor_covariances : DataFrame
        The estimated :math:`\\Phi` (factors as index and columns).
    factor_correlations : DataFrame
        :math:`\\Phi` rescaled to correlations.
    parameters : DataFrame
        Every parameter in lavaan's ``parameterEstimates`` layout: ``lhs``, ``op``, ``rhs``,
        ``estimate``, ``se``, ``z``, ``pvalue``, ``std_lv``, ``std_all``, ``free``.
    implied_covariance, sample_covariance : DataFrame
        :math:`\\Sigma(\\hat\\theta)` and :math:`S` (divisor N).
    n : int
        Rows used (complete on the model's items).
    converged : bool
    iterations : int
    heywood : bool
        True if a residual variance is negative (or zero) or :math:`\\Phi` is not positive
        definite (an improper solution); ``heywood_items`` names the items / ``"Phi"``.
    modification_indices, standardized_residuals : DataFrame or None
        With ``cfa(..., mi=True)``: see
        :func:`instrval.stats.sem.diagnostics.modification_indices` and
        :func:`~instrval.stats.sem.diagnostics.standardized_residuals`.
    """

    fit: FitMeasures
    loadings: pd.DataFrame
    residual_variances: pd.DataFrame
    factor_covariances: pd.DataFrame
    factor_correlations: pd.DataFrame
    parameters: pd.DataFrame
    implied_covariance: pd.DataFrame
    sample_covariance: pd.DataFrame
    model: dict[str, list[str]]
    n: int
    estimator: str
    missing: str
    std_lv: bool
    converged: bool
    iterations: int
    heywood: bool
    heywood_items: tuple[str, ...]
    modification_indices: pd.DataFrame | None = field(default=None, kw_only=True)
    standardized_residuals: pd.DataFrame | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        from instrval.stats.sem.fitmeasures import FitMeasures

        if not isinstance(self.fit, FitMeasures):  # a mapping {measure: value}
            object.__setattr__(self, "fit", FitMeasures.from_dict(self.fit))
        super().__post_init__()

    def to_frame(self) -> pd.DataFrame:
        """The loadings table (one row per factor-item pair)."""
        return self.loadings.copy()

    def summary_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what ``instrval cfa --json`` prints): ``estimator``,
        ``fit`` (:meth:`FitMeasures.summary`), ``loadings`` (records with ``factor``,
        ``item_id``, ``estimate``, ``std_all``, ``se``), ``factor_correlations`` (records
        with ``factor`` then one key per factor), ``n``, ``converged``, ``heywood``, and
        with ``mi=True`` ``modification_indices`` and ``standardized_residuals``.

        :meth:`to_dict` is the complete record (the report's ``results.json``); this is
        the short one a reader of a single model wants.
        """
        fc = self.factor_correlations
        out: dict[str, Any] = {
            "estimator": self.estimator,
            "fit": self.fit.summary(),
            "loadings": [{"factor": r["factor"], "item_id": r["item_id"],
                          "estimate": r["estimate"], "std_all": r["std_all"], "se": r["se"]}
                         for r in self.loadings.to_dict(orient="records")],
            "factor_correlations": [
                {"factor": str(f), **{str(g): float(fc.loc[f, g]) for g in fc.columns}}
                for f in fc.index],
            "n": int(self.n),
            "converged": bool(self.converged),
            "heywood": bool(self.heywood),
        }
        if self.modification_indices is not None:
            out["modification_indices"] = self.modification_indices
        if self.standardized_residuals is not None:
            out["standardized_residuals"] = self.standardized_residuals
        return to_jsonable(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``fit``, ``loadings`` (records with ``factor``, ``item_id``,
        ``estimate``, ``std_all``, ``se`` ...), ``factor_correlations`` (records with
        ``factor`` then one key per factor), ``residual_variances``, ``n``, flags."""
        fc = self.factor_correlations.copy()
        fc.insert(0, "factor", [str(i) for i in fc.index])
        return {
            "fit": self.fit.to_dict(),
            "loadings": to_jsonable(self.loadings),
            "factor_correlations": to_jsonable(fc.reset_index(drop=True)),
            "residual_variances": to_jsonable(self.residual_variances),
            "n": int(self.n),
            "estimator": self.estimator,
            "missing": self.missing,
            "std_lv": bool(self.std_lv),
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "heywood": bool(self.heywood),
            "heywood_items": list(self.heywood_items),
            **({"modification_indices": to_jsonable(self.modification_indices)}
               if self.modification_indices is not None else {}),
            **({"standardized_residuals": to_jsonable(self.standardized_residuals)}
               if self.standardized_residuals is not None else {}),
        }


def param_row(lhs: str, op: str, rhs: str, est: float, se: float, std_lv: float,
               std_all: float, free: bool) -> dict[str, Any]:
    z = est / se if free and se and math.isfinite(se) and se > 0 else math.nan
    pv = 2.0 * float(norm_sf(abs(z))) if math.isfinite(z) else math.nan
    return {"lhs": lhs, "op": op, "rhs": rhs, "estimate": float(est),
            "se": float(se) if free else math.nan, "z": float(z), "pvalue": pv,
            "std_lv": float(std_lv), "std_all": float(std_all), "free": bool(free)}


def single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """Keep BLAS on one thread: the matrices of a factor model are small and threaded
    OpenBLAS slows down badly on a busy machine."""
    from instrval.stats._threads import small_matrix_blas

    return small_matrix_blas()
