"""Exports to FHIR R4, REDCap and XLSForm, and the REDCap import: structure checked by
hand-written rules (and, where installed, by fhir.resources and pyxform)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest

from instrval.errors import ExportError, InstrvalWarning
from instrval.io.exports import EXPORT_FORMATS, export_instrument
from instrval.io.exports.fhir import to_fhir_questionnaire, write_fhir
from instrval.io.exports.redcap import (
    REDCAP_COLUMNS,
    import_redcap_dictionary,
    read_redcap_instrument,
    redcap_dictionary,
    redcap_dictionary_csv,
    redcap_field_map,
    write_redcap,
)
from instrval.io.exports.xlsform import write_xlsform, xlsform_sheets
from instrval.io.instrument import read_instrument
from instrval.model.instrument import Instrument

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "instruments").rglob("*.yaml"))

EDGE = {
    "format_version": "1.0", "id": "edge-case.v2", "version": "2.0", "title": "=Edge cases",
    "status": "retired", "language": "fr", "license": "CC-BY-4.0",
    "derived_from": {"id": "edge-case.v2", "version": "1.0"},
    "scales": {"freq4": {"min": 0, "max": 3, "labels": {0: "Never", 3: "Always"}}},
    "constructs": [
        {"id": "screen", "label": "Screening", "kind": "single_choice",
         "question": "How often?",
         "items": [{"id": "Rarely", "label": "-rarely", "code": 5},
                   {"id": "often", "label": "often | very", "code": 0}]},
        {"id": "effects", "label": "Effects", "kind": "multi_select",
         "gate": {"id": "any_gate", "question": "Any effect?",
                  "options": ["yes", "no", "not sure"], "open_when": ["yes", "not sure"]},
         "items": [{"id": "A1", "label": "+good", "text": "A good effect"},
                   {"id": "a1_", "label": "@bad"}]},
        {"id": "mood", "label": "Mood", "kind": "likert", "scale": "freq4",
         "question": "In the last week...",
         "gate": {"id": "mood_gate", "question": "Rate mood?", "options": ["y", "n"],
                  "open_when": "y"},
         "items": [{"id": "record_id", "label": "Sad", "reverse": True},
                   {"id": "M2", "label": "Happy", "text": "I felt happy"}]},
        {"id": "flags", "label": "Flags", "kind": "binary", "question": "Tick if true",
         "items": [{"id": "urgent", "label": "Urgent"}, {"id": "Later", "label": "Later"}]},
    ],
}


@pytest.fixture(scope="module")
def edge() -> Instrument:
    return Instrument.from_dict(EDGE)


def _all_instruments(edge):
    return [read_instrument(p) for p in SHIPPED] + [edge]


# ============================================================================ FHIR
def _walk(items, parent=None):
    for it in items:
        yield it, parent
        yield from _walk(it.get("item", []), it)


def _check_fhir(q: dict, inst: Instrument) -> None:
    assert q["resourceType"] == "Questionnaire"
    assert q["status"] in ("draft", "active", "retired")
    assert q["version"] == inst.version and q["title"] == inst.title
    import re
    assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", q["id"])
    assert re.fullmatch(r"[A-Z]([A-Za-z0-9_]){0,254}", q["name"])
    order = [it["linkId"] for it, _ in _walk(q["item"])]
    assert len(order) == len(set(order)), "linkIds are unique"
    for it, _parent in _walk(q["item"]):
        assert it["type"] in ("group", "display", "choice", "boolean")
        if it["type"] == "group":
            assert it.get("item"), "a group has items (que-1)"
        if it["type"] == "display":
            assert "item" not in it and "answerOption" not in it
        if "answerOption" in it:
            assert it["type"] == "choice"  # que-5
            codes = [o["valueCoding"]["code"] for o in it["answerOption"]]
            assert len(codes) == len(set(codes)) and all(isinstance(c, str) for c in codes)
        for ew in it.get("enableWhen", []):
            assert ew["operator"] == "="
            target = ew["question"]
            assert target in order and order.index(target) < order.index(it["linkId"])
            (gate_item,) = [g for g, _ in _walk(q["item"]) if g["linkId"] == target]
            assert ew["answerCoding"]["code"] in [o["valueCoding"]["code"]
                                                  for o in gate_item["answerOption"]]
            assert ew["answerCoding"]["system"] == \
                gate_item["answerOption"][0]["valueCoding"]["system"]
        if len(it.get("enableWhen", [])) > 1:
            assert it["enableBehavior"] == "any"  # que-12


def test_fhir_structure_of_every_instrument(edge):
    for inst in _all_instruments(edge):
        _check_fhir(to_fhir_questionnaire(inst), inst)


def test_fhir_mapping_iam():
    iam = read_instrument(ROOT / "instruments/iam/iam-2011.yaml")
    q = to_fhir_questionnaire(iam, base_url="https://fhir.example.org/Questionnaire/")
    assert q["status"] == "active"  # validated -> active
    assert q["url"] == "https://fhir.example.org/Questionnaire/iam"
    assert q["copyright"] == iam.license and q["language"] == "en"
    top = [it["linkId"] for it in q["item"]]
    assert top == ["cognitive_impact", "clinical_relevance", "use_gate", "intention_to_use",
                   "benefit_gate", "health_benefit"]
    ci = q["item"][0]["item"][0]
    assert ci["type"] == "choice" and ci["repeats"] is True
    assert [o["valueCoding"]["code"] for o in ci["answerOption"]] == list(
        iam.construct("cognitive_impact").item_ids)
    cr = q["item"][1]["item"][0]
    assert cr["repeats"] is False and len(cr["answerOption"]) == 3
    use = q["item"][3]
    assert use["enableWhen"] == [{"question": "use_gate", "operator": "=", "answerCoding": {
        "system": "urn:instrval:iam:use_gate", "code": "yes", "display": "yes"}}]
    assert "enableBehavior" not in use
    assert "derivedFrom" not in q


def test_fhir_mapping_edge(edge):
    q = to_fhir_questionnaire(edge)
    assert q["status"] == "retired"
    assert q["id"] == "edge-case.v2-2.0" and q["name"] == "EdgeCaseV2"
    assert q["url"] == "urn:instrval:questionnaire:edge-case.v2"
    assert q["derivedFrom"] == ["urn:instrval:questionnaire:edge-case.v2|1.0"]
    effects = next(i for i in q["item"] if i["linkId"] == "effects")
    assert effects["enableBehavior"] == "any"
    assert [e["answerCoding"]["code"] for e in effects["enableWhen"]] == ["yes", "not sure"]
    mood = next(i for i in q["item"] if i["linkId"] == "mood")
    assert mood["item"][0] == {"linkId": "mood.question", "text": "In the last week...",
                               "type": "display"}
    sad = mood["item"][1]
    assert [(o["valueCoding"]["code"], o["valueCoding"]["display"])
            for o in sad["answerOption"]] == [("0", "Never"), ("1", "1"), ("2", "2"),
                                              ("3", "Always")]
    assert mood["item"][2]["text"] == "I felt happy"
    flags = next(i for i in q["item"] if i["linkId"] == "flags")
    assert [i["type"] for i in flags["item"]] == ["display", "boolean", "boolean"]
    bfi = to_fhir_questionnaire(read_instrument(ROOT / "instruments/bfi/bfi-1.0.yaml"))
    assert "date" not in bfi  # reproducible


def test_fhir_validates_with_fhir_resources(edge, tmp_path):
    models = pytest.importorskip("fhir.resources.R4B.questionnaire")
    for inst in _all_instruments(edge):
        p = write_fhir(inst, tmp_path / f"{inst.id}.json")
        models.Questionnaire.model_validate(json.loads(p.read_text()))


# ============================================================================ REDCap
def _read_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    r = csv.DictReader(io.StringIO(text))
    return list(r.fieldnames or []), list(r)


def test_redcap_columns_and_iam_fields():
    assert len(REDCAP_COLUMNS) == 18
    iam = read_instrument(ROOT / "instruments/iam/iam-2011.yaml")
    header, rows = _read_csv(redcap_dictionary_csv(iam))
    assert header == list(REDCAP_COLUMNS)
    assert rows[0]["Variable / Field Name"] == "record_id"
    assert rows[0]["Field Type"] == "text"
    by = {r["Variable / Field Name"]: r for r in rows}
    assert list(by) == ["record_id", "cognitive_impact", "clinical_relevance", "use_gate",
                        "intention_to_use", "benefit_gate", "health_benefit"]
    ci = by["cognitive_impact"]
    assert ci["Field Type"] == "checkbox" and ci["Form Name"] == "iam"
    assert ci["Choices, Calculations, OR Slider Labels"].startswith(
        "1, My practice is (will be) changed and improved | 2, I learned something new")
    assert ci["Section Header"] == "Cognitive impact"
    assert "@INSTRVAL-ID=cognitive_impact" in ci["Field Annotation"]
    assert by["clinical_relevance"]["Field Type"] == "radio"
    assert by["use_gate"]["Choices, Calculations, OR Slider Labels"] == \
        "1, yes | 2, no | 3, possibly"
    assert by["intention_to_use"]["Branching Logic (Show field only if...)"] == \
        "[use_gate] = '1'"
    assert all(r["Form Name"] == "iam" for r in rows)


def test_redcap_bfi_likert_fields():
    bfi = read_instrument(ROOT / "instruments/bfi/bfi-1.0.yaml")
    rows = redcap_dictionary(bfi)
    a1 = next(r for r in rows if r["Variable / Field Name"] == "a1")
    assert a1["Field Type"] == "radio"
    assert a1["Choices, Calculations, OR Slider Labels"] == (
        "1, Very inaccurate | 2, Moderately inaccurate | 3, Slightly inaccurate | "
        "4, Slightly accurate | 5, Moderately accurate | 6, Very accurate")
    assert "@INSTRVAL-ID=A1" in a1["Field Annotation"]
    assert "@INSTRVAL-REVERSE" in a1["Field Annotation"]
    a2 = next(r for r in rows if r["Variable / Field Name"] == "a2")
    assert "@INSTRVAL-REVERSE" not in a2["Field Annotation"]
    assert a1["Matrix Group Name"] == "agreeableness"
    # the construct question is shown to respondents as a descriptive field
    q = next(r for r in rows if r["Variable / Field Name"] == "agreeableness_question")
    assert q["Field Type"] == "descriptive"
    assert q["Field Label"] == bfi.construct("agreeableness").question
    assert q["Section Header"] == bfi.construct("agreeableness").label
    assert len(rows) == 1 + 25 + sum(1 for c in bfi.constructs if c.question)


def test_redcap_edge_coding_branching_and_formula_safety(edge):
    rows = {r["Variable / Field Name"]: r for r in redcap_dictionary(edge)}
    assert list(rows) == ["record_id", "screen", "any_gate", "effects", "mood_gate",
                          "mood_question", "record_id_2", "m2", "flags_question", "urgent",
                          "later"]
    # the likert construct's question, shown under the same gate as its items
    assert rows["mood_question"]["Field Type"] == "descriptive"
    assert rows["mood_question"]["Branching Logic (Show field only if...)"] == \
        "[mood_gate] = '1'"
    assert rows["screen"]["Choices, Calculations, OR Slider Labels"] == \
        "5, -rarely | 0, often ¦ very"
    assert rows["effects"]["Branching Logic (Show field only if...)"] == \
        "[any_gate] = '1' or [any_gate] = '3'"
    assert rows["effects"]["Field Type"] == "checkbox"
    assert rows["record_id_2"]["Branching Logic (Show field only if...)"] == "[mood_gate] = '1'"
    assert rows["record_id_2"]["Choices, Calculations, OR Slider Labels"] == \
        "0, Never | 1, 1 | 2, 2 | 3, Always"
    assert rows["m2"]["Field Label"] == "I felt happy"
    assert rows["urgent"]["Field Type"] == "yesno"
    assert rows["flags_question"]["Section Header"] == "Flags"
    # labels that begin with = + - @ are quoted for spreadsheets
    assert rows["screen"]["Field Label"] == "How often?"
    edge2 = edge.replace(constructs=(edge.constructs[0].__class__(
        **{**vars(edge.constructs[0]), "question": "=cmd|' /C calc'!A0"}),
        *edge.constructs[1:]))
    row = next(r for r in redcap_dictionary(edge2) if r["Variable / Field Name"] == "screen")
    assert row["Field Label"] == "'=cmd|' /C calc'!A0"


def test_redcap_field_map(edge):
    m = redcap_field_map(edge)
    assert m["form"] == "edge_case_v2" and m["record_id"] == "record_id"
    assert m["items"]["A1"] == {"construct": "effects", "kind": "multi_select",
                                "field": "effects", "type": "checkbox", "code": 1,
                                "column": "effects___1"}
    assert m["items"]["Rarely"]["code"] == 5 and m["items"]["Rarely"]["column"] == "screen"
    assert m["items"]["record_id"]["column"] == "record_id_2"
    assert m["items"]["urgent"]["type"] == "yesno"
    assert m["gates"]["any_gate"]["codes"] == {"yes": 1, "no": 2, "not sure": 3}
    assert m["gates"]["any_gate"]["open_codes"] == [1, 3]
    assert m["constructs"]["mood"] == {"kind": "likert", "field": None, "type": "radio",
                                       "items": ["record_id", "M2"]}
    # every field named in the map exists in the dictionary
    fields = {r["Variable / Field Name"] for r in redcap_dictionary(edge)}
    assert {v["field"] for v in m["items"].values()} <= fields
    assert {v["field"] for v in m["gates"].values()} <= fields


def _equivalent(a: Instrument, b: Instrument) -> None:
    """Same constructs, kinds, items, ids, labels, questions, gates, scales and codes."""
    assert a.construct_ids == b.construct_ids
    for ca, cb in zip(a.constructs, b.constructs, strict=True):
        assert (ca.id, ca.label, ca.kind, ca.question, ca.scale, ca.gate) == \
            (cb.id, cb.label, cb.kind, cb.question, cb.scale, cb.gate)
        for ia, ib in zip(ca.items, cb.items, strict=True):
            assert (ia.id, ia.label, ia.text, ia.reverse) == (ib.id, ib.label, ib.text, ib.reverse)
            assert ca.item_code(ia.id) == cb.item_code(ib.id)
    used = {c.scale for c in a.constructs if c.scale}
    assert {k: v for k, v in a.scales.items() if k in used} == dict(b.scales)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_redcap_round_trip_shipped(path, tmp_path):
    full = read_instrument(path)
    p = write_redcap(full, tmp_path / "dict.csv")
    for lang in full.languages or (None,):  # one dictionary per language
        inst = (full if lang is None else full.in_language(lang)).without_translations()
        src = p if lang in (None, full.languages[0]) else \
            tmp_path / f"dict-{lang}.csv"
        back = import_redcap_dictionary(src, id=inst.id, version=inst.version,
                                        title=inst.title)
        _equivalent(inst, back)
        # nothing lost that a data dictionary can hold: constructs and scales are equal
        assert back.constructs == inst.constructs
        assert back.scales == inst.scales
        assert back.status == "draft"


def test_redcap_round_trip_edge(edge, tmp_path):
    p = write_redcap(edge, tmp_path / "dict.csv")
    back = import_redcap_dictionary(p, id="edge-case.v2", version="2.0")
    _equivalent(edge, back)
    assert back.title == "edge_case_v2"  # the form name when no title is given
    # labels starting with = + - @ come back without the quote
    assert back.construct("effects").items[1].label == "@bad"
    # "|" cannot be inside a REDCap choice: written as ¦, restored from the annotation
    assert back.construct("screen").items[1].label == "often | very"


def test_redcap_import_of_a_dictionary_made_in_redcap(tmp_path):
    rows = [
        ["record_id", "f", "", "text", "Record ID", ""],
        ["symptoms", "f", "Symptoms", "checkbox", "Which symptoms?", "1, Cough | 2, Fever"],
        ["severity", "f", "", "dropdown", "How severe?", "1, Mild | 2, Severe"],
        ["followup", "f", "Follow-up", "radio", "Follow up?", "1, Yes | 0, No"],
        ["q1", "f", "", "radio", "I feel fine", "1, No | 2, Some | 3, Yes"],
        ["q2", "f", "", "radio", "I sleep well", "1, No | 2, Some | 3, Yes"],
        ["smoker", "f", "Habits", "yesno", "Smoker?", ""],
        ["drinks", "f", "", "truefalse", "Drinks?", ""],
        ["notes", "f", "", "notes", "Notes", ""],
    ]
    p = tmp_path / "redcap.csv"
    with p.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(REDCAP_COLUMNS)
        for r in rows:
            full = r + [""] * (18 - len(r))
            if r[0] in ("q1", "q2"):
                full[11] = "[followup] = '1'"
                full[15] = "wellbeing"
            w.writerow(full)
    with pytest.warns(InstrvalWarning, match="notes field"):
        inst = import_redcap_dictionary(p, id="foreign", version="1", title="Foreign")
    assert inst.construct_ids == ("symptoms", "severity", "wellbeing", "habits")
    s = inst.construct("symptoms")
    assert s.kind == "multi_select" and s.item_ids == ("symptoms_1", "symptoms_2")
    assert s.label == "Symptoms" and s.question == "Which symptoms?"
    assert inst.construct("severity").kind == "single_choice"
    wb = inst.construct("wellbeing")
    assert wb.kind == "likert" and wb.gate is not None
    assert wb.gate.id == "followup" and wb.gate.options == ("Yes", "No")
    assert wb.gate.open_when == ("Yes",)
    assert wb.label == "Follow-up"
    assert inst.scale_of(wb).labels == {1: "No", 2: "Some", 3: "Yes"}
    h = inst.construct("habits")
    assert h.kind == "binary" and h.item_ids == ("smoker", "drinks")


def _dict_file(tmp_path, header, rows, name="bad.csv"):
    p = tmp_path / name
    with p.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return p


def test_bad_dictionaries_give_clear_errors(tmp_path):
    cols = list(REDCAP_COLUMNS)
    # missing columns
    p = _dict_file(tmp_path, cols[:3], [["a", "f", ""]])
    with pytest.raises(ExportError, match="missing column.*'Field Type'") as ei:
        import_redcap_dictionary(p, id="x", version="1")
    assert ei.value.problems[0].row == 1 and ei.value.problems[0].column == "Field Type"

    def row(name, ftype, label="L", choices="", logic="", annot=""):
        r = [""] * 18
        r[0], r[1], r[3], r[4], r[5], r[11], r[17] = name, "f", ftype, label, choices, \
            logic, annot
        return r

    # unknown field type, malformed choices: all reported, each with row and column;
    # strict refuses the file, the default skips the fields and refuses only because
    # nothing is left to import (still listing every problem)
    p = _dict_file(tmp_path, cols, [row("record_id", "text"), row("a", "checkboxes", choices="1, A"),
                                    row("b", "radio", choices="1 A | 2 B"),
                                    row("c", "checkbox", choices="1, A | 1, B")])
    cc = "Choices, Calculations, OR Slider Labels"
    expected = [("unknown_field_type", 3, "Field Type"),
                ("malformed_choices", 4, cc), ("malformed_choices", 4, cc),  # '1 A', '2 B'
                ("malformed_choices", 5, cc)]
    with pytest.raises(ExportError) as ei:
        import_redcap_dictionary(p, id="x", version="1", strict=True)
    probs = [(q.reason, q.row, q.column) for q in ei.value.problems]
    assert probs == expected
    assert str(ei.value).startswith(f"4 problems in {p}")
    assert "unknown field type 'checkboxes'" in str(ei.value)
    with pytest.raises(ExportError, match="nothing to import") as ei:
        import_redcap_dictionary(p, id="x", version="1")
    probs = [(q.reason, q.row, q.column) for q in ei.value.problems]
    assert probs[0] == ("no_choice_fields", None, None) and probs[1:] == expected
    # branching logic that is not a gate: refused when strict, a note otherwise
    p = _dict_file(tmp_path, cols, [row("g", "radio", choices="1, y | 2, n"),
                                    row("a", "checkbox", choices="1, A | 2, B",
                                        logic="[g] > 1")])
    with pytest.raises(ExportError, match="is not an instrval gate") as ei:
        import_redcap_dictionary(p, id="x", version="1", strict=True)
    assert ei.value.problems[0].column == "Branching Logic (Show field only if...)"
    assert ei.value.problems[0].reason == "branching_not_gate"
    res = read_redcap_instrument(p, id="x", version="1")
    assert res.instrument.construct_ids == ("g", "a")
    assert res.instrument.construct("a").gate is None
    assert [(n.reason, n.row) for n in res.notes] == [("branching_not_gate", 3)]
    # text choice codes are kept as text codes (format 1.1)
    p = _dict_file(tmp_path, cols, [row("a", "checkbox", choices="x, A | y, B")])
    inst = read_redcap_instrument(p, id="x", version="1").instrument
    assert [it.code for it in inst.construct("a").items] == ["x", "y"]
    assert inst.format_version == "1.1"
    # a dictionary that gives no construct
    p = _dict_file(tmp_path, cols, [row("record_id", "text")])
    with pytest.raises(ExportError, match="nothing to import"):
        import_redcap_dictionary(p, id="x", version="1")
    with pytest.raises(ExportError, match="not found"):
        import_redcap_dictionary(tmp_path / "nope.csv", id="x", version="1")


# ============================================================================ XLSForm
def _read_xlsx(path):
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        header = rows[0]
        out[ws.title] = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    return wb, out


def test_xlsform_iam_structure(tmp_path):
    iam = read_instrument(ROOT / "instruments/iam/iam-2011.yaml")
    p = write_xlsform(iam, tmp_path / "iam.xlsx")
    wb, sheets = _read_xlsx(p)
    assert wb.sheetnames == ["survey", "choices", "settings"]
    assert sheets["settings"] == [{"form_title": iam.title, "form_id": "iam",
                                   "version": "2011"}]
    survey = sheets["survey"]
    types = [r["type"] for r in survey]
    assert types.count("begin_group") == types.count("end_group") == 4
    ci = next(r for r in survey if r["name"] == "cognitive_impact")
    assert ci["type"] == "select_multiple cognitive_impact"
    cr = next(r for r in survey if r["name"] == "clinical_relevance")
    assert cr["type"] == "select_one clinical_relevance"
    gate = next(r for r in survey if r["name"] == "use_gate")
    assert gate["type"] == "select_one use_gate"
    grp = next(r for r in survey if r["name"] == "intention_to_use_group")
    assert grp["relevant"] == "${use_gate} = 'yes'"
    assert survey.index(gate) < survey.index(grp)
    lists = {}
    for c in sheets["choices"]:
        lists.setdefault(c["list_name"], []).append(c["name"])
    assert lists["cognitive_impact"] == list(iam.construct("cognitive_impact").item_ids)
    assert lists["use_gate"] == ["yes", "no", "possibly"]


def test_xlsform_edge_likert_binary_and_formula_cells(edge, tmp_path):
    p = write_xlsform(edge, tmp_path / "edge.xlsx")
    wb, sheets = _read_xlsx(p)
    survey = sheets["survey"]
    names = [r["name"] for r in survey]
    assert len([n for n in names if n]) == len({n for n in names if n})
    grp = next(r for r in survey if r["name"] == "effects_group")
    assert grp["relevant"] == "${any_gate} = 'yes' or ${any_gate} = 'not sure'"
    sad = next(r for r in survey if r["name"] == "record_id")
    assert sad["type"] == "select_one scale_freq4"
    assert next(r for r in survey if r["name"] == "mood_question")["type"] == "note"
    assert next(r for r in survey if r["name"] == "urgent")["type"] == \
        "select_one instrval_yes_no"
    scale = [(c["name"], c["label"]) for c in sheets["choices"]
             if c["list_name"] == "scale_freq4"]
    assert scale == [("0", "Never"), ("1", "1"), ("2", "2"), ("3", "Always")]
    # formula-like labels are text cells with the quote prefix; values unchanged
    ws = wb["choices"]
    cells = [c for row in ws.iter_rows() for c in row if c.value in ("+good", "@bad", "-rarely")]
    assert len(cells) == 3
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    title = wb["settings"]["A2"]
    assert title.value == "=Edge cases" and title.data_type == "s" and title.quotePrefix
    assert xlsform_sheets(edge)["settings"][0]["version"] == "2.0"


def test_xlsform_converts_with_pyxform(edge, tmp_path):
    xls2xform = pytest.importorskip("pyxform.xls2xform")
    for inst in _all_instruments(edge):
        p = write_xlsform(inst, tmp_path / f"{inst.id}.xlsx")
        result = xls2xform.convert(xlsform=str(p))
        assert "<h:html" in result.xform


# ============================================================================ dispatch
def test_export_instrument_dispatch(edge, tmp_path):
    for fmt, ext in zip(EXPORT_FORMATS, ("json", "csv", "xlsx"), strict=True):
        p = export_instrument(edge, fmt, tmp_path / f"x.{ext}")
        assert p.exists() and p.stat().st_size > 0
    with pytest.raises(ExportError, match="unknown export format 'spss'"):
        export_instrument(edge, "spss", tmp_path / "x.sav")


def test_fhir_likert_options_carry_ordinal_values():
    from instrval.io.exports.fhir import ORDINAL_VALUE

    bfi = read_instrument(ROOT / "instruments" / "bfi" / "bfi-1.0.yaml")
    q = to_fhir_questionnaire(bfi)
    items = {i["linkId"]: i for g in q["item"] for i in g.get("item", [])}
    sc = bfi.scale_of(bfi.construct_of("A1"))

    def ordinals(link):
        return [[e["valueDecimal"] for e in o["extension"] if e["url"] == ORDINAL_VALUE][0]
                for o in items[link]["answerOption"]]

    assert bfi.item("A2").reverse is False and bfi.item("A1").reverse is True
    assert ordinals("A2") == list(sc.values)  # the score is the stored value
    assert ordinals("A1") == [sc.min + sc.max - v for v in sc.values]  # reversed
