"""The report's tables as CSV files and one XLSX workbook.

Text cells that a spreadsheet would run as a formula -- those starting with ``=``, ``+``,
``-``, ``@`` (or their full-width forms), a tab or a carriage return, after any leading
spaces -- are neutralised with a leading single quote (OWASP, "CSV injection"); so is every
line inside a cell, and a cell holding a line break of any kind is quoted. Numbers are
written as numbers, at full precision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instrval._jsonable import jsonable_scalar

__all__ = ["neutralise", "neutralise_frame", "report_tables", "write_csv", "csv_text",
           "write_csv_tables", "write_xlsx", "TABLE_ORDER", "Column", "DisplayTable",
           "display_tables"]

#: Characters that make a spreadsheet read a cell as a formula (with the full-width forms
#: that some spreadsheet programs accept too).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")

#: Tables, in the order of the workbook's sheets.
TABLE_ORDER = ("joint_display", "decisions", "open_questions", "relevance", "descriptives",
               "distribution", "reliability", "reliability_items", "efa_loadings",
               "parallel_analysis", "omega", "omega_groups", "cfa_fit", "cfa_loadings",
               "content_validity", "content_validity_aspects", "qualitative_items", "quotes", "missing_concepts",
               "coder_agreement", "cosmin", "scale_scores", "retest", "hypotheses",
               "criterion", "responsiveness", "dif", "irt_items", "invariance", "changelog", "diff", "rules",
               "rule_catalogue", "inputs", "quarantine")


def measurement_tables(result: Any) -> dict[str, pd.DataFrame]:
    """The tables behind the COSMIN rows of the other measurement properties:
    ``scale_scores``, ``retest``, ``hypotheses``, ``criterion``, ``responsiveness``
    (those computed)."""
    t: dict[str, pd.DataFrame] = {}
    if result.scores is not None:
        t["scale_scores"] = result.scores.scales.assign(rule=result.scores.rule)
    if result.retest is not None:
        t["retest"] = result.retest.table.copy()
    if result.hypotheses is not None:
        t["hypotheses"] = result.hypotheses.table.copy()
    if result.criterion:
        t["criterion"] = pd.concat([c.to_frame() for c in result.criterion],
                                   ignore_index=True)
    if result.responsiveness is not None:
        t["responsiveness"] = result.responsiveness.hypotheses.table.copy()
    return t


def neutralise(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with a single quote.

    Every line of a cell is checked (a line break inside a cell can start a new row in
    some CSV readers), and leading spaces are looked through (`` =1+1``).

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("plain"), neutralise(-1.5)
    ('\\'=HYPERLINK("http://x")', 'plain', -1.5)
    >>> neutralise("ok\\r=cmd|' /C calc'!A0")
    "ok\\r'=cmd|' /C calc'!A0"
    """
    if not isinstance(value, str):
        return value
    if "\n" not in value and "\r" not in value:
        return _neutral_line(value)
    parts = _LINE_BREAK.split(value)
    out = "".join(p if i % 2 else _neutral_line(p) for i, p in enumerate(parts))
    return out if out.startswith("'") else _neutral_line(out)


