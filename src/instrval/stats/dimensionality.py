"""How many factors? KMO, Bartlett's test, eigenvalues, parallel analysis and Velicer's MAP.

Each function reproduces its R psych (2.2.9) counterpart; correlations of item data are
pairwise-complete Pearson correlations by default, as in psych, so the functions work on
data with missing values (``n`` = all rows, as psych).

References
----------
Kaiser, H. F. (1970). A second generation little jiffy. Psychometrika, 35, 401-415.
Bartlett, M. S. (1951). The effect of standardization on a chi square approximation in
factor analysis. Biometrika, 38, 337-344.
Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
Psychometrika, 30, 179-185.
Velicer, W. F. (1976). Determining the number of components from the matrix of partial
correlations. Psychometrika, 41, 321-327.
Revelle, W. (2022). psych (``KMO``, ``cortest.bartlett``, ``fa.parallel``, ``VSS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from instrval._choices import check_choice, renamed_keyword
from instrval._jsonable import jsonable_scalar, to_jsonable
from instrval._result import Result
from instrval.errors import StatisticsError
from instrval.stats._dist import chi2_sf
from instrval.stats._threads import single_threaded_blas
from instrval.stats.efa import _eigh_desc, _extract, prepare_correlation

__all__ = [
    "KMOResult",
    "BartlettResult",
    "ParallelResult",
    "MAPResult",
    "kmo",
    "bartlett",
    "eigenvalues",
    "parallel_analysis",
    "velicer_map",
]

_FA_METHODS = ("minres", "ml", "pa")


# ---------------------------------------------------------------------- KMO
@dataclass(frozen=True, repr=False)
class KMOResult(Result):
    """Kaiser-Meyer-Olkin measure of sampling adequacy.

    ``msa`` is the overall value, ``items`` a table with ``item_id`` and ``msa``.
    """

    msa: float
    items: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.items.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"msa": jsonable_scalar(self.msa),
                "items": {r.item_id: jsonable_scalar(r.msa) for r in self.items.itertuples()}}


def kmo(data: pd.DataFrame | np.ndarray, *, missing: str = "pairwise") -> KMOResult:
    """KMO measure of sampling adequacy, as ``psych::KMO(x)``.

    With ``Q`` the anti-image correlations (``R^-1`` scaled to unit diagonal) and ``r`` the
    correlations, off-diagonal only:
    ``MSA = sum r^2 / (sum r^2 + sum q^2)``; ``MSA_i = sum_j r_ij^2 / (sum_j r_ij^2 +
    sum_j q_ij^2)``. Values above .8 are "meritorious", below .5 "unacceptable" (Kaiser,
    1974).

    Parameters
    ----------
    data : DataFrame or ndarray
        Item data (NaN allowed: pairwise correlations) or a correlation matrix.
    missing : {"pairwise", "listwise"}

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> R = pd.DataFrame([[1, .5, .4], [.5, 1, .3], [.4, .3, 1]], columns=list("abc"),
    ...                  index=list("abc"))
    >>> round(kmo(R).msa, 4)
    0.6279
    """
    prep = prepare_correlation(data, missing=missing)
    R = prep.R
    try:
        Q = np.linalg.inv(R)
    except np.linalg.LinAlgError:
        Q = R.copy()  # psych: "matrix is not invertible, image not found"
    d = 1.0 / np.sqrt(np.diag(Q))
    Q = Q * d[:, None] * d[None, :]
    np.fill_diagonal(Q, 0.0)
    r = R.copy()
    np.fill_diagonal(r, 0.0)
    r2 = r**2
    q2 = Q**2
    msa = float(r2.sum() / (r2.sum() + q2.sum()))
    msai = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return KMOResult(msa, pd.DataFrame({"item_id": list(prep.items), "msa": msai}))


# ----------------------------------------------------------------- Bartlett
@dataclass(frozen=True, repr=False)
class BartlettResult(Result):
    """Bartlett's test that the correlation matrix is an identity matrix."""

    chi2: float
    df: float
    pvalue: float
    n: float

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(dict(self.__dict__))


def bartlett(data_or_corr: pd.DataFrame | np.ndarray, *, n: float | None = None,
             missing: str = "pairwise") -> BartlettResult:
    """Bartlett's test of sphericity, as ``psych::cortest.bartlett(R, n)``.

    ``chi2 = -log det(R) (n - 1 - (2p + 5)/6)``, ``df = p(p - 1)/2``.

    Parameters
    ----------
    data_or_corr : DataFrame or ndarray
        Item data (``n`` = number of rows, pairwise correlations) or a correlation matrix.
    n : float, optional
        Sample size; required with a correlation matrix (psych silently uses 100 instead,
        instrval refuses to guess).
    """
    prep = prepare_correlation(data_or_corr, missing=missing,
                               n_obs=n if _square(data_or_corr) else None)
    nn = prep.n_obs
    if np.isnan(nn):
        raise StatisticsError("bartlett needs n (the sample size) with a correlation matrix")
    p = prep.R.shape[0]
    sign, logdet = np.linalg.slogdet(prep.R)
    chi2 = float(-logdet * (nn - 1 - (2 * p + 5) / 6)) if sign > 0 else float("inf")
    df = p * (p - 1) / 2
    return BartlettResult(chi2, float(df), float(chi2_sf(chi2, df)), float(nn))


