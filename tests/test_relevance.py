"""Relevance ratios (instrval.stats.relevance) and the `instrval relevance` command.

Witnesses:
* ratios: exact counts (a ratio is compared with ``==`` to the python division);
* Wilson intervals: R prop.test(correct = FALSE) fixtures, tests/fixtures/relevance.json
  (tests/fixtures/r/relevance.R), at 1e-10 absolute;
* delta-method (cluster-robust) SE, design effect and the Wilson-at-n_eff interval: R
  sandwich::vcovCL(lm(y ~ 1), cluster = respondent, type = "HC0", cadjust = TRUE) on the
  fixture's clustered rating set, at 1e-10; plus a 3-respondent example worked by hand;
* the bootstrap is random: reproducibility with a seed, wider than Wilson under heavy
  clustering, close to Wilson with one rating per respondent, close to the delta method.
"""

from __future__ import annotations

import json
import math
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose

from instrval.cli import main
from instrval.errors import DataQualityWarning, StatisticsError
from instrval.io.instrument import read_instrument
from instrval.model.instrument import Instrument
from instrval.model.ratings import RatingData
from instrval.model.rules import RULE_SOURCES, DecisionRules
from instrval.stats.intervals import wilson_interval
from instrval.stats.relevance import ITEM_COLUMNS, RelevanceResult, relevance_ratios

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = json.loads((ROOT / "tests" / "fixtures" / "relevance.json").read_text())
IAM_FILE = ROOT / "instruments" / "iam" / "iam-2011.yaml"
TOL = 1e-10


# ------------------------------------------------------------------------------ helpers
def small_instrument() -> Instrument:
    return Instrument.from_dict({
        "format_version": "1.0", "id": "demo", "version": "1", "title": "Demo",
        "scales": {"agree5": {"min": 1, "max": 5}},
        "constructs": [
            {"id": "impact", "label": "Impact", "kind": "multi_select",
             "items": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]},
            {"id": "rel", "label": "Relevance", "kind": "single_choice",
             "items": [{"id": "lv_yes", "label": "Yes"}, {"id": "lv_part", "label": "Partly"},
                       {"id": "lv_no", "label": "No"}]},
            {"id": "use", "label": "Use", "kind": "multi_select",
             "gate": {"id": "g", "question": "Use it?", "options": ["yes", "no", "possibly"],
                      "open_when": "yes"},
             "items": [{"id": "u1", "label": "U1"}, {"id": "u2", "label": "U2"}]},
            {"id": "lik", "label": "Likert", "kind": "likert", "scale": "agree5",
             "items": [{"id": "l1", "label": "L1"}]},
        ]})


def I64(values) -> pd.arrays.IntegerArray:  # noqa: N802
    return pd.array(values, dtype="Int64")


def S(values) -> pd.arrays.StringArray:  # noqa: N802
    return pd.array(values, dtype="string")


def small_data() -> RatingData:
    """Eight ratings by three respondents, worked by hand in the tests below."""
    df = pd.DataFrame({
        "rating_id": S([f"k{i}" for i in range(8)]),
        "respondent_id": S(["r1", "r1", "r1", "r1", "r2", "r2", "r3", "r3"]),
        "date": pd.to_datetime(["2012-01-05", "2012-01-20", "2012-02-01", "2012-04-02",
                                "2012-04-10", None, "2012-12-31", "2012-07-01"]),
        "site": S(["x", "x", "y", "y", "x", None, "y", "x"]),
        "a": I64([1, 1, 1, 0, 0, 0, 1, 0]),
        "b": I64([0, 0, 0, 0, 0, 0, 0, 1]),
        "rel": S(["lv_yes", "lv_yes", "lv_part", None, "lv_no", "lv_yes", "lv_part", None]),
        "g": S(["yes", "no", "yes", "possibly", None, "yes", "no", "yes"]),
        # a stray 1 behind a closed gate (row 1) must not count
        "u1": I64([1, 1, 0, None, None, 1, None, 0]),
        "u2": I64([0, None, 1, None, None, 0, None, 0]),
        "l1": I64([5, 4, None, 2, 3, 1, 4, 5]),
    })
    return RatingData(instrument=small_instrument(), data=df)


