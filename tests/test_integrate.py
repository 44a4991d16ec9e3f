"""Joint display, decision rules, expert overrides, revised instrument, COSMIN summary.

Every expected value is worked out by hand from the rules in docs/decision-rules.md.
"""

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from instrval.errors import StudyError
from instrval.integrate import (
    RULE_CATALOGUE,
    cosmin_summary,
    joint_display,
    next_version,
    revise_instrument,
    rule_catalogue,
)
from instrval.io.decisions import decisions_from_frame, read_decisions
from instrval.io.instrument import dumps_instrument, loads_instrument
from instrval.model.checks import check_instrument_data
from instrval.model.instrument import Instrument
from instrval.model.rules import DecisionRules

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def inst():
    return Instrument.from_dict({
        "format_version": "1.0", "id": "demo", "version": "1.0", "title": "Demo",
        "status": "validated",
        "scales": {"s5": {"min": 1, "max": 5}},
        "constructs": [
            {"id": "c1", "label": "Impact", "kind": "multi_select", "items": [
                {"id": x, "label": f"Item {x}"} for x in "abcde"]},
            {"id": "c2", "label": "Scale", "kind": "likert", "scale": "s5", "items": [
                {"id": f"l{i}", "label": f"Likert {i}"} for i in (1, 2, 3)]},
        ]})


def _relevance():
    rows = [("a", .50, True), ("b", .04, False), ("c", .30, True), ("d", .20, True),
            ("e", .60, True)]
    return SimpleNamespace(items=pd.DataFrame([
        {"item_id": i, "construct_id": "c1", "selected": int(r * 1000), "presented": 1000,
         "ratio": r, "ci_low": r - .01, "ci_high": r + .01, "relevant": ok}
        for i, r, ok in rows]))


def _qual():
    na = pd.NA
    items = pd.DataFrame([
        {"item_id": "a", "participants": 5, "segments": 6, "supports": 6, "challenges": 0,
         "wording": 0, "other": 0, "representative": True},
        {"item_id": "b", "participants": 4, "segments": 4, "supports": 4, "challenges": 0,
         "wording": 0, "other": 0, "representative": True},
        {"item_id": "c", "participants": 4, "segments": 5, "supports": 1, "challenges": 4,
         "wording": 0, "other": 0, "representative": False},
        {"item_id": "d", "participants": 1, "segments": 1, "supports": 1, "challenges": 0,
         "wording": 0, "other": 0, "representative": na},
        {"item_id": "e", "participants": 3, "segments": 5, "supports": 3, "challenges": 0,
         "wording": 2, "other": 0, "representative": True},
    ])
    items["representative"] = items["representative"].astype("boolean")
    quotes = pd.DataFrame([
        {"item_id": "a", "segment_id": "S1", "participant": "P1", "text": "clear", "category": "supports"},
        {"item_id": "a", "segment_id": "S2", "participant": "P2", "text": "fine", "category": "supports"},
        {"item_id": "a", "segment_id": "S3", "participant": "P3", "text": "third", "category": "supports"},
    ])
    missing = pd.DataFrame([
        {"construct_id": "c1", "code": "mc_new", "theme": "A new idea", "participants": 3,
         "segments": 3, "example_quote": "we need this"},
        {"construct_id": "c1", "code": "mc_rare", "theme": "A rare idea", "participants": 1,
         "segments": 1, "example_quote": "maybe"},
    ])
    return SimpleNamespace(items=items, quotes=quotes, missing_concepts=missing,
                           themes=pd.DataFrame(columns=["theme", "item_id"]))


def _reliability():
    items = pd.DataFrame({"item_id": ["l1", "l2", "l3"], "alpha_if_deleted": [.80, .60, .62],
                          "r_drop": [.20, .55, .50]})
    return {"c2": SimpleNamespace(alpha=.72, items=items)}


def _decisions(inst):
    return decisions_from_frame(pd.DataFrame([
        {"item": "c", "decision": "keep", "rationale": "distinct facet", "who": "panel",
         "date": "2014-01-01"},
        {"item": "f_new", "decision": "add", "rationale": "raised by 3", "who": "panel",
         "new_label": "A new item", "concept": "mc_new"},
    ]), instrument=inst)