def _neutral_line(line: str) -> str:
    if line.lstrip(" \u3000\u00a0").startswith(_FORMULA_START) or line.startswith(_FORMULA_START):
        return "'" + line
    return line


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell (and column name) neutralised."""
    out = df.copy()
    for c in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c])):
            out[c] = out[c].astype(object).map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def _records(items: Any) -> pd.DataFrame | None:
    if items is None:
        return None
    if isinstance(items, pd.DataFrame):
        return items.copy()
    got = getattr(items, "items", None)
    return got.copy() if isinstance(got, pd.DataFrame) else None


def report_tables(result: Any) -> dict[str, pd.DataFrame]:
    """Every table of the report, by name (see :data:`TABLE_ORDER`)."""
    from instrval.integrate.decisions import rule_catalogue

    t: dict[str, pd.DataFrame] = {}
    jd = result.joint.items
    t["joint_display"] = jd.copy()
    t["decisions"] = jd[["row_type", "item_id", "construct_id", "concept", "label",
                         "convergence", "proposed", "rules_fired", "reason",
                         "expert_decision", "expert_rationale", "expert_who", "expert_date",
                         "new_item_id", "new_label", "new_text", "decision", "decided_by",
                         "open_question"]].copy()
    t["open_questions"] = result.joint.open_questions()[
        ["row_type", "item_id", "concept", "label", "convergence", "proposed", "rules_fired",
         "reason"]]
    if result.relevance is not None:
        t["relevance"] = result.relevance.items.copy()
    if result.descriptives is not None:
        t["descriptives"] = result.descriptives.items.copy()
        t["distribution"] = result.descriptives.distribution.copy()
    if result.reliability:
        t["reliability"] = pd.DataFrame([
            {"construct_id": cid, "alpha": r.alpha, "std_alpha": r.std_alpha, "g6": r.g6,
             "average_r": r.average_r, "n": r.n, "k": r.k, "ci_low": r.ci_low,
             "ci_high": r.ci_high} for cid, r in result.reliability.items()])
        t["reliability_items"] = pd.concat(
            [r.items.assign(construct_id=cid) for cid, r in result.reliability.items()],
            ignore_index=True)
    if result.efa is not None:
        df = result.efa.loadings.copy()
        df["communality"] = np.asarray(result.efa.communalities, dtype=float)
        t["efa_loadings"] = df
    if result.parallel is not None:
        t["parallel_analysis"] = result.parallel.table.copy()
    omega = result.omega
    scales = result.omega_scales
    if omega is not None or scales:
        rows = []
        if omega is not None:
            rows.append({"scope": "all items", "construct_id": None,
                         "omega_total": omega.omega_total,
                         "omega_hierarchical": omega.omega_hierarchical,
                         "omega_limit": omega.omega_limit, "ecv": omega.ecv,
                         "n_factors": omega.n_factors, "omega_one_factor": None})
        for cid, o1 in scales.items():
            rows.append({"scope": "scale", "construct_id": cid, "omega_total": None,
                         "omega_hierarchical": None, "omega_limit": None, "ecv": None,
                         "n_factors": 1, "omega_one_factor": o1.omega})
        t["omega"] = pd.DataFrame(rows)
        if omega is not None:
            t["omega_groups"] = omega.groups.copy()
    fits = [("ml", result.cfa), ("wlsmv", result.cfa_ordinal)]
    fits = [(name, res) for name, res in fits if res is not None]
    if fits:
        t["cfa_fit"] = pd.DataFrame([{"estimator": name, "index": k, "value": v}
                                     for name, res in fits for k, v in res.fit.items()])
        t["cfa_loadings"] = pd.concat([res.loadings.assign(estimator=name)
                                       for name, res in fits], ignore_index=True)
    if result.content_validity is not None:
        t["content_validity"] = result.content_validity.items.copy()
        aspects = result.content_validity_aspects
        if aspects:
            # the panel's other aspects (e.g. clarity), long: one row per aspect and item
            t["content_validity_aspects"] = pd.concat(
                [res.items.assign(aspect=a)[["aspect", *res.items.columns]]
                 for a, res in aspects.items()], ignore_index=True)
    if result.qual is not None:
        t["qualitative_items"] = result.qual.items.copy()
        t["quotes"] = result.qual.quotes.copy()
        t["missing_concepts"] = result.qual.missing_concepts.copy()
    summary = result.agreement_summary
    if summary is not None:
        t["coder_agreement"] = summary.to_frame()
    t["cosmin"] = result.cosmin.table.copy()
    t.update(measurement_tables(result))
    from instrval.report.groups import group_tables

    t.update(group_tables(result))
    t["changelog"] = pd.DataFrame(
        [{"version": e.version, "item": e.item, "action": e.action, "reason": e.reason,
          "evidence": e.evidence} for e in result.revised.changelog
         if e.version == result.revised.version],
        columns=["version", "item", "action", "reason", "evidence"])
    if result.diff is not None:
        t["diff"] = result.diff.to_frame()
    t["rules"] = pd.DataFrame(result.study.rules.describe())
    t["rule_catalogue"] = rule_catalogue(result.study.rules)
    t["inputs"] = pd.DataFrame([{"role": k, **v} for k, v in result.inputs.items()])
    t["quarantine"] = quarantine_table(result)
    return {k: t[k] for k in TABLE_ORDER if k in t}


def quarantine_table(result: Any) -> pd.DataFrame:
    """Ratings and coding quarantine in one table with a ``source`` column."""
    parts = []
    for source, obj in (("ratings", result.ratings), ("coding", result.coding),
                        ("panel", result.panel)):
        q = obj.quarantine if obj is not None else None
        if q is not None and len(q):
            q = q.copy()
            q.insert(0, "source", source)
            parts.append(q.astype(object))
    base = ["source", "row", "reason", "message"]
    if not parts:
        return pd.DataFrame(columns=base)
    df = pd.concat(parts, ignore_index=True, sort=False)
    return df[base + [c for c in df.columns if c not in base]]


def _cell(v: Any) -> Any:
    """A table cell as a plain value; lists and mappings as their text."""
    if isinstance(v, (list, tuple, dict)):
        return str(v)
    return jsonable_scalar(v)


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write one table as UTF-8 CSV (neutralised, full precision, ``\\n`` line ends).

    A text cell holding a line break of any kind (``\\r`` too, which the ``csv`` module
    leaves unquoted when rows end in ``\\n``) is quoted, so that no reader splits the row.
    """
    from instrval.io.atomic import atomic_write_text

    return atomic_write_text(path, csv_text(df))


def csv_text(df: pd.DataFrame) -> str:
    """The CSV text :func:`write_csv` writes."""
    import csv
    import io

    table = neutralise_frame(df.map(_cell) if len(df) else df)
    buf = io.StringIO()
    # "\r\n" as the writer's line end makes it quote every cell holding \r or \n; each
    # record is then ended with "\n" alone
    writer = csv.writer(buf, lineterminator="\r\n")
    out: list[str] = []

    def emit(cells: list[Any]) -> None:
        buf.seek(0)
        buf.truncate()
        writer.writerow(cells)
        out.append(buf.getvalue()[:-2] + "\n")

    emit([str(c) for c in table.columns])
    for rec in table.itertuples(index=False, name=None):
        emit([_csv_cell(v) for v in rec])
    return "".join(out)


def _csv_cell(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (float, np.floating)):
        return "" if v != v else repr(float(v))
    if isinstance(v, (np.integer, np.bool_)):
        return v.item()
    return v


def write_csv_tables(tables: Mapping[str, pd.DataFrame], folder: str | Path) -> dict[str, Path]:
    """Write each table to ``folder/<name>.csv``; returns ``{"csv:<name>": path}``."""
    folder = Path(folder)
    return {f"csv:{name}": write_csv(df, folder / f"{name}.csv") for name, df in tables.items()}


def write_xlsx(tables: Mapping[str, pd.DataFrame], path: str | Path, *,
               timestamp: str | None = None) -> Path:
    """Write the tables as the sheets of one workbook (text neutralised, never formulas).

    With ``timestamp`` the workbook's creation time and every zip member's date are that
    time, so the same tables give the same bytes."""
    import io
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.styles import Font

    from instrval.io.atomic import atomic_write_bytes

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for name, df in tables.items():
        ws = wb.create_sheet(title=name[:31])
        ws.append([neutralise(str(c)) for c in df.columns])
        for cell in ws[1]:
            cell.font = bold
        for rec in df.itertuples(index=False):
            row = []
            for v in rec:
                v = _cell(v)
                row.append(neutralise(v) if isinstance(v, str) else v)
            ws.append(row)
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, never a formula
        ws.freeze_panes = "A2"
    if timestamp:
        when = datetime.fromisoformat(timestamp).replace(tzinfo=None)
        wb.properties.created = when
        wb.properties.modified = when
    wb.properties.creator = "instrval"
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if timestamp:
        data = _fixed_zip_times(data, datetime.fromisoformat(timestamp))
    return atomic_write_bytes(path, data)