def _square(x: Any) -> bool:
    df = x if isinstance(x, pd.DataFrame) else pd.DataFrame(np.asarray(x, dtype=float))
    from instrval.stats.efa import _is_correlation

    return _is_correlation(df)


# --------------------------------------------------------------- eigenvalues
def eigenvalues(data_or_corr: pd.DataFrame | np.ndarray, *,
                missing: str = "pairwise") -> pd.DataFrame:
    """Eigenvalues of the correlation matrix (``eigen(cor(x, use="pairwise"))$values``).

    Returns a table ``component``, ``eigenvalue``, ``proportion``, ``cumulative``.
    """
    prep = prepare_correlation(data_or_corr, missing=missing,
                               n_obs=None)
    ev = _eigh_desc(prep.R)[0]
    p = len(ev)
    return pd.DataFrame({"component": np.arange(1, p + 1), "eigenvalue": ev,
                         "proportion": ev / p, "cumulative": np.cumsum(ev) / p})


# ---------------------------------------------------------- parallel analysis
def _fa_values(R: np.ndarray, fm: str) -> np.ndarray:
    """``fa(R, nfactors=1, rotate="none", fm=fm)$values``: eigenvalues of ``R`` with the
    one-factor communalities on the diagonal."""
    L, _, _, pa_values = _extract(R, 1, fm, 50 if fm == "pa" else 1000, 0.001)
    if pa_values is not None:
        return pa_values
    S = R.copy()
    np.fill_diagonal(S, (L**2).sum(axis=1))
    return _eigh_desc(S)[0]


@dataclass(frozen=True, repr=False)
class ParallelResult(Result):
    """Horn's parallel analysis (see :func:`parallel_analysis`).

    ``table`` has one row per factor: ``factor``, ``observed_fa``, ``simulated_fa``,
    ``observed_pc``, ``simulated_pc`` (the simulated columns are means over the
    iterations, as psych's ``fa.sim``/``pc.sim``), plus ``threshold_fa``/``threshold_pc``,
    the values the observed ones are compared with (means, or the quantile asked for).
    """

    table: pd.DataFrame
    nfact: int
    ncomp: int
    n_iter: int
    n_obs: int
    fm: str
    quantile: float | None
    seed: int | None

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"nfact": self.nfact, "ncomp": self.ncomp, "n_iter": self.n_iter,
                "n_obs": self.n_obs, "fm": self.fm, "quantile": self.quantile,
                "seed": self.seed,
                "table": to_jsonable(self.table)}


def _first_not_greater(obs: np.ndarray, ref: np.ndarray) -> int:
    """psych's ``which(!(obs > ref))[1] - 1`` (all greater: the number of values)."""
    bad = np.flatnonzero(~(obs > ref))
    return int(bad[0]) if bad.size else len(obs)