def test_rules_and_convergence_without_experts(inst):
    jd = joint_display(inst, relevance=_relevance(), qual=_qual(), reliability=_reliability())
    t = jd.items.set_index(jd.items["item_id"].fillna(jd.items["concept"]))
    exp = {  # item: (convergence, proposed, decision, rules, open)
        "a": ("confirmation", "keep", "keep", "R2-relevant-and-representative", False),
        "b": ("discordance", "remove", "remove", "R1-relevance-below-cutoff", True),
        "c": ("discordance", "revise", "revise", "R3-relevant-not-representative", True),
        "d": ("silence", "keep", "keep", "R4-relevant-no-qualitative-evidence", False),
        "e": ("expansion", "keep", "keep",
              "R2-relevant-and-representative;R7-wording-suggestions", False),
        "l1": ("silence", "keep", "keep",
               "R22-psychometrics-only;R10-alpha-if-deleted-gain;R11-item-total-r-low", False),
        "l2": ("silence", "keep", "keep", "R22-psychometrics-only", False),
        "mc_new": ("silence", "add", "none", "R8-missing-concept", True),
        "mc_rare": ("silence", "none", "none", "R9-missing-concept-below-threshold", False),
    }
    for key, (conv, prop, dec, fired, open_) in exp.items():
        row = t.loc[key]
        assert (row["convergence"], row["proposed"], row["decision"], row["rules_fired"],
                bool(row["open_question"])) == (conv, prop, dec, fired, open_), key
    # quote_count = 2 quotes kept per item
    assert t.loc["a", "quotes"].count("\u201c") == 2
    c = jd.counts()
    assert c["items_reviewed"] == 8 and c["removed"] == 1 and c["revised"] == 1
    assert c["open_questions"] == 3
    assert set(jd.open_questions()["row_type"]) == {"item", "missing_concept"}


def test_relevance_is_decisive_whatever_qual_says(inst):
    # b is representative and still removed; with no qual evidence it is silence
    jd = joint_display(inst, relevance=_relevance())
    b = jd.items.set_index("item_id").loc["b"]
    assert (b["convergence"], b["decision"]) == ("silence", "remove")
    q = _qual()
    q.items.loc[q.items["item_id"] == "b", "representative"] = False
    jd = joint_display(inst, relevance=_relevance(), qual=q)
    b = jd.items.set_index("item_id").loc["b"]
    assert (b["convergence"], b["decision"]) == ("confirmation", "remove")


def test_relevance_verdict_from_threshold_when_not_given(inst):
    rel = _relevance()
    rel.items = rel.items.drop(columns="relevant")
    jd = joint_display(inst, relevance=rel, rules=DecisionRules(relevance_min=0.25))
    got = jd.items.set_index("item_id")["decision"]
    assert got["d"] == "remove" and got["b"] == "remove" and got["c"] == "keep"


def test_expert_decisions_override_and_close_questions(inst):
    jd = joint_display(inst, relevance=_relevance(), qual=_qual(), decisions=_decisions(inst))
    t = jd.items.set_index(jd.items["item_id"].fillna(jd.items["concept"]))
    assert t.loc["c", "proposed"] == "revise" and t.loc["c", "decision"] == "keep"
    assert t.loc["c", "decided_by"] == "expert" and not t.loc["c", "open_question"]
    assert t.loc["c", "expert_rationale"] == "distinct facet"
    assert t.loc["mc_new", "decision"] == "add" and t.loc["mc_new", "new_item_id"] == "f_new"
    assert t.loc["mc_new", "new_construct_id"] == "c1"
    assert list(jd.open_questions()["item_id"]) == ["b"]  # discordant removal, undecided


def test_revised_instrument(inst):
    jd = joint_display(inst, relevance=_relevance(), qual=_qual(), decisions=_decisions(inst))
    prov = {"seed": 1, "inputs": {"ratings": {"sha256": "0" * 64}}}
    rev = revise_instrument(inst, jd, status="draft", provenance=prov)
    assert rev.version == "1.1" and rev.status == "draft"
    assert rev.derived_from.id == "demo" and rev.derived_from.version == "1.0"
    assert "b" not in rev.item_ids and "f_new" in rev.item_ids
    assert rev.item("f_new").label == "A new item"
    assert rev.construct_of("f_new").id == "c1"
    # stored codes survive the removal of b (REDCap keeps c=3, d=4, e=5); f_new gets 6
    c1 = rev.construct("c1")
    assert [c1.item_code(i) for i in c1.item_ids] == [1, 3, 4, 5, 6]
    actions = {e.item: e.action for e in rev.changelog}
    assert actions == {"a": "kept", "b": "removed", "c": "kept", "d": "kept", "e": "kept",
                       "f_new": "added", "l1": "kept", "l2": "kept", "l3": "kept"}
    ch = {e.item: e for e in rev.changelog}
    assert "R1-relevance-below-cutoff" in ch["b"].reason
    assert "relevance R = 4.00%" in ch["b"].evidence
    assert ch["c"].reason.startswith("Expert decision (panel): keep (rules proposed revise)")
    assert rev.provenance["seed"] == 1
    # it round-trips through an instrument file and passes the instrument checks
    text = dumps_instrument(rev)
    assert check_instrument_data(rev.to_dict()) == []
    assert loads_instrument(text) == rev


