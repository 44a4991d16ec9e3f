"""``report.html``: one self-contained file, readable on screen and in print.

The page is rendered from Jinja2 templates (``instrval/report/templates``) with
autoescaping on: every value that comes from an input (item labels, quotes, file names,
expert rationales) is escaped when it reaches the page. The only markup passed through
unescaped is the inline SVG drawn by :mod:`instrval.report.svg` (which escapes every text
it draws); the templates mark it with ``|safe`` in one macro, ``figure``. The page has no
scripts, no external fonts, stylesheets or images: CSS is inline. The tables come from
:func:`instrval.report.tables.display_tables` (the same tables the Markdown report shows);
numbers are rounded only when rendered (:func:`instrval.report.format.fmt_value`).
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from typing import Any

import pandas as pd

from instrval.report import svg
from instrval.report.format import fmt_value, is_missing
from instrval.report.tables import display_tables, joint_table

__all__ = ["render_html", "fmt_value", "report_facts"]

CONVERGENCE_COLOURS = {
    "confirmation": ("#e4f2e1", "#2e7d32", "both strands agree"),
    "expansion": ("#e3edf8", "#1f5c99", "they agree; one strand adds information"),
    "discordance": ("#fde4d3", "#b34700", "the strands disagree: for the experts"),
    "silence": ("#eeeeee", "#555555", "one strand has no evidence on the item"),
}
DECISION_COLOURS = {"keep": "#2e7d32", "revise": "#b36b00", "remove": "#b3261e",
                    "add": "#1f5c99", "none": "#666666", "reject": "#666666"}
RATING_COLOURS = {"sufficient": "#2e7d32", "insufficient": "#b3261e", "indeterminate": "#666"}


def _escaped(value: Any) -> Any:
    """Every ``{{ value }}`` of the templates, escaped with :func:`html.escape` (quotes
    too: ``&quot;``, ``&#x27;``). Markup (the output of the templates' own macros and the
    SVG drawings) passes as it is; autoescaping would otherwise escape the rest."""
    from markupsafe import Markup

    if hasattr(value, "__html__"):
        return value
    return Markup(escape(str(value), quote=True))


@lru_cache(maxsize=1)
def environment() -> Any:
    """The Jinja2 environment of the report: the package's templates, autoescaping on."""
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("instrval.report", "templates"),
                      autoescape=True, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, finalize=_escaped)
    env.filters["fmt"] = fmt_value
    env.filters["g"] = lambda v: f"{v:g}"
    env.tests["missing"] = is_missing
    env.globals["decision_colour"] = lambda d: DECISION_COLOURS.get(str(d), "#666")
    env.globals["rating_colour"] = lambda v: RATING_COLOURS.get(v, "#666")
    env.globals["convergence_colours"] = CONVERGENCE_COLOURS
    env.globals["convergence_names"] = tuple(CONVERGENCE_COLOURS)
    return env


