"""Correlation matrices of items: Pearson, polychoric and tetrachoric, as R psych computes them.

:func:`correlation_matrix` is the one entry point the factor-analysis code uses; it returns a
:class:`CorrelationResult` holding the matrix, the sample sizes and (for the ordinal methods)
the thresholds.  :func:`cor_smooth` is ``psych::cor.smooth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from instrval._choices import check_choice
from instrval._jsonable import to_jsonable
from instrval._limits import limits
from instrval._result import Result
from instrval.errors import Problem, StatisticsError
from instrval.stats._common import item_array
from instrval.stats.polychoric import (
    _listwise,
    cor_smooth,
    polychoric,
    tetrachoric,
)

__all__ = ["CorrelationResult", "correlation_matrix", "cor_smooth"]

METHODS = ("pearson", "polychoric", "tetrachoric")
MISSING = ("pairwise", "listwise")


@dataclass(frozen=True, repr=False)
class CorrelationResult(Result):
    """A correlation matrix and how it was computed.

    Attributes
    ----------
    matrix : DataFrame
        The correlations, items as index and columns.
    n : int
        psych's ``n.obs``: for ``missing="pairwise"`` the number of rows given, incomplete rows
        included (``nrow(x)``); for ``"listwise"`` the number of complete rows.
    n_pairwise : DataFrame
        Rows complete on both items of each pair (``psych::pairwiseCount``).
    method : str
        ``"pearson"``, ``"polychoric"`` or ``"tetrachoric"``.
    missing : str
        ``"pairwise"`` or ``"listwise"``.
    smoothed : bool
        Whether the matrix was not positive definite and was smoothed by :func:`cor_smooth`.
    thresholds : DataFrame or None
        For polychoric/tetrachoric: ``item_id`` and ``tau_1`` ... ``tau_{K-1}``; None for Pearson.
    """

    matrix: pd.DataFrame
    n: int
    n_pairwise: pd.DataFrame
    method: str
    missing: str
    smoothed: bool
    thresholds: pd.DataFrame | None

    def to_frame(self) -> pd.DataFrame:
        """The matrix as a tidy table: ``item_id`` then one column per item."""
        df = self.matrix.copy()
        df.insert(0, "item_id", [str(i) for i in df.index])
        return df.reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``method``, ``missing``, ``n``, ``smoothed``, ``matrix`` (records),
        ``n_pairwise`` (records) and ``thresholds`` (records or None)."""
        npw = self.n_pairwise.copy()
        npw.insert(0, "item_id", [str(i) for i in npw.index])
        return {
            "method": self.method,
            "missing": self.missing,
            "n": int(self.n),
            "smoothed": bool(self.smoothed),
            "matrix": to_jsonable(self.to_frame()),
            "n_pairwise": to_jsonable(npw.reset_index(drop=True)),
            "thresholds": None if self.thresholds is None else to_jsonable(self.thresholds),
        }


def _pearson_pairwise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``cor(x, use = "pairwise")``: each pair's means and SDs from its complete rows."""
    ok = ~np.isnan(x)
    m = ok.astype(float)
    # shift each column by its mean first (the correlation is shift-invariant): fewer digits lost
    z = np.where(ok, x - np.nanmean(x, axis=0), 0.0)
    npair = m.T @ m
    sx = z.T @ m  # sum of x_i over rows where j is present
    sxx = (z * z).T @ m
    sxy = z.T @ z
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sxy - sx * sx.T / npair
        vi = sxx - sx * sx / npair
        r = cov / np.sqrt(vi * vi.T)
    r[npair < 2] = np.nan
    r = (r + r.T) / 2.0
    np.fill_diagonal(r, 1.0)
    return r, npair


