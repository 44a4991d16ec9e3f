r"""Item response theory: Rasch, partial credit, rating scale, 2PL and graded response models.

* ``model="rasch"`` (binary items), ``"pcm"`` (partial credit) and ``"rsm"`` (rating scale) are
  estimated by conditional maximum likelihood, as R's eRm (``RM``, ``PCM``, ``RSM`` with
  ``sum0 = TRUE``), with eRm's person parameters (``person.parameter``), item fit
  (``itemfit``), person separation reliability (``SepRel``) and Andersen's likelihood-ratio
  test (``LRtest(splitcr = "median")``).  See :mod:`instrval.stats.irt._cml`.
* ``model="2pl"`` (binary) and ``"grm"`` (Samejima's graded response model) are estimated by
  marginal maximum likelihood (Bock-Aitkin EM on fixed quadrature, then Newton-Raphson) in
  the logistic metric :math:`P(X \ge k) = 1/(1 + e^{-a(\theta - b_k)})` without the 1.702
  scaling constant, with EAP person scores and Orlando & Thissen's S-X2 item fit.  See
  :mod:`instrval.stats.irt._mml`.

The public entry point is :func:`irt`; the result is an :class:`IRTResult`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from instrval._jsonable import float_or_none
from instrval._result import Result
from instrval.errors import ConvergenceWarning, InstrvalWarning, StatisticsError
from instrval.stats._common import show_value
from instrval.stats._dist import chi2_sf

__all__ = ["IRTResult", "LRTest", "irt", "IRT_MODELS"]

#: The models :func:`irt` fits.
IRT_MODELS = ("rasch", "pcm", "rsm", "2pl", "grm")
_RASCH_FAMILY = ("rasch", "pcm", "rsm")


@dataclass(frozen=True, repr=False)
class LRTest(Result):
    """Andersen's likelihood-ratio test of equal item parameters in two groups of persons
    split at the median raw score (eRm ``LRtest(fit, splitcr = "median")``):
    :math:`LR = 2(\\log L_{low} + \\log L_{high} - \\log L)`, df = difference in the number of
    parameters."""

    lr: float
    df: int
    p: float
    loglik_low: float
    loglik_high: float
    n_low: int
    n_high: int
    excluded_items: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"lr": float(self.lr), "df": int(self.df), "p": float_or_none(self.p),
                "split": "median raw score (low: <= median)",
                "loglik_low": float(self.loglik_low), "loglik_high": float(self.loglik_high),
                "n_low": int(self.n_low), "n_high": int(self.n_high),
                "excluded_items": list(self.excluded_items)}


@dataclass(frozen=True, repr=False)
class IRTResult(Result):
    """A fitted item response model.

    Attributes
    ----------
    model : str
        ``rasch``, ``pcm``, ``rsm``, ``2pl`` or ``grm``.
    estimation : str
        ``"CML"`` (Rasch family) or ``"MML"`` (2PL, GRM).
    n : int
        Persons analysed (rows with at least one answer).
    n_informative : int
        Rasch family: persons with a non-extreme raw score (the only ones that enter the
        conditional likelihood); MML: complete rows (those S-X2 uses).
    loglik : float
        Conditional (CML) or marginal (MML) log-likelihood at the estimates.
    npar : int
        Number of free item parameters.
    converged : bool
    iterations : int
        Newton-Raphson iterations (CML) or EM cycles (MML).
    items : DataFrame
        One row per item: ``item_id``, ``n``, ``categories``, ``difficulty`` (rasch, 2pl),
        ``location`` (mean of the thresholds), ``se`` (of difficulty/location), ``a``,
        ``a_se`` (2pl, grm), ``infit``, ``outfit``, ``infit_t``, ``outfit_t`` (Rasch family),
        ``s_x2``, ``df``, ``p``, ``p_adjusted`` (2pl, grm), ``misfit``.
    thresholds : DataFrame
        One row per item threshold: ``item_id``, ``threshold`` (1, 2, ...), ``value``, ``se``;
        for the Rasch family eRm's ``thresholds()``, for the GRM the :math:`b_{ik}`.
    information : DataFrame
        ``theta``, ``item_id``, ``information``: item information curves on a grid.
    test_information : DataFrame
        ``theta``, ``information``, ``se`` (:math:`1/\\sqrt{I(\\theta)}`).
    scores : DataFrame
        One row per person analysed: ``row`` (the data's index label), ``raw_score``,
        ``theta``, ``se`` and ``extreme`` (Rasch family: ML person parameters, extreme
        scores by eRm's spline extrapolation, with no SE; MML: EAP and posterior SD).
    reliability : float
        Person separation reliability (Rasch family, eRm ``SepRel``) or the empirical
        reliability of the EAP scores, var(EAP) / (var(EAP) + mean(PSD^2)).
    lr_test : LRTest or None
        Andersen's LR test (Rasch family).
    misfit_rule : str
        The rule that set ``items["misfit"]``.
    lowest : float
        The answer coded as category 0.
    """

    model: str
    estimation: str
    n: int
    n_informative: int
    loglik: float
    npar: int
    converged: bool
    iterations: int
    items: pd.DataFrame = field(repr=False)
    thresholds: pd.DataFrame = field(repr=False)
    information: pd.DataFrame = field(repr=False)
    test_information: pd.DataFrame = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    reliability: float
    lr_test: LRTest | None
    misfit_rule: str
    lowest: float
    rows_dropped: tuple[Any, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The items table (a copy)."""
        return self.items.copy()

    @property
    def misfitting(self) -> list[str]:
        """Item ids flagged by the misfit rule."""
        return [str(i) for i in self.items.loc[self.items["misfit"], "item_id"]]

    def to_dict(self, *, include_scores: bool = True) -> dict[str, Any]:
        """JSON-ready dict: ``{"model", "estimation", "n", "loglik", "npar", "converged",
        "iterations", "items": [{"item_id", "difficulty", "location", "se", "a", "a_se",
        "thresholds", "thresholds_se", "infit", "outfit", "infit_t", "outfit_t", "s_x2",
        "df", "p", "p_adjusted", "misfit"}], "information": {"theta", "test", "se",
        "items": {item_id: [...]}}, "scores": [{"row", "raw_score", "theta", "se",
        "extreme"}], "reliability", "lr_test", "misfit_rule", ...}``; keys that do not apply
        to the model are ``null``."""
        items = []
        for rec in self.items.to_dict(orient="records"):
            th = self.thresholds[self.thresholds["item_id"] == rec["item_id"]]
            poly = self.model in ("pcm", "rsm", "grm")
            items.append({
                "item_id": rec["item_id"],
                "n": int(rec["n"]),
                "categories": int(rec["categories"]),
                "difficulty": float_or_none(rec["difficulty"]),
                "location": float_or_none(rec["location"]),
                "se": float_or_none(rec["se"]),
                "a": float_or_none(rec["a"]),
                "a_se": float_or_none(rec["a_se"]),
                "thresholds": [float_or_none(v) for v in th["value"]] if poly else None,
                "thresholds_se": [float_or_none(v) for v in th["se"]] if poly else None,
                "infit": float_or_none(rec["infit"]),
                "outfit": float_or_none(rec["outfit"]),
                "infit_t": float_or_none(rec["infit_t"]),
                "outfit_t": float_or_none(rec["outfit_t"]),
                "s_x2": float_or_none(rec["s_x2"]),
                "df": None if pd.isna(rec["df"]) else int(rec["df"]),
                "p": float_or_none(rec["p"]),
                "p_adjusted": float_or_none(rec["p_adjusted"]),
                "misfit": bool(rec["misfit"]),
            })
        info = {
            "theta": [float(t) for t in self.test_information["theta"]],
            "test": [float(v) for v in self.test_information["information"]],
            "se": [float_or_none(v) for v in self.test_information["se"]],
            "items": {str(i): [float(v) for v in g["information"]]
                      for i, g in self.information.groupby("item_id", sort=False)},
        }
        scores = None
        if include_scores:
            scores = [{"row": r["row"], "raw_score": float_or_none(r["raw_score"]),
                       "theta": float_or_none(r["theta"]), "se": float_or_none(r["se"]),
                       "extreme": bool(r["extreme"])}
                      for r in self.scores.to_dict(orient="records")]
        return {
            "model": self.model,
            "estimation": self.estimation,
            "n": int(self.n),
            "n_informative": int(self.n_informative),
            "loglik": float(self.loglik),
            "npar": int(self.npar),
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "lowest": float(self.lowest),
            "items": items,
            "information": info,
            "scores": scores,
            "reliability": float_or_none(self.reliability),
            "lr_test": None if self.lr_test is None else self.lr_test.to_dict(),
            "misfit_rule": self.misfit_rule,
            "misfitting": self.misfitting,
            "rows_dropped": [str(r) for r in self.rows_dropped],
        }


# ----------------------------------------------------------------------------- input


def _prepare(data: pd.DataFrame, items: list[str] | None, model: str, lowest: float | None
             ) -> tuple[np.ndarray, np.ndarray, list[str], pd.Index, tuple[Any, ...], float]:
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(f"irt needs a pandas DataFrame, got {type(data).__name__}")
    if model not in IRT_MODELS:
        raise StatisticsError(f"unknown IRT model {model!r}; choose one of "
                              f"{', '.join(IRT_MODELS)}")
    cols = list(data.columns) if items is None else list(items)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise StatisticsError(f"item column(s) {', '.join(map(repr, missing))} not found; the "
                              f"data has: {', '.join(map(str, data.columns))}")
    if len(cols) < 2:
        raise StatisticsError(f"irt needs at least 2 items, got {len(cols)}")
    try:
        x = data[cols].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise StatisticsError(f"irt needs numeric item responses: {exc}") from None
    bad = ~np.isnan(x) & (x != np.round(x))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise StatisticsError(f"row {show_value(data.index[r])}, item {cols[c]!r}: answer "
                              f"{show_value(x[r, c])} is not a whole-number category")
    empty = np.isnan(x).all(axis=1)
    dropped = tuple(data.index[empty])
    x = x[~empty]
    index = data.index[~empty]
    if x.shape[0] < 2:
        raise StatisticsError("irt needs at least 2 rows with answers")
    low = float(np.nanmin(x)) if lowest is None else float(lowest)
    if np.nanmin(x) < low:
        raise StatisticsError(f"answers below lowest={show_value(low)} found")
    x = x - low
    m = np.nanmax(x, axis=0).astype(int)
    for i, c in enumerate(cols):
        seen = set(np.unique(x[~np.isnan(x[:, i]), i]).astype(int))
        if len(seen) < 2:
            only = ", ".join(show_value(v + low) for v in seen) or "none"
            raise StatisticsError(f"item {c!r} has one answer only ({only}); it carries no "
                                  "information")
        absent = [h for h in range(m[i] + 1) if h not in seen]
        if absent:
            raise StatisticsError(
                f"item {c!r}: category {show_value(absent[0] + low)} is never chosen; a "
                f"{model} model cannot estimate it (recode or collapse the categories)")
    if model in ("rasch", "2pl") and np.any(m != 1):
        c = cols[int(np.argmax(m != 1))]
        raise StatisticsError(f"the {model} model needs binary items; item {c!r} has "
                              f"{m[cols.index(c)] + 1} categories (use pcm, rsm or grm)")
    if model == "rsm" and np.any(m != m[0]):
        raise StatisticsError("the rating scale model needs the same categories for every "
                              "item; item categories: " +
                              ", ".join(f"{c}: {mi + 1}" for c, mi in zip(cols, m, strict=True)))
    return x, m, cols, index, dropped, low


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN kept), as R's p.adjust(method = "BH")."""
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    pv = p[ok]
    n = pv.size
    if n == 0:
        return out
    order = np.argsort(pv)[::-1]
    ranked = pv[order] * n / np.arange(n, 0, -1)
    adj = np.minimum(1.0, np.minimum.accumulate(ranked))
    res = np.empty(n)
    res[order] = adj
    out[ok] = res
    return out


# ----------------------------------------------------------------------------- Rasch


def _natural_spline_extrapolate(xs: np.ndarray, ys: np.ndarray, at: np.ndarray) -> np.ndarray:
    """A natural interpolating cubic spline through (xs, ys), linear beyond the ends (R's
    ``predict(splines::interpSpline(x, y), at)``)."""
    from scipy.interpolate import CubicSpline

    cs = CubicSpline(xs, ys, bc_type="natural", extrapolate=True)
    out = cs(at)
    lo, hi = at < xs[0], at > xs[-1]
    out[lo] = ys[0] + cs(xs[0], 1) * (at[lo] - xs[0])
    out[hi] = ys[-1] + cs(xs[-1], 1) * (at[hi] - xs[-1])
    return out


def _rasch_scores(x: np.ndarray, m: np.ndarray, beta: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-person ML theta and SE (eRm ``person.parameter``) and the extreme flag."""
    from instrval.stats.irt._cml import person_ml

    n = x.shape[0]
    theta = np.full(n, np.nan)
    se = np.full(n, np.nan)
    offsets = np.concatenate(([0], np.cumsum(m)[:-1])).astype(int)
    answered = ~np.isnan(x)
    raw = np.nansum(x, axis=1)
    max_raw = (answered * m[None, :]).sum(axis=1)
    extreme = (raw == 0) | (raw == max_raw)
    keys, inverse = np.unique(answered, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    for g, key in enumerate(keys):
        rows = np.flatnonzero(inverse == g)
        it = np.flatnonzero(key)
        sub_beta = np.concatenate([beta[offsets[i]:offsets[i] + m[i]] for i in it])
        fitted: dict[float, tuple[float, float]] = {}
        for s in np.unique(raw[rows][~extreme[rows]]):
            fitted[float(s)] = person_ml(sub_beta, m[it], float(s))
        for r in rows:
            if not extreme[r]:
                theta[r], se[r] = fitted[float(raw[r])]
        ext = rows[extreme[rows]]
        if ext.size and len(fitted) > 3:
            xs = np.array(sorted(fitted))
            ys = np.array([fitted[s][0] for s in xs])
            theta[ext] = _natural_spline_extrapolate(xs, ys, raw[ext])
    return theta, se, extreme


def _median_split(x: np.ndarray) -> np.ndarray:
    """True for the 'high' group: raw score above the median (within each pattern of
    answered items when answers are missing, as eRm)."""
    raw = np.nansum(x, axis=1)
    answered = ~np.isnan(x)
    _, inverse = np.unique(answered, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    high = np.zeros(x.shape[0], bool)
    for g in np.unique(inverse):
        rows = inverse == g
        high[rows] = raw[rows] > np.median(raw[rows])
    return high


def _lr_test(x: np.ndarray, m: np.ndarray, model: str, cols: list[str], full_loglik: float
             ) -> LRTest:
    from instrval.stats.irt._cml import fit_cml

    high = _median_split(x)
    raw = np.nansum(x, axis=1)
    inner = (raw > 0) & (raw < (~np.isnan(x) * m[None, :]).sum(axis=1))
    keep = []
    for i in range(len(m)):
        ok = True
        # every category among the informative persons of each group (eRm asks for every
        # category in each group; a category seen only at an extreme score has no estimate)
        for grp in (~high & inner, high & inner):
            xi = x[grp, i]
            seen = set(np.unique(xi[~np.isnan(xi)]).astype(int))
            if any(h not in seen for h in range(m[i] + 1)):
                ok = False
        keep.append(ok)
    keep_a = np.array(keep)
    if model == "rsm" and not keep_a.all():
        keep_a[:] = keep_a.all()
    if keep_a.sum() < 2:
        raise StatisticsError("Andersen's LR test: fewer than 2 items have every category "
                              "in both score groups")
    xs = x[:, keep_a]
    ms = m[keep_a]
    # the whole-sample fit is refitted only when items had to be left out
    full = full_loglik if keep_a.all() else fit_cml(xs, ms, model).loglik
    low_fit = fit_cml(xs[~high], ms, model)
    high_fit = fit_cml(xs[high], ms, model)
    npar = low_fit.eta.size
    lr = 2.0 * (low_fit.loglik + high_fit.loglik - full)
    df = 2 * npar - npar
    return LRTest(lr=lr, df=df, p=float(chi2_sf(lr, df)), loglik_low=low_fit.loglik,
                  loglik_high=high_fit.loglik, n_low=int((~high).sum()),
                  n_high=int(high.sum()),
                  excluded_items=tuple(c for c, k in zip(cols, keep_a, strict=True) if not k))


def _lr_test_or_none(x: np.ndarray, m: np.ndarray, model: str, cols: list[str],
                     full_loglik: float) -> LRTest | None:
    """Andersen's LR test, or None with a warning when the median split leaves too few
    items with every category in both groups (the model itself is still estimable)."""
    try:
        return _lr_test(x, m, model, cols, full_loglik)
    except StatisticsError as exc:
        warnings.warn(f"{exc}; the test is left out (lr_test is null)", InstrvalWarning,
                      stacklevel=3)
        return None


def _check_informative(x: np.ndarray, m: np.ndarray, cols: list[str], lowest: float) -> None:
    """Every category of every item must be chosen by someone with a non-extreme raw score:
    otherwise the conditional likelihood has no maximum (the parameter runs off to
    infinity)."""
    answered = ~np.isnan(x)
    raw = np.nansum(x, axis=1)
    max_raw = (answered * m[None, :]).sum(axis=1)
    inner = (raw > 0) & (raw < max_raw)
    for i, c in enumerate(cols):
        xi = x[inner, i]
        seen = set(np.unique(xi[~np.isnan(xi)]).astype(int))
        absent = [h for h in range(m[i] + 1) if h not in seen]
        if absent:
            raise StatisticsError(
                f"item {c!r}: answer {show_value(absent[0] + lowest)} is given only by persons "
                "with an extreme raw score (all lowest or all highest answers), who carry no "
                "information in conditional ML; its parameter cannot be estimated")


def _fit_rasch(x: np.ndarray, m: np.ndarray, model: str, cols: list[str], grid: np.ndarray,
               fit_range: tuple[float, float], lr_test: bool, lowest: float
               ) -> dict[str, Any]:
    from instrval.stats.irt._cml import category_moments, fit_cml
    from instrval.stats.irt._fit import rasch_itemfit

    _check_informative(x, m, cols, lowest)
    fit = fit_cml(x, m, model)
    beta = fit.beta
    se_beta = np.sqrt(np.diag(fit.cov_beta))
    offsets = np.concatenate(([0], np.cumsum(m)[:-1])).astype(int)
    theta, se, extreme = _rasch_scores(x, m, beta)
    # item fit on the persons with a non-extreme raw score (eRm itemfit)
    inner = ~extreme
    e, v, c, _ = category_moments(beta, m, theta[inner])
    itf = rasch_itemfit(x[inner], e, v, c)
    # thresholds tau_ih = -(beta_ih - beta_i,h-1) and their SEs (eRm thresholds())
    t_mat = np.zeros((beta.size, beta.size))
    for i in range(len(m)):
        for h in range(m[i]):
            t_mat[offsets[i] + h, offsets[i] + h] = -1.0
            if h > 0:
                t_mat[offsets[i] + h, offsets[i] + h - 1] = 1.0
    tau = t_mat @ beta
    tau_se = np.sqrt(np.diag(t_mat @ fit.cov_beta @ t_mat.T))
    rows = []
    th_rows = []
    for i, cid in enumerate(cols):
        sl = slice(offsets[i], offsets[i] + m[i])
        loc = float(np.mean(tau[sl]))
        # location = -beta_im / m_i: its SE from the variance of beta_im
        loc_se = float(se_beta[offsets[i] + m[i] - 1] / m[i])
        rows.append({"item_id": cid, "n": int(np.sum(~np.isnan(x[:, i]))),
                     "categories": int(m[i] + 1),
                     "difficulty": -beta[offsets[i]] if model == "rasch" else np.nan,
                     "location": loc, "se": loc_se, "a": np.nan, "a_se": np.nan,
                     "infit": itf["infit"][i], "outfit": itf["outfit"][i],
                     "infit_t": itf["infit_t"][i], "outfit_t": itf["outfit_t"][i],
                     "s_x2": np.nan, "df": np.nan, "p": np.nan, "p_adjusted": np.nan})
        for h in range(m[i]):
            th_rows.append({"item_id": cid, "threshold": h + 1, "value": tau[offsets[i] + h],
                            "se": tau_se[offsets[i] + h]})
    items = pd.DataFrame(rows)
    items["df"] = items["df"].astype("Int64")
    lo, hi = fit_range
    items["misfit"] = ~(items["infit"].between(lo, hi) & items["outfit"].between(lo, hi))
    rule = (f"infit or outfit mean square outside [{lo:g}, {hi:g}] (Wright & Linacre 1994; "
            "Bond & Fox 2015)")
    # information: the variance of the item score at theta
    _, vg, _, _ = category_moments(beta, m, grid)
    # person separation reliability (eRm SepRel): non-extreme persons
    ok = inner & ~np.isnan(theta)
    ssd = float(np.var(theta[ok], ddof=1))
    mse = float(np.mean(se[ok] ** 2))
    return {"fit": fit, "items": items, "thresholds": pd.DataFrame(th_rows), "info": vg,
            "theta": theta, "se": se, "extreme": extreme, "rule": rule,
            "reliability": (ssd - mse) / ssd,
            "lr": _lr_test_or_none(x, m, model, cols, fit.loglik) if lr_test else None,
            "npar": fit.eta.size, "loglik": fit.loglik, "converged": fit.converged,
            "iterations": fit.iterations, "n_informative": fit.n_used}


# ----------------------------------------------------------------------------- MML


def _fit_marginal(x: np.ndarray, m: np.ndarray, model: str, cols: list[str], grid: np.ndarray,
                  alpha: float, n_nodes: int, min_expected: float) -> dict[str, Any]:
    from instrval.stats.irt._fit import s_x2
    from instrval.stats.irt._mml import fit_mml, item_information

    fit = fit_mml(x, m, n_nodes=n_nodes)
    offs = np.concatenate(([0], np.cumsum(m + 1)[:-1])).astype(int)
    chi, dfs, p = s_x2(x, m, fit.a, fit.d, fit.nodes, fit.weights, min_expected=min_expected)
    p_adj = _bh(p)
    rows = []
    th_rows = []
    info = np.empty((grid.size, len(m)))
    for i, cid in enumerate(cols):
        a = fit.a[i]
        d = fit.d[i]
        o = offs[i]
        cov = fit.cov[o:o + m[i] + 1, o:o + m[i] + 1]
        b = -d / a
        # delta method: db_k/da = d_k/a^2, db_k/dd_k = -1/a
        jac = np.zeros((m[i], m[i] + 1))
        jac[:, 0] = d / a ** 2
        jac[np.arange(m[i]), np.arange(m[i]) + 1] = -1.0 / a
        b_cov = jac @ cov @ jac.T
        b_se = np.sqrt(np.diag(b_cov))
        loc = float(np.mean(b))
        loc_se = float(np.sqrt(np.mean(b_cov)))
        rows.append({"item_id": cid, "n": int(np.sum(~np.isnan(x[:, i]))),
                     "categories": int(m[i] + 1),
                     "difficulty": b[0] if model == "2pl" else np.nan,
                     "location": loc, "se": loc_se, "a": a, "a_se": float(np.sqrt(cov[0, 0])),
                     "infit": np.nan, "outfit": np.nan, "infit_t": np.nan, "outfit_t": np.nan,
                     "s_x2": chi[i], "df": dfs[i], "p": p[i], "p_adjusted": p_adj[i]})
        for k in range(m[i]):
            th_rows.append({"item_id": cid, "threshold": k + 1, "value": b[k], "se": b_se[k]})
        info[:, i] = item_information(a, d, grid)
    items = pd.DataFrame(rows)
    items["df"] = items["df"].astype("Int64")
    items["misfit"] = items["p_adjusted"] < alpha
    rule = (f"S-X2 p < {alpha:g} after Benjamini-Hochberg adjustment over the items "
            "(Orlando & Thissen 2000; Reeve et al. 2007)")
    post = fit.posterior
    eap = post @ fit.nodes
    psd = np.sqrt(np.maximum(post @ fit.nodes ** 2 - eap ** 2, 0.0))
    var_eap = float(np.var(eap))
    complete = int((~np.isnan(x).any(axis=1)).sum())
    return {"fit": fit, "items": items, "thresholds": pd.DataFrame(th_rows), "info": info,
            "theta": eap, "se": psd, "extreme": np.zeros(x.shape[0], bool), "rule": rule,
            "reliability": var_eap / (var_eap + float(np.mean(psd ** 2))), "lr": None,
            "npar": int((m + 1).sum()), "loglik": fit.loglik, "converged": fit.converged,
            "iterations": fit.em_cycles, "n_informative": complete}


def irt(data: pd.DataFrame, *, model: str = "rasch", items: list[str] | None = None,
        lowest: float | None = None, theta_grid: np.ndarray | None = None,
        misfit_range: tuple[float, float] = (0.7, 1.3), misfit_alpha: float = 0.01,
        lr_test: bool = True, quadrature_points: int = 61, min_expected: float = 1.0
        ) -> IRTResult:
    r"""Fit an item response model.

    Parameters
    ----------
    data : DataFrame
        One row per person, one column per item; answers are whole-number categories
        (missing answers as NaN).  The smallest answer (``lowest``) is category 0.  Rows
        with no answer at all are left out (``rows_dropped``).
    model : {"rasch", "pcm", "rsm", "2pl", "grm"}
        Rasch (binary), partial credit, rating scale (conditional ML, as R eRm), two-parameter
        logistic (binary) or Samejima's graded response model (marginal ML).
    items : list of str, optional
        Item columns (default: every column).
    lowest : float, optional
        The answer coded as category 0 (default: the smallest answer in the data).
    theta_grid : array, optional
        Where the information curves are evaluated (default: -4 to 4 by 0.1).
    misfit_range : (float, float)
        Rasch family: an item misfits when its infit or outfit mean square lies outside.
    misfit_alpha : float
        2PL/GRM: an item misfits when its Benjamini-Hochberg adjusted S-X2 p is below.
    lr_test : bool
        Rasch family: compute Andersen's LR test (median split).
    quadrature_points : int
        MML: number of equally spaced quadrature nodes on [-6, 6] (mirt's default 61).
    min_expected : float
        S-X2: smallest expected count per category of a pooled score group.

    Returns
    -------
    IRTResult

    Notes
    -----
    Rasch family (eRm's parameterisation, :mod:`instrval.stats.irt._cml`): easiness
    :math:`\beta_{ih}` with :math:`P(X_{vi}=h) \propto \exp(h\theta_v + \beta_{ih})`, all
    :math:`\beta` summing to zero (RSM: item parameters sum to zero and the first category
    parameter is zero).  ``difficulty`` (rasch) is :math:`-\beta_i`; ``thresholds`` are
    :math:`\tau_{ih} = \beta_{i,h-1} - \beta_{ih}` and ``location`` their mean (eRm
    ``thresholds()``); ``se`` of the location is :math:`se(\beta_{im_i})/m_i`.  Person
    parameters are ML estimates for each raw score (eRm ``person.parameter``); extreme
    scores are extrapolated by eRm's natural interpolating spline and have no SE.
    Infit/outfit use the non-extreme persons (eRm ``itemfit``); person separation
    reliability is :math:`(\mathrm{var}(\hat\theta) - \overline{SE^2})/\mathrm{var}(
    \hat\theta)` over them (eRm ``SepRel``).

    2PL/GRM (:mod:`instrval.stats.irt._mml`): standard errors from the observed information
    (central differences of the analytic marginal score); ``thresholds`` are :math:`b_{ik}`
    with delta-method SEs; ``location`` is their mean.  Person scores are EAP with posterior
    SDs on the estimation quadrature; S-X2 (:func:`instrval.stats.irt._fit.s_x2`) uses the
    complete rows.  Item information :math:`\sum_k P_{ik}'^2/P_{ik}`; Rasch family: the
    variance of the item score.

    R equivalents: ``eRm::RM``, ``PCM``, ``RSM``, ``thresholds``, ``person.parameter``,
    ``itemfit``, ``SepRel``, ``LRtest``; ``mirt::mirt(data, 1, itemtype = "2PL" / "graded")``
    with ``coef(IRTpars = TRUE)``, ``fscores(method = "EAP")``, ``itemfit(fit_stats =
    "S_X2")`` (not installed here; see the tests for the independent checks).

    References
    ----------
    Andersen, E. B. (1973). A goodness of fit test for the Rasch model. Psychometrika, 38.
    Bock, R. D., & Aitkin, M. (1981). Marginal maximum likelihood estimation of item
    parameters: application of an EM algorithm. Psychometrika, 46, 443-459.
    Mair, P., & Hatzinger, R. (2007). Extended Rasch modeling: the eRm package. JSS, 20(9).
    Orlando, M., & Thissen, D. (2000). Likelihood-based item-fit indices for dichotomous
    item response theory models. Applied Psychological Measurement, 24, 50-64.
    Samejima, F. (1969). Estimation of latent ability using a response pattern of graded
    scores. Psychometrika Monograph 17.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> theta = rng.normal(size=400)
    >>> b = np.linspace(-1.5, 1.5, 6)
    >>> x = (rng.uniform(size=(400, 6)) < 1 / (1 + np.exp(b - theta[:, None]))).astype(int)
    >>> res = irt(pd.DataFrame(x, columns=[f"q{i}" for i in range(6)]), model="rasch")
    >>> round(float(res.items["difficulty"].sum()), 10)
    0.0
    """
    x, m, cols, index, dropped, low = _prepare(data, items, model, lowest)
    grid = np.round(np.arange(-4.0, 4.0001, 0.1), 10) if theta_grid is None else \
        np.asarray(theta_grid, float)
    from instrval.stats._threads import small_matrix_blas

    # small matrices: threaded BLAS only adds overhead (and slows down on a busy machine)
    with small_matrix_blas():
        if model in _RASCH_FAMILY:
            out = _fit_rasch(x, m, model, cols, grid, misfit_range, lr_test, low)
            estimation = "CML"
        else:
            out = _fit_marginal(x, m, model, cols, grid, misfit_alpha, quadrature_points,
                                min_expected)
            estimation = "MML"
    if not out["converged"]:
        warnings.warn(f"the {model} model did not converge in {out['iterations']} iterations; "
                      "the estimates are unreliable", ConvergenceWarning, stacklevel=2)
    info = out["info"]
    information = pd.DataFrame({
        "theta": np.repeat(grid, len(cols)),
        "item_id": np.tile(np.array(cols, dtype=object), grid.size),
        "information": info.reshape(-1),
    })
    information = information.sort_values(["item_id", "theta"], kind="stable",
                                          key=lambda s: s.map({c: i for i, c in enumerate(cols)})
                                          if s.name == "item_id" else s).reset_index(drop=True)
    total = info.sum(axis=1)
    test_information = pd.DataFrame({"theta": grid, "information": total,
                                     "se": 1.0 / np.sqrt(total)})
    scores = pd.DataFrame({"row": list(index), "raw_score": np.nansum(x, axis=1),
                           "theta": out["theta"], "se": out["se"], "extreme": out["extreme"]})
    return IRTResult(model=model, estimation=estimation, n=int(x.shape[0]),
                     n_informative=int(out["n_informative"]), loglik=float(out["loglik"]),
                     npar=int(out["npar"]), converged=bool(out["converged"]),
                     iterations=int(out["iterations"]), items=out["items"],
                     thresholds=out["thresholds"], information=information,
                     test_information=test_information, scores=scores,
                     reliability=float(out["reliability"]), lr_test=out["lr"],
                     misfit_rule=out["rule"], lowest=low, rows_dropped=dropped)
