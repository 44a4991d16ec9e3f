"""Exploratory factor analysis that reproduces ``psych::fa`` (psych 2.2.9).

:func:`efa` fits a common-factor model ``R = L Phi L' + U^2`` to a correlation matrix
(computed from item data, or given) by minimum residual (``minres``), maximum likelihood
(``ml``) or iterated principal axes (``pa``), rotates it, and reports loadings,
communalities, factor correlations, eigenvalues, variance accounted for and the fit
statistics that ``psych::fa`` prints. Every convention follows psych, so that the numbers
agree with R to the optimiser's tolerance (see ``tests/test_efa.py``):

* starting values are squared multiple correlations, ``smc_i = 1 - 1/(R^-1)_ii``;
* minres minimises the sum of squared off-diagonal residuals over the uniquenesses by
  L-BFGS-B with bounds ``[.005, 1]`` and psych's gradient (``FAgr.minres``); ml minimises
  ``F = sum(log e - e) over the p-k smallest eigenvalues e of Psi^-1/2 R Psi^-1/2`` (psych's
  ``FAfn``/``FAgr``) with the same bounds; pa iterates principal axes on the reduced
  matrix until the summed communality changes by less than ``min_err`` (psych: ``.001``,
  at most 50 iterations);
* signs make every column sum positive; factors are sorted by ``diag(Phi L'L)`` (the
  variance each accounts for) and ``Phi`` is reordered with them;
* communalities are those of the unrotated solution (``diag(L Phi L')``), uniquenesses
  ``1 - h2``.

Fit statistics are psych's ``factor.stats``: with ``M = L Phi L'`` (unit diagonal) and
both ``M`` and ``R`` smoothed (``cor.smooth``),
``F = tr(M^-1 R) - log det(M^-1 R) - p``;
``chi2 = (n - 1 - (2p + 5)/6 - 2k/3) F``; ``df = p(p-1)/2 - pk + k(k-1)/2``;
``RMSEA = sqrt(max(chi2/(df n) - 1/(n - 1), 0))``; ``TLI = (M0 - Mm)/(M0 - 1/nm)`` with
``M0 = F0 2/(p(p-1))``, ``F0 = tr R - log det R - p``, ``Mm = F/df``,
``nm = n - 1 - (2p+5)/6 - 2k/3``; ``BIC = chi2 - df log n``.

Missing data: ``missing="pairwise"`` (psych's default) uses pairwise-complete correlations
and ``n`` = all rows; ``"listwise"`` drops incomplete rows first. (factor_analyzer imputes
medians, which differs from psych; instrval does not.)

References
----------
Revelle, W. (2022). psych: Procedures for Psychological, Psychometric, and Personality
Research. R package 2.2.9 (``fa``, ``factor.stats``).
Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing residuals (minres).
Psychometrika, 31, 351-368.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtrc as _chi2_sf

from instrval._jsonable import jsonable_scalar, to_jsonable
from instrval._result import Result
from instrval.errors import (
    ConvergenceWarning,
    HeywoodWarning,
    SmoothingWarning,
    StatisticsError,
)
from instrval.stats._threads import single_threaded_blas
from instrval.stats.polychoric import cor_smooth
from instrval.stats.rotation import ORTHOGONAL, ROTATIONS, rotate

__all__ = [
    "METHODS",
    "EFAFit",
    "EFAResult",
    "efa",
    "smc",
    "prepare_correlation",
    "fit_statistics",
]

#: Extraction methods.
METHODS = ("minres", "ml", "pa")
_CORR = ("pearson", "polychoric", "tetrachoric")
_MISSING = ("pairwise", "listwise")
_LOWER = 0.005  # psych's lower bound on uniquenesses (minres, ml)
_PREFIX = {"minres": "MR", "ml": "ML", "pa": "PA"}
#: Communalities at or above this (the uniqueness bound of minres/ml) are Heywood cases.
HEYWOOD_LIMIT = 1.0 - _LOWER


# ------------------------------------------------------------------- helpers
def _is_correlation(df: pd.DataFrame) -> bool:
    """psych's ``isCorrelation``: square, symmetric, unit diagonal."""
    if df.shape[0] != df.shape[1]:
        return False
    a = df.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(a).any():
        return False
    return bool(np.allclose(a, a.T) and np.allclose(np.diag(a), 1.0))


