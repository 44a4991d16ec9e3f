"""instrument_diff: every change kind, worked out by hand on small instruments."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from instrval.integrate.diff import CHANGE_KINDS, instrument_diff
from instrval.io.instrument import read_instrument
from instrval.model.instrument import Instrument

ROOT = Path(__file__).resolve().parents[1]

OLD = {
    "format_version": "1.0", "id": "demo", "version": "1", "title": "Demo",
    "status": "draft",
    "scales": {"agree5": {"min": 1, "max": 5, "labels": {1: "No", 5: "Yes"}}},
    "constructs": [
        {"id": "impact", "label": "Impact", "kind": "multi_select",
         "items": [{"id": "learned", "label": "Learned"},
                   {"id": "reassured", "label": "Reassured"},
                   {"id": "reminded", "label": "Reminded"},
                   {"id": "motivated", "label": "Motivated"}]},
        {"id": "use", "label": "Use", "kind": "multi_select",
         "gate": {"id": "use_gate", "question": "Used?", "options": ["yes", "no"],
                  "open_when": "yes"},
         "items": [{"id": "manage", "label": "Manage"}, {"id": "justify", "label": "Justify"}]},
        {"id": "attitude", "label": "Attitude", "kind": "likert", "scale": "agree5",
         "items": [{"id": "a1", "label": "Likes it"}, {"id": "a2", "label": "Hates it"}]},
    ],
}


def _inst(d):
    return Instrument.from_dict(d)


def test_no_changes():
    d = instrument_diff(_inst(OLD), _inst(OLD))
    assert d.is_empty and not d
    assert d.to_frame().empty
    assert list(d.to_frame().columns) == ["change", "item_id", "construct_id", "field",
                                          "old", "new"]
    assert "No changes." in d.to_markdown()
    assert d.to_dict() == {"old": "demo@1", "new": "demo@1", "counts": {}, "changes": []}


def _new():
    n = copy.deepcopy(OLD)
    n["version"] = "2"
    n["status"] = "validated"
    c0 = n["constructs"][0]["items"]
    # reword one, remove one, add one, reorder: motivated moves to the front
    c0[0]["label"] = "I learned something new"
    c0[1]["text"] = "I am reassured about my practice"
    del c0[2]  # reminded removed
    c0.insert(0, c0.pop())  # motivated to the front
    c0.append({"id": "confirmed", "label": "Confirmed"})
    # justify moves to impact
    use_items = n["constructs"][1]["items"]
    c0.append(use_items.pop())
    # gate changes: open on yes or possibly
    n["constructs"][1]["gate"]["options"] = ["yes", "no", "possibly"]
    n["constructs"][1]["gate"]["open_when"] = ["yes", "possibly"]
    # a2 becomes reverse-keyed; scale label changes
    n["constructs"][2]["items"][1]["reverse"] = True
    n["scales"]["agree5"]["labels"] = {1: "No", 5: "Yes!"}
    # construct label change, a new binary construct
    n["constructs"][2]["label"] = "Attitudes"
    n["constructs"].append({"id": "flags", "label": "Flags", "kind": "binary",
                            "items": [{"id": "urgent", "label": "Urgent"}]})
    return n


def test_every_kind_of_change_is_reported():
    d = instrument_diff(_inst(OLD), _inst(_new()))
    f = d.to_frame()
    rows = {(r.change, r.item_id, r.construct_id, r.field, r.old, r.new)
            for r in f.itertuples(index=False)}
    expected = {
        ("metadata_changed", None, None, "version", "1", "2"),
        ("metadata_changed", None, None, "status", "draft", "validated"),
        ("scale_changed", None, None, "agree5.labels", "1: No, 5: Yes", "1: No, 5: Yes!"),
        ("construct_added", None, "flags", "construct", None, "Flags"),
        ("construct_changed", None, "attitude", "label", "Attitude", "Attitudes"),
        ("gate_changed", None, "use", "options", "yes, no", "yes, no, possibly"),
        ("gate_changed", None, "use", "open_when", "yes", "yes, possibly"),
        ("item_added", "confirmed", "impact", "item", None, "Confirmed"),
        ("item_added", "urgent", "flags", "item", None, "Urgent"),
        ("item_removed", "reminded", "impact", "item", "Reminded", None),
        ("item_reworded", "learned", "impact", "label", "Learned", "I learned something new"),
        ("item_reworded", "reassured", "impact", "text", None,
         "I am reassured about my practice"),
        ("item_moved", "justify", "impact", "construct", "use", "impact"),
        # learned, reassured, motivated -> motivated, learned, reassured: one move
        ("item_moved", "motivated", "impact", "position", "4", "1"),
        ("item_changed", "a2", "attitude", "reverse", "false", "true"),
        # positional codes changed by the reordering
        ("item_changed", "learned", "impact", "code", "1", "2"),
        ("item_changed", "reassured", "impact", "code", "2", "3"),
        ("item_changed", "motivated", "impact", "code", "4", "1"),
    }
    assert rows == expected
    assert d.added == ("confirmed", "urgent")
    assert d.removed == ("reminded",)
    assert d.reworded == ("learned", "reassured")
    assert set(d.moved) == {"justify", "motivated"}
    # rows come in changelog order
    order = [CHANGE_KINDS.index(c) for c in f["change"]]
    assert order == sorted(order)


def test_markdown_reads_like_a_changelog():
    md = instrument_diff(_inst(OLD), _inst(_new())).to_markdown()
    assert md.startswith("## Changes from demo@1 to demo@2")
    for line in [
        "### Metadata", "- version: “1” → “2”",
        "### Items", "- Added item `confirmed` to `impact`: “Confirmed”",
        "- Removed item `reminded` from `impact`: “Reminded”",
        "- Reworded `learned` (label): “Learned” → “I learned something new”",
        "- Moved `justify` from construct `use` to `impact`",
        "- Moved `motivated` within `impact` from position 4 to 1",
        "### Gates", "- Gate of `use` open_when: “yes” → “yes, possibly”",
        "### Constructs", "- Added construct `flags` (Flags)",
        "- Stored codes changed in `impact` (survey platforms such as REDCap store these): "
        "`motivated` 4 → 1, `learned` 1 → 2, `reassured` 2 → 3",
    ]:
        assert line in md.splitlines(), line


def test_to_dict_is_json_ready():
    d = instrument_diff(_inst(OLD), _inst(_new())).to_dict()
    text = json.dumps(d)
    assert json.loads(text)["counts"]["item_added"] == 2
    assert set(d["changes"][0]) == {"change", "item_id", "construct_id", "field", "old", "new"}


def test_gates_and_constructs_removed_and_added():
    n = copy.deepcopy(OLD)
    del n["constructs"][1]["gate"]
    n["constructs"][0]["gate"] = {"id": "g2", "question": "Q?", "options": ["a", "b"],
                                  "open_when": "a"}
    del n["constructs"][2]
    del n["scales"]
    d = instrument_diff(_inst(OLD), _inst(n))
    f = d.to_frame()
    got = set(zip(f["change"], f["construct_id"], strict=True))
    assert ("gate_added", "impact") in got
    assert ("gate_removed", "use") in got
    assert ("construct_removed", "attitude") in got
    assert ("scale_removed", None) in got
    assert set(f.loc[f["change"] == "item_removed", "item_id"]) == {"a1", "a2"}


def test_construct_moved_and_renamed_id_is_remove_plus_add():
    n = copy.deepcopy(OLD)
    n["constructs"].insert(0, n["constructs"].pop())  # attitude first
    n["constructs"][1]["items"][0]["id"] = "learned_new"
    d = instrument_diff(_inst(OLD), _inst(n))
    f = d.to_frame()
    moved = f[f["change"] == "construct_moved"]
    assert moved[["construct_id", "old", "new"]].values.tolist() == [["attitude", "3", "1"]]
    assert d.removed == ("learned",) and d.added == ("learned_new",)


def test_iam_against_a_revision_of_itself(tmp_path):
    iam = read_instrument(ROOT / "instruments/iam/iam-2011.yaml")
    data = iam.to_dict()
    data["version"] = "2012"
    data["constructs"][3]["items"].append({"id": "hb_new", "label": "New benefit"})
    d = instrument_diff(iam, Instrument.from_dict(data))
    assert d.counts() == {"metadata_changed": 1, "item_added": 1}


@pytest.mark.parametrize("a,b", [(OLD, OLD)])
def test_diff_is_pure(a, b):
    x, y = _inst(a), _inst(b)
    before = (x.to_dict(), y.to_dict())
    instrument_diff(x, y)
    assert (x.to_dict(), y.to_dict()) == before
