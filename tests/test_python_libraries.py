"""pingouin and factor_analyzer as second witnesses of instrval's statistics.

pingouin 0.7 and factor_analyzer 0.5.1 are core dependencies and the Python libraries that
methodologists already use. Where they compute the same thing as R psych, these tests use
them as a second, independent witness of instrval's numbers (the first is R, in the other
test files). Where they differ from psych, the tests pin the difference, so that a user who
switches from them to instrval knows what changes and why
(``/work/shared/reference/PSYCH-NOTES.md``; ``docs/methods/reliability.md`` and
``docs/methods/factor-analysis.md``, section "Compared with pingouin / factor_analyzer").

Agreements (second witness):

* Cronbach's alpha, pairwise and listwise: pingouin = instrval to 1e-12.
* ICC1 ... ICC3k with F, df and p: pingouin = instrval to 1e-12.
* EFA minres + oblimin pattern and structure loadings on complete cases:
  factor_analyzer = instrval to 1e-4 once factor_analyzer's columns are put in psych's
  order (measured gap about 4e-7).
* KMO (overall and per item) on complete cases: factor_analyzer = instrval to 1e-10.

Documented differences (instrval follows psych; the other library does something else):

* pingouin rounds the Feldt CI of alpha to 3 decimals and the ICC CI95 to 2 decimals;
  instrval keeps full precision (pingouin's value = instrval's rounded).
* pingouin's listwise Feldt CI uses the row count *before* dropping incomplete rows;
  instrval uses the number of complete rows (pingouin on ``x.dropna()`` agrees).
* factor_analyzer sorts factors by the sum of squared pattern loadings; psych and instrval
  by ``diag(Phi L'L)`` (the variance each factor accounts for, counting its correlations).
* factor_analyzer's ``phi_`` is not reordered with the loadings (a bug): it belongs to the
  unsorted factors. ``Phi = lstsq(loadings_, structure_)`` is the right matrix.
* factor_analyzer's ``get_communalities()`` is ``rowSums(L^2)``, which ignores Phi; psych
  and instrval report ``diag(L Phi L')``.
* factor_analyzer's KMO fails on data with NaN; instrval uses pairwise correlations (psych).
* factor_analyzer imputes column medians silently; instrval uses pairwise correlations
  (psych) and never imputes.

If pingouin or factor_analyzer is missing these tests fail (import error): they are core
dependencies, so there is no ``importorskip``.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from factor_analyzer import FactorAnalyzer, calculate_kmo
from numpy.testing import assert_allclose

from instrval.stats.dimensionality import kmo
from instrval.stats.efa import efa
from instrval.stats.icc import ICC_TYPES, icc
from instrval.stats.reliability import cronbach_alpha, feldt_interval

# factor_analyzer 0.5.1 calls sklearn's check_array(force_all_finite=...), deprecated in
# scikit-learn 1.6 (removed in 1.8, hence the pin scikit-learn<1.8).
# pingouin 0.7 calls DataFrame.dropna(inplace=True), deprecated in pandas 3.1.
pytestmark = [
    pytest.mark.filterwarnings("ignore:'force_all_finite' was renamed:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.dropna"),
]

DATA = Path(__file__).parent / "data"
FIXTURES = Path(__file__).parent / "fixtures"
SCALES = ("A", "C", "E", "N", "O")
ITEMS = [f"{s}{i}" for s in SCALES for i in range(1, 6)]
#: bfi's reverse-keyed items (psych's bfi.keys), keyed as 7 - x on the 1..6 scale.
REVERSE = ("A1", "C4", "C5", "E1", "E2", "O2", "O5")
#: pingouin 0.7 names -> instrval/psych names (older pingouin used the psych names).
PINGOUIN_ICC = {"ICC(1,1)": "ICC1", "ICC(A,1)": "ICC2", "ICC(C,1)": "ICC3",
                "ICC(1,k)": "ICC1k", "ICC(A,k)": "ICC2k", "ICC(C,k)": "ICC3k"}


# ----------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    return pd.read_csv(DATA / "bfi.csv", index_col=0)


def _scale(bfi: pd.DataFrame, scale: str) -> pd.DataFrame:
    """The five items of one bfi scale, reverse-keyed items recoded 7 - x."""
    x = bfi[[f"{scale}{i}" for i in range(1, 6)]].astype(float)
    for col in x.columns:
        if col in REVERSE:
            x[col] = 7.0 - x[col]
    return x


# ---------------------------------------------------------------------------- alpha
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_alpha_equals_pingouin(bfi, scale, missing):
    """Raw alpha: pingouin.cronbach_alpha = instrval to 1e-12 (measured <= 2.2e-16).

    Both use pandas' pairwise covariance (as psych's ``cov(use="pairwise")``) or drop
    incomplete rows first (listwise).
    """
    x = _scale(bfi, scale)
    a_pg, _ = pg.cronbach_alpha(x, nan_policy=missing)
    res = cronbach_alpha(x, missing=missing)
    assert_allclose(res.alpha, a_pg, rtol=0, atol=1e-12)


def test_reverse_option_equals_seven_minus_x(bfi):
    """instrval's ``reverse=`` on the 1..6 scale is the 7 - x recoding given to pingouin."""
    raw = bfi[[f"A{i}" for i in range(1, 6)]]
    keyed = cronbach_alpha(raw, reverse=["A1"], scale_range=(1, 6))
    a_pg, _ = pg.cronbach_alpha(_scale(bfi, "A"))
    assert_allclose(keyed.alpha, a_pg, rtol=0, atol=1e-12)
    assert_allclose(keyed.alpha, 0.7030184460573037, rtol=0, atol=1e-12)  # psych: .7030


