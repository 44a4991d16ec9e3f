"""Checks of a rating table against an instrument, vectorised.

:func:`check_table` takes a table whose columns already carry canonical names
(``rating_id``, ``respondent_id``, optional ``date``, grouping columns, and the answer
columns of :meth:`RatingData.value_columns <instrval.model.ratings.RatingData.value_columns>`)
with cells as read (text or numbers), checks every cell at once column by column, and
returns the accepted rows in the canonical wide layout together with the positions of the
rows that cannot be used and a :class:`~instrval.errors.Problem` for every failing cell.
Python loops run only over failing cells, so checking 234,196 clean ratings costs a few
column operations.

The format readers in :mod:`instrval.io.ratings` turn an export into such a table and
build the quarantine from the positions returned here.

Reason codes (``Problem.reason``) produced here, see :data:`REASONS`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import Problem, RatingsError
from instrval.model.instrument import Construct, Gate, Instrument
from instrval.model.ratings import ID_COLUMNS, expected_columns

__all__ = [
    "REASONS",
    "TableCheck",
    "check_table",
    "expected_columns",
    "blank_mask",
    "as_text",
    "gate_codes",
    "level_codes",
    "map_choices",
]

#: Every reason code a rating check can produce, with what it means. Row-level errors put
#: the row in the quarantine; file-level errors have ``row=None``; warnings drop nothing.
REASONS: dict[str, str] = {
    # file-level (the reader raises RatingsError: nothing can be read)
    "file_not_found": "the export does not exist",
    "encoding": "the file is not UTF-8 text",
    "empty_file": "the file has no content",
    "header_only": "the file has a header but no data rows",
    "unreadable": "the file cannot be parsed in the format given",
    "not_a_regular_file": "a device, named pipe or socket was given instead of a file",
    "too_large": "the file, or the memory it needs, is over a limit (docs/security.md)",
    "decompression_bomb": "a gzip, XLSX or Parquet file inflates past a limit",
    "too_many_rows": "an XLSX worksheet has more rows than the limit",
    "too_many_cells": "an XLSX worksheet has more cells than the limit",
    "missing_id_column": "no rating_id or respondent_id column",
    "duplicate_column": "two columns carry the same name",
    "mapping": "a mapping file names an unknown target or is malformed",
    "nothing_usable": "every row was quarantined",
    # file-level, reported
    "missing_column": "an answer column of the instrument is absent (its cells are <NA>)",
    "unknown_column": "a column is not part of the instrument (warning)",
    "dictionary_mismatch": "a REDCap dictionary disagrees with the instrument (warning)",
    # row-level (quarantine)
    "ragged_row": "the row has more cells than the header",
    "unterminated_quote": "a quoted cell runs over several lines, swallowing them",
    "conflicting_record_row": "two REDCap record-level rows of one record disagree",
    "truncated_row": "the row has fewer cells than the header",
    "empty_row": "the row is empty",
    "blank_id": "the rating id or respondent id is blank",
    "duplicate_id": "the rating id appears on more than one row",
    "not_a_number": "a cell that must hold a number holds text",
    "out_of_range": "a number is not one of the item's allowed codes",
    "invalid_level": "a single-choice cell holds no level of the construct",
    "invalid_option": "a gate cell holds no option of the gate",
    "skip_logic": "a gated construct was answered although its gate was not open",
    "nothing_answered": "no answer cell of the row holds anything",
    "invalid_date": "a date that is not an ISO 8601 date",
    "unknown_item": "a long-format line names an item the instrument does not have",
    "duplicate_entry": "a long-format rating answers the same column twice",
    "inconsistent_respondent": "a long-format rating names two respondents",
}


@dataclass(frozen=True)
class TableCheck:
    """What :func:`check_table` returns.

    Attributes
    ----------
    data : DataFrame
        Accepted rows in the canonical wide layout (index 0..n-1).
    positions : ndarray of int
        Positions (0-based, in the input table) of the accepted rows.
    bad : DataFrame
        One row per rejected input row: ``position``, ``row``, ``reason`` (``;``-joined
        codes) and ``message`` (``;``-joined sentences).
    problems : list of Problem
        File-level problems first, then one per failing cell, in row order.
    """

    data: pd.DataFrame
    positions: np.ndarray
    bad: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


# ---------------------------------------------------------------- column helpers
def blank_mask(col: pd.Series) -> np.ndarray:
    """True where a cell is blank: missing, or text that is empty after stripping."""
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype) \
            or pd.api.types.is_datetime64_any_dtype(col.dtype):
        return col.isna().to_numpy(dtype=bool)
    s = col.astype("string")
    return s.str.strip().fillna("").eq("").to_numpy(dtype=bool)


def as_text(col: pd.Series) -> pd.Series:
    """Cells as stripped text (``string`` dtype); blanks become ``<NA>``.

    Whole numbers stored as floats (``12.0``, as a column of ids with a blank is read)
    are written without the ``.0``.
    """
    if pd.api.types.is_float_dtype(col.dtype):
        v = col.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(v) & (v == np.floor(v))
        if whole[~np.isnan(v)].all():
            out = pd.Series(pd.array(v, dtype="Int64"), index=col.index).astype("string")
            return out
    s = col.astype("string").str.strip()
    return s.mask(s.eq("").fillna(False).astype(bool))


def _numeric(col: pd.Series, blank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cells as float64 (NaN where blank or not a number) and a mask of text junk."""
    if pd.api.types.is_bool_dtype(col.dtype):
        vals = col.astype("float64").to_numpy()
        return vals, np.zeros(len(col), dtype=bool)
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.to_numpy(dtype="float64", na_value=np.nan), np.zeros(len(col), dtype=bool)
    s = col.astype("string").str.strip()
    num = pd.to_numeric(s, errors="coerce")
    vals = pd.Series(num).to_numpy(dtype="float64", na_value=np.nan)
    junk = ~blank & np.isnan(vals)
    return vals, junk


