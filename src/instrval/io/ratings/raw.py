"""Low-level readers of rating exports: bytes -> a raw table of cells.

Every reader returns a :class:`RawTable`: the records it could split into cells (one row
per record, columns as named in the export), the spreadsheet row of each record, the
records it could not split (ragged or truncated rows, already quarantined), and the
file-level problems. Nothing here knows the instrument; :mod:`instrval.io.ratings.read` maps
the columns and checks the cells.

Delimited text is decoded and its delimiter (comma, semicolon, tab or pipe) taken from the
header line by :mod:`instrval.io.text`, as for every tabular reader. Files without quote characters are split with
pandas' C parser after a fast scan that counts the cells of every line; files with quotes
go through :mod:`csv`, which follows quoted cells across lines.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import Problem, RatingsError
from instrval.io.files import Limits, limits
from instrval.io.text import decode_text as _decode
from instrval.io.text import read_text_bytes, sniff_delimiter

__all__ = ["RawTable", "read_bytes", "decode_text", "sniff_delimiter", "parse_delimited",
           "frame_table", "header_names", "EXTRA_CELLS"]

#: Quarantine column holding the cells of a ragged row beyond the header's width.
EXTRA_CELLS = "(extra cells)"


@dataclass
class RawTable:
    """Cells of an export before mapping and checking.

    Attributes
    ----------
    frame : DataFrame
        One row per record that could be split into the header's columns.
    rows : ndarray of int
        Spreadsheet row of each record of ``frame`` (header = 1).
    quarantine : DataFrame
        Records that could not be split: ``row``, ``reason``, ``message`` and raw cells.
    problems : list of Problem
        File-level problems and one per quarantined record.
    raw : callable, optional
        ``raw(positions) -> DataFrame`` of the exact cell text of records of ``frame``
        (default: the frame's cells as text).
    """

    frame: pd.DataFrame
    rows: np.ndarray
    file: str | None
    format: str
    quarantine: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["row", "reason", "message"]))
    problems: list[Problem] = field(default_factory=list)
    raw: Callable[[np.ndarray], pd.DataFrame] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def raw_cells(self, positions: np.ndarray) -> pd.DataFrame:
        """The cells of some records as text, with the export's column names."""
        if self.raw is not None:
            return self.raw(positions)
        return frame_text(self.frame.iloc[positions])


def frame_text(df: pd.DataFrame) -> pd.DataFrame:
    """A frame's cells as text ("" for missing), index reset."""
    out = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_float_dtype(s.dtype):
            v = s.to_numpy(dtype="float64", na_value=np.nan)
            out[c] = ["" if np.isnan(x) else (str(int(x)) if float(x).is_integer() else repr(x))
                      for x in v]
        else:
            out[c] = s.astype("string").fillna("").to_numpy(dtype=object)
    return pd.DataFrame(out, columns=list(df.columns)).astype("string")


def read_bytes(path: str | os.PathLike[str]) -> tuple[bytes, str]:
    """Read a file (gunzipping ``.gz`` or gzip-magic content); return bytes and sha256."""
    stored, raw = read_text_bytes(Path(path), error=RatingsError, what="rating export")
    return raw, hashlib.sha256(stored).hexdigest()


def csv_limits() -> Limits:
    """The limits in force, with the ``csv`` module's cell size limit raised to
    :attr:`~instrval.io.files.Limits.max_cell_bytes` (its default is 128 KiB)."""
    lim = limits()
    csv.field_size_limit(lim.max_cell_bytes)
    return lim


def decode_text(raw: bytes, file: str | None) -> str:
    """Decode a rating export by the policy of :func:`instrval.io.text.decode_text`
    (UTF-8 with or without a byte-order mark, UTF-16 with one, else Windows-1252 with a
    warning; binary content is refused)."""
    return _decode(raw, file=file, error=RatingsError, what="rating export", stacklevel=3)


def header_names(cells: list[str], file: str | None) -> tuple[list[str], list[Problem]]:
    """Clean header cells; blank names become ``(column N)``, duplicates ``name (2)``."""
    names: list[str] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for j, c in enumerate(cells, start=1):
        name = c.strip()
        if not name:
            name = f"(column {j})"
        if name in seen:
            problems.append(Problem(
                "duplicate_column",
                f"column {name!r} appears twice in the header (columns {seen[name]} and {j})",
                file=file, row=1, column=name, value=name))
            k = 2
            while f"{name} ({k})" in seen:
                k += 1
            name = f"{name} ({k})"
        seen[name] = j
        names.append(name)
    return names, problems


def _quarantine_record(cells: list[str], names: list[str], row: int, file: str | None
                       ) -> tuple[dict[str, Any], Problem]:
    n = len(names)
    if not any(c.strip() for c in cells):
        reason, msg = "empty_row", "the row is empty"
    elif len(cells) > n:
        reason = "ragged_row"
        msg = f"the row has {len(cells)} cells but the header has {n} columns"
    else:
        reason = "truncated_row"
        msg = (f"the row has {len(cells)} cells but the header has {n} columns "
               "(truncated or unquoted line break?)")
    rec: dict[str, Any] = {"row": row, "reason": reason, "message": msg}
    for j, name in enumerate(names):
        rec[name] = cells[j] if j < len(cells) else ""
    if len(cells) > n:
        rec[EXTRA_CELLS] = "|".join(cells[n:])
    prob = Problem(reason, msg, file=file, row=row, value=None if reason == "empty_row"
                   else len(cells))
    return rec, prob


def _qframe(records: list[dict[str, Any]], names: list[str]) -> pd.DataFrame:
    cols = ["row", "reason", "message", *names]
    if any(EXTRA_CELLS in r for r in records):
        cols.append(EXTRA_CELLS)
    q = pd.DataFrame(records, columns=cols)
    for c in cols[1:]:
        q[c] = q[c].astype("string")
    q["row"] = q["row"].astype("int64")
    return q


def parse_delimited(text: str, *, file: str | None, fmt: str, header_rows: int = 1,
                    str_columns: Callable[[str], bool] | None = None) -> RawTable:
    """Split delimited text into a :class:`RawTable`.

    Parameters
    ----------
    text : str
        Decoded text.
    header_rows : int
        Lines of header: 1, or 3 for Qualtrics exports (the first names the columns).
    str_columns : callable, optional
        ``str_columns(name) -> bool``: read this column as text (ids, dates, options);
        other columns are read as numbers where every cell is one.
    """
    name = file or "<data>"
    if not text.strip():
        raise RatingsError(f"{name}: the file is empty",
                           [Problem("empty_file", "the file is empty", file=file)])
    first_nl = text.find("\n")
    header_line = text if first_nl < 0 else text[:first_nl]
    delim = sniff_delimiter(header_line)
    if '"' in text or "\r" in text.replace("\r\n", "\n"):
        return _parse_quoted(text, delim, file=file, fmt=fmt, header_rows=header_rows)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    names, problems = header_names(lines[0].split(delim), file)
    ncol = len(names)
    body_start = header_rows
    if len(lines) <= body_start:
        raise RatingsError(f"{name}: the file has a header but no data rows",
                           [Problem("header_only", "the file has a header but no data rows",
                                    file=file)])
    counts = np.fromiter((ln.count(delim) for ln in lines), dtype=np.int64,
                         count=len(lines)) + 1
    body_counts = counts[body_start:]
    bad_idx = np.flatnonzero(body_counts != ncol) + body_start
    if ncol == 1:  # a one-column file: blank lines are empty rows
        blank_idx = np.array([i for i in range(body_start, len(lines)) if not
                              lines[i].strip()], dtype=np.int64)
        bad_idx = np.union1d(bad_idx, blank_idx).astype(np.int64)
    qrecs: list[dict[str, Any]] = []
    for i in bad_idx:
        rec, prob = _quarantine_record(lines[i].split(delim), names, int(i) + 1, file)
        qrecs.append(rec)
        problems.append(prob)
    is_good = np.ones(len(lines), dtype=bool)
    is_good[:body_start] = False
    is_good[bad_idx] = False
    good_idx = np.flatnonzero(is_good)
    skip = sorted(set(range(1, body_start)) | {int(i) for i in bad_idx})
    if len(good_idx):
        dtype = {c: "string" for c in names if str_columns and str_columns(c)}
        try:
            frame = pd.read_csv(io.StringIO(text), sep=delim, header=None, skiprows=[0, *skip],
                                names=names, dtype=dtype or None, keep_default_na=False,
                                na_values=[""], skip_blank_lines=False, engine="c",
                                quoting=csv.QUOTE_NONE, index_col=False)
        except (pd.errors.ParserError, ValueError) as exc:  # pragma: no cover - safety net
            raise RatingsError(f"{name}: cannot parse the file: {exc}",
                               [Problem("unreadable", str(exc), file=file)]) from None
        if len(frame) != len(good_idx):  # pragma: no cover - safety net
            raise RatingsError(f"{name}: cannot parse the file consistently",
                               [Problem("unreadable", "record count mismatch", file=file)])
    else:
        frame = pd.DataFrame({c: pd.Series([], dtype="string") for c in names})
    rows = good_idx.astype(np.int64) + 1

    def raw(positions: np.ndarray) -> pd.DataFrame:
        recs = [lines[int(good_idx[p])].split(delim) for p in positions]
        return pd.DataFrame(recs, columns=names).astype("string") if recs else \
            pd.DataFrame({c: pd.Series([], dtype="string") for c in names})

    return RawTable(frame=frame, rows=rows, file=file, format=fmt,
                    quarantine=_qframe(qrecs, names), problems=problems, raw=raw,
                    details={"delimiter": delim, "lines": len(lines)})


def _parse_quoted(text: str, delim: str, *, file: str | None, fmt: str,
                  header_rows: int) -> RawTable:
    name = file or "<data>"
    lim = csv_limits()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False)
    records: list[list[str]] = []
    spans: list[tuple[int, int]] = []  # physical lines of each record
    last = 0
    try:
        for rec in reader:
            records.append(rec)
            spans.append((last + 1, reader.line_num))
            last = reader.line_num
    except csv.Error as exc:
        line = reader.line_num
        msg = str(exc)
        if "field larger than field limit" in msg:
            msg = (f"a cell longer than {lim.max_cell_bytes:,} characters (between lines "
                   f"{last + 1} and {line}; an unterminated quote?); raise "
                   "INSTRVAL_MAX_CELL_BYTES if it is real")
        raise RatingsError(f"{name}:{line}: cannot parse the file: {msg}",
                           [Problem("unreadable", msg, file=file, row=len(records) + 1,
                                    line=line)]) from None
    while records and not records[-1]:
        records.pop()
    if not records:
        raise RatingsError(f"{name}: the file is empty",
                           [Problem("empty_file", "the file is empty", file=file)])
    names, problems = header_names(records[0], file)
    ncol = len(names)
    if len(records) <= header_rows:
        raise RatingsError(f"{name}: the file has a header but no data rows",
                           [Problem("header_only", "the file has a header but no data rows",
                                    file=file)])
    good: list[list[str]] = []
    rows: list[int] = []
    qrecs: list[dict[str, Any]] = []
    odd_quotes = text.count('"') % 2 == 1
    for i in range(header_rows, len(records)):
        rec = records[i]
        first, end = spans[i]
        swallowed = end > first and (len(rec) != ncol or (odd_quotes and i == len(records) - 1))
        if swallowed:
            q, prob = _quarantine_record(rec, names, i + 1, file)
            msg = (f"a quoted cell opened on line {first} runs to line {end}, swallowing "
                   f"{end - first} line(s) ({first + 1}-{end}): an unterminated or stray "
                   "quote? The lines in that range were not read as ratings")
            q["reason"], q["message"] = "unterminated_quote", msg
            qrecs.append(q)
            problems.append(Problem("unterminated_quote", msg, file=file, row=i + 1,
                                    line=first, value=f"lines {first}-{end}"))
        elif len(rec) == ncol and (ncol > 1 or rec[0].strip()):
            good.append(rec)
            rows.append(i + 1)
        else:
            q, prob = _quarantine_record(rec, names, i + 1, file)
            qrecs.append(q)
            problems.append(prob)
    if good:
        arr = np.array(good, dtype=object)
        frame = pd.DataFrame({c: pd.array(arr[:, j], dtype="string")
                              for j, c in enumerate(names)})
    else:
        frame = pd.DataFrame({c: pd.Series([], dtype="string") for c in names})
    return RawTable(frame=frame, rows=np.asarray(rows, dtype=np.int64), file=file, format=fmt,
                    quarantine=_qframe(qrecs, names), problems=problems,
                    details={"delimiter": delim, "header_rows": header_rows,
                             "records": len(records), "lines": last})


def frame_table(df: pd.DataFrame, *, file: str | None, fmt: str, first_row: int = 2,
                details: dict[str, Any] | None = None) -> RawTable:
    """Wrap an in-memory frame (from Excel, Parquet, SPSS or the caller) as a RawTable."""
    name = file or "<data>"
    if df.shape[1] == 0:
        raise RatingsError(f"{name}: the table has no columns",
                           [Problem("empty_file", "the table has no columns", file=file)])
    names, problems = header_names([str(c) for c in df.columns], file)
    df = df.copy()
    df.columns = names
    if len(df) == 0:
        raise RatingsError(f"{name}: the table has a header but no data rows",
                           [Problem("header_only", "the table has a header but no data rows",
                                    file=file)])
    df = df.reset_index(drop=True)
    rows = np.arange(first_row, first_row + len(df), dtype=np.int64)
    return RawTable(frame=df, rows=rows, file=file, format=fmt, problems=problems,
                    details=dict(details or {}))
