"""Reading plain tables of item data (CSV, TSV, XLSX) for the statistics commands.

One reader for every command that analyses a table with one column per item
(``reliability``, ``icc``, ``efa``, ``factors``, ``omega``, ``cfa``, ``correlations``), so
that a bad file gives the same clear message whichever command reads it:

* the file is missing, a directory, empty (0 bytes), a binary file (an image, a PDF, a
  zip/Excel file saved as ``.csv``), a corrupt workbook, or a header without data rows;
* text encoding: UTF-8 (with or without a byte-order mark) and UTF-16 with a byte-order
  mark are read as they are; anything else is read as Windows-1252/Latin-1 (Excel's plain
  "CSV") with a :class:`~instrval.errors.DataQualityWarning` naming the file;
* the delimiter is found from the header line (comma, semicolon, tab or ``|``; ``.tsv``
  and ``.tab`` files are tab-separated); with semicolons, decimal commas (``3,5``) are
  read as numbers, as Excel writes them in such locales;
* a row with more cells than the header, or a header naming a column twice, is an error
  naming the row (spreadsheet numbering: header = 1, first data row = 2) instead of a
  silent shift or rename; blank lines are skipped but still counted, so the row numbers are
  the ones a spreadsheet shows;
* :meth:`Table.numeric` turns the columns a statistic uses into numbers and reports every
  cell that is not a number (file, row, column, value) and every blank column, so that no
  value is silently turned into a missing one.

Every problem raises an :class:`~instrval.errors.InstrvalError` subclass
(:class:`~instrval.errors.StatisticsError` unless the caller asks for another) listing
:class:`~instrval.errors.Problem` records; a table is never partly read.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import InstrvalError, Problem, StatisticsError
from instrval.io.files import check_xlsx, inflate_gzip, limits, read_input_bytes
from instrval.io.text import BINARY_MAGIC, decode_text_with, sniff_delimiter

__all__ = ["Table", "read_table", "read_sheet", "MISSING_TOKENS"]

#: Cell texts read as missing (besides blank cells), as R's ``write.csv`` and pandas do.
MISSING_TOKENS = frozenset({"NA", "N/A", "n/a", "NaN", "nan", "-nan", "NULL", "null",
                            "#N/A", "<NA>", "None", "."})

_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_TAB_SUFFIXES = (".tsv", ".tab")
#: Largest magnitude a cell may hold: squares and sums of larger numbers overflow.
_MAX_MAGNITUDE = 1e150
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Table:
    """A table read by :func:`read_table`.

    Attributes
    ----------
    data : DataFrame
        One row per non-blank data row. Columns whose every non-blank cell is a number are
        numeric (``int64`` when complete and whole, else ``float64``); the others hold the
        cell text (``NaN`` for blank cells). When the first header cell is blank (R's
        ``write.csv`` row names), that column is the index.
    rows : ndarray of int
        The spreadsheet row of each row of ``data`` (header = 1, first data row = 2).
    file : str
        The file, as given.
    format : {"csv", "xlsx"}
    encoding : str or None
        The text encoding used (CSV only).
    delimiter : str or None
        The delimiter used (CSV only).
    """

    data: pd.DataFrame = field(repr=False)
    rows: np.ndarray = field(repr=False)
    file: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    error: type[InstrvalError] = field(default=StatisticsError, repr=False)

    @property
    def columns(self) -> list[str]:
        """The column names, in file order (the index column excluded)."""
        return [str(c) for c in self.data.columns]

    def require(self, columns: Sequence[str], *, what: str = "column") -> None:
        """Raise (naming the file and the columns it has) unless every column is present."""
        absent = [c for c in columns if c not in self.data.columns]
        if not absent:
            return
        have = ", ".join(self.columns) or "(no columns)"
        problems = [Problem("unknown_column", f"no {what} {c!r} in the file", file=self.file,
                            row=1, column=c, value=c) for c in absent]
        raise self.error(
            f"{self.file}: no {what}(s) {', '.join(absent)}; the columns are: {have}",
            problems)

    def item_columns(self) -> list[str]:
        """The columns that hold numbers: every column except unnamed ones and text
        columns (columns none of whose cells is a number, e.g. ids, names or dates)."""
        out = []
        for c in self.data.columns:
            name = str(c)
            if name.startswith("Unnamed:"):
                continue
            s = self.data[c]
            numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
            if numeric or _as_numbers(s, self.delimiter)[0].notna().any():
                out.append(name)
        return out

    def numeric(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Return ``columns`` (default: all) as a float DataFrame, checking every cell.

        Raises
        ------
        InstrvalError
            An item named twice (``duplicate_item``), or listing every absent column
            (``unknown_column``), every cell that is not a
            number (``not_a_number``: file, row, column, value), every infinite or huge
            number (``out_of_range``) and every column blank in
            every row (``blank_column``).
        """
        cols = list(self.data.columns) if columns is None else list(columns)
        twice = sorted({c for c in cols if cols.count(c) > 1})
        if twice:
            raise self.error(
                f"{self.file}: item(s) {', '.join(map(repr, twice))} named more than once; "
                "name each item once",
                [Problem("duplicate_item", f"item {c!r} is named more than once",
                         file=self.file, column=c, value=c) for c in twice])
        self.require(cols)
        problems: list[Problem] = []
        out: dict[str, pd.Series] = {}
        for c in cols:
            s = self.data[c]
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                num = s.astype(float)
            else:
                num, blank = _as_numbers(s, self.delimiter)
                for pos in np.flatnonzero((num.isna() & ~blank).to_numpy()):
                    value = s.iloc[pos]
                    problems.append(Problem(
                        "not_a_number", f"{value!r} is not a number", file=self.file,
                        row=int(self.rows[pos]), column=str(c), value=value))
            arr = num.to_numpy(dtype=float)
            for pos in np.flatnonzero(~np.isnan(arr) & ~(np.abs(arr) < _MAX_MAGNITUDE)):
                problems.append(Problem(
                    "out_of_range", f"{s.iloc[pos]!r} is infinite or too large to compute "
                    f"with (beyond {_MAX_MAGNITUDE:g})", file=self.file,
                    row=int(self.rows[pos]), column=str(c), value=s.iloc[pos]))
            if len(num) and num.isna().all() and not any(p.column == str(c) for p in problems):
                problems.append(Problem(
                    "blank_column",
                    f"column {str(c)!r} is blank in all {len(num)} rows; fill it in or leave "
                    "it out", file=self.file, column=str(c)))
            out[str(c)] = num
        if problems:
            raise self.error.from_problems(problems, self.file)
        return pd.DataFrame(out, index=self.data.index)