def _fixed_zip_times(data: bytes, when: Any) -> bytes:
    """The same zip archive with every member dated ``when`` and the workbook's "modified"
    property set to it (so that a workbook written twice with the same timestamp is
    byte-identical; zip stores local times from 1980)."""
    import io
    import re
    import zipfile

    stamp = (min(max(1980, when.year), 2107), when.month, when.day, when.hour, when.minute, when.second)
    iso = when.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=stamp)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with now
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>" + iso + rb"\g<2>", content)
            dst.writestr(member, content)
    return out.getvalue()


# ------------------------------------------------------------------ display tables
# The tables the rendered report shows, built once from the results and rendered by both
# the HTML templates and the Markdown writer. Values stay at full precision (rounding is
# :func:`instrval.report.format.fmt_value`, at rendering); a column's ``fmt`` says how.

#: Column formats whose header and cells are left-aligned text (all others: numbers).
TEXT_FORMATS = ("text", "code", "bool", "quote", "badge", "rating")

#: How the agreement tables name their scopes.
SCOPE_LABELS = {
    "pooled": "pooled (segment \u00d7 code: applied or not)",
    "assigned_codes": "assigned codes (the set of codes per segment)",
}


@dataclass(frozen=True)
class Column:
    """One column of a display table.

    ``fmt`` is a format of :func:`~instrval.report.format.fmt_value` (``pct``, ``f3``,
    ``int``, ``num``, ``p``, ``bool``, ``text``) or ``code`` (identifier, monospace),
    ``quote`` (participants' words), ``pre`` (text made of numbers, e.g. an interval,
    aligned as numbers), ``badge`` (a decision) or ``rating`` (a COSMIN rating).
    ``bold`` names a boolean column of the frame: cells in those rows are shown in bold.
    """

    key: str
    header: str
    fmt: str
    bold: str | None = None

    @property
    def numeric(self) -> bool:
        return self.fmt not in TEXT_FORMATS


@dataclass(frozen=True)
class DisplayTable:
    """A table of the rendered report: the frame, its columns, caption and row shading.

    ``shade`` names a boolean column of the frame: those rows are shaded (the HTML class
    ``conv-discordance``); ``row_class`` names a column holding each row's class instead.
    """

    frame: pd.DataFrame
    columns: tuple[Column, ...]
    caption: str = ""
    shade: str | None = None
    row_class: str | None = None

    def records(self) -> list[dict[str, Any]]:
        return self.frame.to_dict(orient="records")

    def css_class(self, rec: Mapping[str, Any]) -> str:
        if self.row_class is not None:
            v = rec.get(self.row_class)
            return "" if v is None else str(v)
        if self.shade is not None and rec.get(self.shade) is True:
            return "conv-discordance"
        return ""

    def __len__(self) -> int:
        return len(self.frame)


def columns(*spec: tuple[str, ...]) -> tuple[Column, ...]:
    """Columns from ``(key, header, fmt[, bold])`` tuples."""
    return tuple(Column(*s) for s in spec)


def display_tables(result: Any) -> dict[str, DisplayTable]:
    """Every table the HTML and Markdown reports show, by name (only those that apply)."""
    r = result
    t: dict[str, DisplayTable] = {}
    t.update(_methods_tables(r))
    if r.descriptives is not None and len(r.descriptives.items):
        t.update(_descriptives_tables(r))
    if r.relevance is not None:
        t["relevance"] = _relevance_table(r)
    if r.reliability:
        t.update(_reliability_tables(r))
    if r.efa is not None:
        t.update(_efa_tables(r))
    if r.cfa is not None or r.cfa_ordinal is not None:
        t.update(_cfa_tables(r))
    if r.content_validity is not None:
        t["panel"] = _panel_table(r)
    if r.qual is not None:
        t.update(_qual_tables(r))
    from instrval.report.groups import group_display_tables

    t.update(group_display_tables(r))
    t.update(_decision_tables(r))
    t.update(_properties_tables(r))
    t.update(_revised_tables(r))
    t["quality"] = _quality_table(r)
    t["rule_catalogue"] = _catalogue_table(r)
    return t


def _methods_tables(r: Any) -> dict[str, DisplayTable]:
    t = {}
    inputs = pd.DataFrame([{"role": k, **v} for k, v in r.inputs.items()])
    if len(inputs):
        for c in ("rows_read", "rows_accepted", "bytes"):
            if c not in inputs:
                inputs[c] = None
        t["inputs"] = DisplayTable(inputs, columns(
            ("role", "input", "text"), ("file", "file", "code"), ("bytes", "bytes", "int"),
            ("rows_read", "rows read", "int"), ("sha256", "sha256", "code")),
            caption="Inputs")
    rules_df = pd.DataFrame(r.rules.describe())
    rules_df["changed"] = rules_df["value"] != rules_df["default"]
    t["rules"] = DisplayTable(rules_df, columns(
        ("rule", "rule", "code"), ("value", "value", "num", "changed"),
        ("default", "default", "num"), ("source", "source", "text")),
        caption="Decision thresholds (DecisionRules; values changed by the study file are "
                "in bold)")
    return t