@single_threaded_blas
def parallel_analysis(data: pd.DataFrame | np.ndarray, *, n_iter: int = 20,
                      seed: int | None = None, method: str = "minres",
                      quantile: float | None = 0.95,
                      missing: str = "pairwise", fm: str | None = None) -> ParallelResult:
    """Parallel analysis as ``psych::fa.parallel(x)`` (simulated normal data).

    The observed eigenvalues (of the correlation matrix for components; of the matrix
    reduced by a one-factor ``fm`` solution for factors, psych's default ``SMC=FALSE``)
    are compared with those of ``n_iter`` correlation matrices of standard normal data of
    the same size (``n`` rows x ``p`` items). The suggested number of factors
    (components) is the number of leading observed eigenvalues greater than the simulated
    ones.

    Parameters
    ----------
    data : DataFrame
        Item data (NaN allowed; pairwise correlations).
    n_iter : int
        Number of simulated data sets (psych's ``n.iter = 20``).
    seed : int, optional
        Seed of numpy's random generator (R's and numpy's streams differ, so the simulated
        values match psych only in distribution).
    method : {"minres", "ml", "pa"}
        Extraction used for the factor eigenvalues (psych's ``fm``).
    quantile : float or None, default 0.95
        The observed eigenvalues are compared with this quantile of the simulated ones,
        as psych 2.2.9 does for ``nfact``/``ncomp`` (its ``quant = .95``). ``None``
        compares with the mean simulated eigenvalues (Horn's original rule). On bfi both
        rules give 6 factors and 6 components.

    Notes
    -----
    R equivalent: ``psych::fa.parallel(x, fm="minres", n.iter=20)`` (its simulated rows;
    instrval does not do psych's additional resampling of the observed data). Simulations
    are vectorised: all ``n_iter`` data sets are drawn at once and their correlation
    matrices computed with batched matrix products.
    """
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise StatisticsError(f"n_iter must be a positive integer, got {n_iter!r}")
    fm = check_choice("method", renamed_keyword("fm", "method", fm, method, "minres"),
                      _FA_METHODS)
    if quantile is not None and not (0 < quantile < 1):
        raise StatisticsError(f"quantile must be between 0 and 1, got {quantile!r}")
    if _square(data):
        raise StatisticsError("parallel_analysis needs item data, not a correlation matrix")
    prep = prepare_correlation(data, missing=missing)
    R = prep.R
    n = int(prep.n_obs)
    p = R.shape[0]
    pc_obs = _eigh_desc(R)[0]
    fa_obs = _fa_values(R, fm)
    rng = np.random.default_rng(seed)
    sim_pc = np.empty((n_iter, p))
    sim_fa = np.empty((n_iter, p))
    batch = max(1, min(n_iter, 4_000_000 // max(1, n * p)))
    done = 0
    while done < n_iter:
        b = min(batch, n_iter - done)
        X = rng.standard_normal((b, n, p))
        X -= X.mean(axis=1, keepdims=True)
        C = np.einsum("bni,bnj->bij", X, X, optimize=True)
        d = 1.0 / np.sqrt(np.einsum("bii->bi", C))
        C = C * d[:, :, None] * d[:, None, :]
        ev = np.linalg.eigvalsh(C)[:, ::-1]
        sim_pc[done:done + b] = ev
        for j in range(b):
            sim_fa[done + j] = _fa_values(C[j], fm)
        done += b
    mean_pc = sim_pc.mean(axis=0)
    mean_fa = sim_fa.mean(axis=0)
    if quantile is None:
        ref_pc, ref_fa = mean_pc, mean_fa
    else:
        ref_pc = np.quantile(sim_pc, quantile, axis=0)
        ref_fa = np.quantile(sim_fa, quantile, axis=0)
    table = pd.DataFrame({
        "factor": np.arange(1, p + 1),
        "observed_fa": fa_obs,
        "simulated_fa": mean_fa,
        "observed_pc": pc_obs,
        "simulated_pc": mean_pc,
        "threshold_fa": ref_fa,
        "threshold_pc": ref_pc,
    })
    return ParallelResult(table=table, nfact=_first_not_greater(fa_obs, ref_fa),
                          ncomp=_first_not_greater(pc_obs, ref_pc), n_iter=int(n_iter),
                          n_obs=n, fm=fm, quantile=quantile, seed=seed)


# ---------------------------------------------------------------------- MAP
@dataclass(frozen=True, repr=False)
class MAPResult(Result):
    """Velicer's minimum average partial: ``table`` (``n_factors``, ``map``) and the
    number of factors with the smallest value."""

    table: pd.DataFrame
    n_factors: int

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"n_factors": self.n_factors,
                "map": to_jsonable(self.table)}


@single_threaded_blas
def velicer_map(data: pd.DataFrame | np.ndarray, *, max_factors: int = 8,
                missing: str = "pairwise") -> MAPResult:
    """Velicer's MAP criterion as ``psych::VSS(x)$map`` (``n = 8``).

    For ``m = 1..max_factors`` (at most ``p - 1``): remove the first ``m`` principal
    components, ``C = R - A_m A_m'`` (``A = V sqrt(D)``), scale to partial correlations
    ``C* = D^-1/2 C D^-1/2`` and average the squared off-diagonal entries,
    ``MAP_m = sum_{i != j} c*_ij^2 / (p (p - 1))``. The suggested number of factors
    minimises it. (Like psych, ``m = 0`` is not included.)
    """
    prep = prepare_correlation(data, missing=missing)
    R = prep.R
    p = R.shape[0]
    if isinstance(max_factors, bool) or not isinstance(max_factors, (int, np.integer)) \
            or max_factors < 1:
        raise StatisticsError(f"max_factors must be a positive integer, got {max_factors!r}")
    n1 = min(int(max_factors), p - 1)
    ev, vec = _eigh_desc(R)
    comp = vec * np.sqrt(np.maximum(ev, 0.0))[None, :]
    vals = np.full(n1, np.nan)
    for i in range(1, n1 + 1):
        c = R - comp[:, :i] @ comp[:, :i].T
        d = 1.0 / np.sqrt(np.diag(c))
        rs = c * d[:, None] * d[None, :]
        np.fill_diagonal(rs, 0.0)
        vals[i - 1] = (rs**2).sum() / (p * (p - 1))
    table = pd.DataFrame({"n_factors": np.arange(1, n1 + 1), "map": vals})
    return MAPResult(table, int(np.nanargmin(vals)) + 1)
