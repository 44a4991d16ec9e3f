"""``report.html``: one self-contained file, readable on screen and in print.

Plain Python string building: every value that comes from an input (item labels, quotes,
file names, expert rationales) passes through :func:`html.escape` before it reaches the
page. The page has no scripts, no external fonts, stylesheets or images: CSS is inline and
plots are inline SVG (:mod:`instrval.report.svg`). Rounding happens only here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import pandas as pd

from instrval.report import svg

__all__ = ["render_html", "fmt_value", "html_table", "escape_text", "Col"]

CONVERGENCE_COLOURS = {
    "confirmation": ("#e4f2e1", "#2e7d32", "both strands agree"),
    "expansion": ("#e3edf8", "#1f5c99", "they agree; one strand adds information"),
    "discordance": ("#fde4d3", "#b34700", "the strands disagree: for the experts"),
    "silence": ("#eeeeee", "#555555", "one strand has no evidence on the item"),
}
DECISION_COLOURS = {"keep": "#2e7d32", "revise": "#b36b00", "remove": "#b3261e",
                    "add": "#1f5c99", "none": "#666666", "reject": "#666666"}

CSS = """
:root{--ink:#1b1b1b;--muted:#5f6368;--rule:#c8c8c8;--head:#f3f3f1;}
*{box-sizing:border-box}
body{font-family:"Source Serif Pro","Georgia","Times New Roman",serif;color:var(--ink);
 max-width:1100px;margin:2.2em auto;padding:0 1.4em;line-height:1.45;font-size:15px;
 background:#fff}
h1,h2,h3,h4,.sans,table,figcaption,nav,.badge,.legend,.kpi{font-family:"Helvetica Neue",
 "Liberation Sans",Arial,sans-serif}
h1{font-size:1.75em;margin:.2em 0 .1em;line-height:1.2}
h2{font-size:1.25em;border-bottom:1.5px solid var(--ink);padding-bottom:.15em;
 margin-top:2.2em}
h3{font-size:1.05em;margin-top:1.6em}
.subtitle{color:var(--muted);margin:0 0 1em}
p.note,.muted{color:var(--muted);font-size:.92em}
table{border-collapse:collapse;font-size:12.5px;margin:.6em 0 1.2em;width:100%}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0;font-size:13px}
th,td{padding:3px 7px;vertical-align:top;border-bottom:1px solid #e3e3e3;text-align:left}
thead th{background:var(--head);border-top:1.5px solid var(--ink);
 border-bottom:1px solid var(--ink);font-weight:600}
tbody tr:last-child td{border-bottom:1.5px solid var(--ink)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.code,span.code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.92em}
td.quote{font-style:italic}
table.joint td.quote{min-width:24em;font-size:12px}
table.joint.dense td.quote{min-width:15em}
table.joint td.quote p{margin:0 0 .35em}
table.joint tr.group th{background:#fff;border-bottom:1px solid var(--ink);
 padding-top:.9em;font-size:12.5px;text-align:left}
table.joint td.dec{white-space:nowrap}
.rules{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:10px;color:#444;
 margin-top:.3em;white-space:nowrap}
.kpis{display:flex;flex-wrap:wrap;gap:.6em;margin:1em 0}
.kpi{border:1px solid var(--rule);border-radius:4px;padding:.45em .8em;min-width:8.5em}
.kpi b{display:block;font-size:1.45em;font-variant-numeric:tabular-nums}
.kpi span{color:var(--muted);font-size:.85em}
.badge{display:inline-block;padding:0 .45em;border-radius:3px;color:#fff;font-size:11px;
 font-weight:600;letter-spacing:.02em;text-transform:uppercase}
.legend{display:flex;flex-wrap:wrap;gap:1.2em;font-size:12px;margin:.4em 0 .6em}
.legend i{display:inline-block;width:1.1em;height:1.1em;vertical-align:-.2em;
 margin-right:.35em;border:1px solid #999}
tr.conv-confirmation td{background:#e4f2e1}
tr.conv-expansion td{background:#e3edf8}
tr.conv-discordance td{background:#fde4d3}
tr.conv-silence td{background:#f4f4f4}
figure{margin:1em 0;page-break-inside:avoid;break-inside:avoid}
figcaption{font-size:12px;color:var(--muted);margin-top:.2em}
svg.plot{max-width:100%;height:auto;font-family:"Helvetica Neue","Liberation Sans",Arial,
 sans-serif}
nav.toc{font-size:13px;columns:2;margin:1em 0 1.5em;padding:.6em 1em;border:1px solid
 var(--rule);border-radius:4px}
nav.toc a{color:var(--ink);text-decoration:none}
nav.toc ol{margin:0;padding-left:1.3em}
.open{border-left:4px solid #b34700;padding:.3em .8em;background:#fff7f0}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;font-size:.95em}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0}
.plots{display:flex;flex-wrap:wrap;gap:1em 2em;align-items:flex-start}
.plots figure{display:table;margin:.5em 0}
.plots figcaption{display:table-caption;caption-side:bottom}
.nowrap{white-space:nowrap}
td.num b{font-weight:700}
footer{margin-top:3em;border-top:1px solid var(--rule);padding-top:.5em;color:var(--muted);
 font-size:12px}
@media print{
 body{font-size:10.5pt;max-width:none;margin:0;padding:0}
 h2{page-break-after:avoid;break-after:avoid}
 table{font-size:8.5pt;page-break-inside:auto}
 tr{page-break-inside:avoid;break-inside:avoid}
 thead{display:table-header-group}
 nav.toc{columns:2;border:none;padding:0;font-size:9pt}
 nav.toc a::after{content:""}
 h3,caption{page-break-after:avoid;break-after:avoid}
 figure,svg.plot{page-break-inside:avoid;break-inside:avoid}
 table.joint td.quote{min-width:0}
 .kpi{padding:.2em .5em}
 footer{position:static}
 tr.conv-confirmation td,tr.conv-expansion td,tr.conv-discordance td,tr.conv-silence td,
 .badge,.legend i{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 a{color:inherit;text-decoration:none}
 @page{size:A4;margin:16mm 14mm}
}
"""


def _e(v: Any) -> str:
    return escape("" if v is None else str(v), quote=True)


def _isna(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return isinstance(v, float) and math.isnan(v)
    except TypeError:
        return False


def fmt_value(v: Any, fmt: str) -> str:
    """Format a value for display (the only place numbers are rounded).

    Formats: ``pct`` / ``pct1`` (percent, 2 / 1 decimals), ``f<n>`` (n decimals),
    ``int`` (thousands separators), ``num`` (integers as integers, other numbers as given:
    ``2.0`` -> ``2``, ``0.85`` -> ``0.85``), ``p`` (p-value: ``< .001``, else 3 decimals
    without the leading zero), ``bool`` (yes / no), anything else as text. Missing values
    (None, NaN, NA) are an en dash.

    >>> fmt_value(2.0, "num"), fmt_value(0.85, "num"), fmt_value(1234567, "int")
    ('2', '0.85', '1,234,567')
    >>> fmt_value(0.00002, "p"), fmt_value(0.0234, "p"), fmt_value(float("nan"), "f3")
    ('< .001', '.023', '–')
    """
    if _isna(v):
        return "\u2013"
    if fmt == "pct":
        return f"{100 * float(v):.2f}%"
    if fmt == "pct1":
        return f"{100 * float(v):.1f}%"
    if fmt.startswith("f") and fmt[1:].isdigit():
        f = float(v)
        return "\u2013" if math.isinf(f) else f"{f:.{int(fmt[1:])}f}"
    if fmt == "int":
        return f"{int(v):,}"
    if fmt == "num":
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, (int, float)) or hasattr(v, "dtype"):
            f = float(v)
            if math.isinf(f):
                return "\u2013"
            return f"{int(f):,}" if f.is_integer() else repr(f)
        return str(v)
    if fmt == "p":
        f = float(v)
        if f < 0.001:
            return "< .001"
        txt = f"{f:.3f}"
        return txt[1:] if txt.startswith("0.") else txt
    if fmt == "bool":
        return "yes" if bool(v) else "no"
    return str(v)


Col = tuple[str, str, str]  # column, header, format


def _table(df: pd.DataFrame, cols: Sequence[Col], *, caption: str | None = None,
           row_class: Callable[[dict[str, Any]], str] | None = None,
           cell: Callable[[str, Any, dict[str, Any]], str | None] | None = None) -> str:
    out = ["<table>"]
    if caption:
        out.append(f"<caption>{_e(caption)}</caption>")
    out.append("<thead><tr>")
    for _, head, fmt in cols:
        num = fmt not in ("text", "code", "bool", "quote", "html")
        out.append(f'<th{" class=num" if num else ""}>{_e(head)}</th>')
    out.append("</tr></thead><tbody>")
    for rec in df.to_dict(orient="records"):
        cls = row_class(rec) if row_class else ""
        out.append(f'<tr class="{_e(cls)}">' if cls else "<tr>")
        for col, _, fmt in cols:
            v = rec.get(col)
            custom = cell(col, v, rec) if cell else None
            if custom is not None:
                out.append(custom)
                continue
            if fmt in ("text", "bool"):
                out.append(f"<td>{_e(fmt_value(v, fmt))}</td>")
            elif fmt == "code":
                out.append(f'<td class="code">{_e(fmt_value(v, "text"))}</td>')
            elif fmt == "quote":
                out.append(f'<td class="quote">{_e("" if _isna(v) else v)}</td>')
            else:
                out.append(f'<td class="num">{_e(fmt_value(v, fmt))}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


#: Public names of the helpers that other report modules use: an HTML table of a frame
#: (every cell escaped) and the escape of a text.
html_table = _table
escape_text = _e


def _badge(decision: Any) -> str:
    if _isna(decision):
        return ""
    col = DECISION_COLOURS.get(str(decision), "#666")
    return f'<span class="badge" style="background:{col}">{_e(decision)}</span>'


def _legend() -> str:
    parts = ['<div class="legend">']
    for name, (bg, _fg, meaning) in CONVERGENCE_COLOURS.items():
        parts.append(f'<span><i style="background:{bg}"></i><b>{name}</b>: {_e(meaning)}'
                     "</span>")
    parts.append("</div>")
    return "".join(parts)


def _kpi(value: Any, label: str) -> str:
    return f'<div class="kpi"><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def _section(sid: str, title: str, body: str) -> tuple[str, str, str]:
    return sid, title, f'<section id="{sid}"><h2>{_e(title)}</h2>{body}</section>'


# --------------------------------------------------------------------------- sections
def _summary(r: Any) -> str:
    c = r.summary()
    inst, rev = r.instrument, r.revised
    body = ['<div class="kpis">',
            _kpi(c["items_reviewed"], f"items reviewed ({inst.label})"),
            _kpi(c["kept"], "kept"), _kpi(c["revised"], "revised"),
            _kpi(c["removed"], "removed"), _kpi(c["added"], "added"),
            _kpi(c["items_after"], f"items in {rev.label}"),
            _kpi(c["open_questions"], "open questions"), "</div>"]
    sentences = [f"This report reviews {_e(inst.title)} version {_e(inst.version)} "
                 f"({c['items_reviewed']} items in {len(inst.constructs)} constructs)."]
    if r.relevance is not None:
        nr = r.relevance.not_relevant
        sentences.append(
            f"Relevance ratios were computed from {r.relevance.n_ratings:,} ratings by "
            f"{r.relevance.n_respondents:,} respondents; {len(nr)} item(s) fell below the "
            f"cut-off of {100 * r.rules.relevance_min:g}%"
            + (f" ({_e(', '.join(nr))})" if nr else "") + ".")
    if r.qual is not None and r.coding is not None:
        q = r.qual.items
        rep = q["representative"]
        n_no = int((rep == False).sum())  # noqa: E712
        sentences.append(
            f"The qualitative strand coded {r.coding.n_accepted:,} segments from "
            f"{len(r.coding.participants)} participants; {n_no} item(s) were judged not "
            "representative.")
    if r.agreement_summary is not None and len(r.agreement_summary.overall):
        a = r.agreement_summary
        pooled = a.overall.set_index("scope")
        if "pooled" in pooled.index:
            stat = ("Cohen's kappa" if len(a.coders) == 2 else "Krippendorff's alpha")
            v = pooled.loc["pooled", "cohen_kappa" if len(a.coders) == 2
                           else "krippendorff_alpha"]
            sentences.append(f"{len(a.coders)} coders coded {a.n_segments:,} segments "
                             f"independently (pooled {stat} {fmt_value(v, 'f2')}).")
    if r.content_validity is not None:
        from instrval.integrate.decisions import i_cvi_threshold

        cvs = r.content_validity.scale
        t = r.content_validity.items
        low = [str(i) for i, v, n in zip(t["item_id"], t["i_cvi"], t["n_experts"], strict=True)
               if v < i_cvi_threshold(n, r.rules)]
        n_cvr = sum(1 for v, c in zip(t["cvr"], t["cvr_critical"], strict=True)
                    if not _isna(c) and v < c)
        sentences.append(
            f"An expert panel of {cvs.get('n_experts')} experts gave S-CVI/Ave "
            f"{fmt_value(cvs.get('s_cvi_ave'), 'f2')} and S-CVI/UA "
            f"{fmt_value(cvs.get('s_cvi_ua'), 'f2')}; {len(low)} item(s) had an I-CVI below "
            f"{r.rules.i_cvi_min:g}" + (f" ({_e(', '.join(low))})" if low else "")
            + f" and {n_cvr} a CVR below its critical value (supporting evidence).")
    if r.reliability:
        alphas = ", ".join(f"{_e(cid)} {fmt_value(a.alpha, 'f2')}"
                           for cid, a in r.reliability.items())
        sentences.append(f"Cronbach's alpha: {alphas}.")
    if r.omega is not None:
        sentences.append(f"Omega total {fmt_value(r.omega.omega_total, 'f2')} and omega "
                         f"hierarchical {fmt_value(r.omega.omega_hierarchical, 'f2')} "
                         f"({r.omega.n_factors} group factors).")
    if r.cfa is not None or r.cfa_ordinal is not None:
        sv = r.cosmin.table.set_index("aspect")
        if "structural validity" in sv.index:
            sentences.append("Structural validity (CFA) was rated "
                             f"{_e(sv.loc['structural validity', 'rating'])} by the COSMIN "
                             "criteria.")
    sentences.append(
        f"The revised version {_e(rev.label)} ({_e(rev.status)}) keeps "
        f"{c['kept'] + c['revised']} item(s), rewords {c['revised']}, removes "
        f"{c['removed']} and adds {c['added']}; {c['expert_decisions']} decision(s) were "
        f"made by experts and {c['open_questions']} question(s) remain open.")
    conv = c["convergence"]
    sentences.append("Convergence of the two strands: " + ", ".join(
        f"{conv[k]} {k}" for k in CONVERGENCE_COLOURS) + ".")
    body.append("<p>" + " ".join(sentences) + "</p>")
    return "".join(body)


def _methods(r: Any) -> str:
    st = r.study
    rules = st.rules
    parts = []
    txt = []
    if r.ratings is not None:
        dq = r.ratings
        dr = dq.date_range()
        when = (f" dated {dr[0].date().isoformat()} to {dr[1].date().isoformat()}"
                if dr else "")
        txt.append(f"Quantitative strand: {dq.n_read:,} rating rows were read; "
                   f"{dq.n_accepted:,} were accepted and {dq.n_quarantined:,} quarantined "
                   f"(see Data quality), from {dq.n_respondents:,} respondents{when}.")
    if r.relevance is not None:
        rr = r.relevance
        txt.append(
            "For each check-box or choice item the relevance ratio R = ratings selecting "
            "the item / ratings in which its question was presented (for gated questions: "
            "the ratings that opened the gate) was computed with a Wilson score "
            f"{100 * rr.confidence:g}% interval and a cluster-aware interval "
            f"({_e(rr.cluster_method)}"
            + (f", {rr.n_boot:,} resamples of respondents" if rr.n_boot else "")
            + f"). Items with R below {100 * rules.relevance_min:g}% were judged not relevant.")
    if r.descriptives is not None:
        txt.append("Item descriptives report the response distribution, the share missing "
                   "and floor and ceiling effects (share at the lowest / highest option, "
                   f"flagged above {100 * rules.floor_ceiling_max:g}%).")
    if r.reliability:
        txt.append("Cronbach's alpha (pairwise covariances, as psych::alpha) with a Feldt "
                   "interval, Guttman's lambda 6 (G6), alpha if an item is deleted and the "
                   "corrected item-total correlation were computed per Likert scale, after "
                   "reversing reverse-keyed items.")
    if r.omega is not None or r.omega_scales:
        txt.append("McDonald's omega: omega total and omega hierarchical from a Schmid-Leiman "
                   f"solution of all Likert items ({r.omega.n_factors if r.omega else ''} "
                   "group factors, as psych::omega), and a one-factor (congeneric) omega per "
                   "scale.")
    if r.efa is not None:
        txt.append(f"An exploratory factor analysis ({_e(r.efa.method)} extraction, "
                   f"{_e(r.efa.rotation)} rotation, {r.efa.n_factors} factor(s)) was run on "
                   "the Pearson correlations of the Likert items")
        if r.parallel is not None:
            txt[-1] += (f", with Horn's parallel analysis ({r.parallel.n_iter} simulated data "
                        f"sets) suggesting {r.parallel.nfact} factor(s)")
        txt[-1] += "."
    if r.cfa is not None:
        txt.append("A confirmatory factor analysis (maximum likelihood, listwise) tested the "
                   "instrument's constructs as correlated factors")
        if r.cfa_ordinal is not None:
            txt[-1] += ("; because the items are ordinal (Likert, at most 7 categories), the "
                        "same model was also fitted to polychoric correlations by WLSMV "
                        "(diagonally weighted least squares with mean- and variance-adjusted "
                        "test, as lavaan), and the COSMIN rating uses the WLSMV fit")
        txt[-1] += "."
    if r.content_validity is not None:
        cvs = r.content_validity.scale
        aspects = list(r.content_validity_aspects or {})
        txt.append(f"An expert panel of {cvs.get('n_experts')} experts rated the relevance"
                   + "".join(f" and {_e(a)}" for a in aspects)
                   + " of each item; it gave the item content validity index (I-CVI, "
                   f"criterion {rules.i_cvi_min:g}), the modified kappa, Lawshe's content "
                   "validity ratio (CVR) against its exact critical value and Aiken's V, and "
                   f"the scale indices S-CVI/Ave (criterion {rules.s_cvi_ave_min:g}) and "
                   "S-CVI/UA. The panel is supporting evidence: its flags (R14, R15) do not "
                   "change a proposed decision.")
    if r.qual is not None:
        txt.append(
            "Qualitative strand: interview segments were coded deductively to items and "
            "inductively for missing concepts and wording. An item was judged representative "
            f"when at least {rules.qual_min_participants} participants discussed it and no "
            f"more than {100 * rules.qual_max_challenge_share:g}% of them challenged it.")
        if r.agreement_summary is not None:
            a = r.agreement_summary
            txt.append(f"Inter-coder agreement was assessed on the {a.n_segments:,} segments "
                       f"coded independently by {len(a.coders)} coders (percent agreement, "
                       "Cohen's and Fleiss' kappa, Krippendorff's alpha).")
    txt.append(
        "Integration: the strands were juxtaposed item by item in a joint display; the "
        "decision rules (listed below and in the appendix) proposed a decision for each item "
        "and the experts' decisions, where recorded, override the proposal.")
    parts.append("<p>" + " ".join(txt) + "</p>")
    skipped = {k: v for k, v in r.analyses.items() if v != "run"}
    if skipped:
        parts.append("<p class=note>Not run: " + "; ".join(
            f"{_e(k)} ({_e(v)})" for k, v in skipped.items()) + ".</p>")
    meta = ['<dl class="meta">']
    if st.title:
        meta.append(f"<dt>Study</dt><dd>{_e(st.title)}</dd>")
    if st.authors:
        meta.append(f"<dt>Authors</dt><dd>{_e(', '.join(st.authors))}</dd>")
    meta.append(f"<dt>Seed</dt><dd>{st.seed}</dd>")
    meta.append(f"<dt>Report time</dt><dd>{_e(r.timestamp)}</dd>")
    meta.append("<dt>Software</dt><dd>" + ", ".join(
        f"{_e(k)} {_e(v)}" for k, v in r.software.items()) + "</dd></dl>")
    parts.append("".join(meta))
    inputs = pd.DataFrame([{"role": k, **v} for k, v in r.inputs.items()])
    if len(inputs):
        for c in ("rows_read", "rows_accepted", "bytes"):
            if c not in inputs:
                inputs[c] = None
        parts.append(_table(inputs, [("role", "input", "text"), ("file", "file", "code"),
                                     ("bytes", "bytes", "int"), ("rows_read", "rows read", "int"),
                                     ("sha256", "sha256", "code")], caption="Inputs"))
    rules_df = pd.DataFrame(rules.describe())
    rules_df["changed"] = rules_df["value"] != rules_df["default"]
    parts.append(_table(rules_df, [("rule", "rule", "code"), ("value", "value", "num"),
                                   ("default", "default", "num"), ("source", "source", "text")],
                        caption="Decision thresholds (DecisionRules; values changed by the "
                                "study file are in bold)",
                        cell=lambda col, v, rec: (
                            f'<td class="num"><b>{_e(fmt_value(v, "num"))}</b></td>'
                            if col == "value" and rec.get("changed") else None)))
    if r.notes:
        parts.append("<p class=note>Notes: " + " ".join(_e(n.rstrip(".") + ".") for n in r.notes)
                     + "</p>")
    if r.warnings:
        parts.append("<p class=note>Warnings: " + "; ".join(_e(w) for w in r.warnings)
                     + "</p>")
    return "".join(parts)


def _labels(r: Any) -> dict[str, str]:
    return {it.id: it.label for it in r.instrument.items}


def _descriptives(r: Any) -> str:
    d = r.descriptives
    parts = []
    items = d.items
    scales = {c.id: r.instrument.scale_of(c) for c in r.instrument.constructs}
    names = {c.id: c.label for c in r.instrument.constructs}
    has_likert = bool((items["kind"] == "likert").any())
    parts.append('<div class="plots">')
    for cid, g in items.groupby("construct_id", sort=False):
        dist = d.distribution[d.distribution["item_id"].isin(g["item_id"])]
        sc = scales.get(cid)
        lab = dict(sc.labels) if sc is not None and sc.labels else (
            {0: "not selected", 1: "selected"} if set(dist["value"]) <= {0, 1} else None)
        # item shares are descriptive: no item is marked (floor/ceiling is about totals)
        g = g.assign(floor_flag=False, ceiling_flag=False)
        parts.append("<figure>" + svg.distribution_bars(
            dist, g, title=f"Response distribution: {names.get(cid, cid)} ({cid})",
            labels=lab) + "</figure>")
    parts.append("</div>")
    items = items.copy()
    boxes = items["kind"] != "likert"
    for col in ("floor_share", "ceiling_share"):
        items[col] = items[col].astype(object).where(~boxes, None)
    cols: list[Col] = [
        ("item_id", "item", "code"), ("construct_id", "construct", "code"),
        ("n_rows", "rows", "int"), ("n", "answers", "int"),
        ("missing_share", "missing", "pct1"), ("mean", "mean", "f2"), ("sd", "SD", "f2")]
    if has_likert:
        cols += [("floor_share", "lowest option", "pct1"),
                 ("ceiling_share", "highest option", "pct1")]
    caption = "Item descriptives" + (
        " (share of answers at the lowest / highest option of Likert items: descriptive; "
        "floor and ceiling effects are judged on the scale totals)" if has_likert else "")
    parts.append(_table(items, cols, caption=caption))
    parts.append(_scale_totals(r))
    note = ("Rows: ratings in which the item could be answered (for a gated construct, those "
            "that opened the gate); answers: rows with an answer.")
    if bool(boxes.any()):
        note += " For check boxes, the mean is the share selected."
    if has_likert:
        note += " Means are on the response scale as answered (before reverse keying)."
    parts.append(f"<p class=note>{_e(note)}</p>")
    return "".join(parts)


def _scale_totals(r: Any) -> str:
    """Floor and ceiling effects on the scale totals (rule R16; Terwee et al. 2007)."""
    sc = r.joint.scales
    if sc is None or sc.empty or sc["floor_share"].isna().all():
        return ""
    df = sc.copy()
    df["flag"] = [("R16" if "R16" in str(v) else "") for v in df["rules_fired"]]
    cut = f"{100 * r.rules.floor_ceiling_max:g}%"
    return _table(df, [("construct_id", "scale", "code"), ("k", "items", "int"),
                       ("n", "complete answers", "int"),
                       ("floor_share", "at lowest total", "pct1"),
                       ("ceiling_share", "at highest total", "pct1"),
                       ("flag", "floor or ceiling effect", "text")],
                  caption=f"Floor and ceiling effects of the scale totals (more than {cut} of "
                          "the respondents at the lowest or highest possible total; Terwee "
                          "et al. 2007; rule R16)",
                  row_class=lambda rec: "conv-discordance" if rec.get("flag") else "")


def _relevance(r: Any) -> str:
    rel = r.relevance
    items = rel.items
    labels = _labels(r)
    parts = ['<div class="plots">']
    for cid, g in items.groupby("construct_id", sort=False):
        c = r.instrument.construct(cid)
        parts.append("<figure>" + svg.relevance_chart(
            g, threshold=rel.threshold, title=f"{c.label} ({cid})", labels=labels)
            + f"<figcaption>Relevance ratio with {100 * rel.confidence:g}% Wilson interval; "
            f"dashed line: cut-off {100 * rel.threshold:g}%. Red: below the cut-off."
            "</figcaption></figure>")
    parts.append("</div>")
    items = items.copy()
    level = f"{100 * rel.confidence:g}%"
    items["ci"] = [_ci(lo, hi, "pct") for lo, hi in zip(items["ci_low"], items["ci_high"],
                                                        strict=True)]
    cols: list[Col] = [("item_id", "item", "code"), ("construct_id", "construct", "code"),
                       ("selected", "selected", "int"), ("presented", "presented", "int"),
                       ("ratio", "R", "pct"), ("ci", f"{level} CI (Wilson)", "f")]
    if "cluster_ci_low" in items:
        items["cluster_ci"] = [_ci(lo, hi, "pct") for lo, hi in
                               zip(items["cluster_ci_low"], items["cluster_ci_high"],
                                   strict=True)]
        cols += [("cluster_ci", f"{level} CI ({rel.cluster_method}, by respondent)", "f"),
                 ("deff", "design effect", "f2")]
    cols.append(("relevant", "relevant", "bool"))
    parts.append(_table(items, cols, caption="Relevance ratios (R = selected / presented)",
                        cell=lambda col, v, rec: f'<td class="num">{_e(v)}</td>'
                        if col in ("ci", "cluster_ci") else None,
                        row_class=lambda rec: "conv-discordance" if rec.get("relevant") is False
                        else ""))
    return "".join(parts)


def _ci(lo: Any, hi: Any, fmt: str) -> str:
    """``[lo, hi]``, or an en dash when either end is missing."""
    if _isna(lo) or _isna(hi):
        return "\u2013"
    return f"[{fmt_value(lo, fmt)}, {fmt_value(hi, fmt)}]"


def scale_reliability_frame(r: Any) -> pd.DataFrame:
    """One row per scale: alpha with its interval, std. alpha, G6, mean r and the
    one-factor omega (the Reliability table of the report)."""
    rows = []
    for cid, a in r.reliability.items():
        o1 = r.omega_scales.get(cid) if r.omega_scales else None
        rows.append({"construct_id": cid, "k": a.k, "n": a.n, "alpha": a.alpha,
                     "ci": _ci(a.ci_low, a.ci_high, "f3"), "ci_low": a.ci_low,
                     "ci_high": a.ci_high, "std_alpha": a.std_alpha, "g6": a.g6,
                     "average_r": a.average_r,
                     "omega": o1.omega if o1 is not None else None,
                     "reverse": ", ".join(a.reverse) or None})
    return pd.DataFrame(rows)


def _reliability(r: Any) -> str:
    parts = []
    scale = scale_reliability_frame(r)
    first = next(iter(r.reliability.values()))
    level = f"{100 * first.confidence:g}%"
    method = "Feldt" if first.ci_method == "feldt" else str(first.ci_method)
    cols: list[Col] = [("construct_id", "scale", "code"), ("k", "items", "int"),
                       ("n", "n", "int"), ("alpha", "alpha", "f3"),
                       ("ci", f"{level} CI ({method})", "f"),
                       ("std_alpha", "std. alpha", "f3"), ("g6", "G6 (smc)", "f3"),
                       ("average_r", "mean r", "f3")]
    if r.omega_scales:
        cols.append(("omega", "omega (1 factor)", "f3"))
    cols.append(("reverse", "reversed items", "text"))
    parts.append(_table(scale, cols,
                        caption=f"Internal consistency per scale (criterion: alpha >= "
                                f"{r.rules.alpha_min:g})",
                        cell=lambda col, v, rec: f'<td class="num">{_e(v)}</td>'
                        if col == "ci" else None,
                        row_class=lambda rec: "conv-discordance" if (
                            not _isna(rec.get("alpha")) and rec["alpha"] < r.rules.alpha_min)
                        else ""))
    binary = [cid for cid in r.reliability
              if r.instrument.construct(cid).kind == "binary"]
    if binary:
        parts.append("<p class=note>For binary scales (" + _e(", ".join(binary)) + ") alpha "
                     "is KR-20 (Kuder & Richardson 1937): the same formula on 0/1 items.</p>")
    advice = [(cid, a.check_keys) for cid, a in r.reliability.items()
              if getattr(a, "check_keys", ())]
    if advice:
        parts.append("<p class=note>" + _e(" ".join(
            f"In {cid}, item(s) {', '.join(keys)} correlate negatively with the total (a "
            "negative loading on the first principal component) and probably should be "
            "reverse-keyed, or the keying of the instrument checked (psych's check.keys "
            "advice)." for cid, keys in advice)) + "</p>")
    parts.append("<p class=note>Alpha from pairwise covariances (psych::alpha) after reversing "
                 "the reverse-keyed items; G6: Guttman's lambda 6 from squared multiple "
                 "correlations; mean r: mean inter-item correlation; omega (1 factor): "
                 "congeneric omega (sum of loadings)\u00b2 / ((sum of loadings)\u00b2 + sum of "
                 "uniquenesses) of a one-factor minres solution. Shaded: alpha below the "
                 "criterion.</p>")
    if r.omega is not None:
        parts.append(_omega(r))
    rows = pd.concat([a.items.assign(construct_id=cid, scale_alpha=a.alpha,
                                     reversed=a.items["item_id"].isin(a.reverse))
                      for cid, a in r.reliability.items()], ignore_index=True)
    rows["difficulty"] = [m if r.instrument.construct(c).kind == "binary" else None
                          for c, m in zip(rows["construct_id"], rows["mean"], strict=True)]
    diff_col: list[Col] = ([("difficulty", "difficulty p", "f3")]
                           if rows["difficulty"].notna().any() else [])
    parts.append(_table(rows, [("construct_id", "scale", "code"), ("item_id", "item", "code"),
                               ("reversed", "reversed", "bool"), *diff_col,
                               ("n", "n", "int"), ("mean", "mean", "f2"), ("sd", "SD", "f2"),
                               ("r_drop", "r.drop", "f3"), ("r_cor", "r.cor", "f3"),
                               ("alpha_if_deleted", "alpha if deleted", "f3")],
                        caption="Item-total statistics (r.drop: corrected item-total "
                                "correlation; r.cor: item-total correlation corrected for "
                                "overlap; mean and SD after reverse keying)",
                        row_class=lambda rec: "conv-discordance" if (
                            not _isna(rec.get("r_drop")) and rec["r_drop"] < r.rules.r_drop_min)
                        else ""))
    parts.append(f"<p class=note>Shaded: r.drop below r_drop_min = "
                 f"{fmt_value(r.rules.r_drop_min, 'num')}. Alpha if deleted above the scale's "
                 "alpha marks an item that lowers internal consistency."
                 + (" Difficulty p: the proportion of correct (endorsed) answers of a binary "
                    "item; it is reported, never used to remove an item." if diff_col else "")
                 + "</p>")
    return "".join(parts)


def _omega(r: Any) -> str:
    o = r.omega
    head = pd.DataFrame([{"coef": "omega total", "value": o.omega_total,
                          "meaning": "share of total-score variance due to all common "
                                     "factors"},
                         {"coef": "omega hierarchical", "value": o.omega_hierarchical,
                          "meaning": "share due to the general factor alone"},
                         {"coef": "omega limit", "value": o.omega_limit,
                          "meaning": "omega hierarchical of an infinitely long test "
                                     "(omega hierarchical / omega total)"},
                         {"coef": "explained common variance (ECV)", "value": o.ecv,
                          "meaning": "share of the common variance due to the general "
                                     "factor"},
                         {"coef": "alpha (all items)", "value": o.alpha,
                          "meaning": "Cronbach's alpha of the total score, items reversed "
                                     "as below"}])
    parts = [_table(head, [("coef", "coefficient", "text"), ("value", "value", "f3"),
                           ("meaning", "meaning", "text")],
                    caption=f"McDonald's omega of all {len(o.schmid)} Likert items "
                            f"({o.fm}, {o.rotation}, Schmid-Leiman with {o.n_factors} "
                            "group factors, as psych::omega)")]
    groups = o.groups.copy()
    groups["factor"] = groups["factor"].astype(str)
    parts.append(_table(groups, [("factor", "factor", "code"), ("total", "omega total", "f3"),
                                 ("general", "general factor", "f3"),
                                 ("group", "group factor", "f3")],
                        caption="Omega per group factor (psych's omega.group: g = the whole "
                                "test; F1*.. = the items whose largest group loading is on "
                                "that factor)"))
    note = []
    if o.reversed_items:
        note.append("Items reversed for omega (negative general loading): "
                    + ", ".join(o.reversed_items) + ".")
    note.extend(o.warnings)
    if note:
        parts.append("<p class=note>" + _e(" ".join(note)) + "</p>")
    return "".join(parts)


def _factor_constructs(r: Any) -> str:
    """Which construct each EFA factor mostly carries (sum of |loadings| by construct)."""
    lo = r.efa.loadings
    out = []
    for f in r.efa.factors:
        by: dict[str, float] = {}
        for item, v in zip(lo["item_id"], lo[f], strict=True):
            try:
                cid = r.instrument.construct_of(str(item)).id
            except (KeyError, ValueError):
                continue
            by[cid] = by.get(cid, 0.0) + (abs(float(v)) if not _isna(v) else 0.0)
        if by:
            out.append(f"{f} \u2248 {max(by, key=lambda k: by[k])}")
    return "; ".join(out)


def cfa_fit_frame(r: Any) -> pd.DataFrame:
    """The CFA fit table: one row per index, a column per estimator (ML, WLSMV)."""
    fits = []
    if r.cfa is not None:
        fits.append(("ml", r.cfa.fit, ""))
    if r.cfa_ordinal is not None:
        fits.append(("wlsmv", r.cfa_ordinal.fit, "_scaled"))
    rules = r.rules

    def get(f: dict[str, Any], key: str, suffix: str) -> Any:
        v = f.get(key + suffix)
        return v if suffix and not _isna(v) else f.get(key)

    rows = []
    spec = [("chi2", "chi-square", "f2", ""), ("df", "df", "num", ""),
            ("pvalue", "p", "p", ""), ("cfi", "CFI", "f3", f"> {rules.cfi_min:g}"),
            ("tli", "TLI", "f3", f"> {rules.cfi_min:g}"),
            ("rmsea", "RMSEA [90% CI]", "f3", f"< {rules.rmsea_max:g}"),
            ("srmr", "SRMR", "f3", f"< {rules.srmr_max:g}"), ("n", "n (listwise)", "int", "")]
    for key, label, fmt, crit in spec:
        row: dict[str, Any] = {"index": label, "criterion": crit}
        for name, f, suffix in fits:
            v = get(f, key, suffix)
            txt = fmt_value(v, fmt)
            if key == "rmsea":
                txt += " " + _ci(get(f, "rmsea_ci_low", suffix), get(f, "rmsea_ci_high", suffix),
                                 "f3")
            row[name] = txt
        rows.append(row)
    return pd.DataFrame(rows)


def _efa_tables(r: Any) -> str:
    """Sampling adequacy, loadings with communalities, variance explained and factor
    correlations of the EFA."""
    e = r.efa
    parts = []
    if r.kmo is not None and r.bartlett is not None:
        b = r.bartlett
        parts.append(
            f"<p>Sampling adequacy of the {_e(e.corr)} correlations: Kaiser-Meyer-Olkin "
            f"MSA = {fmt_value(r.kmo.msa, 'f3')} (Kaiser 1974: >= .80 meritorious, >= .60 "
            f"acceptable); Bartlett's test of sphericity chi-square = "
            f"{fmt_value(b.chi2, 'f2')}, df = {fmt_value(b.df, 'num')}, "
            f"p {'&lt; .001' if b.pvalue < 0.001 else '= ' + fmt_value(b.pvalue, 'p')}.</p>")
    lo = e.loadings.copy()
    h2 = e.communalities
    lo["h2"] = [float(h2.get(i, float("nan"))) if hasattr(h2, "get") else float("nan")
                for i in lo["item_id"]]
    cols: list[Col] = [("item_id", "item", "code")] + [(f, f, "f2") for f in e.factors] + [
        ("h2", "communality h\u00b2", "f2")]
    parts.append(_table(lo, cols, caption=f"EFA pattern loadings and communalities "
                                          f"({e.method}, {e.rotation}, {e.corr} "
                                          f"correlations, n = {e.n_obs:,.0f})"))
    var = e.variance.copy()
    if "factor" not in var.columns:
        var.insert(0, "factor", [str(i) for i in var.index])
    vcols: list[Col] = [("factor", "factor", "code")] + [
        (c, c.replace("_", " "), "f3") for c in var.columns
        if c != "factor" and pd.api.types.is_numeric_dtype(var[c])]
    parts.append(_table(var, vcols, caption="Variance explained by each factor (sums of "
                                            "squared loadings, as psych's Vaccounted)"))
    if e.n_factors > 1 and e.rotation not in ("none", "varimax"):
        phi = e.phi.copy()
        phi.insert(0, "factor", [str(i) for i in phi.index])
        parts.append(_table(phi, [("factor", "factor", "code")]
                            + [(str(f), str(f), "f2") for f in e.phi.columns],
                            caption=f"Factor correlations ({e.rotation} rotation)"))
    return "".join(parts)


def _factor(r: Any) -> str:
    parts = ['<div class="plots">']
    if r.parallel is not None:
        pa = r.parallel
        sim = ("the mean" if pa.quantile is None
               else f"the {100 * pa.quantile:g}th percentile")
        parts.append("<figure>" + svg.scree_plot(pa.table, nfact=pa.nfact)
                     + f"<figcaption>Eigenvalues of the observed correlations (solid) and "
                     f"{sim} of the eigenvalues of {pa.n_iter} simulated data sets of the "
                     f"same size (dashed). Parallel analysis (Horn 1965) suggests "
                     f"{pa.nfact} factor(s) and {pa.ncomp} component(s): those whose "
                     "observed eigenvalue lies above the simulated one.</figcaption>"
                     "</figure>")
    if r.efa is not None:
        which = _factor_constructs(r)
        parts.append("<figure>" + svg.loadings_heatmap(
            r.efa.loadings, factors=r.efa.factors,
            title=f"Pattern loadings ({r.efa.method}, {r.efa.rotation})")
            + "<figcaption>Blue: positive, red: negative loadings (darker = larger). "
            + (f"Factors: {_e(which)} (the construct with the largest loadings)."
               if which else "") + "</figcaption></figure>")
    parts.append("</div>")
    if r.efa is not None:
        fit = r.efa.fit.to_dict() if hasattr(r.efa.fit, "to_dict") else dict(r.efa.fit)
        fmts = {"chi2": "f2", "dof": "num", "df": "num", "rmsea": "f3", "tli": "f3",
                "bic": "f2"}
        names = {"chi2": "chi-square", "dof": "df", "df": "df", "rmsea": "RMSEA", "tli": "TLI",
                 "bic": "BIC"}
        keys = [k for k in fmts if fit.get(k) is not None and not _isna(fit.get(k))]
        if keys:
            parts.append(f"<p class=note>EFA ({r.efa.n_factors} factors) fit: " + ", ".join(
                f"{_e(names[k])} = {fmt_value(fit[k], fmts[k])}" for k in keys) + ".</p>")
        if r.efa.warnings:
            parts.append("<p class=note>" + "; ".join(_e(w) for w in r.efa.warnings) + "</p>")
        parts.append(_efa_tables(r))
    if r.cfa is not None or r.cfa_ordinal is not None:
        fit_df = cfa_fit_frame(r)
        cols: list[Col] = [("index", "fit index", "text")]
        if r.cfa is not None:
            cols.append(("ml", "ML (Pearson covariances)", "f"))
        if r.cfa_ordinal is not None:
            cols.append(("wlsmv", "WLSMV (polychoric, scaled)", "f"))
        cols.append(("criterion", "COSMIN criterion", "text"))
        n = (r.cfa or r.cfa_ordinal).n
        parts.append(_table(fit_df, cols,
                            caption=f"Confirmatory factor analysis: the constructs as "
                                    f"correlated factors (n = {n:,})",
                            cell=lambda col, v, rec: f'<td class="num">{_e(v)}</td>'
                            if col in ("ml", "wlsmv") else None))
        note = ("COSMIN (Prinsen et al. 2018): structural validity is sufficient when CFI or "
                "TLI exceeds, or RMSEA or SRMR stays below, its criterion.")
        if r.cfa_ordinal is not None:
            note += (" The items are ordinal, so the rating uses the WLSMV fit (scaled CFI, "
                     "TLI and RMSEA, as lavaan's *.scaled and Mplus report them); ML treats "
                     "the answers as continuous and is shown for comparison.")
        parts.append(f"<p class=note>{_e(note)}</p>")
        parts.append(_cfa_loadings(r))
    return "".join(parts)


def _cfa_loadings(r: Any) -> str:
    """CFA loadings per item and estimator (estimate, SE, std.all), and the factor
    correlations."""
    frames = []
    for name, res in (("ml", r.cfa), ("wlsmv", r.cfa_ordinal)):
        if res is None:
            continue
        lo = res.loadings[["factor", "item_id", "estimate", "se", "std_all"]].rename(
            columns={"estimate": f"{name}_est", "se": f"{name}_se", "std_all": name})
        frames.append(lo.set_index(["factor", "item_id"]))
    if not frames:
        return ""
    df = pd.concat(frames, axis=1).reset_index()
    cols: list[Col] = [("factor", "factor", "code"), ("item_id", "item", "code")]
    for name, res, label in (("ml", r.cfa, "ML"), ("wlsmv", r.cfa_ordinal, "WLSMV")):
        if res is not None:
            cols += [(f"{name}_est", f"{label} estimate", "f3"), (f"{name}_se", "SE", "f3"),
                     (name, "std.all", "f3")]
    parts = [_table(df, cols, caption="CFA loadings: unstandardised estimate with its standard "
                                      "error (the marker item's loading is fixed to 1, SE "
                                      "blank) and the standardised loading (std.all). Items "
                                      "are analysed as answered: the sign is relative to the "
                                      "marker, so items keyed opposite to it load negatively")]
    for label, res in (("ML", r.cfa), ("WLSMV", r.cfa_ordinal)):
        if res is None:
            continue
        fc = getattr(res, "factor_correlations", None)
        if fc is None or len(fc) < 2:
            continue
        fc = fc.copy()
        fc.insert(0, "factor", [str(i) for i in fc.index])
        parts.append(_table(fc.reset_index(drop=True), [("factor", "factor", "code")]
                            + [(str(c), str(c), "f2") for c in res.factor_correlations.columns],
                            caption=f"CFA factor correlations ({label})"))
    return "".join(parts)


def panel_frame(r: Any) -> pd.DataFrame:
    """The expert panel per item: the relevance indices, the flags R14/R15, and the I-CVI
    and Aiken's V of every other rated aspect (``<aspect>_i_cvi``, ``<aspect>_aiken_v``)."""
    from instrval.integrate.decisions import i_cvi_threshold

    df = r.content_validity.items.copy()
    df["i_cvi_min"] = [i_cvi_threshold(n, r.rules) for n in df["n_experts"]]
    df["r14"] = df["i_cvi"] < df["i_cvi_min"]
    df["r15"] = [not _isna(c) and v < c for v, c in zip(df["cvr"], df["cvr_critical"],
                                                        strict=True)]
    for aspect, res in (r.content_validity_aspects or {}).items():
        other = res.items.set_index("item_id")
        for col in ("i_cvi", "aiken_v"):
            df[f"{aspect}_{col}"] = df["item_id"].map(other[col])
    return df


def _content_validity(r: Any) -> str:
    cv = r.content_validity
    s = cv.scale
    rules = r.rules
    opts = cv.options
    aspects = dict(r.content_validity_aspects or {})
    df = panel_frame(r)
    n_exp = s.get("n_experts")
    lo, hi = opts.get("scale_min", 1), opts.get("scale_max", 4)
    rated = " and ".join(["relevance", *aspects])
    n_unanimous = int((df["i_cvi"] == 1.0).sum())
    ave = s.get("s_cvi_ave")
    met = "" if _isna(ave) else (" (meets" if ave >= rules.s_cvi_ave_min else " (below") \
        + f" the recommended {fmt_value(rules.s_cvi_ave_min, 'num')})"
    crit = sorted({(int(n), c) for n, c in zip(df["n_experts"], df["ne_critical"], strict=True)
                   if not _isna(c)})
    crit_txt = "; ".join(f"{c} of {n} experts (CVR {fmt_value((c - n / 2) / (n / 2), 'f2')})"
                         for n, c in crit)
    body = [
        f"<p>{_e(n_exp)} experts rated the {_e(rated)} of {_e(s.get('n_items'))} items on a "
        f"{_e(lo)}–{_e(hi)} scale. An item counts as relevant to an expert when rated "
        f"&ge; {_e(opts.get('relevant_min'))}. "
        f"<b>S-CVI/Ave = {fmt_value(ave, 'f3')}</b>{_e(met)}; "
        f"<b>S-CVI/UA = {fmt_value(s.get('s_cvi_ua'), 'f3')}</b> ({n_unanimous} of "
        f"{len(df)} items judged relevant by every expert).</p>"]
    for aspect, res in aspects.items():
        body.append(f"<p>{_e(aspect.capitalize())}: S-CVI/Ave = "
                    f"{fmt_value(res.scale.get('s_cvi_ave'), 'f3')}, S-CVI/UA = "
                    f"{fmt_value(res.scale.get('s_cvi_ua'), 'f3')} (the same indices computed "
                    f"on the {_e(aspect)} ratings; an expert counts the item as clear when "
                    f"rating it &ge; {_e(res.options.get('relevant_min'))}).</p>")
    level = 100 * (1 - 2 * (1 - _phi(opts.get("z", 1.96))))
    df["kappa_text"] = [f"{fmt_value(k, 'f2')} {b}" if not _isna(k) else "\u2013"
                        for k, b in zip(df["modified_kappa"], df["kappa_band"], strict=True)]
    df["aiken_ci"] = [_ci(a, b, "f2") for a, b in zip(df["aiken_ci_low"], df["aiken_ci_high"],
                                                      strict=True)]
    df["flags"] = ["; ".join(f for f, on in (("R14", a), ("R15", b)) if on)
                   for a, b in zip(df["r14"], df["r15"], strict=True)]
    cols: list[Col] = [("item_id", "item", "code"), ("n_experts", "experts", "int"),
                       ("n_relevant", "relevant", "int"), ("i_cvi", "I-CVI", "f2"),
                       ("kappa_text", "kappa* (band)", "f"), ("cvr", "CVR", "f2"),
                       ("cvr_critical", "CVR critical", "f2"),
                       ("cvr_significant", "CVR \u2265 critical", "bool"),
                       ("aiken_v", "Aiken's V", "f2"), ("aiken_ci", f"V {level:.0f}% CI", "f")]
    for aspect in aspects:
        cols += [(f"{aspect}_i_cvi", f"{aspect} I-CVI", "f2"),
                 (f"{aspect}_aiken_v", f"{aspect} V", "f2")]
    cols.append(("flags", "flags", "text"))

    def cell(col: str, v: Any, rec: dict[str, Any]) -> str | None:
        if col in ("kappa_text", "aiken_ci"):
            return f'<td class="num">{_e(v)}</td>'
        low = ((col == "i_cvi" and rec.get("r14")) or (col == "cvr" and rec.get("r15"))
               or (col.endswith("_i_cvi") and not _isna(v) and v < rec.get("i_cvi_min")))
        if low:
            return f'<td class="num"><b>{_e(fmt_value(v, "f2"))}</b></td>'
        return None

    body.append(_table(
        df, cols, cell=cell,
        caption=(f"Expert panel: content validity per item (bold: below the criterion; "
                 f"R14 = I-CVI below {fmt_value(rules.i_cvi_min, 'num')}"
                 + (", 1.00 with \u2264 5 experts" if (df["i_cvi_min"] > rules.i_cvi_min).any()
                    else "")
                 + "; R15 = CVR below its critical value)"),
        row_class=lambda rec: "conv-discordance" if rec.get("r14") or rec.get("r15") else ""))
    notes = [
        f"I-CVI = share of experts rating the item relevant (criterion &ge; "
        f"{_e(fmt_value(rules.i_cvi_min, 'num'))} with six or more experts, 1.00 with five or "
        "fewer; Lynn 1986, Polit &amp; Beck 2006). kappa* = I-CVI adjusted for chance "
        "agreement (Polit, Beck &amp; Owen 2007: excellent &gt; .74, good .60\u2013.74, fair "
        ".40\u2013.59, poor &lt; .40). CVR = (n<sub>e</sub> \u2212 N/2)/(N/2) (Lawshe 1975), "
        "compared with its exact one-tailed binomial critical value at "
        f"&alpha; = {_e(fmt_value(opts.get('alpha'), 'num'))} (Ayre &amp; Scally 2014)"
        + (f": {_e(crit_txt)}" if crit_txt else "") + ". Aiken's V = \u03a3(r \u2212 "
        f"{_e(lo)})/(N({_e(hi)} \u2212 {_e(lo)})) with the Penfield &amp; Giacobbi (2004) score "
        f"interval ({level:.0f}%).",
        "For check-box and choice items the panel is supporting evidence: R14, R15 and R17 "
        "are listed in the joint display but do not change a proposed decision. For scale "
        "items (Likert, binary) they are part of the item's psychometric evidence."]
    body.append("<p class=note>" + " ".join(notes) + "</p>")
    body.append(_panel_comments(r))
    return "".join(body)


def _phi(z: float) -> float:
    """Standard normal distribution function (for the level of Aiken's interval)."""
    return 0.5 * (1.0 + math.erf(float(z) / math.sqrt(2.0)))


def _panel_comments(r: Any) -> str:
    """The experts' comments, in the instrument's item order."""
    p = r.panel
    data = getattr(p, "data", None)
    if not isinstance(data, pd.DataFrame):
        return ""
    text_cols = [c for c in data.columns if str(c).lower() in ("comment", "comments", "note",
                                                                "notes")]
    if not text_cols:
        return ""
    order = {it.id: i for i, it in enumerate(r.instrument.items)}
    rows = []
    for rec in data.to_dict(orient="records"):
        for c in text_cols:
            t = rec.get(c)
            if not _isna(t) and str(t).strip():
                rows.append((order.get(str(rec["item_id"]), len(order)), str(rec["item_id"]),
                             str(rec["expert"]), str(t).strip()))
    if not rows:
        return ""
    rows.sort(key=lambda x: (x[0], x[1]))
    items = "".join(f'<li><span class="code">{_e(i)}</span> ({_e(e)}): {_e(t)}</li>'
                    for _, i, e, t in rows)
    return f"<h3>Experts' comments ({len(rows)})</h3><ul>{items}</ul>"


def _agreement(a: Any) -> str:
    """Inter-coder agreement: overall and per code, with how it was computed."""
    from instrval.report.agreement import SCOPE_LABELS

    level = f"{100 * a.confidence:g}%"
    two = len(a.coders) == 2
    ov = a.overall.copy()
    ov["scope_label"] = ov["scope"].map(lambda v: SCOPE_LABELS.get(v, v))
    ov["kappa_ci"] = [_ci(lo, hi, "f3") for lo, hi in zip(ov["cohen_ci_low"],
                                                           ov["cohen_ci_high"], strict=True)]
    cols: list[Col] = [("scope_label", "scope", "text"), ("n_units", "units compared", "int"),
                       ("percent_agreement", "percent agreement", "pct1")]
    if two:
        cols += [("cohen_kappa", "Cohen's kappa", "f3"), ("kappa_ci", f"{level} CI", "f")]
    cols += [("fleiss_kappa", "Fleiss' kappa", "f3"),
             ("krippendorff_alpha", "Krippendorff's alpha", "f3")]

    def ci_cell(col: str, v: Any, rec: dict[str, Any]) -> str | None:
        return f'<td class="num">{_e(v)}</td>' if col == "kappa_ci" else None

    coders = ", ".join(a.coders)
    parts = [f"<h3>Inter-coder agreement</h3><p>{a.n_segments:,} of {a.n_segments_total:,} "
             f"segments ({fmt_value(a.n_segments / a.n_segments_total, 'pct1')}) were coded "
             f"independently by {len(a.coders)} coders ({_e(coders)}).</p>"]
    parts.append(_table(ov, cols, caption="Inter-coder agreement, overall", cell=ci_cell))
    if len(a.codes):
        pc = a.codes.copy()
        pc["kappa_ci"] = [_ci(lo, hi, "f3") for lo, hi in zip(pc["cohen_ci_low"],
                                                               pc["cohen_ci_high"],
                                                               strict=True)]
        ccols: list[Col] = [("code", "code", "code"),
                            ("n_segments_coded", "segments with the code", "int"),
                            ("percent_agreement", "percent agreement", "pct1")]
        if two:
            ccols += [("cohen_kappa", "Cohen's kappa", "f3"),
                      ("kappa_ci", f"{level} CI", "f")]
        ccols += [("fleiss_kappa", "Fleiss' kappa", "f3"),
                  ("krippendorff_alpha", "Krippendorff's alpha", "f3")]
        parts.append(_table(pc, ccols, caption=f"Inter-coder agreement per code (codes applied "
                                               f"to at least {a.min_segments} double-coded "
                                               "segments; lowest alpha first)",
                            cell=ci_cell))
    omitted = a.n_codes_omitted
    parts.append(
        "<p class=note>How it was computed: only segments that two or more coders coded are "
        "compared. Per code, each double-coded segment is one unit, coded 1 by a coder who "
        "applied the code and 0 by a coder who coded the segment otherwise. <i>Pooled</i> "
        "stacks these units for all codes (segment \u00d7 code); its percent agreement "
        "counts shared absences and is therefore high. <i>Assigned codes</i> takes the set "
        "of codes a coder gave a segment as one category (agreement = the same set). "
        + (f"Cohen's kappa (unweighted) with a {level} normal-theory interval from the "
           "large-sample variance of Fleiss, Cohen &amp; Everitt (1969), clipped to [-1, 1], "
           "as psych::cohen.kappa; " if two else "")
        + "Fleiss' kappa (1971); Krippendorff's alpha, nominal (2011). "
        + (f"{omitted} code(s) applied to fewer than {a.min_segments} double-coded segments "
           "are not listed; every code is in results.json and tables/coder_agreement.csv. "
           if omitted else "")
        + "</p>")
    return "".join(parts)


def _qualitative(r: Any) -> str:
    q = r.qual
    parts = []
    c = r.coding
    n_seg = int(c.segments["segment_id"].nunique()) if len(c.segments) else 0
    parts.append(f"<p>{c.n_accepted:,} coding rows (one per segment and code) for {n_seg:,} "
                 f"distinct segments from {len(c.participants)} participants"
                 + (f" by {len(c.coders)} coder(s)" if c.coders else "")
                 + f"; {c.n_quarantined:,} coding row(s) quarantined. The evidence per item "
                 "uses one coder's codings per segment (the coder with the most segments); "
                 "second codings serve the agreement check only.</p>")
    if r.agreement_summary is not None:
        parts.append(_agreement(r.agreement_summary))
    parts.append(_table(q.items, [("item_id", "item", "code"),
                                  ("participants", "participants", "int"),
                                  ("segments", "segments", "int"), ("supports", "supports", "int"),
                                  ("challenges", "challenges", "int"),
                                  ("wording", "wording", "int"), ("other", "other", "int"),
                                  ("representative", "representative", "bool")],
                        caption="Qualitative evidence per item",
                        row_class=lambda rec: "conv-discordance"
                        if rec.get("representative") is False else ""))
    if len(q.missing_concepts):
        parts.append(_table(q.missing_concepts, [
            ("construct_id", "construct", "code"), ("code", "code", "code"),
            ("theme", "theme", "text"), ("participants", "participants", "int"),
            ("segments", "segments", "int"), ("example_quote", "example", "quote")],
            caption="Concepts no item covers (missing concepts)"))
    themes = getattr(q, "themes", None)
    if isinstance(themes, pd.DataFrame) and len(themes):
        heads = {"construct_id": "construct", "item_id": "item"}
        cols = [(col, heads.get(col, col.replace("_", " ")),
                 "int" if pd.api.types.is_integer_dtype(themes[col])
                 else "code" if col in ("construct_id", "item_id", "codes") else "text")
                for col in themes.columns[:6]]
        parts.append(_table(themes, cols, caption="Themes"))
    return "".join(parts)


def _joint(r: Any) -> str:
    jd = r.joint.items
    parts = [_legend()]
    pct = "pct"

    def rel_cell(rec: dict[str, Any]) -> str:
        v = rec.get("relevance_ratio")
        if _isna(v):
            return "\u2013"
        lo, hi = rec.get("relevance_ci_low"), rec.get("relevance_ci_high")
        s = fmt_value(v, pct)
        if not _isna(lo) and not _isna(hi):
            s += f" [{fmt_value(lo, pct)}, {fmt_value(hi, pct)}]"
        return s

    def quant(rec: dict[str, Any]) -> str:
        bits = []
        if not _isna(rec.get("quant_verdict")) and rec.get("quant_strand") == "psychometric":
            bits.append(str(rec["quant_verdict"]))
        if not _isna(rec.get("difficulty")):
            bits.append(f"difficulty p {fmt_value(rec['difficulty'], 'f2')}")
        if not _isna(rec.get("alpha_if_deleted")):
            bits.append(f"\u03b1 if del. {fmt_value(rec['alpha_if_deleted'], 'f3')}")
        if not _isna(rec.get("r_drop")):
            bits.append(f"r.drop {fmt_value(rec['r_drop'], 'f2')}")
        if not _isna(rec.get("loading")):
            bits.append(f"loading {fmt_value(rec['loading'], 'f2')} ({_e(rec['loading_factor'])})")
        if not _isna(rec.get("cross_loading")):
            bits.append(f"cross {fmt_value(rec['cross_loading'], 'f2')}")
        if rec.get("dif_class") in ("B", "C"):
            bits.append(f"DIF class {rec['dif_class']}")
        if "R24-irt-misfit" in str(rec.get("supporting_rules") or ""):
            bits.append(f"{rec.get('irt_model')} misfit")
        nb = "\u00a0"  # the panel's bits break only between label and comparison
        if not _isna(rec.get("i_cvi")):
            bits.append(f"I-CVI{nb}{fmt_value(rec['i_cvi'], 'f2')}")
        if not _isna(rec.get("cvr")):
            crit = rec.get("cvr_critical")
            below = not _isna(crit) and rec["cvr"] < crit
            bits.append(f"CVR{nb}{fmt_value(rec['cvr'], 'f2')}" + (
                f" <{nb}crit.{nb}{fmt_value(crit, 'f2')}" if below else ""))
        html_bits = [_e(b) for b in bits]
        if not _isna(rec.get("clarity_i_cvi")):
            html_bits.append("clarity <span class=nowrap>I-CVI "
                             f"{_e(fmt_value(rec['clarity_i_cvi'], 'f2'))}</span>")
        return "<br>".join(html_bits) or "\u2013"

    def qualc(rec: dict[str, Any]) -> str:
        n = rec.get("qual_participants")
        if _isna(n):
            return "\u2013"
        if rec.get("row_type") == "missing_concept":
            return _e(f"{int(n)} participants")
        rep = rec.get("representative")
        verdict = ("representative" if rep is True else "not representative" if rep is False
                   else "no verdict")
        counts = "/".join(str(int(rec.get(k) or 0)) for k in
                          ("qual_supports", "qual_challenges", "qual_wording", "qual_other"))
        return (f"{_e(verdict)}<br>{int(n)} participants<br>"
                f'<span class="nowrap">S/C/W/O {_e(counts)}</span>')

    has_quant = any(quant(rec) != "\u2013" for rec in jd.to_dict(orient="records"))
    recs = jd.to_dict(orient="records")
    has_rel = any(not _isna(rec.get("relevance_ratio")) for rec in recs)
    has_scale = any(rec.get("quant_strand") == "psychometric" for rec in recs)
    has_qual = any(not _isna(rec.get("qual_participants")) for rec in recs)
    heads = ["item"] + (["relevance R [95% CI]"] if has_rel else []) \
        + ([("psychometric evidence" if has_scale else "other quantitative")]
           if has_quant else []) \
        + (["qualitative", "quotes"] if has_qual else []) + ["convergence", "decision and rules"]
    ncol = len(heads)
    dense = has_quant and has_qual  # both evidence columns: narrower quotes
    rows = [f'<table class="joint{" dense" if dense else ""}"><caption>Joint display (S/C/W/O: segments supporting, '
            "challenging, suggesting wording, other)</caption><thead><tr>"
            + "".join(f'<th{" class=num" if h.startswith("relevance") else ""}>{_e(h)}</th>'
                      for h in heads) + "</tr></thead><tbody>"]
    labels = {c.id: c.label for c in r.instrument.constructs}
    current = object()
    for rec in jd.to_dict(orient="records"):
        cid = rec.get("construct_id")
        if cid != current:
            current = cid
            name = f"{labels.get(cid, cid)} ({cid})" if cid else "Not tied to a construct"
            rows.append(f'<tr class="group"><th colspan="{ncol}">{_e(name)}</th></tr>')
        conv = rec.get("convergence") or ""
        if rec["row_type"] == "item":
            name = (f'<span class="code">{_e(rec["item_id"])}</span><br>'
                    f'<span class="muted">{_e(rec["label"])}</span>')
        else:
            name = (f'<i>missing concept</i><br><span class="code">{_e(rec["concept"])}</span>'
                    f'<br><span class="muted">{_e(rec["label"])}</span>')
        rules_html = "<br>".join(_e(x) for x in str(rec.get("rules_fired") or "").split(";")
                                 if x)
        prop, final = rec.get("proposed"), rec.get("decision")
        dec = f"proposed {_badge(prop)}"
        if rec.get("decided_by") == "expert":
            dec += f"<br>expert {_badge(rec.get('expert_decision'))}"
        elif rec.get("open_question"):
            dec += f"<br>now {_badge(final)} <b>open question</b>"
        quotes = "".join(f"<p>{_e(q)}</p>" for q in str(rec.get("quotes") or "").split("\n")
                         if q)
        cells = [f"<td>{name}</td>"]
        if has_rel:
            cells.append(f'<td class="num">{_e(rel_cell(rec))}</td>')
        if has_quant:
            cells.append(f"<td>{quant(rec)}</td>")
        if has_qual:
            cells += [f"<td>{qualc(rec)}</td>", f'<td class="quote">{quotes}</td>']
        cells += [f'<td class="conv">{_e(conv)}</td>',
                  f'<td class="dec">{dec}<div class="rules">{rules_html}</div></td>']
        rows.append(f'<tr class="conv-{_e(conv)}">' + "".join(cells) + "</tr>")
    rows.append("</tbody></table>")
    parts.append("".join(rows))
    note = ("Rule ids are explained in the appendix (Decision rules). Full-precision values: "
            "tables/joint_display.csv.")
    if has_scale:
        note += (" For scale items the quantitative strand is the item's psychometric "
                 "evidence: sound when no item flag fires (alpha-if-deleted gain, r.drop, "
                 "loading on its own factor, cross-loading, expert-panel indices), a problem "
                 "otherwise; it is compared with the qualitative verdict as relevance is for "
                 "check-box items.")
    parts.append(f"<p class=note>{_e(note)}</p>")
    return "".join(parts)


def _decisions(r: Any) -> str:
    jd = r.joint.items
    parts = []
    cols: list[Col] = [("item_id", "item", "code")]
    if bool((jd["row_type"] != "item").any()):
        cols.append(("concept", "concept", "code"))
    cols += [("proposed", "proposed", "text"), ("reason", "reason (rules)", "text")]
    if bool((jd["decided_by"] == "expert").any()):
        cols += [("expert_decision", "expert", "text"), ("expert_rationale", "rationale", "text"),
                 ("expert_who", "who", "text"), ("expert_date", "date", "text")]
    cols.append(("decision", "decision", "text"))
    parts.append(_table(jd, cols, caption="Decisions (proposed by the rules; the experts' "
                                          "decision overrides where recorded)",
        cell=lambda col, v, rec: f"<td>{_badge(v)}</td>" if col in ("proposed", "decision")
        else None,
        row_class=lambda rec: f"conv-{rec.get('convergence')}"))
    oq = r.joint.open_questions()
    if len(oq):
        items = "".join(
            f"<li><span class=code>{_e(rec['item_id'] or 'concept ' + str(rec['concept']))}"
            f"</span> ({_e(rec['convergence'])}): {_e(rec['reason'])}</li>"
            for rec in oq.to_dict(orient="records"))
        parts.append(f'<div class="open"><h3>Open questions ({len(oq)})</h3>'
                     f"<p>No expert decision is recorded for these rows; the rules' proposal "
                     f"stands until the experts decide.</p><ul>{items}</ul></div>")
    else:
        parts.append("<p>No open questions: every discordance, proposed rewording and "
                     "candidate item has an expert decision.</p>")
    return "".join(parts)


def _cosmin(r: Any) -> str:
    t = r.cosmin.table
    colours = {"sufficient": "#2e7d32", "insufficient": "#b3261e", "indeterminate": "#666"}
    return _table(t, [("property", "property", "text"), ("aspect", "aspect", "text"),
                      ("rating", "rating", "text"), ("evidence", "evidence", "text"),
                      ("criterion", "criterion", "text")],
                  caption="Evidence summary structured like the COSMIN criteria",
                  cell=lambda col, v, rec: (
                      f'<td><span class="badge" style="background:{colours.get(v, "#666")}">'
                      f"{_e(v)}</span></td>") if col == "rating" else None) + _properties(r)


_HYP_COLS: list[Col] = [("id", "hypothesis", "code"), ("scale", "scale", "code"),
                        ("other", "with", "text"), ("n", "n", "int"),
                        ("statistic", "statistic", "text"), ("estimate", "estimate", "f3"),
                        ("ci_low", "CI low", "f3"), ("ci_high", "CI high", "f3"),
                        ("expected", "expected", "text"), ("holds", "holds", "bool"),
                        ("description", "description", "text")]


def _properties(r: Any) -> str:
    """Details behind the COSMIN rows of the other measurement properties."""
    parts = []
    sc = r.scores
    if sc is not None:
        parts.append(f"<p>Scale scores: {_e(sc.rule)}.</p>")
    rt = r.retest
    if rt is not None:
        parts.append(_table(rt.table, [
            ("scale", "scale", "code"), ("n", "n", "int"),
            ("icc_agreement", "ICC(A,1)", "f3"), ("icc_agreement_ci_low", "CI low", "f3"),
            ("icc_agreement_ci_high", "CI high", "f3"), ("sem_agreement", "SEM", "f3"),
            ("sdc_individual", "SDC", "f3"), ("sdc_group", "SDC group", "f3"),
            ("mean_diff", "mean difference", "f3"), ("loa_low", "LoA low", "f3"),
            ("loa_high", "LoA high", "f3"), ("mic", "MIC", "f3")],
            caption=f"Test-retest (occasions {rt.times[0]} and {rt.times[1]}): "
                    "reliability and measurement error"))
    hy = r.hypotheses
    if hy is not None:
        parts.append(_table(hy.table, _HYP_COLS,
                            caption="Hypotheses testing for construct validity"))
    crit = r.criterion
    if crit:
        parts.append(_table(pd.concat([c.to_frame() for c in crit], ignore_index=True), [
            ("scale", "scale", "code"), ("criterion", "criterion", "code"),
            ("statistic", "statistic", "text"), ("n", "n", "int"),
            ("estimate", "estimate", "f3"), ("ci_low", "CI low", "f3"),
            ("ci_high", "CI high", "f3"), ("sufficient", "sufficient", "bool")],
            caption="Criterion validity (gold standard)"))
    rs = r.responsiveness
    if rs is not None:
        parts.append(_table(rs.hypotheses.table, _HYP_COLS,
                            caption=f"Responsiveness: hypotheses about change scores "
                                    f"({rs.n} respondents)"))
    return "".join(parts)


def _revised(r: Any) -> str:
    rev = r.revised
    parts = [f"<p><b>{_e(rev.label)}</b> ({_e(rev.status)}), derived from "
             f"{_e(r.instrument.label)}: {len(rev.items)} items in {len(rev.constructs)} "
             f"constructs. File: <span class=code>{_e(rev.id)}-{_e(rev.version)}.yaml</span>."
             "</p>"]
    rows = []
    changes = {e.item: e for e in rev.changelog if e.version == rev.version}
    for c in rev.constructs:
        for it in c.items:
            e = changes.get(it.id)
            rows.append({"construct_id": c.id, "item_id": it.id, "label": it.label,
                         "action": e.action if e else ""})
    parts.append(_table(pd.DataFrame(rows), [("construct_id", "construct", "code"),
                                             ("item_id", "item", "code"),
                                             ("label", "label", "text"),
                                             ("action", "change", "text")],
                        caption=f"Items of {rev.label}"))
    cl = pd.DataFrame([{"item": e.item, "action": e.action, "reason": e.reason,
                        "evidence": e.evidence} for e in changes.values()
                       if e.action != "kept"])
    if len(cl):
        parts.append(_table(cl, [("item", "item", "code"), ("action", "action", "text"),
                                 ("reason", "reason", "text"), ("evidence", "evidence", "text")],
                            caption="Changelog (changes only; kept items are listed in "
                                    "results.json and the instrument file)"))
    if r.diff is not None:
        df = r.diff.to_frame()
        if len(df):
            parts.append(_table(df, [(c, c.replace("_", " "), "code" if c in ("item_id",)
                                      else "text") for c in df.columns],
                                caption=f"Diff {r.instrument.label} \u2192 {rev.label}"))
    return "".join(parts)


def _quality(r: Any) -> str:
    from instrval.report.results_json import data_quality

    dq = data_quality(r)
    parts = []
    rows = []
    for src, d in dq.items():
        reasons = d.get("reasons") or {}
        rows.append({"source": src, "read": d.get("read"), "accepted": d.get("accepted"),
                     "quarantined": d.get("quarantined"),
                     "reasons": ", ".join(f"{k} ({v})" for k, v in reasons.items()) or "\u2013"})
    if rows:
        parts.append(_table(pd.DataFrame(rows), [
            ("source", "input", "text"), ("read", "rows read", "int"),
            ("accepted", "accepted", "int"), ("quarantined", "quarantined", "int"),
            ("reasons", "reasons (count)", "text")], caption="Quarantine"))
        parts.append("<p class=note>Every quarantined row, with its reason, is in "
                     "<span class=code>quarantine.csv</span>; accepted + quarantined = read."
                     "</p>")
    else:
        parts.append("<p>No tabular inputs were read.</p>")
    return "".join(parts)


def _appendix(r: Any) -> str:
    from instrval.integrate.decisions import rule_catalogue

    cat = rule_catalogue(r.rules)
    return _table(cat, [("id", "rule id", "code"), ("statement", "statement", "text"),
                        ("thresholds", "thresholds", "text"),
                        ("decisive", "decisive", "bool")],
                  caption="Decision rules: each rule's id, what it states and the thresholds "
                          "it used (the values of this report)")


def _group_sections(r: Any) -> list[tuple[str, str, str]]:
    """DIF, item response theory and measurement invariance, when computed."""
    from instrval.report import groups as g

    out = []
    if getattr(r, "dif", None):
        out.append(_section("dif", "Differential item functioning", g.dif_html(r)))
    if getattr(r, "irt", None):
        out.append(_section("irt", "Item response theory", g.irt_html(r)))
    if getattr(r, "invariance", None) is not None:
        out.append(_section("invariance", "Measurement invariance", g.invariance_html(r)))
    return out


def render_html(result: Any) -> str:
    """The report as one self-contained HTML page (no scripts, no external resources)."""
    r = result
    st = r.study
    title = st.title or f"Validation report: {r.instrument.title}"
    sections = [_section("summary", "Summary", _summary(r)),
                _section("methods", "Study design and methods", _methods(r))]
    if r.descriptives is not None and len(r.descriptives.items):
        sections.append(_section("descriptives", "Item descriptives", _descriptives(r)))
    if r.relevance is not None:
        sections.append(_section("relevance", "Relevance", _relevance(r)))
    if r.reliability:
        sections.append(_section("reliability", "Reliability", _reliability(r)))
    if r.efa is not None or r.cfa is not None or r.parallel is not None:
        sections.append(_section("factor", "Factor analysis", _factor(r)))
    if r.content_validity is not None:
        sections.append(_section("panel", "Expert panel", _content_validity(r)))
    if r.qual is not None:
        sections.append(_section("qualitative", "Qualitative evidence", _qualitative(r)))
    sections += _group_sections(r)
    sections += [
        _section("joint", "Joint display", _joint(r)),
        _section("decisions", "Decisions", _decisions(r)),
        _section("cosmin", "Evidence summary (COSMIN)", _cosmin(r)),
        _section("revised", "The revised instrument", _revised(r)),
        _section("quality", "Data quality", _quality(r)),
        _section("rules", "Appendix: decision rules", _appendix(r)),
    ]
    toc = "".join(f'<li><a href="#{sid}">{_e(t)}</a></li>' for sid, t, _ in sections)
    head = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        "<meta name=\"referrer\" content=\"no-referrer\">"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>")
    authors = f'<p class="subtitle">{_e(", ".join(st.authors))}</p>' if st.authors else ""
    header = (f"<header><h1>{_e(title)}</h1>{authors}<p class=\"subtitle\">"
              f"{_e(r.instrument.label)} \u2192 {_e(r.revised.label)} \u00b7 {_e(r.timestamp)}"
              "</p></header>")
    nav = f'<nav class="toc"><ol>{toc}</ol></nav>'
    body = "".join(s for _, _, s in sections)
    foot = (f"<footer>Generated by instrval {_e(r.software.get('instrval'))}. Every number is "
            "in results.json at full precision; the tables are in tables/ (CSV) and "
            "tables.xlsx.</footer>")
    return head + header + nav + body + foot + "</body></html>\n"
