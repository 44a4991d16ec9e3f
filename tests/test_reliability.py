"""Tests of instrval.stats.reliability against psych::alpha (tests/fixtures/reliability.json,
written by tests/fixtures/r/reliability.R) and against hand-worked values."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import DataQualityWarning, StatisticsError
from instrval.model.instrument import Instrument
from instrval.stats.reliability import (
    _boot_alphas,
    alpha_for_construct,
    cronbach_alpha,
    feldt_interval,
    kr20,
)

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "fixtures" / "reliability.json").read_text())
TOL = 1e-6  # deterministic statistics vs psych, absolute


def _rev(case):
    r = case["reverse"]
    return [r] if isinstance(r, str) else list(r)


CASES = FIXTURE["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['name']}-{c['missing']}" for c in CASES])
def test_alpha_matches_psych(bfi, case):
    # all 25 bfi items unkeyed: psych's check.keys advice names the negatively keyed ones
    expect = (pytest.warns(DataQualityWarning, match="N1, N2, N3, N4, N5, O4 correlate negatively")
              if case["name"] == "all25" else contextlib.nullcontext())
    with expect:
        res = cronbach_alpha(bfi, items=case["items"], reverse=_rev(case), missing=case["missing"])
    assert res.n == case["n"]
    assert res.k == case["k"]
    assert res.missing == case["missing"]
    t = case["total"]
    assert_allclose([res.alpha, res.std_alpha, res.g6, res.average_r],
                    [t["raw_alpha"], t["std_alpha"], t["g6"], t["average_r"]], rtol=0, atol=TOL)
    assert_allclose([res.ci_low, res.ci_high], [case["feldt"]["lower"], case["feldt"]["upper"]],
                    rtol=0, atol=TOL)
    items = res.items
    assert list(items["item_id"]) == case["items"]
    d = case["alpha_drop"]
    assert_allclose(items["alpha_if_deleted"], d["raw_alpha"], rtol=0, atol=TOL)
    assert_allclose(items["std_alpha_if_deleted"], d["std_alpha"], rtol=0, atol=TOL)
    assert_allclose(items["g6_if_deleted"], d["g6"], rtol=0, atol=TOL)
    assert_allclose(items["average_r_if_deleted"], d["average_r"], rtol=0, atol=TOL)
    s = case["item_stats"]
    for col in ("r_drop", "r_cor", "std_r", "mean", "sd"):
        assert_allclose(items[col], s[col], rtol=0, atol=TOL, err_msg=col)
    assert list(items["n"]) == s["n"]


def test_feldt_at_90_percent(bfi):
    f = FIXTURE["feldt90"]
    lo, hi = feldt_interval(f["alpha"], f["n"], f["k"], confidence=0.90)
    assert_allclose([lo, hi], [f["lower"], f["upper"]], rtol=0, atol=TOL)
    res = cronbach_alpha(bfi, items=["A1", "A2", "A3", "A4", "A5"], reverse=["A1"],
                         confidence=0.90)
    assert_allclose([res.ci_low, res.ci_high], [f["lower"], f["upper"]], rtol=0, atol=TOL)


def test_headline_values_from_notes(bfi):
    # PSYCH-NOTES: agree alpha .7030 (std .7130), listwise .7038 with n = 2709.
    a = cronbach_alpha(bfi, items=["A1", "A2", "A3", "A4", "A5"], reverse=["A1"])
    assert_allclose([a.alpha, a.std_alpha], [0.7030, 0.7130], atol=5e-5)
    lw = cronbach_alpha(bfi, items=["A1", "A2", "A3", "A4", "A5"], reverse=["A1"],
                        missing="listwise")
    assert lw.n == 2709
    assert_allclose(lw.alpha, 0.7038, atol=5e-5)


def test_hand_worked_small_example():
    # 3 items, 5 rows: C computed by hand.
    df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    # var a = 2.5, var b = 2.3, var c = 1.5; cov ab = 2.25, ac = 1.75, bc = 1.5
    tr, tot = 2.5 + 2.3 + 1.5, 2.5 + 2.3 + 1.5 + 2 * (2.25 + 1.75 + 1.5)
    expected = (1 - tr / tot) * 3 / 2
    res = cronbach_alpha(df)
    assert_allclose(res.alpha, expected, rtol=1e-12)
    assert_allclose(res.alpha, 1.5 * 11 / 17.3, rtol=1e-12)
    # alpha if a is deleted: 2 items b, c -> 2 * (1 - (2.3+1.5)/(2.3+1.5+2*1.5))
    assert_allclose(res.items["alpha_if_deleted"].iloc[0], 2 * (1 - 3.8 / 6.8), rtol=1e-12)
    # r_drop of a: (2.25 + 1.75) / sqrt(2.5 * 6.8)
    assert_allclose(res.items["r_drop"].iloc[0], 4.0 / np.sqrt(2.5 * 6.8), rtol=1e-12)


def test_reverse_keying_uses_scale_range():
    df = pd.DataFrame({"a": [1, 2, 3, 4], "b": [4, 3, 2, 2], "c": [1, 2, 4, 4]})
    r1 = cronbach_alpha(df, reverse=["b"], scale_range=(1, 5))
    assert_allclose(r1.items["mean"].iloc[1], 6 - df["b"].mean(), rtol=1e-12)
    r2 = cronbach_alpha(df, reverse=["b"])  # default range from data: 1..4
    assert_allclose(r2.items["mean"].iloc[1], 5 - df["b"].mean(), rtol=1e-12)
    # alpha does not depend on the range used for reverse keying
    assert_allclose(r1.alpha, r2.alpha, rtol=1e-12)


def test_kr20_equals_alpha_and_formula():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=200)
    df = pd.DataFrame({f"q{i}": (theta + rng.normal(size=200) > i * 0.3 - 0.6).astype(int)
                       for i in range(5)})
    res = kr20(df)
    k = 5
    p = df.mean()
    total = df.sum(axis=1)
    expected = k / (k - 1) * (1 - (p * (1 - p)).sum() / total.var(ddof=0))
    assert_allclose(res.alpha, expected, rtol=1e-12)
    assert_allclose(res.alpha, cronbach_alpha(df).alpha, rtol=1e-12)
    bad = df.copy()
    bad.loc[3, "q2"] = 2
    with pytest.raises(StatisticsError, match=r"'q2' has value 2"):
        kr20(bad)


def test_alpha_for_construct_uses_instrument(bfi):
    inst = Instrument.from_dict({
        "format_version": "1.0", "id": "t", "version": "1", "title": "T",
        "scales": {"acc": {"min": 1, "max": 6}},
        "constructs": [{"id": "agree", "label": "Agree", "kind": "likert", "scale": "acc",
                        "items": [{"id": "A1", "label": "a1", "reverse": True}]
                        + [{"id": f"A{i}", "label": f"a{i}"} for i in range(2, 6)]},
                       {"id": "box", "label": "Box", "kind": "multi_select",
                        "items": [{"id": "x", "label": "x"}]}]})
    res = alpha_for_construct(bfi, inst, "agree")
    case = CASES[0]
    assert case["name"] == "agreeableness" and case["missing"] == "pairwise"
    assert_allclose(res.alpha, case["total"]["raw_alpha"], atol=TOL)
    assert res.reverse == ("A1",)
    assert res.scale_range == (1.0, 6.0)
    with pytest.raises(StatisticsError, match="unknown construct 'nope'"):
        alpha_for_construct(bfi, inst, "nope")
    with pytest.raises(StatisticsError, match="multi_select"):
        alpha_for_construct(bfi, inst, "box")


def test_to_dict_keys_and_json_ready(bfi):
    with pytest.warns(DataQualityWarning, match="A1 correlate negatively"):
        res = cronbach_alpha(bfi, items=["A1", "A2", "A3"], n_boot=50, seed=1)
    d = res.to_dict()
    for key in ("alpha", "std_alpha", "g6", "average_r", "n", "k", "ci_low", "ci_high",
                "missing", "ci_method", "items", "boot_ci_low", "boot_ci_high"):
        assert key in d
    assert set(d["items"][0]) >= {"item_id", "alpha_if_deleted", "r_drop", "r_cor", "mean", "sd"}
    json.dumps(d, allow_nan=False)
    assert all(type(v) is float for v in (d["alpha"], d["ci_low"], d["items"][0]["r_cor"]))


def test_two_items_alpha_if_deleted_is_nan():
    # Deliberate difference from psych, which reports C12/C22 for a 2-item scale.
    df = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 3, 2, 4]})
    res = cronbach_alpha(df)
    assert res.items["alpha_if_deleted"].isna().all()
    assert res.to_dict()["items"][0]["alpha_if_deleted"] is None


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_vectorised_bootstrap_equals_loop(bfi, missing):
    items = ["A1", "A2", "A3", "A4", "A5"]
    x = bfi[items].copy()
    if missing == "listwise":
        x = x.dropna()
    arr = x.to_numpy(dtype=float)
    fast = _boot_alphas(arr, 23, np.random.default_rng(7), chunk=10)
    rng = np.random.default_rng(7)
    slow = []
    for b in (10, 10, 3):
        idx = rng.integers(0, len(arr), size=(b, len(arr)))
        for row in idx:
            C = pd.DataFrame(arr[row]).cov().to_numpy()
            k = C.shape[0]
            slow.append((1 - np.trace(C) / C.sum()) * k / (k - 1))
    assert_allclose(fast, slow, rtol=0, atol=1e-10)


def test_bootstrap_is_seeded_and_brackets_alpha(bfi):
    items = ["A1", "A2", "A3", "A4", "A5"]
    r1 = cronbach_alpha(bfi, items=items, reverse=["A1"], n_boot=300, seed=42)
    r2 = cronbach_alpha(bfi, items=items, reverse=["A1"], n_boot=300, seed=42)
    assert r1.boot_ci_low == r2.boot_ci_low and r1.boot_ci_high == r2.boot_ci_high
    assert r1.boot_ci_low < r1.alpha < r1.boot_ci_high
    # With n = 2800 the bootstrap and Feldt intervals are close (same order of width).
    assert abs(r1.boot_ci_low - r1.feldt_ci_low) < 0.02
    assert r1.ci_method == "feldt" and r1.ci_low == r1.feldt_ci_low
    rb = cronbach_alpha(bfi, items=items, reverse=["A1"], n_boot=300, seed=42,
                        ci_method="bootstrap")
    assert rb.ci_low == r1.boot_ci_low and rb.ci_high == r1.boot_ci_high


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"items": ["A1", "ZZ"]}, r"unknown item column\(s\) 'ZZ'"),
        ({"items": ["A1"]}, "at least 2 items"),
        ({"items": ["A1", "A2"], "reverse": ["A3"]}, r"'A3' are not among the items"),
        ({"items": ["A1", "A2"], "missing": "mean"}, "missing must be one of pairwise, listwise; got 'mean'"),
        ({"items": ["A1", "A2"], "ci_method": "x"}, "ci_method must be one of feldt, bootstrap"),
        ({"items": ["A1", "A2"], "ci_method": "bootstrap"}, "needs n_boot > 0"),
        ({"items": ["A1", "A2"], "n_boot": -1}, "n_boot must be a non-negative integer"),
        ({"items": ["A1", "A2"], "confidence": 1.5}, "confidence must be a number between 0 and 1"),
        ({"items": ["A1", "A2"], "scale_range": (6, 1)}, "min < max"),
    ],
)
def test_bad_options_raise(bfi, kwargs, message):
    with pytest.raises(StatisticsError, match=message):
        cronbach_alpha(bfi, **kwargs)


def test_constant_item_and_non_numeric_raise():
    df = pd.DataFrame({"a": [1, 2, 3], "b": [2, 2, 2], "c": [1, 3, 2]})
    with pytest.raises(StatisticsError, match="b have zero variance"):
        cronbach_alpha(df)
    df2 = pd.DataFrame({"a": [1, 2, 3], "b": ["2", "x", "3"], "c": [1, 3, 2]})
    with pytest.raises(StatisticsError, match="item 'b' has non-numeric value 'x'"):
        cronbach_alpha(df2)
    df3 = pd.DataFrame({"a": [1.0, np.nan], "b": [np.nan, 2.0]})
    with pytest.raises(StatisticsError, match="no rows left"):
        cronbach_alpha(df3, missing="listwise")


def test_nullable_integer_columns(bfi):
    x = bfi[["A2", "A3", "A4"]].astype("Int64")
    res = cronbach_alpha(x)
    assert_allclose(res.alpha, cronbach_alpha(bfi[["A2", "A3", "A4"]]).alpha, rtol=1e-14)


# ----------------------------------------------------------------------------- CLI
def test_cli_items_json_matches_psych(run_cli):
    r = run_cli("reliability", str(HERE / "data" / "bfi.csv"), "--items", "A1,A2,A3,A4,A5",
             "--reverse", "A1", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert {"alpha", "std_alpha", "g6", "average_r", "n", "k", "ci_low", "ci_high",
            "items"} <= set(d)
    case = CASES[0]
    assert_allclose(d["alpha"], case["total"]["raw_alpha"], atol=TOL)
    assert_allclose([i["r_cor"] for i in d["items"]], case["item_stats"]["r_cor"], atol=TOL)


def test_cli_instrument_all_constructs_and_listwise(run_cli):
    r = run_cli("reliability", str(HERE / "data" / "bfi.csv"), "--instrument",
             str(HERE.parent / "instruments" / "bfi" / "bfi-1.0.yaml"), "--missing",
             "listwise", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)["constructs"]
    assert set(d) == {"agreeableness", "conscientiousness", "extraversion", "neuroticism",
                      "openness"}
    by_name = {(c["name"], c["missing"]): c for c in CASES}
    for cid, res in d.items():
        case = by_name[(cid, "listwise")]
        assert res["n"] == case["n"]
        assert_allclose(res["alpha"], case["total"]["raw_alpha"], atol=TOL)


def test_cli_construct_bootstrap_and_table(run_cli):
    r = run_cli("reliability", str(HERE / "data" / "bfi.csv"), "--instrument",
             str(HERE.parent / "instruments" / "bfi" / "bfi-1.0.yaml"), "--construct",
             "openness", "--bootstrap", "200", "--seed", "3")
    assert r.exit_code == 0, r.output
    assert "boot_ci_low" in r.output and "alpha_if_deleted" in r.output


def test_cli_bad_inputs(tmp_path, run_cli):
    r = run_cli("reliability", str(tmp_path / "missing.csv"))
    assert r.exit_code == 1 and "missing.csv" in r.output
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    r = run_cli("reliability", str(empty))
    assert r.exit_code == 1 and "empty.csv" in r.output and "empty" in r.output
    r = run_cli("reliability", str(HERE / "data" / "bfi.csv"), "--items", "A1,ZZ")
    assert r.exit_code == 1 and "'ZZ'" in r.output
