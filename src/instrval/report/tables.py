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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instrval._jsonable import jsonable_scalar

__all__ = ["neutralise", "neutralise_frame", "report_tables", "write_csv", "csv_text",
           "write_csv_tables",
           "write_xlsx", "TABLE_ORDER"]

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
    scales = result.omega_scales or {}
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
        aspects = result.content_validity_aspects or {}
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
        q = getattr(obj, "quarantine", None) if obj is not None else None
        if isinstance(q, pd.DataFrame) and len(q):
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
