"""Item descriptives against psych::response.frequencies / psych::describe (bfi) and by hand."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.io.instrument import read_instrument
from instrval.model.ratings import RatingData
from instrval.stats.descriptives import item_descriptives

ROOT = Path(__file__).resolve().parents[1]
FIX = json.loads((ROOT / "tests/fixtures/descriptives.json").read_text())


@pytest.fixture(scope="module")
def bfi():
    df = pd.read_csv(ROOT / "tests/data/bfi.csv", index_col=0)
    return df


def test_bfi_against_psych(bfi):
    inst = read_instrument(ROOT / "instruments/bfi/bfi-1.0.yaml")
    d = item_descriptives(bfi, inst, floor_ceiling_max=0.15)
    items = d.items.set_index("item_id")
    for ref in FIX["items"]:
        row = items.loc[ref["item_id"]]
        assert row["n"] == ref["n"]
        # tolerance 1e-12: the same arithmetic as R (shares, mean, n-1 SD)
        assert_allclose(row["missing_share"], ref["missing_share"], rtol=0, atol=1e-12)
        assert_allclose(row["mean"], ref["mean"], rtol=1e-12)
        assert_allclose(row["sd"], ref["sd"], rtol=1e-12)
        assert_allclose(row["floor_share"], ref["floor_share"], rtol=1e-12)
        assert_allclose(row["ceiling_share"], ref["ceiling_share"], rtol=1e-12)
        shares = d.distribution[d.distribution["item_id"] == ref["item_id"]]
        assert list(shares["value"]) == [1, 2, 3, 4, 5, 6]
        assert_allclose(shares["share"].to_numpy(), ref["shares"], rtol=1e-12)
        assert row["floor_flag"] == (ref["floor_share"] > 0.15)
        assert row["ceiling_flag"] == (ref["ceiling_share"] > 0.15)


def test_hand_worked_and_unused_option():
    df = pd.DataFrame({"q1": [1, 1, 2, 5, None, 1, 5, 5]})
    d = item_descriptives(df, scale_range=(1, 5), floor_ceiling_max=0.40)
    r = d.items.iloc[0]
    # 7 answers: three 1s, one 2, three 5s; one missing of 8 rows
    assert r["n"] == 7 and r["n_missing"] == 1
    assert r["missing_share"] == pytest.approx(1 / 8, abs=1e-15)
    assert r["floor_share"] == pytest.approx(3 / 7, abs=1e-15)
    assert r["ceiling_share"] == pytest.approx(3 / 7, abs=1e-15)
    assert bool(r["floor_flag"]) and bool(r["ceiling_flag"])  # 3/7 = .43 > .40
    dist = d.distribution
    assert list(dist["value"]) == [1, 2, 3, 4, 5]
    assert list(dist["count"]) == [3, 1, 0, 0, 3]  # unused options listed with count 0
    assert r["mean"] == pytest.approx(20 / 7, abs=1e-14)
    assert r["sd"] == pytest.approx(np.std([1, 1, 2, 5, 1, 5, 5], ddof=1), abs=1e-14)


def test_flag_is_strictly_above_threshold():
    df = pd.DataFrame({"q": [1] * 15 + [3] * 85})  # exactly 15% at the floor
    d = item_descriptives(df, scale_range=(1, 5), floor_ceiling_max=0.15)
    assert d.items.loc[0, "floor_share"] == pytest.approx(0.15)
    assert not bool(d.items.loc[0, "floor_flag"])


def test_gated_construct_uses_open_gate_rows_and_boxes_have_no_flags():
    inst = read_instrument(ROOT / "instruments/iam/iam-2011.yaml")
    ids = list(inst.item_ids)
    n = 4
    data = {"rating_id": [f"r{i}" for i in range(n)], "respondent_id": ["a", "a", "b", "c"]}
    for c in inst.constructs:
        if c.gate is not None:
            data[c.gate.id] = ["yes", "no", "yes", "possibly"]
        if c.kind == "single_choice":
            data[c.id] = ["cr_totally"] * n
        else:
            for it in c.items:
                gated = c.gate is not None
                data[it.id] = [1, None, 0, None] if gated else [1, 0, 0, 1]
    df = pd.DataFrame(data)
    for i in ids:
        if i in df:
            df[i] = df[i].astype("Int64")
    rd = RatingData(inst, df)
    d = item_descriptives(rd)
    use = d.items.set_index("item_id").loc["use_discuss"]
    assert use["n_rows"] == 2 and use["n"] == 2 and use["missing_share"] == 0
    assert use["mean"] == pytest.approx(0.5)
    assert pd.isna(use["floor_flag"]) and pd.isna(use["ceiling_flag"])
    assert "cr_totally" not in set(d.items["item_id"])  # single-choice levels: relevance only
    js = d.to_dict()
    assert js["items"][0]["floor_flag"] is None
    json.dumps(js)


def test_errors_name_the_problem():
    with pytest.raises(StatisticsError, match="floor_ceiling_max"):
        item_descriptives(pd.DataFrame({"q": [1]}), floor_ceiling_max=2)
    with pytest.raises(StatisticsError, match="not in the data: zz"):
        item_descriptives(pd.DataFrame({"q": [1]}), items=["zz"])
    with pytest.raises(StatisticsError, match="DataFrame or RatingData"):
        item_descriptives([1, 2, 3])
