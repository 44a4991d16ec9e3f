"""Reading expert-panel rating files (content validity panels).

A panel file holds the ratings experts gave each item, usually relevance on a 4-point
scale (1 = not relevant ... 4 = highly relevant; Lynn 1986, Polit & Beck 2006), and
optionally clarity or other aspects on the same scale. Two layouts are read, from CSV or
XLSX (first sheet):

* **long**: one row per expert and item, columns ``expert``, ``item_id``, ``relevance``,
  optional ``clarity`` and other aspect columns (any further column is an aspect rated
  1..``scale_max``; columns named ``comment``/``comments``/``note``/``notes`` are kept
  as free text).
* **wide**: an ``expert`` column and one column per item id holding that expert's
  relevance rating. Blank cells mean "not rated" and are skipped.

Every rating is checked like rating data, and every problem becomes a
:class:`~instrval.errors.Problem` (reason code, message, file, spreadsheet row - header =
1, first data row = 2 -, column, value). Unusable ratings go to ``quarantine`` with a
``reason`` column; ``len(data) + len(quarantine) == source["ratings_read"]`` always
holds (in the wide form the unit is one non-blank cell). :class:`~instrval.errors.PanelError`
is raised only when the file cannot be parsed or nothing usable remains.

Reason codes: ``unreadable``, ``empty_file``, ``missing_column``, ``blank_expert``,
``blank_item``, ``unknown_item``, ``missing_value``, ``not_a_number``, ``out_of_range``,
``duplicate_rating``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from instrval.errors import PanelError, Problem
from instrval.io.files import inflate_gzip, read_input_bytes
from instrval.io.tables import read_sheet

__all__ = ["PanelData", "read_panel", "REASONS"]

REASONS = (
    "unreadable",
    "empty_file",
    "missing_column",
    "blank_expert",
    "blank_item",
    "unknown_item",
    "missing_value",
    "not_a_number",
    "out_of_range",
    "duplicate_rating",
)

_EXPERT_NAMES = ("expert", "expert_id")
_ITEM_NAMES = ("item_id", "item")
_TEXT_NAMES = ("comment", "comments", "note", "notes")


@dataclass(frozen=True)
class PanelData:
    """Checked expert-panel ratings.

    Attributes
    ----------
    data : DataFrame
        Long form, one row per accepted rating: ``expert`` (str), ``item_id`` (str),
        ``relevance`` (Int64), any other aspects (Int64, ``<NA>`` when not given) and text
        columns, plus ``row`` (the spreadsheet row the rating came from).
    quarantine : DataFrame
        Rejected ratings: ``row``, ``column`` (wide form: the item column), ``reason``
        (``;``-joined codes), ``message``, ``expert``, ``item_id`` and the raw cells.
    problems : tuple of Problem
    source : dict
        ``file``, ``format`` (csv/xlsx), ``layout`` (long/wide), ``rows_read``,
        ``ratings_read``.
    aspects : tuple of str
        The rated aspects (``relevance`` first).
    scale_min, scale_max : int
        The rating scale.
    """

    data: pd.DataFrame = field(repr=False)
    quarantine: pd.DataFrame = field(repr=False)
    problems: tuple[Problem, ...]
    source: Mapping[str, Any]
    aspects: tuple[str, ...] = ("relevance",)
    scale_min: int = 1
    scale_max: int = 4

    @property
    def experts(self) -> tuple[str, ...]:
        """Experts with at least one accepted rating, in file order."""
        return tuple(pd.unique(self.data["expert"]))

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Items with at least one accepted rating, in file order."""
        return tuple(pd.unique(self.data["item_id"]))


