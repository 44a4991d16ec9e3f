"""Scale items in the joint display: their psychometric evidence is the quantitative strand
(R18-R22), binary constructs are scales (difficulty, KR-20, tetrachoric EFA, no relevance
ratios), floor/ceiling on scale totals, thresholds with bounds, the two scale examples end
to end, and reports that do not depend on the folder they run in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.cli import main
from instrval.errors import StudyError
from instrval.integrate import joint_display
from instrval.integrate.decisions import ITEM_FLAGS, Rule
from instrval.io.instrument import read_instrument
from instrval.io.study import read_study
from instrval.model.rules import THRESHOLDS, DecisionRules
from instrval.pipeline import run_validation
from instrval.stats.descriptives import scale_totals

ROOT = Path(__file__).resolve().parents[1]
STAI = ROOT / "examples/stai-trait"
ICAR = ROOT / "examples/icar-ability"


@pytest.fixture(scope="module")
def stai():
    return run_validation(read_study(STAI / "study.yaml"), quiet=True)


@pytest.fixture(scope="module")
def icar():
    return run_validation(read_study(ICAR / "study.yaml"), quiet=True)


def _rows(result):
    t = result.joint.items
    return t.set_index(t["item_id"].fillna(t["concept"]))


# ------------------------------------------------------------------ the Likert example
def test_likert_convergence_follows_both_strands(stai):
    t = _rows(stai)
    exp = {  # item: (quantitative verdict, representative, convergence, proposed, decisive)
        "decisive": ("problem", False, "confirmation", "remove", "R19-problem-confirmed"),
        "rested": ("sound", False, "discordance", "revise", "R21-sound-not-representative"),
        "nervous": ("sound", True, "confirmation", "keep", "R18-sound-and-representative"),
        "worry": ("sound", True, "expansion", "keep", "R18-sound-and-representative"),
        "tension": ("sound", None, "silence", "keep", "R22-psychometrics-only"),
    }
    for item, (verdict, rep, conv, prop, rule) in exp.items():
        r = t.loc[item]
        assert r["quant_strand"] == "psychometric", item
        assert (r["quant_verdict"], r["representative"], r["convergence"], r["proposed"]) == (
            verdict, rep, conv, prop), item
        assert r["rules_fired"].split(";")[0] == rule, item
    # decisive: r.drop below .30 and own-factor loading below .40 -> remove
    d = t.loc["decisive"]
    assert d["r_drop"] < 0.30 and abs(d["loading"]) < 0.40
    assert "R11-item-total-r-low" in d["rules_fired"]
    assert not (t.loc[t["row_type"] == "item", "convergence"] == "silence").all()
    c = stai.joint.counts()
    assert c["convergence"]["confirmation"] == 4 and c["convergence"]["discordance"] == 1
    assert c["psychometric"] == {"sound": 19, "problem": 1}
    # the reliability of the scale advises to reverse 'decisive' (psych's check.keys)
    assert stai.reliability["trait_anxiety"].check_keys == ("decisive",)
    assert any("decisive" in w and "reversed" in w for w in stai.warnings)


def test_floor_ceiling_on_totals_not_items(stai):
    t = _rows(stai)
    items = t[t["row_type"] == "item"]
    # most items of the 4-point scale have more than 15% at the lowest or highest option ...
    at_end = ((items["floor_share"].astype(float) > 0.15)
              | (items["ceiling_share"].astype(float) > 0.15))
    assert at_end.sum() >= 15
    # ... but the rule is about scale totals (Terwee 2007): no item fires R16
    assert not items["rules_fired"].str.contains("R16").any()
    sc = stai.joint.scales.set_index("construct_id").loc["trait_anxiety"]
    x = stai.ratings.item_frame(list(stai.instrument.construct("trait_anxiety").item_ids))
    for it in stai.instrument.construct("trait_anxiety").items:
        if it.reverse:
            x[it.id] = 5 - x[it.id]
    tot = x.dropna().sum(axis=1)
    assert_allclose(sc["floor_share"], (tot == 20).mean())
    assert_allclose(sc["ceiling_share"], (tot == 80).mean())
    assert sc["rules_fired"] == ""  # no floor or ceiling effect on the total


def test_scale_totals_flag_hand_worked():
    inst = read_instrument(STAI / "stai-trait-1.0.yaml")
    ids = list(inst.item_ids)
    low = {i: (4 if inst.item(i).reverse else 1) for i in ids}
    df = pd.DataFrame([low] * 3 + [{i: 2 for i in ids}] * 7)
    res = scale_totals(df, inst, floor_ceiling_max=0.15)
    row = res.scales.iloc[0]
    assert (row["k"], row["n"], row["min_possible"], row["max_possible"]) == (20, 10, 20, 80)
    assert_allclose(row["floor_share"], 0.3)
    assert bool(row["floor_flag"]) and not bool(row["ceiling_flag"])
    jd = joint_display(inst, totals=res)
    assert jd.scales.iloc[0]["rules_fired"] == "R16-floor-ceiling"


# ------------------------------------------------------------------ the binary example
def test_binary_test_is_a_scale(icar):
    t = _rows(icar)
    items = t[t["row_type"] == "item"]
    assert icar.relevance is None
    assert items["relevance_ratio"].isna().all()
    assert not items["rules_fired"].str.contains("R1-").any()
    assert icar.efa is not None and icar.efa.corr == "tetrachoric"
    assert icar.cfa_ordinal is not None
    # difficulty = proportion correct among the answers
    x = icar.ratings.item_frame(["rotate_3"])["rotate_3"]
    assert_allclose(t.loc["rotate_3", "difficulty"], x.mean())
    # KR-20 in the scale table
    sc = icar.joint.scales.set_index("construct_id")
    assert (sc["alpha_label"] == "KR-20").all()
    assert_allclose(sc.loc["rotation", "alpha"], icar.reliability["rotation"].alpha)


def test_binary_convergence_and_hard_items_kept(icar):
    t = _rows(icar)
    exp = {
        "matrix_55": ("problem", "confirmation", "remove", "R19-problem-confirmed"),
        "reason_16": ("problem", "confirmation", "revise", "R19-problem-confirmed"),
        "matrix_47": ("problem", "discordance", "keep", "R20-problem-but-representative"),
        "letter_33": ("sound", "discordance", "revise", "R21-sound-not-representative"),
        "rotate_3": ("sound", "confirmation", "keep", "R18-sound-and-representative"),
    }
    for item, (verdict, conv, prop, rule) in exp.items():
        r = t.loc[item]
        assert (r["quant_verdict"], r["convergence"], r["proposed"]) == (verdict, conv, prop)
        assert r["rules_fired"].split(";")[0] == rule
    # the hardest items (about 20% correct) are kept
    hard = t[(t["row_type"] == "item") & (t["difficulty"].astype(float) < 0.25)]
    assert len(hard) >= 3 and (hard["decision"] == "keep").all()
    assert bool(t.loc["matrix_47", "open_question"]) and bool(t.loc["letter_33", "open_question"])


def test_hard_binary_items_never_removed_without_qualitative_problem():
    inst = read_instrument(ICAR / "icar16-1.0.yaml")
    items = pd.DataFrame({"item_id": ["rotate_3", "rotate_4", "rotate_6", "rotate_8"],
                          "alpha_if_deleted": [.7, .7, .7, .7], "r_drop": [.5] * 4,
                          "mean": [.02, .5, .5, .5]})
    rel = {"rotation": SimpleNamespace(alpha=.75, items=items, n=100, ci_low=.7, ci_high=.8)}
    relevance = pd.DataFrame({"item_id": ["rotate_3"], "ratio": [0.02], "relevant": [False]})
    jd = joint_display(inst, reliability=rel, relevance=relevance)
    r = jd.items.set_index("item_id").loc["rotate_3"]
    assert r["proposed"] == "keep" and r["relevance_ratio"] is None
    assert_allclose(r["difficulty"], 0.02)


# ------------------------------------------------------------------ rules as data
def test_modified_kappa_decides_for_scale_items():
    inst = read_instrument(STAI / "stai-trait-1.0.yaml")
    cv = pd.DataFrame({"item_id": ["nervous", "worry"], "n_experts": [8, 8],
                       "i_cvi": [0.875, 0.875], "modified_kappa": [0.70, 0.87],
                       "cvr": [0.75, 0.75], "cvr_critical": [0.75, 0.75]})
    jd = joint_display(inst, content_validity=cv)
    t = jd.items.set_index("item_id")
    assert t.loc["nervous", "rules_fired"] == "R22-psychometrics-only;R17-modified-kappa-low"
    assert t.loc["nervous", "quant_verdict"] == "problem"
    assert t.loc["worry", "quant_verdict"] == "sound"
    jd2 = joint_display(inst, content_validity=cv,
                        rules=DecisionRules.from_mapping({"modified_kappa_min": 0.6}))
    assert jd2.items.set_index("item_id").loc["nervous", "quant_verdict"] == "sound"


def test_thresholds_declare_bounds_and_sources_in_one_place():
    import dataclasses

    fields = {f.name: f.default for f in dataclasses.fields(DecisionRules)}
    assert set(fields) == {t.name for t in THRESHOLDS}
    for t in THRESHOLDS:
        assert fields[t.name] == t.default and t.source and t.used_by
        assert t.check(t.default) is None
    doc = (ROOT / "docs/decision-rules.md").read_text()
    for t in THRESHOLDS:
        assert f"`{t.name}`" in doc, t.name


@pytest.mark.parametrize("values,message", [
    ({"relevance_ci_level": 95}, "0.95, not 95"),
    ({"relevance_ci_level": 1.0}, "between 0 and 1 (exclusive)"),
    ({"min_factor_n": 10.5}, "whole number"),
    ({"min_scale_items": 2}, "at least 3"),
    ({"modified_kappa_min": -2}, "between -1 and 1"),
    ({"rmsea_max": -0.1}, "at least 0"),
])
def test_out_of_bounds_rules_are_refused(values, message):
    with pytest.raises(StudyError, match="invalid_value|wrong_type|problem") as exc:
        DecisionRules.from_mapping(values, file="study.yaml")
    assert message in str(exc.value.problems[0].message)


def test_minimum_data_thresholds_are_rules(tmp_path):
    study = read_study(ICAR / "study.yaml").replace(
        rules=DecisionRules.from_mapping({"min_factor_n": 5000}), coding=None)
    res = run_validation(study, quiet=True)
    assert res.efa is None and res.cfa_ordinal is None
    assert res.analyses["efa"].startswith("not applicable (needs >= 3 Likert or binary items "
                                          "and >= 5000 ratings)")


def test_a_new_psychometric_signal_plugs_in_as_a_column_and_a_flag():
    """A DIF flag (or an IRT misfit statistic) is an extra evidence column and one more item
    flag with strand="psychometric": it then enters the verdict and the convergence."""
    inst = read_instrument(STAI / "stai-trait-1.0.yaml")
    items = pd.DataFrame({"item_id": list(inst.item_ids), "alpha_if_deleted": [.80] * 20,
                          "r_drop": [.5] * 20})
    rel = {"trait_anxiety": SimpleNamespace(alpha=.85, items=items)}
    dif = pd.DataFrame({"item_id": ["nervous"], "dif_flag": [True]})
    flag = Rule("R90-dif", "Differential item functioning between groups.", None,
                "expansion", (), False, "psychometric",
                lambda row, rules: row.get("dif_flag") is True)
    jd = joint_display(inst, reliability=rel, extra=dif, flags=(*ITEM_FLAGS, flag))
    t = jd.items.set_index("item_id")
    assert t.loc["nervous", "dif_flag"] is True and t.loc["worry", "dif_flag"] is None
    assert t.loc["nervous", "quant_verdict"] == "problem"
    assert t.loc["nervous", "rules_fired"] == "R22-psychometrics-only;R90-dif"
    assert t.loc["worry", "quant_verdict"] == "sound"


# ------------------------------------------------------------------ defects
def test_export_without_item_columns_exits_1_and_writes_nothing(tmp_path):
    from click.testing import CliRunner

    src = pd.read_csv(STAI / "tai.csv").head(80)
    src = src.rename(columns={c: f"Q{i}" for i, c in enumerate(src.columns[2:22], 1)})
    src.to_csv(tmp_path / "export.csv", index=False)
    shutil.copy(STAI / "stai-trait-1.0.yaml", tmp_path)
    (tmp_path / "study.yaml").write_text(
        'format_version: "1.0"\ntitle: t\ninstrument: stai-trait-1.0.yaml\n'
        "ratings: export.csv\noutput: out\n")
    r = CliRunner().invoke(main, ["report", str(tmp_path / "study.yaml")])
    assert r.exit_code == 1, r.output
    assert "nothing usable in export.csv" in r.output and "mapping" in r.output
    assert not list((tmp_path / "out").glob("*.yaml")) if (tmp_path / "out").exists() else True
    r = CliRunner().invoke(main, ["ratings", "check", str(tmp_path / "export.csv"),
                                  "--instrument", str(tmp_path / "stai-trait-1.0.yaml")])
    assert r.exit_code == 1 and "nothing usable" in r.output


def _copy_study(dest: Path) -> Path:
    shutil.copytree(STAI, dest, ignore=shutil.ignore_patterns("report"))
    df = pd.read_csv(dest / "tai.csv", dtype=str, keep_default_na=False).head(300)
    df.loc[3, "calm"] = "x"  # a quarantined row: its warning names the file
    df.to_csv(dest / "tai.csv", index=False)
    return dest / "study.yaml"


def test_report_is_the_same_from_another_folder(tmp_path, monkeypatch):
    from click.testing import CliRunner

    outs = []
    for where in ("a", "b/deeper/still"):
        study = _copy_study(tmp_path / where / "stai")
        monkeypatch.chdir(tmp_path / where)
        r = CliRunner().invoke(main, ["report", str(study), "--quiet"])
        assert r.exit_code == 0, r.output
        outs.append(study.parent / "report")
    for name in ("results.json", "report.html", "report.md"):
        a, b = (o / name for o in outs)
        assert a.read_bytes() == b.read_bytes(), name
        assert str(tmp_path) not in a.read_text(), name
    d = json.loads((outs[0] / "results.json").read_text())
    assert d["qualitative"]["summary"]["file"] == "coding/segments.csv"
    assert any(w.startswith("DataQualityWarning: tai.csv") for w in d["warnings"])


# ------------------------------------------------------------------ the report
def test_heatmap_label_column_fits_the_longest_label():
    import re

    from instrval.report.svg import loadings_heatmap

    long = "lack_self_confidence_about_everything"
    lo = pd.DataFrame({"item_id": ["a", long], "MR1": [0.5, 0.6]})
    out = loadings_heatmap(lo, factors=["MR1"])
    label_x = float(re.search(r'<text x="([\d.]+)"[^>]*text-anchor="end"', out).group(1))
    # the right-aligned label ends at label_x; at >= 6 px a character it must start >= 0
    assert label_x - 6.0 * len(long) >= 0
    first_cell = float(re.search(r'<rect x="([\d.]+)"', out).group(1))
    assert first_cell > label_x


def test_report_sections_for_scale_instruments(icar, stai):
    from instrval.report.html import render_html
    from instrval.report.markdown import render_markdown

    h = render_html(icar)
    for text in ("Kaiser-Meyer-Olkin", "Bartlett", "communality", "Variance explained",
                 "Factor correlations", "CFA loadings: unstandardised estimate with its "
                 "standard error", "CFA factor correlations (WLSMV)", "difficulty p",
                 "KR-20", "Floor and ceiling effects of the scale totals",
                 "psychometric evidence"):
        assert text in h, text
    assert_allclose(icar.kmo.msa, 0.9237, atol=5e-4)
    for result in (icar, stai):
        for doc in (render_html(result), render_markdown(result)):
            assert "docs/" not in doc
            assert "p = 0," not in doc and "p = 0.000" not in doc
    hs = render_html(stai)
    assert "probably should be reverse-keyed" in hs and "decisive" in hs


def test_results_json_carries_scales_and_sampling_adequacy(icar):
    from instrval.report.results_json import results_dict

    d = results_dict(icar)
    assert {s["construct_id"] for s in d["scales"]} == {
        "verbal_reasoning", "letter_series", "matrix_reasoning", "rotation"}
    assert d["sampling_adequacy"]["kmo"]["msa"] == pytest.approx(icar.kmo.msa)
    assert d["summary"]["psychometric"] == {"sound": 11, "problem": 5}


def test_notes_are_sentences_and_mixed_scales_say_what_was_factor_analysed(tmp_path):
    stai = pd.read_csv(STAI / "tai.csv").head(120)[["rating_id", "respondent_id", "nervous",
                                                      "worry", "tension"]]
    ab = pd.read_csv(ICAR / "ability.csv").head(120)[["rotate_3", "rotate_4", "rotate_6"]]
    pd.concat([stai, ab], axis=1).dropna().to_csv(tmp_path / "mixed.csv", index=False)
    (tmp_path / "mixed.yaml").write_text(
        'format_version: "1.0"\nid: mixed\nversion: "1.0"\ntitle: Mixed\n'
        "scales: {f4: {min: 1, max: 4}}\nconstructs:\n"
        "  - {id: anx, label: Anxiety, kind: likert, scale: f4, items: [{id: nervous, label: N},"
        " {id: worry, label: W}, {id: tension, label: T}]}\n"
        "  - {id: rot, label: Rotation, kind: binary, items: [{id: rotate_3, label: R3},"
        " {id: rotate_4, label: R4}, {id: rotate_6, label: R6}]}\n")
    (tmp_path / "study.yaml").write_text(
        'format_version: "1.0"\ntitle: t\ninstrument: mixed.yaml\nratings: mixed.csv\n'
        'timestamp: "2024-01-01T00:00:00+00:00"\nanalyses: {parallel_iter: 5}\n')
    res = run_validation(read_study(tmp_path / "study.yaml"), quiet=True)
    assert res.notes and all(n[0].isupper() for n in res.notes)
    assert any(n.startswith("Factor analyses cover the Likert constructs") for n in res.notes)
    assert res.efa is not None and res.efa.corr == "pearson"



@pytest.mark.parametrize("values", [{"irt_msq_min": 1.5}, {"irt_msq_max": 0.5}])
def test_ordered_rule_pairs_are_checked(values):
    with pytest.raises(StudyError) as exc:
        DecisionRules.from_mapping(values, file="study.yaml")
    assert "must be below" in exc.value.problems[0].message
    assert exc.value.problems[0].key == f"rules.{next(iter(values))}"