def level_codes(c: Construct) -> dict[str, str]:
    """Lookup for a single-choice cell: lower-cased level id and its code -> level id."""
    out: dict[str, str] = {}
    for it in c.items:
        code = c.item_code(it.id)
        out[it.id.lower()] = it.id
        out[str(code).lower()] = it.id  # text codes (format 1.1) match in any case
        if isinstance(code, int):
            out[f"{code}.0"] = it.id
    return out


def gate_codes(g: Gate) -> dict[str, str]:
    """Lookup for a gate cell: lower-cased option and its 1-based code -> option."""
    out: dict[str, str] = {}
    for opt in g.options:
        code = g.option_code(opt)  # 1-based position unless the gate stores codes
        out[opt.lower()] = opt
        out[str(code).lower()] = opt
        if isinstance(code, int):
            out[f"{code}.0"] = opt
    return out


def _norm_key(u: Any) -> str | None:
    if u is None or u is pd.NA or (isinstance(u, float) and np.isnan(u)):
        return None
    if isinstance(u, (float, np.floating)) and float(u).is_integer():
        return str(int(u))
    if isinstance(u, (bool, np.bool_)):
        return str(int(u))
    return str(u).strip().lower()


def map_choices(col: pd.Series, lookup: dict[str, str]) -> pd.Series:
    """Map cells through a choice lookup (see :func:`level_codes`); ``<NA>`` where blank
    or not found. Works on the distinct values only (``pandas.factorize``)."""
    import pyarrow as pa

    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    mapped = [lookup.get(k) if (k := _norm_key(u)) is not None else None for u in uniques]
    if not mapped:
        return pd.Series(pd.array([pd.NA] * len(col), dtype="string"), index=col.index)
    targets = sorted({m for m in mapped if m is not None})
    tcode = {t: i for i, t in enumerate(targets)}
    umap = np.array([tcode[m] if m is not None else -1 for m in mapped] + [-1],
                    dtype=np.int32)
    out = umap[codes]  # codes == -1 (missing) picks the trailing -1
    dic = pa.DictionaryArray.from_arrays(pa.array(out, mask=out < 0),
                                         pa.array(targets, type=pa.string()))
    return pd.Series(pd.array(dic.cast(pa.string()), dtype="string"), index=col.index)