def read_table(path: str | os.PathLike[str], *, error: type[InstrvalError] = StatisticsError,
               what: str = "data file") -> Table:
    """Read a CSV/TSV/XLSX table (one column per item) safely; see the module notes.

    Parameters
    ----------
    path : path-like
        ``.xlsx``/``.xlsm`` (first sheet) or delimited text (``.csv``, ``.tsv``, ``.txt``,
        any other name; ``.gz`` compressed text too).
    error : type of InstrvalError
        The error class raised (default :class:`~instrval.errors.StatisticsError`).
    what : str
        What the file is, for messages.

    Returns
    -------
    Table

    Raises
    ------
    InstrvalError (of class ``error``)
        When the file cannot be read as a table or has no data rows; every problem names
        the file (and the row, column and value where there is one).

    Examples
    --------
    >>> t = read_table("tests/data/bfi.csv")
    >>> t.numeric(["A1", "A2"]).shape
    (2800, 2)
    """
    p = Path(path)
    name = str(path)

    def fail(reason: str, message: str, **kw: Any) -> InstrvalError:
        return error(f"{name}: {message}", [Problem(reason, message, file=name, **kw)])

    lim = limits()
    csv.field_size_limit(lim.max_cell_bytes)
    raw = read_input_bytes(p, error=error, what=what, limits=lim)
    if not raw:
        raise fail("empty_file", f"the {what} is empty (0 bytes)")
    suffix = p.suffix.lower()
    if suffix in _EXCEL_SUFFIXES:
        data, rows = _read_excel(raw, name, error, what)
        fmt, encoding, sep = "xlsx", None, None
    else:
        if raw[:2] == b"\x1f\x8b":
            raw = inflate_gzip(raw, file=name, error=error, what=what, limits=lim)
            if not raw:
                raise fail("empty_file", "the file is empty (0 bytes once decompressed)")
        text, encoding = decode_text_with(raw, file=name, error=error, what=what)
        if not text.strip():
            raise fail("empty_file", f"the {what} is empty (no header row)")
        sep = "\t" if suffix in _TAB_SUFFIXES else sniff_delimiter(text)
        data, rows = _parse_csv(text, sep, name, error)
        fmt = "csv"
    if len(data) == 0:
        raise fail("empty_file", f"the {what} has a header but no data rows", row=1)
    return Table(data=data, rows=rows, file=name, format=fmt, encoding=encoding,
                 delimiter=sep, error=error)


