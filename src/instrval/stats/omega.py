"""McDonald's omega from a Schmid-Leiman transformation, as ``psych::omega``.

:func:`omega` reproduces ``psych::omega(x, nfactors, fm="minres", rotate="oblimin")``
(psych 2.2.9): a ``fm`` factor solution with ``nfactors`` factors is varimax-rotated, then
obliquely rotated (``GPArotation::oblimin``); a one-factor ``fm`` solution of the factor
correlations gives the second-order (general) loadings ``g``; the Schmid-Leiman
transformation (``psych::schmid``) gives each item a general loading ``F g`` and group
loadings ``sign(F) sqrt(F^2 (1 - g^2))``. Items whose general loading is negative are
reversed (psych's ``flip=TRUE``). With ``V = sum(R)`` (the variance of the unit-weighted
total score of the flipped items) and ``u2 = 1 - h2``:

* ``omega_hierarchical = (sum g_i)^2 / V``
* ``omega_total = (V - sum u2_i) / V``
* ``omega_limit = (sum g_i)^2 / (V - sum u2_i)``
* ``alpha = (V - tr R)/V * p/(p - 1)``, ``G6 = (V + sum smc - tr R)/V``
* ``ECV = sum g^2 / (sum g^2 + sum of squared group loadings)``
* per group factor (items assigned to the group factor on which they load most, psych's
  ``omega.group``): ``total = ((sum s)^2 + (sum g)^2)/V_grp``, ``general = (sum g)^2/V_grp``,
  ``group = (sum s)^2/V_grp``; the first row ("g") has ``omega_total``, the general
  omega and the sum of the group terms over ``V``.

:func:`omega_one_factor` is the model-based congeneric omega from a one-factor minres
solution, ``(sum |l|)^2 / ((sum |l|)^2 + sum u2)`` (McDonald, 1999), which is not what
``psych::omega(x, nfactors=1)`` reports (psych divides by the observed ``sum(R)``).

References
----------
McDonald, R. P. (1999). Test theory: A unified treatment. Erlbaum.
Schmid, J., & Leiman, J. M. (1957). The development of hierarchical factor solutions.
Psychometrika, 22, 53-61.
Zinbarg, R. E., Revelle, W., Yovel, I., & Li, W. (2005). Cronbach's alpha, Revelle's beta,
and McDonald's omega_h. Psychometrika, 70, 123-133.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from instrval._choices import check_choice, renamed_keyword
from instrval._jsonable import jsonable_scalar, to_jsonable
from instrval._result import Result
from instrval.errors import HeywoodWarning
from instrval.stats._threads import single_threaded_blas
from instrval.stats.efa import efa, prepare_correlation, smc
from instrval.stats.rotation import geomin, oblimin, promax, quartimin

__all__ = ["OmegaResult", "OneFactorOmega", "omega", "omega_one_factor"]

_OBLIQUE = {"oblimin": oblimin, "quartimin": quartimin, "geomin": geomin, "promax": promax}


@dataclass(frozen=True, repr=False)
class OmegaResult(Result):
    """Omega coefficients and the Schmid-Leiman solution (see :func:`omega`).

    Attributes
    ----------
    omega_total, omega_hierarchical, omega_limit, alpha, g6, ecv : float
    schmid : DataFrame
        One row per item: ``item_id``, ``g``, ``F1*``.., ``h2``, ``u2``, ``p2`` (signs
        after flipping, as psych's ``$schmid$sl``).
    groups : DataFrame
        psych's ``omega.group``: ``factor`` (``g``, ``F1*``..), ``total``, ``general``,
        ``group``.
    phi : DataFrame
        Correlations of the oblique first-order factors.
    reversed_items : tuple of str
        Items reversed because their general loading was negative.
    """

    omega_total: float
    omega_hierarchical: float
    omega_limit: float
    alpha: float
    g6: float
    ecv: float
    schmid: pd.DataFrame
    groups: pd.DataFrame
    phi: pd.DataFrame
    n_factors: int
    fm: str
    rotation: str
    n_obs: float
    reversed_items: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        return self.schmid.copy()

    def to_dict(self) -> dict[str, Any]:
        return {
            "omega_total": jsonable_scalar(self.omega_total),
            "omega_hierarchical": jsonable_scalar(self.omega_hierarchical),
            "omega_limit": jsonable_scalar(self.omega_limit),
            "alpha": jsonable_scalar(self.alpha),
            "g6": jsonable_scalar(self.g6),
            "ecv": jsonable_scalar(self.ecv),
            "n_factors": self.n_factors,
            "fm": self.fm,
            "rotation": self.rotation,
            "n_obs": jsonable_scalar(self.n_obs),
            "reversed_items": list(self.reversed_items),
            "schmid": to_jsonable(self.schmid),
            "groups": to_jsonable(self.groups),
            "phi": to_jsonable(self.phi.to_numpy()),
            "warnings": list(self.warnings),
        }


@single_threaded_blas
def omega(data_or_corr: pd.DataFrame | np.ndarray, *, n_factors: int = 3,
          method: str = "minres", rotation: str = "oblimin", missing: str = "pairwise",
          n_obs: float | None = None, flip: bool = True, fm: str | None = None
          ) -> OmegaResult:
    """Omega hierarchical and total as ``psych::omega(x, nfactors=n_factors)``.

    Parameters
    ----------
    data_or_corr : DataFrame or ndarray
        Item data (pairwise correlations by default) or a correlation matrix.
    n_factors : int
        Number of group factors (psych's default 3). With 2, psych's ``option="equal"``
        (both general loadings ``sqrt(|phi_12|)``) is used; with 1 the general factor is
        the single factor.
    method : {"minres", "ml", "pa"}
        Extraction (psych's ``fm``; the old keyword ``fm=`` still works and warns).
    rotation : {"oblimin", "quartimin", "geomin", "promax"}
        Oblique rotation of the varimax solution before the Schmid-Leiman step.
    flip : bool
        Reverse items whose general loading is negative (psych's default).

    Notes
    -----
    R equivalent: ``psych::omega(x, nfactors=3, fm="minres", rotate="oblimin")``. On the 25
    bfi items psych gives omega_h = .4362, omega_t = .8548 with 3 factors and
    omega_h = .4617, omega_t = .8748 with 5 (``tests/fixtures/r/omega.R``).

    Examples
    --------
    >>> import pandas as pd
    >>> bfi = pd.read_csv("tests/data/bfi.csv", index_col=0).iloc[:, :25]
    >>> round(omega(bfi, n_factors=5).omega_hierarchical, 4)
    0.4617
    """
    fm = renamed_keyword("fm", "method", fm, method, "minres")
    check_choice("rotation", rotation, _OBLIQUE)
    prep = prepare_correlation(data_or_corr, missing=missing, n_obs=n_obs)
    items = list(prep.items)
    R = prep.R
    p = R.shape[0]
    k = int(n_factors)
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fac = efa(pd.DataFrame(R, index=items, columns=items), n_factors=k, method=fm,
                  rotation="varimax", n_obs=None if np.isnan(prep.n_obs) else prep.n_obs)
    for w in caught:
        messages.append(str(w.message))
        warnings.warn(w.message, w.category, stacklevel=2)
    orth = fac.loading_matrix
    if k == 1:
        fload = orth.copy()
        phi = np.ones((1, 1))
        gload = np.ones(1)
    else:
        rot = _OBLIQUE[rotation](orth)
        fload, phi = rot.loadings, rot.phi
        if k > 2:
            names = [f"F{j + 1}" for j in range(k)]
            with warnings.catch_warnings(record=True) as caught2:
                warnings.simplefilter("always")
                gf = efa(pd.DataFrame(phi, index=names, columns=names), n_factors=1,
                         method=fm, rotation="none")
            for w in caught2:
                msg = f"second-order factor: {w.message}"
                messages.append(msg)
                warnings.warn(msg, w.category if issubclass(w.category, Warning)
                              else HeywoodWarning, stacklevel=2)
            gload = gf.loading_matrix[:, 0]
        else:
            r12 = phi[0, 1]
            gload = np.array([np.sqrt(abs(r12)), np.sign(r12) * np.sqrt(abs(r12))])
            msg = ("three factors are required for identification; with two, the general "
                   "loadings are set equal (psych's option='equal')")
            messages.append(msg)
    g = fload @ gload
    h2 = (orth**2).sum(axis=1)
    u2 = np.diag(R) - h2
    uniq2 = fload**2 - (fload * gload[None, :]) ** 2
    uniq2[uniq2 < 0] = 0.0
    sm = np.sign(fload) * np.sqrt(uniq2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p2 = g**2 / h2
    m = R.copy()
    key = np.sign(g)
    key[key == 0] = 1
    reversed_items: tuple[str, ...] = ()
    if flip and key.sum() < p:
        m = m * key[:, None] * key[None, :]
        g = g * key
        sm = sm * key[:, None]
        reversed_items = tuple(items[i] for i in np.flatnonzero(key < 0))
    V = float(m.sum())
    gsq = float(g.sum()) ** 2
    usum = float(u2.sum())
    om_tot = (V - usum) / V
    om_h = gsq / V
    om_lim = gsq / (V - usum)
    alpha = ((V - np.trace(m)) / V) * (p / (p - 1))
    g6 = (V + smc(m).sum() - np.trace(m)) / V
    ev = np.concatenate([[np.sum(g**2)], (sm**2).sum(axis=0)])
    ecv = float(ev[0] / ev.sum())
    # omega.group
    sub = np.argmax(np.abs(sm), axis=1)
    omt = np.full(k + 1, np.nan)
    omgo = np.full(k + 1, np.nan)
    omg = np.full(k + 1, np.nan)
    grs = 0.0
    for grp in range(k):
        idx = np.flatnonzero(sub == grp)
        if idx.size:
            Vgr = float(m[np.ix_(idx, idx)].sum())
            gr = float(sm[idx, grp].sum())
            grs += gr**2
            sg = float(g[idx].sum())
            omg[grp + 1] = gr**2 / Vgr
            omgo[grp + 1] = sg**2 / Vgr
            omt[grp + 1] = (gr**2 + sg**2) / Vgr
    omgo[0] = gsq / V
    omg[0] = grs / V
    omt[0] = om_tot
    fnames = [f"F{j + 1}*" for j in range(k)]
    schmid = pd.DataFrame(sm, columns=fnames)
    schmid.insert(0, "g", g)
    schmid.insert(0, "item_id", items)
    schmid["h2"] = h2
    schmid["u2"] = u2
    schmid["p2"] = p2
    groups = pd.DataFrame({"factor": ["g", *fnames], "total": omt, "general": omgo,
                           "group": omg})
    phi_names = [f"F{j + 1}" for j in range(k)]
    return OmegaResult(
        omega_total=float(om_tot), omega_hierarchical=float(om_h), omega_limit=float(om_lim),
        alpha=float(alpha), g6=float(g6), ecv=ecv, schmid=schmid, groups=groups,
        phi=pd.DataFrame(phi, index=phi_names, columns=phi_names), n_factors=k, fm=fm,
        rotation=rotation, n_obs=prep.n_obs, reversed_items=reversed_items,
        warnings=tuple(messages))


@dataclass(frozen=True, repr=False)
class OneFactorOmega(Result):
    """Model-based omega of a one-factor solution (see :func:`omega_one_factor`)."""

    omega: float
    loadings: pd.DataFrame
    reversed_items: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        return self.loadings.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"omega": jsonable_scalar(self.omega), "reversed_items": list(self.reversed_items),
                "loadings": to_jsonable(self.loadings)}


@single_threaded_blas
def omega_one_factor(data_or_corr: pd.DataFrame | np.ndarray, *, method: str = "minres",
                     missing: str = "pairwise", n_obs: float | None = None,
                     fm: str | None = None) -> OneFactorOmega:
    """Congeneric (one-factor) omega: ``(sum |l|)^2 / ((sum |l|)^2 + sum u2)``.

    ``l`` and ``u2 = 1 - l^2`` come from a one-factor ``method`` solution
    (``psych::fa(x, 1)``); items with negative loadings are counted reversed (their
    loading's sign flips, their uniqueness does not change). R equivalent, after reversing
    those items: ``f <- fa(x, 1); sum(f$loadings)^2 / (sum(f$loadings)^2 +
    sum(f$uniquenesses))``.
    """
    fm = renamed_keyword("fm", "method", fm, method, "minres")
    res = efa(data_or_corr, n_factors=1, method=fm, rotation="none", missing=missing,
              n_obs=n_obs)
    lam = res.loading_matrix[:, 0]
    u2 = res.uniquenesses.to_numpy()
    s = float(np.abs(lam).sum())
    items = list(res.loadings["item_id"])
    rev = tuple(items[i] for i in np.flatnonzero(lam < 0))
    table = pd.DataFrame({"item_id": items, "loading": np.abs(lam), "uniqueness": u2})
    return OneFactorOmega(s**2 / (s**2 + float(u2.sum())), table, rev)