def clustered_fixture() -> RatingData:
    """The R fixture's 810 ratings by 30 respondents: item_a ungated, item_b gated."""
    inst = Instrument.from_dict({
        "format_version": "1.0", "id": "clus", "version": "1", "title": "Clustered",
        "constructs": [
            {"id": "ca", "label": "A", "kind": "binary", "items": [{"id": "item_a",
                                                                   "label": "A"}]},
            {"id": "cb", "label": "B", "kind": "binary",
             "gate": {"id": "use_gate", "question": "?", "options": ["yes", "no", "possibly"],
                      "open_when": "yes"},
             "items": [{"id": "item_b", "label": "B"}]},
        ]})
    rows = FIXTURE["clustered"]["ratings"]
    df = pd.DataFrame({
        "rating_id": S([r["rating_id"] for r in rows]),
        "respondent_id": S([r["respondent_id"] for r in rows]),
        "item_a": I64([r["item_a"] for r in rows]),
        "use_gate": S([r["use_gate"] for r in rows]),
        "item_b": I64([r.get("item_b") for r in rows]),
    })
    return RatingData(instrument=inst, data=df)


def iam_frame(n: int = 234_196, n_resp: int = 5_596, seed: int = 7) -> pd.DataFrame:
    """A canonical IAM table with 11,382 selections of ci_dissatisfied_amount (ungated,
    presented in all n ratings) and 1,380 of use_decide_unsure among the 45,394 ratings
    that opened use_gate."""
    inst = read_instrument(IAM_FILE)
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {
        "rating_id": S([f"k{i}" for i in range(n)]),
        "respondent_id": S([f"r{i % n_resp}" for i in range(n)]),
    }
    for it in inst.construct("cognitive_impact").items:
        cols[it.id] = I64((rng.random(n) < 0.3).astype(int))
    amount = np.zeros(n, dtype=int)
    amount[rng.choice(n, 11_382, replace=False)] = 1
    cols["ci_dissatisfied_amount"] = I64(amount)
    cols["clinical_relevance"] = S(rng.choice(["cr_totally", "cr_partially", "cr_not"], n))
    use_open = np.zeros(n, dtype=bool)
    use_open[rng.choice(n, 45_394, replace=False)] = True
    cols["use_gate"] = S(np.where(use_open, "yes", rng.choice(["no", "possibly"], n)))
    open_rows = np.flatnonzero(use_open)
    for it in inst.construct("intention_to_use").items:
        v = (rng.random(n) < 0.4).astype(float)
        v[~use_open] = np.nan
        cols[it.id] = pd.array(v, dtype="Float64").astype("Int64")
    decide = np.full(n, np.nan)
    decide[open_rows] = 0
    decide[rng.choice(open_rows, 1_380, replace=False)] = 1
    cols["use_decide_unsure"] = pd.array(decide, dtype="Float64").astype("Int64")
    ben_open = rng.random(n) < 0.3
    cols["benefit_gate"] = S(np.where(ben_open, "yes", "no"))
    for it in inst.construct("health_benefit").items:
        v = (rng.random(n) < 0.5).astype(float)
        v[~ben_open] = np.nan
        cols[it.id] = pd.array(v, dtype="Float64").astype("Int64")
    return pd.DataFrame(cols)


@pytest.fixture(scope="module")
def iam_ratings() -> RatingData:
    return RatingData(instrument=read_instrument(IAM_FILE), data=iam_frame())


def row(res: RelevanceResult | pd.DataFrame, item: str) -> pd.Series:
    df = res.items if isinstance(res, RelevanceResult) else res
    return df.loc[df["item_id"] == item].iloc[0]


