"""Real Qualtrics exports (tests/data/qualtrics, from the qualTRics R package)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from instrval.errors import DataQualityWarning
from instrval.io.ratings import detect_format, ratings_mapping_template, read_ratings
from instrval.model.instrument import Instrument

DATA = Path(__file__).resolve().parent / "data" / "qualtrics"

# the sample surveys ask one multiple-choice question (Q1) and one free-text question (Q2)
INST = Instrument.from_dict({
    "format_version": "1.0", "id": "sample", "version": "1", "title": "Sample",
    "constructs": [{"id": "choice", "label": "Choice",
                    "question": "This is a multiple choice question.",
                    "kind": "single_choice",
                    "items": [{"id": "first", "label": "First"},
                              {"id": "second", "label": "Second"}]}]})


def test_current_export_uses_response_id_when_external_reference_is_blank():
    p = DATA / "sample.csv"
    assert detect_format(p) == "qualtrics"
    m = yaml.safe_load(ratings_mapping_template(p, INST))
    assert m["columns"]["ResponseId"] == "rating_id"
    assert "respondent_id" not in m["columns"].values()
    assert "ExternalReference" in m["ignore"]
    # the question-text row matched Q1 to the construct; Q2 (a question) is unmatched
    assert m["columns"]["Q1"] == "choice"
    assert "Q2" in m["unmatched"] and "Q2" not in m["groups"]
    with pytest.warns(DataQualityWarning, match="2 problems"):
        rd = read_ratings(p, INST, mapping=m)
    assert rd.n_accepted == 1
    assert rd.data["respondent_id"].tolist() == ["R_2YPOQ602ER1jkf1"]
    assert rd.data["choice"].tolist() == ["second"]
    # no "did you mean 'respondent_id'" about a column that is respondent_id
    assert not any("did you mean 'respondent_id'" in p.message for p in rd.problems)


def test_legacy_two_header_row_export_is_read():
    p = DATA / "sample_legacy.csv"
    assert detect_format(p) == "qualtrics"
    m = yaml.safe_load(ratings_mapping_template(p, INST))
    assert m["columns"]["ResponseID"] == "rating_id"
    assert m["columns"]["Q1"] == "choice"
    with pytest.warns(DataQualityWarning, match="2 problems"):
        rd = read_ratings(p, INST, mapping=m)
    assert rd.n_accepted == 1
    assert rd.data["rating_id"].tolist() == ["R_2YPOQ602ER1jkf1"]
    assert rd.data["choice"].tolist() == ["second"]
