"""instrval.stats.dimensionality against R psych (tests/fixtures/r/dimensionality.R ->
dimensionality_bfi.json): KMO, cortest.bartlett, eigenvalues and VSS's MAP are closed forms
(compared at 1e-10); fa.parallel's observed factor eigenvalues come from a one-factor
minres fit (1e-5); its simulations are random, so only psych's stable suggestions
(6 factors, 6 components on bfi) are compared, plus the simulated means within sampling
error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.stats.dimensionality import (
    bartlett,
    eigenvalues,
    kmo,
    parallel_analysis,
    velicer_map,
)

ROOT = Path(__file__).resolve().parents[1]
FIX = json.loads((ROOT / "tests/fixtures/dimensionality_bfi.json").read_text())
BFI = pd.read_csv(ROOT / "tests/data/bfi.csv", index_col=0)[FIX["items"]]


def test_kmo_pairwise_with_missing_values():
    assert BFI.isna().any().any()
    res = kmo(BFI)
    assert_allclose(res.msa, FIX["kmo_msa"], atol=1e-10)
    assert_allclose(res.items["msa"], FIX["kmo_msai"], atol=1e-10)
    assert list(res.items["item_id"]) == FIX["items"]
    assert round(res.msa, 4) == 0.8459


def test_kmo_complete_cases():
    res = kmo(BFI, missing="listwise")
    assert_allclose(res.msa, FIX["kmo_complete_msa"], atol=1e-10)
    assert_allclose(res.items["msa"], FIX["kmo_complete_msai"], atol=1e-10)


def test_bartlett():
    res = bartlett(BFI)
    assert_allclose(res.chi2, FIX["bartlett_chisq"], rtol=1e-10)
    assert res.df == FIX["bartlett_df"] and res.n == 2800
    assert_allclose(res.pvalue, FIX["bartlett_p"], atol=1e-12)
    res = bartlett(BFI, missing="listwise")
    assert_allclose(res.chi2, FIX["bartlett_complete_chisq"], rtol=1e-10)
    # from a correlation matrix n must be given
    R = BFI.corr()
    assert_allclose(bartlett(R, n=2800).chi2, FIX["bartlett_chisq"], rtol=1e-10)
    with pytest.raises(StatisticsError, match="needs n"):
        bartlett(R)


def test_eigenvalues():
    ev = eigenvalues(BFI)
    assert_allclose(ev["eigenvalue"], FIX["eigenvalues"], atol=1e-10)
    assert_allclose(ev["cumulative"].iloc[-1], 1.0)


def test_velicer_map():
    res = velicer_map(BFI)
    assert_allclose(res.table["map"], FIX["map"], atol=1e-12, rtol=1e-10)
    assert res.n_factors == int(np.argmin(FIX["map"])) + 1 == 5
    res = velicer_map(BFI, missing="listwise")
    assert_allclose(res.table["map"], FIX["map_complete"], atol=1e-12, rtol=1e-10)


def test_parallel_observed_eigenvalues():
    res = parallel_analysis(BFI, n_iter=5, seed=1)
    assert_allclose(res.table["observed_pc"], FIX["parallel_pc_values"], atol=1e-10)
    assert_allclose(res.table["observed_fa"], FIX["parallel_fa_values"], atol=1e-5)
    assert list(res.table.columns[:5]) == ["factor", "observed_fa", "simulated_fa",
                                           "observed_pc", "simulated_pc"]


@pytest.mark.parametrize("seed,quantile", [(1, None), (2, None), (3, None), (4, 0.95),
                                           (5, 0.95)])
def test_parallel_suggests_what_psych_suggests(seed, quantile):
    res = parallel_analysis(BFI, n_iter=20, seed=seed, quantile=quantile)
    assert (res.nfact, res.ncomp) == (6, 6)
    assert all(p["nfact"] == 6 and p["ncomp"] == 6 for p in FIX["parallel"])


def test_parallel_simulated_means_agree_in_distribution():
    res = parallel_analysis(BFI, n_iter=40, seed=7)
    r_means = np.mean([p["fa_sim_mean"] for p in FIX["parallel"]], axis=0)
    # SD of an eigenvalue of a random 2800 x 25 correlation matrix is about .02
    assert_allclose(res.table["simulated_fa"], r_means, atol=0.02)
    r_pc = np.mean([p["pc_sim_mean"] for p in FIX["parallel"]], axis=0)
    assert_allclose(res.table["simulated_pc"], r_pc, atol=0.02)


def test_parallel_is_reproducible_and_checks_arguments():
    a = parallel_analysis(BFI, n_iter=3, seed=11)
    b = parallel_analysis(BFI, n_iter=3, seed=11)
    pd.testing.assert_frame_equal(a.table, b.table)
    with pytest.raises(StatisticsError, match="positive integer"):
        parallel_analysis(BFI, n_iter=0)
    with pytest.raises(StatisticsError, match="quantile"):
        parallel_analysis(BFI, quantile=95)
    with pytest.raises(StatisticsError, match="item data"):
        parallel_analysis(BFI.corr())


def test_cli_factors_json(cli_json):
    d = cli_json("factors", ROOT / "tests/data/bfi.csv", "--instrument",
                 ROOT / "instruments/bfi/bfi-1.0.yaml", "--seed", "1", "--json")
    assert_allclose(d["kmo"]["msa"], FIX["kmo_msa"], atol=1e-10)
    assert_allclose(d["bartlett"]["chi2"], FIX["bartlett_chisq"], rtol=1e-10)
    assert_allclose(d["eigenvalues"], FIX["eigenvalues"], atol=1e-10)
    assert d["suggested"] == {"parallel_factors": 6, "parallel_components": 6, "map": 5}
