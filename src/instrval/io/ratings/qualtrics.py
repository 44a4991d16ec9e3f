"""Qualtrics exports: legacy and current header rows, respondent ids, unticked boxes.

Since 2017 a Qualtrics CSV export has three header rows (column names, question texts,
``ImportId``s); legacy exports have two. Nothing here reads the file: the readers in
:mod:`instrval.io.ratings.read` parse it and call these steps.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd

from instrval.errors import Problem
from instrval.io.ratings.raw import RawTable
from instrval.model.instrument import Instrument
from instrval.model.ratings import ID_COLUMNS
from instrval.validate.ratings import as_text, blank_mask

__all__ = ["qualtrics_legacy", "qualtrics_labels", "qualtrics_ids", "qualtrics_fill"]


def qualtrics_legacy(lines: list[str]) -> bool:
    """A legacy Qualtrics export: two header rows, the second giving ``ResponseID`` and the
    question texts (no third ``ImportId`` row); the first row names the columns either as
    ``ResponseID, ResponseSet, ...`` or ``V1, V2, ...``."""
    if len(lines) < 2:
        return False
    first = {c.strip().strip('"').lower() for c in re.split(r"[,;\t]", lines[0])}
    second = lines[1].lower()
    return ("responseset" in first or {"v1", "v2"} <= first) and "responseid" in second \
        and (len(lines) < 3 or "importid" not in lines[2].lower())


def qualtrics_labels(text: str) -> tuple[list[str], list[str], int]:
    """Column names, the question-text row and the number of header rows of a Qualtrics
    export (3 since 2017, 2 for legacy exports; legacy ``V1..`` names are replaced by the
    second row's ``ResponseID``, ``StartDate``...)."""
    rows = []
    for k, rec in enumerate(csv.reader(io.StringIO(text, newline=""))):
        rows.append(rec)
        if k >= 2:
            break
    names = rows[0] if rows else []
    labels = rows[1] if len(rows) > 1 else []
    legacy = qualtrics_legacy([",".join(r) for r in rows])
    if legacy and {"v1", "v2"} <= {n.strip().lower() for n in names}:
        names = [lab if re.fullmatch(r"V\d+", n.strip()) and lab.strip() else n
                 for n, lab in zip(names, labels + [""] * len(names), strict=False)]
    return names, labels, 2 if legacy else 3


def qualtrics_ids(raw: RawTable) -> list[Problem]:
    """Without a respondent id or ExternalReference each ``ResponseId`` is its own
    respondent (with a warning)."""
    df = raw.frame
    cols = {c.lower(): c for c in df.columns}
    if "respondent_id" in cols:
        return []
    ext = cols.get("externalreference") or cols.get("externaldatareference")
    if ext is not None and (~blank_mask(df[ext])).any():
        return []
    rid = cols.get("responseid")
    if rid is None:
        return []
    df["respondent_id"] = df[rid]
    return [Problem("unknown_column",
                    "the export has no respondent_id or ExternalReference: each response is "
                    "counted as its own respondent (map a respondent column to change this)",
                    file=raw.file, column="respondent_id", severity="warning")]



def qualtrics_fill(table: pd.DataFrame, instrument: Instrument) -> None:
    """Qualtrics leaves unticked boxes blank: in a multi-select construct with at least one
    answered cell in a row, blanks are 0; ``-99`` (seen but unanswered) is 0 there and
    blank elsewhere."""
    for c in instrument.constructs:
        cols = [i for i in c.item_ids if i in table.columns] if c.kind == "multi_select" \
            else []
        if cols:
            txt = {x: as_text(table[x]) for x in cols}
            seen = np.zeros(len(table), dtype=bool)
            for x in cols:
                seen |= txt[x].notna().to_numpy()
            for x in cols:
                t = txt[x]
                fill = seen & (t.isna() | t.eq("-99")).fillna(True).to_numpy(dtype=bool)
                if fill.any():
                    table[x] = t.astype(object).where(~fill, "0")
    for x in table.columns:
        if x in ID_COLUMNS:
            continue
        t = as_text(table[x])
        m = t.eq("-99").fillna(False).to_numpy(dtype=bool)
        if m.any():
            table[x] = table[x].astype(object).where(~m, None)
