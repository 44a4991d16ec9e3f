"""instrval.stats.efa against R psych::fa (tests/fixtures/r/efa.R -> efa_bfi.json).

Tolerances: minres and ml are iterative (L-BFGS-B); psych stops at optim's default
(factr = 1e7) and instrval at a tighter tolerance, so estimates are compared at 1e-4
(absolute; observed differences are below 1e-5) and chi2 at a relative 1e-5. pa is the same
deterministic iteration as psych's (same start, update and stop rule), so it is compared at
1e-8, both with psych's loose default (min.err = .001) and with min.err = 1e-10.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import ConvergenceWarning, HeywoodWarning, StatisticsError
from instrval.stats.efa import efa

ROOT = Path(__file__).resolve().parents[1]
FIX = json.loads((ROOT / "tests/fixtures/efa_bfi.json").read_text())
BFI = pd.read_csv(ROOT / "tests/data/bfi.csv", index_col=0)[FIX["items"]]
P = len(FIX["items"])

CASES = [k for k in FIX["cases"] if k.split("_")[0] in ("pairwise", "complete")]


def _run(key: str):
    data, fm, rot = key.split("_")[:3]
    c = FIX["cases"][key]
    k = len(c["factor_names"]) if isinstance(c["factor_names"], list) else 1
    kw = {"min_err": 1e-10, "max_iter": 1000} if key.endswith("_tight") else {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these solutions is improper
        res = efa(BFI, n_factors=k, method=fm, rotation=rot,
                  missing="pairwise" if data == "pairwise" else "listwise", **kw)
    return res, c, k


@pytest.mark.parametrize("key", CASES)
def test_efa_matches_psych(key):
    res, c, k = _run(key)
    tol = 1e-8 if "_pa_" in key else 1e-4
    assert_allclose(res.loading_matrix, np.array(c["loadings"]).reshape(P, k), atol=tol)
    assert_allclose(res.communalities.to_numpy(), c["communality"], atol=tol)
    assert_allclose(res.uniquenesses.to_numpy(), c["uniquenesses"], atol=tol)
    assert_allclose(res.phi.to_numpy(), np.array(c["phi"]).reshape(k, k), atol=tol)
    assert_allclose(res.structure[res.factors].to_numpy(),
                    np.array(c["structure"]).reshape(P, k), atol=tol)
    assert_allclose(res.eigenvalues["eigenvalue"], c["e_values"], atol=1e-10)
    assert_allclose(res.eigenvalues["common_factor"], c["values"], atol=tol)
    va = np.array(c["vaccounted"]).reshape(-1, k)
    cols = ["ss_loadings", "proportion_var", "cumulative_var", "proportion_explained",
            "cumulative_proportion"][: va.shape[0]]
    assert_allclose(res.variance[cols].to_numpy().T, va, atol=tol)
    assert res.fit.df == c["df"]
    assert res.n_obs == c["n_obs"]
    rtol = 1e-9 if "_pa_" in key else 1e-5
    assert_allclose(res.fit.chi2, c["chi2"], rtol=rtol)
    assert_allclose(res.fit.objective, c["objective"], rtol=rtol)
    assert_allclose(res.fit.rmsea, c["rmsea"], atol=1e-6)
    assert_allclose(res.fit.tli, c["tli"], atol=1e-6)
    assert_allclose(res.fit.bic, c["bic"], rtol=rtol * 10)
    assert_allclose(res.fit.pvalue, c["pvalue"], atol=1e-12)
    assert res.converged and not res.heywood and res.warnings == ()


def test_headline_minres_oblimin():
    res = efa(BFI, n_factors=5)
    assert round(res.fit.chi2, 2) == 1808.94
    assert res.fit.df == 185
    assert round(res.fit.rmsea, 4) == 0.0560
    assert round(res.fit.tli, 4) == 0.8673
    assert res.factors == ["MR1", "MR2", "MR3", "MR4", "MR5"]
    # Phi is reordered with the factors: unit diagonal, symmetric
    assert_allclose(np.diag(res.phi), 1.0, atol=1e-12)
    # communality = diag(L Phi L') of the rotated solution (not rowSums(L^2))
    L = res.loading_matrix
    assert_allclose(np.diag(L @ res.phi.to_numpy() @ L.T), res.communalities, atol=1e-10)


def test_correlation_matrix_input_with_n_obs():
    c = FIX["cases"]["matrix_minres_oblimin"]
    R = pd.DataFrame(np.array(FIX["corr_pairwise"]).reshape(P, P), index=FIX["items"],
                     columns=FIX["items"])
    res = efa(R, n_factors=5, n_obs=2800)
    assert_allclose(res.loading_matrix, np.array(c["loadings"]).reshape(P, 5), atol=1e-4)
    assert_allclose(res.fit.chi2, c["chi2"], rtol=1e-5)
    # without n_obs the fit statistics that need n are NaN, not made up
    res2 = efa(R, n_factors=5)
    assert np.isnan(res2.fit.chi2) and np.isfinite(res2.fit.objective)


def test_polychoric_path_matches_psych():
    """fa(x, 2, cor="poly") on A1-A5, C1-C5. The polychoric correlations come from
    instrval.stats.correlation; psych's own polychoric is accurate to about 1e-4 (its
    optimize() tolerance), hence 1e-4 here."""
    c = FIX["cases"]["polychoric_minres_oblimin_2"]
    cols = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    res = efa(BFI[cols], n_factors=2, corr="polychoric")
    assert res.corr == "polychoric"
    assert_allclose(res.loading_matrix, np.array(c["loadings"]).reshape(10, 2), atol=1e-4)
    assert_allclose(res.phi.to_numpy(), np.array(c["phi"]).reshape(2, 2), atol=1e-4)
    assert_allclose(res.fit.chi2, c["chi2"], rtol=1e-4)
    assert res.n_obs == c["n_obs"]


def _heywood_matrix():
    # one factor, four items; l1^2 = r12 r13 / r23 = .8 * .8 / .45 > 1 forces a Heywood case
    R = np.array([[1.0, 0.80, 0.80, 0.5],
                  [0.80, 1.0, 0.45, 0.3],
                  [0.80, 0.45, 1.0, 0.3],
                  [0.5, 0.3, 0.3, 1.0]])
    assert np.linalg.eigvalsh(R).min() > 0
    return pd.DataFrame(R, index=list("abcd"), columns=list("abcd"))


@pytest.mark.parametrize("method", ["minres", "ml", "pa"])
def test_heywood_case_warns_and_flags(method):
    with pytest.warns(HeywoodWarning, match="Heywood"):
        res = efa(_heywood_matrix(), n_factors=1, method=method, n_obs=300)
    assert res.heywood == ("a",)
    assert any("Heywood" in w for w in res.warnings)
    assert res.to_dict()["heywood"] == ["a"]


@pytest.mark.parametrize("method,max_iter", [("minres", 1), ("ml", 1), ("pa", 2)])
def test_non_convergence_warns_and_flags(method, max_iter):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = efa(BFI, n_factors=5, method=method, max_iter=max_iter)
    assert res.converged is False
    assert any("converge" in w for w in res.warnings)


def test_bad_arguments():
    with pytest.raises(StatisticsError, match="minres, ml, pa"):
        efa(BFI, n_factors=2, method="uls")
    with pytest.raises(StatisticsError, match="oblimin"):
        efa(BFI, n_factors=2, rotation="bentlerQ")
    with pytest.raises(StatisticsError, match="too many"):
        efa(BFI.iloc[:, :3], n_factors=3)
    with pytest.raises(StatisticsError, match="positive integer"):
        efa(BFI, n_factors=0)
    with pytest.raises(StatisticsError, match="no variance"):
        efa(BFI.assign(A1=1.0), n_factors=1)


def test_to_dict_is_json_ready():
    d = efa(BFI, n_factors=5).to_dict()
    json.dumps(d, allow_nan=False)
    for key in ("loadings", "communalities", "uniquenesses", "phi", "eigenvalues", "fit",
                "warnings"):
        assert key in d
    for key in ("chi2", "df", "rmsea", "tli", "bic"):
        assert key in d["fit"]
    assert len(d["loadings"]["A1"]) == 5


def test_cli_efa_json(cli_json):
    d = cli_json("efa", ROOT / "tests/data/bfi.csv", "--instrument",
                 ROOT / "instruments/bfi/bfi-1.0.yaml", "--factors", "5", "--json")
    assert_allclose(d["fit"]["chi2"], 1808.94278487624, rtol=1e-5)
    assert list(d["loadings"]) == FIX["items"]  # not reversed: the data as given
    c = FIX["cases"]["pairwise_minres_oblimin"]
    assert_allclose(np.array(list(d["loadings"].values())),
                    np.array(c["loadings"]).reshape(P, 5), atol=1e-4)


def test_cli_missing_items_names_file_and_items(run_cli):
    out = run_cli("efa", ROOT / "tests/data/bfi.csv", "--items", "A1,A2,Z1,Z2", "--factors", "1")
    assert out.exit_code == 1
    assert "bfi.csv" in out.output and "Z1, Z2" in out.output


TET = json.loads((Path(__file__).parent / "fixtures" / "efa_tetrachoric.json").read_text())


@pytest.mark.parametrize("case,k,rotation", [("minres_oblimin_4", 4, "oblimin"),
                                             ("minres_none_1", 1, "none")])
def test_tetrachoric_path_matches_psych(case, k, rotation):
    """fa(ability, k, cor="tet") on the 16 ICAR items (tests/fixtures/efa_tetrachoric.json).
    psych's tetrachoric optimiser is accurate to about 1e-4, hence 1e-4 here."""
    c = TET["cases"][case]
    ab = pd.read_csv(Path(__file__).parent / "data" / "ability.csv")
    res = efa(ab, n_factors=k, corr="tetrachoric", rotation=rotation)
    assert res.corr == "tetrachoric"
    L = np.array(c["loadings"]).reshape(16, k)
    got = res.loading_matrix
    # factor order and sign may differ after rotation: match columns to psych's
    for j in range(k):
        best = int(np.argmax([abs(np.corrcoef(L[:, j], got[:, m])[0, 1]) for m in range(k)]))
        sign = np.sign(np.dot(L[:, j], got[:, best]))
        assert_allclose(sign * got[:, best], L[:, j], atol=1e-4)
    assert_allclose(res.communalities.to_numpy() if hasattr(res.communalities, "to_numpy")
                    else res.communalities, c["communality"], atol=1e-4)
    assert_allclose(res.fit.chi2, c["chi2"], rtol=1e-3)


