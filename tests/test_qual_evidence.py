"""Tests of instrval.qual.evidence (representativeness per item) and the coding CLI.

Counts and judgements are worked out by hand on small tables built here; the IAM example
must give 22 representative items and ci_reassured not representative.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from instrval.cli import main
from instrval.errors import CodingError
from instrval.io.coding import read_coding
from instrval.io.instrument import read_instrument
from instrval.model.coding import CodingData
from instrval.model.rules import DecisionRules
from instrval.qual.evidence import item_evidence, primary_codings
from instrval.validate.coding import check_segments

ROOT = Path(__file__).parent.parent
IAM = read_instrument(ROOT / "instruments" / "iam" / "iam-2011.yaml")
EX = ROOT / "examples" / "iam" / "coding"
COLS = ["segment_id", "participant", "text", "code", "coder", "item_id", "construct_id",
        "theme", "category"]


def coding(rows) -> CodingData:
    raw = pd.DataFrame(rows, columns=COLS)
    raw["row"] = range(2, len(raw) + 2)
    seg, q, probs = check_segments(raw, instrument=IAM)
    assert q.empty, q
    return CodingData(segments=seg, quarantine=q, problems=tuple(probs))


def r(sid, p, text, cat, item="ci_reassured", coder="A", code=None, construct="", theme=""):
    return [sid, p, text, code or cat, coder, item, construct, theme, cat]


ROWS = [
    # ci_reassured: P1 supports; P2 1 support + 1 challenge (tie -> challenges);
    # P3 challenges; P4 2 supports + 1 challenge (majority supports) -> 2 of 4 challenge
    r("s1", "P1", "short yes", "supports"),
    r("s2", "P2", "a longer supporting segment", "supports"),
    r("s3", "P2", "it is the same as confirmed", "challenges"),
    r("s4", "P3", "about the patient, surely? not me", "challenges"),
    r("s5", "P4", "fits", "supports"),
    r("s6", "P4", "fits well", "supports"),
    r("s7", "P4", "bit unclear", "challenges"),
    r("s8", "P4", "say 'less worried'", "wording"),
    # ci_learned_new: one participant only -> no qualitative evidence
    r("s9", "P1", "new to me", "supports", item="ci_learned_new"),
    # a missing concept and a theme
    r("s10", "P1", "I shared it with the patient", "missing_concept", item="",
      construct="cognitive_impact", theme="Shared with patient", code="mc_shared"),
    r("s11", "P2", "gave it to her & she read it", "missing_concept", item="",
      construct="cognitive_impact", theme="Shared with patient", code="mc_shared"),
    r("s12", "P3", "no time", "other", item="", theme="Time pressure", code="t_time"),
]


def test_counts_and_rule_by_hand():
    ev = item_evidence(coding(ROWS), IAM)
    items = ev.items.set_index("item_id")
    assert list(ev.items["item_id"]) == list(IAM.item_ids)
    a = items.loc["ci_reassured"]
    assert (a.participants, a.segments, a.supports, a.challenges, a.wording, a.other) == (
        4, 8, 4, 3, 1, 0)
    assert a.challenging_participants == 2 and a.challenge_share == 0.5
    assert a.representative == True  # noqa: E712  (0.5 is not above 0.5)
    assert "2 of 4" in a.rule and "representative" in a.rule
    assert pd.isna(items.loc["ci_learned_new", "representative"])
    assert "no qualitative evidence" in items.loc["ci_learned_new", "rule"]
    assert pd.isna(items.loc["cr_not", "representative"])
    assert items.loc["cr_not", "participants"] == 0
    # a stricter rule flips the judgement
    strict = item_evidence(coding(ROWS), IAM,
                           rules=DecisionRules(qual_max_challenge_share=0.4))
    assert strict.items.set_index("item_id").loc["ci_reassured", "representative"] == False  # noqa: E712
    # and a higher minimum makes it "no evidence"
    few = item_evidence(coding(ROWS), IAM, rules=DecisionRules(qual_min_participants=5))
    assert pd.isna(few.items.set_index("item_id").loc["ci_reassured", "representative"])


def test_quotes_are_deterministic_and_pinnable():
    ev = item_evidence(coding(ROWS), IAM)
    q = ev.quotes_for("ci_reassured")
    # longest supporting, then longest challenging
    assert list(q["segment_id"]) == ["s2", "s4"]
    assert list(q["category"]) == ["supports", "challenges"]
    ev3 = item_evidence(coding(ROWS), IAM, rules=DecisionRules(quote_count=3))
    assert list(ev3.quotes_for("ci_reassured")["segment_id"]) == ["s2", "s4", "s8"]
    # the same input in another order gives the same quotes
    ev_rev = item_evidence(coding(ROWS[::-1]), IAM)
    assert list(ev_rev.quotes_for("ci_reassured")["segment_id"]) == ["s2", "s4"]
    pinned = item_evidence(coding(ROWS), IAM, pinned_quotes=["s7", "s11"])
    q = pinned.quotes_for("ci_reassured")
    assert list(q["segment_id"]) == ["s7", "s2"] and list(q["pinned"]) == [True, False]
    assert pinned.missing_concepts.loc[0, "example_segment_id"] == "s11"
    with pytest.raises(CodingError, match="s99"):
        item_evidence(coding(ROWS), IAM, pinned_quotes=["s99"])
    with pytest.raises(CodingError, match="not about an item"):
        item_evidence(coding(ROWS), IAM, pinned_quotes=["s12"])


def test_not_representative_leads_with_challenges():
    rows = [r("s1", "P1", "same as confirmed", "challenges"),
            r("s2", "P2", "the patient is reassured, I guess", "challenges"),
            r("s3", "P3", "I felt less worried, it fits", "supports")]
    ev = item_evidence(coding(rows), IAM)
    a = ev.items.set_index("item_id").loc["ci_reassured"]
    assert a.representative == False  # noqa: E712  (2/3 > .5)
    assert list(ev.quotes_for("ci_reassured")["segment_id"]) == ["s2", "s3"]


def test_missing_concepts_and_themes():
    ev = item_evidence(coding(ROWS), IAM)
    mc = ev.missing_concepts
    assert len(mc) == 1
    row = mc.iloc[0]
    assert (row.construct_id, row.code, row.theme, row.participants, row.segments) == (
        "cognitive_impact", "mc_shared", "Shared with patient", 2, 2)
    assert row.example_quote == "I shared it with the patient"  # longest, verbatim
    th = ev.themes.set_index("theme")
    assert set(th.index) == {"Shared with patient", "Time pressure"}
    assert th.loc["Time pressure", "participants"] == 1


def test_second_coder_is_not_double_counted():
    rows = ROWS + [r("s3", "P2", "it is the same as confirmed", "supports", coder="B"),
                   r("s4", "P3", "about the patient, surely? not me", "challenges", coder="B")]
    data = coding(rows)
    assert len(primary_codings(data.segments)) == len(ROWS)
    ev = item_evidence(data, IAM)
    a = ev.items.set_index("item_id").loc["ci_reassured"]
    assert (a.supports, a.challenges) == (4, 3)


def test_to_dict_shape():
    d = item_evidence(coding(ROWS), IAM).to_dict()
    assert set(d) == {"items", "missing_concepts"}
    first = d["items"][0]
    assert set(first) == {"item_id", "participants", "supports", "challenges",
                          "representative", "quotes"}
    reassured = next(i for i in d["items"] if i["item_id"] == "ci_reassured")
    assert reassured["representative"] is True
    assert reassured["quotes"][0] == {"segment_id": "s2", "participant": "P2",
                                      "text": "a longer supporting segment",
                                      "category": "supports"}
    assert next(i for i in d["items"] if i["item_id"] == "cr_not")["representative"] is None
    assert d["missing_concepts"][0]["code"] == "mc_shared"
    json.dumps(d)


def test_iam_example_22_representative_1_not():
    data = read_coding(EX / "segments.csv", instrument=IAM, codebook=EX / "codebook.yaml")
    ev = item_evidence(data, IAM)
    items = ev.items.set_index("item_id")
    assert items["representative"].notna().all()
    assert int(items["representative"].sum()) == 22
    assert items.loc["ci_reassured", "representative"] == False  # noqa: E712
    for item in ("ci_dissatisfied_harmful", "use_decide_unsure"):
        assert items.loc[item, "representative"] == True  # noqa: E712
    assert (items["participants"] >= 3).all()
    assert set(ev.missing_concepts["construct_id"]) >= {"cognitive_impact"}
    assert (ev.quotes.groupby("item_id").size() == 2).all()


def test_cli_commands_on_iam_example():
    runner = CliRunner()
    args = [str(EX / "segments.csv"), "--codebook", str(EX / "codebook.yaml"),
            "--instrument", str(ROOT / "instruments/iam/iam-2011.yaml")]
    res = runner.invoke(main, ["coding", "summary", *args, "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert set(d) == {"items", "missing_concepts"}
    assert [i["item_id"] for i in d["items"] if i["representative"] is False] == [
        "ci_reassured"]
    res = runner.invoke(main, ["coding", "summary", *args])
    assert res.exit_code == 0 and "ci_reassured: not representative" in res.output
    res = runner.invoke(main, ["coding", "check", *args, "--json"])
    assert res.exit_code == 0
    assert json.loads(res.output)["summary"]["participants"] == 15
    res = runner.invoke(main, ["coding", "agreement", str(EX / "segments.csv"), "--json"])
    assert res.exit_code == 0
    assert json.loads(res.output)["coders"] == ["A", "B"]
    res = runner.invoke(main, ["coding", "agreement", str(EX / "segments.csv")])
    assert res.exit_code == 0 and "Per code" in res.output
    for cmd in ("check", "summary", "agreement"):
        h = runner.invoke(main, ["coding", cmd, "--help"])
        assert h.exit_code == 0 and "Example:" in h.output


def test_cli_check_reports_problems_and_exits_1(tmp_path):
    p = tmp_path / "seg.csv"
    p.write_text("segment_id,participant,text,code,coder\ns1,P1,,supports,A\n"
                 "s2,P1,fine,supports,A\n")
    res = CliRunner().invoke(main, ["coding", "check", str(p)])
    assert res.exit_code == 1
    assert "row 2" in res.output and "empty_text" in res.output
    res = CliRunner().invoke(main, ["coding", "check", str(tmp_path / "missing.csv")])
    assert res.exit_code == 1 and "not found" in res.output


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_counts_equal_a_per_item_reference(seed):
    """The grouped computation gives the counts and quotes of a plain per-item loop."""
    full = read_coding(EX / "segments.csv", instrument=IAM)
    seg = full.segments.sample(frac=0.7, random_state=seed).reset_index(drop=True)
    data = CodingData(segments=seg, quarantine=full.quarantine, problems=full.problems)
    ev = item_evidence(data, IAM, rules=DecisionRules(quote_count=3))
    prim = primary_codings(seg)
    cat = prim["category"].fillna("other").astype(str)
    cat = cat.where(cat.isin(["supports", "challenges", "wording"]), "other")
    got = ev.items.set_index("item_id")
    for item in IAM.item_ids:
        d = prim[prim["item_id"] == item]
        c = cat[d.index]
        assert got.loc[item, "participants"] == d["participant"].nunique()
        assert got.loc[item, "segments"] == d["segment_id"].nunique()
        for k in ("supports", "challenges", "wording", "other"):
            assert got.loc[item, k] == d.loc[c == k, "segment_id"].nunique(), (item, k)
        n_chal = 0
        for _, g in d.groupby("participant"):
            gc = c[g.index]
            s = g.loc[gc == "supports", "segment_id"].nunique()
            ch = g.loc[gc == "challenges", "segment_id"].nunique()
            n_chal += ch > 0 and ch >= s
        assert got.loc[item, "challenging_participants"] == n_chal
        # quotes: at most quote_count, distinct, about the item, the longest text first
        q = ev.quotes_for(item)
        assert len(q) == min(3, d["segment_id"].nunique())
        assert q["segment_id"].is_unique and set(q["segment_id"]) <= set(d["segment_id"])
