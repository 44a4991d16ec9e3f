"""Reading an export (:func:`read_ratings`, :func:`inspect_ratings`) or checking a table
in memory (:func:`check_ratings`): the raw readers of each container, then one finish
step for every format (format preparation, column mapping, label recoding, checks,
quarantine, source)."""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from instrval._choices import RATING_FORMATS
from instrval.errors import DataQualityWarning, Problem, RatingsError
from instrval.io.files import check_parquet, read_input_bytes
from instrval.io.mapping import ColumnMapping, apply_mapping, load_mapping, mapping_template
from instrval.io.ratings.detect import container_of, detect_format
from instrval.io.ratings.long import LONG_COLUMNS, pivot_long
from instrval.io.ratings.qualtrics import qualtrics_fill, qualtrics_ids, qualtrics_labels
from instrval.io.ratings.raw import (
    RawTable,
    decode_text,
    frame_table,
    parse_delimited,
    read_bytes,
)
from instrval.io.ratings.redcap import (
    read_redcap_dictionary,
    recode_by_labels,
    redcap_blank_hidden,
    redcap_prepare,
)
from instrval.io.tables import read_sheet
from instrval.model.instrument import Instrument
from instrval.model.ratings import QUARANTINE_COLUMNS, RatingData
from instrval.validate.ratings import as_text, check_table

__all__ = ["FORMATS", "MAX_LISTED_PROBLEMS", "read_ratings", "inspect_ratings",
           "check_ratings", "ratings_mapping_template", "finish", "raise_or_warn",
           "resolve_mapping", "check_format"]

#: Formats :func:`read_ratings` reads.
FORMATS = RATING_FORMATS

#: At most this many problems are listed in the text of a raised RatingsError (the
#: error's ``ratings`` attribute holds them all).
MAX_LISTED_PROBLEMS = 50  # = RatingsError.max_listed

ProgressFn = Callable[[int, "int | None"], None]
MappingArg = "str | os.PathLike[str] | Mapping[str, Any] | ColumnMapping | None"


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



def _parse_text(text: str, name: str | None, fmt: str) -> RawTable:
    if fmt == "qualtrics":
        names, _, header_rows = qualtrics_labels(text[:1 << 20])
        raw = parse_delimited(text, file=name, fmt=fmt, header_rows=header_rows,
                              str_columns=_str_col)
        if header_rows == 2 and len(names) == len(raw.frame.columns):
            raw.frame.columns = names  # legacy V1.. names
        return raw
    return parse_delimited(text, file=name, fmt=fmt, str_columns=_str_col)


# ===================================================================== orchestration
def finish(raw: RawTable, instrument: Instrument, *, fmt: str, mapping: ColumnMapping | None,
           ddict: Mapping[str, Mapping[str, Any]] | None, digest: str | None,
           extra_source: Mapping[str, Any] | None = None) -> RatingData:
    """The step every reader ends with: prepare the format (pivot a long table, REDCap
    records, Qualtrics ids), map the columns, recode value labels, check the cells, and
    gather the quarantine, problems and source into a :class:`RatingData`."""
    problems: list[Problem] = []
    if fmt == "long":
        raw = pivot_long(raw, instrument)
    elif fmt == "redcap":
        problems.extend(redcap_prepare(raw, instrument, ddict))
    elif fmt == "qualtrics":
        problems.extend(qualtrics_ids(raw))
    table, groups, mproblems, colmap = apply_mapping(raw.frame, instrument, mapping=mapping,
                                                     fmt=fmt, file=raw.file)
    problems.extend(mproblems)
    labels: dict[str, Mapping[Any, str]] = {}
    if fmt == "spss":
        labels = raw.details.get("value_labels", {})
    elif fmt == "redcap" and ddict:
        labels = {k: v["choices"] for k, v in ddict.items() if v.get("choices")}
    if labels:
        recode_by_labels(table, instrument, colmap, labels)
        if fmt == "redcap":  # dropdown/radio group fields: codes -> labels
            for g in groups:
                lab = labels.get(g.lower())
                if lab:
                    txt = as_text(table[g])
                    table[g] = txt.map(lab).astype(object).where(
                        txt.map(lab).notna(), txt.astype(object))
    if fmt == "redcap":
        redcap_blank_hidden(table, instrument)
    elif fmt == "qualtrics":
        qualtrics_fill(table, instrument)
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


