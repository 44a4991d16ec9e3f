"""Tests of instrval.stats.hypotheses, instrval.stats.criterion and
instrval.io.hypotheses against R's cor.test and t.test, Hedges' g written out, and the
AUC with DeLong's interval from pROC and from DeLong's formula written out in base R
(tests/fixtures/hypotheses.json, written by tests/fixtures/r/hypotheses.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.io.hypotheses import HypothesesError, hypotheses_from_mapping, read_hypotheses
from instrval.io.instrument import read_instrument
from instrval.model.hypotheses import Hypothesis
from instrval.stats.criterion import auc_delong, criterion_validity, responsiveness
from instrval.stats.hypotheses import evaluate_hypotheses
from instrval.stats.scoring import score_items

HERE = Path(__file__).parent
ROOT = HERE.parent
FIX = json.loads((HERE / "fixtures" / "hypotheses.json").read_text())
EX = ROOT / "examples" / "stai6"
TOL = 1e-10


@pytest.fixture(scope="module")
def inst():
    return read_instrument(ROOT / "instruments" / "stai6" / "stai6-1.0.yaml")


@pytest.fixture(scope="module")
def base(inst):
    d = pd.read_csv(EX / "data" / "stai-baseline.csv")
    d["stai6"] = score_items(d, instrument=inst, min_items=0).scores["stai6"]
    return d


def _cor_check(row, ref):
    assert row["n"] == ref["n"]
    assert_allclose(row["estimate"], ref["r"], atol=TOL)
    assert_allclose([row["ci_low"], row["ci_high"]], ref["ci"], atol=TOL)
    assert_allclose(row["t"], ref["t"], rtol=1e-10)
    assert row["df"] == ref["df"]
    assert_allclose(row["p"], ref["p"], rtol=1e-8)


def test_hypotheses_match_r(base):
    hs = [Hypothesis("H1", "correlation", "stai6", other="trait_anxiety", min=0.30),
          Hypothesis("H2", "correlation", "stai6", other="neuroticism", min=0.30),
          Hypothesis("H3", "correlation", "stai6", other="extraversion", direction="any",
                     max=0.30),
          Hypothesis("H4", "known_groups", "stai6", group="trait_group", higher="high",
                     lower="low", min=0.5)]
    r = evaluate_hypotheses(base, hs)
    t = r.table.set_index("id")
    ref = FIX["hypotheses"]
    _cor_check(t.loc["H1"], ref["trait"])
    _cor_check(t.loc["H2"], ref["neuroticism"])
    _cor_check(t.loc["H3"], ref["extraversion"])
    kg = ref["known_groups"]
    h4 = t.loc["H4"]
    assert h4["n"] == kg["n1"] + kg["n2"]
    assert_allclose(h4["mean_diff"], kg["mean_diff"], atol=TOL)
    assert_allclose([h4["mean_diff_ci_low"], h4["mean_diff_ci_high"]], kg["ci"], atol=TOL)
    assert_allclose([h4["t"], h4["df"]], [kg["t"], kg["df"]], rtol=1e-10)
    assert_allclose(h4["p"], kg["p"], rtol=1e-6)
    assert_allclose([h4["estimate"], h4["ci_low"], h4["ci_high"]],
                    [kg["g"], *kg["g_ci"]], atol=TOL)
    # every hypothesis holds on these data: 4 of 4 -> sufficient
    assert t["holds"].tolist() == [True, True, True, True]
    assert (r.n_hypotheses, r.n_holds, r.rating) == (4, 4, "sufficient")
    assert r.to_dict()["hypotheses"][3]["statistic"] == "g"


def test_spearman(base):
    r = evaluate_hypotheses(base, [Hypothesis("S", "correlation", "stai6",
                                              other="trait_anxiety", method="spearman")])
    assert_allclose(r.table["estimate"].iloc[0], FIX["hypotheses"]["spearman_trait"],
                    atol=TOL)
    assert r.table["statistic"].iloc[0] == "rho"


def test_seventy_five_percent_rule():
    d = pd.DataFrame({"s": np.arange(20.0), "o": np.arange(20.0) ** 1.5,
                      "z": np.sin(np.arange(20.0))})
    ok = Hypothesis("a", "correlation", "s", other="o", min=0.5)
    bad = Hypothesis("b", "correlation", "s", other="o", direction="negative")
    assert evaluate_hypotheses(d, [ok, ok.__class__(**{**ok.__dict__, "id": "c"}),
                                   ok.__class__(**{**ok.__dict__, "id": "e"}),
                                   bad]).rating == "sufficient"  # 3 of 4 = 75%
    r = evaluate_hypotheses(d, [ok, bad])
    assert (r.share, r.rating) == (0.5, "insufficient")
    assert evaluate_hypotheses(d, []).rating == "indeterminate"
    with pytest.raises(StatisticsError, match="used twice"):
        evaluate_hypotheses(d, [ok, ok])
    with pytest.raises(StatisticsError, match="column 'nope' not found"):
        evaluate_hypotheses(d, [Hypothesis("x", "correlation", "s", other="nope")])


def test_criterion_correlation_and_auc_match_r(base):
    c = criterion_validity(base, score="stai6", criterion="stai20")
    ref = FIX["criterion"]["stai20"]
    assert c.kind == "continuous" and c.n == ref["n"]
    assert_allclose([c.estimate, c.ci_low, c.ci_high], [ref["r"], *ref["ci"]], atol=TOL)
    assert c.sufficient
    a = criterion_validity(base, score="stai6", criterion="stai20_ge40")
    hand, proc = FIX["criterion"]["auc_hand"], FIX["criterion"]["auc_proc"]
    assert a.kind == "dichotomous"
    assert_allclose([a.estimate, a.ci_low, a.ci_high], [proc["auc"], *proc["ci"]], atol=TOL)
    assert_allclose(a.details["se"], proc["se"], atol=TOL)
    assert_allclose([a.estimate, a.details["se"]], [hand["auc"], hand["se"]], atol=TOL)
    assert (a.details["n_positive"], a.details["n_negative"]) == (hand["n_positive"],
                                                                  hand["n_negative"])


@pytest.mark.parametrize("name", ["small", "ties"])
def test_auc_small_cases(name):
    case = FIX["criterion"][name]
    r = auc_delong(case["score"], case["label"])
    assert_allclose([r.auc, r.se, r.ci_low, r.ci_high],
                    [case["auc"], case["se"], *case["ci"]], atol=TOL)
    if name == "small":  # 8 of the 9 positive-negative pairs are ordered: 8/9
        assert_allclose(r.auc, 8 / 9)
    else:
        assert_allclose(r.auc, case["proc_auc"]["auc"], atol=TOL)
        assert_allclose(r.se, case["proc_auc"]["se"], atol=TOL)


def test_auc_errors():
    with pytest.raises(StatisticsError, match="at least 2 positive"):
        auc_delong([1, 2, 3], [1, 0, 0])
    with pytest.raises(StatisticsError, match="say which is positive"):
        auc_delong([1, 2, 3, 4], ["a", "b", "a", "b"])
    r = auc_delong([1, 2, 3, 4], ["a", "b", "a", "b"], positive="b")
    assert_allclose(r.auc, 0.75)


def test_auc_positive_value_absent_is_named():
    """A positive= value the criterion never takes names the values it does take (not
    'needs at least 2 positive cases; got 0')."""
    with pytest.raises(StatisticsError, match="positive=5 is not a value .*: 0, 1$"):
        auc_delong([1, 2, 3, 4], [0, 1, 0, 1], positive=5)


def test_responsiveness_matches_r(inst):
    d = pd.read_csv(EX / "data" / "stai-repeated.csv")
    d = d[d["design"] == "film"]
    hs = [Hypothesis("R1", "auc", "stai6", group="threat_film", positive=1, min=0.70),
          Hypothesis("R2", "known_groups", "stai6", group="threat_film", higher=1, lower=0,
                     min=0.5),
          Hypothesis("R3", "correlation", "stai6", other="stai20", min=0.5)]
    r = responsiveness(d, hs, id="respondent_id", time="time", instrument=inst, min_items=0)
    ref = FIX["responsiveness"]
    assert r.n == ref["n"]
    t = r.hypotheses.table.set_index("id")
    assert_allclose([t.loc["R1", "estimate"], t.loc["R1", "ci_low"], t.loc["R1", "ci_high"]],
                    [ref["auc_proc"]["auc"], *ref["auc_proc"]["ci"]], atol=TOL)
    g = ref["groups"]
    assert_allclose([t.loc["R2", "estimate"], t.loc["R2", "mean_diff"], t.loc["R2", "t"]],
                    [g["g"], g["mean_diff"], g["t"]], atol=1e-9)
    _cor_check(t.loc["R3"], ref["change_cor"])
    assert t["holds"].tolist() == [False, False, True]
    assert r.hypotheses.rating == "insufficient"


def test_read_hypotheses_file(tmp_path):
    p = tmp_path / "h.yaml"
    p.write_text('format_version: "1.0"\nhypotheses:\n'
                 "  - {id: H1, type: correlation, scale: s, with: o, min: 0.3}\n"
                 "  - {id: H2, type: known_groups, scale: s, group: g, higher: a, lower: b}\n"
                 "  - {id: H3, type: auc, scale: s, group: g, positive: 1, min: 0.7}\n")
    hs = read_hypotheses(p)
    assert [h.id for h in hs] == ["H1", "H2", "H3"]
    assert hs[0].other == "o" and hs[0].expected() == "r >= 0.30"
    assert hs[1].expected() == "difference > 0 (a > b)"
    assert hs[2].expected() == "AUC >= 0.70 (g = 1)"


def test_hypotheses_file_problems_all_reported(tmp_path):
    p = tmp_path / "h.yaml"
    p.write_text("hypotheses:\n"
                 "  - {id: H1, type: corr, scale: s}\n"
                 "  - {id: H2, type: correlation, scale: s, min: high, colour: red}\n"
                 "  - {id: H2, type: known_groups, scale: s, group: g}\n"
                 "  - {id: H4, type: correlation, scale: s, with: o, direction: up, max: 3}\n")
    with pytest.raises(HypothesesError) as e:
        read_hypotheses(p)
    reasons = sorted(pr.reason for pr in e.value.problems)
    assert reasons == sorted(["invalid_value", "wrong_type", "unknown_key", "missing_key",
                              "duplicate_id", "missing_key", "missing_key", "invalid_value",
                              "out_of_range"])
    assert all(pr.line is not None for pr in e.value.problems)
    assert "h.yaml" in str(e.value)
    with pytest.raises(HypothesesError, match="non-empty list"):
        hypotheses_from_mapping({"hypotheses": []})