def report_facts(r: Any, t: dict[str, Any]) -> dict[str, Any]:
    """What the report's sentences and figures say, beside the tables ``t``."""
    f: dict[str, Any] = {"counts": r.summary()}
    if r.qual is not None:
        f["n_not_representative"] = int((r.qual.items["representative"] == False).sum())  # noqa: E712
    a = r.agreement_summary
    f["pooled_agreement"] = None
    if a is not None and len(a.overall):
        pooled = a.overall.set_index("scope")
        if "pooled" in pooled.index:
            two = len(a.coders) == 2
            f["pooled_agreement"] = (
                "Cohen's kappa" if two else "Krippendorff's alpha",
                pooled.loc["pooled", "cohen_kappa" if two else "krippendorff_alpha"])
    if "panel" in t:
        df = t["panel"].frame
        f["panel_low"] = [str(i) for i, low in zip(df["item_id"], df["r14"], strict=True) if low]
        f["panel_cvr_low"] = int(df["r15"].sum())
        f["aspects"] = list(r.content_validity_aspects or {})
        f["n_unanimous"] = int((df["i_cvi"] == 1.0).sum())
        f["cvr_critical"] = sorted({(int(n), int(c), float(v)) for n, c, v in zip(
            df["n_experts"], df["ne_critical"], df["cvr_critical"], strict=True)
            if not is_missing(c)})
        f["panel_comments"] = _panel_comments(r)
    f["structural_rating"] = None
    if r.cfa is not None or r.cfa_ordinal is not None:
        sv = r.cosmin.table.set_index("aspect")
        if "structural validity" in sv.index:
            f["structural_rating"] = sv.loc["structural validity", "rating"]
    if r.ratings is not None:
        dr = r.ratings.date_range()
        f["date_range"] = ((dr[0].date().isoformat(), dr[1].date().isoformat())
                           if dr else None)
    f["skipped"] = {k: v for k, v in r.analyses.items() if v != "run"}
    if "descriptives" in t:
        items = r.descriptives.items
        f["has_likert"] = bool((items["kind"] == "likert").any())
        f["has_boxes"] = bool((items["kind"] != "likert").any())
        f["distribution_figures"] = _distribution_figures(r)
    if r.relevance is not None:
        labels = {it.id: it.label for it in r.instrument.items}
        rel = r.relevance
        f["relevance_figures"] = [
            svg.relevance_chart(g, threshold=rel.threshold,
                                title=f"{r.instrument.construct(cid).label} ({cid})",
                                labels=labels)
            for cid, g in rel.items.groupby("construct_id", sort=False)]
    if r.reliability:
        f["binary_scales"] = [cid for cid in r.reliability
                              if r.instrument.construct(cid).kind == "binary"]
        f["check_keys"] = [(cid, list(a.check_keys)) for cid, a in r.reliability.items()
                           if a.check_keys]
        f["has_difficulty"] = any(c.key == "difficulty"
                                  for c in t["reliability_items"].columns)
    if r.omega is not None:
        o = r.omega
        note = []
        if o.reversed_items:
            note.append("Items reversed for omega (negative general loading): "
                        + ", ".join(o.reversed_items) + ".")
        note.extend(o.warnings)
        f["omega_note"] = " ".join(note)
    if r.parallel is not None:
        f["scree"] = svg.scree_plot(r.parallel.table, nfact=r.parallel.nfact)
    if r.efa is not None:
        e = r.efa
        f["heatmap"] = svg.loadings_heatmap(e.loadings, factors=e.factors,
                                            title=f"Pattern loadings ({e.method}, {e.rotation})")
        f["factor_constructs"] = _factor_constructs(r)
        fit = e.fit.to_dict() if hasattr(e.fit, "to_dict") else dict(e.fit)
        fmts = {"chi2": "f2", "dof": "num", "df": "num", "rmsea": "f3", "tli": "f3", "bic": "f2"}
        names = {"chi2": "chi-square", "dof": "df", "df": "df", "rmsea": "RMSEA", "tli": "TLI",
                 "bic": "BIC"}
        f["efa_fit"] = [(names[k], fit[k], fmts[k]) for k in fmts
                        if fit.get(k) is not None and not is_missing(fit.get(k))]
    if r.coding is not None:
        seg = r.coding.segments
        f["n_segments"] = int(seg["segment_id"].nunique()) if len(seg) else 0
    if a is not None:
        f["double_coded_share"] = (a.n_segments / a.n_segments_total
                                   if a.n_segments_total else None)
    f.update(_group_facts(r))
    f["joint"] = joint_table(r)
    f["open_questions"] = r.joint.open_questions().to_dict(orient="records")
    return f


def _group_facts(r: Any) -> dict[str, Any]:
    """The sentences and information curves of the DIF, IRT and invariance sections."""
    from instrval.report import groups

    f: dict[str, Any] = {}
    if r.dif:
        f["dif_intro"] = groups.dif_intro(r)
    if r.irt:
        f["irt_intros"] = {cid: groups.irt_intro(cid, res) for cid, res in r.irt.items()}
        curves = {}
        for cid, res in r.irt.items():
            info = res.information.pivot(index="theta", columns="item_id",
                                         values="information")
            info = info[[i for i in res.items["item_id"] if i in info.columns]]
            curves[cid] = svg.information_curves(
                list(info.index), info, title=f"Item and test information: {cid}")
        f["irt_curves"] = curves
    if r.invariance is not None:
        f["invariance_intro"] = groups.invariance_intro(r)
    return f


