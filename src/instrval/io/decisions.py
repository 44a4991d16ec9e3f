"""Expert decisions: the file in which experts settle what the rules only propose.

A CSV (or XLSX) file, one row per decision:

========== ========= ==============================================================
column     required  meaning
========== ========= ==============================================================
item       yes       the item id (for ``add``: the id of the new item; may be empty for
                     ``reject``, which names the ``concept``)
decision   yes       ``keep``, ``revise``, ``remove``, ``add`` or ``reject`` (do not add a
                     proposed missing concept)
rationale  yes       why, in the experts' words (shown in the report and changelog)
who        no        who decided (a person or a panel)
date       no        when (ISO date)
new_label  no        the new label: revised wording (``revise``) or the added item's label
new_text   no        the new full item text
construct  no        for ``add``: the construct that receives the new item
concept    no        for ``add`` / ``reject``: the code of the missing concept it settles
========== ========= ==============================================================

Every problem (missing columns, unknown decisions, unknown item ids, duplicate rows) is
collected into one :class:`~instrval.errors.StudyError` naming the file, row and column.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from instrval.errors import Problem, StudyError
from instrval.io.files import read_input_bytes
from instrval.io.tables import read_sheet

__all__ = ["DECISIONS", "DECISION_COLUMNS", "ExpertDecisions", "read_decisions",
           "decisions_from_frame"]

#: Decisions an expert may record.
DECISIONS = ("keep", "revise", "remove", "add", "reject")

#: Columns of the decisions table, in order.
DECISION_COLUMNS = ("item", "decision", "rationale", "who", "date", "new_label", "new_text",
                    "construct", "concept")
_REQUIRED = ("item", "decision", "rationale")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ExpertDecisions:
    """Checked expert decisions.

    Attributes
    ----------
    table : DataFrame
        One row per decision with the columns of :data:`DECISION_COLUMNS` (strings; empty
        optional cells are ``None``).
    source : mapping
        ``file``, ``sha256``, ``rows_read``.
    """

    table: pd.DataFrame
    source: Mapping[str, Any] = field(default_factory=dict)

    def for_item(self, item_id: str) -> dict[str, Any] | None:
        """The decision about an item (or a new item id), or None."""
        hit = self.table[self.table["item"] == item_id]
        return None if hit.empty else {k: _clean(v) for k, v in hit.iloc[0].items()}

    def for_concept(self, code: str) -> dict[str, Any] | None:
        """The ``add`` / ``reject`` decision that settles a missing concept, or None."""
        hit = self.table[(self.table["concept"] == code)
                         & self.table["decision"].isin(["add", "reject"])]
        return None if hit.empty else {k: _clean(v) for k, v in hit.iloc[0].items()}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"source": dict(self.source),
                "decisions": [{k: (None if v is None else str(v)) for k, v in r.items()}
                              for r in self.table.to_dict(orient="records")]}


def read_decisions(path: str | os.PathLike[str], instrument: Any = None) -> ExpertDecisions:
    """Read and check an expert-decisions file (CSV, or XLSX by suffix).

    Parameters
    ----------
    path : path-like
    instrument : Instrument, optional
        When given, ``keep`` / ``revise`` / ``remove`` must name one of its items, ``add``
        must name a new id, and ``construct`` must be one of its constructs.

    Raises
    ------
    StudyError
        Listing every problem with its row (header = row 1) and column.
    """
    p = Path(path)
    name = str(path)

    def fail(reason: str, message: str) -> StudyError:
        return StudyError(f"{name}: {message}", [Problem(reason, message, file=name)])

    raw = read_input_bytes(p, error=StudyError, what="expert decisions file")
    if not raw.strip():
        raise fail("empty_file", "expert decisions file is empty")
    try:
        if p.suffix.lower() in (".xlsx", ".xlsm"):
            df = read_sheet(raw, file=name, error=StudyError, what="expert decisions file",
                            dtype=str, keep_default_na=False)
        else:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise fail("encoding", "expert decisions file is not UTF-8 text; save it as "
                                       "UTF-8") from None
            ragged = [
                Problem("ragged_row", f"row has {len(r)} cells but the header has {len(hdr)}",
                        file=name, row=i)
                for hdr in [next(csv.reader(io.StringIO(text)), [])]
                for i, r in enumerate(csv.reader(io.StringIO(text)), start=1)
                if i > 1 and len(r) > len(hdr)
            ]
            if ragged:
                raise StudyError.from_problems(ragged, name)
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                             index_col=False)
    except StudyError:
        raise
    except pd.errors.EmptyDataError:
        raise fail("empty_file", "expert decisions file has no header row") from None
    except pd.errors.ParserError as exc:
        raise fail("unreadable", f"expert decisions file is not a valid table: {exc}") from None
    except (zipfile.BadZipFile, csv.Error, ValueError, KeyError, OSError) as exc:
        raise fail("unreadable", "expert decisions file is not a readable spreadsheet "
                                f"({type(exc).__name__}: {exc})") from None
    out = decisions_from_frame(df, instrument=instrument, file=name)
    return ExpertDecisions(out.table, {"file": name,
                                       "sha256": hashlib.sha256(raw).hexdigest(),
                                       "rows_read": len(df)})


def decisions_from_frame(df: pd.DataFrame, *, instrument: Any = None,
                         file: str | None = None) -> ExpertDecisions:
    """Check a decisions table given as a DataFrame; see :func:`read_decisions`."""
    problems: list[Problem] = []
    cols = [str(c).strip().lower() for c in df.columns]
    df = df.copy()
    df.columns = cols
    for c in _REQUIRED:
        if c not in cols:
            problems.append(Problem("missing_column",
                                    f"column {c!r} is required (columns: "
                                    f"{', '.join(DECISION_COLUMNS)})", file=file, column=c))
    unknown = [c for c in cols if c not in DECISION_COLUMNS]
    for c in unknown:
        problems.append(Problem("unknown_column",
                                f"unknown column {c!r}; allowed: {', '.join(DECISION_COLUMNS)}",
                                file=file, column=c, severity="error"))
    if problems:
        raise StudyError.from_problems(problems, file or "expert decisions")
    for c in DECISION_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    records = [{c: _clean(rec.get(c)) for c in DECISION_COLUMNS}
               for rec in df.to_dict(orient="records")]
    df = pd.DataFrame(records, columns=list(DECISION_COLUMNS), dtype=object)
    item_ids = set(instrument.item_ids) if instrument is not None else None
    construct_ids = set(instrument.construct_ids) if instrument is not None else None
    seen: dict[str, int] = {}
    for i, rec in enumerate(records):
        row = i + 2
        item, dec = rec["item"], rec["decision"]
        for c in _REQUIRED:
            if c == "item" and rec["item"] is None and rec["concept"] is not None and \
                    (dec or "").lower() == "reject":
                continue  # rejecting a missing concept names the concept, not an item
            if rec[c] is None:
                problems.append(Problem("empty_value", f"{c} is empty", file=file, row=row,
                                        column=c))
        if dec is not None:
            low = dec.lower()
            if low not in DECISIONS:
                problems.append(Problem("invalid_value",
                                        f"decision {dec!r} is not one of {', '.join(DECISIONS)}",
                                        file=file, row=row, column="decision", value=dec))
            else:
                records[i]["decision"] = low
                dec = low
        if item is None:
            item = ""
        key = f"{item}|{rec['concept'] or ''}"
        if key in seen:
            problems.append(Problem("duplicate_row",
                                    f"item {item!r} has a decision already (row {seen[key]})",
                                    file=file, row=row, column="item", value=item))
        seen.setdefault(key, row)
        if dec in ("keep", "revise", "remove") and item and item_ids is not None and item not in item_ids:
            problems.append(Problem("unknown_item",
                                    f"item {item!r} is not an item of {instrument.label}",
                                    file=file, row=row, column="item", value=item))
        if dec == "add" and item:
            if not _ID.match(item):
                problems.append(Problem("invalid_id",
                                        f"new item id {item!r} must start with a letter and "
                                        "use only letters, digits and underscores",
                                        file=file, row=row, column="item", value=item))
            if item_ids is not None and item in item_ids:
                problems.append(Problem("duplicate_id",
                                        f"new item id {item!r} already exists in "
                                        f"{instrument.label}", file=file, row=row,
                                        column="item", value=item))
            if rec["new_label"] is None:
                problems.append(Problem("empty_value", "an added item needs a new_label",
                                        file=file, row=row, column="new_label"))
            if rec["construct"] is None and rec["concept"] is None:
                problems.append(Problem("empty_value",
                                        "an added item needs a construct (or the concept it "
                                        "answers, whose construct is then used)", file=file,
                                        row=row, column="construct"))
        c = rec["construct"]
        if c is not None and construct_ids is not None and c not in construct_ids:
            problems.append(Problem("unknown_construct",
                                    f"construct {c!r} is not a construct of "
                                    f"{instrument.label}", file=file, row=row,
                                    column="construct", value=c))
    if problems:
        raise StudyError.from_problems(problems, file or "expert decisions")
    table = pd.DataFrame(records, columns=list(DECISION_COLUMNS), dtype=object)
    return ExpertDecisions(table, {"file": file})


def _clean(v: Any) -> str | None:
    """Blank cells (None, NaN, empty or spaces) as None, others as stripped text."""
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    s = str(v).strip()
    return s or None