# ----------------------------------------------------------------------------- reading
def _read_table(path: Path) -> tuple[pd.DataFrame, str]:
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".csv", ".txt", ""):
        raise PanelError(
            f"cannot read panel file {name}",
            [Problem("unreadable", f"unsupported file type {suffix!r}; use .csv or .xlsx",
                     file=name, value=suffix)],
        )
    data = read_input_bytes(path, error=PanelError, what="panel file")
    try:
        if suffix in (".xlsx", ".xlsm"):
            raw = read_sheet(data, file=name, error=PanelError, what="panel file")
            fmt = "xlsx"
        else:
            if data[:2] == b"\x1f\x8b":
                data = inflate_gzip(data, file=name, error=PanelError, what="panel file")
            text = data.decode("utf-8-sig")
            header = next(csv.reader(io.StringIO(text)), [])
            names = [h.strip() for h in header]
            twice = sorted({h for h in names if h and names.count(h) > 1})
            if twice:
                raise PanelError.from_problems(
                    [Problem("duplicate_column", f"column {h!r} appears more than once in the "
                             "header; the second would be silently ignored", file=name, row=1,
                             column=h, value=h) for h in twice], name)
            raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                              skip_blank_lines=False)
            fmt = "csv"
    except pd.errors.EmptyDataError:
        raise PanelError(
            f"panel file {name} is empty",
            [Problem("empty_file", "the file is empty (no header row)", file=name)],
        ) from None
    except PanelError:
        raise
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PanelError(
            f"{name}:{line}: the panel file is not UTF-8 text; save it as CSV UTF-8",
            [Problem("encoding", f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line "
                     f"{line})", file=name, line=line)]) from None
    except (ValueError, OSError, csv.Error, pd.errors.ParserError) as exc:
        raise PanelError(
            f"cannot read panel file {name}",
            [Problem("unreadable", f"the file cannot be parsed as {suffix or 'CSV'}: {exc}",
                     file=name)],
        ) from None
    return raw, fmt


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, str) and v.strip() == ""


