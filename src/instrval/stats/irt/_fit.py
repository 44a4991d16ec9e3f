r"""Item fit: Rasch infit/outfit mean squares (as eRm's ``itemfit``) and Orlando & Thissen's
S-X2 (for the 2PL and graded models)."""

from __future__ import annotations

import numpy as np

from instrval.stats._dist import chi2_sf
from instrval.stats.irt._mml import category_probs, lord_wingersky

__all__ = ["rasch_itemfit", "s_x2"]


def rasch_itemfit(x: np.ndarray, e: np.ndarray, v: np.ndarray, c: np.ndarray
                  ) -> dict[str, np.ndarray]:
    r"""Outfit and infit mean squares and their t statistics.

    With :math:`z_{vi} = (x_{vi} - E_{vi})/\sqrt{V_{vi}}` over the :math:`n_i` persons who
    answered item :math:`i` (persons with an extreme raw score left out):
    outfit :math:`= \sum_v z_{vi}^2 / n_i`, infit :math:`= \sum_v (x_{vi}-E_{vi})^2/\sum_v
    V_{vi}`; :math:`q^2_{out} = \sum_v (C_{vi}/V_{vi}^2)/n_i^2 - 1/n_i`,
    :math:`q^2_{in} = \sum_v (C_{vi} - V_{vi}^2)/(\sum_v V_{vi})^2` (:math:`C` the fourth
    central moment) and :math:`t = (\mathrm{MSQ}^{1/3} - 1)(3/q) + q/3`
    (Wilson-Hilferty; Wright & Masters 1982), as eRm's ``itemfit``.
    """
    ok = ~np.isnan(x)
    res = np.where(ok, x - e, 0.0)
    vv = np.where(ok, v, 0.0)
    cc = np.where(ok, c, 0.0)
    n_i = ok.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = np.where(ok, res ** 2 / np.where(ok, v, 1.0), 0.0)
        chisq = z2.sum(axis=0)
        outfit = chisq / n_i
        infit = (res ** 2).sum(axis=0) / vv.sum(axis=0)
        q_out = np.sqrt(np.where(ok, cc / np.where(ok, v, 1.0) ** 2, 0.0).sum(axis=0) / n_i ** 2
                        - 1.0 / n_i)
        q_in = np.sqrt((cc - vv ** 2).sum(axis=0) / vv.sum(axis=0) ** 2)
        out_t = (np.cbrt(outfit) - 1) * (3 / q_out) + q_out / 3
        in_t = (np.cbrt(infit) - 1) * (3 / q_in) + q_in / 3
    return {"outfit": outfit, "infit": infit, "outfit_t": out_t, "infit_t": in_t,
            "chisq": chisq, "n": n_i}


def s_x2(x: np.ndarray, m: np.ndarray, a: np.ndarray, d: list[np.ndarray], nodes: np.ndarray,
         weights: np.ndarray, *, min_expected: float = 1.0
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Orlando & Thissen's (2000) summed-score item fit, generalised to graded items
    (Kang & Chen 2008), on the complete rows of ``x``.

    For item :math:`i`, summed score :math:`s` and category :math:`k`

    .. math:: E_{isk} = \frac{\int P_{ik}(\theta) f^{(-i)}(s - k \mid \theta)\phi(\theta)
       d\theta}{\int f(s \mid \theta)\phi(\theta) d\theta},

    with :math:`f` and :math:`f^{(-i)}` the summed-score likelihoods of all items and of all
    items but :math:`i` (Lord-Wingersky recursion) on the estimation quadrature.  With
    :math:`N_s` persons at score :math:`s` and :math:`O_{isk}` the observed proportion
    answering :math:`k`, :math:`S\text{-}X^2_i = \sum_s N_s\sum_k (O_{isk} -
    E_{isk})^2/E_{isk}` over the cells with :math:`E > 0`.  Collapsing: adjacent score
    groups are pooled, from the lowest score upward, until every category possible in the
    pooled group has an expected count of at least ``min_expected`` (a remainder at the top
    joins the last group).  Degrees of freedom: :math:`\sum_g (c_g - 1)` minus the item's
    number of parameters, :math:`c_g` the categories possible in pooled group :math:`g`.

    Returns the statistics, degrees of freedom and p-values (one per item).
    """
    full = x[~np.isnan(x).any(axis=1)].astype(int)
    probs = [category_probs(a[i], d[i], nodes)[0] for i in range(len(m))]
    total = full.sum(axis=1)
    s_max = int(m.sum())
    n_s = np.bincount(total, minlength=s_max + 1).astype(float)
    f_all = lord_wingersky(probs)                 # Q x (S + 1)
    denom = weights @ f_all                       # S + 1
    chi = np.full(len(m), np.nan)
    dfs = np.full(len(m), np.nan)
    for i in range(len(m)):
        f_rest = lord_wingersky([p for j, p in enumerate(probs) if j != i])
        mi = int(m[i])
        exp_p = np.zeros((s_max + 1, mi + 1))
        for k in range(mi + 1):
            num = weights @ (probs[i][:, [k]] * f_rest)    # over rest-scores
            exp_p[k:k + f_rest.shape[1], k] = num
        with np.errstate(divide="ignore", invalid="ignore"):
            exp_p = np.where(denom[:, None] > 0, exp_p / denom[:, None], 0.0)
        obs = np.zeros((s_max + 1, mi + 1))
        np.add.at(obs, (total, full[:, i]), 1.0)
        ecount = exp_p * n_s[:, None]
        possible = exp_p > 1e-12
        groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        o_acc = np.zeros(mi + 1)
        e_acc = np.zeros(mi + 1)
        p_acc = np.zeros(mi + 1, bool)
        for s in range(s_max + 1):
            if n_s[s] == 0:
                continue
            o_acc += obs[s]
            e_acc += ecount[s]
            p_acc |= possible[s]
            if np.all(e_acc[p_acc] >= min_expected):
                groups.append((o_acc, e_acc, p_acc))
                o_acc, e_acc, p_acc = np.zeros(mi + 1), np.zeros(mi + 1), np.zeros(mi + 1, bool)
        if p_acc.any():
            if groups:
                o0, e0, p0 = groups.pop()
                groups.append((o0 + o_acc, e0 + e_acc, p0 | p_acc))
            else:
                groups.append((o_acc, e_acc, p_acc))
        stat = 0.0
        df = 0
        for o_g, e_g, p_g in groups:
            cells = p_g & (e_g > 0)
            stat += float(np.sum((o_g[cells] - e_g[cells]) ** 2 / e_g[cells]))
            df += int(cells.sum()) - 1
        df -= mi + 1
        chi[i] = stat
        dfs[i] = df
    with np.errstate(invalid="ignore"):
        p = np.where(dfs > 0, chi2_sf(chi, np.maximum(dfs, 1)), np.nan)
    return chi, dfs, p