# ----------------------------------------------------------------------------- helpers
def _parse_csv(text: str, sep: str, name: str,
               error: type[InstrvalError]) -> tuple[pd.DataFrame, np.ndarray]:
    """Parse delimited text: pandas' C parser when the table is regular, else a scan that
    names every row with too many cells."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
    header_row, header = 0, []
    try:
        for header_row, rec in enumerate(reader, start=1):  # noqa: B007
            if any(c.strip() for c in rec):
                header = [h.strip() for h in rec]
                break
    except csv.Error as exc:
        raise _unreadable(name, error, exc) from None
    if not header:
        raise error(f"{name}: the file has no header row (every line is blank)",
                    [Problem("empty_file", "the file has no header row (every line is "
                             "blank)", file=name)])
    while len(header) > 1 and header[-1] == "":  # trailing delimiters after the header
        header.pop()
    problems = _duplicate_columns(header, header_row, name)
    if problems:
        raise error.from_problems(problems, name)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, skiprows=header_row - 1,
                         skip_blank_lines=False, engine="c", low_memory=False,
                         usecols=range(len(header)) if len(header) > 1 else None)
        rows = np.arange(header_row + 1, header_row + 1 + len(df))
        extra_ok = True
    except pd.errors.ParserError:
        extra_ok = False
    except (ValueError, csv.Error, pd.errors.EmptyDataError) as exc:
        raise _unreadable(name, error, exc) from None
    if not extra_ok:
        df, rows = _parse_slow(text, sep, name, error, header, header_row)
    else:
        # pandas can split the header differently from the csv module (a quote inside an
        # unquoted cell): the scan decides then
        if len(df.columns) != len(header) or not _ragged_free(text, sep, len(header),
                                                              header_row):
            df, rows = _parse_slow(text, sep, name, error, header, header_row)
        else:
            df.columns = [h if h else f"Unnamed: {j}" for j, h in enumerate(header)]
    keep = df.notna().any(axis=1).to_numpy() if len(df.columns) else np.ones(len(df), bool)
    df = df.loc[keep].reset_index(drop=True)
    rows = rows[keep]
    unnamed_blank = [c for c in df.columns[1:] if str(c).startswith("Unnamed:")
                     and df[c].isna().all()]
    df = df.drop(columns=unnamed_blank)
    if len(df.columns) > 1 and not header[0]:  # R's write.csv row names
        df = df.set_index(df.columns[0])
        df.index.name = None
    return df, rows


def _unreadable(name: str, error: type[InstrvalError], exc: Exception) -> InstrvalError:
    msg = f"cannot read the file as CSV: {exc}".strip()
    return error(f"{name}: {msg}", [Problem("unreadable", msg, file=name)])


def _duplicate_columns(header: list[str], header_row: int, name: str) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for j, h in enumerate(header):
        if h and h in seen:
            problems.append(Problem(
                "duplicate_column", f"column {h!r} appears twice in the header (columns "
                f"{seen[h] + 1} and {j + 1})", file=name, row=header_row, column=h, value=h))
        seen.setdefault(h, j)
    return problems


def _ragged_free(text: str, sep: str, width: int, header_row: int) -> bool:
    """True when no row has non-blank cells past the header's width (pandas may have cut
    them off through ``usecols``)."""
    if sep not in text:
        return True
    if "\"" not in text:  # fast path: no quoting, count delimiters per line
        for line in text.splitlines()[header_row:]:
            if line.count(sep) >= width and any(c.strip() for c in line.split(sep)[width:]):
                return False
        return True
    for i, rec in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=sep,
                                       strict=False), start=1):
        if i > header_row and len(rec) > width and any(c.strip() for c in rec[width:]):
            return False
    return True


def _parse_slow(text: str, sep: str, name: str, error: type[InstrvalError],
                header: list[str], header_row: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Parse with the csv module, naming every row that has more cells than the header."""
    width = len(header)
    body: list[list[str]] = []
    rows: list[int] = []
    problems: list[Problem] = []
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep,
                                  strict=False))
    except csv.Error as exc:
        raise _unreadable(name, error, exc) from None
    for n, r in enumerate(records, start=1):
        if n <= header_row:
            continue
        if len(r) > width:
            extra = r[width:]
            if any(c.strip() for c in extra):
                problems.append(Problem(
                    "ragged_row", f"the row has {len(r)} cells but the header has {width} "
                    f"(extra cells: {', '.join(map(repr, extra))}); check its delimiters "
                    "and quotes", file=name, row=n, value=sep.join(r)))
                continue
            r = r[:width]
        elif len(r) < width:
            r = r + [""] * (width - len(r))
        body.append(r)
        rows.append(n)
    if problems:
        raise error.from_problems(problems, name)
    names = [h if h else f"Unnamed: {j}" for j, h in enumerate(header)]
    df = pd.DataFrame({nm: _column([r[j] for r in body], sep) for j, nm in enumerate(names)},
                      columns=names)
    return df, np.asarray(rows, dtype=int)