def _descriptives_tables(r: Any) -> dict[str, DisplayTable]:
    items = r.descriptives.items.copy()
    has_likert = bool((items["kind"] == "likert").any())
    boxes = items["kind"] != "likert"
    for col in ("floor_share", "ceiling_share"):
        items[col] = items[col].astype(object).where(~boxes, None)
    cols = [("item_id", "item", "code"), ("construct_id", "construct", "code"),
            ("n_rows", "rows", "int"), ("n", "answers", "int"),
            ("missing_share", "missing", "pct1"), ("mean", "mean", "f2"), ("sd", "SD", "f2")]
    if has_likert:
        cols += [("floor_share", "lowest option", "pct1"),
                 ("ceiling_share", "highest option", "pct1")]
    caption = "Item descriptives" + (
        " (share of answers at the lowest / highest option of Likert items: descriptive; "
        "floor and ceiling effects are judged on the scale totals)" if has_likert else "")
    t = {"descriptives": DisplayTable(items, columns(*cols), caption=caption)}
    sc = r.joint.scales
    if sc is not None and not sc.empty and not sc["floor_share"].isna().all():
        df = sc.copy()
        df["flag"] = [("R16" if "R16" in str(v) else "") for v in df["rules_fired"]]
        df["flagged"] = df["flag"] != ""
        cut = f"{100 * r.rules.floor_ceiling_max:g}%"
        t["scale_totals"] = DisplayTable(df, columns(
            ("construct_id", "scale", "code"), ("k", "items", "int"),
            ("n", "complete answers", "int"), ("floor_share", "at lowest total", "pct1"),
            ("ceiling_share", "at highest total", "pct1"),
            ("flag", "floor or ceiling effect", "text")),
            caption=f"Floor and ceiling effects of the scale totals (more than {cut} of the "
                    "respondents at the lowest or highest possible total; Terwee et al. "
                    "2007; rule R16)", shade="flagged")
    return t


def _relevance_table(r: Any) -> DisplayTable:
    from instrval.report.format import ci_text

    rel = r.relevance
    items = rel.items.copy()
    level = f"{100 * rel.confidence:g}%"
    items["ci"] = [ci_text(lo, hi, "pct") for lo, hi in zip(items["ci_low"], items["ci_high"],
                                                            strict=True)]
    cols = [("item_id", "item", "code"), ("construct_id", "construct", "code"),
            ("selected", "selected", "int"), ("presented", "presented", "int"),
            ("ratio", "R", "pct"), ("ci", f"{level} CI (Wilson)", "pre")]
    if "cluster_ci_low" in items:
        items["cluster_ci"] = [ci_text(lo, hi, "pct") for lo, hi in
                               zip(items["cluster_ci_low"], items["cluster_ci_high"],
                                   strict=True)]
        cols += [("cluster_ci", f"{level} CI ({rel.cluster_method}, by respondent)", "pre"),
                 ("deff", "design effect", "f2")]
    cols.append(("relevant", "relevant", "bool"))
    items["not_relevant"] = [v is False or v is np.False_ for v in items["relevant"]]
    return DisplayTable(items, columns(*cols), caption="Relevance ratios (R = selected / "
                                                     "presented)", shade="not_relevant")


def _reliability_tables(r: Any) -> dict[str, DisplayTable]:
    from instrval.report.format import ci_text, is_missing

    rules = r.rules
    rows = []
    for cid, a in r.reliability.items():
        o1 = r.omega_scales.get(cid) if r.omega_scales else None
        rows.append({"construct_id": cid, "k": a.k, "n": a.n, "alpha": a.alpha,
                     "ci": ci_text(a.ci_low, a.ci_high, "f3"), "ci_low": a.ci_low,
                     "ci_high": a.ci_high, "std_alpha": a.std_alpha, "g6": a.g6,
                     "average_r": a.average_r,
                     "omega": o1.omega if o1 is not None else None,
                     "reverse": ", ".join(a.reverse) or None,
                     "below": not is_missing(a.alpha) and a.alpha < rules.alpha_min})
    first = next(iter(r.reliability.values()))
    level = f"{100 * first.confidence:g}%"
    method = "Feldt" if first.ci_method == "feldt" else str(first.ci_method)
    cols = [("construct_id", "scale", "code"), ("k", "items", "int"), ("n", "n", "int"),
            ("alpha", "alpha", "f3"), ("ci", f"{level} CI ({method})", "pre"),
            ("std_alpha", "std. alpha", "f3"), ("g6", "G6 (smc)", "f3"),
            ("average_r", "mean r", "f3")]
    if r.omega_scales:
        cols.append(("omega", "omega (1 factor)", "f3"))
    cols.append(("reverse", "reversed items", "text"))
    t = {"reliability": DisplayTable(
        pd.DataFrame(rows), columns(*cols),
        caption=f"Internal consistency per scale (criterion: alpha >= {rules.alpha_min:g})",
        shade="below")}
    if r.omega is not None:
        o = r.omega
        head = pd.DataFrame([
            {"coef": "omega total", "value": o.omega_total,
             "meaning": "share of total-score variance due to all common factors"},
            {"coef": "omega hierarchical", "value": o.omega_hierarchical,
             "meaning": "share due to the general factor alone"},
            {"coef": "omega limit", "value": o.omega_limit,
             "meaning": "omega hierarchical of an infinitely long test (omega hierarchical "
                        "/ omega total)"},
            {"coef": "explained common variance (ECV)", "value": o.ecv,
             "meaning": "share of the common variance due to the general factor"},
            {"coef": "alpha (all items)", "value": o.alpha,
             "meaning": "Cronbach's alpha of the total score, items reversed as below"}])
        t["omega"] = DisplayTable(head, columns(
            ("coef", "coefficient", "text"), ("value", "value", "f3"),
            ("meaning", "meaning", "text")),
            caption=f"McDonald's omega of all {len(o.schmid)} Likert items ({o.fm}, "
                    f"{o.rotation}, Schmid-Leiman with {o.n_factors} group factors, as "
                    "psych::omega)")
        groups = o.groups.copy()
        groups["factor"] = groups["factor"].astype(str)
        t["omega_groups"] = DisplayTable(groups, columns(
            ("factor", "factor", "code"), ("total", "omega total", "f3"),
            ("general", "general factor", "f3"), ("group", "group factor", "f3")),
            caption="Omega per group factor (psych's omega.group: g = the whole test; F1*.. "
                    "= the items whose largest group loading is on that factor)")
    items = pd.concat([a.items.assign(construct_id=cid, scale_alpha=a.alpha,
                                      reversed=a.items["item_id"].isin(a.reverse))
                       for cid, a in r.reliability.items()], ignore_index=True)
    items["difficulty"] = [m if r.instrument.construct(c).kind == "binary" else None
                           for c, m in zip(items["construct_id"], items["mean"], strict=True)]
    items["low"] = [not is_missing(v) and v < rules.r_drop_min for v in items["r_drop"]]
    diff_col = ([("difficulty", "difficulty p", "f3")]
                if items["difficulty"].notna().any() else [])
    t["reliability_items"] = DisplayTable(items, columns(
        ("construct_id", "scale", "code"), ("item_id", "item", "code"),
        ("reversed", "reversed", "bool"), *diff_col, ("n", "n", "int"),
        ("mean", "mean", "f2"), ("sd", "SD", "f2"), ("r_drop", "r.drop", "f3"),
        ("r_cor", "r.cor", "f3"), ("alpha_if_deleted", "alpha if deleted", "f3")),
        caption="Item-total statistics (r.drop: corrected item-total correlation; r.cor: "
                "item-total correlation corrected for overlap; mean and SD after reverse "
                "keying)", shade="low")
    return t


