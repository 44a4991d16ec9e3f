"""Tests of instrval.io.panel.read_panel: each problem kind (message, Problem fields and
quarantine row), both layouts, CSV and XLSX, and a many-faults-at-once file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from instrval.errors import PanelError
from instrval.io.panel import read_panel
from instrval.model.instrument import Instrument
from instrval.stats.content_validity import content_validity

INST = Instrument.from_dict({
    "format_version": "1.0", "id": "demo", "version": "1", "title": "Demo",
    "scales": {"s4": {"min": 1, "max": 4}},
    "constructs": [{"id": "c", "label": "C", "kind": "likert", "scale": "s4",
                    "items": [{"id": f"q{i}", "label": f"Q{i}"} for i in range(1, 5)]}]})


def _write(tmp_path: Path, text: str, name: str = "panel.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _only(problems, reason):
    found = [p for p in problems if p.reason == reason]
    assert len(found) == 1, problems
    return found[0]


def _check_invariant(panel):
    assert len(panel.data) + len(panel.quarantine) == panel.source["ratings_read"]


def test_clean_long_file(tmp_path):
    p = _write(tmp_path, "expert,item_id,relevance,clarity,comment\n"
                         "E1,q1,4,3,fine\nE1,q2,3,,\nE2,q1,2,4,unclear\nE2,q2,4,4,\n")
    panel = read_panel(p, INST)
    assert panel.problems == ()
    assert panel.source["layout"] == "long" and panel.source["format"] == "csv"
    assert panel.aspects == ("relevance", "clarity")
    assert panel.data["relevance"].tolist() == [4, 3, 2, 4]
    assert str(panel.data["relevance"].dtype) == "Int64"
    assert panel.data["clarity"].isna().tolist() == [False, True, False, False]
    assert panel.data["comment"].tolist()[0] == "fine"
    assert panel.data["row"].tolist() == [2, 3, 4, 5]
    assert panel.experts == ("E1", "E2") and panel.item_ids == ("q1", "q2")
    _check_invariant(panel)


def test_clean_wide_file(tmp_path):
    p = _write(tmp_path, "expert,q1,q2,q3\nE1,4,3,\nE2,3,4,4\n")
    panel = read_panel(p, INST)
    assert panel.source["layout"] == "wide"
    assert panel.problems == ()
    assert len(panel.data) == 5  # the blank cell is "not rated"
    assert panel.data.set_index(["expert", "item_id"]).loc[("E2", "q3"), "relevance"] == 4
    _check_invariant(panel)


@pytest.mark.parametrize(
    ("line", "reason", "column", "value", "message"),
    [
        ("E3,qx,3", "unknown_item", "item_id", "qx", "item 'qx' is not an item of demo@1"),
        (",q1,3", "blank_expert", "expert", None, "the expert id is blank"),
        ("E3,,3", "blank_item", "item_id", None, "the item id is blank"),
        ("E3,q1,", "missing_value", "relevance", None, "relevance: no rating given"),
        ("E3,q1,high", "not_a_number", "relevance", "high", "rating 'high' is not a number"),
        ("E3,q1,5", "out_of_range", "relevance", "5", "rating 5 is outside the scale"),
        ("E3,q1,0", "out_of_range", "relevance", "0", "use a whole number from 1 to 4"),
        ("E3,q1,2.5", "out_of_range", "relevance", "2.5", "rating 2.5 is outside the scale"),
    ],
)
def test_each_problem_kind_long(tmp_path, line, reason, column, value, message):
    p = _write(tmp_path, f"expert,item_id,relevance\nE1,q1,4\nE2,q1,3\n{line}\n")
    panel = read_panel(p, INST)
    prob = _only(panel.problems, reason)
    assert message in prob.message
    assert prob.row == 4 and prob.column == column and prob.file == str(p)
    if value is not None:
        assert prob.value == value
    q = panel.quarantine
    assert len(q) == 1
    assert q.loc[0, "row"] == 4 and q.loc[0, "reason"] == reason
    assert message in q.loc[0, "message"]
    assert len(panel.data) == 2
    _check_invariant(panel)


def test_duplicate_pair_quarantines_all_copies(tmp_path):
    p = _write(tmp_path, "expert,item_id,relevance\nE1,q1,4\nE1,q1,2\nE1,q2,3\n")
    panel = read_panel(p, INST)
    dups = [pr for pr in panel.problems if pr.reason == "duplicate_rating"]
    assert [d.row for d in dups] == [2, 3]
    assert "expert 'E1' rated item 'q1' more than once (also row 3)" in dups[0].message
    assert panel.quarantine["row"].tolist() == [2, 3]
    assert set(panel.quarantine["reason"]) == {"duplicate_rating"}
    assert panel.data["item_id"].tolist() == ["q2"]
    _check_invariant(panel)


def test_bad_optional_aspect_quarantines_row(tmp_path):
    p = _write(tmp_path, "expert,item_id,relevance,clarity\nE1,q1,4,9\nE1,q2,3,2\n")
    panel = read_panel(p, INST)
    prob = _only(panel.problems, "out_of_range")
    assert prob.column == "clarity" and prob.row == 2
    assert prob.message.startswith("clarity: rating 9")
    assert panel.quarantine.loc[0, "raw_clarity"] == "9"


def test_empty_file(tmp_path):
    with pytest.raises(PanelError) as exc:
        read_panel(_write(tmp_path, ""), INST)
    assert exc.value.problems[0].reason == "empty_file"
    with pytest.raises(PanelError) as exc:
        read_panel(_write(tmp_path, "expert,item_id,relevance\n", "h.csv"), INST)
    assert exc.value.problems[0].reason == "empty_file"
    assert "has no ratings" in str(exc.value)


def test_missing_columns(tmp_path):
    with pytest.raises(PanelError) as exc:
        read_panel(_write(tmp_path, "who,item_id,relevance\nE1,q1,4\n"), INST)
    pr = exc.value.problems[0]
    assert pr.reason == "missing_column" and pr.row == 1
    assert "no 'expert' column" in pr.message
    with pytest.raises(PanelError, match="needs a 'relevance' column"):
        read_panel(_write(tmp_path, "expert,item_id,score\nE1,q1,4\n", "b.csv"), INST)


def test_unreadable_files(tmp_path):
    with pytest.raises(PanelError) as exc:
        read_panel(tmp_path / "nope.csv")
    assert exc.value.problems[0].reason == "file_not_found"
    assert "nope.csv" in str(exc.value)
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(PanelError) as exc:
        read_panel(bad)
    assert exc.value.problems[0].reason == "not_xlsx"
    with pytest.raises(PanelError, match="unsupported file type '.sav'"):
        read_panel(_write(tmp_path, "x", "a.sav"))


def test_nothing_usable_raises_with_every_problem(tmp_path):
    p = _write(tmp_path, "expert,item_id,relevance\nE1,q1,7\n,q2,3\n")
    with pytest.raises(PanelError) as exc:
        read_panel(p, INST)
    assert {pr.reason for pr in exc.value.problems} == {"out_of_range", "blank_expert"}
    assert "2 problems" in str(exc.value)


def test_many_faults_at_once_long(tmp_path):
    text = (
        "expert,item_id,relevance,clarity\n"
        "E1,q1,4,3\n"        # 2 ok
        "E1,q2,5,3\n"        # 3 out_of_range
        "E1,qx,3,3\n"        # 4 unknown_item
        ",q3,4,4\n"          # 5 blank_expert
        "E2,q1,high,2\n"     # 6 not_a_number
        "E2,q2,3,\n"         # 7 duplicate of 8
        "E2,q2,4,4\n"        # 8 duplicate of 7
        "E2,q3,,2\n"         # 9 missing_value
        "\n"                 # 10 blank line: skipped
        "E3,q1,3,9\n"        # 11 out_of_range (clarity)
        ",qy,x,\n"           # 12 blank_expert + unknown_item + not_a_number
        "E3,q2,4,4\n"        # 13 ok
    )
    panel = read_panel(_write(tmp_path, text), INST)
    assert panel.data["row"].tolist() == [2, 13]
    q = panel.quarantine.set_index("row")
    assert q["reason"].to_dict() == {
        3: "out_of_range", 4: "unknown_item", 5: "blank_expert", 6: "not_a_number",
        7: "duplicate_rating", 8: "duplicate_rating", 9: "missing_value",
        11: "out_of_range", 12: "blank_expert;unknown_item;not_a_number"}
    assert q.loc[12, "raw_relevance"] == "x"
    assert len(panel.problems) == 11
    assert [(p.row, p.reason) for p in panel.problems if p.row == 12] == [
        (12, "blank_expert"), (12, "unknown_item"), (12, "not_a_number")]  # by column
    _check_invariant(panel)
    assert panel.source["rows_read"] == 11


def test_many_faults_at_once_wide(tmp_path):
    text = "expert,q1,q2,q3,zz\nE1,4,3,,2\nE2,3,x,4,\n,4,4,4,\nE3,1,2,7,\n"
    panel = read_panel(_write(tmp_path, text), INST)
    q = panel.quarantine
    got = sorted(zip(q["row"], q["column"], q["reason"], strict=True))
    assert got == [(2, "zz", "unknown_item"), (3, "q2", "not_a_number"),
                   (4, "q1", "blank_expert"), (4, "q2", "blank_expert"),
                   (4, "q3", "blank_expert"), (5, "q3", "out_of_range")]
    unknown = _only(panel.problems, "unknown_item")
    assert unknown.row == 1 and unknown.column == "zz"
    assert len(panel.data) == 6
    _check_invariant(panel)


def test_xlsx_long_and_wide(tmp_path):
    long = pd.DataFrame({"expert": ["E1", "E1", "E2", 7], "item_id": ["q1", "q2", "q1", "q2"],
                         "relevance": [4, 3, 9, 2]})
    p = tmp_path / "panel.xlsx"
    long.to_excel(p, index=False)
    panel = read_panel(p, INST)
    assert panel.source["format"] == "xlsx"
    assert panel.data["expert"].tolist() == ["E1", "E1", "7"]
    pr = _only(panel.problems, "out_of_range")
    assert pr.row == 4 and pr.value == 9
    wide = pd.DataFrame({"expert": ["E1", "E2"], "q1": [4, 3], "q2": [3.0, None]})
    p2 = tmp_path / "wide.xlsx"
    wide.to_excel(p2, index=False)
    panel2 = read_panel(p2, INST)
    assert panel2.source["layout"] == "wide" and len(panel2.data) == 3
    assert panel2.data["relevance"].tolist() == [4, 3, 3]


def test_without_instrument_and_other_scale(tmp_path):
    p = _write(tmp_path, "expert,item_id,relevance\nE1,anything,5\nE2,anything,4\n")
    panel = read_panel(p, scale_max=5)
    assert panel.problems == () and panel.scale_max == 5


def test_panel_into_content_validity(tmp_path):
    p = _write(tmp_path, "expert,q1,q2\nA,4,4\nB,4,3\nC,3,2\nD,4,1\nE,3,4\n")
    res = content_validity(read_panel(p, INST))
    t = res.items.set_index("item_id")
    assert t.loc["q1", "i_cvi"] == 1.0 and t.loc["q2", "i_cvi"] == 0.6
    assert res.options["scale_max"] == 4