def _distribution_figures(r: Any) -> list[str]:
    d = r.descriptives
    scales = {c.id: r.instrument.scale_of(c) for c in r.instrument.constructs}
    names = {c.id: c.label for c in r.instrument.constructs}
    out = []
    for cid, g in d.items.groupby("construct_id", sort=False):
        dist = d.distribution[d.distribution["item_id"].isin(g["item_id"])]
        sc = scales.get(cid)
        lab = dict(sc.labels) if sc is not None and sc.labels else (
            {0: "not selected", 1: "selected"} if set(dist["value"]) <= {0, 1} else None)
        # item shares are descriptive: no item is marked (floor/ceiling is about totals)
        g = g.assign(floor_flag=False, ceiling_flag=False)
        out.append(svg.distribution_bars(
            dist, g, title=f"Response distribution: {names.get(cid, cid)} ({cid})",
            labels=lab))
    return out


def _factor_constructs(r: Any) -> str:
    """Which construct each EFA factor mostly carries (``EFAResult.dominant_groups``)."""
    groups = {it: c.id for c in r.instrument.constructs for it in c.item_ids}
    return "; ".join(f"{f} \u2248 {cid}"
                     for f, cid in r.efa.dominant_groups(groups).items())


def _panel_comments(r: Any) -> list[tuple[str, str, str]]:
    """The experts' comments (item, expert, text), in the instrument's item order."""
    data = r.panel.data
    if not isinstance(data, pd.DataFrame):
        return []
    text_cols = [c for c in data.columns
                 if str(c).lower() in ("comment", "comments", "note", "notes")]
    order = {it.id: i for i, it in enumerate(r.instrument.items)}
    rows = []
    for rec in data.to_dict(orient="records"):
        for c in text_cols:
            text = rec.get(c)
            if not is_missing(text) and str(text).strip():
                rows.append((order.get(str(rec["item_id"]), len(order)), str(rec["item_id"]),
                             str(rec["expert"]), str(text).strip()))
    rows.sort(key=lambda x: (x[0], x[1]))
    return [(i, e, text) for _, i, e, text in rows]


#: The sections of the report, in order, as ``(id, title)``; each has its template,
#: ``templates/sections/<id>.html.j2``.
SECTIONS = (("summary", "Summary"), ("methods", "Study design and methods"),
            ("descriptives", "Item descriptives"), ("relevance", "Relevance"),
            ("reliability", "Reliability"), ("factor", "Factor analysis"),
            ("panel", "Expert panel"), ("qualitative", "Qualitative evidence"),
            ("dif", "Differential item functioning"), ("irt", "Item response theory"),
            ("invariance", "Measurement invariance"), ("joint", "Joint display"), ("decisions", "Decisions"),
            ("cosmin", "Evidence summary (COSMIN)"), ("revised", "The revised instrument"),
            ("quality", "Data quality"), ("rules", "Appendix: decision rules"))


def report_sections(r: Any) -> list[tuple[str, str]]:
    """The sections of :data:`SECTIONS` that apply to the result, in order."""
    applies = {
        "descriptives": r.descriptives is not None and len(r.descriptives.items) > 0,
        "relevance": r.relevance is not None,
        "reliability": bool(r.reliability),
        "factor": r.efa is not None or r.cfa is not None or r.parallel is not None,
        "panel": r.content_validity is not None,
        "qualitative": r.qual is not None,
        "dif": bool(r.dif),
        "irt": bool(r.irt),
        "invariance": r.invariance is not None,
    }
    return [(sid, title) for sid, title in SECTIONS if applies.get(sid, True)]


def render_html(result: Any) -> str:
    """The report as one self-contained HTML page (no scripts, no external resources)."""
    r = result
    t = display_tables(r)
    title = r.study.title or f"Validation report: {r.instrument.title}"
    sections = [{"id": sid, "title": title_} for sid, title_ in report_sections(r)]
    return environment().get_template("report.html.j2").render(
        r=r, t=t, rules=r.rules, facts=report_facts(r, t), title=title, sections=sections)
