"""Tests of instrval.stats.content_validity against published tables and hand-worked values.

No R package computes these indices the way the cited papers define them, so the witnesses
are: Polit, Beck & Owen (2007) Table 4, Ayre & Scally (2014) Table 2 (each row re-checked
here against the exact binomial with scipy), and values worked out by hand below.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.stats import binom

from instrval.errors import DataQualityWarning, StatisticsError
from instrval.stats.content_validity import (
    aiken_interval,
    aiken_v,
    content_validity,
    cvr,
    cvr_critical,
    kappa_band,
    modified_kappa,
)

# Polit, Beck & Owen (2007) Table 4 rows (N experts, A agreeing, I-CVI, pc, k*), as published
# (2-3 decimals), each re-derived by hand: pc = C(N,A)/2^N, k* = (A/N - pc)/(1 - pc).
POLIT = [
    (3, 3, 1.00, 0.125, 1.00),
    (3, 2, 0.67, 0.375, 0.47),
    (4, 3, 0.75, 0.250, 0.67),
    (5, 4, 0.80, 0.156, 0.76),
    (6, 5, 0.83, 0.094, 0.82),
    (6, 4, 0.67, 0.234, 0.56),
    (8, 6, 0.75, 0.109, 0.72),
    (9, 7, 0.78, 0.070, 0.76),
]


@pytest.mark.parametrize(("n", "a", "icvi", "pc", "k"), POLIT)
def test_modified_kappa_polit_table(n, a, icvi, pc, k):
    kk, pcc = modified_kappa(a, n)
    assert_allclose(a / n, icvi, atol=0.005)  # published values are rounded
    assert_allclose(pcc, pc, atol=0.0005)
    assert_allclose(kk, k, atol=0.005)


def test_modified_kappa_exact_and_bands():
    k, pc = modified_kappa(5, 6)
    assert pc == 6 / 64
    assert_allclose(k, (5 / 6 - 6 / 64) / (1 - 6 / 64), rtol=1e-15)
    assert kappa_band(0.75) == "excellent"
    assert kappa_band(0.74) == "good"
    assert kappa_band(0.60) == "good"
    assert kappa_band(0.59) == "fair"
    assert kappa_band(0.40) == "fair"
    assert kappa_band(0.39) == "poor"
    assert kappa_band(float("nan")) is None


# Ayre & Scally (2014) Table 2: N -> (n_crit, CVR_crit). The brief quoted N = 8 -> 8, 1.00;
# the exact binomial gives P(X >= 7 | 8, .5) = 9/256 = .035 < .05, so n_crit = 7 and
# CVR_crit = 0.75, which is also what Ayre & Scally's table prints.
AYRE = [(5, 5, 1.00), (6, 6, 1.00), (7, 7, 1.00), (8, 7, 0.75), (9, 8, 0.778),
        (10, 9, 0.80), (11, 9, 0.636), (12, 10, 0.667), (13, 10, 0.538), (14, 11, 0.571),
        (15, 12, 0.60), (20, 15, 0.50), (25, 18, 0.44), (30, 20, 0.333), (35, 23, 0.314),
        (40, 26, 0.30)]


@pytest.mark.parametrize(("n", "ne", "crit"), AYRE)
def test_cvr_critical_ayre_scally(n, ne, crit):
    # independent witness: scipy's binomial survival function
    assert binom.sf(ne - 1, n, 0.5) < 0.05 <= binom.sf(ne - 2, n, 0.5)
    got_ne, got_crit = cvr_critical(n)
    assert got_ne == ne
    assert_allclose(got_crit, crit, atol=0.0005)
    assert_allclose(got_crit, (ne - n / 2) / (n / 2), rtol=1e-15)


def test_cvr_critical_small_panels_undefined():
    for n in (1, 2, 3, 4):  # 0.5^4 = .0625 >= .05: unanimity is not significant
        ne, crit = cvr_critical(n)
        assert ne is None and math.isnan(crit)


def test_cvr_lawshe():
    assert cvr(5, 5) == 1.0
    assert cvr(3, 5) == pytest.approx(0.2, abs=1e-15)
    assert cvr(0, 4) == -1.0
    assert cvr(2, 4) == 0.0


def test_aiken_v_and_interval_hand_worked():
    # 5 experts rate 4, 4, 3, 4, 3 on 1..4: V = (3+3+2+3+2) / (5*3) = 13/15.
    v = aiken_v([4, 4, 3, 4, 3], lo=1, hi=4)
    assert_allclose(v, 13 / 15, rtol=1e-15)
    # Penfield & Giacobbi (2004) score interval, by hand with n k = 15, z = 1.96:
    # 2nkV = 26, z^2 = 3.8416, sqrt(4*15*(13/15)*(2/15) + 3.8416) = sqrt(10.77493) = 3.282519
    # L = (29.8416 - 6.433737) / 37.6832 = 0.621175, U = 36.275337 / 37.6832 = 0.962640
    lo, hi = aiken_interval(v, 5, lo=1, hi=4, z=1.96)
    assert_allclose([lo, hi], [0.621175, 0.962640], atol=2e-6)
    # V = 0 and V = 1 keep the interval inside [0, 1]
    lo0, hi0 = aiken_interval(0.0, 5)
    assert lo0 == 0.0 and 0 < hi0 < 1
    lo1, hi1 = aiken_interval(1.0, 5)
    assert hi1 == pytest.approx(1.0) and 0 < lo1 < 1


def _panel():
    return pd.DataFrame({
        "expert": list("ABCDE") * 2,
        "item_id": ["q1"] * 5 + ["q2"] * 5,
        "relevance": [4, 4, 3, 4, 3, 4, 3, 2, 1, 4],
    })


def test_content_validity_hand_worked_panel():
    res = content_validity(_panel())
    t = res.items.set_index("item_id")
    # q1: all 5 relevant -> I-CVI 1, pc 1/32, k* 1, CVR 1 (critical 1.00, n_crit 5), V 13/15
    q1 = t.loc["q1"]
    assert q1["n_experts"] == 5 and q1["n_relevant"] == 5
    assert_allclose([q1["i_cvi"], q1["pc"], q1["modified_kappa"], q1["cvr"],
                     q1["cvr_critical"], q1["aiken_v"]],
                    [1.0, 1 / 32, 1.0, 1.0, 1.0, 13 / 15], rtol=1e-15)
    assert q1["cvr_significant"] and q1["kappa_band"] == "excellent"
    # q2: ratings 4 3 2 1 4 -> A = 3, I-CVI .6, pc = 10/32, k* = (.6 - .3125)/.6875,
    # CVR = (3 - 2.5)/2.5 = .2, V = 9/15
    q2 = t.loc["q2"]
    assert_allclose([q2["i_cvi"], q2["pc"], q2["modified_kappa"], q2["cvr"], q2["aiken_v"]],
                    [0.6, 0.3125, 0.2875 / 0.6875, 0.2, 0.6], rtol=1e-14)
    assert q2["kappa_band"] == "fair" and not q2["cvr_significant"]
    assert_allclose([res.scale["s_cvi_ave"], res.scale["s_cvi_ua"]], [0.8, 0.5], rtol=1e-15)
    assert res.scale["n_experts"] == 5 and res.scale["n_items"] == 2


def test_essential_rule_and_relevant_min():
    res = content_validity(_panel(), essential={4})
    t = res.items.set_index("item_id")
    assert t.loc["q1", "n_essential"] == 3  # three 4s
    assert_allclose(t.loc["q1", "cvr"], (3 - 2.5) / 2.5)
    assert t.loc["q1", "i_cvi"] == 1.0  # relevance rule unchanged
    res4 = content_validity(_panel(), relevant_min=4)
    assert_allclose(res4.items.set_index("item_id").loc["q1", "i_cvi"], 0.6)
    resf = content_validity(_panel(), essential=lambda r: r == 4)
    assert resf.items["n_essential"].tolist() == [3, 2]


def test_to_dict_keys():
    d = content_validity(_panel()).to_dict()
    json.dumps(d, allow_nan=False)
    assert set(d["items"][0]) >= {"item_id", "i_cvi", "modified_kappa", "cvr", "cvr_critical",
                                  "aiken_v", "aiken_ci_low", "aiken_ci_high"}
    assert set(d["scale"]) >= {"s_cvi_ave", "s_cvi_ua"}
    small = content_validity(_panel().iloc[:3]).to_dict()  # 3 experts: no critical CVR
    assert small["items"][0]["cvr_critical"] is None


def test_missing_ratings_and_item_order():
    df = _panel()
    df.loc[0, "relevance"] = pd.NA
    df["relevance"] = df["relevance"].astype("Int64")
    with pytest.warns(DataQualityWarning, match="q9"):
        res = content_validity(df, items=["q2", "q9", "q1"])
    assert res.items["item_id"].tolist() == ["q2", "q1"]
    assert res.items.set_index("item_id").loc["q1", "n_experts"] == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"relevant_min": 7}, "relevant_min must be a code from 1 to 4, got 7"),
        ({"aspect": "clarity"}, "lacks column\\(s\\) 'clarity'"),
        ({"essential": "x"}, "essential must be None"),
        ({"alpha": 2}, "alpha must be between 0 and 1"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(StatisticsError, match=message):
        content_validity(_panel(), **kwargs)


def test_out_of_scale_rating_raises():
    df = _panel()
    df.loc[3, "relevance"] = 5
    with pytest.raises(StatisticsError, match="item 'q1' has a relevance rating of 5"):
        content_validity(df)


def test_cli_content_validity(tmp_path):
    from click.testing import CliRunner

    from instrval.cli import main
    from instrval.io.instrument import dumps_instrument
    from instrval.model.instrument import Instrument

    inst = Instrument.from_dict({
        "format_version": "1.0", "id": "demo", "version": "1", "title": "Demo",
        "scales": {"s4": {"min": 1, "max": 4}},
        "constructs": [{"id": "c", "label": "C", "kind": "likert", "scale": "s4",
                        "items": [{"id": f"q{i}", "label": f"Q{i}"} for i in (1, 2)]}]})
    ip = tmp_path / "demo.yaml"
    ip.write_text(dumps_instrument(inst))
    pp = tmp_path / "panel.csv"
    pp.write_text("expert,q2,q1\nA,4,4\nB,3,4\nC,2,3\nD,1,4\nE,4,3\nF,9,4\n")
    runner = CliRunner()
    r = runner.invoke(main, ["content-validity", str(pp), "--instrument", str(ip), "--json"])
    assert r.exit_code == 0, r.output
    out = r.stdout if hasattr(r, "stdout") else r.output
    d = json.loads(out[out.index("{"):])
    assert [i["item_id"] for i in d["items"]] == ["q1", "q2"]  # instrument order
    assert d["items"][0]["i_cvi"] == 1.0 and d["items"][0]["cvr_critical"] == 1.0
    assert_allclose(d["items"][1]["i_cvi"], 0.6)  # F's 9 is quarantined
    assert_allclose([d["scale"]["s_cvi_ave"], d["scale"]["s_cvi_ua"]], [0.8, 0.5])
    assert d["n_quarantined"] == 1 and d["problems"][0]["reason"] == "out_of_range"
    r = runner.invoke(main, ["content-validity", str(pp), "--instrument", str(ip)])
    assert r.exit_code == 0
    assert "S-CVI/Ave = 0.8000" in r.output
    assert "quarantined" in r.output  # the warning
    r = runner.invoke(main, ["content-validity", str(tmp_path / "none.csv"), "--instrument",
                             str(ip)])
    assert r.exit_code == 1 and "none.csv" in r.output


@pytest.mark.parametrize(("z", "level"), [(1.96, 0.950004), (2.5758293, 0.99), (1.0, 0.682689)])
def test_aiken_interval_level_is_carried_by_the_result(z, level):
    """The level the report prints for Aiken's interval comes from the result:
    2 Phi(z) - 1 (R: ``2 * pnorm(1.96) - 1`` = 0.9500042)."""
    from scipy.stats import norm

    res = content_validity(_panel(), z=z)
    assert_allclose(res.aiken_confidence, level, atol=1e-6)
    assert_allclose(res.aiken_confidence, 2 * norm.cdf(z) - 1, rtol=1e-12)
