"""The COSMIN table's nine measurement properties (instrval.integrate.cosmin): the rows
added for cross-cultural validity, reliability, measurement error, criterion validity,
hypotheses testing and responsiveness; their study keys, the pipeline on the STAI-6
example, the report and the command line."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from instrval.errors import StudyError
from instrval.integrate import cosmin_summary, joint_display
from instrval.integrate.cosmin import PROPERTIES
from instrval.io.instrument import read_instrument
from instrval.io.study import read_study, study_from_mapping
from instrval.model.hypotheses import Hypothesis
from instrval.stats.criterion import criterion_validity
from instrval.stats.hypotheses import evaluate_hypotheses
from instrval.stats.measurement_error import retest

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples" / "stai6"
INST = ROOT / "instruments" / "stai6" / "stai6-1.0.yaml"


@pytest.fixture(scope="module")
def inst():
    return read_instrument(INST)


def _pairs(second):
    first = [10, 14, 8, 12, 9, 13]
    return pd.DataFrame({"id": list(range(6)) * 2, "t": [1] * 6 + [2] * 6,
                         "s": first + list(second)})


def _rows(inst, **kw):
    t = cosmin_summary(joint_display(inst), **kw).table
    return t.set_index("aspect")


def test_nine_properties_without_data(inst):
    t = cosmin_summary(joint_display(inst)).table
    assert set(t["property"]) == set(PROPERTIES)
    new = t[t["property"].isin(PROPERTIES[3:])]
    assert (new["rating"] == "indeterminate").all()
    assert new["evidence"].str.startswith("no data").all()


def test_reliability_and_measurement_error(inst):
    good = retest(_pairs([11, 13, 9, 12, 10, 14]), id="id", time="t", score="s", mic=5.0)
    r = _rows(inst, retest=good)
    icc = float(good.table["icc_agreement"].iloc[0])
    assert icc >= 0.70 and r.loc["reliability", "rating"] == "sufficient"
    assert f"ICC(A,1) = {icc:.3f}" in r.loc["reliability", "evidence"]
    sdc = float(good.table["sdc_individual"].iloc[0])
    assert sdc < 5.0 and r.loc["measurement error", "rating"] == "sufficient"
    small_mic = retest(_pairs([11, 13, 9, 12, 10, 14]), id="id", time="t", score="s", mic=0.5)
    assert _rows(inst, retest=small_mic).loc["measurement error", "rating"] == "insufficient"
    no_mic = retest(_pairs([11, 13, 9, 12, 10, 14]), id="id", time="t", score="s")
    row = _rows(inst, retest=no_mic).loc["measurement error"]
    assert row["rating"] == "indeterminate" and "no MIC" in row["evidence"]
    poor = retest(_pairs([14, 9, 12, 8, 13, 10]), id="id", time="t", score="s")
    assert float(poor.table["icc_agreement"].iloc[0]) < 0.70
    assert _rows(inst, retest=poor).loc["reliability", "rating"] == "insufficient"


def test_criterion_hypotheses_responsiveness_rows(inst):
    d = pd.DataFrame({"s": [1.0, 2, 3, 4, 5, 6, 7, 8], "g": [1.2, 2.1, 2.9, 4.2, 5.1, 5.8,
                                                              7.3, 7.9],
                      "w": [3.0, 1, 4, 1, 5, 9, 2, 6]})
    c = criterion_validity(d, score="s", criterion="g")
    h_ok = evaluate_hypotheses(d, [Hypothesis("H1", "correlation", "s", other="g", min=.5),
                                   Hypothesis("H2", "correlation", "s", other="g", min=.3),
                                   Hypothesis("H3", "correlation", "s", other="g", min=.1),
                                   Hypothesis("H4", "correlation", "s", other="w", min=.9)])
    h_bad = evaluate_hypotheses(d, [Hypothesis("H1", "correlation", "s", other="w", min=.9)])
    r = _rows(inst, criterion=c, hypotheses=h_ok, responsiveness=SimpleNamespace(
        hypotheses=h_bad))
    assert r.loc["criterion validity", "rating"] == "sufficient"
    assert r.loc["criterion validity", "evidence"].startswith("s vs g: r = 0.99")
    row = r.loc["hypotheses testing for construct validity"]
    assert row["rating"] == "sufficient"  # 3 of 4 = 75%
    assert row["evidence"] == "3 of 4 hypotheses hold (75.0%); not confirmed: H4"
    assert r.loc["responsiveness", "rating"] == "insufficient"
    weak = criterion_validity(d, score="s", criterion="w")
    assert _rows(inst, criterion=[weak]).loc["criterion validity", "rating"] == "insufficient"


def test_invariance_is_duck_typed(inst):
    prop = "cross-cultural validity / measurement invariance"
    held = SimpleNamespace(group="country", levels=[{"level": "configural", "holds": True},
                                                    SimpleNamespace(level="metric", holds=True)])
    row = _rows(inst, invariance=held).loc[prop]
    assert row["rating"] == "sufficient"
    assert row["evidence"] == "groups by country; invariance: configural holds, metric holds"
    failed = {"levels": [{"name": "scalar", "holds": False}], "dif_items": ["tense"]}
    row = _rows(inst, invariance=failed).loc[prop]
    assert row["rating"] == "insufficient" and "1 item(s) flagged (tense)" in row["evidence"]
    assert _rows(inst, invariance={"dif_items": []}).loc[prop, "rating"] == "sufficient"
    assert _rows(inst, invariance=SimpleNamespace()).loc[prop, "rating"] == "indeterminate"


def test_study_keys_problems(tmp_path):
    (tmp_path / "i.yaml").write_text(INST.read_text())
    data = {"instrument": "i.yaml", "scoring": {"method": "median", "min_items": -1},
            "retest": {"file": "nope.csv", "id": "id", "mic": 0, "colour": 1},
            "criterion": [{"kind": "binary", "column": "x"}, 5],
            "responsiveness": {"file": "nope.csv", "id": "id", "time": "t"}}
    with pytest.raises(StudyError) as e:
        study_from_mapping(data, base_dir=tmp_path)
    keys = sorted(p.key for p in e.value.problems)
    assert keys == sorted(["scoring.method", "scoring.min_items", "retest.file",
                           "retest.time", "retest.mic", "retest.colour",
                           "criterion[0].kind", "criterion[1]", "responsiveness.file",
                           "responsiveness.hypotheses"])


def test_study_keys_read(tmp_path):
    s = read_study(EX / "study.yaml")
    assert s.retest.where == {"design": "control"} and s.retest.mic == "half_sd"
    assert [c.column for c in s.criterion] == ["stai20", "stai20_ge40"]
    assert s.criterion[1].positive == 1
    assert s.responsiveness.hypotheses == EX / "responsiveness.yaml"
    d = s.to_dict()
    assert d["retest"]["file"] == "data/stai-repeated.csv"
    assert d["scoring"] == {"method": "mean", "impute": "none", "min_items": 0.5}
    roles = s.input_files()
    assert {"retest", "hypotheses", "responsiveness", "responsiveness_hypotheses"} <= set(roles)


@pytest.fixture(scope="module")
def stai6_report(tmp_path_factory):
    from instrval.pipeline import run_validation, write_report

    res = run_validation(read_study(EX / "study.yaml"), quiet=True)
    out = tmp_path_factory.mktemp("stai6")
    files = write_report(res, out)
    return res, out, files


def test_stai6_example_fills_the_table(stai6_report):
    res, out, _ = stai6_report
    t = res.cosmin.table.set_index("property")
    rated = {"structural validity": "insufficient", "reliability": "sufficient",
             "measurement error": "insufficient", "criterion validity": "sufficient",
             "hypotheses testing for construct validity": "sufficient",
             "responsiveness": "insufficient"}
    for prop, rating in rated.items():
        assert t.loc[prop, "rating"] == rating, prop
    inv = t.loc["cross-cultural validity / measurement invariance"]
    # DIF finds nothing, but the one-factor model misfits in each group (configural fails)
    assert inv["rating"] == "insufficient" and "groups by session" in inv["evidence"]
    assert "DIF: no item flagged" in inv["evidence"]
    assert "configural does not hold" in inv["evidence"]
    assert res.invariance.levels["delta_cfi"].iloc[1:].abs().max() < 0.002
    assert "IRT (grm): stai6: 0 of 6 items fit" in t.loc["structural validity", "evidence"]
    assert (t["evidence"].str.startswith("no data")).sum() == 0
    rel = t[t["aspect"] == "relevance"].iloc[0]  # the illustrative panel
    assert rel["rating"] == "sufficient" and "expert panel of 6" in rel["evidence"]
    assert t.loc["internal consistency", "rating"] == "indeterminate"  # structure first
    # the numbers are the ones checked against R in test_measurement_error/test_hypotheses
    rt = res.retest.table.iloc[0]
    assert rt["n"] == 311 and 0.70 < rt["icc_agreement"] < 0.72
    assert res.hypotheses.n_holds == 4 and res.responsiveness.hypotheses.n_holds == 1
    assert "when at least 50% of the items (rounded up) were answered" in res.scores.rule


def test_stai6_report_files(stai6_report):
    _, out, files = stai6_report
    d = json.loads((out / "results.json").read_text())
    mp = d["measurement_properties"]
    assert mp["retest"]["scales"][0]["scale"] == "stai6"
    assert [c["statistic"] for c in mp["criterion"]] == ["r", "auc"]
    assert mp["hypotheses"]["rating"] == "sufficient"
    assert mp["responsiveness"]["n"] == 240
    assert [i["effect_class"] for i in d["dif"]["stai6"]["items"]] == ["A"] * 6
    assert d["study"]["retest"]["where"] == {"design": "control"}
    assert "retest" in d["inputs"] and "hypotheses" in d["inputs"]
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs" / "results.schema.json").read_text())
    jsonschema.validate(d, schema)
    md = (out / "report.md").read_text()
    assert "### Test-retest (occasions 1 and 2)" in md and "### Responsiveness" in md
    html = (out / "report.html").read_text()
    assert "Hypotheses testing for construct validity" in html
    for name in ("retest", "hypotheses", "criterion", "responsiveness", "scale_scores"):
        assert (out / "tables" / f"{name}.csv").exists()


def test_cli_commands(cli_json, run_cli):
    d = cli_json("score", EX / "data" / "stai-baseline.csv", "--instrument", INST, "--json")
    assert d["scales"][0]["scale"] == "stai6" and d["n"] == 3032
    r = cli_json("retest", EX / "data" / "stai-repeated.csv", "--instrument", INST, "--id",
                 "respondent_id", "--time", "time", "--where", "design=control", "--mic",
                 "half_sd", "--min-items", "0", "--json")
    ref = json.loads((ROOT / "tests" / "fixtures" / "measurement_error.json").read_text())
    ref = {c["name"]: c for c in ref["cases"]}["stai6_control"]
    assert r["scales"][0]["n"] == ref["n"]
    assert abs(r["scales"][0]["sdc_individual"] - ref["sdc_individual"]) < 1e-10
    h = cli_json("hypotheses", EX / "data" / "stai-baseline.csv", "--instrument", INST,
                 "--hypotheses", EX / "hypotheses.yaml", "--json")
    assert h["n_holds"] == 4 and h["rating"] == "sufficient"
    c = cli_json("criterion", EX / "data" / "stai-baseline.csv", "--instrument", INST,
                 "--criterion", "stai20_ge40", "--positive", "1", "--min-items", "0", "--json")
    hyp = json.loads((ROOT / "tests" / "fixtures" / "hypotheses.json").read_text())
    assert abs(c["estimate"] - hyp["criterion"]["auc_proc"]["auc"]) < 1e-10
    s = cli_json("responsiveness", EX / "data" / "stai-repeated.csv", "--instrument", INST,
                 "--id", "respondent_id", "--time", "time", "--where", "design=film",
                 "--hypotheses", EX / "responsiveness.yaml", "--json")
    assert s["n"] == 240 and s["n_holds"] == 1
    bad = run_cli("retest", EX / "data" / "stai-repeated.csv", "--instrument", INST, "--id",
                  "respondent_id", "--time", "visit")
    assert bad.exit_code != 0 and "column 'visit' not found" in bad.output
    assert "Traceback" not in bad.output
    bad = run_cli("hypotheses", EX / "data" / "stai-baseline.csv", "--instrument", INST,
                  "--hypotheses", EX / "study.yaml")
    assert bad.exit_code != 0 and "unknown key" in bad.output


def test_cli_score_with_factor_scores(cli_json, tmp_path):
    """Factor scores from the command line are those of the API (checked against psych
    in test_scoring)."""
    from instrval.io.hypotheses import read_scored_table
    from instrval.stats.efa import efa
    from instrval.stats.scoring import factor_scores

    bfi = ROOT / "examples" / "bfi" / "bfi.csv"
    inst_file = ROOT / "instruments" / "bfi" / "bfi-1.0.yaml"
    out = tmp_path / "scores.csv"
    d = cli_json("score", bfi, "--instrument", inst_file, "--factors", "5",
                 "--factor-method", "bartlett", "-o", out, "--json")
    assert d["factor_scores"]["method"] == "bartlett" and len(d["scales"]) == 5
    written = pd.read_csv(out)
    inst = read_instrument(inst_file)
    df = read_scored_table(bfi, instrument=inst)
    items = list(inst.item_ids)
    fs = factor_scores(df[items], efa(df[items], n_factors=5), method="bartlett")
    got = written[[f"factor_{c}" for c in fs.scores.columns]].to_numpy()
    assert abs(got - fs.scores.to_numpy()).max() < 1e-6  # CSV round trip
    assert list(written.columns[-10:-5]) == ["agreeableness", "conscientiousness",
                                             "extraversion", "neuroticism", "openness"]


def test_cosmin_criteria_are_rules_a_study_may_change(inst):
    """icc_min, criterion_min and hypotheses_share_min are declared rules (THRESHOLDS) that
    the COSMIN rows read: the same ICC is sufficient by default, insufficient above it."""
    from instrval.integrate import cosmin as cm
    from instrval.model.rules import THRESHOLDS, DecisionRules

    declared = {t.name: t.default for t in THRESHOLDS}
    expected = (declared["icc_min"], declared["criterion_min"],
                declared["hypotheses_share_min"])
    assert expected == (cm.ICC_MIN, cm.CRITERION_MIN, cm.HYPOTHESES_SHARE_MIN)
    good = retest(_pairs([11, 13, 9, 12, 10, 14]), id="id", time="t", score="s", mic=5.0)
    icc = float(good.table["icc_agreement"].iloc[0])
    assert 0.70 <= icc < 0.99
    strict = DecisionRules.from_mapping({"icc_min": 0.99})
    row = _rows(inst, retest=good, rules=strict).loc["reliability"]
    assert row["rating"] == "insufficient" and "ICC(A,1) >= 0.99" in row["criterion"]
    assert _rows(inst, retest=good).loc["reliability", "rating"] == "sufficient"
    with pytest.raises(StudyError, match="icc_min"):
        DecisionRules.from_mapping({"icc_min": 70}, file="study.yaml")


def test_cli_where_that_matches_no_row_names_the_values(run_cli):
    """A --where filter that keeps no row is one clear error (not an empty analysis with
    numpy warnings): it names the column, the value asked for and the values present."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bad = run_cli("retest", EX / "data" / "stai-repeated.csv", "--instrument", INST,
                      "--id", "respondent_id", "--time", "time", "--where", "design=nope")
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "no row has design=nope; column 'design' has: control, film" in bad.output
    bad = run_cli("responsiveness", EX / "data" / "stai-repeated.csv", "--instrument", INST,
                  "--id", "respondent_id", "--time", "time", "--where", "design=film",
                  "--where", "study=Cart", "--hypotheses", EX / "responsiveness.yaml")
    assert bad.exit_code == 1 and "no row matches all of design=film, study=Cart" in bad.output