def test_revision_with_new_wording(inst):
    d = decisions_from_frame(pd.DataFrame([
        {"item": "c", "decision": "revise", "rationale": "clearer", "new_label": "Item c, clearer"}]),
        instrument=inst)
    jd = joint_display(inst, relevance=_relevance(), qual=_qual(), decisions=d)
    rev = revise_instrument(inst, jd, version="2")
    assert rev.item("c").label == "Item c, clearer"
    e = [x for x in rev.changelog if x.item == "c"][0]
    assert e.action == "revised" and "Item c, clearer" in e.reason
    # without new wording the item stays, marked for rewording
    jd2 = joint_display(inst, relevance=_relevance(), qual=_qual())
    rev2 = revise_instrument(inst, jd2, version="2")
    e2 = [x for x in rev2.changelog if x.item == "c"][0]
    assert rev2.item("c").label == "Item c" and "Marked for rewording" in e2.reason


def test_diff_reads_like_the_changelog(inst):
    diff_mod = pytest.importorskip("instrval.integrate.diff")
    jd = joint_display(inst, relevance=_relevance(), qual=_qual(), decisions=_decisions(inst))
    rev = revise_instrument(inst, jd, version="2")
    d = diff_mod.instrument_diff(inst, rev)
    assert "b" in d.removed and "f_new" in d.added


def test_revision_errors(inst):
    jd = joint_display(inst)
    with pytest.raises(StudyError, match="equals the reviewed"):
        revise_instrument(inst, jd, version="1.0")
    rel = SimpleNamespace(items=pd.DataFrame([
        {"item_id": i, "ratio": 0.0, "relevant": False} for i in "abcde"]))
    with pytest.raises(StudyError, match="every item of construct 'c1'"):
        revise_instrument(inst, joint_display(inst, relevance=rel))
    # relevance ratios never judge scale items: a Likert construct is not emptied by them
    rel_likert = SimpleNamespace(items=pd.DataFrame([
        {"item_id": i, "ratio": 0.0, "relevant": False} for i in ("l1", "l2", "l3")]))
    jd = joint_display(inst, relevance=rel_likert)
    assert (jd.items.set_index("item_id").loc[["l1", "l2", "l3"], "proposed"] == "keep").all()


@pytest.mark.parametrize("old,ts,new", [
    ("2011", "2014-06-30T12:00:00+00:00", "2014"), ("2014", "2014-01-01T00:00:00", "2015"),
    ("1.0", None, "1.1"), ("1.9", None, "1.10"), ("2.3.1", None, "2.4.0"), ("7", None, "8"),
    ("beta", None, "beta-rev1")])
def test_next_version(old, ts, new):
    assert next_version(old, timestamp=ts) == new


def test_rule_ids_are_unique_and_documented():
    ids = [r.id for r in RULE_CATALOGUE]
    assert len(ids) == len(set(ids))
    doc = (ROOT / "docs/decision-rules.md").read_text()
    for i in ids:
        assert i in doc, f"{i} is not documented in docs/decision-rules.md"
    cat = rule_catalogue(DecisionRules(relevance_min=0.05))
    assert "relevance_min = 0.05" in cat.set_index("id").loc["R1-relevance-below-cutoff",
                                                                "thresholds"]


def test_cosmin_summary(inst):
    jd = joint_display(inst, relevance=_relevance(), qual=_qual(), decisions=_decisions(inst))
    cfa = SimpleNamespace(fit={"chi2": 10.0, "df": 5, "cfi": 0.90, "tli": 0.88,
                               "rmsea": 0.05, "srmr": 0.09})
    s = cosmin_summary(jd, reliability=_reliability(), cfa=cfa).table.set_index("aspect")
    # relevance: 4 of 5 judged items relevant = 80% < 85%
    assert s.loc["relevance", "rating"] == "insufficient"
    # comprehensiveness: the one candidate (mc_new) was added by the experts
    assert s.loc["comprehensiveness", "rating"] == "sufficient"
    # comprehensibility: 3 of 4 items with a verdict representative = 75%
    assert s.loc["comprehensibility", "rating"] == "insufficient"
    # structural validity: RMSEA .05 < .06 suffices (COSMIN: CFI/TLI OR RMSEA OR SRMR)
    assert s.loc["structural validity", "rating"] == "sufficient"
    assert s.loc["internal consistency", "rating"] == "sufficient"  # .72 >= .70
    s2 = cosmin_summary(joint_display(inst)).table.set_index("aspect")
    assert set(s2["rating"]) == {"indeterminate"}
    cfa_bad = SimpleNamespace(fit={"cfi": 0.9, "tli": 0.9, "rmsea": 0.1, "srmr": 0.1})
    s3 = cosmin_summary(jd, reliability=_reliability(), cfa=cfa_bad).table.set_index("aspect")
    assert s3.loc["structural validity", "rating"] == "insufficient"
    assert s3.loc["internal consistency", "rating"] == "indeterminate"