def _efa_tables(r: Any) -> dict[str, DisplayTable]:
    e = r.efa
    lo = e.loadings.copy()
    h2 = e.communalities
    lo["h2"] = [float(h2.get(i, float("nan"))) if hasattr(h2, "get") else float("nan")
                for i in lo["item_id"]]
    t = {"efa_loadings": DisplayTable(
        lo, columns(("item_id", "item", "code"), *[(f, f, "f2") for f in e.factors],
                  ("h2", "communality h\u00b2", "f2")),
        caption=f"EFA pattern loadings and communalities ({e.method}, {e.rotation}, "
                f"{e.corr} correlations, n = {e.n_obs:,.0f})")}
    var = e.variance.copy()
    if "factor" not in var.columns:
        var.insert(0, "factor", [str(i) for i in var.index])
    t["efa_variance"] = DisplayTable(var, columns(
        ("factor", "factor", "code"),
        *[(c, c.replace("_", " "), "f3") for c in var.columns
          if c != "factor" and pd.api.types.is_numeric_dtype(var[c])]),
        caption="Variance explained by each factor (sums of squared loadings, as psych's "
                "Vaccounted)")
    if e.n_factors > 1 and e.rotation not in ("none", "varimax"):
        phi = e.phi.copy()
        phi.insert(0, "factor", [str(i) for i in phi.index])
        t["efa_correlations"] = DisplayTable(phi, columns(
            ("factor", "factor", "code"), *[(str(f), str(f), "f2") for f in e.phi.columns]),
            caption=f"Factor correlations ({e.rotation} rotation)")
    return t


#: The fit indices of the CFA table: key, label, format, COSMIN criterion (rule name).
_CFA_INDICES = (("chi2", "chi-square", "f2", None), ("df", "df", "num", None),
                ("pvalue", "p", "p", None), ("cfi", "CFI", "f3", ("> ", "cfi_min")),
                ("tli", "TLI", "f3", ("> ", "cfi_min")),
                ("rmsea", "RMSEA [90% CI]", "f3", ("< ", "rmsea_max")),
                ("srmr", "SRMR", "f3", ("< ", "srmr_max")), ("n", "n (listwise)", "int", None))


def _cfa_tables(r: Any) -> dict[str, DisplayTable]:
    from instrval.report.format import ci_text, fmt_value, is_missing

    fits = []
    if r.cfa is not None:
        fits.append(("ml", r.cfa.fit, ""))
    if r.cfa_ordinal is not None:
        fits.append(("wlsmv", r.cfa_ordinal.fit, "_scaled"))

    def get(f: Mapping[str, Any], key: str, suffix: str) -> Any:
        v = f.get(key + suffix)
        return v if suffix and not is_missing(v) else f.get(key)

    rows = []
    for key, label, fmt, crit in _CFA_INDICES:
        row: dict[str, Any] = {"index": label, "criterion": (
            f"{crit[0]}{getattr(r.rules, crit[1]):g}" if crit else "")}
        for name, f, suffix in fits:
            txt = fmt_value(get(f, key, suffix), fmt)
            if key == "rmsea":
                txt += " " + ci_text(get(f, "rmsea_ci_low", suffix),
                                     get(f, "rmsea_ci_high", suffix), "f3")
            row[name] = txt
        rows.append(row)
    cols = [("index", "fit index", "text")]
    if r.cfa is not None:
        cols.append(("ml", "ML (Pearson covariances)", "pre"))
    if r.cfa_ordinal is not None:
        cols.append(("wlsmv", "WLSMV (polychoric, scaled)", "pre"))
    cols.append(("criterion", "COSMIN criterion", "text"))
    n = (r.cfa or r.cfa_ordinal).n
    t = {"cfa_fit": DisplayTable(pd.DataFrame(rows), columns(*cols),
                                 caption=f"Confirmatory factor analysis: the constructs as "
                                         f"correlated factors (n = {n:,})")}
    frames = []
    for name, res in (("ml", r.cfa), ("wlsmv", r.cfa_ordinal)):
        if res is None:
            continue
        lo = res.loadings[["factor", "item_id", "estimate", "se", "std_all"]].rename(
            columns={"estimate": f"{name}_est", "se": f"{name}_se", "std_all": name})
        frames.append(lo.set_index(["factor", "item_id"]))
    df = pd.concat(frames, axis=1).reset_index()
    lcols = [("factor", "factor", "code"), ("item_id", "item", "code")]
    for name, res, label in (("ml", r.cfa, "ML"), ("wlsmv", r.cfa_ordinal, "WLSMV")):
        if res is not None:
            lcols += [(f"{name}_est", f"{label} estimate", "f3"), (f"{name}_se", "SE", "f3"),
                      (name, "std.all", "f3")]
    t["cfa_loadings"] = DisplayTable(df, columns(*lcols), caption=(
        "CFA loadings: unstandardised estimate with its standard error (the marker item's "
        "loading is fixed to 1, SE blank) and the standardised loading (std.all). Items are "
        "analysed as answered: the sign is relative to the marker, so items keyed opposite "
        "to it load negatively"))
    for name, label, res in (("ml", "ML", r.cfa), ("wlsmv", "WLSMV", r.cfa_ordinal)):
        fc = res.factor_correlations if res is not None else None
        if fc is None or len(fc) < 2:
            continue
        fc = fc.copy()
        fc.insert(0, "factor", [str(i) for i in fc.index])
        t[f"cfa_correlations_{name}"] = DisplayTable(
            fc.reset_index(drop=True),
            columns(("factor", "factor", "code"),
                  *[(str(c), str(c), "f2") for c in res.factor_correlations.columns]),
            caption=f"CFA factor correlations ({label})")
    return t