@pytest.mark.parametrize("scale", SCALES)
def test_pingouin_feldt_ci_is_instrval_rounded(bfi, scale):
    """pingouin's Feldt CI (pairwise) = instrval's rounded to 3 dp; instrval's is unrounded.

    Measured gap between pingouin and instrval's full-precision bounds: 2.6e-4 .. 4.9e-4,
    never more than the half unit of the 3rd decimal.
    """
    x = _scale(bfi, scale)
    _, ci_pg = pg.cronbach_alpha(x)
    res = cronbach_alpha(x)
    ci = np.array([res.ci_low, res.ci_high])
    assert_allclose(ci_pg, np.round(ci, 3), rtol=0, atol=1e-12)
    assert np.abs(ci - np.round(ci, 3)).max() > 1e-5  # instrval does not round
    assert np.abs(ci_pg - ci).max() <= 5e-4 + 1e-12
    # and instrval's bound is psych's Feldt formula with n = all rows (pairwise, as psych)
    assert res.n == len(x)
    assert_allclose(ci, feldt_interval(res.alpha, len(x), 5), rtol=0, atol=1e-14)


@pytest.mark.parametrize("scale", SCALES)
def test_pingouin_listwise_ci_uses_n_before_dropna(bfi, scale):
    """pingouin's listwise Feldt CI takes n before dropping incomplete rows (n = 2800).

    instrval's listwise CI uses the complete-case n, which is what pingouin gives when it
    is called on ``x.dropna()``. The unrounded bounds differ by 2.2e-4 .. 3.3e-4 on the
    bfi scales (the F quantiles use df from 2800 rows instead of 2694 .. 2726).
    """
    x = _scale(bfi, scale)
    xc = x.dropna()
    res = cronbach_alpha(x, missing="listwise")
    ci = np.array([res.ci_low, res.ci_high])
    assert res.n == len(xc) < len(x)
    assert_allclose(ci, feldt_interval(res.alpha, len(xc), 5), rtol=0, atol=1e-14)
    # pingouin's bug, reproduced: the listwise alpha with the Feldt n of all rows
    a_pg, ci_pg = pg.cronbach_alpha(x, nan_policy="listwise")
    wrong_n = np.array(feldt_interval(a_pg, len(x), 5))
    assert_allclose(ci_pg, np.round(wrong_n, 3), rtol=0, atol=1e-12)
    assert np.abs(wrong_n - ci).max() > 1e-4
    # the workaround: drop the rows yourself, then pingouin agrees with instrval (rounded)
    _, ci_pg_dropped = pg.cronbach_alpha(xc)
    assert_allclose(ci_pg_dropped, np.round(ci, 3), rtol=0, atol=1e-12)


def test_pingouin_listwise_ci_differs_visibly(bfi):
    """At pingouin's own 3 decimals the wrong n shows on some bfi scales (E and O)."""
    differs = []
    for scale in SCALES:
        x = _scale(bfi, scale)
        _, ci_pg = pg.cronbach_alpha(x, nan_policy="listwise")
        res = cronbach_alpha(x, missing="listwise")
        if not np.allclose(ci_pg, np.round([res.ci_low, res.ci_high], 3), rtol=0, atol=1e-12):
            differs.append(scale)
    assert differs  # measured: ["E", "O"]