def _text(v: Any) -> str:
    """A cell as an id string (Excel's 3.0 -> "3")."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _code(v: Any, lo: int, hi: int) -> tuple[int | None, str | None, str | None]:
    """Parse a rating: (code, reason, message)."""
    if _blank(v):
        return None, "missing_value", "no rating given"
    if isinstance(v, bool):
        return None, "not_a_number", f"rating {v!r} is not a number"
    if isinstance(v, (int, float)):
        num = float(v)
    else:
        s = str(v).strip()
        try:
            num = float(s)
        except ValueError:
            return None, "not_a_number", f"rating {s!r} is not a number; use {lo} to {hi}"
    if not (math.isfinite(num) and num.is_integer() and lo <= num <= hi):
        shown = int(num) if math.isfinite(num) and num.is_integer() else num
        return None, "out_of_range", f"rating {shown!r} is outside the scale; use a whole number from {lo} to {hi}"
    return int(num), None, None


def read_panel(
    path: str | os.PathLike[str],
    instrument: Any = None,
    *,
    scale_max: int = 4,
    scale_min: int = 1,
) -> PanelData:
    """Read and check an expert-panel file (CSV or XLSX, long or wide layout).

    Parameters
    ----------
    path : path-like
        ``.csv`` or ``.xlsx`` file.
    instrument : Instrument, optional
        When given, item ids not in the instrument are quarantined (``unknown_item``).
    scale_max, scale_min : int
        The rating scale (default 1..4, the usual relevance scale).

    Returns
    -------
    PanelData

    Raises
    ------
    PanelError
        The file cannot be parsed, is empty, lacks the ``expert`` (or, long form,
        ``relevance``) column, or no rating is usable; the error lists every problem.

    Examples
    --------
    >>> from instrval import read_instrument
    >>> instrument = read_instrument("instruments/iam/iam-2011.yaml")
    >>> panel = read_panel("examples/iam/panel/panel.csv", instrument)
    >>> panel.data.shape
    (230, 6)
    """
    p = Path(path)
    name = str(path)
    raw, fmt = _read_table(p)
    # Drop fully blank rows (CSV blank lines, trailing Excel rows), keep the row numbers.
    raw.index = pd.RangeIndex(2, 2 + len(raw))  # spreadsheet row numbers
    if len(raw):
        raw = raw[[not all(_blank(v) for v in r) for r in raw.itertuples(index=False)]]
    columns = [str(c).strip() for c in raw.columns]
    raw.columns = columns
    lower = {c.lower(): c for c in columns}

    def problem(reason: str, message: str, **kw: Any) -> Problem:
        return Problem(reason, message, file=name, **kw)

    if len(raw) == 0:
        raise PanelError(
            f"panel file {name} has no ratings",
            [problem("empty_file", "the file has a header but no data rows")],
        )
    expert_col = next((lower[n] for n in _EXPERT_NAMES if n in lower), None)
    if expert_col is None:
        raise PanelError(
            f"panel file {name} has no expert column",
            [problem("missing_column",
                     f"no 'expert' column; the columns are: {', '.join(columns)}", row=1)],
        )
    item_col = next((lower[n] for n in _ITEM_NAMES if n in lower), None)
    known = set(instrument.item_ids) if instrument is not None else None
    problems: list[Problem] = []

    # ---- turn both layouts into records: (row, column, expert, item, {aspect: raw})
    records: list[dict[str, Any]] = []
    if item_col is not None:
        layout = "long"
        rel_col = lower.get("relevance")
        if rel_col is None:
            raise PanelError(
                f"panel file {name} has no relevance column",
                [problem("missing_column",
                         f"a long-form panel needs a 'relevance' column; the columns are: "
                         f"{', '.join(columns)}", row=1)],
            )
        text_cols = [c for c in columns if c.lower() in _TEXT_NAMES]
        aspect_cols = [rel_col] + [c for c in columns
                                   if c not in (expert_col, item_col, rel_col, *text_cols)]
        aspects = ["relevance"] + [c for c in aspect_cols[1:]]
        for row, r in raw.iterrows():
            records.append({
                "row": int(row), "column": None, "expert": r[expert_col], "item": r[item_col],
                "ratings": {a: r[c] for a, c in zip(aspects, aspect_cols, strict=True)},
                "text": {c: (None if _blank(r[c]) else str(r[c])) for c in text_cols},
            })
    else:
        layout = "wide"
        aspects = ["relevance"]
        text_cols = []
        item_cols = [c for c in columns if c != expert_col and c.lower() not in _TEXT_NAMES]
        if not item_cols:
            raise PanelError(
                f"panel file {name} has no item columns",
                [problem("missing_column",
                         "a wide-form panel needs one column per item id next to 'expert' "
                         "(or use the long form: expert, item_id, relevance)", row=1)],
            )
        if known is not None:
            for c in item_cols:
                if c not in known:
                    problems.append(problem(
                        "unknown_item",
                        f"column {c!r} is not an item of {instrument.label}; its ratings are "
                        "quarantined", row=1, column=c, value=c))
        for row, r in raw.iterrows():
            for c in item_cols:
                if _blank(r[c]):
                    continue
                records.append({"row": int(row), "column": c, "expert": r[expert_col], "item": c,
                                "ratings": {"relevance": r[c]}, "text": {}})

    # ---- check each record
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for rec in records:
        reasons: list[str] = []
        messages: list[str] = []
        row = rec["row"]

        def add(reason: str, message: str, column: str | None, value: Any,
                record_problem: bool = True, reasons=reasons, messages=messages, row=row) -> None:
            reasons.append(reason)
            messages.append(message)
            if record_problem:
                problems.append(problem(reason, message, row=row, column=column, value=value))

        expert = None if _blank(rec["expert"]) else _text(rec["expert"])
        if expert is None:
            add("blank_expert", "the expert id is blank", expert_col, rec["expert"])
        item = None if _blank(rec["item"]) else _text(rec["item"])
        if item is None:
            add("blank_item", "the item id is blank", item_col, rec["item"])
        elif known is not None and item not in known:
            add("unknown_item", f"item {item!r} is not an item of {instrument.label}",
                rec["column"] or item_col, item, record_problem=layout == "long")
        codes: dict[str, Any] = {}
        for a_i, (aspect, value) in enumerate(rec["ratings"].items()):
            column = rec["column"] or (aspect_cols[a_i] if layout == "long" else None)
            code, reason, msg = _code(value, scale_min, scale_max)
            if reason == "missing_value" and aspect != "relevance":
                codes[aspect] = pd.NA  # optional aspects may be blank
                continue
            if reason is not None:
                add(reason, f"{aspect}: {msg}", column,
                    None if _blank(value) else value)
            codes[aspect] = code
        out = {"row": row, "column": rec["column"], "expert": expert, "item_id": item,
               **codes, **rec["text"]}
        if reasons:
            out["reason"] = ";".join(reasons)
            out["message"] = "; ".join(messages)
            rejected.append(out)
        else:
            accepted.append(out)

    # ---- duplicate expert-item pairs (among otherwise usable ratings): quarantine all copies
    seen: dict[tuple[str, str], list[int]] = {}
    for i, rec in enumerate(accepted):
        seen.setdefault((rec["expert"], rec["item_id"]), []).append(i)
    dup_idx: set[int] = set()
    for (expert, item), idx in seen.items():
        if len(idx) > 1:
            rows = [accepted[i]["row"] for i in idx]
            for i in idx:
                rec = accepted[i]
                others = ", ".join(str(r) for r in rows if r != rec["row"]) or str(rec["row"])
                msg = (f"expert {expert!r} rated item {item!r} more than once (also row "
                       f"{others}); all copies are quarantined")
                problems.append(problem("duplicate_rating", msg, row=rec["row"],
                                        column=rec["column"] or item_col, value=item))
                rec["reason"] = "duplicate_rating"
                rec["message"] = msg
                dup_idx.add(i)
    rejected.extend(accepted[i] for i in sorted(dup_idx))
    accepted = [rec for i, rec in enumerate(accepted) if i not in dup_idx]

    data_cols = ["expert", "item_id", *aspects, *text_cols, "row"]
    data = pd.DataFrame(accepted, columns=data_cols)
    data["expert"] = data["expert"].astype(object)
    data["item_id"] = data["item_id"].astype(object)
    for a in aspects:
        data[a] = pd.array(data[a].tolist(), dtype="Int64") if len(data) else pd.array([], dtype="Int64")
    data["row"] = data["row"].astype(int)
    data = data.reset_index(drop=True)

    q_rows = []
    for rec in rejected:
        base = {"row": rec["row"], "column": rec["column"], "reason": rec["reason"],
                "message": rec["message"], "expert": rec["expert"], "item_id": rec["item_id"]}
        if layout == "long":
            base.update({f"raw_{c}": raw.at[rec["row"], c] for c in columns})
        else:
            base["value"] = raw.at[rec["row"], rec["column"]]
        q_rows.append(base)
    quarantine = _quarantine_frame(q_rows, layout, columns)

    problems.sort(key=lambda pr: (pr.row or 0, pr.column or ""))
    source = {"file": name, "format": fmt, "layout": layout, "rows_read": int(len(raw)),
              "ratings_read": len(records)}
    if data.empty:
        raise PanelError.from_problems(
            problems or [problem("empty_file", "no ratings found")],
            f"{name} (no usable ratings)",
        )
    return PanelData(data=data, quarantine=quarantine, problems=tuple(problems), source=source,
                     aspects=tuple(aspects), scale_min=scale_min, scale_max=scale_max)


def _quarantine_frame(q_rows: list[dict[str, Any]], layout: str,
                      columns: list[str]) -> pd.DataFrame:
    """Quarantine table: row, column, reason, message, expert, item_id, then raw cells
    (long form: every file column, prefixed ``raw_``; wide form: ``value``)."""
    fixed = ["row", "column", "reason", "message", "expert", "item_id"]
    out = []
    for r in q_rows:
        rec = {k: r.get(k) for k in fixed}
        if layout == "long":
            for c in columns:
                rec[f"raw_{c}"] = r.get(f"raw_{c}")
        else:
            rec["value"] = r.get("value")
        out.append(rec)
    cols = fixed + ([f"raw_{c}" for c in columns] if layout == "long" else ["value"])
    q = pd.DataFrame(out, columns=cols)
    if len(q):
        q = q.sort_values(["row", "column"], kind="stable", na_position="first")
        q = q.reset_index(drop=True)
    q["row"] = q["row"].astype(int)
    return q