def _panel_table(r: Any) -> DisplayTable:
    """The expert panel per item: the relevance indices, the flags R14/R15, and the I-CVI
    and Aiken's V of every other rated aspect (``<aspect>_i_cvi``, ``<aspect>_aiken_v``)."""
    from instrval.integrate.decisions import i_cvi_threshold
    from instrval.report.format import ci_text, fmt_value, is_missing

    rules = r.rules
    cv = r.content_validity
    aspects = dict(r.content_validity_aspects or {})
    df = cv.items.copy()
    df["i_cvi_min"] = [i_cvi_threshold(n, rules) for n in df["n_experts"]]
    df["r14"] = df["i_cvi"] < df["i_cvi_min"]
    df["r15"] = [not is_missing(c) and v < c for v, c in zip(df["cvr"], df["cvr_critical"],
                                                             strict=True)]
    for aspect, res in aspects.items():
        other = res.items.set_index("item_id")
        for col in ("i_cvi", "aiken_v"):
            df[f"{aspect}_{col}"] = df["item_id"].map(other[col])
        df[f"{aspect}_low"] = [not is_missing(v) and v < m for v, m in
                               zip(df[f"{aspect}_i_cvi"], df["i_cvi_min"], strict=True)]
    df["kappa_text"] = [f"{fmt_value(k, 'f2')} {b}" if not is_missing(k) else "\u2013"
                        for k, b in zip(df["modified_kappa"], df["kappa_band"], strict=True)]
    df["aiken_ci"] = [ci_text(a, b, "f2") for a, b in zip(df["aiken_ci_low"],
                                                          df["aiken_ci_high"], strict=True)]
    df["flags"] = ["; ".join(f for f, on in (("R14", a), ("R15", b)) if on)
                   for a, b in zip(df["r14"], df["r15"], strict=True)]
    df["flagged"] = df["r14"] | df["r15"]
    level = 100 * cv.aiken_confidence
    cols = [("item_id", "item", "code"), ("n_experts", "experts", "int"),
            ("n_relevant", "relevant", "int"), ("i_cvi", "I-CVI", "f2", "r14"),
            ("kappa_text", "kappa* (band)", "pre"), ("cvr", "CVR", "f2", "r15"),
            ("cvr_critical", "CVR critical", "f2"),
            ("cvr_significant", "CVR \u2265 critical", "bool"),
            ("aiken_v", "Aiken's V", "f2"), ("aiken_ci", f"V {level:.0f}% CI", "pre")]
    for aspect in aspects:
        cols += [(f"{aspect}_i_cvi", f"{aspect} I-CVI", "f2", f"{aspect}_low"),
                 (f"{aspect}_aiken_v", f"{aspect} V", "f2")]
    cols.append(("flags", "flags", "text"))
    return DisplayTable(df, columns(*cols), shade="flagged", caption=(
        f"Expert panel: content validity per item (bold: below the criterion; R14 = I-CVI "
        f"below {fmt_value(rules.i_cvi_min, 'num')}"
        + (", 1.00 with \u2264 5 experts" if (df["i_cvi_min"] > rules.i_cvi_min).any() else "")
        + "; R15 = CVR below its critical value)"))


def _agreement_columns(a: Any, first: tuple[str, ...], second: tuple[str, ...]
                       ) -> tuple[Column, ...]:
    level = f"{100 * a.confidence:g}%"
    cols = [first, second, ("percent_agreement", "percent agreement", "pct1")]
    if len(a.coders) == 2:
        cols += [("cohen_kappa", "Cohen's kappa", "f3"), ("kappa_ci", f"{level} CI", "pre")]
    cols += [("fleiss_kappa", "Fleiss' kappa", "f3"),
             ("krippendorff_alpha", "Krippendorff's alpha", "f3")]
    return columns(*cols)


def _qual_tables(r: Any) -> dict[str, DisplayTable]:
    from instrval.report.format import ci_text

    q = r.qual
    t: dict[str, DisplayTable] = {}
    a = r.agreement_summary
    if a is not None and len(a.overall):
        ov = a.overall.copy()
        ov["scope_label"] = ov["scope"].map(lambda v: SCOPE_LABELS.get(v, v))
        ov["kappa_ci"] = [ci_text(lo, hi, "f3") for lo, hi in
                          zip(ov["cohen_ci_low"], ov["cohen_ci_high"], strict=True)]
        t["agreement_overall"] = DisplayTable(ov, _agreement_columns(
            a, ("scope_label", "scope", "text"), ("n_units", "units compared", "int")),
            caption="Inter-coder agreement, overall")
        if len(a.codes):
            pc = a.codes.copy()
            pc["kappa_ci"] = [ci_text(lo, hi, "f3") for lo, hi in
                              zip(pc["cohen_ci_low"], pc["cohen_ci_high"], strict=True)]
            t["agreement_codes"] = DisplayTable(pc, _agreement_columns(
                a, ("code", "code", "code"),
                ("n_segments_coded", "segments with the code", "int")),
                caption=f"Inter-coder agreement per code (codes applied to at least "
                        f"{a.min_segments} double-coded segments; lowest alpha first)")
    items = q.items.copy()
    items["not_representative"] = [v is False or v is np.False_
                                   for v in items["representative"]]
    t["qualitative_items"] = DisplayTable(items, columns(
        ("item_id", "item", "code"), ("participants", "participants", "int"),
        ("segments", "segments", "int"), ("supports", "supports", "int"),
        ("challenges", "challenges", "int"), ("wording", "wording", "int"),
        ("other", "other", "int"), ("representative", "representative", "bool")),
        caption="Qualitative evidence per item", shade="not_representative")
    if len(q.missing_concepts):
        t["missing_concepts"] = DisplayTable(q.missing_concepts, columns(
            ("construct_id", "construct", "code"), ("code", "code", "code"),
            ("theme", "theme", "text"), ("participants", "participants", "int"),
            ("segments", "segments", "int"), ("example_quote", "example", "quote")),
            caption="Concepts no item covers (missing concepts)")
    themes = q.themes
    if isinstance(themes, pd.DataFrame) and len(themes):
        heads = {"construct_id": "construct", "item_id": "item"}
        t["themes"] = DisplayTable(themes, columns(*[
            (col, heads.get(col, col.replace("_", " ")),
             "int" if pd.api.types.is_integer_dtype(themes[col])
             else "code" if col in ("construct_id", "item_id", "codes") else "text")
            for col in themes.columns[:6]]), caption="Themes")
    return t


