"""``report.md``: the report as Markdown (tables as pipe tables, no plots)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from instrval.report.html import fmt_value

__all__ = ["render_markdown", "md_table"]


def _cell(text: Any) -> str:
    s = str(text).replace("\r", " ").replace("\n", " ")
    s = s.replace("\\", "\\\\").replace("|", "\\|")
    for ch in "<>`*_[]":
        s = s.replace(ch, "\\" + ch)
    return s


def md_table(df: pd.DataFrame, cols: Sequence[tuple[str, str, str]]) -> str:
    """A pipe table; numbers right-aligned, text escaped (no HTML or links survive)."""
    if df is None or not len(df):
        return "_(none)_\n"
    head = "| " + " | ".join(_cell(h) for _, h, _ in cols) + " |"
    align = "|" + "|".join(":--" if f in ("text", "code", "bool") else "--:"
                           for _, _, f in cols) + "|"
    lines = [head, align]
    for rec in df.to_dict(orient="records"):
        cells = []
        for c, _, f in cols:
            v = fmt_value(rec.get(c), "text" if f == "code" else f)
            cells.append(_cell(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(result: Any) -> str:
    """The report as Markdown."""
    r = result
    st = r.study
    c = r.summary()
    title = st.title or f"Validation report: {r.instrument.title}"
    out = [f"# {_cell(title)}", ""]
    if st.authors:
        out += [_cell(", ".join(st.authors)), ""]
    out += [f"{_cell(r.instrument.label)} → {_cell(r.revised.label)} · {_cell(r.timestamp)}",
            "", "## Summary", "",
            f"- Items reviewed: {c['items_reviewed']}",
            f"- Kept: {c['kept']}; revised: {c['revised']}; removed: {c['removed']}; "
            f"added: {c['added']}",
            f"- Items in {_cell(r.revised.label)}: {c['items_after']}",
            f"- Expert decisions: {c['expert_decisions']}; open questions: "
            f"{c['open_questions']}",
            "- Convergence: " + ", ".join(f"{v} {k}" for k, v in c["convergence"].items()),
            ""]
    out += ["## Study design and methods", "",
            f"Seed {st.seed}; software: " + ", ".join(
                f"{k} {v}" for k, v in r.software.items()) + ".", ""]
    inputs = pd.DataFrame([{"role": k, **v} for k, v in r.inputs.items()])
    if len(inputs):
        out += [md_table(inputs, [("role", "input", "text"), ("file", "file", "code"),
                                  ("sha256", "sha256", "code")])]
    out += ["Analyses: " + "; ".join(f"{k}: {v}" for k, v in r.analyses.items()) + ".", ""]
    out += [md_table(pd.DataFrame(st.rules.describe()),
                     [("rule", "rule", "code"), ("value", "value", "text"),
                      ("source", "source", "text")])]
    if r.descriptives is not None:
        out += ["## Item descriptives", "", md_table(r.descriptives.items, [
            ("item_id", "item", "code"), ("n", "answers", "int"),
            ("missing_share", "missing", "pct1"), ("mean", "mean", "f2"), ("sd", "SD", "f2"),
            ("floor_share", "floor", "pct1"), ("ceiling_share", "ceiling", "pct1"),
            ("floor_flag", "floor flag", "bool"), ("ceiling_flag", "ceiling flag", "bool")])]
    if r.relevance is not None:
        out += ["## Relevance", "", f"Cut-off {100 * r.relevance.threshold:g}%.", "",
                md_table(r.relevance.items, [
                    ("item_id", "item", "code"), ("selected", "selected", "int"),
                    ("presented", "presented", "int"), ("ratio", "R", "pct"),
                    ("ci_low", "CI low", "pct"), ("ci_high", "CI high", "pct"),
                    ("relevant", "relevant", "bool")])]
    if r.reliability:
        scale = pd.DataFrame([{"construct_id": cid, "alpha": a.alpha, "ci_low": a.ci_low,
                               "ci_high": a.ci_high, "k": a.k, "n": a.n}
                              for cid, a in r.reliability.items()])
        out += ["## Reliability", "", md_table(scale, [
            ("construct_id", "scale", "code"), ("k", "items", "int"), ("n", "n", "int"),
            ("alpha", "alpha", "f3"), ("ci_low", "CI low", "f3"), ("ci_high", "CI high", "f3")])]
    if r.efa is not None:
        cols = [("item_id", "item", "code")] + [(f, f, "f2") for f in r.efa.factors]
        out += ["## Factor analysis", "",
                f"{r.efa.method}, {r.efa.rotation}, {r.efa.n_factors} factor(s)"
                + (f"; parallel analysis suggests {r.parallel.nfact}" if r.parallel else "")
                + ".", "", md_table(r.efa.loadings, cols)]
    if r.cfa is not None:
        f = r.cfa.fit
        out += [f"CFA: chi2 = {f['chi2']:.2f} (df {f['df']:.0f}), CFI = {f['cfi']:.3f}, "
                f"TLI = {f['tli']:.3f}, RMSEA = {f['rmsea']:.3f}, SRMR = {f['srmr']:.3f}.", ""]
    if r.content_validity is not None:
        out += ["## Expert panel", "", md_table(r.content_validity.items, [
            ("item_id", "item", "code"), ("i_cvi", "I-CVI", "f2"), ("cvr", "CVR", "f2"),
            ("aiken_v", "Aiken V", "f2")])]
    if r.qual is not None:
        out += ["## Qualitative evidence", "", md_table(r.qual.items, [
            ("item_id", "item", "code"), ("participants", "participants", "int"),
            ("supports", "supports", "int"), ("challenges", "challenges", "int"),
            ("wording", "wording", "int"), ("representative", "representative", "bool")])]
        if len(r.qual.missing_concepts):
            out += ["Missing concepts:", "", md_table(r.qual.missing_concepts, [
                ("construct_id", "construct", "code"), ("code", "code", "code"),
                ("theme", "theme", "text"), ("participants", "participants", "int")])]
    jd = r.joint.items
    out += ["## Joint display", "",
            "Convergence: confirmation (both strands agree), expansion (they agree and one "
            "adds information), discordance (they disagree), silence (one strand has no "
            "evidence).", "",
            md_table(jd, [("item_id", "item", "code"), ("concept", "concept", "code"),
                          ("relevance_ratio", "R", "pct"),
                          ("representative", "representative", "bool"),
                          ("quotes", "quotes", "text"),
                          ("convergence", "convergence", "text"),
                          ("proposed", "proposed", "text"), ("rules_fired", "rules", "code"),
                          ("decision", "decision", "text"),
                          ("decided_by", "decided by", "text")])]
    out += ["## Decisions", "", md_table(jd[jd["decided_by"] == "expert"], [
        ("item_id", "item", "code"), ("proposed", "proposed", "text"),
        ("expert_decision", "expert", "text"), ("expert_rationale", "rationale", "text"),
        ("expert_who", "who", "text"), ("expert_date", "date", "text")])]
    oq = r.joint.open_questions()
    out += [f"### Open questions ({len(oq)})", ""]
    out += [f"- {_cell(x['item_id'] or 'concept ' + str(x['concept']))} "
            f"({x['convergence']}): {_cell(x['reason'])}" for x in oq.to_dict(orient="records")]
    out += ["", "## Evidence summary (COSMIN)", "", md_table(r.cosmin.table, [
        ("property", "property", "text"), ("aspect", "aspect", "text"),
        ("rating", "rating", "text"), ("evidence", "evidence", "text")])]
    rev = r.revised
    cl = pd.DataFrame([{"item": e.item, "action": e.action, "reason": e.reason}
                       for e in rev.changelog if e.version == rev.version])
    out += ["## The revised instrument", "",
            f"{_cell(rev.label)} ({rev.status}), derived from {_cell(r.instrument.label)}: "
            f"{len(rev.items)} items. File `{rev.id}-{rev.version}.yaml`.", "",
            md_table(cl, [("item", "item", "code"), ("action", "action", "text"),
                          ("reason", "reason", "text")])]
    if r.diff is not None:
        out += ["### Diff", "", r.diff.to_markdown(), ""]
    from instrval.report.results_json import data_quality

    out += ["## Data quality", ""]
    for src, d in data_quality(r).items():
        reasons = ", ".join(f"{k} ({v})" for k, v in (d.get("reasons") or {}).items())
        out.append(f"- {src}: {d.get('read', '–')} read, {d.get('accepted', '–')} accepted, "
                   f"{d.get('quarantined', 0)} quarantined" + (f" ({reasons})" if reasons
                                                               else ""))
    out += ["", f"_Generated by instrval {r.software.get('instrval')}._", ""]
    return "\n".join(out)
