"""Checking a wide CSV export of any size block by block, in bounded memory.

The pandas reader (:func:`instrval.io.ratings.read_ratings`) decodes and parses a CSV
export whole; :func:`scan_csv` reads it in record-aligned blocks of
:data:`BLOCK_BYTES` and puts every block through the same parser
(:func:`~instrval.io.ratings.raw.parse_delimited`, or the :mod:`csv` records of a file with
quotes) and the same finish step (:func:`~instrval.io.ratings.read.finish`), keeping only
what a :class:`~instrval.model.scan.RatingScan` holds: counts, the quarantined rows and
their problems, per-item value counts and per-respondent sums. The checks are the pandas
reader's by construction; what a whole-file read decides from the whole file is decided
in passes before the blocks are checked:

0. a byte pass: sha256, UTF-8 (else the export goes to the pandas reader, which decodes
   it by its fallback policy), whether the file holds a quote character or a bare
   carriage return (which parser a whole-file read uses) and how many quotes;
1. the blocks parsed: the 64-bit hashes of the rating ids as the checker compares them
   (stripped text; 8 bytes an id, the only part of the scan that grows with ratings),
   and each column's dtype as a whole-file read would infer it (number columns are
   inferred per block; a column with text in any block is read as text in every block,
   one with a blank or a fraction in any block as float in every block, and one with a
   fraction anywhere is shown with fractions in every block, as the checker writes the
   cells of a whole column);
2. the blocks parsed with those dtypes and checked; rows whose id hash occurs more than
   once are set aside (their cells: few) and checked together at the end, so that
   duplicate ids are judged as in a whole-file read.

Row numbers, line numbers and every problem name the lines of the whole file.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instrval.io.engine import EngineNotApplicable
from instrval.io.mapping import auto_columns
from instrval.io.ratings.detect import container_of, detect_format
from instrval.io.ratings.raw import (
    RawTable,
    header_names,
    parse_delimited,
    quarantine_frame,
    quoted_records,
    quoted_rows,
    text_frame,
)
from instrval.io.ratings.read import finish, text_column
from instrval.io.text import BINARY_MAGIC, sniff_delimiter
from instrval.model.instrument import Instrument
from instrval.model.scan import RatingScan, ScanTotals
from instrval.validate.ratings import as_text

__all__ = ["BLOCK_BYTES", "AUTO_CSV_BYTES", "scan_csv"]

#: Bytes read at a time; a block ends at the last record end within them.
BLOCK_BYTES = 16 << 20

#: CSV exports of at least this size are streamed under ``engine="auto"`` (the pandas
#: reader holds about 1.2 KB a rating; below 64 MiB it is quick and small enough).
AUTO_CSV_BYTES = 64 << 20

ProgressFn = Callable[[str], None]


class _Survey:
    """What the byte pass found."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.quotes = 0
        self.bare_cr = 0
        self.size = 0


def _survey(p: Path, block: int) -> _Survey:
    s = _Survey()
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    prev = b""
    with open(p, "rb") as fh:
        while True:
            b = fh.read(block)
            if not b:
                break
            s.sha.update(b)
            s.size += len(b)
            if b"\x00" in b:
                raise EngineNotApplicable("a NUL byte")
            try:
                dec.decode(b)
            except UnicodeDecodeError:
                raise EngineNotApplicable("not UTF-8") from None
            s.quotes += b.count(b'"')
            cr = b.count(b"\r") - b.count(b"\r\n")
            if prev == b"\r" and b[:1] == b"\n":
                cr -= 1
            s.bare_cr += cr
            prev = b[-1:]
    try:
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        raise EngineNotApplicable("not UTF-8") from None
    return s


