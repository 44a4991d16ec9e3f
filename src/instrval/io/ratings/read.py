"""Reading rating exports and checking them against an instrument.

:func:`read_ratings` turns an export from a survey platform into checked
:class:`~instrval.model.ratings.RatingData`: the accepted ratings in the canonical wide
layout, a quarantine table with every row that could not be used and why, and a
:class:`~instrval.errors.Problem` for every failing cell. ``accepted + quarantined = read``
always holds; nothing is silently dropped or imputed.

Formats (``format=``; detected from the file when ``None``), described with examples in
``docs/ratings-formats.md``:

``wide``
    Canonical wide table (CSV, CSV.gz, XLSX or Parquet): ``rating_id``,
    ``respondent_id``, optional ``date`` and grouping columns, a column per item of
    multi-select, Likert and binary constructs, a column per single-choice construct
    (the chosen level id), a column per gate (the chosen option).
``long``
    ``rating_id``, ``respondent_id``, ``item_id``, ``value`` (plus optional ``date`` and
    grouping columns), one line per answer.
``redcap``
    A REDCap record export (raw values), read with its data dictionary when given.
``qualtrics``
    A Qualtrics CSV export with three header rows and numeric values.
``spss``
    An SPSS ``.sav`` file (needs :mod:`pyreadstat`, the ``spss`` extra); value labels
    are used to recode single-choice and gate codes.

:func:`iter_ratings` reads Parquet files in chunks (and other files whole) and
:class:`RatingCounts` adds up the chunks' counts.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instrval._choices import RATING_FORMATS
from instrval.errors import DataQualityWarning, Problem, RatingsError
from instrval.io.files import check_input_file, check_parquet, read_input_bytes
from instrval.io.mapping import ColumnMapping, apply_mapping, load_mapping, mapping_template
from instrval.io.ratings.raw import (
    RawTable,
    decode_text,
    frame_table,
    parse_delimited,
    read_bytes,
)
from instrval.io.tables import read_sheet
from instrval.model.instrument import Instrument
from instrval.model.ratings import ID_COLUMNS, QUARANTINE_COLUMNS, RatingData
from instrval.validate.ratings import as_text, blank_mask, check_table, gate_codes

__all__ = [
    "FORMATS",
    "read_ratings",
    "inspect_ratings",
    "check_ratings",
    "iter_ratings",
    "RatingCounts",
    "count_ratings",
    "detect_format",
    "read_redcap_dictionary",
    "ratings_mapping_template",
    "MAX_LISTED_PROBLEMS",
]

#: Formats :func:`read_ratings` reads.
FORMATS = RATING_FORMATS

#: At most this many problems are listed in the text of a raised RatingsError (the
#: error's ``ratings`` attribute holds them all).
MAX_LISTED_PROBLEMS = 50  # = RatingsError.max_listed

ProgressFn = Callable[[int, "int | None"], None]
MappingArg = "str | os.PathLike[str] | Mapping[str, Any] | ColumnMapping | None"

_LONG_COLUMNS = {"rating_id", "respondent_id", "item_id", "value"}
_EXCEL = {".xlsx", ".xlsm", ".xls"}
_PARQUET = {".parquet", ".pq"}
_SPSS = {".sav", ".zsav"}


# ===================================================================== detection
def _container(path: Path, head: bytes) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    last = suffixes[-1] if suffixes else ""
    if last in _EXCEL or head[:2] == b"PK":
        return "excel"
    if last in _PARQUET or head[:4] == b"PAR1":
        return "parquet"
    if last in _SPSS or head[:4] in (b"$FL2", b"$FL3"):
        return "spss"
    return "text"


def _text_format(text: str, dictionary: Any) -> str:
    lines = text.split("\n", 3)
    header = lines[0].lower()
    names = {c.strip().strip('"').strip() for c in re.split(r"[,;\t]", header)}
    if dictionary is not None:
        return "redcap"
    if "record_id" in names or "redcap_repeat_instrument" in names or \
            any("___" in n for n in names):
        return "redcap"
    if ("responseid" in names or "startdate" in names) and len(lines) > 2 and \
            "importid" in lines[2].lower():
        return "qualtrics"
    if _qualtrics_legacy(lines):
        return "qualtrics"
    if names >= _LONG_COLUMNS:
        return "long"
    return "wide"


def detect_format(path: str | os.PathLike[str], *, dictionary: Any = None) -> str:
    """Guess the format of an export: ``wide``, ``long``, ``redcap``, ``qualtrics`` or
    ``spss`` (from the file's extension, magic bytes and header)."""
    p = Path(path)
    head = read_input_bytes(p, error=RatingsError, what="rating export", limit=65536)
    kind = _container(p, head)
    if kind == "spss":
        return "spss"
    if kind in ("excel", "parquet"):
        return "wide"
    if head[:2] == b"\x1f\x8b":
        import gzip
        try:
            with gzip.open(p, "rb") as fh:
                head = fh.read(65536)
        except (OSError, EOFError):
            return "wide"
    text = head.decode("utf-8-sig", errors="replace")
    return _text_format(text, dictionary)


# ===================================================================== readers
def _str_col(name: str) -> bool:
    low = name.strip().lower()
    return low in ("rating_id", "respondent_id", "date", "record_id", "responseid",
                   "externalreference", "recordeddate", "item_id", "value",
                   "redcap_repeat_instrument", "redcap_event_name")


def _read_raw(path: Path, fmt: str, container: str) -> tuple[RawTable, str]:
    name = str(path)
    if container in ("excel", "parquet"):
        what, detail = ("Excel", "xlsx") if container == "excel" else ("Parquet", "parquet")
        raw_bytes, digest = read_bytes(path)
        if container == "parquet":
            check_parquet(io.BytesIO(raw_bytes), file=name, error=RatingsError,
                          what="rating export", whole=True)
        try:
            buf = io.BytesIO(raw_bytes)
            df = (read_sheet(raw_bytes, file=name, error=RatingsError, what="rating export",
                             duplicates="keep") if container == "excel"
                  else pd.read_parquet(buf))
        except RatingsError:
            raise
        except Exception as exc:  # openpyxl and pyarrow raise many kinds on damaged files
            raise _unreadable(name, what, f"{what} file", exc) from None
        return frame_table(df, file=name, fmt=fmt, details={"container": detail}), digest
    if container == "spss":
        raw_bytes, digest = read_bytes(path)
        try:
            import pyreadstat
        except ImportError:  # pragma: no cover - depends on the environment
            raise RatingsError("reading SPSS files needs pyreadstat: pip install "
                               "'instrval[spss]'",
                               [Problem("unreadable", "pyreadstat is not installed",
                                        file=name)]) from None
        try:
            df, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
        except Exception as exc:  # pyreadstat.ReadstatError and friends
            raise _unreadable(name, "SPSS", ".sav file", exc) from None
        raw = frame_table(df, file=name, fmt="spss", details={"container": "sav"})
        raw.details["value_labels"] = {k: dict(v) for k, v in
                                       meta.variable_value_labels.items()}
        return raw, digest
    raw_bytes, digest = read_bytes(path)
    text = decode_text(raw_bytes, name)
    return _parse_text(text, name, fmt), digest


def _unreadable(name: str, what: str, noun: str, exc: Exception) -> RatingsError:
    """The error for a binary export (``what``: Excel, Parquet, SPSS) its library refused."""
    return RatingsError(f"{name}: cannot read the {what} file: {exc}",
                        [Problem("unreadable", f"not a readable {noun}: {exc}", file=name)])


def _qualtrics_legacy(lines: list[str]) -> bool:
    """A legacy Qualtrics export: two header rows, the second giving ``ResponseID`` and the
    question texts (no third ``ImportId`` row); the first row names the columns either as
    ``ResponseID, ResponseSet, ...`` or ``V1, V2, ...``."""
    if len(lines) < 2:
        return False
    first = {c.strip().strip('"').lower() for c in re.split(r"[,;\t]", lines[0])}
    second = lines[1].lower()
    return ("responseset" in first or {"v1", "v2"} <= first) and "responseid" in second \
        and (len(lines) < 3 or "importid" not in lines[2].lower())


def _qualtrics_labels(text: str) -> tuple[list[str], list[str], int]:
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
    legacy = _qualtrics_legacy([",".join(r) for r in rows])
    if legacy and {"v1", "v2"} <= {n.strip().lower() for n in names}:
        names = [lab if re.fullmatch(r"V\d+", n.strip()) and lab.strip() else n
                 for n, lab in zip(names, labels + [""] * len(names), strict=False)]
    return names, labels, 2 if legacy else 3


def _parse_text(text: str, name: str | None, fmt: str) -> RawTable:
    if fmt == "qualtrics":
        names, _, header_rows = _qualtrics_labels(text[:1 << 20])
        raw = parse_delimited(text, file=name, fmt=fmt, header_rows=header_rows,
                              str_columns=_str_col)
        if header_rows == 2 and len(names) == len(raw.frame.columns):
            raw.frame.columns = names  # legacy V1.. names
        return raw
    return parse_delimited(text, file=name, fmt=fmt, str_columns=_str_col)


# ===================================================================== REDCap
def read_redcap_dictionary(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read a REDCap data dictionary (CSV) into ``{field: {"form", "type", "label",
    "choices": {code: label}}}`` (field names lower-cased), with
    :func:`instrval.io.redcap_dictionary.parse_redcap_dictionary`."""
    from instrval.io.redcap_dictionary import parse_redcap_dictionary

    return parse_redcap_dictionary(path, error=RatingsError).as_mapping()


def _redcap_prepare(raw: RawTable, instrument: Instrument,
                    ddict: Mapping[str, Mapping[str, Any]] | None) -> list[Problem]:
    """Give a REDCap export rating and respondent ids; merge record-level rows.

    In a project with repeating instruments, rows with a blank
    ``redcap_repeat_instrument`` hold record-level fields (e.g. the clinician's
    specialty); they are merged into the record's rating rows and are not ratings
    themselves. Without a ``rating_id`` field a rating is identified by
    ``record_id``, the event and the repeat instance.
    """
    df = raw.frame
    problems: list[Problem] = []
    cols = {c.lower(): c for c in df.columns}
    rec = cols.get("record_id") or (df.columns[0] if len(df.columns) else None)
    if rec is None:
        return problems
    rep = cols.get("redcap_repeat_instrument")
    inst = cols.get("redcap_repeat_instance")
    ev = cols.get("redcap_event_name")
    keep = np.ones(len(df), dtype=bool)
    if rep is not None:
        is_rep = ~blank_mask(df[rep])
        if is_rep.any() and (~is_rep).any():
            base = df.loc[~is_rep]
            recid = as_text(df[rec])
            key_cols = [rec] + ([ev] if ev is not None else [])
            value_cols = [c for c in df.columns if c not in key_cols and c not in
                          (rep, inst) and not c.lower().endswith("_complete")]
            filled = base[value_cols].notna() & ~base[value_cols].apply(
                lambda s: pd.Series(blank_mask(s), index=s.index))
            record_cols = [c for c in value_cols if filled[c].any()]
            if record_cols:
                b = base.assign(_key=as_text(base[rec]))[["_key", *record_cols]]
                problems.extend(_conflicting_record_rows(b, raw, np.flatnonzero(~is_rep)))
                b = b.drop_duplicates("_key", keep="first").set_index("_key")
                for c in record_cols:
                    fill = recid.map(b[c])
                    cur_blank = blank_mask(df[c])
                    df[c] = df[c].astype(object).where(~cur_blank, fill.astype(object))
            keep = is_rep
            raw.details["record_rows"] = int((~is_rep).sum())
    if "respondent_id" not in cols:
        df["respondent_id"] = as_text(df[rec])
    if "rating_id" not in cols:
        rid = as_text(df[rec])
        if ev is not None and df[ev].nunique(dropna=True) > 1:
            rid = rid + ":" + as_text(df[ev]).fillna("")
        if inst is not None and rep is not None and (~blank_mask(df[rep])).any():
            rid = rid + "-" + as_text(df[inst]).fillna("")
        df["rating_id"] = rid
    if rec in df.columns and rec.lower() == "record_id":
        df = df.drop(columns=[rec])  # now respondent_id (and part of rating_id)
    if not keep.all():
        raw.frame = df.loc[keep].reset_index(drop=True)
        pos = np.flatnonzero(keep)
        raw.rows = raw.rows[pos]
        old_raw = raw.raw
        if old_raw is not None:
            raw.raw = lambda p, old=old_raw, pos=pos: old(pos[p])
    else:
        raw.frame = df
    if ddict:
        problems.extend(_check_dictionary(instrument, ddict, raw.file))
    return problems


def _conflicting_record_rows(b: pd.DataFrame, raw: RawTable,
                             pos: np.ndarray) -> list[Problem]:
    """A problem for every record-level field that two record-level rows of the same
    record fill with different values (only the first would be used)."""
    out: list[Problem] = []
    dup = b["_key"].duplicated(keep=False).to_numpy()
    if not dup.any():
        return out
    sub = b.loc[dup]
    rows = raw.rows[pos[dup]]
    for c in sub.columns[1:]:
        first: dict[str, tuple[str, int]] = {}
        for key, v, row in zip(sub["_key"], sub[c], rows, strict=True):
            if v is None or (isinstance(v, float) and v != v) or not str(v).strip():
                continue
            text = str(v).strip()
            if key not in first:
                first[key] = (text, int(row))
            elif first[key][0] != text:
                out.append(Problem(
                    "conflicting_record_row",
                    f"record {key!r} has a second record-level row that gives {c!r} as "
                    f"{text!r}, but row {first[key][1]} gives {first[key][0]!r}; keep one",
                    file=raw.file, row=int(row), column=str(c), value=text))
    return out


def _check_dictionary(instrument: Instrument, ddict: Mapping[str, Mapping[str, Any]],
                      file: str | None) -> list[Problem]:
    out: list[Problem] = []
    for c in instrument.constructs:
        fields: list[tuple[str, set[str]]] = []
        if c.gate is not None:
            fields.append((c.gate.id.lower(), {str(c.gate.option_code(o))
                                               for o in c.gate.options}))
        if c.kind in ("multi_select", "single_choice"):
            fields.append((c.id.lower(), {str(c.item_code(i)) for i in c.item_ids}))
        for fname, codes in fields:
            d = ddict.get(fname)
            if d is None:
                out.append(Problem("dictionary_mismatch",
                                   f"the data dictionary has no field {fname!r}",
                                   file=file, column=fname, severity="warning"))
            elif d["choices"] and set(d["choices"]) != codes and not all(
                    lab.lower() in {o.lower() for o in _choice_ids(instrument, fname)}
                    for lab in d["choices"].values()):
                out.append(Problem(
                    "dictionary_mismatch",
                    f"field {fname!r} has codes {', '.join(d['choices'])} in the data "
                    f"dictionary; {instrument.label} expects {', '.join(sorted(codes))}",
                    file=file, column=fname, severity="warning"))
    return out


def _choice_ids(instrument: Instrument, target: str) -> tuple[str, ...]:
    for g in instrument.gates:
        if g.id.lower() == target.lower():
            return g.options
    for c in instrument.constructs:
        if c.id.lower() == target.lower() and c.kind == "single_choice":
            return c.item_ids
    return ()


def _recode_by_labels(table: pd.DataFrame, instrument: Instrument,
                      colmap: Mapping[str, str], labels: Mapping[str, Mapping[Any, str]],
                      ) -> None:
    """Recode single-choice and gate codes whose value label names a level or option."""
    lower_labels = {str(k).lower(): v for k, v in labels.items()}
    for col, target in colmap.items():
        lab = lower_labels.get(str(col).lower())
        if not lab:
            continue
        ids = _choice_ids(instrument, target)
        if not ids:
            continue
        by_text: dict[str, str] = {i.lower(): i for i in ids}
        for c in instrument.constructs:
            if c.id == target:
                by_text.update({it.label.lower(): it.id for it in c.items})
        lut: dict[str, str] = {}
        for code, text in lab.items():
            hit = by_text.get(str(text).strip().lower())
            if hit is not None:
                k = code
                if isinstance(k, float) and k.is_integer():
                    k = int(k)
                lut[str(k).strip().lower()] = hit
        if not lut:
            continue
        txt = as_text(table[target])
        key = txt.str.lower().str.replace(r"\.0$", "", regex=True)
        rec = key.map(lut)
        table[target] = rec.astype(object).where(rec.notna(), txt.astype(object))


def _redcap_blank_hidden(table: pd.DataFrame, instrument: Instrument) -> None:
    """REDCap writes 0 for every check box, shown or hidden by branching logic: a 0 in a
    gated multi-select construct whose gate is not open means "not presented"."""
    for c in instrument.constructs:
        if c.gate is None or c.kind != "multi_select":
            continue
        if c.gate.id in table.columns:
            gv = as_text(table[c.gate.id]).str.lower().map(gate_codes(c.gate))
            closed = ~gv.isin(list(c.gate.open_when)).fillna(False).to_numpy(dtype=bool)
        else:
            closed = np.ones(len(table), dtype=bool)
        for it in c.item_ids:
            if it not in table.columns:
                continue
            s = table[it]
            zero = as_text(s).isin(["0", "0.0"]).fillna(False).to_numpy(dtype=bool)
            hide = zero & closed
            if hide.any():
                table[it] = s.astype(object).where(~hide, None)


def _qualtrics_fill(table: pd.DataFrame, instrument: Instrument) -> None:
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


def _qualtrics_ids(raw: RawTable) -> list[Problem]:
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


# ===================================================================== long format
def _pivot_long(raw: RawTable, instrument: Instrument) -> RawTable:
    """Turn a long table (one line per answer) into one record per rating."""
    df = raw.frame
    cols = {c.lower(): c for c in df.columns}
    missing = [c for c in ("rating_id", "respondent_id", "item_id", "value") if c not in cols]
    if missing:
        raise RatingsError.from_problems(
            [Problem("missing_id_column", f"a long table needs a {c!r} column", file=raw.file,
                     column=c) for c in missing], raw.file or "the long table")
    rid = as_text(df[cols["rating_id"]])
    resp = as_text(df[cols["respondent_id"]])
    item = as_text(df[cols["item_id"]])
    value = as_text(df[cols["value"]])
    extra = [c for c in df.columns if c.lower() not in _LONG_COLUMNS]
    rows = raw.rows
    levels = {it.id.lower(): (c.id, it.id) for c in instrument.constructs
              if c.kind == "single_choice" for it in c.items}
    targets = {x.lower(): x for x in (*(c.id for c in instrument.constructs
                                        if c.kind == "single_choice"),
                                      *(g.id for g in instrument.gates),
                                      *(it.id for c in instrument.constructs
                                        if c.kind != "single_choice" for it in c.items))}
    n = len(df)
    col_t = np.empty(n, dtype=object)
    val_t = value.to_numpy(dtype=object).copy()
    err: dict[int, list[tuple[str, str, str | None]]] = {}
    drop = np.zeros(n, dtype=bool)
    item_l = item.str.lower().to_numpy(dtype=object)
    for i in range(n):  # one pass over lines: long files are modest
        k = item_l[i]
        if k is pd.NA or k is None:
            err.setdefault(i, []).append(("unknown_item", "the item_id is blank", None))
            continue
        if k in levels:
            cid, lid = levels[k]
            v = val_t[i]
            if v in ("1", "1.0", "true", "TRUE", "True"):
                col_t[i], val_t[i] = cid, lid
            elif v in ("0", "0.0", "false", "FALSE", "False") or v is pd.NA:
                drop[i] = True
            else:
                err.setdefault(i, []).append((
                    "invalid_level", f"{v!r} for level {lid} (write 1 for the chosen level)",
                    "value"))
            continue
        t = targets.get(k)
        if t is None:
            err.setdefault(i, []).append((
                "unknown_item", f"{item.iat[i]!r} is not an item, single-choice construct "
                f"or gate of {instrument.label}", "item_id"))
            continue
        col_t[i] = t
    keyed = pd.DataFrame({"rating_id": rid, "col": col_t, "pos": np.arange(n)})
    rid_blank = rid.isna().to_numpy()
    valid = ~rid_blank & ~drop & pd.notna(col_t)
    dups = keyed[valid].duplicated(["rating_id", "col"], keep=False)
    for p in keyed[valid].loc[dups.to_numpy(), "pos"]:
        err.setdefault(int(p), []).append((
            "duplicate_entry", f"rating {rid.iat[p]!r} answers {col_t[p]} on more than one "
            "line", "item_id"))
    first_resp = resp.groupby(rid, sort=False).transform("first")
    incons = (~rid_blank & resp.notna().to_numpy() & first_resp.notna().to_numpy()
              & (resp.fillna("") != first_resp.fillna("")).to_numpy())
    for p in np.flatnonzero(incons):
        err.setdefault(int(p), []).append((
            "inconsistent_respondent", f"rating {rid.iat[p]!r} has respondent "
            f"{resp.iat[p]!r} here and {first_resp.iat[p]!r} on its first line",
            "respondent_id"))
    # ratings to quarantine whole
    bad_ratings = {rid.iat[p] for p in err if rid.iat[p] is not pd.NA}
    qrecs: list[dict[str, Any]] = []
    problems = list(raw.problems)
    for p in np.flatnonzero(rid_blank):
        qrecs.append({"row": int(rows[p]), "reason": "blank_id",
                      "message": "the rating id is blank", "rating_id": "",
                      "respondent_id": resp.iat[p] if resp.iat[p] is not pd.NA else "",
                      "rows": str(int(rows[p])),
                      "cells": f"{item.iat[p]}={value.iat[p]}"})
        problems.append(Problem("blank_id", "the rating id is blank", file=raw.file,
                                row=int(rows[p]), column="rating_id"))
    for p in sorted(err):
        for reason, msg, column in err[p]:
            problems.append(Problem(reason, msg, file=raw.file, row=int(rows[p]),
                                    column=column, value=value.iat[p] if column == "value"
                                    else (item.iat[p] if column == "item_id" else None)))
    in_bad = rid.isin(bad_ratings).fillna(False).to_numpy(dtype=bool) & ~rid_blank
    if in_bad.any():
        sub = pd.DataFrame({"rating_id": rid[in_bad], "respondent_id": resp[in_bad],
                            "row": rows[in_bad], "cell": (item[in_bad].fillna("") + "=" +
                                                          value[in_bad].fillna("")),
                            "pos": np.flatnonzero(in_bad)})
        for r_id, g in sub.groupby("rating_id", sort=False):
            reasons: list[str] = []
            msgs: list[str] = []
            for p in g["pos"]:
                for reason, msg, _ in err.get(int(p), []):
                    if reason not in reasons:
                        reasons.append(reason)
                    msgs.append(f"row {int(rows[p])}: {msg}")
            qrecs.append({"row": int(g["row"].iloc[0]), "reason": ";".join(reasons),
                          "message": "; ".join(msgs), "rating_id": r_id,
                          "respondent_id": g["respondent_id"].iloc[0],
                          "rows": ",".join(str(int(x)) for x in g["row"]),
                          "cells": "; ".join(g["cell"].astype(str))})
    q = pd.DataFrame(qrecs, columns=["row", "reason", "message", "rating_id",
                                     "respondent_id", "rows", "cells"])
    q = pd.concat([raw.quarantine, q], ignore_index=True) if len(raw.quarantine) else q
    ok = valid & ~in_bad
    good = pd.DataFrame({"rating_id": rid[ok], "col": col_t[ok], "value": val_t[ok],
                         "row": rows[ok]})
    # ratings with no usable line at all (every line dropped as "level not chosen")
    all_r = rid[~rid_blank & ~in_bad]
    order = pd.unique(all_r.to_numpy(dtype=object))
    wide = good.pivot(index="rating_id", columns="col", values="value") if len(good) else \
        pd.DataFrame(index=pd.Index([], name="rating_id"))
    wide = wide.reindex(order)
    first = pd.DataFrame({"rating_id": rid, "row": rows, "resp": resp})[~rid_blank & ~in_bad]
    first = first.drop_duplicates("rating_id").set_index("rating_id").reindex(order)
    out = pd.DataFrame({"rating_id": pd.array(order, dtype="string"),
                        "respondent_id": first["resp"].to_numpy(dtype=object)})
    for c in extra:
        firstval = as_text(df[c])[~rid_blank & ~in_bad].groupby(
            rid[~rid_blank & ~in_bad], sort=False).first()
        out[c] = firstval.reindex(order).to_numpy(dtype=object)
    for c in wide.columns:
        out[str(c)] = wide[c].to_numpy(dtype=object)
    line_rows = pd.DataFrame({"rating_id": rid, "row": rows})[~rid_blank & ~in_bad]
    rows_of = line_rows.groupby("rating_id", sort=False)["row"].agg(
        lambda s: ",".join(map(str, s))).reindex(order)
    cells_tbl = pd.DataFrame({"rating_id": rid, "cell": item.fillna("") + "=" +
                              value.fillna("")})[~rid_blank & ~in_bad]
    cells_of = cells_tbl.groupby("rating_id", sort=False)["cell"].agg("; ".join).reindex(
        order)

    def rawfn(positions: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({
            "rating_id": out["rating_id"].iloc[positions].fillna("").to_numpy(dtype=object),
            "respondent_id": out["respondent_id"].iloc[positions].fillna("").to_numpy(
                dtype=object),
            "rows": rows_of.iloc[positions].to_numpy(dtype=object),
            "cells": cells_of.iloc[positions].to_numpy(dtype=object)}).astype("string")

    res = RawTable(frame=out, rows=first["row"].to_numpy(dtype=np.int64), file=raw.file,
                   format="long", quarantine=q, problems=problems, raw=rawfn,
                   details=dict(raw.details, lines=n))
    return res


# ===================================================================== orchestration
def _finish(raw: RawTable, instrument: Instrument, *, fmt: str, mapping: ColumnMapping | None,
            ddict: Mapping[str, Mapping[str, Any]] | None, digest: str | None,
            extra_source: Mapping[str, Any] | None = None) -> RatingData:
    problems: list[Problem] = []
    if fmt == "long":
        raw = _pivot_long(raw, instrument)
    elif fmt == "redcap":
        problems.extend(_redcap_prepare(raw, instrument, ddict))
    elif fmt == "qualtrics":
        problems.extend(_qualtrics_ids(raw))
    table, groups, mproblems, colmap = apply_mapping(raw.frame, instrument, mapping=mapping,
                                                     fmt=fmt, file=raw.file)
    problems.extend(mproblems)
    labels: dict[str, Mapping[Any, str]] = {}
    if fmt == "spss":
        labels = raw.details.get("value_labels", {})
    elif fmt == "redcap" and ddict:
        labels = {k: v["choices"] for k, v in ddict.items() if v.get("choices")}
    if labels:
        _recode_by_labels(table, instrument, colmap, labels)
        if fmt == "redcap":  # dropdown/radio group fields: codes -> labels
            for g in groups:
                lab = labels.get(g.lower())
                if lab:
                    txt = as_text(table[g])
                    table[g] = txt.map(lab).astype(object).where(
                        txt.map(lab).notna(), txt.astype(object))
    if fmt == "redcap":
        _redcap_blank_hidden(table, instrument)
    elif fmt == "qualtrics":
        _qualtrics_fill(table, instrument)
    chk = check_table(table, instrument, rows=raw.rows, file=raw.file, groups=groups)
    # quarantine: rows that could not be split, then rows that failed checks
    parts = []
    if len(raw.quarantine):
        parts.append(raw.quarantine)
    if len(chk.bad):
        cells = raw.raw_cells(chk.bad["position"].to_numpy())
        qb = pd.concat([chk.bad[["row", "reason", "message"]].reset_index(drop=True),
                        cells.reset_index(drop=True)], axis=1)
        parts.append(qb)
    if parts:
        quarantine = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        quarantine = quarantine.sort_values("row", kind="stable").reset_index(drop=True)
        quarantine["row"] = quarantine["row"].astype("int64")
    else:
        quarantine = pd.DataFrame({c: pd.Series([], dtype="int64" if c == "row" else "string")
                                   for c in QUARANTINE_COLUMNS})
    file_level: list[Problem] = []
    row_level: list[Problem] = []
    for p in (*raw.problems, *problems, *chk.problems):
        if p.row is None or p.reason in ("duplicate_column", "unknown_column"):
            file_level.append(p)
        else:
            row_level.append(p)
    row_level.sort(key=lambda p: p.row or 0)
    all_problems = tuple(file_level + row_level)
    source = {"file": raw.file, "format": fmt, "sha256": digest,
              "rows_read": len(chk.data) + len(quarantine), **raw.details}
    source.pop("value_labels", None)
    if extra_source:
        source.update(extra_source)
    if colmap:
        source["columns"] = dict(colmap)
    rd = RatingData(instrument=instrument, data=chk.data, quarantine=quarantine,
                    problems=all_problems, source=source)
    return rd


def _resolve_mapping(mapping: Any, instrument: Instrument) -> ColumnMapping | None:
    if mapping is None:
        return None
    return load_mapping(mapping, instrument)


def _check_format(fmt: str | None) -> None:
    if fmt is not None and fmt not in FORMATS:
        raise RatingsError(f"unknown rating format {fmt!r} (allowed: {', '.join(FORMATS)})",
                           [Problem("unreadable", f"unknown format {fmt!r}", value=fmt)])


def inspect_ratings(path: str | os.PathLike[str], instrument: Instrument, *,
                    format: str | None = None, mapping: Any = None,
                    dictionary: str | os.PathLike[str] | None = None,
                    progress: ProgressFn | None = None) -> RatingData:
    """Read and check an export, returning whatever was found without raising for
    row problems (the command line uses this to print and save the quarantine).

    Raises only when the file cannot be read at all (missing, not UTF-8, empty, header
    only, not parseable in the format). See :func:`read_ratings` for the parameters.
    """
    _check_format(format)
    p = Path(path)
    cmap = _resolve_mapping(mapping, instrument)
    ddict = read_redcap_dictionary(dictionary) if dictionary is not None else None
    fmt = format or detect_format(p, dictionary=dictionary)
    head = read_input_bytes(p, error=RatingsError, what="rating export", limit=8)
    container = _container(p, head)
    if fmt in ("redcap", "qualtrics") and container != "text":
        raise RatingsError(f"{p}: {fmt} exports are CSV files",
                           [Problem("unreadable", f"{fmt} exports are CSV files", file=str(p))])
    if fmt == "spss":
        container = "spss"
    elif container == "spss":
        raise RatingsError(f"{p}: an SPSS file read as {fmt!r}; use format='spss'",
                           [Problem("unreadable", "SPSS file", file=str(p))])
    raw, digest = _read_raw(p, fmt, container)
    if container != "text" and fmt == "wide" and format is None and \
            {c.lower() for c in raw.frame.columns} >= _LONG_COLUMNS:
        fmt = "long"
    raw.format = fmt
    if progress is not None:
        progress(len(raw.frame) + len(raw.quarantine), None)
    rd = _finish(raw, instrument, fmt=fmt, mapping=cmap, ddict=ddict, digest=digest,
                 extra_source={"mapping": cmap.file if cmap is not None else None,
                               "dictionary": str(dictionary) if dictionary else None})
    if progress is not None:
        progress(rd.n_read, rd.n_read)
    return rd


def _raise_or_warn(rd: RatingData, *, strict: bool, what: str) -> RatingData:
    errors = [p for p in rd.problems if p.severity == "error"]
    if rd.n_accepted == 0:
        err = RatingsError(
            f"nothing usable in {what}: all {rd.n_read} rows were quarantined "
            f"({len(rd.problems)} problems)",
            [Problem("nothing_usable", "every row was quarantined", file=what),
             *rd.problems])
        err.ratings = rd  # type: ignore[attr-defined]
        raise err
    if strict and rd.problems:
        err = RatingsError(
            f"{len(rd.problems)} problems in {what} ({len(errors)} errors, "
            f"{rd.n_quarantined} rows quarantined); strict mode accepts none",
            list(rd.problems))
        err.ratings = rd  # type: ignore[attr-defined]
        raise err
    if rd.problems:
        warnings.warn(
            f"{what}: {len(rd.problems)} problems ({len(errors)} errors); "
            f"{rd.n_accepted} of {rd.n_read} rows accepted, {rd.n_quarantined} quarantined",
            DataQualityWarning, stacklevel=3)
    return rd


def read_ratings(path: str | os.PathLike[str], instrument: Instrument, *,
                 format: str | None = None, mapping: Any = None,
                 dictionary: str | os.PathLike[str] | None = None, strict: bool = False,
                 progress: ProgressFn | None = None) -> RatingData:
    """Read a rating export and check it against an instrument.

    Parameters
    ----------
    path : path-like
        The export: CSV (comma, semicolon or tab; UTF-8 with or without BOM; ``.gz``
        allowed), XLSX, Parquet or SPSS ``.sav``.
    instrument : Instrument
    format : {"wide", "long", "redcap", "qualtrics", "spss"}, optional
        Detected from the file when omitted.
    mapping : path-like or dict, optional
        A mapping file (see :mod:`instrval.io.mapping`) for exports whose column names
        differ from the instrument's ids.
    dictionary : path-like, optional
        A REDCap data dictionary (CSV); implies ``format="redcap"``.
    strict : bool
        Raise on any problem, warnings included, instead of quarantining.
    progress : callable, optional
        ``progress(rows_done, rows_total)``, called after reading and after checking.

    Returns
    -------
    RatingData
        Accepted ratings (canonical wide layout), quarantine, problems and source.
        A :class:`~instrval.errors.DataQualityWarning` summarises any problems.

    Raises
    ------
    RatingsError
        When the file cannot be read or parsed, when nothing usable remains, or with
        ``strict=True`` and any problem. ``error.problems`` holds every problem (its
        message lists the first :data:`MAX_LISTED_PROBLEMS`); ``error.ratings`` holds the
        full result when there is one.

    Examples
    --------
    >>> import instrval
    >>> from instrval.io.ratings import read_ratings
    >>> iam = instrval.read_instrument("instruments/iam/iam-2011.yaml")  # doctest: +SKIP
    >>> rd = read_ratings("examples/iam/data/iam-sample.csv", iam)  # doctest: +SKIP
    >>> rd.summary()["accepted"]  # doctest: +SKIP
    3000
    """
    rd = inspect_ratings(path, instrument, format=format, mapping=mapping,
                         dictionary=dictionary, progress=progress)
    return _raise_or_warn(rd, strict=strict, what=str(path))


def check_ratings(df: pd.DataFrame, instrument: Instrument, *, file: str | None = None,
                  mapping: Any = None, format: str | None = None,
                  strict: bool = False) -> RatingData:
    """Check an in-memory table (wide or long) against an instrument.

    Rows are numbered as in a spreadsheet (first row = 2). ``format`` is ``"wide"``,
    ``"long"``, ``"redcap"`` or ``"qualtrics"`` (default: long when the columns are
    ``rating_id, respondent_id, item_id, value``, else wide). See :func:`read_ratings`.
    """
    _check_format(format)
    cmap = _resolve_mapping(mapping, instrument)
    raw = frame_table(df, file=file, fmt=format or "wide")
    fmt = format or ("long" if {str(c).lower() for c in df.columns} >= _LONG_COLUMNS
                     else "wide")
    raw.format = fmt
    rd = _finish(raw, instrument, fmt=fmt, mapping=cmap, ddict=None, digest=None)
    return _raise_or_warn(rd, strict=strict, what=file or "the rating table")


# ===================================================================== chunks
def iter_ratings(path: str | os.PathLike[str], instrument: Instrument, *,
                 chunksize: int = 500_000, format: str | None = None, mapping: Any = None,
                 progress: ProgressFn | None = None) -> Iterator[RatingData]:
    """Read and check an export chunk by chunk, yielding one :class:`RatingData` each.

    Parquet files are streamed with ``pyarrow.parquet.ParquetFile.iter_batches`` so that
    memory stays bounded by the chunk size; other files are read whole and yielded as
    one chunk. Row numbers continue across chunks. A rating id seen in an earlier chunk
    puts the later row in the quarantine (``duplicate_id``); the earlier, already
    yielded row stays accepted (ids are compared through 64-bit hashes). Use
    :class:`RatingCounts` to add up the chunks.

    A file that is missing or cannot be opened raises :class:`~instrval.errors.RatingsError`
    (``file_not_found``, ``not_a_file``...) at the call, as :func:`read_ratings` does, not
    at the first chunk.
    """
    _check_format(format)
    p = Path(path)
    head = read_input_bytes(p, error=RatingsError, what="rating export", limit=8)
    return _iter_chunks(p, head, instrument, chunksize=chunksize, format=format,
                        mapping=mapping, progress=progress)


def _iter_chunks(p: Path, head: bytes, instrument: Instrument, *, chunksize: int,
                 format: str | None, mapping: Any, progress: ProgressFn | None
                 ) -> Iterator[RatingData]:
    if _container(p, head) != "parquet":
        yield inspect_ratings(p, instrument, format=format, mapping=mapping,
                              progress=progress)
        return
    import pyarrow.parquet as pq

    cmap = _resolve_mapping(mapping, instrument)
    size = check_input_file(p, error=RatingsError, what="rating export", max_bytes=0)
    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:  # pyarrow.ArrowInvalid, OSError
        raise RatingsError(f"{p}: cannot read the Parquet file: {exc}",
                           [Problem("unreadable", str(exc), file=str(p))]) from None
    check_parquet(pf.metadata, file=str(p), error=RatingsError, what="rating export",
                  whole=False, file_bytes=size)
    total = pf.metadata.num_rows
    offset = 0
    seen: list[np.ndarray] = []
    fmt = format
    for batch in pf.iter_batches(batch_size=chunksize):
        df = batch.to_pandas()
        if fmt is None:
            fmt = "long" if {str(c).lower() for c in df.columns} >= _LONG_COLUMNS else "wide"
        raw = frame_table(df, file=str(p), fmt=fmt, first_row=offset + 2)
        rd = _finish(raw, instrument, fmt=fmt, mapping=cmap, ddict=None, digest=None,
                     extra_source={"chunk_offset": offset})
        rd = _cross_chunk_duplicates(rd, seen)
        offset += len(df)
        if progress is not None:
            progress(offset, total)
        yield rd


def _cross_chunk_duplicates(rd: RatingData, seen: list[np.ndarray]) -> RatingData:
    ids = rd.data["rating_id"].to_numpy(dtype=object)
    h = pd.util.hash_array(ids)
    dup = np.zeros(len(h), dtype=bool)
    for s in seen:
        i = np.searchsorted(s, h)
        i[i == len(s)] = 0
        dup |= s[i] == h
    seen.append(np.sort(h))
    if not dup.any():
        return rd
    pos = np.flatnonzero(dup)
    bad = rd.data.iloc[pos]
    msg = "rating id also appears in an earlier chunk; this copy is quarantined"
    probs = [Problem("duplicate_id", f"rating id {r!r}: {msg}", file=rd.source.get("file"),
                     column="rating_id", value=r) for r in bad["rating_id"]]
    cells = bad.astype("string").reset_index(drop=True)
    q = pd.concat([pd.DataFrame({"row": pd.array([pd.NA] * len(pos), dtype="Int64"),
                                 "reason": "duplicate_id", "message": msg}), cells], axis=1)
    quarantine = pd.concat([rd.quarantine, q], ignore_index=True)
    data = rd.data.drop(index=rd.data.index[pos]).reset_index(drop=True)
    return RatingData(instrument=rd.instrument, data=data, quarantine=quarantine,
                      problems=rd.problems + tuple(probs), source=rd.source)


@dataclass
class RatingCounts:
    """Counts added up over chunks of checked ratings (see :func:`iter_ratings`).

    ``selected[item]`` counts ratings presenting the item's construct in which the item
    was selected (cell = 1) - the numerator of a relevance ratio whose denominator is
    ``presented[construct]``; single-choice levels count the ratings choosing them.
    """

    instrument: Instrument
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    respondent_ids: set[str] = field(default_factory=set)
    presented: dict[str, int] = field(default_factory=dict)
    gates_open: dict[str, int] = field(default_factory=dict)
    selected: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    date_min: pd.Timestamp | None = None
    date_max: pd.Timestamp | None = None
    chunks: int = 0

    def add(self, rd: RatingData) -> RatingCounts:
        """Add one chunk's counts; returns self."""
        self.chunks += 1
        self.read += rd.n_read
        self.accepted += rd.n_accepted
        self.quarantined += rd.n_quarantined
        self.respondent_ids.update(rd.data["respondent_id"].dropna().unique().tolist())
        for c in self.instrument.constructs:
            pres = rd.presented(c)
            self.presented[c.id] = self.presented.get(c.id, 0) + int(pres.sum())
            if c.kind == "single_choice":
                vc = rd.data.loc[pres.to_numpy(), c.id].value_counts()
                for it in c.item_ids:
                    self.selected[it] = self.selected.get(it, 0) + int(vc.get(it, 0))
            else:
                for it in c.item_ids:
                    v = rd.data[it].to_numpy(dtype="float64", na_value=np.nan)
                    k = int(((v == 1) & pres.to_numpy()).sum())
                    self.selected[it] = self.selected.get(it, 0) + k
        for g in self.instrument.gates:
            self.gates_open[g.id] = self.gates_open.get(g.id, 0) + int(rd.gate_open(g.id).sum())
        for p in rd.problems:
            self.reasons[p.reason] = self.reasons.get(p.reason, 0) + 1
        dr = rd.date_range()
        if dr is not None:
            self.date_min = dr[0] if self.date_min is None else min(self.date_min, dr[0])
            self.date_max = dr[1] if self.date_max is None else max(self.date_max, dr[1])
        return self

    @property
    def respondents(self) -> int:
        return len(self.respondent_ids)

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "accepted": self.accepted,
                "quarantined": self.quarantined, "respondents": self.respondents,
                "date_min": self.date_min.date().isoformat() if self.date_min is not None
                else None,
                "date_max": self.date_max.date().isoformat() if self.date_max is not None
                else None,
                "presented": dict(self.presented), "gates_open": dict(self.gates_open),
                "selected": dict(self.selected), "problems_by_reason": dict(self.reasons),
                "chunks": self.chunks}


def count_ratings(chunks: Iterable[RatingData], instrument: Instrument) -> RatingCounts:
    """Add up the counts of chunks from :func:`iter_ratings`."""
    total = RatingCounts(instrument=instrument)
    for rd in chunks:
        total.add(rd)
    return total


# ===================================================================== templates
def ratings_mapping_template(path: str | os.PathLike[str], instrument: Instrument, *,
                             format: str | None = None) -> str:
    """The text of a starting mapping file for an export (see
    :func:`instrval.io.mapping.mapping_template`)."""
    _check_format(format)
    p = Path(path)
    fmt = format or detect_format(p)
    head = read_input_bytes(p, error=RatingsError, what="rating export", limit=8)
    container = "spss" if fmt == "spss" else _container(p, head)
    raw, _ = _read_raw(p, fmt, container)
    labels = None
    if fmt == "qualtrics" and container == "text":  # the question-text row
        names, texts, _ = _qualtrics_labels(decode_text(read_bytes(p)[0], str(p))[:1 << 20])
        labels = {str(c): t for c, t in zip(raw.frame.columns, texts, strict=False)}
    return mapping_template([str(c) for c in raw.frame.columns], instrument, fmt,
                            sample=raw.frame, labels=labels)