# ------------------------------------------------------------------ exactness (IAM sizes)
def test_iam_published_figures_exact(iam_ratings):
    res = relevance_ratios(iam_ratings, cluster_method="delta")
    r = row(res, "ci_dissatisfied_amount")
    assert (r["selected"], r["presented"]) == (11_382, 234_196)
    assert r["ratio"] == 11382 / 234196
    assert_allclose(r["ratio"], 0.0486003176826248, rtol=0, atol=1e-15)
    assert not r["relevant"]  # below the 10% default
    u = row(res, "use_decide_unsure")
    assert (u["selected"], u["presented"]) == (1_380, 45_394)
    assert u["ratio"] == 1380 / 45394
    assert round(100 * u["ratio"], 2) == 3.04
    # Wilson interval against R prop.test(correct = FALSE)
    by_xn = {(int(c["x"]), int(c["n"])): c for c in FIXTURE["intervals"]}
    assert_allclose([r["ci_low"], r["ci_high"]], by_xn[(11382, 234196)]["wilson"],
                    rtol=0, atol=TOL)
    assert_allclose([u["ci_low"], u["ci_high"]], by_xn[(1380, 45394)]["wilson"],
                    rtol=0, atol=TOL)
    # every item of a construct shares the construct's denominator
    items = res.items.set_index("item_id")
    assert (items.loc[items["construct_id"] == "intention_to_use", "presented"] == 45_394).all()
    assert (items.loc[items["construct_id"] == "cognitive_impact", "presented"] == 234_196).all()
    # single-choice levels partition the ratings answering the question
    cr = items.loc[items["construct_id"] == "clinical_relevance"]
    assert cr["selected"].sum() == 234_196 and (cr["presented"] == 234_196).all()
    assert list(res.items.columns) == ITEM_COLUMNS
    assert len(res.items) == 23


# ------------------------------------------------------------------- definitions by hand
def test_definitions_small_by_hand():
    res = relevance_ratios(small_data(), cluster=False, threshold=0.3)
    got = res.items.set_index("item_id")[["selected", "presented"]]
    # impact: presented in all 8 ratings (cells never blank); a=1 in rows 0,1,2,6; b in 7
    assert tuple(got.loc["a"]) == (4, 8) and tuple(got.loc["b"]) == (1, 8)
    # rel: answered in 6 ratings; yes 3, part 2, no 1
    assert tuple(got.loc["lv_yes"]) == (3, 6)
    assert tuple(got.loc["lv_part"]) == (2, 6)
    assert tuple(got.loc["lv_no"]) == (1, 6)
    # use: gate "yes" in rows 0, 2, 5, 7 (row 1's stray 1 is behind a closed gate)
    assert tuple(got.loc["u1"]) == (2, 4) and tuple(got.loc["u2"]) == (1, 4)
    # likert skipped by default
    assert "l1" not in got.index and res.skipped_items == ("l1",)
    assert res.items["ratio"].tolist() == [4 / 8, 1 / 8, 3 / 6, 2 / 6, 1 / 6, 2 / 4, 1 / 4]
    assert res.items["relevant"].tolist() == [True, False, True, True, False, True, False]
    assert res.not_relevant == ("b", "lv_no", "u2")
    # n_respondents: respondents to whom the construct was presented
    nr = res.items.set_index("item_id")["n_respondents"]
    assert nr["a"] == 3 and nr["u1"] == 3 and nr["lv_yes"] == 3
    assert res.cluster_method == "none"
    assert res.items[["cluster_ci_low", "cluster_ci_high", "deff"]].isna().all().all()


def test_threshold_boundary_is_relevant():
    res = relevance_ratios(small_data(), cluster=False, threshold=0.5)
    assert bool(row(res, "a")["relevant"])  # 4/8 == 0.5 >= 0.5


def test_likert_relevant_min():
    res = relevance_ratios(small_data(), cluster=False, likert_relevant_min=4)
    r = row(res, "l1")
    assert (r["selected"], r["presented"], r["kind"]) == (4, 7, "likert")
    assert res.skipped_items == ()


def test_default_threshold_and_source():
    res = relevance_ratios(small_data(), cluster=False)
    assert res.threshold == DecisionRules().relevance_min == 0.10
    assert res.threshold_source == RULE_SOURCES["relevance_min"]
    assert (res.items["threshold"] == 0.10).all()
    assert relevance_ratios(small_data(), cluster=False, threshold=0.2).threshold_source \
        == "user"