def _decision_tables(r: Any) -> dict[str, DisplayTable]:
    jd = r.joint.items.copy()
    jd["row_class"] = [f"conv-{c}" for c in jd["convergence"]]
    cols = [("item_id", "item", "code")]
    if bool((jd["row_type"] != "item").any()):
        cols.append(("concept", "concept", "code"))
    cols += [("proposed", "proposed", "badge"), ("reason", "reason (rules)", "text")]
    if bool((jd["decided_by"] == "expert").any()):
        cols += [("expert_decision", "expert", "text"),
                 ("expert_rationale", "rationale", "text"), ("expert_who", "who", "text"),
                 ("expert_date", "date", "text")]
    cols.append(("decision", "decision", "badge"))
    return {"decisions": DisplayTable(
        jd, columns(*cols), row_class="row_class",
        caption="Decisions (proposed by the rules; the experts' decision overrides where "
                "recorded)")}


_HYPOTHESIS_COLUMNS = (("id", "hypothesis", "code"), ("scale", "scale", "code"),
                       ("other", "with", "text"), ("n", "n", "int"),
                       ("statistic", "statistic", "text"), ("estimate", "estimate", "f3"),
                       ("ci_low", "CI low", "f3"), ("ci_high", "CI high", "f3"),
                       ("expected", "expected", "text"), ("holds", "holds", "bool"),
                       ("description", "description", "text"))


def _properties_tables(r: Any) -> dict[str, DisplayTable]:
    """The COSMIN summary and the details behind its rows of the other measurement
    properties."""
    t = {"cosmin": DisplayTable(r.cosmin.table, columns(
        ("property", "property", "text"), ("aspect", "aspect", "text"),
        ("rating", "rating", "rating"), ("evidence", "evidence", "text"),
        ("criterion", "criterion", "text")),
        caption="Evidence summary structured like the COSMIN criteria")}
    rt = r.retest
    if rt is not None:
        t["retest"] = DisplayTable(rt.table, columns(
            ("scale", "scale", "code"), ("n", "n", "int"),
            ("icc_agreement", "ICC(A,1)", "f3"), ("icc_agreement_ci_low", "CI low", "f3"),
            ("icc_agreement_ci_high", "CI high", "f3"), ("sem_agreement", "SEM", "f3"),
            ("sdc_individual", "SDC", "f3"), ("sdc_group", "SDC group", "f3"),
            ("mean_diff", "mean difference", "f3"), ("loa_low", "LoA low", "f3"),
            ("loa_high", "LoA high", "f3"), ("mic", "MIC", "f3")),
            caption=f"Test-retest (occasions {rt.times[0]} and {rt.times[1]}): reliability "
                    "and measurement error")
    if r.hypotheses is not None:
        t["hypotheses"] = DisplayTable(r.hypotheses.table, columns(*_HYPOTHESIS_COLUMNS),
                                       caption="Hypotheses testing for construct validity")
    if r.criterion:
        t["criterion"] = DisplayTable(
            pd.concat([c.to_frame() for c in r.criterion], ignore_index=True), columns(
                ("scale", "scale", "code"), ("criterion", "criterion", "code"),
                ("statistic", "statistic", "text"), ("n", "n", "int"),
                ("estimate", "estimate", "f3"), ("ci_low", "CI low", "f3"),
                ("ci_high", "CI high", "f3"), ("sufficient", "sufficient", "bool")),
            caption="Criterion validity (gold standard)")
    rs = r.responsiveness
    if rs is not None:
        t["responsiveness"] = DisplayTable(
            rs.hypotheses.table, columns(*_HYPOTHESIS_COLUMNS),
            caption=f"Responsiveness: hypotheses about change scores ({rs.n} respondents)")
    return t


def _revised_tables(r: Any) -> dict[str, DisplayTable]:
    rev = r.revised
    changes = {e.item: e for e in rev.changelog if e.version == rev.version}
    rows = [{"construct_id": c.id, "item_id": it.id, "label": it.label,
             "action": changes[it.id].action if it.id in changes else ""}
            for c in rev.constructs for it in c.items]
    t = {"revised_items": DisplayTable(pd.DataFrame(rows), columns(
        ("construct_id", "construct", "code"), ("item_id", "item", "code"),
        ("label", "label", "text"), ("action", "change", "text")),
        caption=f"Items of {rev.label}")}
    cl = pd.DataFrame([{"item": e.item, "action": e.action, "reason": e.reason,
                        "evidence": e.evidence} for e in changes.values()
                       if e.action != "kept"])
    if len(cl):
        t["changes"] = DisplayTable(cl, columns(
            ("item", "item", "code"), ("action", "action", "text"),
            ("reason", "reason", "text"), ("evidence", "evidence", "text")),
            caption="Changelog (changes only; kept items are listed in results.json and the "
                    "instrument file)")
    if r.diff is not None:
        df = r.diff.to_frame()
        if len(df):
            t["diff"] = DisplayTable(df, columns(*[
                (c, c.replace("_", " "), "code" if c == "item_id" else "text")
                for c in df.columns]),
                caption=f"Diff {r.instrument.label} \u2192 {rev.label}")
    return t


