"""Translated instruments (format 1.1): texts per language, exports with every language,
differences across languages and the adaptation record."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from instrval.cli import main
from instrval.errors import InstrumentError
from instrval.integrate.diff import language_diff
from instrval.io.exports.fhir import TRANSLATION, to_fhir_questionnaire, write_fhir
from instrval.io.exports.redcap import import_redcap_dictionary, write_redcap
from instrval.io.exports.xlsform import write_xlsform
from instrval.io.instrument import dumps_instrument, loads_instrument, read_instrument
from instrval.model.instrument import Instrument

ROOT = Path(__file__).resolve().parents[1]
IAM_FR = ROOT / "instruments" / "iam" / "iam-2011-en-fr.yaml"
IAM = ROOT / "instruments" / "iam" / "iam-2011.yaml"


@pytest.fixture(scope="module")
def iam_fr() -> Instrument:
    return read_instrument(IAM_FR)


def test_translated_iam_reads_and_round_trips(iam_fr):
    assert iam_fr.languages == ("en", "fr")
    assert iam_fr.format_version == "1.1" == iam_fr.required_format_version()
    assert loads_instrument(dumps_instrument(iam_fr)) == iam_fr
    # same structure and ids as the published IAM; English labels are the published ones
    iam = read_instrument(IAM)
    assert iam_fr.item_ids == iam.item_ids and iam_fr.construct_ids == iam.construct_ids
    assert [it.label for it in iam_fr.items] == [it.label for it in iam.items]
    fr = iam_fr.in_language("fr")
    assert fr.language == "fr"
    assert fr.item("ci_learned_new").label == "J'ai appris quelque chose de nouveau"
    assert fr.construct("intention_to_use").gate.question.startswith("Utiliserez-vous")
    assert fr.in_language("en").without_translations() == iam_fr.without_translations()
    with pytest.raises(KeyError, match="no text in language 'de'"):
        iam_fr.in_language("de")


def test_adaptation_record_in_changelog(iam_fr):
    steps = [e.step for e in iam_fr.changelog if e.action == "adapted"]
    assert steps[:5] == ["preparation", "forward_translation", "reconciliation",
                         "back_translation", "back_translation_review"]
    assert all(e.language == "fr" and e.by and e.date for e in iam_fr.changelog)


def test_published_1_0_files_read_as_before():
    iam = read_instrument(IAM)
    assert iam.format_version == "1.0" and iam.required_format_version() == "1.0"
    assert iam.languages == ("en",)
    assert all(not it.translations for it in iam.items)
    assert dumps_instrument(iam) == dumps_instrument(loads_instrument(dumps_instrument(iam)))


def _base(**extra):
    d = {"format_version": "1.1", "id": "t", "version": "1", "title": "T",
         "language": "en",
         "constructs": [{"id": "c", "label": {"en": "C", "fr": "C fr"},
                         "kind": "multi_select", "items": [{"id": "i", "label": "I"}]}]}
    d.update(extra)
    return d


def test_translation_checks_report_every_problem():
    bad = _base(format_version="1.0")
    bad["constructs"][0]["items"][0]["label"] = {"fr": "I fr", "x y": "?"}
    with pytest.raises(InstrumentError) as ei:
        Instrument.from_dict(bad)
    reasons = {p.reason for p in ei.value.problems}
    assert reasons == {"needs_format_1_1"}
    bad["format_version"] = "1.1"
    with pytest.raises(InstrumentError) as ei:
        Instrument.from_dict(bad)
    got = {(p.reason, p.key) for p in ei.value.problems}
    assert got == {("invalid_value", "constructs[0].items[0].label.x y"),
                   ("missing_translation", "constructs[0].items[0].label")}
    nolang = _base()
    del nolang["language"]
    with pytest.raises(InstrumentError, match="default 'language'"):
        Instrument.from_dict(nolang)


def test_xlsform_has_a_label_column_per_language_and_converts(iam_fr, tmp_path):
    p = write_xlsform(iam_fr, tmp_path / "iam-fr.xlsx")
    wb = openpyxl.load_workbook(p)
    head = [c.value for c in wb["survey"][1]]
    assert "label::English (en)" in head and "label::French (fr)" in head
    assert "label" not in head
    assert [c.value for c in wb["settings"][2]][-1] == "English (en)"
    xls2xform = pytest.importorskip("pyxform.xls2xform")
    xform = xls2xform.convert(xlsform=str(p)).xform
    assert 'lang="French (fr)"' in xform
    assert "Effet cognitif" in xform and "Cognitive impact" in xform


def test_fhir_translation_extension_and_validation(iam_fr, tmp_path):
    q = to_fhir_questionnaire(iam_fr)
    assert q["title"] == iam_fr.title
    tr = q["_title"]["extension"][0]
    assert tr["url"] == TRANSLATION
    assert {e["url"]: e.get("valueCode", e.get("valueString")) for e in tr["extension"]} \
        == {"lang": "fr", "content": iam_fr.in_language("fr").title}
    group = q["item"][0]
    assert group["_text"]["extension"][0]["extension"][1]["valueString"] == "Effet cognitif"
    models = pytest.importorskip("fhir.resources.R4B.questionnaire")
    p = write_fhir(iam_fr, tmp_path / "q.json")
    models.Questionnaire.model_validate(json.loads(p.read_text()))


def test_redcap_one_dictionary_per_language(iam_fr, tmp_path):
    p = write_redcap(iam_fr, tmp_path / "iam.csv")
    fr_path = tmp_path / "iam-fr.csv"
    assert fr_path.exists()
    en = import_redcap_dictionary(p, id="iam-fr", version="2011")
    fr = import_redcap_dictionary(fr_path, id="iam-fr", version="2011")
    assert en.item_ids == fr.item_ids  # same field names and codes in every language
    assert fr.item("cr_totally").label == "Tout à fait pertinente"
    assert fr.construct("cognitive_impact").label == "Effet cognitif"


def test_language_diff(iam_fr):
    d = language_diff(iam_fr, "fr")
    c = d.counts()
    assert c["item_reworded"] == len(iam_fr.items)
    assert "untranslated" not in c
    # a text without a French version is listed as untranslated
    partial = iam_fr.replace(constructs=(iam_fr.constructs[0].__class__(
        **{**vars(iam_fr.constructs[0]), "translations": {}}), *iam_fr.constructs[1:]))
    d2 = language_diff(partial, "fr")
    un = d2.to_frame()[d2.to_frame()["change"] == "untranslated"]
    assert set(un["field"]) == {"label", "question"}
    assert set(un["construct_id"]) == {"cognitive_impact"}
    r = CliRunner().invoke(main, ["instrument", "diff", str(IAM_FR), "--language", "fr",
                                  "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["counts"]["item_reworded"] == len(iam_fr.items)