def test_cli_efa_tetrachoric_names_correlations_and_p(run_cli):
    ab = Path(__file__).parent / "data" / "ability.csv"
    r = run_cli("efa", ab, "--factors", "1", "--corr", "tetrachoric")
    assert r.exit_code == 0, r.output
    assert "on tetrachoric correlations" in r.output
    assert "p < .001" in r.output and "p = 0," not in r.output
    assert "1 factor on" in r.output


def test_kmo_and_bartlett_on_tetrachoric_correlations_match_psych():
    """KMO(tetrachoric(ability)$rho) and cortest.bartlett(rho, n = 1525), as the report
    computes them on the correlations its EFA analysed."""
    from instrval.stats.dimensionality import bartlett, kmo

    ab = pd.read_csv(Path(__file__).parent / "data" / "ability.csv")
    res = efa(ab, n_factors=4, corr="tetrachoric")
    assert_allclose(kmo(res.correlation).msa, TET["kmo"], atol=1e-4)
    b = bartlett(res.correlation, n=TET["n"])
    assert_allclose(b.chi2, TET["bartlett"]["chisq"], rtol=1e-3)
    assert b.df == TET["bartlett"]["df"]


def test_smoothing_is_warned_once_and_recorded():
    """A polychoric matrix that is not positive definite is smoothed once: one
    SmoothingWarning (from the correlations), and the EFA result records it."""
    from instrval.errors import SmoothingWarning

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.integers(1, 5, size=(25, 10)).astype(float),
                     columns=[f"i{j}" for j in range(10)])
    x = x.mask(rng.random(x.shape) < 0.3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = efa(x, n_factors=2, corr="polychoric")
    smooth = [w for w in caught if issubclass(w.category, SmoothingWarning)]
    assert len(smooth) == 1
    assert any("smoothed" in m for m in res.warnings)


def test_dominant_groups_sums_absolute_loadings(bfi_items):
    """Each factor's group is the one whose items' |loadings| sum highest (the report's
    "which construct a factor carries"); worked by hand from the loadings."""
    items = ["A1", "A2", "A3", "A4", "A5", "N1", "N2", "N3", "N4", "N5"]
    res = efa(bfi_items[items].dropna(), n_factors=2, method="minres", rotation="oblimin")
    groups = {i: ("agreeableness" if i.startswith("A") else "neuroticism") for i in items}
    lo = res.loadings.set_index("item_id")
    want = {}
    for f in res.factors:
        sums = {g: sum(abs(lo.loc[i, f]) for i in items if groups[i] == g)
                for g in set(groups.values())}
        want[f] = max(sums, key=sums.get)
    assert res.dominant_groups(groups) == want
    assert sorted(want.values()) == ["agreeableness", "neuroticism"]
    assert res.dominant_groups({}) == {}