# ----------------------------------------------------------------- delta method / deff
def test_delta_method_hand_example():
    """Three respondents: (selected, presented) = (3, 4), (0, 2), (1, 2); N = 8, R = 1/2.
    Residuals y_g - R m_g = 1, -1, 0; var = G/(G-1) * 2 / 64 = 3/64; SRS var = 1/32;
    deff = 1.5; n_eff = 16/3; interval = Wilson(8/3, 16/3)."""
    inst = Instrument.from_dict({
        "format_version": "1.0", "id": "h", "version": "1", "title": "H",
        "constructs": [{"id": "c", "label": "C", "kind": "binary",
                        "items": [{"id": "i", "label": "I"}]}]})
    df = pd.DataFrame({"rating_id": S([str(k) for k in range(8)]),
                       "respondent_id": S(["A"] * 4 + ["B"] * 2 + ["C"] * 2),
                       "i": I64([1, 1, 1, 0, 0, 0, 1, 0])})
    res = relevance_ratios(RatingData(instrument=inst, data=df), cluster_method="delta")
    r = row(res, "i")
    assert r["ratio"] == 0.5
    assert_allclose(r["se_cluster"], math.sqrt(3 / 64), rtol=1e-14)
    assert_allclose(r["deff"], 1.5, rtol=1e-14)
    assert_allclose(r["n_eff"], 16 / 3, rtol=1e-14)
    z = 1.959963984540054
    n = 16 / 3
    centre = (0.5 + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(0.25 / n + z * z / (4 * n * n))
    assert_allclose([r["cluster_ci_low"], r["cluster_ci_high"]], [centre - half, centre + half],
                    rtol=0, atol=1e-14)


def test_delta_method_against_r_sandwich():
    res = relevance_ratios(clustered_fixture(), cluster_method="delta")
    for ref in FIXTURE["clustered"]["items"]:
        r = row(res, ref["item_id"])
        assert (r["selected"], r["presented"]) == (ref["selected"], ref["presented"])
        assert r["n_respondents"] == ref["n_respondents"]
        assert_allclose(r["ratio"], ref["ratio"], rtol=0, atol=1e-14)
        assert_allclose([r["se_cluster"], r["deff"], r["n_eff"]],
                        [ref["se_cluster"], ref["deff"], ref["n_eff"]], rtol=TOL)
        assert_allclose([r["ci_low"], r["ci_high"]], ref["wilson"], rtol=0, atol=TOL)
        assert_allclose([r["cluster_ci_low"], r["cluster_ci_high"]], ref["cluster_wilson"],
                        rtol=0, atol=TOL)


def test_deff_one_rating_per_respondent_is_n_over_n_minus_1():
    """With m_g = 1, sum (y_g - R)^2 = N R (1 - R), so deff = N / (N - 1) exactly."""
    rd = single_rating_data(500, 0.2, seed=3)
    res = relevance_ratios(rd, cluster_method="delta")
    assert_allclose(res.items["deff"], 500 / 499, rtol=1e-12)


def test_deff_nan_when_ratio_is_zero_and_interval_falls_back_to_wilson():
    rd = small_data()
    df = rd.data.copy()
    df["b"] = I64([0] * 8)
    res = relevance_ratios(RatingData(instrument=rd.instrument, data=df),
                           cluster_method="delta")
    r = row(res, "b")
    assert r["ratio"] == 0.0 and math.isnan(r["deff"]) and r["se_cluster"] == 0.0
    assert (r["cluster_ci_low"], r["cluster_ci_high"]) == (r["ci_low"], r["ci_high"])


# -------------------------------------------------------------------------- bootstrap
def one_item_data(respondents, selected: np.ndarray) -> RatingData:
    """Ratings of a one-item binary instrument (item ``i``): one rating per respondent id
    given, ``i`` = 1 where ``selected``."""
    inst = Instrument.from_dict({
        "format_version": "1.0", "id": "s", "version": "1", "title": "S",
        "constructs": [{"id": "c", "label": "C", "kind": "binary",
                        "items": [{"id": "i", "label": "I"}]}]})
    df = pd.DataFrame({"rating_id": S([str(k) for k in range(len(selected))]),
                       "respondent_id": S(respondents),
                       "i": I64(selected.astype(int))})
    return RatingData(instrument=inst, data=df)


def single_rating_data(n: int, p: float, seed: int) -> RatingData:
    rng = np.random.default_rng(seed)
    return one_item_data([f"r{k}" for k in range(n)], rng.random(n) < p)


def clustered_data(g: int, m: int, seed: int) -> RatingData:
    """g respondents rating m times each, with very different personal probabilities."""
    rng = np.random.default_rng(seed)
    p = np.repeat(rng.choice([0.02, 0.4], size=g), m)
    return one_item_data(np.repeat([f"r{k}" for k in range(g)], m), rng.random(g * m) < p)


def test_bootstrap_reproducible_with_seed():
    rd = clustered_fixture()
    a = relevance_ratios(rd, seed=11, n_boot=500)
    b = relevance_ratios(rd, seed=11, n_boot=500)
    c = relevance_ratios(rd, seed=12, n_boot=500)
    pd.testing.assert_frame_equal(a.items, b.items)
    assert not np.array_equal(a.items["cluster_ci_low"], c.items["cluster_ci_low"])
    assert a.n_boot == 500 and a.seed == 11 and a.cluster_method == "bootstrap"
    # the bootstrap interval contains the point estimate
    assert (a.items["cluster_ci_low"] <= a.items["ratio"]).all()
    assert (a.items["ratio"] <= a.items["cluster_ci_high"]).all()


def test_bootstrap_wider_than_wilson_under_heavy_clustering():
    res = relevance_ratios(clustered_data(g=20, m=100, seed=5), seed=1, n_boot=2000)
    r = row(res, "i")
    wilson_w = r["ci_high"] - r["ci_low"]
    boot_w = r["cluster_ci_high"] - r["cluster_ci_low"]
    assert r["deff"] > 10
    assert boot_w > 2.5 * wilson_w
    delta = relevance_ratios(clustered_data(g=20, m=100, seed=5), cluster_method="delta")
    d = row(delta, "i")
    assert d["cluster_ci_high"] - d["cluster_ci_low"] > 2.5 * wilson_w


def test_bootstrap_close_to_wilson_with_one_rating_per_respondent():
    res = relevance_ratios(single_rating_data(2000, 0.1, seed=9), seed=2, n_boot=2000)
    r = row(res, "i")
    assert abs(r["cluster_ci_low"] - r["ci_low"]) < 0.003
    assert abs(r["cluster_ci_high"] - r["ci_high"]) < 0.003
    ratio = (r["cluster_ci_high"] - r["cluster_ci_low"]) / (r["ci_high"] - r["ci_low"])
    assert 0.9 < ratio < 1.1


def test_bootstrap_agrees_with_delta_method():
    """Percentile-bootstrap width vs 2 z se_cluster on the 810-rating fixture (30
    respondents): the two cluster methods should agree to within about 15%."""
    rd = clustered_fixture()
    boot = relevance_ratios(rd, seed=3, n_boot=4000)
    for _, r in boot.items.iterrows():
        width = r["cluster_ci_high"] - r["cluster_ci_low"]
        assert 0.85 < width / (2 * 1.959963984540054 * r["se_cluster"]) < 1.15


def test_bootstrap_single_respondent_gives_nan():
    rd = clustered_fixture()
    df = rd.data[rd.data["respondent_id"] == "r01"]
    res = relevance_ratios(RatingData(instrument=rd.instrument, data=df), seed=1)
    assert res.items["cluster_ci_low"].isna().all() and res.items["deff"].isna().all()
    assert res.items["ci_low"].notna().all()


# ------------------------------------------------------------------ groups and periods
def test_by_group_tidy_and_consistent():
    res = relevance_ratios(small_data(), by="site", cluster=False)
    g = res.groups
    assert res.group_columns == ("site",)
    assert list(g.columns) == ["site", *ITEM_COLUMNS]
    assert len(g) == 3 * len(res.items)  # x, y and the missing-site group
    assert g["site"].isna().sum() == len(res.items)
    sums = g.groupby("item_id")[["selected", "presented"]].sum()
    base = res.items.set_index("item_id")[["selected", "presented"]]
    pd.testing.assert_frame_equal(sums.loc[base.index], base)
    x = g[(g["site"] == "x") & (g["item_id"] == "a")].iloc[0]
    assert (x["selected"], x["presented"]) == (2, 4)  # rows 0, 1, 4, 7


def test_period_month_quarter_year():
    q = relevance_ratios(small_data(), period="quarter", cluster=False)
    assert q.group_columns == ("period",)
    labels = q.groups["period"].drop_duplicates().tolist()
    assert labels[:4] == ["2012Q1", "2012Q2", "2012Q3", "2012Q4"]
    assert pd.isna(labels[4])  # the rating without a date: its own group, not dropped
    a = q.groups[q.groups["item_id"] == "a"].set_index("period")
    assert a.loc["2012Q1", "presented"] == 3 and a.loc["2012Q1", "selected"] == 3
    m = relevance_ratios(small_data(), period="month", cluster=False)
    assert "2012-01" in set(m.groups["period"].dropna())
    y = relevance_ratios(small_data(), period="year", cluster=False, by=["site"])
    assert y.group_columns == ("site", "period")
    assert set(y.groups["period"].dropna()) == {"2012"}


def test_groups_bootstrap_reproducible():
    rd = clustered_fixture()
    df = rd.data.assign(arm=np.where(np.arange(len(rd.data)) % 2 == 0, "even", "odd"))
    rd2 = RatingData(instrument=rd.instrument, data=df)
    a = relevance_ratios(rd2, by="arm", seed=4, n_boot=200)
    b = relevance_ratios(rd2, by="arm", seed=4, n_boot=200)
    pd.testing.assert_frame_equal(a.groups, b.groups)
    assert a.groups["cluster_ci_low"].notna().all()


# -------------------------------------------------------------------------- to_dict
def test_to_dict_json_ready():
    res = relevance_ratios(small_data(), by="site", seed=1, n_boot=50)
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    first = list(d["items"][0])[:8]
    assert first == ["item_id", "construct_id", "selected", "presented", "ratio", "ci_low",
                     "ci_high", "relevant"]
    assert d["threshold"] == 0.1
    assert isinstance(d["items"][0]["selected"], int)
    assert isinstance(d["items"][0]["relevant"], bool)
    assert d["groups"][0]["site"] in ("x", "y", None)
    assert any(g["site"] is None for g in d["groups"])
    assert "groups" not in relevance_ratios(small_data(), cluster=False).to_dict()
    pd.testing.assert_frame_equal(res.to_frame(), res.items)


def test_never_presented_item_warns_and_gives_none():
    rd = small_data()
    df = rd.data.assign(g=S([None] * 8), u1=I64([None] * 8), u2=I64([None] * 8))
    with pytest.warns(DataQualityWarning, match="never presented.*u1, u2"):
        res = relevance_ratios(RatingData(instrument=rd.instrument, data=df), seed=1,
                               n_boot=20)
    r = row(res, "u1")
    assert r["presented"] == 0 and math.isnan(r["ratio"]) and pd.isna(r["relevant"])
    rec = next(i for i in res.to_dict()["items"] if i["item_id"] == "u1")
    assert rec["ratio"] is None and rec["relevant"] is None and rec["ci_low"] is None


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, match", [
    ({"threshold": 1.5}, "threshold must be a proportion.*1.5"),
    ({"threshold": "10%"}, "threshold must be a proportion"),
    ({"confidence": 1.0}, "confidence must be strictly between 0 and 1"),
    ({"period": "week"}, "unknown period 'week'; choose one of month, quarter, year"),
    ({"by": "country"}, "unknown grouping column 'country'.*site"),
    ({"cluster_method": "jackknife"}, "unknown cluster_method 'jackknife'.*bootstrap, delta"),
    ({"n_boot": 0}, "n_boot must be a whole number >= 1"),
    ({"likert_relevant_min": "high"}, "likert_relevant_min must be a number"),
])
def test_bad_options(kwargs, match):
    with pytest.raises(StatisticsError, match=match):
        relevance_ratios(small_data(), **kwargs)


