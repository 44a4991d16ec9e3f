"""WLSMV with binary items whose 2 x 2 tables have an empty cell, against lavaan 0.6.14.

lavaan moves 0.5 into the empty cell of a 2 x 2 table (``zero.add = c(0.5, 0)``, keeping the
margins) to estimate the tetrachoric correlation, but builds Gamma from the cases' own
scores, i.e. from the observed counts.  Building the threshold-correlation cross-products
from the adjusted counts gave Gamma elements of 627 where lavaan has 15.05, and a chi-square
of 27.6 instead of 52.4 on these data.

Reference values: tests/fixtures/cfa_zero_cells.json, written by
tests/fixtures/r/cfa_zero_cells.R from tests/fixtures/binary_zero_cells.csv (300 simulated
respondents, 12 Rasch-like binary items; 12 of the 66 tables have one empty cell).
Tolerances: Gamma at 1e-6 of its largest element; correlations atol 1e-6; fit measures
rtol 1e-5; estimates and SEs atol 1e-4.
"""

from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.stats.cfa_ordinal import cfa_ordinal

HERE = Path(__file__).parent
FIX = json.loads((HERE / "fixtures" / "cfa_zero_cells.json").read_text())
DATA = pd.read_csv(HERE / "fixtures" / "binary_zero_cells.csv")


@pytest.fixture(scope="module")
def res():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cfa_ordinal(DATA, {"f": list(DATA.columns)})


def test_the_data_have_tables_with_one_empty_cell():
    empty = []
    for a, b in itertools.combinations(DATA.columns, 2):
        tab = pd.crosstab(DATA[a], DATA[b]).reindex(index=[0, 1], columns=[0, 1], fill_value=0)
        empty.append(int((tab.to_numpy() == 0).sum()))
    assert empty.count(1) == 12 and max(empty) == 1


def test_gamma_matches_lavaan(res):
    gamma = np.array(FIX["gamma"])
    assert_allclose(res.nacov.to_numpy(), gamma, atol=1e-6 * np.abs(gamma).max())
    assert_allclose(res.sample_covariance.to_numpy(), np.array(FIX["sample_cor"]), atol=1e-6)


def test_fit_matches_lavaan(res):
    ref = FIX["fit"]
    for ours, theirs in [("chi2", "chisq"), ("chi2_scaled", "chisq.scaled"),
                         ("scaling_factor", "chisq.scaling.factor"), ("cfi", "cfi"),
                         ("cfi_scaled", "cfi.scaled"), ("tli_scaled", "tli.scaled"),
                         ("rmsea_scaled", "rmsea.scaled"), ("srmr", "srmr")]:
        assert_allclose(res.fit[ours], ref[theirs], rtol=1e-5, err_msg=ours)


def test_estimates_and_ses_match_lavaan(res):
    ref = pd.DataFrame(FIX["params"])
    lo = ref[ref["op"] == "=~"]
    ours = res.loadings.set_index("item_id").loc[lo["rhs"]]
    assert_allclose(ours["estimate"], lo["est"], atol=1e-4)
    assert_allclose(ours["se"].fillna(0.0), lo["se"], atol=1e-4)
    th = ref[ref["op"] == "|"]
    assert_allclose(res.thresholds["estimate"], th["est"], atol=1e-6)
    assert_allclose(res.thresholds["se"], th["se"], atol=1e-4)