# ------------------------------------------------------------------------------ ICC
@pytest.fixture(scope="module")
def shrout_fleiss_long() -> pd.DataFrame:
    wide = pd.read_csv(DATA / "shrout_fleiss.csv", index_col=0)
    return (wide.rename_axis("target").reset_index()
            .melt(id_vars="target", var_name="judge", value_name="score"))


def _pingouin_icc(long: pd.DataFrame) -> pd.DataFrame:
    out = pg.intraclass_corr(long, targets="target", raters="judge", ratings="score")
    out = out.assign(type=out["Type"].map(lambda t: PINGOUIN_ICC.get(t, t)))
    assert list(out["type"]) == list(ICC_TYPES)
    return out.reset_index(drop=True)


def test_icc_equals_pingouin(shrout_fleiss_long):
    """ICC1..ICC3k, F, df1, df2, p: pingouin.intraclass_corr = instrval to 1e-12.

    pingouin 0.7 names the forms ICC(1,1), ICC(A,1), ICC(C,1), ICC(1,k), ICC(A,k),
    ICC(C,k); instrval uses psych's ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k.
    """
    p = _pingouin_icc(shrout_fleiss_long)
    t = icc(shrout_fleiss_long, targets="target", raters="judge", ratings="score").table
    assert_allclose(t["icc"], p["ICC"], rtol=0, atol=1e-12)
    assert_allclose(t["f"], p["F"], rtol=1e-12, atol=0)
    assert_allclose(t["df1"], p["df1"], rtol=0, atol=0)
    assert_allclose(t["df2"], p["df2"], rtol=0, atol=0)
    assert_allclose(t["pvalue"], p["pval"], rtol=0, atol=1e-12)
    # Shrout & Fleiss (1979), Table 4 / psych::ICC
    assert_allclose(t["icc"], [.166, .290, .715, .443, .620, .909], rtol=0, atol=5e-4)


def test_icc_ci_pingouin_rounds_to_two_decimals(shrout_fleiss_long):
    """pingouin's CI95 = instrval's interval rounded to 2 dp (measured gap up to 4.4e-3)."""
    p = _pingouin_icc(shrout_fleiss_long)
    t = icc(shrout_fleiss_long, targets="target", raters="judge", ratings="score").table
    ci_pg = np.vstack(p["CI95"].to_numpy()).astype(float)
    ci = t[["ci_low", "ci_high"]].to_numpy()
    assert_allclose(ci_pg, np.round(ci, 2), rtol=0, atol=1e-12)
    assert np.abs(ci - np.round(ci, 2)).max() > 1e-3  # instrval keeps full precision
    assert np.abs(ci_pg - ci).max() <= 5e-3 + 1e-12


# ------------------------------------------------------------------------------ EFA
def _fit_fa(x: pd.DataFrame, **kw) -> FactorAnalyzer:
    return FactorAnalyzer(n_factors=5, method="minres", rotation="oblimin", **kw).fit(x)


def _phi_from_structure(fa: FactorAnalyzer) -> np.ndarray:
    """Phi consistent with factor_analyzer's sorted loadings: structure = L Phi."""
    return np.linalg.lstsq(fa.loadings_, fa.structure_, rcond=None)[0]