def _line_blocks(p: Path, block: int) -> Iterator[tuple[str, str, int]]:
    """``(header line, block, first line)``: the lines after the header line in blocks
    of whole lines (the last block may lack a final line end), decoded as UTF-8; ``first
    line`` is the file line the block starts on. Nothing is yielded for a header alone."""
    with open(p, "rb") as fh:
        buf = b""
        header: str | None = None
        line = 2
        eof = False
        while True:
            more = fh.read(block)
            if more:
                buf += more
            else:
                eof = True
            if header is None:
                nl = buf.find(b"\n")
                if nl < 0:
                    if eof:
                        return
                    continue
                header = buf[:nl].decode("utf-8-sig")
                buf = buf[nl + 1:]
            if eof:
                if buf:
                    yield header, buf.decode("utf-8"), line
                return
            cut = buf.rfind(b"\n")
            if cut < 0:
                continue
            out, buf = buf[:cut + 1], buf[cut + 1:]
            yield header, out.decode("utf-8"), line
            line += out.count(b"\n")


class _Blocks:
    """The blocks of one export as :class:`RawTable` parts, by the parser a whole-file
    read would use (``quoted``: the file holds a quote or a bare carriage return)."""

    def __init__(self, p: Path, *, block: int, quoted: bool, odd_quotes: bool) -> None:
        self.p = p
        self.name = str(p)
        self.block = block
        self.quoted = quoted
        self.odd_quotes = odd_quotes
        self.details: dict[str, Any] = {}

    def __call__(self, dtypes: dict[str, Any] | None = None) -> Iterator[RawTable]:
        if self.quoted:
            yield from self._quoted()
            return
        lines = 0
        for header, text, first in _line_blocks(self.p, self.block):
            raw = parse_delimited(header + "\n" + text, file=self.name, fmt="wide",
                                  str_columns=text_column, first_line=first,
                                  dtypes=dtypes)
            lines = int(raw.details["lines"])
            self.details = {"delimiter": raw.details["delimiter"], "lines": lines}
            yield raw

    def _quoted(self) -> Iterator[RawTable]:
        name = self.name
        with open(self.p, "rb") as fh:
            text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
            first_line = text.readline()
            text.seek(0)
            delim = sniff_delimiter(first_line.rstrip("\r\n"))
            recs = quoted_records(text, delim, file=name)
            head = next(recs, None)
            if head is None or not head[0]:
                raise EngineNotApplicable("no header")
            names, hproblems = header_names(head[0], name)
            pending: list[list[str]] = []
            spans: list[tuple[int, int]] = []
            start = 1  # file record index of pending[0]
            size = 0
            last_line = head[2]
            for rec, a, b in recs:
                pending.append(rec)
                spans.append((a, b))
                last_line = b
                size += sum(len(c) for c in rec) + len(rec)
                if size < self.block:
                    continue
                # cut before the last non-empty record: the final part then holds the
                # file's last record (trailing empty records are dropped, as in a
                # whole-file read)
                cut = max((i for i, r in enumerate(pending) if r), default=0)
                if cut == 0:
                    continue
                yield self._table(pending[:cut], spans[:cut], names, hproblems, start,
                                  delim, odd_last=False)
                pending, spans = pending[cut:], spans[cut:]
                start += cut
                size = sum(sum(len(c) for c in r) + len(r) for r in pending)
            while pending and not pending[-1]:
                pending.pop()
                spans.pop()
            self.details = {"delimiter": delim, "header_rows": 1,
                            "records": start + len(pending), "lines": last_line}
            if pending:
                yield self._table(pending, spans, names, hproblems, start, delim,
                                  odd_last=self.odd_quotes)

    def _table(self, recs: list[list[str]], spans: list[tuple[int, int]], names: list[str],
               hproblems: list[Any], start: int, delim: str, *, odd_last: bool) -> RawTable:
        good, rows, qrecs, probs = quoted_rows(recs, spans, names, start=start,
                                               file=self.name, odd_last=odd_last)
        return RawTable(frame=text_frame(good, names), rows=np.asarray(rows, dtype=np.int64),
                        file=self.name, format="wide",
                        quarantine=quarantine_frame(qrecs, names),
                        problems=[*hproblems, *probs], details={"delimiter": delim})


