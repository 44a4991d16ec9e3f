"""The REDCap import on real public data dictionaries (tests/data/redcap_corpus)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from instrval.errors import ExportError
from instrval.io.exports.redcap import read_redcap_instrument
from instrval.io.redcap_dictionary import (
    REDCAP_CHOICE_TYPES,
    normalise_logic,
    parse_choices,
    parse_gate_logic,
    parse_redcap_dictionary,
)

CORPUS = Path(__file__).resolve().parent / "data" / "redcap_corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text("utf-8"))


def _has_choice_field(path: Path) -> bool:
    """Independent of the parser: does any row have a choice field type?"""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    head = [h.strip().lower() for h in rows[0]]
    j = next(i for i, h in enumerate(head) if h in ("field type", "field_type"))
    return any(len(r) > j and r[j].strip().lower() in REDCAP_CHOICE_TYPES for r in rows[1:])


def test_manifest_lists_every_file_with_source_and_licence():
    files = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.csv")}
    assert files == {e["file"] for e in MANIFEST}
    assert len(files) >= 60
    for e in MANIFEST:
        assert e["repo"] and e["path"] and len(e["commit"]) == 40 and e["licence"]
        assert hashlib.sha256((CORPUS / e["file"]).read_bytes()).hexdigest() == e["sha256"]


def test_corpus_imports():
    imported, refused = [], []
    for e in MANIFEST:
        p = CORPUS / e["file"]
        try:
            res = read_redcap_instrument(p, id="x", version="1")
        except ExportError as exc:
            refused.append((e["file"], exc))
            continue
        imported.append(e["file"])
        assert res.instrument.counts()["items"] > 0
        assert all(n.severity == "warning" for n in res.notes)
    instrument_dicts = [e["file"] for e in MANIFEST if _has_choice_field(CORPUS / e["file"])]
    assert len(instrument_dicts) >= 60
    ok = [f for f in instrument_dicts if f in imported]
    assert len(ok) / len(instrument_dicts) >= 0.95, sorted(set(instrument_dicts) - set(ok))
    # every refusal is for a stated reason: here, no field that could give a construct
    for f, exc in refused:
        assert exc.problems[0].reason == "no_choice_fields", (f, str(exc))
        assert not _has_choice_field(CORPUS / f), f


def test_corpus_failure_modes_are_notes_not_refusals():
    # blank choice labels (NDCLab's scales write "2, | 3, |"), single-option radios in a
    # matrix (TAI), descending codes, text codes
    res = read_redcap_instrument(CORPUS / "NDCLab-instruments/tai_s1_r1_e1.csv", id="tai",
                                 version="1")
    assert {n.reason for n in res.notes} >= {"single_option"}
    assert res.instrument.constructs[0].kind == "binary"
    assert res.instrument.counts()["items"] == 50
    reasons = set()
    for e in MANIFEST:
        with contextlib.suppress(ExportError):
            reasons |= {n.reason for n in read_redcap_instrument(
                CORPUS / e["file"], id="x", version="1").notes}
    assert {"blank_choice_label", "skipped_field", "single_option"} <= reasons


def test_parse_choices_as_written():
    assert parse_choices("2, 2 | 1, 1 | 0, 0")[0] == (("2", "2"), ("1", "1"), ("0", "0"))
    ch, issues = parse_choices("1, Yes | 2,  | 3, |")
    assert ch == (("1", "Yes"), ("2", "2"), ("3", "3"))
    assert [i[0] for i in issues] == ["warning", "warning"]
    assert parse_choices("a, Apple | b, Banana | NA, Not known")[0][2] == ("NA", "Not known")
    assert parse_choices("1, A | 1, B")[0] is None
    assert parse_choices("", ftype="yesno")[0] == (("1", "Yes"), ("0", "No"))


@pytest.mark.parametrize("logic, field, values, box", [
    ("[x] = '1'", "x", ("1",), None),
    ("[X] = 1 OR [x] = 2", "x", ("1", "2"), None),
    ('([x] == "1") or ([x]="3")', "x", ("1", "3"), None),
    ("[why(3)] = '1'", "why", ("3",), "3"),
    ("[x] = '1' and [y] = '1'", None, None, None),
    ("[x] > 1", None, None, None),
    ("[x] = '1' or [y] = '2'", None, None, None),
])
def test_gate_logic(logic, field, values, box):
    g = parse_gate_logic(logic)
    if field is None:
        assert g is None
    else:
        assert (g.field, g.values, g.box) == (field, values, box)


def test_normalise_logic():
    assert normalise_logic("[a] = 1 AND\n[b] <> 'x'") == "[a] = '1' and [b] <> 'x'"


def test_one_parser_for_ratings_and_import(tmp_path):
    p = CORPUS / "REDCapR/checkboxes-1__dictionary.csv"
    d = parse_redcap_dictionary(p)
    from instrval.io.ratings import read_redcap_dictionary

    assert read_redcap_dictionary(p) == d.as_mapping()


def test_real_failure_modes_from_the_corpus():
    lab = CORPUS / "NDCLab-instruments"
    # uppercase, unquoted logic: "[psqi_i10_sub1_s1_r1_e1] = 1 OR [...] = 2 OR [...] = 3"
    psqi = read_redcap_instrument(lab / "psqi_s1_r1_e1.csv", id="psqi", version="1")
    (gated,) = [c for c in psqi.instrument.constructs if c.gate is not None]
    assert gated.gate.id == "psqi_i10_sub1_s1_r1_e1" and len(gated.gate.open_when) == 3
    # blank choice labels "0, Poor | 1,  | 2,  | ... | 10, Very good": a 0..10 scale
    covid = read_redcap_instrument(lab / "covid_b_s1_r1_e1.csv", id="c", version="1")
    c = covid.instrument.constructs[0]
    sc = covid.instrument.scale_of(c)
    assert (c.kind, sc.min, sc.max) == ("likert", 0, 10)
    assert sc.labels == {0: "Poor", 5: "Okay", 10: "Very good"}
    blanks = [n for n in covid.notes if n.reason == "blank_choice_label"]
    assert blanks and all(n.row and n.column and n.file for n in blanks)
    # logic on a skipped field ("other, specify": "[demo_c_ethnic_s1_r1_e1(8)] = '1'" on
    # a text field) is irrelevant; a gate that is itself gated (a yes/no field opening
    # a radio that opens another) keeps its gate role and loses its own logic, noted
    demo = read_redcap_instrument(lab / "demo_c_s1_r1_e1.csv", id="d", version="1")
    nested = [n for n in demo.notes if n.reason == "branching_not_gate"]
    assert [n.value for n in nested] == ["[demo_c_eng_s1_r1_e1]='1'"]
    assert "cannot be nested" in nested[0].message
    assert not any("othethnic" in n.message and n.reason == "branching_not_gate"
                   for n in demo.notes)
    api = read_redcap_instrument(CORPUS / "redcapAPI/TestRedcapAPI_DataDictionary.csv",
                                 id="api", version="1")
    (note,) = [n for n in api.notes if n.reason == "branching_not_gate"
               and "three_prereq_andor" in n.message]
    assert note.value == "([prereq_radio] = '2' and [prereq_yesno] = '0') or " \
        "[prereq_checkbox(2)] = '1'"
    assert note.column == "Branching Logic (Show field only if...)" and note.row
