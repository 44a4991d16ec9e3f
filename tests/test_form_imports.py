"""Instruments in from XLSForm (ODK, KoboToolbox) and FHIR Questionnaires: round trips
with the exports and real forms (tests/data/xlsform, tests/data/fhir)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from instrval.cli import main
from instrval.errors import ExportError
from instrval.io.exports.fhir import read_fhir_instrument, write_fhir
from instrval.io.exports.xlsform import read_xlsform_instrument, write_xlsform
from instrval.io.instrument import read_instrument

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SHIPPED = sorted((ROOT / "instruments").rglob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_fhir_round_trip(path, tmp_path):
    inst = read_instrument(path)
    back = read_fhir_instrument(write_fhir(inst, tmp_path / "q.json"), id=inst.id)
    assert back.notes == ()
    b = back.instrument
    # everything a Questionnaire holds comes back, translations and reverse keying too
    assert b.constructs == inst.constructs and b.scales == inst.scales
    assert (b.id, b.version, b.title, b.language) == (inst.id, inst.version, inst.title,
                                                      inst.language)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_xlsform_round_trip(path, tmp_path):
    inst = read_instrument(path)
    back = read_xlsform_instrument(write_xlsform(inst, tmp_path / "f.xlsx"))
    b = back.instrument
    assert (b.id, b.version, b.title) == (inst.id, inst.version, inst.title)
    assert b.construct_ids == inst.construct_ids and b.item_ids == inst.item_ids
    assert b.scales == inst.scales
    # an XLSForm has no column for reverse keying: all else in the constructs comes back
    plain = [c.__class__(**{**vars(c), "items": tuple(
        it.__class__(**{**vars(it), "reverse": False}) for it in c.items)})
        for c in inst.constructs]
    assert list(b.constructs) == plain


def test_real_odk_form_with_two_languages():
    res = read_xlsform_instrument(DATA / "xlsform" / "UCL_Biomass_Plot_Form.xlsx")
    inst = res.instrument
    assert inst.languages == ("sw", "en")
    assert inst.format_version == "1.1"
    c = inst.construct("leader_name")
    assert c.kind == "single_choice"
    en = inst.in_language("en")
    assert en.construct("leader_name").label == "Your Name"
    assert c.label == "Jina Lako"  # Swahili, the first language, is the default
    reasons = {n.reason for n in res.notes}
    assert {"skipped_field", "repeat", "relevant_not_gate"} <= reasons
    # the curly quotes of a hand-typed condition are reported, not guessed
    assert any("‘dead’" in n.message for n in res.notes)


def test_legacy_xlsform_spelling():
    inst = read_xlsform_instrument(DATA / "xlsform" / "yes_or_no_question.xlsx").instrument
    c = inst.construct("good_day")
    assert c.kind == "single_choice" and c.item_ids == ("yes", "no")
    assert c.label == "have you had a good day today?"


def test_sdc_phq9_questionnaire():
    res = read_fhir_instrument(DATA / "fhir" / "questionnaire-sdc-profile-example-PHQ9.json")
    inst = res.instrument
    (c,) = inst.constructs
    assert c.kind == "likert" and len(c.items) == 9
    sc = inst.scale_of(c)
    assert (sc.min, sc.max) == (0, 3)  # the ordinalValue scores of the contained ValueSet
    assert sc.labels[0] == "Not at all" and sc.labels[3] == "Nearly every day"
    assert c.label.startswith("Over the last two weeks")
    reasons = {n.reason for n in res.notes}
    assert reasons == {"scored_codes", "skipped_field"}  # the total-score quantity item


def test_fhir_import_exported_as_xlsform_comes_back(tmp_path):
    """An instrument whose scale id has capitals (PHQ-9 from FHIR: 'H1_T1_scale') keeps
    them in its XLSForm choice list name; the import matches list names case-sensitively,
    as ODK does, so the form comes back instead of 'list has 0 choice(s)'."""
    inst = read_fhir_instrument(
        DATA / "fhir" / "questionnaire-sdc-profile-example-PHQ9.json").instrument
    back = read_xlsform_instrument(write_xlsform(inst, tmp_path / "f.xlsx")).instrument
    assert back.item_ids == inst.item_ids and back.construct_ids == inst.construct_ids
    assert back.scales == inst.scales


def test_sdc_enable_when_questionnaire():
    res = read_fhir_instrument(DATA / "fhir" / "questionnaire-sdc-test-enablewhen.json")
    inst = res.instrument
    kinds = {c.id: c.kind for c in inst.constructs}
    assert kinds["BC029"] == "multi_select" and kinds["s3_radio"] == "single_choice"
    # the yes/no/don't know question's options are in an external ValueSet
    assert any(n.reason == "no_options" for n in res.notes)


def test_import_refusals(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"resourceType": "Patient"}')
    with pytest.raises(ExportError, match="not a FHIR Questionnaire"):
        read_fhir_instrument(bad)
    empty = tmp_path / "e.json"
    empty.write_text('{"resourceType": "Questionnaire", "item": [{"linkId": "a", '
                     '"type": "string"}]}')
    with pytest.raises(ExportError, match="nothing to import") as ei:
        read_fhir_instrument(empty)
    assert ei.value.problems[0].reason == "no_choice_fields"
    nx = tmp_path / "n.xlsx"
    nx.write_bytes(b"not a workbook")
    with pytest.raises(ExportError, match="not a readable .xlsx"):
        read_xlsform_instrument(nx)


def test_cli_import_xlsform_and_fhir(tmp_path):
    r = CliRunner().invoke(main, ["instrument", "import",
                                  str(DATA / "fhir" / "questionnaire-sdc-profile-example-PHQ9.json"),
                                  "--from", "fhir", "--id", "phq9", "--out",
                                  str(tmp_path / "phq9.yaml")])
    assert r.exit_code == 0, r.output
    assert read_instrument(tmp_path / "phq9.yaml").counts()["items"] == 9
    r = CliRunner().invoke(main, ["instrument", "import",
                                  str(DATA / "xlsform" / "UCL_Biomass_Plot_Form.xlsx"),
                                  "--from", "xlsform", "--id", "ucl", "--version", "1"])
    assert r.exit_code == 0, r.output
    assert "format_version" in r.stdout
    r = CliRunner().invoke(main, ["instrument", "import", "x.csv", "--from", "redcap"])
    assert r.exit_code != 0 and "needs id and version" in r.output


def test_hostile_forms_are_refused_cleanly(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"resourceType": "Questionnaire", "item": ' + "[" * 100000 +
                    "]" * 100000 + "}")
    with pytest.raises(ExportError, match="nested too deeply"):
        read_fhir_instrument(deep)
    items = "{}"
    for _ in range(5000):
        items = '{"linkId": "g", "type": "group", "item": [' + items + "]}"
    nested = tmp_path / "nested.json"
    nested.write_text('{"resourceType": "Questionnaire", "item": [' + items + "]}")
    with pytest.raises(ExportError, match="nested too deeply"):
        read_fhir_instrument(nested)
    import zipfile

    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../evil.xml", "x")
    with pytest.raises(ExportError, match="not a readable .xlsx"):
        read_xlsform_instrument(bomb)