def _id_hashes(raw: RawTable, col: str) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the rows of a part with an id, and the 64-bit hashes of their ids
    as the checker compares them (stripped text)."""
    txt = as_text(raw.frame[col])
    ok = txt.notna().to_numpy()
    pos = np.flatnonzero(ok)
    vals = txt.to_numpy(dtype=object, na_value=None)[pos]
    return pos, pd.util.hash_array(vals) if len(vals) else np.zeros(0, dtype=np.uint64)


def _not_whole(v: np.ndarray) -> bool:
    """True when a number column holds a value that is not a whole number (what makes
    :func:`~instrval.validate.ratings.as_text` write its cells with a fraction)."""
    v = v[~np.isnan(v)]
    return bool(len(v)) and not bool((np.isfinite(v) & (v == np.floor(v))).all())


def _same_reading(kinds: dict[str, set[str]], fractions: set[str], big_ints: bool) -> bool:
    """Whether the blocks read so far were read as with the final dtypes, as far as the
    checker can tell: each column that is not blank throughout a block one dtype, or
    whole numbers (below 2**53) as int64 in some blocks and float64 in others (the
    checker sees the same numbers, and writes both without a fraction); no fraction
    anywhere. (A column blank throughout a block is blank to the checker whatever its
    dtype.)"""
    return not fractions and not big_ints and all(
        len(k) == 1 or k == {"int64", "float64"} for k in kinds.values())


def _common_dtype(kinds: set[str]) -> str:
    """The dtype a whole-file read infers for a column read with these dtypes in parts:
    the one dtype; float for integers and floats; else text, as pandas infers it
    (``str`` from pandas 3, ``object`` before)."""
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds <= {"int64", "float64"}:
        return "float64"
    return str(pd.read_csv(io.StringIO("a\nx\n"))["a"].dtype)


def _sub_table(raw: RawTable, keep: np.ndarray) -> RawTable:
    """The records ``keep`` of a part, with its quarantine and problems."""
    def cells(q: np.ndarray) -> pd.DataFrame:
        return raw.raw_cells(keep[np.asarray(q, dtype=np.int64)])

    return RawTable(frame=raw.frame.iloc[keep].reset_index(drop=True), rows=raw.rows[keep],
                    file=raw.file, format=raw.format, quarantine=raw.quarantine,
                    problems=raw.problems, raw=cells, details=raw.details)


def scan_csv(path: str | os.PathLike[str], instrument: Instrument, *,
             block_bytes: int | None = None, progress: ProgressFn | None = None
             ) -> RatingScan:
    """Check a wide CSV (or TSV) export block by block, in bounded memory.

    The result equals the pandas reader's (:func:`instrval.io.ratings.inspect_ratings`):
    the same counts, quarantine (row for row) and problems (message for message), and the
    sufficient statistics of descriptives and relevance ratios. Memory grows with the
    block size, respondents, quarantined rows and 8 bytes a rating id, not with the
    ratings' cells.

    Parameters
    ----------
    path : path-like
        A local, uncompressed CSV/TSV file in the canonical wide layout (``rating_id``,
        ``respondent_id`` and the instrument's columns, named as in the instrument),
        UTF-8 with or without a byte-order mark.
    instrument : Instrument
    block_bytes : int, optional
        Bytes read at a time (default :data:`BLOCK_BYTES`).
    progress : callable(str), optional
        Receives a line per pass.

    Returns
    -------
    RatingScan
        With ``engine="stream"``. ``source``: ``file``, ``sha256`` (of the file),
        ``delimiter``, ``lines``, ``rows_read``, ``blocks``, ``passes`` (over the blocks:
        1 when they could be checked while the ids were hashed, else 2) and
        ``rows_set_aside`` (rows with a repeated id, checked together).

    Raises
    ------
    EngineNotApplicable
        For exports this engine does not read, which the pandas reader does: compressed,
        not UTF-8 (UTF-16, Windows-1252), not the wide format (long, REDCap, Qualtrics),
        columns that need a mapping (no ``rating_id``/``respondent_id`` header), empty or
        header only.
    RatingsError
        When the file cannot be parsed (as the pandas reader would raise).
    """
    if block_bytes is None:
        block_bytes = BLOCK_BYTES
    if block_bytes < 1:
        raise ValueError("block_bytes must be positive")
    p = Path(path)
    name = str(p)
    if not p.is_file():
        raise EngineNotApplicable("not a local file")
    with open(p, "rb") as fh:
        head = fh.read(65536)
    if container_of(p, head) != "text" or head[:2] == b"\x1f\x8b" or \
            any(head.startswith(m) for m in BINARY_MAGIC) or \
            head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EngineNotApplicable("not a plain text file")
    if detect_format(p) != "wide":
        raise EngineNotApplicable("not a wide export")
    t0 = time.perf_counter()
    survey = _survey(p, block_bytes)
    if progress:
        progress(f"checking {survey.size:,} bytes of CSV block by block "
                 f"({block_bytes:,}-byte blocks)")
    quoted = survey.quotes > 0 or survey.bare_cr > 0
    blocks = _Blocks(p, block=block_bytes, quoted=quoted, odd_quotes=survey.quotes % 2 == 1)

    # pass 1: rating-id hashes and the dtype of every column; the blocks are checked too,
    # as long as nothing a later block may reveal (a column's dtype differing between
    # blocks other than int/float, a fraction, a repeated id) would change how they are
    # read or judged
    hashes: list[np.ndarray] = []
    kinds: dict[str, set[str]] = {}
    filled: dict[str, set[str]] = {}
    fractions: set[str] = set()
    big_ints = False
    rid_col: str | None = None
    n_parts = 0
    first = _First()
    early: ScanTotals | None = ScanTotals(instrument)
    with warnings.catch_warnings():
        # a block's own mixed-type columns come out as text (pass 2 fixes the dtypes)
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        for raw in blocks():
            if rid_col is None:
                rid_col = _id_column(list(raw.frame.columns), instrument)
            n_parts += 1
            if len(raw.frame):
                hashes.append(_id_hashes(raw, rid_col)[1])
                if not quoted:
                    for c in raw.frame.columns:
                        if not text_column(c):
                            col = raw.frame[c]
                            kinds.setdefault(c, set()).add(str(col.dtype))
                            if col.notna().any():  # a blank column reads the same as any
                                filled.setdefault(c, set()).add(str(col.dtype))
                            if col.dtype.kind == "f" and _not_whole(col.to_numpy()):
                                fractions.add(c)
                            elif col.dtype == "int64" and len(col) and \
                                    int(np.abs(col.to_numpy()).max()) > 2**53:
                                big_ints = True
            if early is not None and not _same_reading(filled, fractions, big_ints):
                early = None
            if early is not None:
                rd = _check(raw, np.arange(len(raw.frame)), instrument, early, first)
                if any(p.reason == "duplicate_id" for p in rd.problems):
                    early = None
    if not n_parts or rid_col is None:
        raise EngineNotApplicable("no data rows")
    mixed_bool = sorted(c for c, k in kinds.items() if "bool" in k and len(k) > 1)
    if mixed_bool:  # a whole-file read holds True/False objects among blanks or text
        raise EngineNotApplicable(f"true/false column {mixed_bool[0]!r} with other cells")
    allh = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    del hashes
    allh.sort()  # in place: no second copy of the hashes
    dups = np.unique(allh[1:][allh[1:] == allh[:-1]])
    del allh
    dtypes = {c: _common_dtype(k) for c, k in kinds.items()}
    # number columns holding a fraction somewhere: their cells are written as text with
    # the fraction ("7.0", as the checker writes a fractional column's cells) in every
    # block, not only in the blocks that hold one
    as_float_text = sorted(c for c in fractions if dtypes.get(c) == "float64")
    if progress:
        dt = time.perf_counter() - t0
        again = "" if early is not None and not len(dups) else "; checking them again"
        progress(f"{n_parts} block(s) read in {dt:.1f} s; {len(dups):,} rating id(s) "
                 f"occur more than once{again}")

    aside_rows: list[np.ndarray] = []
    if early is not None and not len(dups):
        totals = early  # every block was read and checked as in pass 2
        passes = 1
    else:
        # pass 2: check every block; rows with a repeated id are checked together at
        # the end
        del early
        passes = 2
        totals = ScanTotals(instrument)
        first = _First()
        aside_frames: list[pd.DataFrame] = []
        aside_cells: list[pd.DataFrame] = []
        for raw in blocks(dtypes or None):
            for c in as_float_text:
                if len(raw.frame) and raw.frame[c].dtype.kind == "f":
                    raw.frame[c] = raw.frame[c].astype("string")
            keep = np.arange(len(raw.frame))
            if len(dups) and len(raw.frame):
                pos, h = _id_hashes(raw, rid_col)
                hit = pos[np.isin(h, dups)]
                if len(hit):
                    aside_frames.append(raw.frame.iloc[hit])
                    aside_cells.append(raw.raw_cells(hit))
                    aside_rows.append(raw.rows[hit])
                    keep = np.setdiff1d(keep, hit)
            _check(raw, keep, instrument, totals, first)
        if aside_frames:
            frame = pd.concat(aside_frames, ignore_index=True)
            cells = pd.concat(aside_cells, ignore_index=True)
            rows = np.concatenate(aside_rows)
            aside = RawTable(frame=frame, rows=rows, file=name, format="wide",
                             raw=lambda q: cells.iloc[np.asarray(q, dtype=np.int64)
                                                      ].reset_index(drop=True))
            rd = finish(aside, instrument, fmt="wide", mapping=None, ddict=None,
                        digest=None)
            totals.add(rd, _accepted_rows(rows, rd), file_level=False)
    assert first.quarantine is not None
    empty_q = first.quarantine
    source = {"file": name, "format": "wide", "sha256": survey.sha.hexdigest(),
              **blocks.details, "mapping": None, "dictionary": None,
              "columns": first.columns, "blocks": n_parts, "passes": passes,
              "rows_set_aside": int(sum(len(r) for r in aside_rows))}
    scan = totals.result(source=source, engine="stream", empty_quarantine=empty_q)
    if progress:
        dt = time.perf_counter() - t0
        progress(f"done: {scan.n_read:,} ratings in {dt:.1f} s "
                 f"({scan.n_read / max(dt, 1e-9):,.0f}/s)")
    return scan


class _First:
    """Whether the next block checked is the first (whose file-level problems are
    kept), and what the first one tells: the quarantine's columns, the column map."""

    def __init__(self) -> None:
        self.quarantine: pd.DataFrame | None = None
        self.columns: Any = None


def _check(raw: RawTable, keep: np.ndarray, instrument: Instrument, totals: ScanTotals,
           first: _First) -> Any:
    """Check the records ``keep`` of a block and add them to ``totals``."""
    rd = finish(_sub_table(raw, keep) if len(keep) != len(raw.frame) else raw, instrument,
                fmt="wide", mapping=None, ddict=None, digest=None)
    is_first = first.quarantine is None
    if is_first:
        first.quarantine = rd.quarantine.iloc[:0]
        first.columns = rd.source.get("columns")
    totals.add(rd, _accepted_rows(raw.rows[keep], rd), file_level=is_first)
    return rd


def _id_column(names: list[str], instrument: Instrument) -> str:
    """The export column the rating ids are read from; refused (to the pandas reader)
    unless both id columns are named as such (other names are matched from the data)."""
    low = {n.strip().lower() for n in names}
    if not {"rating_id", "respondent_id"} <= low:
        raise EngineNotApplicable("no rating_id and respondent_id columns")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        columns, _, _, _ = auto_columns(names, instrument, "wide")
    src = [c for c, t in columns.items() if t == "rating_id"]
    if len(src) != 1:
        raise EngineNotApplicable("no rating_id column")
    return src[0]


def _accepted_rows(rows: np.ndarray, rd: Any) -> np.ndarray:
    """The rows of a checked part that were accepted (in order)."""
    if not len(rows):
        return rows
    return rows[~np.isin(rows, rd.quarantine["row"].to_numpy(np.int64))]