def correlation_matrix(data: pd.DataFrame, *, method: str = "pearson",
                       missing: str = "pairwise", smooth: bool = True) -> CorrelationResult:
    r"""Correlations between items, as R psych computes them.

    * ``"pearson"``: :math:`r_{ij} = \mathrm{cov}(x_i, x_j) / (s_i s_j)`, each pair's means
      and SDs taken over the rows complete on both items (R ``cor(x, use="pairwise")``).
    * ``"polychoric"``: :func:`instrval.stats.polychoric.polychoric` (``psych::polychoric``).
    * ``"tetrachoric"``: :func:`instrval.stats.polychoric.tetrachoric` (``psych::tetrachoric``).

    When ``smooth`` and the matrix is not positive definite (its smallest eigenvalue is below
    machine epsilon), it is smoothed with :func:`cor_smooth` (psych's ``cor.smooth``, which
    ``fa`` and ``polychoric`` apply by default) and a
    :class:`~instrval.errors.SmoothingWarning` is issued.  A matrix with missing correlations
    (a pair without complete rows) is never smoothed.

    Parameters
    ----------
    data : DataFrame
        One numeric column per item; NaN / ``<NA>`` for missing answers.
    method : {"pearson", "polychoric", "tetrachoric"}
    missing : {"pairwise", "listwise"}
        ``"pairwise"`` (psych's default): each correlation uses the rows complete on both
        items, and ``n`` is the number of rows given.  ``"listwise"``: rows with any missing
        answer are dropped first, and ``n`` is the number of complete rows.
    smooth : bool
        Smooth a non-positive-definite matrix (default True, as psych).

    Returns
    -------
    CorrelationResult

    Notes
    -----
    R equivalents: ``cor(x, use="pairwise")`` (then ``psych::cor.smooth``),
    ``cor(na.omit(x))``, ``psych::polychoric(x)``, ``psych::tetrachoric(x)``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 1, 4, 3]})
    >>> float(correlation_matrix(df).matrix.loc["a", "b"])
    0.6
    """
    check_choice("method", method, METHODS)
    check_choice("missing", missing, MISSING)
    _check_memory(data)
    if method == "polychoric":
        res = polychoric(data, missing=missing, smooth=smooth)
    elif method == "tetrachoric":
        res = tetrachoric(data, missing=missing, smooth=smooth)
    else:
        return _pearson(data, missing=missing, smooth=smooth)
    return CorrelationResult(matrix=res.matrix, n=res.n, n_pairwise=res.n_pairwise,
                             method=method, missing=missing, smoothed=res.smoothed,
                             thresholds=res.thresholds)


#: Bytes of working memory per cell of the p x p matrix (the matrix, pairwise counts and
#: the temporaries of the pairwise sums and of smoothing).
_BYTES_PER_MATRIX_CELL = 64


def _check_memory(data: pd.DataFrame) -> None:
    """Refuse, before allocating anything, a matrix that would not fit the memory limit
    (``INSTRVAL_MAX_MEMORY_BYTES``, default 8 GiB): 20,000 columns need about 26 GB."""
    n, p = data.shape
    need = p * p * _BYTES_PER_MATRIX_CELL + n * p * 8 * 4
    cap = limits().max_memory_bytes
    if need > cap:
        raise StatisticsError(
            f"a correlation matrix of {p:,} columns would need about {need / 2**30:.1f} GiB "
            f"of memory (more than the limit of {cap / 2**30:.1f} GiB); choose the item "
            "columns with --items / a column subset, or raise INSTRVAL_MAX_MEMORY_BYTES",
            [Problem("too_large", f"{p} columns need about {need / 2**30:.1f} GiB",
                     value=p)])


def _pearson(data: pd.DataFrame, *, missing: str, smooth: bool) -> CorrelationResult:
    x = item_array(data, "correlation_matrix")
    items = [str(c) for c in data.columns]
    x = _listwise(x, missing)
    huge = [items[i] for i in range(len(items))
            if not (np.abs(x[:, i][~np.isnan(x[:, i])]) < 1e150).all()]
    if huge:
        raise StatisticsError("items with infinite or too large values (beyond 1e150) have no "
                              "computable correlations: " + ", ".join(huge))
    r, npair = _pearson_pairwise(x)
    sd_bad = [items[i] for i in range(len(items)) if not np.nanstd(x[:, i]) > 0]
    if sd_bad:
        raise StatisticsError("items without variance have no correlations: " + ", ".join(sd_bad))
    mat = pd.DataFrame(r, index=items, columns=items)
    smoothed = False
    if smooth and np.isfinite(r).all():
        mat, smoothed = cor_smooth(mat)
    return CorrelationResult(
        matrix=mat, n=int(x.shape[0]),
        n_pairwise=pd.DataFrame(npair.astype(int), index=items, columns=items),
        method="pearson", missing=missing, smoothed=smoothed, thresholds=None)

