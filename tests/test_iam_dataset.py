"""The synthetic IAM export: exact published counts, layout and reproducibility.

Expected values are the published figures (234,196 ratings, 5,596 respondents, use gate
open in 45,394 ratings; ci_dissatisfied_harmful 11,382/234,196 = 4.86 %,
use_decide_unsure 1,380/45,394 = 3.04 %), checked exactly (integer equality).
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
    generate_iam_ratings,
    iam_targets,
    iter_iam_chunks,
)
from instrval.model.ratings import RatingData

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


def test_committed_sample_matches_generator():
    from instrval.io.ratings import read_ratings

    iam = instrval.read_instrument(ROOT / "instruments" / "iam" / "iam-2011.yaml")
    rd = read_ratings(ROOT / "examples" / "iam" / "data" / "iam-sample.csv", iam)
    pd.testing.assert_frame_equal(rd.data, generate_iam_ratings(3000, 72, seed=2012))