def _pairwise_pearson(x: np.ndarray) -> np.ndarray:
    """Pairwise-complete Pearson correlations (R's ``cor(x, use="pairwise")``)."""
    return pd.DataFrame(x).corr(method="pearson").to_numpy()


def smc(R: np.ndarray) -> np.ndarray:
    """Squared multiple correlations ``1 - 1/diag(R^+)`` as ``psych::smc`` (pseudo-inverse;
    values clipped to [0, 1])."""
    Ri = np.linalg.pinv(R, hermitian=True)
    s = 1.0 - 1.0 / np.diag(Ri)
    return np.clip(s, 0.0, 1.0)


def _eigh_desc(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ev, vec = np.linalg.eigh(S)
    return ev[::-1], vec[:, ::-1]


@dataclass(frozen=True)
class _Prepared:
    R: np.ndarray
    items: tuple[str, ...]
    n_obs: float
    corr: str
    smoothed: bool


def prepare_correlation(data_or_corr: pd.DataFrame | np.ndarray, *, corr: str = "pearson",
                        missing: str = "pairwise", n_obs: float | None = None) -> _Prepared:
    """Turn item data or a correlation matrix into ``(R, item ids, n)`` as psych does.

    Raw data: Pearson (pairwise by default, ``n`` = all rows as psych), polychoric or
    tetrachoric (0/1 items; ``instrval.stats.correlation.correlation_matrix``). A square, symmetric matrix with a
    unit diagonal is taken as a correlation matrix; ``n_obs`` is then its sample size.
    """
    if corr not in _CORR:
        raise StatisticsError(f"unknown corr {corr!r}; choose one of {', '.join(_CORR)}")
    if missing not in _MISSING:
        raise StatisticsError(
            f"unknown missing {missing!r}; choose one of {', '.join(_MISSING)}")
    df = data_or_corr if isinstance(data_or_corr, pd.DataFrame) else pd.DataFrame(
        np.asarray(data_or_corr, dtype=float))
    if df.shape[1] < 2:
        raise StatisticsError(f"factor analysis needs at least 2 items, got {df.shape[1]}")
    items = tuple(str(c) for c in df.columns)
    smoothed = False
    if _is_correlation(df):
        R = df.to_numpy(dtype=float)
        n = float("nan") if n_obs is None else float(n_obs)
    else:
        if n_obs is not None:
            raise StatisticsError("n_obs is only used with a correlation matrix; "
                                  "for item data the number of rows is used")
        try:
            num = df.apply(pd.to_numeric, errors="raise").astype(float)
        except (ValueError, TypeError) as exc:
            raise StatisticsError(f"item data must be numeric: {exc}") from exc
        if missing == "listwise":
            num = num.dropna()
        n = float(len(num))
        if corr == "pearson":
            x = num.to_numpy()
            R = _pairwise_pearson(x)
        else:
            from instrval.stats.correlation import correlation_matrix

            cr = correlation_matrix(num, method=corr, missing=missing)
            R = cr.matrix.loc[list(num.columns), list(num.columns)].to_numpy(dtype=float)
            n = float(cr.n)
            smoothed = bool(cr.smoothed)
        sd = num.std(skipna=True).to_numpy()
        bad = [items[i] for i in range(len(items)) if not (sd[i] > 0)]
        if bad:
            raise StatisticsError(
                "items with no variance (or no data) cannot be factor analysed: "
                + ", ".join(bad))
    if np.isnan(R).any():
        i, j = np.argwhere(np.isnan(R))[0]
        raise StatisticsError(
            f"the correlation of {items[i]} and {items[j]} cannot be computed "
            "(no pairwise complete observations); drop one of these items")
    R = (R + R.T) / 2.0
    np.fill_diagonal(R, 1.0)
    return _Prepared(R, items, n, corr, smoothed)


# ------------------------------------------------------------- extraction
def _minres_loadings(psi: np.ndarray, S: np.ndarray, k: int) -> np.ndarray:
    """psych's ``FAout.wls``: eigen-decomposition of ``S - diag(psi)``."""
    Sr = S.copy()
    Sr[np.diag_indices_from(Sr)] -= psi
    ev, vec = _eigh_desc(Sr)
    return vec[:, :k] * np.sqrt(np.maximum(ev[:k], 0.0))[None, :]


def _minres_obj(psi: np.ndarray, S: np.ndarray, k: int, tri: tuple[np.ndarray, np.ndarray]
                ) -> tuple[float, np.ndarray]:
    """``fit.residuals`` (sum of squared lower-triangle residuals) and ``FAgr.minres``."""
    Sr = S.copy()
    Sr[np.diag_indices_from(Sr)] = 1.0 - psi
    ev, vec = _eigh_desc(Sr)
    evf = np.where(ev < np.finfo(float).eps, 100 * np.finfo(float).eps, ev)
    Lf = vec[:, :k] * np.sqrt(evf[:k])[None, :]
    resid = (Sr - Lf @ Lf.T)[tri]
    f = float((resid**2).sum())
    Lg = vec[:, :k] * np.sqrt(np.maximum(ev[:k], 0.0))[None, :]
    g = (Lg**2).sum(axis=1) + psi - np.diag(S)
    return f, g


def _ml_obj(psi: np.ndarray, S: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """psych's ``FAfn`` and ``FAgr`` (ML discrepancy over the uniquenesses)."""
    sc = 1.0 / np.sqrt(psi)
    Ss = S * sc[:, None] * sc[None, :]
    ev, vec = _eigh_desc(Ss)
    e = ev[k:]
    f = -(float(np.sum(np.log(e) - e)) - k + S.shape[0])
    load = vec[:, :k] * np.sqrt(np.maximum(ev[:k] - 1.0, 0.0))[None, :]
    load = load * np.sqrt(psi)[:, None]
    g = ((load**2).sum(axis=1) + psi - np.diag(S)) / psi**2
    return f, g


def _ml_loadings(psi: np.ndarray, S: np.ndarray, k: int) -> np.ndarray:
    """psych's ``FAout``."""
    sc = 1.0 / np.sqrt(psi)
    ev, vec = _eigh_desc(S * sc[:, None] * sc[None, :])
    load = vec[:, :k] * np.sqrt(np.maximum(ev[:k] - 1.0, 0.0))[None, :]
    return load * np.sqrt(psi)[:, None]


def _lbfgsb(fun, start: np.ndarray, upper: float, max_iter: int) -> tuple[np.ndarray, bool, int]:
    """L-BFGS-B on ``psi / .01`` (R's ``parscale = .01``), bounds ``[.005, upper]``."""
    scale = 0.01

    def wrapped(z: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = fun(z * scale)
        return f, g * scale

    from scipy import optimize

    bounds = [(_LOWER / scale, upper / scale)] * len(start)
    res = optimize.minimize(wrapped, start / scale, jac=True, method="L-BFGS-B",
                            bounds=bounds,
                            options={"maxiter": max_iter, "ftol": 1e-14, "gtol": 1e-10,
                                     "maxcor": 10})
    psi = np.clip(res.x * scale, _LOWER, upper)
    # status 1: iteration limit; 2 (abnormal line search) happens at the optimum with
    # tolerances this tight and is not a failure
    return psi, res.status != 1, int(res.nit)


def _extract(R: np.ndarray, k: int, method: str, max_iter: int, min_err: float
             ) -> tuple[np.ndarray, bool, int, np.ndarray | None]:
    """Unrotated loadings, converged, iterations and (pa only) psych's ``values``: the
    eigenvalues of the reduced matrix at the start of the last iteration."""
    p = R.shape[0]
    s = smc(R)
    if method in ("minres", "ml"):
        upper = max(float(s.max()), 1.0)
        start = np.diag(R) - s
        if method == "minres":
            tri = np.tril_indices(p, -1)
            psi, conv, nit = _lbfgsb(lambda x: _minres_obj(x, R, k, tri), start, upper, max_iter)
            L = _minres_loadings(psi, R, k)
        else:
            psi, conv, nit = _lbfgsb(lambda x: _ml_obj(x, R, k), start, upper, max_iter)
            L = _ml_loadings(psi, R, k)
        return L, conv, nit, None
    # principal axes, psych's loop
    Rm = R.copy()
    Rm[np.diag_indices_from(Rm)] = s
    comm = float(s.sum())
    err = comm
    i = 1
    converged = True
    L = np.zeros((p, k))
    ev = np.zeros(p)
    while err > min_err:
        ev, vec = _eigh_desc(Rm)
        with np.errstate(invalid="ignore"):
            L = vec[:, :k] * np.sqrt(ev[:k])[None, :]
        if np.isnan(L).any():
            raise StatisticsError(
                "principal axis factoring met a negative eigenvalue of the reduced "
                "correlation matrix; use method='minres' or fewer factors")
        new = (L**2).sum(axis=1)
        comm1 = float(new.sum())
        Rm[np.diag_indices_from(Rm)] = new
        err = abs(comm - comm1)
        comm = comm1
        i += 1
        if i > max_iter and err > min_err:
            converged = False
            break
        if i > max_iter:
            break
    return L, converged, i - 1, ev


# ------------------------------------------------------------------ fit
@dataclass(frozen=True, repr=False)
class EFAFit(Result):
    """Fit statistics of a factor solution, as ``psych::fa`` reports them.

    ``chi2`` is psych's ``STATISTIC`` (the likelihood-ratio chi-square from the ML
    objective, whatever the extraction method), ``rmsea`` is ``fa()$RMSEA[1]``.
    """

    objective: float
    chi2: float
    df: float
    pvalue: float
    rmsea: float
    tli: float
    bic: float
    n_obs: float
    null_chi2: float
    null_df: float

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(dict(self.__dict__))


def fit_statistics(R: np.ndarray, loadings: np.ndarray, phi: np.ndarray | None,
                   n_obs: float) -> EFAFit:
    """psych's ``factor.stats`` fit part (objective, chi2, df, p, RMSEA, TLI, BIC).

    ``R`` and the model matrix ``L Phi L'`` (diagonal set to 1) are smoothed with
    :func:`cor_smooth` as psych does (``smooth=TRUE``); ``n_obs`` may be NaN (then every
    statistic but the objective is NaN).
    """
    p, k = loadings.shape
    model = loadings @ (np.eye(k) if phi is None else phi) @ loadings.T
    np.fill_diagonal(model, np.diag(R))
    model, _ = cor_smooth(model, warn=False)
    Rs, _ = cor_smooth(R, warn=False)
    dof = p * (p - 1) / 2 - p * k + k * (k - 1) / 2
    try:
        mir = np.linalg.solve(model, Rs)
    except np.linalg.LinAlgError:
        mir = np.eye(p)
    sign, logdet = np.linalg.slogdet(mir)
    objective = float(np.trace(mir) - logdet - p) if sign > 0 else float("inf")
    if not np.isfinite(objective):
        objective = float(((R - model) ** 2).sum())
    s0, ld0 = np.linalg.slogdet(Rs)
    F0 = float(np.trace(Rs) - ld0 - p)
    nan = float("nan")
    chi2 = pvalue = rmsea = tli = bic = null_chi2 = nan
    if not np.isnan(n_obs):
        nm = (n_obs - 1) - (2 * p + 5) / 6 - (2 * k) / 3
        chi2 = max(objective * nm, 0.0)
        pvalue = float(_chi2_sf(dof, chi2)) if dof > 0 else nan
        null_chi2 = F0 * ((n_obs - 1) - (2 * p + 5) / 6)
        Mm = objective / dof if dof != 0 else nan
        M0 = F0 * 2 / (p * (p - 1))
        tli = (M0 - Mm) / (M0 - 1 / nm)
        if dof > 0:
            rmsea = float(np.sqrt(max(chi2 / (dof * n_obs) - 1 / (n_obs - 1), 0.0)))
            bic = chi2 - dof * np.log(n_obs)
    return EFAFit(objective=objective, chi2=float(chi2), df=float(dof), pvalue=float(pvalue),
                  rmsea=float(rmsea), tli=float(tli), bic=float(bic), n_obs=float(n_obs),
                  null_chi2=float(null_chi2), null_df=p * (p - 1) / 2)


# ----------------------------------------------------------------- result
@dataclass(frozen=True, repr=False)
class EFAResult(Result):
    """An exploratory factor solution (see :func:`efa`).

    Attributes
    ----------
    loadings : DataFrame
        ``item_id`` then one column per factor (``MR1``.., ``ML1``.., ``PA1``..), the
        rotated pattern loadings, factors in psych's order.
    structure : DataFrame
        Structure loadings ``L Phi`` (equal to the pattern for orthogonal rotations).
    communalities, uniquenesses : Series
        ``h2 = diag(L Phi L')`` of the unrotated solution and ``1 - h2``, indexed by item.
    phi : DataFrame
        Factor correlations (identity for ``none``/``varimax``).
    eigenvalues : DataFrame
        ``component`` (1..p), ``eigenvalue`` (of the correlation matrix; psych's
        ``e.values``) and ``common_factor`` (of the reduced matrix with the model's
        communalities on the diagonal; psych's ``values``).
    variance : DataFrame
        psych's ``Vaccounted`` one row per factor: ``ss_loadings``, ``proportion_var``,
        ``cumulative_var``, ``proportion_explained``, ``cumulative_proportion``.
    fit : EFAFit
    correlation : DataFrame
        The correlation matrix analysed.
    converged : bool
        False when extraction or rotation hit its iteration limit.
    heywood : tuple of str
        Items whose communality is at or above ``1 - .005`` (the uniqueness bound).
    warnings : tuple of str
        The messages of the warnings issued.
    """

    loadings: pd.DataFrame
    structure: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    phi: pd.DataFrame
    eigenvalues: pd.DataFrame
    variance: pd.DataFrame
    fit: EFAFit
    correlation: pd.DataFrame
    n_factors: int
    method: str
    rotation: str
    corr: str
    n_obs: float
    converged: bool
    iterations: int
    heywood: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def factors(self) -> list[str]:
        """Factor names in order."""
        return [c for c in self.loadings.columns if c != "item_id"]

    @property
    def loading_matrix(self) -> np.ndarray:
        """The pattern loadings as an items x factors array."""
        return self.loadings[self.factors].to_numpy(dtype=float)

    def dominant_groups(self, groups: Mapping[str, str]) -> dict[str, str]:
        """For each factor, the group (e.g. construct) of items that loads most on it.

        ``groups`` maps item ids to groups; a factor's group is the one with the largest
        sum of absolute pattern loadings of its items (items not in ``groups`` and missing
        loadings count for nothing). Factors whose items are in no group are left out.

        >>> import pandas as pd
        >>> lo = pd.DataFrame({"item_id": ["a", "b", "c"], "MR1": [0.7, 0.6, 0.1],
        ...                    "MR2": [0.1, -0.2, -0.8]})
        >>> res = EFAResult.__new__(EFAResult)
        >>> object.__setattr__(res, "loadings", lo)
        >>> res.dominant_groups({"a": "x", "b": "x", "c": "y"})
        {'MR1': 'x', 'MR2': 'y'}
        """
        out: dict[str, str] = {}
        items = [str(i) for i in self.loadings["item_id"]]
        for f in self.factors:
            by: dict[str, float] = {}
            for item, v in zip(items, self.loadings[f].to_numpy(dtype=float), strict=True):
                if item in groups:
                    g = groups[item]
                    by[g] = by.get(g, 0.0) + (0.0 if np.isnan(v) else abs(float(v)))
            if by:
                out[f] = max(by, key=lambda k: by[k])
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per item: ``item_id``, loadings, ``communality``, ``uniqueness``."""
        df = self.loadings.copy()
        df["communality"] = self.communalities.to_numpy()
        df["uniqueness"] = self.uniquenesses.to_numpy()
        return df

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``instrval efa --json`` output)."""
        L = self.loading_matrix
        items = list(self.loadings["item_id"])
        return {
            "method": self.method,
            "rotation": self.rotation,
            "corr": self.corr,
            "n_factors": self.n_factors,
            "n_obs": jsonable_scalar(self.n_obs),
            "factors": self.factors,
            "loadings": dict(zip(items, to_jsonable(L), strict=True)),
            "structure": dict(zip(items, to_jsonable(self.structure[self.factors].to_numpy()),
                                  strict=True)),
            "communalities": to_jsonable(self.communalities),
            "uniquenesses": to_jsonable(self.uniquenesses),
            "phi": to_jsonable(self.phi.to_numpy()),
            "eigenvalues": to_jsonable(self.eigenvalues["eigenvalue"].to_numpy()),
            "common_factor_eigenvalues": to_jsonable(
                self.eigenvalues["common_factor"].to_numpy()),
            "variance": to_jsonable(self.variance),
            "fit": self.fit.to_dict(),
            "converged": self.converged,
            "heywood": list(self.heywood),
            "warnings": list(self.warnings),
        }


@single_threaded_blas
def efa(data_or_corr: pd.DataFrame | np.ndarray, *, n_factors: int, method: str = "minres",
        rotation: str = "oblimin", corr: str = "pearson", missing: str = "pairwise",
        n_obs: float | None = None, max_iter: int | None = None,
        min_err: float = 0.001) -> EFAResult:
    """Exploratory factor analysis, as ``psych::fa``.

    Parameters
    ----------
    data_or_corr : DataFrame or ndarray
        Item responses (rows = respondents, columns = items; NaN = missing) or a
        correlation matrix (square, symmetric, unit diagonal; give ``n_obs``).
    n_factors : int
        Number of factors, ``1 <= k`` and ``df >= 0`` is not required (psych allows it).
    method : {"minres", "ml", "pa"}
        Extraction: minimum residual (unweighted least squares on the off-diagonal),
        maximum likelihood, or iterated principal axes.
    rotation : {"oblimin", "none", "varimax", "promax", "quartimin", "geomin"}
        ``oblimin``/``quartimin``/``geomin`` are oblique GPA rotations (GPArotation);
        ``promax`` is psych's Kaiser-normalised Promax (m = 4); ``varimax`` is
        ``stats::varimax``.
    corr : {"pearson", "polychoric", "tetrachoric"}
        Correlations computed from item data.
    missing : {"pairwise", "listwise"}
        Pairwise (psych's default; ``n`` = all rows) or complete cases.
    n_obs : float, optional
        Sample size when a correlation matrix is given (needed for the fit statistics).
    max_iter : int, optional
        Iteration limit of the extraction: L-BFGS-B iterations for minres/ml (default
        1000), principal-axis iterations for pa (default 50, psych's ``max.iter``).
    min_err : float
        pa's convergence criterion on the change of the summed communality (psych's
        ``min.err = .001``; a smaller value gives the converged solution).

    Returns
    -------
    EFAResult

    Warns
    -----
    HeywoodWarning
        When a communality reaches ``.995`` (the uniqueness bound) or exceeds 1; the items
        are listed in ``result.heywood``.
    ConvergenceWarning
        When extraction or rotation stops at its iteration limit (``result.converged``).

    Notes
    -----
    R equivalent: ``psych::fa(x, nfactors=k, fm=method, rotate=rotation)`` (``geomin`` is
    ``rotate="geominQ"``). psych keeps the pre-sort factor labels (``MR2 MR1 MR3 ...``);
    instrval numbers the factors in their sorted order (``MR1 MR2 ...``). minres and ml
    are fitted with a tighter L-BFGS-B tolerance than R's ``optim`` default; estimates agree
    with psych to about 1e-5.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from instrval.stats.efa import efa
    >>> R = pd.DataFrame(np.array([[1, .5, .4, .3], [.5, 1, .35, .3],
    ...                            [.4, .35, 1, .25], [.3, .3, .25, 1]]),
    ...                  index=list("abcd"), columns=list("abcd"))
    >>> res = efa(R, n_factors=1, n_obs=200)
    >>> round(float(res.loadings.loc[0, "MR1"]), 3)
    0.73
    """
    if method not in METHODS:
        raise StatisticsError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if rotation == "geominQ":
        rotation = "geomin"
    if rotation not in ROTATIONS:
        raise StatisticsError(
            f"unknown rotation {rotation!r}; choose one of {', '.join(ROTATIONS)}")
    if isinstance(n_factors, bool) or not isinstance(n_factors, (int, np.integer)) \
            or n_factors < 1:
        raise StatisticsError(f"n_factors must be a positive integer, got {n_factors!r}")
    prep = prepare_correlation(data_or_corr, corr=corr, missing=missing, n_obs=n_obs)
    R, items = prep.R, prep.items
    p = R.shape[0]
    k = int(n_factors)
    if k >= p:
        raise StatisticsError(
            f"n_factors={k} is too many for {p} items; use at most {p - 1}")
    if max_iter is None:
        max_iter = 50 if method == "pa" else 1000
    if max_iter < 1:
        raise StatisticsError(f"max_iter must be at least 1, got {max_iter}")
    messages: list[str] = []

    def warn(msg: str, cls: type[Warning]) -> None:
        messages.append(msg)
        warnings.warn(msg, cls, stacklevel=3)

    if prep.smoothed:
        # correlation_matrix() has warned once already: record it, do not warn twice
        messages.append("the correlation matrix was not positive definite and was smoothed")
    else:
        _, smoothed = cor_smooth(R, warn=False)
        if smoothed:
            warn("the correlation matrix is not positive definite; fit statistics use a "
                 "smoothed matrix (psych::cor.smooth)", SmoothingWarning)

    L0, conv, nit, pa_values = _extract(R, k, method, max_iter, min_err)
    if not conv:
        warn(f"{method} extraction did not converge in {max_iter} iterations",
             ConvergenceWarning)
    # psych: signs so that columns sum positive (before rotation)
    sgn = np.sign(L0.sum(axis=0))
    sgn[sgn == 0] = 1
    L0 = L0 * sgn[None, :]
    L0[L0 == 0] = 1e-15
    model = L0 @ L0.T
    h2 = np.diag(model).copy()
    e_values = _eigh_desc(R)[0]
    Sred = R.copy()
    np.fill_diagonal(Sred, h2)
    values = _eigh_desc(Sred)[0] if pa_values is None else pa_values

    rot = rotate(L0, rotation)
    if not rot.converged:
        conv = False
        warn(f"{rotation} rotation did not converge", ConvergenceWarning)
    L = rot.loadings
    oblique = rotation not in ORTHOGONAL and k > 1
    Phi = rot.phi if oblique else np.eye(k)
    sgn = np.sign(L.sum(axis=0))
    sgn[sgn == 0] = 1
    L = L * sgn[None, :]
    Phi = Phi * sgn[:, None] * sgn[None, :]
    if k > 1:
        ev_rot = np.diag(Phi @ L.T @ L)
        order = np.argsort(-ev_rot, kind="stable")
        L = L[:, order]
        Phi = Phi[np.ix_(order, order)]

    fit = fit_statistics(R, L, Phi if oblique else None, prep.n_obs)

    heywood = tuple(items[i] for i in np.flatnonzero(h2 >= HEYWOOD_LIMIT - 1e-9))
    if heywood:
        worst = float(h2.max())
        warn("Heywood case: communality at or above the bound .995 (uniqueness near zero) "
             f"for {', '.join(heywood)} (max {worst:.4f}); the solution is improper",
             HeywoodWarning)

    names = [f"{_PREFIX[method]}{j + 1}" for j in range(k)]
    loadings = pd.DataFrame(L, columns=names)
    loadings.insert(0, "item_id", list(items))
    structure = pd.DataFrame(L @ Phi, columns=names)
    structure.insert(0, "item_id", list(items))
    idx = pd.Index(list(items), name="item_id")
    communalities = pd.Series(h2, index=idx, name="communality")
    uniquenesses = pd.Series(np.diag(R) - h2, index=idx, name="uniqueness")
    phi_df = pd.DataFrame(Phi, index=names, columns=names)
    eig = pd.DataFrame({"component": np.arange(1, p + 1), "eigenvalue": e_values,
                        "common_factor": values})
    vx = np.diag(Phi @ L.T @ L)
    vtotal = float(p)  # sum(communality + uniqueness) for a correlation matrix
    variance = pd.DataFrame({
        "factor": names,
        "ss_loadings": vx,
        "proportion_var": vx / vtotal,
        "cumulative_var": np.cumsum(vx / vtotal),
        "proportion_explained": vx / vx.sum(),
        "cumulative_proportion": np.cumsum(vx / vx.sum()),
    })
    corr_df = pd.DataFrame(R, index=list(items), columns=list(items))
    return EFAResult(
        loadings=loadings, structure=structure, communalities=communalities,
        uniquenesses=uniquenesses, phi=phi_df, eigenvalues=eig, variance=variance, fit=fit,
        correlation=corr_df, n_factors=k, method=method, rotation=rotation, corr=prep.corr,
        n_obs=prep.n_obs, converged=bool(conv), iterations=nit, heywood=heywood,
        warnings=tuple(messages))