def test_period_needs_dates_and_empty_data():
    rd = small_data()
    no_date = RatingData(instrument=rd.instrument, data=rd.data.drop(columns="date"))
    with pytest.raises(StatisticsError, match="needs a 'date' column"):
        relevance_ratios(no_date, period="month")
    empty = RatingData(instrument=rd.instrument, data=rd.data.iloc[:0])
    with pytest.raises(StatisticsError, match="no ratings"):
        relevance_ratios(empty)
    with pytest.raises(StatisticsError, match="needs a RatingData"):
        relevance_ratios(rd.data)
    missing = RatingData(instrument=rd.instrument, data=rd.data.drop(columns="u2"))
    with pytest.raises(StatisticsError, match="no column 'u2' for construct 'use'"):
        relevance_ratios(missing)


def test_wilson_column_equals_interval_module():
    res = relevance_ratios(small_data(), cluster=False, confidence=0.9)
    lo, hi = wilson_interval(res.items["selected"].to_numpy(),
                             res.items["presented"].to_numpy(), confidence=0.9)
    assert_allclose(res.items["ci_low"], lo, rtol=0, atol=0)
    assert_allclose(res.items["ci_high"], hi, rtol=0, atol=0)


# ------------------------------------------------------------------------------- CLI
@pytest.fixture
def fake_reader(monkeypatch):
    """Stand in for instrval.io.ratings.read_ratings (tests the command, not the reader)."""
    calls = {}

    def read_ratings(path, instrument, *, format=None, mapping=None):  # noqa: A002
        calls.update(path=path, format=format, mapping=mapping)
        rd = clustered_fixture()
        q = pd.DataFrame({"row": [5, 9], "reason": ["bad_value", "duplicate_id"],
                          "message": ["x", "y"]})
        return RatingData(instrument=instrument, data=rd.data, quarantine=q)

    mod = types.ModuleType("instrval.io.ratings")
    mod.read_ratings = read_ratings
    monkeypatch.setitem(sys.modules, "instrval.io.ratings", mod)
    return calls