def _blank(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and v != v:
        return True
    if isinstance(v, str):
        t = v.strip()
        return t == "" or t in MISSING_TOKENS
    return False


def _as_numbers(s: pd.Series, sep: str | None) -> tuple[pd.Series, pd.Series]:
    """``(numbers, blank)``: each cell as a float (NaN when blank or not a number) and
    whether it is blank. Booleans are not numbers; with ``;`` as the delimiter a decimal
    comma (``3,5``) is read as a decimal point."""
    obj = s.astype(object)
    blank = obj.map(_blank).astype(bool)
    is_bool = obj.map(lambda v: isinstance(v, (bool, np.bool_))).astype(bool)
    txt = obj.where(~blank & ~is_bool)
    is_str = txt.map(lambda v: isinstance(v, str)).astype(bool)
    if is_str.any():
        t = txt[is_str].str.strip()
        if sep == ";":
            t = t.str.replace(r"^([+-]?\d+),(\d+)$", r"\1.\2", regex=True)
        ok = t.str.fullmatch(_NUMBER_RE.pattern)
        txt = txt.copy()
        txt[is_str] = t.where(ok.astype(bool))
    num = pd.to_numeric(txt, errors="coerce").astype(float)
    return num, blank


def _column(values: list[str], sep: str | None) -> pd.Series:
    """Type a column of cell texts like pandas' CSV reader: numbers if every non-blank
    cell is one (int64 when complete and whole), else text with NaN for blanks."""
    t = pd.Series(values, dtype=object).str.strip()
    blank = t.eq("") | t.isin(MISSING_TOKENS)
    if sep == ";":
        t = t.str.replace(r"^([+-]?\d+),(\d+)$", r"\1.\2", regex=True)
    ok = t.str.fullmatch(_NUMBER_RE.pattern).astype(bool) & ~blank
    if not (ok | blank).all():
        return pd.Series(pd.Series(values, dtype=object).str.strip().where(~blank),
                         dtype=object)
    arr = pd.to_numeric(t.where(ok), errors="coerce").to_numpy(dtype=float)
    if (len(arr) and not np.isnan(arr).any() and np.all(arr == np.round(arr))
            and np.all(np.abs(arr) < 2**53)):
        return pd.Series(arr.astype(np.int64))
    return pd.Series(arr)


def read_sheet(raw: bytes, *, file: str, error: type[InstrvalError], what: str,
               duplicates: str = "raise", **read_excel: object) -> pd.DataFrame:
    """Read the first worksheet of XLSX bytes through the guards every reader shares.

    The bytes must be a zip archive (else ``not_xlsx``, naming what they are instead);
    :func:`~instrval.io.files.check_xlsx` refuses decompression bombs and sheets with too
    many rows or cells before a cell is built; the header's names are kept as written and
    a name given twice is a ``duplicate_column`` problem (pandas would silently rename
    the second ``A.1``), unless ``duplicates="keep"`` (the caller reports them). Data row ``i`` of the result is spreadsheet row ``i + 2``.
    """
    if not raw.startswith(b"PK\x03\x04"):
        kind = next((k for m, k in BINARY_MAGIC.items() if raw.startswith(m)), None)
        if raw.startswith(b"\xd0\xcf\x11\xe0"):
            kind = "an old binary Excel file (.xls)"
        elif kind is None and raw[:64].strip() and b"\x00" not in raw[:1024]:
            kind = "text (a CSV file?)"
        msg = (f"the {what} is not a readable spreadsheet: not an Excel workbook (an .xlsx "
               "file is a zip archive)"
               f"{'; it is ' + kind if kind else ''}; save it as .xlsx or CSV")
        raise error(f"{file}: {msg}", [Problem("not_xlsx", msg, file=file)])
    check_xlsx(raw, file=file, error=error, what=what)
    kw = {"dtype": object, **read_excel}
    try:
        df = pd.read_excel(io.BytesIO(raw), sheet_name=0, engine="openpyxl", header=None,
                           **kw)
    except Exception as exc:  # openpyxl/zipfile raise assorted errors on corrupt files
        msg = f"the {what} is not a readable Excel workbook ({type(exc).__name__}: {exc})"
        raise error(f"{file}: {msg}", [Problem("unreadable", msg, file=file)]) from None
    if df.empty:
        return pd.DataFrame()
    header = ["" if _blank(v) else str(v).strip() for v in df.iloc[0]]
    while header and header[-1] == "" and df.iloc[1:, len(header) - 1].map(_blank).all():
        header.pop()
    df = df.iloc[1:, : len(header)].reset_index(drop=True)
    problems = _duplicate_columns(header, 1, file)
    if problems and duplicates == "raise":
        raise error.from_problems(problems, file)
    df.columns = [h if h else f"Unnamed: {j}" for j, h in enumerate(header)]
    return df


def _read_excel(raw: bytes, name: str = "", error: type[InstrvalError] = StatisticsError,
                what: str = "data file") -> tuple[pd.DataFrame, np.ndarray]:
    df = read_sheet(raw, file=name, error=error, what=what)
    names = [str(c) for c in df.columns]
    rows = np.arange(2, 2 + len(df))
    keep = np.array([not all(_blank(v) for v in r) for r in df.itertuples(index=False)],
                    dtype=bool) if len(df) else np.zeros(0, dtype=bool)
    df = df.loc[keep].reset_index(drop=True)
    rows = rows[keep]
    out = pd.DataFrame({n: _typed(df[c]) for n, c in zip(names, df.columns, strict=True)},
                       columns=names)
    return out, rows


def _typed(s: pd.Series) -> pd.Series:
    """Type a column of Excel cells: numbers if every non-blank cell is one."""
    s = s.reset_index(drop=True).astype(object)
    num, blank = _as_numbers(s, None)
    if (num.notna() | blank).all():
        arr = num.to_numpy()
        if (len(arr) and not np.isnan(arr).any() and np.all(arr == np.round(arr))
                and np.all(np.abs(arr) < 2**53)):
            return pd.Series(arr.astype(np.int64))
        return pd.Series(arr)
    return s.where(~blank, np.nan)
