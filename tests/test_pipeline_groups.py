"""DIF, item response theory and measurement invariance in the study -> report pipeline:
study keys, rules R23/R24 in the joint display, report sections (HTML escaped, Markdown,
results.json, tables) and the COSMIN rows they feed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import StudyError
from instrval.io.instrument import read_instrument
from instrval.io.study import read_study, study_from_mapping
from instrval.pipeline import run_validation, write_report
from instrval.stats.dif import dif

ROOT = Path(__file__).resolve().parents[1]
ITEMS = ["i1", "i2", "i3", "i4", "i5", "i6"]
REF, FOC = "<ref>", "foc & co"  # markup in group labels must be escaped in the report

INSTRUMENT = """\
format_version: "1.0"
id: mood6
version: "1.0"
title: Six mood items
status: draft
language: en
scales:
  four:
    min: 1
    max: 4
constructs:
  - id: mood
    label: Mood
    kind: likert
    scale: four
    items:
      - {id: i1, label: "item one"}
      - {id: i2, label: "item two"}
      - {id: i3, label: "item three"}
      - {id: i4, label: "item four"}
      - {id: i5, label: "item five", reverse: true}
      - {id: i6, label: "item six"}
"""


def _ratings(n: int = 900, seed: int = 7, shift: float = 1.5) -> pd.DataFrame:
    """Graded responses (a = 1.7, thresholds -1, 0, 1) of two groups; i3 is harder for the
    focal group by ``shift`` logits (uniform DIF); i5 is reverse keyed."""
    rng = np.random.default_rng(seed)
    grp = np.where(np.arange(n) % 2 == 0, REF, FOC)
    theta = rng.normal(size=n)
    out = {"rating_id": [f"r{i}" for i in range(n)],
           "respondent_id": [f"p{i}" for i in range(n)]}
    for it in ITEMS:
        b = np.array([-1.0, 0.0, 1.0])[None, :] + (shift * (grp == FOC)[:, None]
                                                    if it == "i3" else 0.0)
        p = 1 / (1 + np.exp(-1.7 * (theta[:, None] - b)))
        x = 1 + (rng.uniform(size=(n, 1)) < p).sum(axis=1)
        out[it] = 5 - x if it == "i5" else x
    out["grp"] = grp
    return pd.DataFrame(out)


def _study(tmp_path: Path, *, extra: dict | None = None, data: pd.DataFrame | None = None):
    (tmp_path / "mood6.yaml").write_text(INSTRUMENT)
    (data if data is not None else _ratings()).to_csv(tmp_path / "ratings.csv", index=False)
    raw = {"format_version": "1.0", "title": "Groups", "instrument": "mood6.yaml",
           "ratings": "ratings.csv", "seed": 1, "timestamp": "2024-01-01T00:00:00+00:00",
           "analyses": {"parallel_iter": 5}, **(extra or {})}
    return study_from_mapping(raw, base_dir=tmp_path)


@pytest.fixture(scope="module")
def dif_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dif")
    study = _study(tmp, extra={"dif": {"group": "grp", "levels": [REF, FOC]}})
    res = run_validation(study, quiet=True)
    files = write_report(res, tmp / "report")
    return res, tmp, files


# ------------------------------------------------------------------ study keys
def test_study_keys_are_read_and_written_back(tmp_path):
    st = _study(tmp_path, extra={
        "dif": {"group": "grp", "method": "mh", "purify": True, "levels": ["a", "b"],
                "alpha": 0.05},
        "irt": {"model": "pcm"}, "invariance": {"group": "grp", "estimator": "mlr"}})
    assert (st.dif.group, st.dif.method, st.dif.purify, st.dif.levels, st.dif.alpha) == (
        "grp", "mh", True, ("a", "b"), 0.05)
    assert st.irt.model == "pcm" and st.invariance.estimator == "mlr"
    d = st.to_dict()
    assert d["dif"] == {"group": "grp", "method": "mh", "purify": True,
                        "levels": ["a", "b"], "alpha": 0.05}
    assert d["irt"] == {"model": "pcm"}
    assert d["invariance"] == {"group": "grp", "estimator": "mlr"}
    # defaults, and the short forms
    st = _study(tmp_path, extra={"dif": "grp", "irt": {}})
    assert (st.dif.method, st.dif.purify, st.dif.levels) == ("ordinal", False, None)
    assert st.irt.model == "auto" and st.invariance is None
    assert "dif" not in _study(tmp_path).to_dict()


@pytest.mark.parametrize("extra, key, words", [
    ({"dif": {"method": "ordinal"}}, "dif.group", "required"),
    ({"dif": {"group": "g", "method": "lord"}}, "dif.method", "ordinal, mh"),
    ({"dif": {"group": "g", "levels": ["a"]}}, "dif.levels", "two"),
    ({"dif": {"group": "g", "purify": "yes"}}, "dif.purify", "true or false"),
    ({"dif": {"group": "g", "alpha": 5}}, "dif.alpha", "between 0 and 1"),
    ({"dif": {"group": "g", "purfy": True}}, "dif.purfy", "did you mean 'purify'"),
    ({"irt": {"model": "3pl"}}, "irt.model", "grm"),
    ({"invariance": {"group": "g", "estimator": "wls"}}, "invariance.estimator",
     "ml, mlr, wlsmv"),
    ({"invariance": {"estimator": "ml"}}, "invariance.group", "required"),
])
def test_bad_study_keys_name_the_key(tmp_path, extra, key, words):
    with pytest.raises(StudyError) as exc:
        _study(tmp_path, extra=extra)
    assert any(p.key == key and words in p.message for p in exc.value.problems), \
        [(p.key, p.message) for p in exc.value.problems]


# ------------------------------------------------------------------ DIF end to end
def test_dif_in_the_pipeline_equals_dif_on_the_same_data(dif_run):
    res, tmp, _ = dif_run
    assert set(res.dif) == {"mood"}
    inst = read_instrument(tmp / "mood6.yaml")
    direct = dif(_ratings()[[*ITEMS, "grp"]], group="grp", instrument=inst,
                 levels=(REF, FOC))
    got = res.dif["mood"].items.set_index("item_id")
    ref = direct.items.set_index("item_id")
    for col in ("chi2_12", "chi2_13", "chi2_23", "r2_change_13", "p_13"):
        assert_allclose(got[col].to_numpy(float), ref.loc[got.index, col].to_numpy(float),
                        rtol=1e-12)
    assert list(got.index[got["flag"]]) == ["i3"]
    assert res.analyses["dif"] == "run"


def test_dif_flag_is_psychometric_evidence_in_the_joint_display(dif_run):
    res, _, _ = dif_run
    t = res.joint.items.set_index("item_id")
    assert "R23-dif" in t.loc["i3", "supporting_rules"]
    assert t.loc["i3", "quant_verdict"] == "problem"
    assert t.loc["i3", "dif_class"] in ("B", "C") and t.loc["i3", "dif_group"] == "grp"
    assert "DIF by grp: class" in t.loc["i3", "evidence"]
    for it in ("i1", "i2", "i4", "i5", "i6"):
        assert "R23-dif" not in t.loc[it, "supporting_rules"], it
        assert t.loc[it, "dif_class"] == "A"
    # no qualitative strand: kept, flags listed (never removed for DIF alone)
    assert t.loc["i3", "proposed"] == "keep"
    assert res.summary()["psychometric"]["problem"] >= 1


def test_dif_feeds_the_cosmin_cross_cultural_row(dif_run):
    res, _, _ = dif_run
    row = res.cosmin.table.set_index("property").loc[
        "cross-cultural validity / measurement invariance"]
    assert row["rating"] == "insufficient"
    assert "groups by grp" in row["evidence"] and "1 item(s) flagged (i3)" in row["evidence"]
    assert res.cosmin.values["cross-cultural validity / measurement invariance"][
        "dif_items"] == ["i3"]


def test_dif_report_files(dif_run):
    res, tmp, files = dif_run
    out = tmp / "report"
    d = json.loads((out / "results.json").read_text())
    assert d["dif"]["mood"]["levels"] == {"reference": REF, "focal": FOC}
    assert [r["item_id"] for r in d["dif"]["mood"]["items"] if r["flag"]] == ["i3"]
    assert d["study"]["dif"]["group"] == "grp" and "irt" not in d
    assert "R23-dif" in [r["id"] for r in d["rule_catalogue"]]
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(d, json.loads((ROOT / "docs/results.schema.json").read_text()))
    html = (out / "report.html").read_text()
    assert '<section id="dif"><h2>Differential item functioning</h2>' in html
    assert html.count("DIF class ") == 1  # the flagged item's cell in the joint display
    assert "&lt;ref&gt;" in html and "foc &amp; co" in html and "<ref>" not in html
    md = (out / "report.md").read_text()
    assert "## Differential item functioning" in md and "\\<ref\\>" in md
    tab = pd.read_csv(out / "tables" / "dif.csv")
    assert list(tab.loc[tab["flag"], "item_id"]) == ["i3"]
    # deterministic: the same inputs give the same results.json
    again = write_report(run_validation(res.study, quiet=True), tmp / "again")
    assert again["results_json"].read_bytes() == files["results_json"].read_bytes()


def test_mh_on_likert_items_is_a_note_not_a_failure(tmp_path):
    res = run_validation(_study(tmp_path, extra={"dif": {"group": "grp", "method": "mh"}}),
                         quiet=True)
    assert res.dif == {} and res.analyses["dif"] == "failed"
    assert any("Mantel-Haenszel method needs binary items" in n for n in res.notes)
    row = res.cosmin.table.set_index("property").loc[
        "cross-cultural validity / measurement invariance"]
    assert row["rating"] == "indeterminate"


def test_missing_group_column_is_a_note(tmp_path):
    res = run_validation(_study(tmp_path, extra={"dif": {"group": "sex"}}), quiet=True)
    assert res.dif == {}
    assert any("DIF of mood by sex not computed" in n and "'sex'" in n for n in res.notes)


def test_no_group_keys_no_sections(tmp_path):
    res = run_validation(_study(tmp_path), quiet=True)
    assert res.dif == {} and res.irt == {} and res.invariance is None
    assert "dif" not in res.analyses and "dif_class" not in res.joint.items.columns
    files = write_report(res, tmp_path / "r")
    d = json.loads(files["results_json"].read_text())
    assert "dif" not in d and "irt" not in d
    assert 'id="dif"' not in files["html"].read_text()


def test_stai6_example_declares_the_group_analyses():
    st = read_study(ROOT / "examples/stai6/study.yaml")
    assert st.dif is not None and st.dif.group == "session"
    assert st.panel is not None and st.panel.name == "panel.csv"


# ------------------------------------------------------------------ IRT end to end
@pytest.fixture(scope="module")
def irt_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("irt")
    study = _study(tmp, extra={"irt": {}, "dif": {"group": "grp", "levels": [REF, FOC]}})
    res = run_validation(study, quiet=True)
    return res, tmp, write_report(res, tmp / "report")


def test_irt_in_the_pipeline_equals_irt_on_reverse_keyed_items(irt_run):
    from instrval.stats.irt import irt

    res, _, _ = irt_run
    fit = res.irt["mood"]
    assert fit.model == "grm"  # auto: the graded response model for a Likert scale
    X = _ratings()[ITEMS].astype(float)
    X["i5"] = 5 - X["i5"]  # min + max - x
    direct = irt(X, model="grm", lowest=1)
    assert_allclose(fit.items["a"].to_numpy(float), direct.items["a"].to_numpy(float),
                    rtol=1e-10)
    assert_allclose(fit.loglik, direct.loglik, rtol=1e-12)
    assert (fit.items["a"] > 0).all()  # reverse keys applied: every item points one way


def test_irt_misfit_is_rule_r24_and_follows_the_rules(irt_run, tmp_path):
    res, _, _ = irt_run
    t = res.joint.items.set_index("item_id")
    items = res.irt["mood"].items.set_index("item_id")
    for it in ITEMS:
        fired = "R24-irt-misfit" in t.loc[it, "supporting_rules"]
        assert fired == bool(items.loc[it, "misfit"]), it
        assert t.loc[it, "irt_model"] == "grm"
        assert_allclose(t.loc[it, "irt_p_adjusted"], items.loc[it, "p_adjusted"], rtol=0)
    # the check itself reads the thresholds of the rules
    from instrval.integrate.decisions import RULE_CATALOGUE
    from instrval.model.rules import DecisionRules

    r24 = {r.id: r for r in RULE_CATALOGUE}["R24-irt-misfit"]
    rules = DecisionRules()
    row = {"kind": "likert"}
    assert r24.fires({**row, "irt_infit": 1.31, "irt_outfit": 1.0}, rules)
    assert r24.fires({**row, "irt_infit": 1.0, "irt_outfit": 0.69}, rules)
    assert not r24.fires({**row, "irt_infit": 1.29, "irt_outfit": 0.71}, rules)
    assert r24.fires({**row, "irt_p_adjusted": 0.009}, rules)
    assert not r24.fires({**row, "irt_p_adjusted": 0.011}, rules)
    loose = DecisionRules.from_mapping({"irt_msq_max": 1.5, "irt_fit_alpha": 0.001})
    assert not r24.fires({**row, "irt_infit": 1.4, "irt_p_adjusted": 0.009}, loose)


def test_irt_report_section_and_json(irt_run):
    res, tmp, files = irt_run
    html = files["html"].read_text()
    i = html.index('<section id="irt"><h2>Item response theory</h2>')
    sec = html[i:html.index("</section>", i)]
    assert "graded response model (MML)" in sec and "<svg" in sec
    assert "test information" in sec and "Item parameters and fit (grm)" in sec
    n_misfit = int(res.irt["mood"].items["misfit"].sum())
    assert html.count("grm misfit") == n_misfit
    d = json.loads(files["results_json"].read_text())
    assert d["irt"]["mood"]["model"] == "grm" and d["irt"]["mood"]["scores"] is None
    assert d["study"]["irt"] == {"model": "auto"}
    assert len(d["irt"]["mood"]["information"]["items"]) == len(ITEMS)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(d, json.loads((ROOT / "docs/results.schema.json").read_text()))
    assert "## Item response theory" in files["markdown"].read_text()
    assert (tmp / "report" / "tables" / "irt_items.csv").exists()


def test_cosmin_structural_validity_cites_irt(irt_run):
    from instrval.integrate.cosmin import cosmin_summary

    res, _, _ = irt_run
    row = res.cosmin.table.set_index("property").loc["structural validity"]
    n_fit = int((~res.irt["mood"].items["misfit"]).sum())
    assert f"IRT (grm): mood: {n_fit} of 6 items fit" in row["evidence"]
    assert row["evidence"].startswith("WLSMV")  # the CFA still sets the rating
    # without a CFA the item response model rates structural validity
    only = cosmin_summary(res.joint, irt=res.irt).table.set_index("property")
    r = only.loc["structural validity"]
    assert r["rating"] == ("sufficient" if n_fit == 6 else "insufficient")
    assert "rated on the item response model" in r["evidence"]


def test_binary_scale_gets_the_rasch_model_by_default(tmp_path):
    data = _ratings()
    for it in ITEMS:  # dichotomise (binary items are never reverse keyed)
        data[it] = ((5 - data[it] if it == "i5" else data[it]) >= 3).astype(int)
    text = INSTRUMENT.replace("kind: likert\n    scale: four\n", "kind: binary\n").replace(
        ", reverse: true", "")
    (tmp_path / "mood6.yaml").write_text(text)
    data.to_csv(tmp_path / "ratings.csv", index=False)
    study = study_from_mapping({"instrument": "mood6.yaml", "ratings": "ratings.csv",
                                "irt": "auto", "seed": 1}, base_dir=tmp_path)
    res = run_validation(study, quiet=True)
    fit = res.irt["mood"]
    assert fit.model == "rasch" and fit.estimation == "CML"
    t = res.joint.items.set_index("item_id")
    for it in ITEMS:
        assert_allclose(t.loc[it, "irt_infit"],
                        fit.items.set_index("item_id").loc[it, "infit"], rtol=0)
    from instrval.stats.irt import irt

    X = data[ITEMS].astype(float)
    assert_allclose(fit.items["difficulty"].to_numpy(float),
                    irt(X, model="rasch").items["difficulty"].to_numpy(float), rtol=1e-10)


# ------------------------------------------------------------------ measurement invariance
@pytest.fixture(scope="module")
def inv_run(tmp_path_factory):
    pytest.importorskip("instrval.stats.sem.invariance")
    tmp = tmp_path_factory.mktemp("inv")
    study = _study(tmp, extra={"invariance": {"group": "grp"}})
    res = run_validation(study, quiet=True)
    return res, tmp, write_report(res, tmp / "report")


def test_invariance_in_the_pipeline_equals_the_function(inv_run):
    from instrval.stats.sem.invariance import measurement_invariance

    res, _, _ = inv_run
    direct = measurement_invariance(_ratings()[[*ITEMS, "grp"]].astype({i: float for i in ITEMS}),
                                    {"mood": ITEMS}, group="grp", estimator="ml")
    got = res.invariance.levels
    assert list(got["level"]) == list(direct.levels["level"])
    for col in ("chi2", "cfi", "rmsea", "delta_cfi"):
        assert_allclose(got[col].to_numpy(float), direct.levels[col].to_numpy(float),
                        rtol=1e-10)
    assert list(got["holds"]) == list(direct.levels["holds"])
    assert res.analyses["invariance"] == "run"


def test_invariance_feeds_cosmin_and_the_report(inv_run):
    res, tmp, files = inv_run
    levels = res.invariance.levels
    row = res.cosmin.table.set_index("property").loc[
        "cross-cultural validity / measurement invariance"]
    assert row["rating"] == ("sufficient" if levels["holds"].all() else "insufficient")
    for rec in levels.to_dict(orient="records"):
        word = "holds" if rec["holds"] else "does not hold"
        assert f"{rec['level']} {word}" in row["evidence"]
    html = files["html"].read_text()
    i = html.index('<section id="invariance"><h2>Measurement invariance</h2>')
    sec = html[i:html.index("</section>", i)]
    assert "(Chen 2007)" in sec and "\u0394CFI &gt;= -0.010" in sec
    assert "&lt;ref&gt; (n = " in sec  # group labels escaped
    d = json.loads(files["results_json"].read_text())
    inv = d["measurement_properties"]["invariance"]
    assert [lv["level"] for lv in inv["levels"]] == list(levels["level"])
    assert d["study"]["invariance"] == {"group": "grp", "estimator": "ml"}
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(d, json.loads((ROOT / "docs/results.schema.json").read_text()))
    assert "## Measurement invariance" in files["markdown"].read_text()
    assert (tmp / "report" / "tables" / "invariance.csv").exists()


def test_invariance_of_ordered_items_by_wlsmv(tmp_path):
    from instrval.stats.sem.invariance import measurement_invariance

    study = _study(tmp_path, extra={"invariance": {"group": "grp", "estimator": "wlsmv"}})
    res = run_validation(study, quiet=True)
    direct = measurement_invariance(_ratings()[[*ITEMS, "grp"]].astype({i: float for i in ITEMS}),
                                    {"mood": ITEMS}, group="grp", estimator="wlsmv")
    got = res.invariance.levels
    assert list(got["level"]) == list(direct.levels["level"]) and res.invariance.estimator == "wlsmv"
    assert_allclose(got["cfi"].to_numpy(float), direct.levels["cfi"].to_numpy(float),
                    rtol=1e-10)
    html = write_report(res, tmp_path / "r")["html"].read_text()
    assert "scalar (equal loadings and thresholds)" in html and "estimator WLSMV" in html