def _fmt(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


#: Markers some tools write for a missing answer; instrval reads only blank cells as missing,
#: so that a code is never guessed. The message says how to export blanks instead.
_MISSING_HINT = dict.fromkeys(
    ("NA", "N/A", "NAN", "NULL", "NONE", ".", "#N/A"),
    "; missing answers must be blank cells (in R: write.csv(x, na = \"\"); in SPSS and "
    "Stata exports, leave system-missing values empty)",
)


def _allowed_text(values: Sequence[Any]) -> str:
    return ", ".join(_fmt(v) for v in values)


# ---------------------------------------------------------------- the collector
class _Collector:
    """Gathers failing cells: one Problem each, and the reasons of each failing row."""

    def __init__(self, rows: np.ndarray, file: str | None):
        self.rows = rows
        self.file = file
        self.cell_problems: list[tuple[int, int, Problem]] = []
        self.row_reasons: dict[int, list[tuple[str, str]]] = defaultdict(list)
        self.bad = np.zeros(len(rows), dtype=bool)
        self._order = 0

    def add(self, mask: np.ndarray, reason: str, column: str | None,
            values: Iterable[Any] | pd.Series | np.ndarray | None, message) -> None:
        """Record every True position of ``mask``; ``message(value, pos)`` -> str."""
        pos = np.flatnonzero(mask)
        if not len(pos):
            return
        self.bad[pos] = True
        self._order += 1
        vals = None
        if values is not None:
            arr = values.to_numpy(dtype=object) if isinstance(values, pd.Series) \
                else np.asarray(values, dtype=object)
            vals = arr[pos]
        for k, p in enumerate(pos):
            v = None if vals is None else vals[k]
            if v is not None and (v is pd.NA or (isinstance(v, float) and np.isnan(v))):
                v = None
            if isinstance(v, (np.integer,)):
                v = int(v)
            elif isinstance(v, np.floating):
                v = float(v)
            msg = message(v, int(p))
            prob = Problem(reason, msg, file=self.file, row=int(self.rows[p]),
                           column=column, value=v)
            self.cell_problems.append((int(p), self._order, prob))
            self.row_reasons[int(p)].append((reason, msg))


# ---------------------------------------------------------------- the check
def check_table(table: pd.DataFrame, instrument: Instrument, *,
                rows: Sequence[int] | np.ndarray | None = None,
                file: str | None = None,
                groups: Sequence[str] | None = None) -> TableCheck:
    """Check a table in canonical column names against an instrument.

    Parameters
    ----------
    table : DataFrame
        One row per rating. Columns: ``rating_id``, ``respondent_id``, optionally
        ``date``, grouping columns, and answer columns named as in the canonical layout.
        Cells as read: numbers or text. Multi-select/binary/Likert cells must be numbers
        in :meth:`Instrument.allowed_values`; single-choice cells a level id (any case)
        or its code (:meth:`Construct.item_code`); gate cells an option (any case) or its
        1-based position.
    instrument : Instrument
    rows : sequence of int, optional
        The spreadsheet row of each table row (header = 1); default ``2, 3, ...``.
    file : str, optional
        File name used in problems.
    groups : sequence of str, optional
        Grouping columns to keep (default: every column that is not an id, ``date`` or an
        answer column).

    Returns
    -------
    TableCheck

    Raises
    ------
    RatingsError
        When ``rating_id`` or ``respondent_id`` is missing (nothing can be identified).
    """
    n = len(table)
    rows_arr = np.arange(2, n + 2) if rows is None else np.asarray(rows, dtype=np.int64)
    if len(rows_arr) != n:
        raise ValueError("rows must have one entry per table row")
    file_problems: list[Problem] = []
    missing_ids = [c for c in ID_COLUMNS if c not in table.columns]
    if missing_ids:
        raise RatingsError.from_problems(
            [Problem("missing_id_column",
                     f"no {c!r} column: every rating needs a rating id and a respondent id "
                     f"(columns present: {', '.join(map(str, table.columns[:30]))})",
                     file=file, column=c) for c in missing_ids],
            file or "the rating table")
    expected = expected_columns(instrument)
    known = set(ID_COLUMNS) | {"date"} | set(expected)
    if groups is None:
        groups = [c for c in table.columns if c not in known]
    for colname in expected:
        if colname not in table.columns:
            file_problems.append(Problem(
                "missing_column",
                f"the export has no column for {colname!r} of {instrument.label}; its cells "
                "are treated as not presented (<NA>)", file=file, column=colname))

    col = _Collector(rows_arr, file)
    out: dict[str, Any] = {}
    blanks: dict[str, np.ndarray] = {}

    # ---- ids
    for idc in ID_COLUMNS:
        txt = as_text(table[idc])
        isblank = txt.isna().to_numpy()
        what = "rating id" if idc == "rating_id" else "respondent id"
        col.add(isblank, "blank_id", idc, None, lambda v, p, what=what: f"the {what} is blank")
        out[idc] = txt
    rid = out["rating_id"]
    dup = (rid.notna() & rid.duplicated(keep=False)).to_numpy()
    if dup.any():
        where: dict[str, list[int]] = defaultdict(list)
        for p in np.flatnonzero(dup):
            where[rid.iat[p]].append(int(rows_arr[p]))

        def _dupmsg(v: Any, p: int) -> str:
            others = [r for r in where[v] if r != rows_arr[p]]
            return (f"rating id {v!r} also appears on row(s) {', '.join(map(str, others))}; "
                    "every copy is quarantined")
        col.add(dup, "duplicate_id", "rating_id", rid, _dupmsg)

    # ---- date
    if "date" in table.columns:
        raw = table["date"]
        if pd.api.types.is_datetime64_any_dtype(raw.dtype):
            parsed = raw
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_convert(None)
            parsed = parsed.astype("datetime64[us]")
            baddate = np.zeros(n, dtype=bool)
        else:
            txt = as_text(raw)
            parsed = pd.to_datetime(txt, errors="coerce", format="ISO8601", utc=True)
            parsed = parsed.dt.tz_convert(None).astype("datetime64[us]")
            baddate = (txt.notna() & parsed.isna()).to_numpy()
            col.add(baddate, "invalid_date", "date", txt,
                    lambda v, p: f"{v!r} is not a date; write dates as ISO 8601 "
                                 "(YYYY-MM-DD, optionally with a time)")
        out["date"] = pd.Series(parsed.to_numpy(), index=table.index)

    # ---- answer columns
    codes: dict[str, pd.Series] = {}
    for c in instrument.constructs:
        if c.gate is not None and c.gate.id in table.columns:
            g = c.gate
            rawg = table[g.id]
            b = blank_mask(rawg)
            mapped = map_choices(rawg, gate_codes(g))
            bad = ~b & mapped.isna().to_numpy()
            opts = ", ".join(f"{o} ({i})" for i, o in enumerate(g.options, start=1))
            col.add(bad, "invalid_option", g.id, as_text(rawg),
                    lambda v, p, g=g, opts=opts:
                    f"{v!r} is not an option of gate {g.id} (allowed: {opts})")
            blanks[g.id] = b
            codes[g.id] = mapped
        if c.kind == "single_choice":
            if c.id not in table.columns:
                continue
            rawc = table[c.id]
            b = blank_mask(rawc)
            mapped = map_choices(rawc, level_codes(c))
            bad = ~b & mapped.isna().to_numpy()
            lv = ", ".join(f"{i} ({c.item_code(i)})" for i in c.item_ids)
            col.add(bad, "invalid_level", c.id, as_text(rawc),
                    lambda v, p, c=c, lv=lv:
                    f"{v!r} is not a level of {c.id} (allowed: {lv})")
            blanks[c.id] = b
            codes[c.id] = mapped
            continue
        for it in c.items:
            if it.id not in table.columns:
                continue
            rawi = table[it.id]
            b = blank_mask(rawi)
            vals, junk = _numeric(rawi, b)
            allowed = instrument.allowed_values(it.id)
            if junk.any():
                col.add(junk, "not_a_number", it.id, as_text(rawi),
                        lambda v, p, a=allowed:
                        f"{v!r} is not a number (allowed codes: {_allowed_text(a)})"
                        + _MISSING_HINT.get(str(v).strip().upper(), ""))
            ok = np.isin(vals, np.asarray(allowed, dtype="float64"))
            bad = ~b & ~junk & ~ok
            if bad.any():
                col.add(bad, "out_of_range", it.id, as_text(rawi),
                        lambda v, p, a=allowed, i=it.id, x=vals:
                        f"{_fmt(x[p])} is not an allowed code of {i} "
                        f"(allowed: {_allowed_text(a)})")
            blanks[it.id] = b
            codes[it.id] = vals  # type: ignore[assignment]

    # ---- skip logic: answers to a gated construct whose gate is not open
    for c in instrument.constructs:
        g = c.gate
        if g is None:
            continue
        cols = [x for x in (c.id,) if c.kind == "single_choice" and x in blanks] or \
            [x for x in c.item_ids if x in blanks]
        if not cols:
            continue
        answered = np.zeros(n, dtype=bool)
        for x in cols:
            answered |= ~blanks[x]
        if g.id in codes:
            is_open = codes[g.id].isin(list(g.open_when)).fillna(False).to_numpy(dtype=bool)
            gate_bad = ~blanks[g.id] & codes[g.id].isna().to_numpy()
            gate_val = as_text(table[g.id])
        else:
            is_open = np.zeros(n, dtype=bool)
            gate_bad = np.zeros(n, dtype=bool)
            gate_val = pd.Series(pd.NA, index=table.index, dtype="string")
        viol = answered & ~is_open & ~gate_bad
        if viol.any():
            opens = " or ".join(repr(o) for o in g.open_when)

            def _skipmsg(v: Any, p: int, c=c, g=g, cols=cols, opens=opens) -> str:
                ans = [x for x in cols if not blanks[x][p]]
                state = "was not answered" if v is None else f"is {v!r}"
                return (f"{c.id} is answered ({', '.join(ans)}) although gate {g.id} {state};"
                        f" {c.id} is asked only when {g.id} is {opens}")
            col.add(viol, "skip_logic", g.id, gate_val, _skipmsg)

    # ---- nothing answered
    present = [x for x in expected if x in blanks]
    if present:
        allblank = np.ones(n, dtype=bool)
        for x in present:
            allblank &= blanks[x]
        col.add(allblank, "nothing_answered", None, None,
                lambda v, p: "no answer cell of this row holds anything")

    # ---- assemble accepted rows
    keep = np.flatnonzero(~col.bad)
    all_kept = len(keep) == n

    def take(series: pd.Series) -> Any:
        arr = series.array
        return arr if all_kept else arr.take(keep)

    frame_cols: dict[str, Any] = {
        "rating_id": take(out["rating_id"]),
        "respondent_id": take(out["respondent_id"]),
    }
    if "date" in out:
        frame_cols["date"] = out["date"].to_numpy()[keep]
    for gcol in groups:
        s = table[gcol]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype) \
                or pd.api.types.is_datetime64_any_dtype(s.dtype):
            frame_cols[gcol] = take(s)
        else:
            frame_cols[gcol] = take(as_text(s))
    text_cols = {c.id for c in instrument.constructs} | {g.id for g in instrument.gates}
    for x in expected:
        if x not in codes:
            frame_cols[x] = pd.array([pd.NA] * len(keep),
                                     dtype="string" if x in text_cols else "Int64")
            continue
        v = codes[x]
        if isinstance(v, pd.Series):
            frame_cols[x] = take(v)
        else:
            kv = v[keep]
            mask = np.isnan(kv)
            frame_cols[x] = pd.arrays.IntegerArray(np.where(mask, 0, kv).astype(np.int64),
                                                   mask)
    frame = pd.DataFrame(frame_cols)
    if "date" in frame.columns:
        frame["date"] = frame["date"].astype("datetime64[us]")

    # ---- rejected rows and problems
    col.cell_problems.sort(key=lambda t: (t[0], t[1]))
    problems = file_problems + [p for _, _, p in col.cell_problems]
    badpos = np.flatnonzero(col.bad)
    reasons = []
    messages = []
    for p in badpos:
        rr = col.row_reasons[int(p)]
        seen: list[str] = []
        for r, _ in rr:
            if r not in seen:
                seen.append(r)
        reasons.append(";".join(seen))
        messages.append("; ".join(m for _, m in rr))
    bad_frame = pd.DataFrame({"position": badpos.astype(np.int64),
                              "row": rows_arr[badpos].astype(np.int64),
                              "reason": pd.array(reasons, dtype="string"),
                              "message": pd.array(messages, dtype="string")})
    return TableCheck(data=frame, positions=keep, bad=bad_frame, problems=problems)
