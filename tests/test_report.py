"""The report folder: untrusted text escaped, spreadsheet formulas neutralised, results.json
valid against its schema, no scripts and no external resources in report.html."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from instrval.io.instrument import dumps_instrument, read_instrument
from instrval.io.study import read_study
from instrval.pipeline import run_validation, write_report
from instrval.report.tables import neutralise, neutralise_frame

ROOT = Path(__file__).resolve().parents[1]
IAM = ROOT / "examples/iam"

SCRIPT = "<script>alert('xss')</script>"
ATTR = '" onmouseover="alert(1)'
JSURL = "javascript:alert(document.cookie)"
FORMULA = "=HYPERLINK(\"http://evil.example\",\"click\")"


def build_hostile_study(tmp: Path) -> Path:
    """The IAM sample study with payloads in an item label, interview quotes, an expert
    rationale and a file name."""
    inst = read_instrument(ROOT / "instruments/iam/iam-2011.yaml")
    d = inst.to_dict()
    d["constructs"][0]["items"][4]["label"] = f"I am reassured {SCRIPT} {ATTR}"
    d["constructs"][0]["items"][1]["label"] = f"@SUM(1) {JSURL}"
    (tmp / "iam.yaml").write_text(dumps_instrument(type(inst).from_dict(d)), encoding="utf-8")
    seg = pd.read_csv(IAM / "coding/segments.csv", dtype=str, keep_default_na=False)
    ids = list(seg.loc[seg["item_id"] == "ci_reassured", "segment_id"][:3])
    payloads = [SCRIPT + " it calmed me", ATTR + " <img src=x onerror=alert(2)>",
                FORMULA + " " + JSURL]
    for sid, text in zip(ids, payloads, strict=True):
        seg.loc[seg["segment_id"] == sid, "text"] = text
    coding_name = 'segments"<b>x.csv'
    seg.to_csv(tmp / coding_name, index=False)
    dec = (IAM / "expert_decisions.csv").read_text(encoding="utf-8").replace(
        "kept it unchanged.", f"kept it unchanged. {SCRIPT}")
    (tmp / "decisions.csv").write_text(dec, encoding="utf-8")
    pinned = "\n".join(f"  - {s}" for s in ids)
    study = tmp / "study.yaml"
    study.write_text(
        f"title: 'Hostile <script>alert(3)</script> study'\n"
        f"instrument: iam.yaml\nratings: {IAM / 'data/iam-sample.csv'}\n"
        f"coding: '{coding_name}'\ncodebook: {IAM / 'coding/codebook.yaml'}\n"
        f"decisions: decisions.csv\nseed: 5\ntimestamp: '2020-01-01T00:00:00Z'\n"
        f"revision: {{version: '2014'}}\nanalyses: {{n_boot: 20}}\n"
        f"pinned_quotes:\n{pinned}\n", encoding="utf-8")
    return study


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    study = read_study(build_hostile_study(tmp))
    result = run_validation(study, quiet=True)
    out = tmp / "report"
    written = write_report(result, out)
    return result, out, written


def test_payloads_are_text_in_html(hostile):
    _, out, _ = hostile
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()  # no script tag at all, not even ours
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html  # the title
    assert 'onmouseover="alert' not in html
    assert "&quot; onmouseover=&quot;alert(1)" in html
    assert "<img" not in html.lower()
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert JSURL in html  # shown as text...
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("#") for h in hrefs)  # ...never as a link
    assert 'segments&quot;&lt;b&gt;x.csv' in html  # the file name
    # every attribute value in the page is one of ours: no event handlers anywhere
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html)


def test_html_is_self_contained(hostile):
    _, out, _ = hostile
    html = (out / "report.html").read_text(encoding="utf-8")
    low = html.lower()
    for bad in ("<link", "<img", "<iframe", "<object", "<embed", "<script", "<base",
                "<form", "<audio", "<video"):
        assert bad not in low, bad
    assert not re.search(r"<[^>]*\s(src|srcset|action|xlink:href)\s*=", low)
    style = low[low.index("<style>"):low.index("</style>")]
    for bad in ("@import", "url(", "@font-face"):
        assert bad not in style, bad
    assert "@media print" in html
    assert "Content-Security-Policy" in html
    for svg_tag in ("<svg", "cut-off"):
        assert svg_tag in html


def test_markdown_escapes_html(hostile):
    _, out, _ = hostile
    md = (out / "report.md").read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)<script", md.lower())  # every < escaped
    assert "\\<script\\>" in md


def test_csv_and_xlsx_neutralise_formulas(hostile):
    from openpyxl import load_workbook

    _, out, _ = hostile
    quotes = (out / "tables/quotes.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in quotes
    assert not re.search(r'(^|,)"?=HYPERLINK', quotes, re.M)
    jd = pd.read_csv(out / "tables/joint_display.csv", dtype=str, keep_default_na=False)
    lab = jd.set_index("item_id").loc["ci_learned_new", "label"]
    assert lab.startswith("'@SUM(1)")
    wb = load_workbook(out / "tables.xlsx")
    n_text = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    n_text += 1
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert n_text > 100
    assert "joint_display" in wb.sheetnames and "relevance" in wb.sheetnames


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+1") == "'+1" and neutralise("-x") == "'-x" and neutralise("@a") == "'@a"
    assert neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"
    assert neutralise("ok") == "ok" and neutralise(-1.5) == -1.5 and neutralise(None) is None
    df = neutralise_frame(pd.DataFrame({"=a": ["=b", "c"], "n": [-1.0, 2.0]}))
    assert list(df.columns) == ["'=a", "n"] and df.iloc[0, 0] == "'=b" and df.iloc[0, 1] == -1.0


def test_results_json_matches_schema(hostile):
    jsonschema = pytest.importorskip("jsonschema")
    _, out, _ = hostile
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    schema = json.loads((ROOT / "docs/results.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    assert data["schema_version"] == "1.2"
    # a broken document is rejected (the schema is not vacuous)
    bad = dict(data)
    bad["joint_display"] = [{**data["joint_display"][0], "convergence": "agreement"}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({k: v for k, v in data.items() if k != "summary"}, schema)


def test_report_folder_contents(hostile):
    result, out, written = hostile
    for name in ("report.html", "report.md", "results.json", "tables.xlsx", "quarantine.csv",
                 "iam-2014.yaml", "tables/joint_display.csv", "tables/relevance.csv",
                 "tables/descriptives.csv", "tables/decisions.csv", "tables/changelog.csv"):
        assert (out / name).is_file(), name
    q = pd.read_csv(out / "quarantine.csv")
    assert list(q.columns[:4]) == ["source", "row", "reason", "message"]
    n_q = (result.ratings.n_quarantined + result.coding.n_quarantined)
    assert len(q) == n_q
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    dq = data["data_quality"]
    assert dq["ratings"]["read"] == dq["ratings"]["accepted"] + dq["ratings"]["quarantined"]
    # the inputs are hashed, and the hash is the file's
    import hashlib

    sha = hashlib.sha256((IAM / "data/iam-sample.csv").read_bytes()).hexdigest()
    assert data["inputs"]["ratings"]["sha256"] == sha


def test_svg_plots_escape_and_draw():
    from instrval.report import svg

    items = pd.DataFrame({"item_id": ["a<b", "c"], "ratio": [0.05, 0.5],
                          "ci_low": [0.04, 0.45], "ci_high": [0.06, 0.55],
                          "relevant": [False, True]})
    s = svg.relevance_chart(items, threshold=0.1, title="T <x>", labels={"c": '"q"'})
    assert "a&lt;b" in s and "T &lt;x&gt;" in s and "&quot;q&quot;" in s
    assert s.count("<rect") == 2 and "stroke-dasharray" in s and "#c0392b" in s
    table = pd.DataFrame({"factor": [1, 2, 3], "observed_fa": [2.0, 0.5, 0.1],
                          "simulated_fa": [0.3, 0.2, 0.1], "observed_pc": [2.5, 0.8, 0.2],
                          "simulated_pc": [1.2, 1.0, 0.9]})
    assert svg.scree_plot(table, nfact=1).count("<polyline") == 4
    lo = pd.DataFrame({"item_id": ["x1", "x2"], "MR1": [0.8, -0.6], "MR2": [0.1, 0.2]})
    h = svg.loadings_heatmap(lo)
    assert h.count("<rect") == 4 and "-0.60" in h


def test_agreement_table_matches_coder_agreement(hostile):
    """The report's agreement tables carry coder_agreement's numbers, and Cohen's kappa
    interval is psych's (cohen_kappa on the same presence/absence table)."""
    import numpy as np
    from numpy.testing import assert_allclose

    from instrval.stats.agreement import coder_agreement, cohen_kappa

    result, out, _ = hostile
    ag = coder_agreement(result.coding)
    summ = result.agreement_summary
    ov = summ.overall.set_index("scope")
    ref = ag.overall.set_index("scope")
    for scope in ("pooled", "assigned_codes"):
        for col in ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha"):
            assert ov.loc[scope, col] == ref.loc[scope, col], (scope, col)
    assert summ.n_segments == ag.n_segments and summ.coders == ag.coders == ("A", "B")
    # the pooled interval, recomputed from a plain segment x code table of 0/1 columns
    seg = result.coding.segments
    seg = seg[seg["coder"].notna()]
    shared = sorted(s for s, g in seg.groupby("segment_id") if g["coder"].nunique() == 2)
    sets = {key: set(g["code"]) for key, g in seg.groupby(["segment_id", "coder"])}
    pairs = [[float(code in sets[(sid, c)]) for c in "AB"]
             for code in ag.codes["code"] for sid in shared]
    k = cohen_kappa(np.array(pairs), weights="unweighted")
    assert_allclose(k.kappa, ov.loc["pooled", "cohen_kappa"], rtol=1e-12)
    assert_allclose([k.ci_low, k.ci_high],
                    [ov.loc["pooled", "cohen_ci_low"], ov.loc["pooled", "cohen_ci_high"]],
                    rtol=1e-12)
    assert ov.loc["pooled", "n_units"] == len(pairs)
    # per code: the listed codes are those applied to >= 3 double-coded segments, lowest
    # alpha first, with coder_agreement's values
    codes = ag.codes.set_index("code")
    listed = summ.codes
    assert list(listed["krippendorff_alpha"]) == sorted(listed["krippendorff_alpha"])
    assert (listed["n_segments_coded"] >= 3).all()
    for rec in listed.to_dict(orient="records"):
        assert rec["cohen_kappa"] == codes.loc[rec["code"], "cohen_kappa"]
        assert rec["percent_agreement"] == codes.loc[rec["code"], "percent_agreement"]
    assert len(summ.all_codes) == len(ag.codes)
    # the same numbers in results.json, report.html and report.md
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    table = data["qualitative"]["agreement_table"]
    pooled = next(r for r in table["overall"] if r["scope"] == "pooled")
    assert pooled["cohen_kappa"] == ov.loc["pooled", "cohen_kappa"]
    assert pooled["cohen_ci_low"] == ov.loc["pooled", "cohen_ci_low"]
    html = (out / "report.html").read_text(encoding="utf-8")
    kappa = f"{ov.loc['pooled', 'cohen_kappa']:.3f}"
    ci = f"[{ov.loc['pooled', 'cohen_ci_low']:.3f}, {ov.loc['pooled', 'cohen_ci_high']:.3f}]"
    assert "Inter-coder agreement, overall" in html and kappa in html and ci in html
    assert "n_segments = " not in html
    md = (out / "report.md").read_text(encoding="utf-8")
    assert kappa in md and ci.replace("[", "\\[").replace("]", "\\]") in md