def test_decisions_file_problems(tmp_path, inst):
    p = tmp_path / "d.csv"
    p.write_text("item,decision,rationale\nzz,keep,x\na,destroy,y\nb,keep,\n"
                 "a,remove,dup\nnew,add,needs label\n", encoding="utf-8")
    with pytest.raises(StudyError) as e:
        read_decisions(p, inst)
    reasons = [(pr.reason, pr.row) for pr in e.value.problems]
    assert ("unknown_item", 2) in reasons
    assert ("invalid_value", 3) in reasons
    assert ("empty_value", 4) in reasons
    assert ("empty_value", 6) in reasons  # add without new_label / construct
    p.write_text("item,verdict\n", encoding="utf-8")
    with pytest.raises(StudyError, match="2 problems|problems"):
        read_decisions(p, inst)


def test_iam_example_decisions_file():
    from instrval.io.instrument import read_instrument

    iam = read_instrument(ROOT / "instruments/iam/iam-2011.yaml")
    d = read_decisions(ROOT / "examples/iam/expert_decisions.csv", iam)
    t = d.table.set_index("item")
    assert t.loc["ci_reassured", "decision"] == "keep"
    assert d.for_concept("mc_reassure_patient")["decision"] == "reject"
    assert len(d.source["sha256"]) == 64


def test_cosmin_structural_validity_uses_the_ordinal_fit(inst):
    """With a WLSMV fit the rating uses its scaled CFI/TLI/RMSEA and its SRMR; the ML fit
    is listed beside it."""
    jd = joint_display(inst, relevance=_relevance(), qual=_qual(), decisions=_decisions(inst))
    ml = SimpleNamespace(fit={"chi2": 10.0, "df": 5, "cfi": 0.90, "tli": 0.88,
                              "rmsea": 0.05, "srmr": 0.09})           # sufficient (RMSEA)
    wlsmv = SimpleNamespace(fit={"chi2": 30.0, "df": 5, "cfi": 0.97, "tli": 0.96,
                                 "rmsea": 0.05, "srmr": 0.09, "cfi_scaled": 0.91,
                                 "tli_scaled": 0.90, "rmsea_scaled": 0.07})
    res = cosmin_summary(jd, reliability=_reliability(), cfa=ml, cfa_ordinal=wlsmv)
    row = res.table.set_index("aspect").loc["structural validity"]
    # scaled .91/.90/.07 and SRMR .09 all miss the criteria (the unscaled ones would not)
    assert row["rating"] == "insufficient"
    assert row["evidence"].startswith("WLSMV: CFI = 0.910, TLI = 0.900, RMSEA = 0.070")
    assert "ML: CFI = 0.900" in row["evidence"] and "rated on WLSMV" in row["evidence"]
    v = res.values["structural validity"]
    assert v["estimator"] == "WLSMV" and v["cfi"] == 0.91 and v["ml"]["rmsea"] == 0.05
    # without the scaled indices the plain ones are used
    plain = SimpleNamespace(fit={"cfi": 0.97, "tli": 0.96, "rmsea": 0.05, "srmr": 0.05})
    row2 = cosmin_summary(jd, cfa_ordinal=plain).table.set_index("aspect").loc[
        "structural validity"]
    assert row2["rating"] == "sufficient" and row2["evidence"].startswith("CFI = 0.970")
    # NaN indices do not count as passing
    nan = SimpleNamespace(fit={"cfi": float("nan"), "tli": float("nan"), "rmsea": 0.2,
                               "srmr": 0.2})
    row3 = cosmin_summary(jd, cfa=nan).table.set_index("aspect").loc["structural validity"]
    assert row3["rating"] == "insufficient" and "nan" not in row3["evidence"]
