"""Factor rotations as R computes them (stats::varimax, psych::Promax, GPArotation).

Every function takes an unrotated loading matrix ``A`` (items x factors, an ndarray) and
returns a :class:`Rotation`: the rotated pattern loadings, the factor correlations
``phi`` (identity for orthogonal rotations), the rotation matrix and convergence
information. The algorithms are written from their published descriptions and checked
against R (``tests/test_rotation.py``):

* ``varimax`` -- Kaiser (1958), row-normalised, the SVD iteration of ``stats::varimax``
  (``eps = 1e-5``, at most 1000 iterations).
* ``promax`` -- Hendrickson & White (1964) as ``psych::kaiser(L, "Promax")``: rows of ``A``
  are Kaiser-normalised, varimax-rotated, the target ``Q = L |L|^(m-1)`` (``m = 4``) is
  fitted by least squares, columns rescaled so that ``diag(solve(U'U))`` are unit, and the
  loadings are de-normalised.
* ``oblimin`` (gamma = 0, i.e. quartimin), ``quartimin``, ``geomin`` (``delta = .01``) --
  the gradient projection algorithm for oblique rotation of Jennrich (2002) and Bernaards
  & Jennrich (2005), as ``GPArotation::GPFoblq`` (``eps = 1e-5``, ``maxit = 1000``, no
  Kaiser normalisation, identity start).

References
----------
Kaiser, H. F. (1958). The varimax criterion for analytic rotation in factor analysis.
Psychometrika, 23, 187-200.
Hendrickson, A. E., & White, P. O. (1964). Promax: a quick method for rotation to oblique
simple structure. British Journal of Statistical Psychology, 17, 65-70.
Jennrich, R. I. (2002). A simple general method for oblique rotation. Psychometrika, 67, 7-19.
Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection algorithms and software for
arbitrary rotation criteria in factor analysis. Educational and Psychological Measurement,
65, 676-696.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from instrval._choices import check_choice
from instrval._result import Result

__all__ = [
    "ROTATIONS",
    "ORTHOGONAL",
    "Rotation",
    "rotate",
    "varimax",
    "promax",
    "oblimin",
    "quartimin",
    "geomin",
    "gpf_oblique",
]

#: Rotations :func:`rotate` knows.
ROTATIONS = ("none", "varimax", "promax", "oblimin", "quartimin", "geomin")
#: The orthogonal ones (phi is the identity).
ORTHOGONAL = ("none", "varimax")


@dataclass(frozen=True, repr=False)
class Rotation(Result):
    """A rotated solution.

    Attributes
    ----------
    loadings : ndarray
        Rotated pattern loadings (items x factors).
    phi : ndarray
        Factor correlations (the identity for orthogonal rotations).
    rotmat : ndarray
        The transformation: ``loadings = A @ rotmat`` (for GPA rotations
        ``rotmat = inv(T).T``; for varimax the orthogonal matrix).
    converged : bool
        False when the iteration limit was reached first.
    iterations : int
        Iterations used.
    method : str
        The rotation's name.
    """

    loadings: np.ndarray
    phi: np.ndarray
    rotmat: np.ndarray
    converged: bool
    iterations: int
    method: str


def varimax(A: np.ndarray, *, normalize: bool = True, eps: float = 1e-5,
            max_iter: int = 1000) -> Rotation:
    """Varimax rotation exactly as ``stats::varimax(A, normalize=TRUE, eps=1e-5)``.

    Maximises ``sum_j [ sum_i l_ij^4 / p - (sum_i l_ij^2 / p)^2 ]`` over orthogonal ``T`` by
    the SVD iteration ``B = A'(Z^3 - Z diag(1'Z^2)/p)``, ``T = U V'`` (``B = U D V'``),
    stopping when the criterion ``sum(D)`` grows by less than the relative amount ``eps``.
    With ``normalize`` the rows of ``A`` are first scaled to unit length (Kaiser
    normalisation) and scaled back afterwards.
    """
    A = np.asarray(A, dtype=float)
    p, k = A.shape
    if k < 2:
        return Rotation(A.copy(), np.eye(k), np.eye(k), True, 0, "varimax")
    x = A
    if normalize:
        sc = np.sqrt((A**2).sum(axis=1))
        x = A / sc[:, None]
    T = np.eye(k)
    d = 0.0
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        z = x @ T
        B = x.T @ (z**3 - z * ((z**2).sum(axis=0) / p))
        u, s, vt = np.linalg.svd(B)
        T = u @ vt
        dpast = d
        d = float(s.sum())
        if d < dpast * (1 + eps):
            converged = True
            break
    z = x @ T
    if normalize:
        z = z * sc[:, None]
    return Rotation(z, np.eye(k), T, converged, it, "varimax")


def promax(A: np.ndarray, *, m: float = 4.0) -> Rotation:
    """Promax as ``psych::kaiser(A, rotate="Promax")`` (the rotation ``psych::fa`` uses).

    ``h2 = rowSums(A^2)``; ``W = A / sqrt(h2)``; ``X = varimax(W)``; ``Q = X |X|^(m-1)``;
    ``U = (X'X)^-1 X'Q``; ``U <- U diag(sqrt(diag((U'U)^-1)))``; pattern ``X U sqrt(h2)``;
    ``Phi = U_t^-1 U_t^-T`` with ``U_t = T_varimax U``.
    """
    A = np.asarray(A, dtype=float)
    p, k = A.shape
    if k < 2:
        return Rotation(A.copy(), np.eye(k), np.eye(k), True, 0, "promax")
    h = np.sqrt((A**2).sum(axis=1))
    W = A / h[:, None]
    vm = varimax(W)
    x = vm.loadings
    Q = x * np.abs(x) ** (m - 1)
    U = np.linalg.lstsq(x, Q, rcond=None)[0]
    UtU = U.T @ U
    try:
        d = np.diag(np.linalg.inv(UtU))
    except np.linalg.LinAlgError:  # pragma: no cover - exactly uncorrelated factors
        ev, vec = np.linalg.eigh(UtU)
        ev = np.where(ev < np.finfo(float).eps, 100 * np.finfo(float).eps, ev)
        UU = (vec * ev) @ vec.T
        np.fill_diagonal(UU, 1.0)
        d = np.diag(np.linalg.inv(UU))
    U = U * np.sqrt(d)[None, :]
    z = x @ U
    U = vm.rotmat @ U
    ui = np.linalg.inv(U)
    phi = ui @ ui.T
    return Rotation(z * h[:, None], phi, U, vm.converged, vm.iterations, "promax")


# ----------------------------------------------------------------- GPA criteria
def _vgq_oblimin(L: np.ndarray, gamma: float = 0.0) -> tuple[float, np.ndarray]:
    """Oblimin criterion ``f = sum(L^2 * X)/4``, ``X = (I - gamma/p) L^2 (1 1' - I)``;
    gradient ``L * X``."""
    L2 = L**2
    X = L2.sum(axis=1, keepdims=True) - L2  # L^2 %*% (!diag(k))
    if gamma != 0:
        p = L.shape[0]
        X = X - (gamma / p) * X.sum(axis=0, keepdims=True)
    return float((L2 * X).sum() / 4.0), L * X


def _vgq_geomin(L: np.ndarray, delta: float = 0.01) -> tuple[float, np.ndarray]:
    """Geomin criterion ``f = sum_i prod_j (l_ij^2 + delta)^(1/k)``; gradient
    ``(2/k) L / (L^2 + delta) * pro_i``."""
    k = L.shape[1]
    L2 = L**2 + delta
    pro = np.exp(np.log(L2).sum(axis=1) / k)
    return float(pro.sum()), (2.0 / k) * (L / L2) * pro[:, None]


def gpf_oblique(A: np.ndarray, criterion: Callable[[np.ndarray], tuple[float, np.ndarray]],
                *, T: np.ndarray | None = None, eps: float = 1e-5, max_iter: int = 1000,
                method: str = "oblique") -> Rotation:
    """Gradient projection algorithm for oblique rotation (Bernaards & Jennrich, 2005).

    Minimises ``Q(L)`` with ``L = A T^-T`` over ``T`` with unit-length columns. The gradient
    ``G = -(L' dQ/dL T^-1)'`` is projected onto the tangent space,
    ``Gp = G - T diag(1'(T * G))``; a step ``X = T - a Gp`` is normalised column-wise and
    accepted when it improves ``Q`` by more than ``.5 s^2 a`` (``s = ||Gp||_F``), halving
    ``a`` up to 11 times; the step doubles at each outer iteration. Stops when ``s < eps``.
    This is ``GPArotation::GPFoblq`` step for step (same start, step rule and stop rule).

    Returns ``loadings = A T^-T``, ``phi = T'T`` and ``rotmat = T^-T``.
    """
    A = np.asarray(A, dtype=float)
    k = A.shape[1]
    Tm = np.eye(k) if T is None else np.asarray(T, dtype=float)
    al = 1.0
    Ti = np.linalg.inv(Tm)
    L = A @ Ti.T
    f, Gq = criterion(L)
    G = -(L.T @ Gq @ Ti).T
    converged = False
    it = 0
    s = np.inf
    for it in range(0, max_iter + 1):  # noqa: B007
        Gp = G - Tm * (Tm * G).sum(axis=0)[None, :]
        s = float(np.sqrt((Gp**2).sum()))
        if s < eps:
            converged = True
            break
        al *= 2.0
        for _ in range(11):
            X = Tm - al * Gp
            Tt = X / np.sqrt((X**2).sum(axis=0))[None, :]
            Tti = np.linalg.inv(Tt)
            L = A @ Tti.T
            ft, Gqt = criterion(L)
            if f - ft > 0.5 * s**2 * al:
                break
            al /= 2.0
        Tm, Ti = Tt, Tti
        f = ft
        G = -(L.T @ Gqt @ Ti).T
    return Rotation(L, Tm.T @ Tm, Ti.T, converged, it, method)


def oblimin(A: np.ndarray, *, gamma: float = 0.0, eps: float = 1e-5,
            max_iter: int = 1000) -> Rotation:
    """Direct oblimin as ``GPArotation::oblimin(A, gam=gamma)`` (no Kaiser normalisation).

    Criterion ``Q = 1/4 sum_ij l_ij^2 [ (I - gamma/p 11') L^2 (11' - I) ]_ij``; gamma = 0
    is quartimin.
    """
    if A.shape[1] < 2:
        return Rotation(np.asarray(A, float).copy(), np.eye(A.shape[1]), np.eye(A.shape[1]),
                        True, 0, "oblimin")
    return gpf_oblique(A, lambda L: _vgq_oblimin(L, gamma), eps=eps, max_iter=max_iter,
                       method="oblimin")


def quartimin(A: np.ndarray, *, eps: float = 1e-5, max_iter: int = 1000) -> Rotation:
    """Quartimin as ``GPArotation::quartimin(A)`` (oblimin with gamma = 0)."""
    if A.shape[1] < 2:
        return Rotation(np.asarray(A, float).copy(), np.eye(A.shape[1]), np.eye(A.shape[1]),
                        True, 0, "quartimin")
    return gpf_oblique(A, _vgq_oblimin, eps=eps, max_iter=max_iter, method="quartimin")


def geomin(A: np.ndarray, *, delta: float = 0.01, eps: float = 1e-5,
           max_iter: int = 1000) -> Rotation:
    """Oblique geomin as ``GPArotation::geominQ(A, delta=.01)``."""
    if A.shape[1] < 2:
        return Rotation(np.asarray(A, float).copy(), np.eye(A.shape[1]), np.eye(A.shape[1]),
                        True, 0, "geomin")
    return gpf_oblique(A, lambda L: _vgq_geomin(L, delta), eps=eps, max_iter=max_iter,
                       method="geomin")


def rotate(A: np.ndarray, method: str) -> Rotation:
    """Rotate ``A`` by name: one of :data:`ROTATIONS`.

    Raises
    ------
    StatisticsError
        For an unknown rotation, naming the allowed ones.
    """
    A = np.asarray(A, dtype=float)
    k = A.shape[1]
    if method == "none" or k < 2:
        check_choice("rotation", method, ROTATIONS)
        return Rotation(A.copy(), np.eye(k), np.eye(k), True, 0, method)
    funcs: dict[str, Callable[[np.ndarray], Rotation]] = {
        "varimax": varimax,
        "promax": promax,
        "oblimin": oblimin,
        "quartimin": quartimin,
        "geomin": geomin,
    }
    check_choice("rotation", method, tuple(funcs))
    return funcs[method](A)