def _quality_table(r: Any) -> DisplayTable:
    from instrval.report.results_json import data_quality

    rows = []
    for src, d in data_quality(r).items():
        reasons = d.get("reasons") or {}
        rows.append({"source": src, "read": d.get("read"), "accepted": d.get("accepted"),
                     "quarantined": d.get("quarantined"),
                     "reasons": ", ".join(f"{k} ({v})" for k, v in reasons.items())
                     or "\u2013"})
    return DisplayTable(pd.DataFrame(rows, columns=["source", "read", "accepted",
                                                    "quarantined", "reasons"]), columns(
        ("source", "input", "text"), ("read", "rows read", "int"),
        ("accepted", "accepted", "int"), ("quarantined", "quarantined", "int"),
        ("reasons", "reasons (count)", "text")), caption="Quarantine")


def _catalogue_table(r: Any) -> DisplayTable:
    from instrval.integrate.decisions import rule_catalogue

    return DisplayTable(rule_catalogue(r.rules), columns(
        ("id", "rule id", "code"), ("statement", "statement", "text"),
        ("thresholds", "thresholds", "text"), ("decisive", "decisive", "bool")),
        caption="Decision rules: each rule's id, what it states and the thresholds it used "
                "(the values of this report)")


@dataclass(frozen=True)
class JointTable:
    """The joint display as the report shows it: one entry per row of the joint display
    (``group`` set on the first row of each construct), with the text of its cells, and
    which evidence columns apply."""

    rows: tuple[dict[str, Any], ...]
    has_relevance: bool
    has_quant: bool
    has_scale: bool
    has_qual: bool

    @property
    def headers(self) -> list[str]:
        return (["item"] + (["relevance R [95% CI]"] if self.has_relevance else [])
                + ([("psychometric evidence" if self.has_scale else "other quantitative")]
                   if self.has_quant else [])
                + (["qualitative", "quotes"] if self.has_qual else [])
                + ["convergence", "decision and rules"])


def joint_table(result: Any) -> JointTable:
    """The cells of the joint display (see :class:`JointTable`)."""
    from instrval.report.format import fmt_value, is_missing

    jd = result.joint.items
    labels = {c.id: c.label for c in result.instrument.constructs}
    nb = "\u00a0"  # the panel's bits break only between label and comparison
    rows = []
    current: Any = object()
    for rec in jd.to_dict(orient="records"):
        out: dict[str, Any] = {"rec": rec, "group": None}
        cid = rec.get("construct_id")
        if cid != current:
            current = cid
            out["group"] = f"{labels.get(cid, cid)} ({cid})" if cid else "Not tied to a construct"
        v = rec.get("relevance_ratio")
        rel = "\u2013"
        if not is_missing(v):
            rel = fmt_value(v, "pct")
            lo, hi = rec.get("relevance_ci_low"), rec.get("relevance_ci_high")
            if not is_missing(lo) and not is_missing(hi):
                rel += f" [{fmt_value(lo, 'pct')}, {fmt_value(hi, 'pct')}]"
        out["relevance"] = rel
        bits = []
        if not is_missing(rec.get("quant_verdict")) and rec.get("quant_strand") == "psychometric":
            bits.append(str(rec["quant_verdict"]))
        if not is_missing(rec.get("difficulty")):
            bits.append(f"difficulty p {fmt_value(rec['difficulty'], 'f2')}")
        if not is_missing(rec.get("alpha_if_deleted")):
            bits.append(f"\u03b1 if del. {fmt_value(rec['alpha_if_deleted'], 'f3')}")
        if not is_missing(rec.get("r_drop")):
            bits.append(f"r.drop {fmt_value(rec['r_drop'], 'f2')}")
        if not is_missing(rec.get("loading")):
            bits.append(f"loading {fmt_value(rec['loading'], 'f2')} ({rec['loading_factor']})")
        if not is_missing(rec.get("cross_loading")):
            bits.append(f"cross {fmt_value(rec['cross_loading'], 'f2')}")
        if rec.get("dif_class") in ("B", "C"):
            bits.append(f"DIF class {rec['dif_class']}")
        if "R24-irt-misfit" in str(rec.get("supporting_rules") or ""):
            bits.append(f"{rec.get('irt_model')} misfit")
        if not is_missing(rec.get("i_cvi")):
            bits.append(f"I-CVI{nb}{fmt_value(rec['i_cvi'], 'f2')}")
        if not is_missing(rec.get("cvr")):
            crit = rec.get("cvr_critical")
            below = not is_missing(crit) and rec["cvr"] < crit
            bits.append(f"CVR{nb}{fmt_value(rec['cvr'], 'f2')}" + (
                f" <{nb}crit.{nb}{fmt_value(crit, 'f2')}" if below else ""))
        out["quant"] = bits
        out["clarity"] = (None if is_missing(rec.get("clarity_i_cvi"))
                          else f"I-CVI {fmt_value(rec['clarity_i_cvi'], 'f2')}")
        n = rec.get("qual_participants")
        qual: list[str] = []
        counts = None
        if not is_missing(n):
            if rec.get("row_type") == "missing_concept":
                qual = [f"{int(n)} participants"]
            else:
                rep = rec.get("representative")
                qual = [("representative" if rep is True else "not representative"
                         if rep is False else "no verdict"), f"{int(n)} participants"]
                counts = "S/C/W/O " + "/".join(str(int(rec.get(k) or 0)) for k in (
                    "qual_supports", "qual_challenges", "qual_wording", "qual_other"))
        out["qual"] = qual
        out["qual_counts"] = counts
        out["quotes"] = [q for q in str(rec.get("quotes") or "").split("\n") if q]
        out["rules"] = [x for x in str(rec.get("rules_fired") or "").split(";") if x]
        rows.append(out)
    return JointTable(
        tuple(rows), has_relevance=any(not is_missing(o["rec"].get("relevance_ratio"))
                                       for o in rows),
        has_quant=any(o["quant"] or o["clarity"] for o in rows),
        has_scale=any(o["rec"].get("quant_strand") == "psychometric" for o in rows),
        has_qual=any(not is_missing(o["rec"].get("qual_participants")) for o in rows))