def test_numbers_are_formatted(hostile):
    from instrval.report.html import fmt_value

    _, out, _ = hostile
    html = (out / "report.html").read_text(encoding="utf-8")
    md = (out / "report.md").read_text(encoding="utf-8")
    for text in (html, md):
        assert not re.search(r"\bnan\b", text, re.I)
        assert not re.search(r"\bNone\b", text)
    # integer rules as integers
    assert re.search(r"<code>qual_min_participants</code>|qual_min_participants</td>", html)
    row = re.search(r"qual_min_participants</td>(.*?)</tr>", html).group(1)
    assert ">2<" in row and "2.0" not in row
    assert "| qual\\_min\\_participants | 2 | 2 |" in md
    assert fmt_value(0.0004, "p") == "< .001" and fmt_value(0.0412, "p") == ".041"
    assert fmt_value(12345, "int") == "12,345" and fmt_value(0.5, "pct") == "50.00%"
    assert fmt_value(None, "f3") == fmt_value(float("nan"), "pct") == "\u2013"


def test_html_and_markdown_show_the_same_tables(hostile):
    """Both reports render the tables of display_tables(): every table the Markdown shows
    appears there exactly as md_table renders it, and the HTML has each of its headers
    and captions, in the same column order."""
    import html as html_lib

    from instrval.report.markdown import md_table
    from instrval.report.tables import display_tables

    result, out, _ = hostile
    md = (out / "report.md").read_text(encoding="utf-8")
    page = html_lib.unescape((out / "report.html").read_text(encoding="utf-8"))
    tables = display_tables(result)
    shown = [name for name, t in tables.items() if md_table(t) in md]
    for name in ("rules", "relevance", "qualitative_items", "decisions", "cosmin",
                 "quality"):
        assert name in tables and name in shown, name
    for name, t in tables.items():
        heads = [c.header for c in t.columns]
        row = "".join(f"<th{' class=num' if c.numeric else ''}>{c.header}</th>"
                      for c in t.columns)
        assert row in page, (name, heads)
        if t.caption:
            assert f"<caption>{t.caption}</caption>" in page, name


def test_display_tables_keep_full_precision(hostile):
    """The display frames hold the results' values unrounded; rounding is rendering."""
    from numpy.testing import assert_allclose

    from instrval.report.tables import display_tables

    result, _, _ = hostile
    t = display_tables(result)
    rel = t["relevance"].frame.set_index("item_id")
    want = result.relevance.items.set_index("item_id")
    assert_allclose(rel["ratio"].astype(float), want.loc[rel.index, "ratio"].astype(float),
                    rtol=0, atol=0)
