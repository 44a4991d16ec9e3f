"""Rasch, partial credit and rating scale models (instrval.stats.irt) against R's eRm
(tests/fixtures/irt_erm.json, written by tests/fixtures/r/irt_erm.R).

eRm estimates with nlm (gradient tolerance about 1e-6), so agreement is checked at 1e-3
(observed: below 2e-4 for every quantity)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.stats.irt import IRTResult, irt

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "irt_erm.json").read_text())
CASES = {c["name"]: c for c in FIXTURE["cases"]}
MODEL = {"RM": "rasch", "PCM": "pcm", "RSM": "rsm"}
TOL = 1e-3


def _frame(case: dict) -> pd.DataFrame:
    data = [[np.nan if v is None else v for v in row] for row in case["data"]]
    return pd.DataFrame(data, columns=case["items"])


def _arr(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.fixture(scope="module")
def fits() -> dict[str, IRTResult]:
    return {name: irt(_frame(c), model=MODEL[c["model"]], lr_test="lrtest" in c)
            for name, c in CASES.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_loglik_and_parameters_match_erm(fits: dict[str, IRTResult], name: str) -> None:
    case, res = CASES[name], fits[name]
    assert res.converged
    assert res.estimation == "CML"
    assert res.npar == case["npar"]
    assert_allclose(res.loglik, case["loglik"], atol=TOL)
    beta = np.asarray(case["betapar"])
    if case["model"] == "RM":
        # eRm's betapar are easiness parameters: difficulty = -beta, summing to zero
        assert_allclose(res.items["difficulty"], -beta, atol=TOL)
        assert_allclose(res.items["se"], case["se_beta"], atol=TOL)
        assert abs(res.items["difficulty"].sum()) < 1e-10
    else:
        th = case["thresholds"]
        assert_allclose(res.thresholds["value"], th["thresh"], atol=TOL)
        assert_allclose(res.thresholds["se"], th["se"], atol=TOL)
        assert_allclose(res.items["location"], th["location"], atol=TOL)


@pytest.mark.parametrize("name", list(CASES))
def test_item_fit_matches_erm_itemfit(fits: dict[str, IRTResult], name: str) -> None:
    f, it = CASES[name]["itemfit"], fits[name].items
    for key in ("outfit", "infit", "outfit_t", "infit_t"):
        assert_allclose(it[key], f[key], atol=TOL, err_msg=key)


@pytest.mark.parametrize("name", list(CASES))
def test_person_parameters_match_erm(fits: dict[str, IRTResult], name: str) -> None:
    p, sc = CASES[name]["person"], fits[name].scores
    assert_allclose(sc["raw_score"], p["raw_score"])
    # ML estimates for non-extreme scores; eRm's spline extrapolation for extreme ones
    assert_allclose(sc["theta"], _arr(p["theta"]), atol=TOL)
    assert_allclose(sc["se"], _arr(p["se"]), atol=TOL)
    assert list(sc["extreme"]) == list(p["interpolated"])


@pytest.mark.parametrize("name", list(CASES))
def test_person_separation_reliability_matches_sep_rel(fits: dict[str, IRTResult],
                                                       name: str) -> None:
    assert_allclose(fits[name].reliability, CASES[name]["separation"]["reliability"], atol=TOL)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if "lrtest" in c])
def test_andersen_lr_test_matches_erm(fits: dict[str, IRTResult], name: str) -> None:
    lr, ref = fits[name].lr_test, CASES[name]["lrtest"]
    assert lr is not None
    assert_allclose(lr.lr, ref["lr"], atol=TOL)
    assert lr.df == ref["df"]
    assert_allclose(lr.p, ref["p"], atol=1e-6)
    assert_allclose([lr.loglik_low, lr.loglik_high], ref["loglik_groups"], atol=TOL)
    # items without every category in both groups are left out, as eRm
    assert list(lr.excluded_items) == ref["excluded"]


def test_rsm_parameterisation_is_item_plus_category() -> None:
    """RSM thresholds: tau_ih = delta_i + c_h, the same category steps for every item."""
    res = irt(_frame(CASES["pcmdat2_rsm"]), model="rsm", lr_test=False)
    tab = res.thresholds.pivot(index="item_id", columns="threshold", values="value")
    steps = tab[2] - tab[1]
    assert_allclose(steps, steps.iloc[0], atol=1e-10)


def test_rasch_information_is_item_variance(fits: dict[str, IRTResult]) -> None:
    res = fits["raschdat1"]
    info = res.information
    one = info[info["item_id"] == "I1"]
    b = res.items.loc[0, "difficulty"]
    p = 1 / (1 + np.exp(-(one["theta"].to_numpy() - b)))
    assert_allclose(one["information"], p * (1 - p), rtol=1e-10)
    tot = info.groupby("theta")["information"].sum().to_numpy()
    assert_allclose(res.test_information["information"], tot, rtol=1e-12)
    assert_allclose(res.test_information["se"], 1 / np.sqrt(tot), rtol=1e-12)


def test_misfit_rule_flags_items_outside_range(fits: dict[str, IRTResult]) -> None:
    res = fits["pcmdat2_pcm"]
    it = res.items
    expected = (it["infit"] < 0.7) | (it["infit"] > 1.3) | (it["outfit"] < 0.7) | (it["outfit"] > 1.3)
    assert list(it["misfit"]) == list(expected)
    assert "0.7" in res.misfit_rule and "1.3" in res.misfit_rule
    assert res.misfitting == list(it.loc[expected, "item_id"])


def test_to_dict_has_the_documented_keys(fits: dict[str, IRTResult]) -> None:
    d = fits["pcmdat2_pcm"].to_dict()
    assert {"model", "n", "loglik", "items", "information", "scores", "reliability",
            "lr_test", "misfit_rule", "converged"} <= set(d)
    item = d["items"][0]
    for key in ("item_id", "difficulty", "se", "a", "thresholds", "infit", "outfit", "s_x2",
                "df", "p", "misfit"):
        assert key in item
    assert len(item["thresholds"]) == 2 and item["a"] is None
    assert len(d["information"]["theta"]) == len(d["information"]["test"])
    assert len(d["scores"]) == 300
    json.dumps(d)


def test_lowest_category_is_recoded_to_zero() -> None:
    df = _frame(CASES["pcmdat2_pcm"])
    a = irt(df, model="pcm", lr_test=False)
    b = irt(df + 1, model="pcm", lr_test=False)
    assert b.lowest == 1.0
    assert_allclose(a.thresholds["value"], b.thresholds["value"], atol=1e-10)


def test_rows_without_answers_are_dropped_and_reported() -> None:
    df = _frame(CASES["pcmdat2_pcm"])
    df.loc[len(df)] = np.nan
    res = irt(df, model="pcm", lr_test=False)
    assert res.n == 300
    assert res.rows_dropped == (300,)


@pytest.mark.parametrize(("frame", "model", "message"), [
    (pd.DataFrame({"a": [0, 1, 2], "b": [1, 0, 1]}), "rasch", "binary items"),
    (pd.DataFrame({"a": [0, 1, 0.5], "b": [1, 0, 1]}), "rasch", "whole-number"),
    (pd.DataFrame({"a": [0, 2, 2, 0], "b": [1, 0, 1, 2]}), "pcm", "category 1 is never chosen"),
    (pd.DataFrame({"a": [0, 1, 1], "b": [1, 1, 1]}), "rasch", "one answer only"),
    (pd.DataFrame({"a": [0, 1, 2], "b": [1, 0, 1]}), "rsm", "same categories"),
    (pd.DataFrame({"a": [0, 1], "b": [1, 0]}), "3pl", "unknown IRT model"),
    (pd.DataFrame({"a": [0, 1]}), "rasch", "at least 2 items"),
])
def test_bad_input_is_one_clear_error(frame: pd.DataFrame, model: str, message: str) -> None:
    with pytest.raises(StatisticsError, match=message):
        irt(frame, model=model)


def test_category_only_in_extreme_scores_is_refused() -> None:
    rng = np.random.default_rng(1)
    x = (rng.uniform(size=(200, 5)) < 0.5).astype(int)
    x[:, 4] = (x[:, :4].sum(axis=1) == 4).astype(int)   # right only with all others right
    with pytest.raises(StatisticsError, match="item 'e': answer 1 is given only by persons "
                                              "with an extreme raw score"):
        irt(pd.DataFrame(x, columns=list("abcde")), model="rasch")


def test_unknown_item_column_is_named() -> None:
    with pytest.raises(StatisticsError, match="'zz'"):
        irt(pd.DataFrame({"a": [0, 1], "b": [1, 0]}), items=["a", "zz"])


def test_docstring_examples_run() -> None:
    import doctest

    import instrval.stats.irt as mod

    failures, tried = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


def test_rasch_without_an_lr_test_split_still_fits():
    """Four ICAR items with scattered missing answers: the median split within each pattern
    of answered items leaves too few items with both answers in both groups, so Andersen's
    LR test cannot be computed. The Rasch fit is still returned (lr_test None, a warning),
    identical to the fit without the test."""
    from instrval.errors import InstrvalWarning

    ability = pd.read_csv(HERE.parent / "examples" / "icar-ability" / "ability.csv")
    items = ["reason_4", "reason_16", "reason_17", "reason_19"]
    with pytest.warns(InstrvalWarning, match="Andersen's LR test: fewer than 2 items"):
        res = irt(ability, items=items, model="rasch")
    assert res.lr_test is None and res.to_dict()["lr_test"] is None
    ref = irt(ability, items=items, model="rasch", lr_test=False)
    assert_allclose(res.loglik, ref.loglik, rtol=0, atol=0)
    assert_allclose(res.items["difficulty"], ref.items["difficulty"], rtol=0, atol=0)
