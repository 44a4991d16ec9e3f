"""``report.md``: the report as Markdown (tables as pipe tables, no plots).

The tables are those of the HTML report (:func:`instrval.report.tables.display_tables`),
rendered as pipe tables; the prose is shorter.
"""

from __future__ import annotations

from typing import Any

from instrval.report.format import fmt_value
from instrval.report.tables import DisplayTable, display_tables

__all__ = ["render_markdown", "md_table"]


def _cell(text: Any) -> str:
    s = str(text).replace("\r", " ").replace("\n", " ")
    s = s.replace("\\", "\\\\").replace("|", "\\|")
    for ch in "<>`*_[]":
        s = s.replace(ch, "\\" + ch)
    return s


def md_table(table: DisplayTable | None) -> str:
    """A pipe table; numbers right-aligned, text escaped (no HTML or links survive)."""
    if table is None or not len(table):
        return "_(none)_\n"
    cols = table.columns
    head = "| " + " | ".join(_cell(c.header) for c in cols) + " |"
    align = "|" + "|".join("--:" if c.numeric else ":--" for c in cols) + "|"
    lines = [head, align]
    for rec in table.records():
        lines.append("| " + " | ".join(
            _cell(fmt_value(rec.get(c.key), "text" if c.fmt == "code" else c.fmt))
            for c in cols) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(result: Any) -> str:
    """The report as Markdown."""
    r = result
    st = r.study
    t = display_tables(r)
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
    if "inputs" in t:
        out += [md_table(t["inputs"])]
    out += ["Analyses: " + "; ".join(f"{k}: {v}" for k, v in r.analyses.items()) + ".", ""]
    out += [md_table(t["rules"])]
    if "descriptives" in t:
        out += ["## Item descriptives", "", md_table(t["descriptives"])]
        if "scale_totals" in t:
            out += [f"Floor and ceiling effects of the scale totals (more than "
                    f"{100 * r.rules.floor_ceiling_max:g}% of the respondents at the lowest or "
                    "highest possible total; Terwee et al. 2007). Item shares above are "
                    "descriptive.", "", md_table(t["scale_totals"])]
    if "relevance" in t:
        out += ["## Relevance", "", f"Cut-off {100 * r.relevance.threshold:g}%.", "",
                md_table(t["relevance"])]
    if "reliability" in t:
        out += ["## Reliability", "",
                f"Criterion: alpha >= {fmt_value(r.rules.alpha_min, 'num')}.", "",
                md_table(t["reliability"])]
        if r.omega is not None:
            o = r.omega
            out += [f"McDonald's omega of all {len(o.schmid)} Likert items ({o.fm}, "
                    f"{o.rotation}, Schmid-Leiman with {o.n_factors} group factors, as "
                    f"psych::omega): omega total = {fmt_value(o.omega_total, 'f3')}, omega "
                    f"hierarchical = {fmt_value(o.omega_hierarchical, 'f3')}, omega limit = "
                    f"{fmt_value(o.omega_limit, 'f3')}, ECV = {fmt_value(o.ecv, 'f3')}.", "",
                    md_table(t["omega_groups"])]
        out += ["Item-total statistics (after reverse keying):", "",
                md_table(t["reliability_items"])]
    if r.efa is not None or "cfa_fit" in t:
        out += ["## Factor analysis", ""]
    if r.efa is not None:
        e = r.efa
        out += [f"EFA: {e.method}, {e.rotation}, {e.n_factors} factor(s) on "
                f"{e.corr} correlations"
                + (f"; parallel analysis suggests {r.parallel.nfact} factor(s)"
                   if r.parallel else "") + "."
                + (f" KMO MSA = {fmt_value(r.kmo.msa, 'f3')}; Bartlett chi-square = "
                   f"{fmt_value(r.bartlett.chi2, 'f2')}, df = "
                   f"{fmt_value(r.bartlett.df, 'num')}, p "
                   + ("< .001" if r.bartlett.pvalue < 0.001
                      else "= " + fmt_value(r.bartlett.pvalue, "p")) + "."
                   if r.kmo is not None and r.bartlett is not None else ""),
                "", md_table(t["efa_loadings"])]
    if "cfa_fit" in t:
        out += ["CFA (the constructs as correlated factors):", "", md_table(t["cfa_fit"])]
    if "panel" in t:
        cv = r.content_validity
        sc = cv.scale
        lines = [f"{sc.get('n_experts')} experts; S-CVI/Ave = "
                 f"{fmt_value(sc.get('s_cvi_ave'), 'f3')}, S-CVI/UA = "
                 f"{fmt_value(sc.get('s_cvi_ua'), 'f3')}."]
        for a, res in r.content_validity_aspects.items():
            lines.append(f"{_cell(a.capitalize())}: S-CVI/Ave = "
                         f"{fmt_value(res.scale.get('s_cvi_ave'), 'f3')}, S-CVI/UA = "
                         f"{fmt_value(res.scale.get('s_cvi_ua'), 'f3')}.")
        out += ["## Expert panel", "", " ".join(lines), "", md_table(t["panel"]),
                f"R14: I-CVI below {r.rules.i_cvi_min:g} (1.00 with five or fewer experts); "
                "R15: CVR below its critical value (Ayre & Scally 2014). Supporting evidence: "
                "the panel does not change a proposed decision.", ""]
    if r.qual is not None:
        out += ["## Qualitative evidence", "", md_table(t["qualitative_items"])]
        a = r.agreement_summary
        if "agreement_overall" in t:
            out += [f"Inter-coder agreement: {a.n_segments:,} of {a.n_segments_total:,} "
                    f"segments coded independently by {', '.join(a.coders)}.", "",
                    md_table(t["agreement_overall"])]
            if "agreement_codes" in t:
                out += [f"Per code (applied to >= {a.min_segments} double-coded segments; "
                        f"{a.n_codes_omitted} rarer code(s) in results.json):", "",
                        md_table(t["agreement_codes"])]
        if "missing_concepts" in t:
            out += ["Missing concepts:", "", md_table(t["missing_concepts"])]
    out += _groups_md(r, t)
    out += _joint_md(r)
    out += ["## Decisions", "", md_table(t["decisions"])]
    oq = r.joint.open_questions()
    out += [f"### Open questions ({len(oq)})", ""]
    out += [f"- {_cell(x['item_id'] or 'concept ' + str(x['concept']))} "
            f"({x['convergence']}): {_cell(x['reason'])}" for x in oq.to_dict(orient="records")]
    out += ["", "## Evidence summary (COSMIN)", "", md_table(t["cosmin"])]
    if r.scores is not None:
        out += ["", f"Scale scores: {_cell(r.scores.rule)}.", ""]
    for name in ("retest", "hypotheses", "criterion", "responsiveness"):
        if name in t:
            out += ["", f"### {_cell(t[name].caption)}", "", md_table(t[name])]
    rev = r.revised
    out += ["## The revised instrument", "",
            f"{_cell(rev.label)} ({rev.status}), derived from {_cell(r.instrument.label)}: "
            f"{len(rev.items)} items. File `{rev.id}-{rev.version}.yaml`.", ""]
    if "changes" in t:
        out += [md_table(t["changes"])]
    if r.diff is not None:
        out += ["### Diff", "", r.diff.to_markdown(), ""]
    out += ["## Data quality", "", md_table(t["quality"])]
    out += ["", f"_Generated by instrval {r.software.get('instrval')}._", ""]
    return "\n".join(out)


def _groups_md(r: Any, t: dict[str, DisplayTable]) -> list[str]:
    """DIF, item response theory and measurement invariance, when computed."""
    from instrval.report import groups

    out: list[str] = []
    if "dif" in t:
        out += ["## Differential item functioning", "", _cell(groups.dif_intro(r)), "",
                md_table(t["dif"])]
    if r.irt:
        out += ["## Item response theory", ""]
        for cid, res in r.irt.items():
            out += [_cell(groups.irt_intro(cid, res)), "", md_table(t[f"irt_{cid}"])]
    if "invariance" in t:
        out += ["## Measurement invariance", "", _cell(groups.invariance_intro(r)), "",
                md_table(t["invariance"])]
    return out


def _joint_md(r: Any) -> list[str]:
    """The joint display as one pipe table (the cells of the HTML report's joint display)."""
    from instrval.report.tables import joint_table

    jt = joint_table(r)
    heads = jt.headers
    lines = ["| " + " | ".join(_cell(h) for h in heads) + " |",
             "|" + "|".join("--:" if h.startswith("relevance") else ":--" for h in heads) + "|"]
    for row in jt.rows:
        rec = row["rec"]
        name = (str(rec["item_id"]) if rec["row_type"] == "item"
                else f"missing concept {rec['concept']}")
        cells = [f"{name}: {rec['label']}"]
        if jt.has_relevance:
            cells.append(row["relevance"])
        if jt.has_quant:
            bits = list(row["quant"]) + ([f"clarity {row['clarity']}"] if row["clarity"] else [])
            cells.append("; ".join(bits) or "\u2013")
        if jt.has_qual:
            qual = list(row["qual"]) + ([row["qual_counts"]] if row["qual_counts"] else [])
            cells += ["; ".join(qual) or "\u2013", " / ".join(row["quotes"])]
        dec = f"proposed {rec.get('proposed')}"
        if rec.get("decided_by") == "expert":
            dec += f"; expert {rec.get('expert_decision')}"
        elif rec.get("open_question"):
            dec += f"; now {rec.get('decision')} (open question)"
        cells += [rec.get("convergence") or "", dec + (
            f" ({', '.join(row['rules'])})" if row["rules"] else "")]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return ["## Joint display", "",
            "Convergence: confirmation (both strands agree), expansion (they agree and one "
            "adds information), discordance (they disagree), silence (one strand has no "
            "evidence).", "", "\n".join(lines) + "\n"]