def resolve_mapping(mapping: Any, instrument: Instrument) -> ColumnMapping | None:
    """The ``mapping=`` argument (path, dict or mapping) loaded, or ``None``."""
    if mapping is None:
        return None
    return load_mapping(mapping, instrument)


def check_format(fmt: str | None) -> None:
    """Refuse a ``format=`` that is not one of :data:`FORMATS`."""
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
    check_format(format)
    p = Path(path)
    cmap = resolve_mapping(mapping, instrument)
    ddict = read_redcap_dictionary(dictionary) if dictionary is not None else None
    fmt = format or detect_format(p, dictionary=dictionary)
    head = read_input_bytes(p, error=RatingsError, what="rating export", limit=8)
    container = container_of(p, head)
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
            {c.lower() for c in raw.frame.columns} >= LONG_COLUMNS:
        fmt = "long"
    raw.format = fmt
    if progress is not None:
        progress(len(raw.frame) + len(raw.quarantine), None)
    rd = finish(raw, instrument, fmt=fmt, mapping=cmap, ddict=ddict, digest=digest,
                extra_source={"mapping": cmap.file if cmap is not None else None,
                              "dictionary": str(dictionary) if dictionary else None})
    if progress is not None:
        progress(rd.n_read, rd.n_read)
    return rd


def raise_or_warn(rd: RatingData, *, strict: bool, what: str) -> RatingData:
    """Raise when nothing is usable (or, with ``strict``, on any problem); otherwise warn
    with a summary of the problems and return ``rd``."""
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
    return raise_or_warn(rd, strict=strict, what=str(path))


def check_ratings(df: pd.DataFrame, instrument: Instrument, *, file: str | None = None,
                  mapping: Any = None, format: str | None = None,
                  strict: bool = False) -> RatingData:
    """Check an in-memory table (wide or long) against an instrument.

    Rows are numbered as in a spreadsheet (first row = 2). ``format`` is ``"wide"``,
    ``"long"``, ``"redcap"`` or ``"qualtrics"`` (default: long when the columns are
    ``rating_id, respondent_id, item_id, value``, else wide). See :func:`read_ratings`.
    """
    check_format(format)
    cmap = resolve_mapping(mapping, instrument)
    raw = frame_table(df, file=file, fmt=format or "wide")
    fmt = format or ("long" if {str(c).lower() for c in df.columns} >= LONG_COLUMNS
                     else "wide")
    raw.format = fmt
    rd = finish(raw, instrument, fmt=fmt, mapping=cmap, ddict=None, digest=None)
    return raise_or_warn(rd, strict=strict, what=file or "the rating table")



# ===================================================================== templates
def ratings_mapping_template(path: str | os.PathLike[str], instrument: Instrument, *,
                             format: str | None = None) -> str:
    """The text of a starting mapping file for an export (see
    :func:`instrval.io.mapping.mapping_template`)."""
    check_format(format)
    p = Path(path)
    fmt = format or detect_format(p)
    head = read_input_bytes(p, error=RatingsError, what="rating export", limit=8)
    container = "spss" if fmt == "spss" else container_of(p, head)
    raw, _ = _read_raw(p, fmt, container)
    labels = None
    if fmt == "qualtrics" and container == "text":  # the question-text row
        names, texts, _ = qualtrics_labels(decode_text(read_bytes(p)[0], str(p))[:1 << 20])
        labels = {str(c): t for c, t in zip(raw.frame.columns, texts, strict=False)}
    return mapping_template([str(c) for c in raw.frame.columns], instrument, fmt,
                            sample=raw.frame, labels=labels)