def _psych_order(L: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """psych's factor order: decreasing ``diag(Phi L'L)``."""
    return np.argsort(-np.diag(phi @ L.T @ L), kind="stable")


def _match(L: np.ndarray, ref: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Permutation and reflections of L's columns that best match ref (largest summed
    absolute cross-products); factor order and sign are arbitrary in factor analysis."""
    cross = L.T @ ref
    k = L.shape[1]
    perm = max(itertools.permutations(range(k)),
               key=lambda pm: sum(abs(cross[pm[j], j]) for j in range(k)))
    signs = np.sign([cross[perm[j], j] for j in range(k)])
    return list(perm), signs


@pytest.fixture(scope="module")
def complete_fits(bfi):
    """factor_analyzer and instrval, 5-factor minres + oblimin on the complete cases."""
    x = bfi[ITEMS]
    fa = _fit_fa(x.dropna())
    res = efa(x, n_factors=5, method="minres", rotation="oblimin", missing="listwise")
    assert res.n_obs == len(x.dropna()) == 2436
    return fa, res


def test_efa_loadings_equal_after_psych_order(complete_fits):
    """Pattern and structure loadings: factor_analyzer = instrval to 1e-4 (measured 4e-7)
    after putting factor_analyzer's columns in psych's order.

    factor_analyzer sorts the factors by the sum of squared pattern loadings; psych (and
    instrval) by ``diag(Phi L'L)``, the variance each factor accounts for including its
    correlations with the others. On bfi's complete cases the 2nd and 3rd factors swap
    (raw difference .71). Signs: both make column sums positive.
    """
    fa, res = complete_fits
    L_iv = res.loading_matrix
    ssl = (fa.loadings_**2).sum(axis=0)
    assert np.all(np.diff(ssl) <= 0)  # factor_analyzer: decreasing sum of squares
    ev = np.diag(res.phi.to_numpy() @ L_iv.T @ L_iv)
    assert np.all(np.diff(ev) <= 0)  # instrval: decreasing diag(Phi L'L)
    assert np.abs(fa.loadings_ - L_iv).max() > 0.5  # unaligned: columns 2 and 3 swapped

    phi = _phi_from_structure(fa)
    order = _psych_order(fa.loadings_, phi)
    assert list(order) == [0, 2, 1, 3, 4]
    assert (_match(fa.loadings_, L_iv)[0]) == list(order)  # the best match, independently
    signs = np.sign(fa.loadings_[:, order].sum(axis=0))
    assert np.all(signs == 1)
    assert_allclose(fa.loadings_[:, order] * signs, L_iv, rtol=0, atol=1e-4)
    assert_allclose(fa.structure_[:, order] * signs, res.structure[res.factors].to_numpy(),
                    rtol=0, atol=1e-4)


def test_efa_phi_attribute_not_reordered(complete_fits):
    """factor_analyzer's ``phi_`` belongs to the unsorted factors (a bug): it is not
    reordered when the loadings are sorted, so ``loadings_ @ phi_ != structure_`` and
    ``phi_`` differs from instrval's Phi by .53 after alignment. Recomputed as
    ``lstsq(loadings_, structure_)`` it matches instrval to 1e-4 (measured 1.4e-7)."""
    fa, res = complete_fits
    phi_iv = res.phi.to_numpy()
    phi = _phi_from_structure(fa)
    order = _psych_order(fa.loadings_, phi)
    # the documented bug
    assert np.abs(fa.phi_[np.ix_(order, order)] - phi_iv).max() > 0.3
    assert np.abs(fa.loadings_ @ fa.phi_ - fa.structure_).max() > 0.05
    # phi_ is the right matrix in the wrong (pre-sort) order
    perms = [pm for pm in itertools.permutations(range(5))
             if np.allclose(fa.phi_[np.ix_(pm, pm)], phi, rtol=0, atol=1e-6)]
    assert perms and all(list(pm) != list(range(5)) for pm in perms)
    # the fix
    assert_allclose(fa.loadings_ @ phi, fa.structure_, rtol=0, atol=1e-10)
    assert_allclose(phi[np.ix_(order, order)], phi_iv, rtol=0, atol=1e-4)


def test_efa_communalities_ignore_phi(complete_fits):
    """factor_analyzer's ``get_communalities()`` is ``rowSums(L^2)`` of the oblique pattern,
    which ignores Phi; instrval (psych) reports ``diag(L Phi L')``, the h2 of the unrotated
    solution. The largest gap is .117 (E3). ``diag(L Phi L')`` from factor_analyzer's
    loadings and the recomputed Phi matches instrval to 1e-4 (measured 4e-7)."""
    fa, res = complete_fits
    h2_iv = res.communalities.to_numpy()
    h2_fa = fa.get_communalities()
    assert_allclose(h2_fa, (fa.loadings_**2).sum(axis=1), rtol=0, atol=1e-12)
    gap = np.abs(h2_fa - h2_iv)
    assert gap.max() > 0.05
    assert ITEMS[int(np.argmax(gap))] == "E3"
    assert np.abs(fa.get_uniquenesses() - res.uniquenesses.to_numpy()).max() > 0.05
    phi = _phi_from_structure(fa)
    assert_allclose(np.diag(fa.loadings_ @ phi @ fa.loadings_.T), h2_iv, rtol=0, atol=1e-4)


def test_impute_drop_equals_listwise(bfi, complete_fits):
    """``FactorAnalyzer(impute="drop")`` on the raw data is the complete-case analysis."""
    fa_cc, res = complete_fits
    fa_drop = _fit_fa(bfi[ITEMS], impute="drop")
    assert_allclose(fa_drop.loadings_, fa_cc.loadings_, rtol=0, atol=1e-6)


def test_median_imputation_differs_from_pairwise(bfi):
    """With NaN, factor_analyzer (default ``impute="median"``) fills each column's median
    and analyses the filled data; psych and instrval use pairwise correlations. Even after
    the best matching of order and sign, the loadings differ by 6.9e-3 (> 1e-3).

    The filled-in medians also shrink variances and correlations, and here they turn the
    extraversion factor around: its column sum is near 0 (E1, E2 unkeyed), so the sign
    rule (positive column sums) flips it, which is one more reason instrval does not
    impute. factor_analyzer's result is instrval's on ``x.fillna(x.median())`` (1e-4),
    and instrval's pairwise result is psych's (``tests/fixtures/efa_bfi.json``, 1e-4).
    """
    x = bfi[ITEMS]
    assert x.isna().any(axis=None)
    fa = _fit_fa(x)
    res = efa(x, n_factors=5, method="minres", rotation="oblimin")  # pairwise
    L_iv = res.loading_matrix
    perm, signs = _match(fa.loadings_, L_iv)
    L_fa = fa.loadings_[:, perm] * signs
    gap = np.abs(L_fa - L_iv).max()
    assert gap > 1e-3
    assert gap < 0.05  # the same solution, disturbed by the imputation
    assert np.any(signs == -1)  # a reflected factor (extraversion)

    r_fix = json.loads((FIXTURES / "efa_bfi.json").read_text())
    L_r = np.asarray(r_fix["cases"]["pairwise_minres_oblimin"]["loadings"], dtype=float)
    assert_allclose(L_iv, L_r, rtol=0, atol=1e-4)
    assert np.abs(L_fa - L_r).max() > 1e-3

    imputed = efa(x.fillna(x.median()), n_factors=5, method="minres", rotation="oblimin")
    perm2, signs2 = _match(fa.loadings_, imputed.loading_matrix)
    assert_allclose(fa.loadings_[:, perm2] * signs2, imputed.loading_matrix, rtol=0, atol=1e-4)


# ------------------------------------------------------------------------------ KMO
def test_kmo_complete_cases_equal_factor_analyzer(bfi):
    """KMO overall and per item on complete cases: factor_analyzer = instrval to 1e-10
    (measured 2e-15), whether instrval drops the rows (``missing="listwise"``) or is given
    the complete-case data."""
    x = bfi[ITEMS]
    msai_fa, msa_fa = calculate_kmo(x.dropna())
    for res in (kmo(x, missing="listwise"), kmo(x.dropna())):
        assert_allclose(res.msa, msa_fa, rtol=0, atol=1e-10)
        assert_allclose(res.items["msa"], msai_fa, rtol=0, atol=1e-10)
    r_fix = json.loads((FIXTURES / "dimensionality_bfi.json").read_text())
    assert_allclose(msa_fa, r_fix["kmo_complete_msa"], rtol=0, atol=1e-10)


def test_kmo_with_nan_fails_in_factor_analyzer_not_in_instrval(bfi):
    """With NaN, factor_analyzer's KMO raises (LinAlgError "SVD did not converge" with
    numpy 2) or returns NaN; instrval uses pairwise correlations and n = all rows, as
    ``psych::KMO(x)`` (.8459, ``tests/fixtures/dimensionality_bfi.json``, 1e-10)."""
    x = bfi[ITEMS]
    try:
        with np.errstate(all="ignore"):
            _, msa_fa = calculate_kmo(x)
    except (np.linalg.LinAlgError, ValueError):
        fa_failed = True
    else:
        fa_failed = not np.isfinite(msa_fa)
    assert fa_failed

    res = kmo(x)
    r_fix = json.loads((FIXTURES / "dimensionality_bfi.json").read_text())
    assert_allclose(res.msa, r_fix["kmo_msa"], rtol=0, atol=1e-10)
    assert_allclose(res.items["msa"], r_fix["kmo_msai"], rtol=0, atol=1e-10)
    assert abs(res.msa - kmo(x, missing="listwise").msa) > 1e-3  # the incomplete rows count
