"""The report of a study with an expert panel, end to end (examples/iam/panel/study.yaml).

Witnesses:

* the content-validity numbers in results.json are compared with
  ``content_validity(read_panel(...))`` on the same file (the statistics module, itself
  tested against published tables in test_content_validity.py), to 1e-12;
* the panel's scale indices and the indices of the flagged items are worked out by hand
  from the ratings written in examples/iam/panel/make_panel.py (exact fractions);
* the decisions are compared with a run of the same study without the panel: the panel is
  supporting evidence only (docs/decision-rules.md), so no proposal may change.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from instrval.io.instrument import read_instrument
from instrval.io.panel import read_panel
from instrval.io.study import read_study
from instrval.pipeline import run_validation, sha256_file, write_report
from instrval.stats.content_validity import content_validity

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "examples/iam/panel"
STUDY = FOLDER / "study.yaml"
PANEL = FOLDER / "panel.csv"
INSTRUMENT = ROOT / "instruments/iam/iam-2011.yaml"

R14 = "R14-i-cvi-low"
R15 = "R15-cvr-below-critical"
R17 = "R17-modified-kappa-low"
PANEL_RULES = {R14, R15, R17}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("panel")
    study = read_study(STUDY)
    result = run_validation(study.replace(output=out), quiet=True)
    write_report(result, out)
    return result, out


@pytest.fixture(scope="module")
def results(run):
    return json.loads((run[1] / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reference():
    """The same statistics computed directly from the panel file."""
    inst = read_instrument(INSTRUMENT)
    panel = read_panel(PANEL, inst)
    return {"relevance": content_validity(panel).to_dict(),
            "clarity": content_validity(panel, aspect="clarity").to_dict()}


def _rows(jd: list[dict]) -> dict[str, dict]:
    return {r["item_id"] if r["row_type"] == "item" else f"concept:{r['concept']}": r
            for r in jd}


def _assert_same_indices(got: dict, want: dict) -> None:
    assert [r["item_id"] for r in got["items"]] == [r["item_id"] for r in want["items"]]
    for g, w in zip(got["items"], want["items"], strict=True):
        assert set(g) == set(w)
        for k, v in w.items():
            if isinstance(v, float):
                np.testing.assert_allclose(g[k], v, rtol=0, atol=1e-12, err_msg=k)
            else:
                assert g[k] == v, (g["item_id"], k)
    for k, v in want["scale"].items():
        np.testing.assert_allclose(got["scale"][k], v, rtol=0, atol=1e-12, err_msg=k)
    assert got["options"] == want["options"]


# ------------------------------------------------------------------------- the example
def test_generator_reproduces_panel_csv():
    spec = importlib.util.spec_from_file_location("make_panel", FOLDER / "make_panel.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["expert", "item_id", "relevance", "clarity",
                                        "comment"], lineterminator="\n")
    w.writeheader()
    w.writerows(mod.rows())
    assert buf.getvalue() == PANEL.read_text(encoding="utf-8")
    inst = read_instrument(INSTRUMENT)
    assert set(mod.RATINGS) == set(inst.item_ids) and len(mod.EXPERTS) == 10


def test_panel_reads_cleanly():
    panel = read_panel(PANEL, read_instrument(INSTRUMENT))
    assert panel.aspects == ("relevance", "clarity")
    assert len(panel.data) == 230 and len(panel.quarantine) == 0 and not panel.problems
    assert panel.experts == tuple(f"E{i:02d}" for i in range(1, 11))


# ------------------------------------------------------------------------- results.json
def test_content_validity_equals_the_statistics_module(results, reference):
    cv = results["content_validity"]
    _assert_same_indices(cv, reference["relevance"])
    _assert_same_indices(cv["aspects"]["clarity"], reference["clarity"])
    assert cv["panel"]["experts"] == [f"E{i:02d}" for i in range(1, 11)]
    assert cv["panel"]["aspects"] == ["relevance", "clarity"]
    assert (cv["panel"]["ratings"], cv["panel"]["quarantined"]) == (230, 0)


def test_scale_indices_by_hand(results):
    # relevance I-CVIs: 14 items 10/10, 6 items 9/10 and 8/10, 7/10, 6/10 (make_panel.py)
    s = results["content_validity"]["scale"]
    assert s["n_items"] == 23 and s["n_experts"] == 10
    np.testing.assert_allclose(s["s_cvi_ave"], (14 + 6 * 0.9 + 0.8 + 0.7 + 0.6) / 23,
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(s["s_cvi_ua"], 14 / 23, rtol=0, atol=1e-12)
    # clarity: 20 items 10/10; ci_reassured 5/10, ci_dissatisfied_amount 9/10,
    # use_decide_unsure 8/10
    c = results["content_validity"]["aspects"]["clarity"]["scale"]
    np.testing.assert_allclose(c["s_cvi_ave"], (20 + 0.5 + 0.9 + 0.8) / 23, rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(c["s_cvi_ua"], 20 / 23, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("item", "agree", "ratings"), [
    ("ci_dissatisfied_harmful", 6, "3241433214"),
    ("use_decide_unsure", 7, "4231324334"),
    ("use_persuade", 8, "3342434234"),
])
def test_flagged_items_by_hand(results, item, agree, ratings):
    row = {r["item_id"]: r for r in results["content_validity"]["items"]}[item]
    n = 10
    pc = math.comb(n, agree) / 2**n                  # Polit, Beck & Owen (2007)
    expect = {
        "n_relevant": agree, "i_cvi": agree / n,
        "modified_kappa": (agree / n - pc) / (1 - pc),
        "cvr": (agree - n / 2) / (n / 2),            # Lawshe (1975)
        "cvr_critical": 0.8, "ne_critical": 9,       # Ayre & Scally (2014), N = 10
        "aiken_v": sum(int(c) - 1 for c in ratings) / (n * 3),   # Aiken (1985)
    }
    for k, v in expect.items():
        np.testing.assert_allclose(row[k], v, rtol=0, atol=1e-12, err_msg=k)
    assert row["cvr_significant"] is False


def test_inputs_carry_the_panel_provenance(run, results):
    result, out = run
    p = results["inputs"]["panel"]
    assert p["file"] == "panel.csv" and p["sha256"] == sha256_file(PANEL)
    assert (p["ratings_read"], p["ratings_accepted"], p["ratings_quarantined"]) == (230, 230, 0)
    assert results["data_quality"]["panel"]["read"] == 230
    assert results["data_quality"]["panel"]["accepted"] == 230
    revised = (out / "iam-2014-panel.yaml").read_text(encoding="utf-8")
    assert sha256_file(PANEL) in revised


def test_results_json_matches_schema(results):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs/results.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(results, schema)


# ------------------------------------------------------------------------- joint display
def test_panel_rules_fire_where_they_should(results):
    rows = _rows(results["joint_display"])
    expected = {"ci_dissatisfied_harmful": {R14, R15, R17}, "use_decide_unsure": {R14, R15, R17},
                "use_persuade": {R15}}          # I-CVI .80 >= .78, but 8 < 9 essential
    for item, r in rows.items():
        if not item.startswith("concept:"):
            got = set(r["supporting_rules"].split(";")) & PANEL_RULES
            assert got == expected.get(item, set()), item
            assert got <= set(r["rules_fired"].split(";"))
    h = rows["ci_dissatisfied_harmful"]
    assert (h["i_cvi"], h["cvr"], h["cvr_critical"], h["cvi_experts"]) == (0.6, 0.2, 0.8, 10)
    # ci_reassured: relevant to the experts, unclear to them (supporting, no rule)
    r = rows["ci_reassured"]
    assert r["i_cvi"] == 0.9 and r["clarity_i_cvi"] == 0.5
    assert "clarity I-CVI = 0.500" in r["evidence"]


def test_panel_changes_no_proposal(run):
    result, _ = run
    without = run_validation(result.study.replace(panel=None), quiet=True)
    a = result.joint.items.set_index(["row_type", "item_id", "concept"], drop=False)
    b = without.joint.items.set_index(["row_type", "item_id", "concept"], drop=False)
    assert list(a.index) == list(b.index)
    # Convergence too: a supporting flag can turn confirmation into expansion, but the
    # three flagged items are already discordant (R1) or an expansion (R7).
    for col in ("proposed", "decision", "decided_by", "open_question", "convergence"):
        assert a[col].tolist() == b[col].tolist(), col

    def decisive(s):
        return [x for x in str(s or "").split(";") if x and x not in PANEL_RULES]

    assert [decisive(x) for x in a["rules_fired"]] == [decisive(x) for x in b["rules_fired"]]
    assert b["i_cvi"].isna().all()
    assert [it.id for it in result.revised.items] == [it.id for it in without.revised.items]
    assert result.joint.counts() == without.joint.counts()


def test_cosmin_uses_the_panel(results):
    cos = {r["aspect"]: r for r in results["cosmin"]}
    rel = cos["relevance"]
    assert rel["rating"] == "sufficient"
    assert "21 of 23 items have I-CVI >= 0.78" in rel["evidence"]
    assert "S-CVI/Ave = 0.935" in rel["evidence"]
    comp = cos["comprehensibility"]
    assert comp["rating"] == "sufficient"           # rated on the interviews only
    assert "clarity I-CVI" in comp["evidence"] and "ci_reassured" in comp["evidence"]


# ------------------------------------------------------------------------- HTML, Markdown
def test_html_has_the_panel_section(run):
    html = (run[1] / "report.html").read_text(encoding="utf-8")
    assert '<section id="panel"><h2>Expert panel</h2>' in html and 'href="#panel"' in html
    sec = html[html.index('<section id="panel">'):]
    sec = sec[:sec.index("</section>")]
    for text in ("S-CVI/Ave = 0.935", "S-CVI/UA = 0.609", "kappa* (band)", "0.50 fair",
                 "CVR critical", "Aiken&#x27;s V", "[0.39, 0.73]", "clarity I-CVI",
                 "R14; R15", "Experts' comments (10)", "Clarity: S-CVI/Ave = 0.965"):
        assert text in sec, text
    assert sec.count('class="conv-discordance"') == 3   # the three flagged items
    joint = html[html.index('<section id="joint">'):]
    assert "CVR\u00a00.20 &lt;\u00a0crit.\u00a00.80" in joint
    assert "R14-i-cvi-low" in joint and "R15-cvr-below-critical" in joint
    assert sha256_file(PANEL) in html                  # the inputs table


def test_markdown_has_the_panel(run):
    md = (run[1] / "report.md").read_text(encoding="utf-8")
    assert "## Expert panel" in md and "S-CVI/Ave = 0.935" in md and "R14; R15" in md
    assert "clarity I-CVI" in md


def test_tables_include_the_panel(run):
    t = run[1] / "tables"
    cv = pd.read_csv(t / "content_validity.csv")
    assert len(cv) == 23 and cv["item_id"].iloc[0] == "ci_practice_improved"
    asp = pd.read_csv(t / "content_validity_aspects.csv")
    assert set(asp["aspect"]) == {"clarity"} and len(asp) == 23


def test_deterministic(run, tmp_path):
    result, out = run
    again = run_validation(read_study(STUDY).replace(output=tmp_path), quiet=True)
    write_report(again, tmp_path)
    for name in ("results.json", "report.html", "report.md", "iam-2014-panel.yaml"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


# ------------------------------------------------------------------------- small panels
def test_small_panel_needs_unanimity():
    """Lynn (1986): with five or fewer experts every expert must agree (I-CVI = 1)."""
    from instrval.integrate.decisions import i_cvi_threshold, propose_decisions
    from instrval.integrate.evidence import EVIDENCE_COLUMNS

    assert i_cvi_threshold(5) == 1.0 and i_cvi_threshold(6) == 0.78
    assert i_cvi_threshold(None) == 0.78
    base = dict.fromkeys(EVIDENCE_COLUMNS)
    rows = [{**base, "row_type": "item", "item_id": "a", "relevant": True,
             "representative": True, "i_cvi": 0.8, "cvi_experts": 5},
            {**base, "row_type": "item", "item_id": "b", "relevant": True,
             "representative": True, "i_cvi": 0.8, "cvi_experts": 10}]
    out = propose_decisions(pd.DataFrame(rows))
    assert out["supporting_rules"].tolist() == [R14, ""]
    assert out["proposed"].tolist() == ["keep", "keep"]
