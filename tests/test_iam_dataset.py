"""The synthetic IAM export: exact published counts, layout, reproducibility and
respondent heterogeneity.

Expected values are the published figures (234,196 ratings, 5,596 respondents, use gate
open in 45,394 ratings; ci_dissatisfied_harmful 11,382/234,196 = 4.86 %,
use_decide_unsure 1,380/45,394 = 3.04 %), checked exactly (integer equality). The
weighted draw is checked against inclusion probabilities worked by hand; the clustering
against the design effect of the relevance ratio (delta method).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import instrval
from instrval.datasets.iam import (
    IAM_GATES,
    IAM_TARGETS,
    N_RATINGS,
    PROPENSITY_SD,
    _pick,
    generate_iam_ratings,
    iam_targets,
    iter_iam_chunks,
)
from instrval.model.ratings import RatingData
from instrval.stats.relevance import relevance_ratios

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def iam():
    return instrval.read_instrument(ROOT / "instruments" / "iam" / "iam-2011.yaml")


@pytest.fixture(scope="module")
def full():
    return generate_iam_ratings()


def selected(df, item):
    if item.startswith("cr_"):
        return int((df["clinical_relevance"] == item).sum())
    return int((df[item] == 1).sum())


def test_published_scale(full, iam):
    assert len(full) == 234_196
    assert full["respondent_id"].nunique() == 5_596
    assert full["rating_id"].is_unique
    assert int((full["use_gate"] == "yes").sum()) == 45_394
    assert full["date"].min() >= pd.Timestamp("2012-01-01")
    assert full["date"].max() <= pd.Timestamp("2012-12-31")
    assert full["date"].dt.year.eq(2012).all()
    rd = RatingData(instrument=iam, data=full)
    s = rd.summary()
    assert s["presented"] == {"cognitive_impact": 234_196, "clinical_relevance": 234_196,
                              "intention_to_use": 45_394, "health_benefit": 31_776}
    assert s["gates_open"] == {"use_gate": 45_394, "benefit_gate": 31_776}
    for g, counts in IAM_GATES.items():
        assert full[g].value_counts().to_dict() == counts


def test_exact_item_counts_and_ratios(full, iam):
    rd = RatingData(instrument=iam, data=full)
    for item, (k, n) in IAM_TARGETS.items():
        c = iam.construct_of(item)
        pres = rd.presented(c)
        assert int(pres.sum()) == n, item
        sub = full[pres.to_numpy()]
        assert selected(sub, item) == k, item
        assert selected(full[~pres.to_numpy()], item) == 0, item
    assert IAM_TARGETS["ci_dissatisfied_harmful"] == (11_382, 234_196)
    assert IAM_TARGETS["use_decide_unsure"] == (1_380, 45_394)
    np.testing.assert_allclose(11_382 / 234_196, 0.0486, atol=5e-5)
    np.testing.assert_allclose(1_380 / 45_394, 0.0304, atol=5e-5)
    others = {i: k / n for i, (k, n) in IAM_TARGETS.items()
              if i not in ("ci_dissatisfied_harmful", "use_decide_unsure")}
    assert min(others.values()) >= 0.15


def test_gating_and_layout(full, iam):
    rd = RatingData(instrument=iam, data=full)
    assert list(full.columns) == ["rating_id", "respondent_id", "date", "specialty",
                                  *rd.value_columns()]
    closed = full["use_gate"] != "yes"
    assert full.loc[closed, "benefit_gate"].isna().all()
    assert full.loc[closed, ["use_manage_differently", "use_decide_unsure"]].isna().all().all()
    assert full.loc[~closed, "benefit_gate"].notna().all()
    assert full["specialty"].nunique() == 6
    assert full.groupby("respondent_id")["specialty"].nunique().eq(1).all()


def test_respondent_counts_are_skewed(full):
    per = full.groupby("respondent_id").size()
    assert per.min() >= 1
    assert per.max() > 10 * per.median()
    top = per.sort_values(ascending=False)
    assert top.head(len(per) // 20).sum() > 0.25 * len(full)  # top 5 % rate > 25 %


def test_reproducible_and_scaled():
    a = generate_iam_ratings(2000, 50, seed=5)
    b = generate_iam_ratings(2000, 50, seed=5)
    pd.testing.assert_frame_equal(a, b)
    c = generate_iam_ratings(2000, 50, seed=6)
    assert not a.equals(c)
    tg = iam_targets(2000)
    assert sum(tg["gates"]["use_gate"].values()) == 2000
    for item, (k, _n) in tg["items"].items():
        assert selected(a, item) == k
    assert iam_targets(N_RATINGS)["items"] == IAM_TARGETS


def test_chunks_keep_exact_totals():
    chunks = list(iter_iam_chunks(10_000, 300, seed=9, chunk_size=3_000))
    assert [len(c) for c in chunks] == [3000, 3000, 3000, 1000]
    df = pd.concat(chunks, ignore_index=True)
    tg = iam_targets(10_000)
    for item, (k, _n) in tg["items"].items():
        assert selected(df, item) == k, item
    assert df["rating_id"].is_unique
    # every choice is made once for all ratings: the chunks are slices of the whole table
    pd.testing.assert_frame_equal(df, generate_iam_ratings(10_000, 300, seed=9))


def test_weighted_draw_inclusion_probabilities():
    """Successive sampling proportional to w, worked by hand. Weights (1, 1, 2), k = 2:
    P(3rd in sample) = P(first) + P(not first) P(second | not first)
    = 2/4 + 2 * (1/4)(2/3) = 5/6, and P(1st) = P(2nd) = (2 - 5/6) / 2 = 7/12.
    k = 1 of (1, 3): P(2nd) = 3/4. 6,000 seeded draws: binomial SE <= 0.0064, so the
    tolerance 0.025 is about 4 SE."""
    rng = np.random.default_rng(3)
    w = np.array([1.0, 1.0, 2.0])
    hits = np.zeros(3)
    for _ in range(6000):
        sel = _pick(rng, w, 2)
        assert len(sel) == 2 and len(set(sel.tolist())) == 2
        hits[sel] += 1
    np.testing.assert_allclose(hits / 6000, [7 / 12, 7 / 12, 5 / 6], atol=0.025)
    first = [int(_pick(rng, np.array([1.0, 3.0]), 1)[0]) for _ in range(6000)]
    np.testing.assert_allclose(np.mean(first), 0.75, atol=0.025)
    assert _pick(rng, w, 0).size == 0
    assert _pick(rng, w, 3).tolist() == [0, 1, 2]


def _deff(y, group) -> float:
    """Delta-method design effect of a proportion clustered in groups (Cochran 1977,
    section 6.4; the formula of instrval.stats.relevance): var = G/(G-1) sum (y_g - R m_g)^2
    / N^2, deff = var / (R(1-R)/N)."""
    t = pd.DataFrame({"y": y, "g": group}).groupby("g")["y"].agg(["sum", "count"])
    n, g = int(t["count"].sum()), len(t)
    r = t["sum"].sum() / n
    var = g / (g - 1) * float(((t["sum"] - r * t["count"]) ** 2).sum()) / n**2
    return var / (r * (1 - r) / n)


def test_respondents_differ_design_effect(full, iam):
    """Ratings of one respondent resemble each other: with a between-respondent SD of the
    log-propensity of 0.25 the relevance ratio of most common items has a design effect
    well above 1 (moderate: below 15), while every exact count still holds."""
    assert PROPENSITY_SD == 0.25
    res = relevance_ratios(RatingData(instrument=iam, data=full), cluster_method="delta")
    it = res.items.set_index("item_id")
    for item, (k, n) in IAM_TARGETS.items():
        assert (it.loc[item, "selected"], it.loc[item, "presented"]) == (k, n), item
    assert set(res.not_relevant) == {"ci_dissatisfied_harmful", "use_decide_unsure"}
    common = it[it["ratio"] >= 0.15]
    assert len(common) == 21
    assert int((common["deff"] > 1.5).sum()) >= 0.75 * len(common)
    ungated = common[common["construct_id"].isin(["cognitive_impact", "clinical_relevance"])]
    assert (ungated["deff"] > 2).all()
    assert (it["deff"] > 1).all() and (it["deff"] < 15).all()
    # the cluster interval (Wilson at n / deff) is wider than Wilson
    wide = (common["cluster_ci_high"] - common["cluster_ci_low"]) / (
        common["ci_high"] - common["ci_low"])
    assert (wide[common["deff"] > 1.5] > 1.2).all()
    # the gates too: some respondents open them more often than others
    assert _deff(full["use_gate"].eq("yes").astype(int), full["respondent_id"]) > 2
    opened = full[full["use_gate"] == "yes"]
    assert _deff(opened["benefit_gate"].eq("yes").astype(int), opened["respondent_id"]) > 1.5


def test_committed_sample_matches_generator():
    from instrval.io.ratings import read_ratings

    iam = instrval.read_instrument(ROOT / "instruments" / "iam" / "iam-2011.yaml")
    rd = read_ratings(ROOT / "examples" / "iam" / "data" / "iam-sample.csv", iam)
    pd.testing.assert_frame_equal(rd.data, generate_iam_ratings(3000, 72, seed=2012))


def test_vectorised_ids_and_labels_equal_python_formatting():
    from instrval.datasets.iam import _ids, _labels

    nums = np.array([0, 1, 9, 10, 99, 123456, 999999], dtype=np.int64)
    got = _ids("R", nums, 6)
    assert list(got) == [f"R{i:06d}" for i in nums]
    assert got.dtype == pd.array(["x"], dtype="string").dtype
    lab = _labels(["yes", "no", "possibly"], np.array([2, -1, 0, 1, -1], dtype=np.int8))
    assert lab.dtype == pd.array(["x"], dtype="string").dtype
    assert [None if pd.isna(v) else v for v in lab] == ["possibly", None, "yes", "no", None]