@pytest.fixture
def clus_files(tmp_path):
    from instrval.io.instrument import write_instrument
    inst = clustered_fixture().instrument
    path = tmp_path / "clus.yaml"
    write_instrument(inst, path)
    export = tmp_path / "export.csv"
    export.write_text("placeholder\n")
    return path, export


def test_cli_json(fake_reader, clus_files):
    inst, export = clus_files
    res = CliRunner().invoke(main, ["relevance", str(export), "--instrument", str(inst),
                                    "--json", "--seed", "3", "--bootstrap", "200",
                                    "--threshold", "0.2", "--format", "csv"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) >= {"items", "threshold"}
    assert out["threshold"] == 0.2
    for rec in out["items"]:
        assert list(rec)[:8] == ["item_id", "construct_id", "selected", "presented", "ratio",
                                 "ci_low", "ci_high", "relevant"]
    a = next(r for r in out["items"] if r["item_id"] == "item_a")
    ref = FIXTURE["clustered"]["items"][0]
    assert_allclose([a["ci_low"], a["ci_high"]], ref["wilson"], rtol=0, atol=TOL)
    assert a["relevant"] is False  # 0.163 < 0.2
    assert "2 row(s) quarantined" in res.stderr
    assert fake_reader["format"] == "csv"
    again = CliRunner().invoke(main, ["relevance", str(export), "--instrument", str(inst),
                                      "--json", "--seed", "3", "--bootstrap", "200"])
    assert json.loads(again.stdout)["items"][0]["cluster_ci_low"] == \
        out["items"][0]["cluster_ci_low"]


def test_cli_text_table(fake_reader, clus_files):
    inst, export = clus_files
    res = CliRunner().invoke(main, ["relevance", str(export), "--instrument", str(inst),
                                    "--cluster-method", "delta", "--threshold", "0.2"])
    assert res.exit_code == 0, res.output
    assert "132/810" in res.stdout and "16.30%" in res.stdout
    assert "13.91-19.00%" in res.stdout  # Wilson CI, R: 0.139129..., 0.189978...
    assert "NOT relevant (CI spans cut-off)" in res.stdout  # cluster CI reaches 23.4%
    assert "Cut-off: ratio >= 20%" in res.stdout


def test_cli_bad_option_is_clean_error(fake_reader, clus_files):
    inst, export = clus_files
    res = CliRunner().invoke(main, ["relevance", str(export), "--instrument", str(inst),
                                    "--by", "nope"])
    assert res.exit_code == 1
    assert "unknown grouping column 'nope'" in res.stderr
    assert "Traceback" not in res.output


def test_cli_help_has_example():
    res = CliRunner().invoke(main, ["relevance", "--help"])
    assert res.exit_code == 0 and "Example:" in res.output


# ----------------------------------------------------------------------- end to end
def test_end_to_end_generated_iam():
    """The synthetic IAM data set (instrval.datasets.iam) has exact per-item counts
    (IAM_TARGETS): every ratio must equal selected / presented of the targets, and the two
    published non-relevant figures (4.86% of 234,196; 3.04% of 45,394) come out exactly."""
    gen = pytest.importorskip("instrval.datasets.iam")
    df = gen.generate_iam_ratings(seed=1)
    rd = RatingData(instrument=read_instrument(IAM_FILE), data=df)
    res = relevance_ratios(rd, seed=1, n_boot=200, by="specialty")
    items = res.items.set_index("item_id")
    targets = gen.iam_targets()["items"]
    assert set(items.index) == set(targets)
    for item, (sel, pres) in targets.items():
        assert (items.loc[item, "selected"], items.loc[item, "presented"]) == (sel, pres)
        assert items.loc[item, "ratio"] == sel / pres
    assert items.loc["ci_dissatisfied_harmful", "ratio"] == 11382 / 234196
    assert items.loc["use_decide_unsure", "ratio"] == 1380 / 45394
    assert set(res.not_relevant) == {"ci_dissatisfied_harmful", "use_decide_unsure"}
    assert (res.items["cluster_ci_low"] <= res.items["ratio"]).all()
    assert (res.items["ratio"] <= res.items["cluster_ci_high"]).all()
    sums = res.groups.groupby("item_id")[["selected", "presented"]].sum()
    pd.testing.assert_frame_equal(sums.loc[items.index], items[["selected", "presented"]])


def test_end_to_end_cli_with_real_reader(tmp_path):
    """CSV export -> instrval.io.ratings.read_ratings -> relevance_ratios -> JSON."""
    pytest.importorskip("instrval.io.ratings")
    from instrval.io.instrument import write_instrument
    rd = clustered_fixture()
    inst_path = tmp_path / "clus.yaml"
    write_instrument(rd.instrument, inst_path)
    export = tmp_path / "ratings.csv"
    rd.data.to_csv(export, index=False)
    with open(export, "a") as fh:  # one unusable row: item_a = 7 is not 0/1
        fh.write("k9999,r01,7,yes,1\n")
    res = CliRunner().invoke(main, ["relevance", str(export), "--instrument", str(inst_path),
                                    "--json", "--cluster-method", "delta"])
    assert res.exit_code == 0, res.output
    assert "1 row(s) quarantined of 811 read" in res.stderr
    out = json.loads(res.stdout)
    for ref, got in zip(FIXTURE["clustered"]["items"], out["items"], strict=True):
        assert (got["item_id"], got["selected"], got["presented"]) == (
            ref["item_id"], ref["selected"], ref["presented"])
        assert_allclose([got["ci_low"], got["ci_high"]], ref["wilson"], rtol=0, atol=TOL)
        assert_allclose(got["deff"], ref["deff"], rtol=TOL)
