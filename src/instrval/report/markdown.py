"""``report.md``: the report as Markdown (tables as pipe tables, no plots)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from instrval.report.html import (
    _ci,
    cfa_fit_frame,
    fmt_value,
    panel_frame,
    scale_reliability_frame,
)

__all__ = ["render_markdown", "md_table", "md_cell"]


def _cell(text: Any) -> str:
    s = str(text).replace("\r", " ").replace("\n", " ")
    s = s.replace("\\", "\\\\").replace("|", "\\|")
    for ch in "<>`*_[]":
        s = s.replace(ch, "\\" + ch)
    return s


#: A text as one Markdown table cell or line (markup and line breaks escaped).
md_cell = _cell


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
                     [("rule", "rule", "code"), ("value", "value", "num"),
                      ("default", "default", "num"), ("source", "source", "text")])]
    if r.descriptives is not None:
        items = r.descriptives.items.copy()
        boxes = items["kind"] != "likert"
        cols = [("item_id", "item", "code"), ("n", "answers", "int"),
                ("missing_share", "missing", "pct1"), ("mean", "mean", "f2"), ("sd", "SD", "f2")]
        if not bool(boxes.all()):
            for col in ("floor_share", "ceiling_share"):
                items[col] = items[col].astype(object).where(~boxes, None)
            cols += [("floor_share", "lowest option", "pct1"),
                     ("ceiling_share", "highest option", "pct1")]
        out += ["## Item descriptives", "", md_table(items, cols)]
        sc = r.joint.scales
        if sc is not None and not sc.empty and not sc["floor_share"].isna().all():
            sc = sc.assign(flag=["R16" if "R16" in str(v) else "" for v in sc["rules_fired"]])
            out += [f"Floor and ceiling effects of the scale totals (more than "
                    f"{100 * r.rules.floor_ceiling_max:g}% of the respondents at the lowest or "
                    "highest possible total; Terwee et al. 2007). Item shares above are "
                    "descriptive.", "",
                    md_table(sc, [("construct_id", "scale", "code"), ("k", "items", "int"),
                                  ("n", "complete answers", "int"),
                                  ("floor_share", "at lowest total", "pct1"),
                                  ("ceiling_share", "at highest total", "pct1"),
                                  ("flag", "floor or ceiling effect", "text")])]
    if r.relevance is not None:
        out += ["## Relevance", "", f"Cut-off {100 * r.relevance.threshold:g}%.", "",
                md_table(r.relevance.items, [
                    ("item_id", "item", "code"), ("selected", "selected", "int"),
                    ("presented", "presented", "int"), ("ratio", "R", "pct"),
                    ("ci_low", "CI low", "pct"), ("ci_high", "CI high", "pct"),
                    ("relevant", "relevant", "bool")])]
    if r.reliability:
        scale = scale_reliability_frame(r)
        first = next(iter(r.reliability.values()))
        level = f"{100 * first.confidence:g}%"
        cols = [("construct_id", "scale", "code"), ("k", "items", "int"), ("n", "n", "int"),
                ("alpha", "alpha", "f3"), ("ci", f"{level} CI ({str(first.ci_method).capitalize()})", "text"),
                ("std_alpha", "std. alpha", "f3"), ("g6", "G6 (smc)", "f3"),
                ("average_r", "mean r", "f3")]
        if r.omega_scales:
            cols.append(("omega", "omega (1 factor)", "f3"))
        cols.append(("reverse", "reversed items", "text"))
        out += ["## Reliability", "",
                f"Criterion: alpha >= {fmt_value(r.rules.alpha_min, 'num')}.", "",
                md_table(scale, cols)]
        if r.omega is not None:
            o = r.omega
            out += [f"McDonald's omega of all {len(o.schmid)} Likert items ({o.fm}, "
                    f"{o.rotation}, Schmid-Leiman with {o.n_factors} group factors, as "
                    f"psych::omega): omega total = {fmt_value(o.omega_total, 'f3')}, omega "
                    f"hierarchical = {fmt_value(o.omega_hierarchical, 'f3')}, omega limit = "
                    f"{fmt_value(o.omega_limit, 'f3')}, ECV = {fmt_value(o.ecv, 'f3')}.", "",
                    md_table(o.groups.astype({"factor": str}), [
                        ("factor", "factor", "code"), ("total", "omega total", "f3"),
                        ("general", "general factor", "f3"),
                        ("group", "group factor", "f3")])]
        rows = pd.concat([a.items.assign(construct_id=cid,
                                         reversed=a.items["item_id"].isin(a.reverse))
                          for cid, a in r.reliability.items()], ignore_index=True)
        out += ["Item-total statistics (after reverse keying):", "", md_table(rows, [
            ("construct_id", "scale", "code"), ("item_id", "item", "code"),
            ("reversed", "reversed", "bool"), ("mean", "mean", "f2"), ("sd", "SD", "f2"),
            ("r_drop", "r.drop", "f3"), ("r_cor", "r.cor", "f3"),
            ("alpha_if_deleted", "alpha if deleted", "f3")])]
    if r.efa is not None or r.cfa is not None or r.cfa_ordinal is not None:
        out += ["## Factor analysis", ""]
    if r.efa is not None:
        cols = [("item_id", "item", "code")] + [(f, f, "f2") for f in r.efa.factors]
        lo = r.efa.loadings.copy()
        h2 = r.efa.communalities
        lo["h2"] = [float(h2.get(i, float("nan"))) for i in lo["item_id"]]
        out += [f"EFA: {r.efa.method}, {r.efa.rotation}, {r.efa.n_factors} factor(s) on "
                f"{r.efa.corr} correlations"
                + (f"; parallel analysis suggests {r.parallel.nfact} factor(s)"
                   if r.parallel else "") + "."
                + (f" KMO MSA = {fmt_value(r.kmo.msa, 'f3')}; Bartlett chi-square = "
                   f"{fmt_value(r.bartlett.chi2, 'f2')}, df = "
                   f"{fmt_value(r.bartlett.df, 'num')}, p "
                   + ("< .001" if r.bartlett.pvalue < 0.001
                      else "= " + fmt_value(r.bartlett.pvalue, "p")) + "."
                   if r.kmo is not None
                   and r.bartlett is not None else ""),
                "", md_table(lo, [*cols, ("h2", "h2", "f2")])]
    if r.cfa is not None or r.cfa_ordinal is not None:
        cols = [("index", "fit index", "text")]
        if r.cfa is not None:
            cols.append(("ml", "ML", "text"))
        if r.cfa_ordinal is not None:
            cols.append(("wlsmv", "WLSMV (scaled)", "text"))
        cols.append(("criterion", "COSMIN criterion", "text"))
        out += ["CFA (the constructs as correlated factors):", "",
                md_table(cfa_fit_frame(r), cols)]
    if r.content_validity is not None:
        cv = r.content_validity
        sc = cv.scale
        df = panel_frame(r)
        df["kappa_text"] = [f"{fmt_value(k, 'f2')} {b}" if b else fmt_value(k, "f2")
                            for k, b in zip(df["modified_kappa"], df["kappa_band"], strict=True)]
        df["aiken_ci"] = [_ci(lo, hi, "f2") for lo, hi in zip(df["aiken_ci_low"],
                                                              df["aiken_ci_high"], strict=True)]
        df["flags"] = ["; ".join(f for f, on in (("R14", a), ("R15", b)) if on)
                       for a, b in zip(df["r14"], df["r15"], strict=True)]
        aspects = list(r.content_validity_aspects or {})
        cols = [("item_id", "item", "code"), ("n_experts", "experts", "int"),
                ("i_cvi", "I-CVI", "f2"), ("kappa_text", "kappa* (band)", "text"),
                ("cvr", "CVR", "f2"), ("cvr_critical", "CVR critical", "f2"),
                ("aiken_v", "Aiken V", "f2"), ("aiken_ci", "V 95% CI", "text")]
        for a in aspects:
            cols += [(f"{a}_i_cvi", f"{a} I-CVI", "f2"), (f"{a}_aiken_v", f"{a} V", "f2")]
        cols.append(("flags", "flags", "text"))
        lines = [f"{sc.get('n_experts')} experts; S-CVI/Ave = "
                 f"{fmt_value(sc.get('s_cvi_ave'), 'f3')}, S-CVI/UA = "
                 f"{fmt_value(sc.get('s_cvi_ua'), 'f3')}."]
        for a, res in (r.content_validity_aspects or {}).items():
            lines.append(f"{_cell(a.capitalize())}: S-CVI/Ave = "
                         f"{fmt_value(res.scale.get('s_cvi_ave'), 'f3')}, S-CVI/UA = "
                         f"{fmt_value(res.scale.get('s_cvi_ua'), 'f3')}.")
        out += ["## Expert panel", "", " ".join(lines), "", md_table(df, cols),
                f"R14: I-CVI below {r.rules.i_cvi_min:g} (1.00 with five or fewer experts); "
                "R15: CVR below its critical value (Ayre & Scally 2014). Supporting evidence: "
                "the panel does not change a proposed decision.", ""]
    if r.qual is not None:
        out += ["## Qualitative evidence", "", md_table(r.qual.items, [
            ("item_id", "item", "code"), ("participants", "participants", "int"),
            ("supports", "supports", "int"), ("challenges", "challenges", "int"),
            ("wording", "wording", "int"), ("representative", "representative", "bool")])]
        if r.agreement_summary is not None and len(r.agreement_summary.overall):
            a = r.agreement_summary
            two = len(a.coders) == 2
            ov = a.overall.copy()
            ov["kappa_ci"] = [_ci(lo, hi, "f3") for lo, hi in
                              zip(ov["cohen_ci_low"], ov["cohen_ci_high"], strict=True)]
            cols = [("scope", "scope", "text"), ("n_units", "units", "int"),
                    ("percent_agreement", "percent agreement", "pct1")]
            if two:
                cols += [("cohen_kappa", "Cohen's kappa", "f3"),
                         ("kappa_ci", f"{100 * a.confidence:g}% CI", "text")]
            cols += [("fleiss_kappa", "Fleiss' kappa", "f3"),
                     ("krippendorff_alpha", "Krippendorff's alpha", "f3")]
            out += [f"Inter-coder agreement: {a.n_segments:,} of {a.n_segments_total:,} "
                    f"segments coded independently by {', '.join(a.coders)}.", "",
                    md_table(ov, cols)]
            if len(a.codes):
                pc = a.codes.copy()
                pc["kappa_ci"] = [_ci(lo, hi, "f3") for lo, hi in
                                  zip(pc["cohen_ci_low"], pc["cohen_ci_high"], strict=True)]
                out += [f"Per code (applied to >= {a.min_segments} double-coded segments; "
                        f"{a.n_codes_omitted} rarer code(s) in results.json):", "",
                        md_table(pc, [("code", "code", "code"),
                                      ("n_segments_coded", "segments with the code", "int")]
                                 + cols[2:])]
        if len(r.qual.missing_concepts):
            out += ["Missing concepts:", "", md_table(r.qual.missing_concepts, [
                ("construct_id", "construct", "code"), ("code", "code", "code"),
                ("theme", "theme", "text"), ("participants", "participants", "int")])]
    jd = r.joint.items
    out += _group_markdown(r)
    out += ["## Joint display", "",
            "Convergence: confirmation (both strands agree), expansion (they agree and one "
            "adds information), discordance (they disagree), silence (one strand has no "
            "evidence).", "",
            md_table(jd, [("item_id", "item", "code"), ("concept", "concept", "code"),
                          ("relevance_ratio", "R", "pct")]
                     + ([("i_cvi", "I-CVI", "f2"), ("cvr", "CVR", "f2")]
                        if r.content_validity is not None else [])
                     + ([("clarity_i_cvi", "clarity I-CVI", "f2")]
                        if "clarity" in (r.content_validity_aspects or {})
                        else [])
                     + ([("quant_verdict", "item statistics", "text"),
                         ("difficulty", "difficulty p", "f2"), ("r_drop", "r.drop", "f2"),
                         ("loading", "loading", "f2")]
                        if (jd.get("quant_strand") == "psychometric").any() else [])
                     + [("representative", "representative", "bool"),
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
    out += _properties_md(r)
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


def _group_markdown(r: Any) -> list[str]:
    """DIF, item response theory and measurement invariance, when computed."""
    from instrval.report import groups as g

    return g.dif_markdown(r) + g.irt_markdown(r) + g.invariance_markdown(r)


def _properties_md(r: Any) -> list[str]:
    """Details behind the COSMIN rows of the other measurement properties."""
    out: list[str] = []
    hyp = [("id", "hypothesis", "code"), ("scale", "scale", "code"), ("other", "with", "text"),
           ("n", "n", "int"), ("statistic", "statistic", "text"),
           ("estimate", "estimate", "f3"), ("ci_low", "CI low", "f3"),
           ("ci_high", "CI high", "f3"), ("expected", "expected", "text"),
           ("holds", "holds", "bool")]
    sc = r.scores
    if sc is not None:
        out += ["", f"Scale scores: {_cell(sc.rule)}.", ""]
    rt = r.retest
    if rt is not None:
        out += ["", f"### Test-retest (occasions {rt.times[0]} and {rt.times[1]})", "",
                md_table(rt.table, [
                    ("scale", "scale", "code"), ("n", "n", "int"),
                    ("icc_agreement", "ICC(A,1)", "f3"),
                    ("icc_agreement_ci_low", "CI low", "f3"),
                    ("icc_agreement_ci_high", "CI high", "f3"),
                    ("sem_agreement", "SEM", "f3"), ("sdc_individual", "SDC", "f3"),
                    ("sdc_group", "SDC group", "f3"), ("mean_diff", "mean difference", "f3"),
                    ("loa_low", "LoA low", "f3"), ("loa_high", "LoA high", "f3"),
                    ("mic", "MIC", "f3")])]
    hy = r.hypotheses
    if hy is not None:
        out += ["", "### Hypotheses testing for construct validity", "",
                md_table(hy.table, hyp)]
    crit = r.criterion
    if crit:
        out += ["", "### Criterion validity", "",
                md_table(pd.concat([c.to_frame() for c in crit], ignore_index=True), [
                    ("scale", "scale", "code"), ("criterion", "criterion", "code"),
                    ("statistic", "statistic", "text"), ("n", "n", "int"),
                    ("estimate", "estimate", "f3"), ("ci_low", "CI low", "f3"),
                    ("ci_high", "CI high", "f3"), ("sufficient", "sufficient", "bool")])]
    rs = r.responsiveness
    if rs is not None:
        out += ["", f"### Responsiveness ({rs.n} respondents)", "",
                md_table(rs.hypotheses.table, hyp)]
    return out
