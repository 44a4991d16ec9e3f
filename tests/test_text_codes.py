"""Text codes and gate codes (format 1.1) through ratings, relevance and exports."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from instrval.io.exports.fhir import to_fhir_questionnaire
from instrval.io.exports.redcap import import_redcap_dictionary, redcap_field_map, write_redcap
from instrval.io.instrument import dumps_instrument, loads_instrument
from instrval.io.ratings import read_ratings
from instrval.model.instrument import Instrument
from instrval.stats.relevance import relevance_ratios

DATA = {"format_version": "1.1", "id": "t", "version": "1", "title": "T", "constructs": [
    {"id": "smoke", "label": "Smoking", "kind": "multi_select",
     "items": [{"id": "cig", "label": "Cigarettes", "code": "a"},
               {"id": "pipe", "label": "Pipe", "code": "NA"}]},
    {"id": "freq", "label": "Frequency", "kind": "single_choice",
     "gate": {"id": "ever", "question": "Ever?", "options": ["yes", "no"],
              "open_when": "yes", "codes": [1, 0]},
     "items": [{"id": "daily", "label": "Daily", "code": "d"},
               {"id": "weekly", "label": "Weekly", "code": "w"}]}]}


@pytest.fixture()
def inst() -> Instrument:
    return Instrument.from_dict(DATA)


def test_text_codes_round_trip_and_need_format_1_1(inst):
    assert loads_instrument(dumps_instrument(inst)) == inst
    assert inst.construct("smoke").item_code("pipe") == "NA"
    assert inst.construct("freq").gate.option_code("no") == 0
    with pytest.raises(Exception, match="needs format_version"):
        Instrument.from_dict({**DATA, "format_version": "1.0"})


def test_ratings_and_relevance_with_text_codes(inst, tmp_path):
    p = tmp_path / "redcap.csv"
    p.write_text("record_id,smoke___a,smoke___na,ever,freq\n"
                 "r1,1,0,1,d\nr2,0,1,0,\nr3,1,1,1,W\nr4,0,0,1,w\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rd = read_ratings(p, inst, format="redcap")
    assert rd.problems == ()
    assert rd.data["cig"].tolist() == [1, 0, 1, 0]
    assert rd.data["pipe"].tolist() == [0, 1, 1, 0]
    assert rd.data["ever"].tolist() == ["yes", "no", "yes", "yes"]
    assert rd.data["freq"].tolist()[0] == "daily" and rd.data["freq"].tolist()[2:] == \
        ["weekly", "weekly"]
    rel = relevance_ratios(rd).to_frame().set_index("item_id")
    # hand count: cigarettes chosen in 2 of 4 ratings, pipe in 2 of 4
    np.testing.assert_allclose(rel.loc[["cig", "pipe"], "ratio"], [0.5, 0.5],
                               rtol=0, atol=1e-12)


def test_exports_write_text_and_gate_codes(inst, tmp_path):
    m = redcap_field_map(inst)
    assert m["items"]["pipe"]["column"] == "smoke___NA"
    assert m["gates"]["ever"]["codes"] == {"yes": 1, "no": 0}
    back = import_redcap_dictionary(write_redcap(inst, tmp_path / "d.csv"), id="t",
                                    version="1")
    assert back.constructs == inst.constructs
    q = json.dumps(to_fhir_questionnaire(inst))
    assert '"code": "pipe"' in q  # FHIR codes answers by item id
