"""Checking rating exports of any size with a columnar engine (DuckDB), in bounded memory.

The pandas reader (:func:`instrval.io.ratings.read_ratings`) holds every rating; this
module checks wide Parquet exports - one file, a folder of parts or a glob - with DuckDB
and keeps only what the commands and analyses need (:class:`~instrval.model.scan.RatingScan`):
counts, the quarantined rows with their problems, per-item value counts and per-respondent
sums. Memory grows with respondents and quarantined rows, not with ratings.

How the rules are run once
--------------------------
1. The distinct values of every gate, single-choice and item column are read (one pass)
   and put through the very functions the pandas checker uses
   (:func:`~instrval.validate.ratings.map_choices` lookups, the numeric codes of
   :meth:`Instrument.allowed_values`), giving for each distinct value: blank, valid (and
   what it means), or not valid.
2. From those tables, a SQL predicate marks the rows that certainly pass every check
   (ids printable and not blank, an ISO date or none, valid cells, skip logic kept, something
   answered). Rows whose rating id occurs more than once are marked too.
3. Every row that is not certainly clean - a small share of a real export - is read back
   and checked by the pandas checker itself, so the problems, messages and quarantine are
   exactly those of the pandas path. The clean rows are only counted, by SQL aggregates.

The two parts are disjoint and add up, so the result equals the pandas path's (the tests
compare them, and the Dask engine, :mod:`instrval.io.dask_engine`, which runs the same
steps per partition).
"""

from __future__ import annotations

import glob as _glob
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import InstrvalError, Problem, RatingsError
from instrval.io.files import is_url
from instrval.model.instrument import Instrument
from instrval.model.ratings import ID_COLUMNS, expected_columns
from instrval.model.scan import RatingScan, RelevanceCounts, scan_counts
from instrval.validate.ratings import _norm_key, gate_codes, level_codes

__all__ = ["ENGINES", "AUTO_ENGINE_ROWS", "ratings_parts", "choose_engine", "scan_ratings",
           "EngineNotApplicable", "stderr_progress",
           "read_ratings_any", "is_parts", "is_url", "url_filesystem", "read_parts_frame",
           "parquet_parts"]

#: Engines of the rating commands: ``auto`` picks DuckDB for Parquet parts and Parquet
#: files of at least :data:`AUTO_ENGINE_ROWS` rows (and the block-by-block CSV scan,
#: :mod:`instrval.io.csv_engine`, for CSV files of 64 MiB or more), pandas otherwise.
ENGINES = ("auto", "pandas", "duckdb", "dask")

#: Parquet files with at least this many rows are checked with DuckDB under
#: ``engine="auto"`` (smaller ones take less than a second with pandas).
AUTO_ENGINE_ROWS = 250_000

_PARQUET = {".parquet", ".pq"}
_MAX_DISTINCT = 10_000
_SRC = "\x00SRC\x00"
ProgressFn = Callable[[str], None]


class EngineNotApplicable(Exception):
    """The export cannot be checked by the columnar engine (the pandas reader can)."""


def stderr_progress(msg: str) -> None:
    """Progress lines on standard error."""
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- inputs
StorageOptions = dict[str, Any] | None


def _is_glob(s: str) -> bool:
    return any(ch in s for ch in "*?[")


def _protocol(url: str) -> str:
    return url.split("://", 1)[0].lower()


def _suffix(f: str) -> str:
    """The suffix of a part's name (a URL's query string left out)."""
    if is_url(f):
        from urllib.parse import urlsplit

        return Path(urlsplit(f).path).suffix.lower()
    return Path(f).suffix.lower()


def url_filesystem(url: str, storage_options: StorageOptions) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path on it; missing implementations
    (s3fs, gcsfs, adlfs, aiohttp) and unknown protocols as one clear error."""
    try:
        import fsspec
    except ImportError:  # pragma: no cover - depends on the environment
        raise RatingsError(f"{url}: reading URLs needs fsspec: pip install fsspec "
                           "(or 'instrval[dask]')",
                           [Problem("missing_dependency", "fsspec is not installed",
                                    file=url)]) from None
    try:
        return fsspec.core.url_to_fs(url, **(storage_options or {}))
    except ImportError as exc:
        raise RatingsError(f"{url}: reading {_protocol(url)}:// URLs needs a package that is "
                           f"not installed ({exc})",
                           [Problem("missing_dependency", str(exc), file=url)]) from None
    except (ValueError, TypeError) as exc:
        raise RatingsError(f"{url}: cannot read this URL ({exc}); check the protocol and "
                           "--storage-option", [Problem("invalid_value", str(exc), file=url,
                                                        value=_protocol(url))]) from None


def _url_parts(url: str, storage_options: StorageOptions) -> list[str]:
    """The parts of a URL: one file, a folder (prefix) of Parquet parts, or a glob."""
    fs, root = url_filesystem(url, storage_options)
    try:
        if _protocol(url) in ("http", "https"):
            if _is_glob(root) or url.endswith("/"):
                raise RatingsError(f"{url}: http(s) URLs name one file (folders and globs "
                                   "need an object store: s3://, gs://, abfs://)",
                                   [Problem("invalid_value", "http(s) URLs name one file",
                                            file=url)])
            return [url]
        if _is_glob(root):
            found = fs.glob(root, detail=True)
            files = sorted(fs.unstrip_protocol(k) for k, v in found.items()
                           if v.get("type") == "file")
            if not files:
                raise RatingsError(f"no files match {url}",
                                   [Problem("file_not_found", "no files match the pattern",
                                            file=url)])
            return files
        if fs.isdir(root):
            files = sorted(fs.unstrip_protocol(e["name"]) for e in fs.ls(root, detail=True)
                           if e.get("type") == "file"
                           and Path(e["name"]).suffix.lower() in _PARQUET
                           and not Path(e["name"]).name.startswith((".", "_")))
            if not files:
                raise RatingsError(f"{url}: the folder holds no Parquet parts (*.parquet)",
                                   [Problem("file_not_found", "no Parquet parts", file=url)])
            return files
        if fs.isfile(root):
            return [url]
    except RatingsError:
        raise
    except Exception as exc:  # the filesystem's own errors (permissions, network)
        raise RatingsError(f"{url}: cannot list it: {exc}",
                           [Problem("unreadable", str(exc), file=url)]) from None
    raise RatingsError(f"{url}: no such file or folder",
                       [Problem("file_not_found", "no such file", file=url)])


def ratings_parts(path: str | os.PathLike[str], storage_options: StorageOptions = None
                  ) -> list[str]:
    """The files of a DATA argument: a file, a folder of Parquet parts (``*.parquet``,
    ``*.pq``, sorted by name, hidden and ``_``-prefixed files skipped) or a glob; local,
    or an fsspec URL (``s3://bucket/prefix/``, ``gs://...``, ``file://...``) read with
    ``storage_options``."""
    s = os.fspath(path)
    if is_url(s):
        return _url_parts(s, storage_options)
    if _is_glob(s) and not Path(s).exists():
        files = sorted(f for f in _glob.glob(s) if Path(f).is_file())
        if not files:
            raise RatingsError(f"no files match {s}",
                               [Problem("file_not_found", "no files match the pattern", file=s)])
        return files
    p = Path(s)
    if p.is_dir():
        files = sorted(str(f) for f in p.iterdir() if f.is_file()
                       and f.suffix.lower() in _PARQUET and not f.name.startswith((".", "_")))
        if not files:
            raise RatingsError(f"{p}: the folder holds no Parquet parts (*.parquet)",
                               [Problem("file_not_found", "no Parquet parts", file=s)])
        return files
    if not p.exists():
        raise RatingsError(f"{p}: no such file",
                           [Problem("file_not_found", "no such file", file=s)])
    return [s]


def parquet_parts(path: str | os.PathLike[str], storage_options: StorageOptions = None
                  ) -> list[str]:
    """:func:`ratings_parts`, when every part is a Parquet file; else
    :class:`EngineNotApplicable` (the columnar engines read Parquet only)."""
    parts = ratings_parts(path, storage_options)
    for f in parts:
        if _suffix(f) not in _PARQUET:
            raise EngineNotApplicable(f"{f} is not a Parquet file")
    return parts


def is_parts(path: str | os.PathLike[str], storage_options: StorageOptions = None) -> bool:
    """True for a folder or glob of parts (rather than one file)."""
    s = os.fspath(path)
    if is_url(s):
        if _protocol(s) in ("http", "https"):
            return False
        fs, root = url_filesystem(s, storage_options)
        try:
            return _is_glob(root) or bool(fs.isdir(root))
        except Exception:  # unreachable: ratings_parts says why
            return False
    return Path(s).is_dir() or (_is_glob(s) and not Path(s).exists())


def choose_engine(path: str | os.PathLike[str], engine: str = "auto",
                  storage_options: StorageOptions = None) -> str:
    """The engine ``auto`` means for this input: ``duckdb`` for parts, for URLs (DuckDB
    reads them through fsspec), for Parquet files of at least :data:`AUTO_ENGINE_ROWS`
    rows and for other local files of at least
    :data:`~instrval.io.csv_engine.AUTO_CSV_BYTES` (a CSV export, which the ``duckdb``
    engine streams with :func:`~instrval.io.csv_engine.scan_csv`), else ``pandas``."""
    if engine not in ENGINES:
        raise RatingsError(f"unknown engine {engine!r} (allowed: {', '.join(ENGINES)})",
                           [Problem("invalid_value", f"unknown engine {engine!r}",
                                    value=engine)])
    if engine != "auto":
        return engine
    if is_url(path) or is_parts(path):
        return "duckdb"
    p = Path(os.fspath(path))
    if p.suffix.lower() in _PARQUET and p.is_file():
        import pyarrow.parquet as pq

        try:
            rows = pq.ParquetFile(p).metadata.num_rows
        except Exception:  # not a readable Parquet file: the pandas reader says why
            return "pandas"
        if rows >= AUTO_ENGINE_ROWS:
            return "duckdb"
    elif _is_local_text(p):
        from instrval.io import csv_engine

        if p.stat().st_size >= csv_engine.AUTO_CSV_BYTES:
            return "duckdb"
    return "pandas"


@contextmanager
def _open_parquet(f: str, storage_options: StorageOptions = None) -> Iterator[Any]:
    """A :class:`pyarrow.parquet.ParquetFile` of a local part or a URL (fsspec)."""
    import pyarrow.parquet as pq

    if not is_url(f):
        yield pq.ParquetFile(f)
        return
    fs, p = url_filesystem(f, storage_options)
    with fs.open(p, "rb") as fh:
        yield pq.ParquetFile(fh)


def _register_filesystems(con: Any, parts: Sequence[str], storage_options: StorageOptions
                          ) -> None:
    """Let DuckDB read the URL parts through fsspec (no DuckDB extension, no download):
    one filesystem per protocol; ``file://`` DuckDB reads itself."""
    protocols = sorted({_protocol(f) for f in parts if is_url(f)} - {"file"})
    if not protocols:
        return
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    for proto in protocols:
        url = next(f for f in parts if is_url(f) and _protocol(f) == proto)
        fs, _ = url_filesystem(url, storage_options)
        con.register_filesystem(fs)


# ----------------------------------------------------------------------------- SQL
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(v: Any) -> str:
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, (bool, np.bool_)):
        raise EngineNotApplicable("boolean cells")
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return f"CAST({float(v)!r} AS DOUBLE)"


def _kind(t: Any) -> str:
    import pyarrow as pa

    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t) and t.tz is None:
        return "ts"
    if pa.types.is_null(t):
        return "null"
    return "other"


@dataclass
class _Plan:
    """SQL for one instrument and one Parquet schema."""

    source_sql: str
    template: str
    clean: str
    rid: str
    resp: str
    date: str | None
    sel: list[tuple[str, str, str, str]]  # item, construct, kind, SQL of selected
    pres: list[str]  # SQL of presented, per presentation pattern (construct)
    pres_construct: list[str]
    pidx: list[int]
    skipped: list[str]
    gates: list[tuple[str, str]]  # gate id, SQL of open
    value_counts: list[tuple[str, int, str]]  # item, value, SQL of "counted"
    gate_ok: dict[str, str]  # item -> SQL of "could be answered"


def _source_sql(parts: Sequence[str], offsets: Sequence[int]) -> str:
    sel = []
    for f, off in zip(parts, offsets, strict=True):
        sel.append(f"SELECT *, file_row_number + {int(off) + 2} AS __row "
                   f"FROM read_parquet({_lit(str(f))}, file_row_number = true)")
    return " UNION ALL ".join(sel)


def _footer(f: str, storage_options: StorageOptions) -> tuple[Any, Any]:
    """Arrow schema and footer metadata of one part, checked against the limits on
    Parquet metadata (:func:`instrval.io.files.check_parquet`: row groups that fit in
    memory, no decompression bomb) - the bounds that apply to local files and URLs alike."""
    from instrval.io.files import check_parquet

    try:
        with _open_parquet(f, storage_options) as pf:
            schema, md = pf.schema_arrow, pf.metadata
            size = _part_size(f, storage_options)
    except RatingsError:
        raise
    except Exception as exc:  # pyarrow.ArrowInvalid, OSError, the filesystem's errors
        raise RatingsError(f"{f}: cannot read the Parquet file: {exc}",
                           [Problem("unreadable", str(exc), file=str(f))]) from None
    check_parquet(md, file=str(f), error=RatingsError, what="Parquet part", whole=False,
                  file_bytes=size)
    return schema, md


def _part_size(f: str, storage_options: StorageOptions) -> int | None:
    if not is_url(f):
        return os.path.getsize(f)
    fs, p = url_filesystem(f, storage_options)
    try:
        size = fs.size(p)
    except Exception:  # a server that does not say: the ratio check is skipped
        return None
    return int(size) if size else None


def _schema(parts: Sequence[str], storage_options: StorageOptions = None
            ) -> tuple[Any, list[int], int, dict[str, bool]]:
    """Arrow schema (the same in every part), row offsets, total rows, columns with nulls."""
    schema = None
    offsets = []
    total = 0
    nulls: dict[str, bool] = {}
    for f in parts:
        s, md = _footer(f, storage_options)
        if schema is None:
            schema = s
        elif not s.equals(schema):
            raise RatingsError(f"{f}: its columns differ from those of {parts[0]}",
                               [Problem("unreadable", "parts with different columns",
                                        file=str(f))])
        offsets.append(total)
        total += md.num_rows
        for i, name in enumerate(s.names):
            col_nulls = False
            for rg in range(md.num_row_groups):
                st = md.row_group(rg).column(i).statistics
                if st is None or not st.has_null_count or st.null_count > 0:
                    col_nulls = True
                    break
            nulls[name] = nulls.get(name, False) or col_nulls
    assert schema is not None
    return schema, offsets, total, nulls


def _value_tables(parts: Sequence[str], cols: dict[str, str], instrument: Instrument,
                  storage_options: StorageOptions = None) -> dict[str, list[Any]]:
    """Candidate raw values of the answer columns: the distinct values of the first
    65,536 rows, and the spellings of every option, level and code (as stored, upper case,
    capitalised). A value missing here is not an error: its rows are simply passed to
    the pandas checker, which reads every value."""
    import pyarrow.compute as pc

    if not cols:
        return {}
    with _open_parquet(parts[0], storage_options) as pf:
        first = next(pf.iter_batches(batch_size=65_536, columns=list(cols)), None)
    out: dict[str, list[Any]] = {}
    for c, kind in cols.items():
        vals: list[Any] = []
        if first is not None:
            u = pc.unique(first.column(c))
            vals = [v for v in u.to_pylist() if v is not None][:_MAX_DISTINCT]
        cand: list[Any] = []
        gate = next((g for g in instrument.gates if g.id == c), None)
        level_of = next((x for x in instrument.constructs
                         if x.kind == "single_choice" and x.id == c), None)
        if gate is not None or level_of is not None:
            lookup = (gate_codes(gate) if gate is not None
                      else level_codes(level_of) if level_of is not None else {})
            targets = set(lookup.values())
            for k in (*lookup, *targets):
                for sp in (k, k.upper(), k.capitalize()):
                    if kind == "str":
                        cand.append(sp)
                    elif re.fullmatch(r"[0-9]+", sp):
                        cand.append(int(sp) if kind == "int" else float(sp))
        else:
            for v in instrument.allowed_values(c):
                cand.append(str(v) if kind == "str" else int(v) if kind == "int"
                            else float(v))
        if kind == "str":
            cand.append("")
        seen = dict.fromkeys([*vals, *cand])
        out[c] = list(seen)
    return out


def _choice_map(vals: list[Any], lookup: dict[str, str]) -> tuple[dict[Any, str], list[Any]]:
    """Distinct raw values -> option/level (exactly as map_choices), and blank values."""
    ok: dict[Any, str] = {}
    blank: list[Any] = []
    for v in vals:
        if isinstance(v, float) and np.isnan(v):
            continue  # NaN: leave to the pandas checker
        if isinstance(v, str) and v.strip() == "":
            blank.append(v)
            continue
        k = _norm_key(v)
        t = lookup.get(k) if k is not None else None
        if t is not None:
            ok[v] = t
    return ok, blank


def _number_map(vals: list[Any], allowed: Sequence[int], kind: str
                ) -> tuple[dict[Any, int], list[Any]]:
    """Distinct raw values -> allowed code (exactly as the pandas checker reads numbers)."""
    ok: dict[Any, int] = {}
    blank: list[Any] = []
    allowed_f = {float(a): int(a) for a in allowed}
    for v in vals:
        if kind == "str":
            s = v.strip()
            if s == "":
                blank.append(v)
                continue
            num = pd.to_numeric(pd.Series([s], dtype="string"), errors="coerce")
            x = float(num.iloc[0]) if not pd.isna(num.iloc[0]) else float("nan")
        else:
            x = float(v)
        if x in allowed_f:
            ok[v] = allowed_f[x]
    return ok, blank


def _case(col: str, mapping: dict[Any, Any]) -> str:
    if not mapping:
        return "NULL"
    whens = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in mapping.items())
    return f"(CASE {_q(col)} {whens} END)"


def _blank(col: str, blanks: list[Any]) -> str:
    if blanks:
        return f"({_q(col)} IS NULL OR {_q(col)} IN ({', '.join(_lit(b) for b in blanks)}))"
    return f"({_q(col)} IS NULL)"


def _plan(instrument: Instrument, schema: Any, parts: Sequence[str], src: str,
          storage_options: StorageOptions = None) -> _Plan:
    names = list(schema.names)
    kinds = {n: _kind(schema.field(n).type) for n in names}
    if len(set(names)) != len(names) or len({n.lower() for n in names}) != len(names):
        raise EngineNotApplicable("duplicate column names")
    expected = expected_columns(instrument)
    known = {*ID_COLUMNS, "date", *expected}
    lower_known = {k.lower(): k for k in known}
    for n in names:  # columns the mapping would rename: leave to the pandas reader
        if n not in known and n.lower() in lower_known:
            raise EngineNotApplicable(f"column {n!r} differs from {lower_known[n.lower()]!r}")
        if n.strip() != n or not n:
            raise EngineNotApplicable(f"column name {n!r}")
    for idc in ID_COLUMNS:
        if idc not in names:
            raise EngineNotApplicable(f"no {idc} column")
    if {c.lower() for c in names} >= {"rating_id", "respondent_id", "item_id", "value"}:
        raise EngineNotApplicable("a long export")
    used = [c for c in (*ID_COLUMNS, "date", *expected) if c in names]
    for col in used:
        if kinds[col] not in ("str", "int", "float", "date", "ts", "null"):
            raise EngineNotApplicable(f"column {col!r} of type {schema.field(col).type}")
        if col in ID_COLUMNS and kinds[col] not in ("str", "int"):
            raise EngineNotApplicable(f"column {col!r} of type {schema.field(col).type}")
        if col == "date" and kinds[col] not in ("str", "date", "ts"):
            raise EngineNotApplicable(f"date column of type {schema.field(col).type}")
    # level 1: one projection computing every cell's meaning once per row
    l1: list[str] = ["__row"]
    clean: list[str] = []
    for idc, alias in (("rating_id", "__rid"), ("respondent_id", "__resp")):
        if kinds[idc] == "str":
            l1.append(f"{_q(idc)} AS {alias}")
            l1.append(f"COALESCE(regexp_full_match({_q(idc)}, '[!-~]+'), FALSE) AS {alias}_ok")
        else:
            l1.append(f"CAST({_q(idc)} AS VARCHAR) AS {alias}")
            l1.append(f"{_q(idc)} IS NOT NULL AS {alias}_ok")
        clean.append(f"{alias}_ok")
    date = None
    if "date" in names:
        d = _q("date")
        if kinds["date"] == "str":
            l1.append(f"COALESCE({d} IS NULL OR {d} = '' OR (regexp_full_match({d}, "
                      "'(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}') AND "
                      f"TRY_CAST({d} AS DATE) IS NOT NULL), FALSE) AS __d_ok")
            clean.append("__d_ok")
            l1.append(f"TRY_CAST({d} AS DATE) AS __d")
        elif kinds["date"] == "date":
            l1.append(f"{d} AS __d")
        else:
            l1.append(f"CAST({d} AS TIMESTAMP) AS __d")
        date = "__d"
    cat_cols: dict[str, str] = {}
    for c in instrument.constructs:
        if c.gate is not None and c.gate.id in names:
            cat_cols[c.gate.id] = kinds[c.gate.id]
        cols = [c.id] if c.kind == "single_choice" else list(c.item_ids)
        for x in cols:
            if x in names:
                cat_cols[x] = kinds[x]
    distinct = _value_tables(parts, {k: v for k, v in cat_cols.items() if v != "null"},
                             instrument, storage_options)
    blank_sql: dict[str, str] = {}
    val_sql: dict[str, str] = {}
    gate_open: dict[str, str] = {}
    for n_, (x, kind) in enumerate(cat_cols.items()):
        if kind == "null":
            blank_sql[x], val_sql[x] = "TRUE", "NULL"
            continue
        gate = next((g for g in instrument.gates if g.id == x), None)
        level_of = next((c for c in instrument.constructs
                         if c.kind == "single_choice" and c.id == x), None)
        ok: dict[Any, Any]
        if gate is not None:
            ok, blanks = _choice_map(distinct[x], gate_codes(gate))
            opens = [k for k, v in ok.items() if v in gate.open_when]
            l1.append((f"COALESCE({_q(x)} IN ({', '.join(_lit(o) for o in opens)}), FALSE)"
                       if opens else "FALSE") + f" AS __o{n_}")
            gate_open[x] = f"__o{n_}"
        elif level_of is not None:
            ok, blanks = _choice_map(distinct[x], level_codes(level_of))
        else:
            ok, blanks = _number_map(distinct[x], instrument.allowed_values(x), kind)
        l1.append(f"{_case(x, ok)} AS __v{n_}")
        l1.append(f"{_blank(x, blanks)} AS __b{n_}")
        val_sql[x], blank_sql[x] = f"__v{n_}", f"__b{n_}"
    for x in cat_cols:
        clean.append(f"({blank_sql[x]} OR {val_sql[x]} IS NOT NULL)")
    # skip logic and nothing answered
    for c in instrument.constructs:
        g = c.gate
        if g is None:
            continue
        cols = [x for x in ((c.id,) if c.kind == "single_choice" else c.item_ids)
                if x in names]
        if not cols:
            continue
        answered = " OR ".join(f"NOT {blank_sql[x]}" for x in cols)
        is_open = gate_open.get(g.id, "FALSE")
        clean.append(f"(NOT ({answered}) OR {is_open})")
    present = [x for x in expected if x in blank_sql]
    if present:
        clean.append("(" + " OR ".join(f"NOT {blank_sql[x]}" for x in present) + ")")
    # indicators
    sel: list[tuple[str, str, str, str]] = []
    pres: list[str] = []
    pres_construct: list[str] = []
    pidx: list[int] = []
    skipped: list[str] = []
    value_counts: list[tuple[str, int, str]] = []
    gate_ok: dict[str, str] = {}
    for c in instrument.constructs:
        g = c.gate
        gopen = "TRUE" if g is None else gate_open.get(g.id, "FALSE")
        if c.kind != "single_choice":
            for it in c.items:
                gate_ok[it.id] = gopen
                for v in instrument.allowed_values(it.id):
                    cond = (f"{val_sql[it.id]} = {int(v)}" if it.id in val_sql else "FALSE")
                    value_counts.append((it.id, int(v), f"({gopen} AND {cond})"))
        if c.kind == "likert":
            skipped.extend(c.item_ids)
            continue
        cols = [x for x in ((c.id,) if c.kind == "single_choice" else c.item_ids)
                if x in names]
        anyans = " OR ".join(f"{val_sql[x]} IS NOT NULL" for x in cols) if cols else "FALSE"
        p_sql = f"({gopen} AND ({anyans}))"
        j = len(pres)
        pres.append(p_sql)
        pres_construct.append(c.id)
        for it in c.items:
            if c.kind == "single_choice":
                cond = (f"{val_sql[c.id]} = {_lit(it.id)}" if c.id in names else "FALSE")
            else:
                cond = f"{val_sql[it.id]} = 1" if it.id in names else "FALSE"
            sel.append((it.id, c.id, c.kind, f"(__p{j} AND COALESCE({cond}, FALSE))"))
            pidx.append(j)
    gates = [(g.id, gate_open.get(g.id, "FALSE")) for g in instrument.gates]
    level1 = f"SELECT {', '.join(l1)} FROM ({_SRC})"
    l2 = ["*", "(" + " AND ".join(clean) + ") AS __clean"]
    l2 += [f"{p_sql} AS __p{j}" for j, p_sql in enumerate(pres)]
    level2 = f"SELECT {', '.join(l2)} FROM ({level1})"
    return _Plan(source_sql=level2.replace(_SRC, src), template=level2, clean="__clean", rid="__rid", resp="__resp", date=date,
                 sel=sel, pres=[f"__p{j}" for j in range(len(pres))],
                 pres_construct=pres_construct, pidx=pidx, skipped=skipped,
                 gates=gates, value_counts=value_counts, gate_ok=gate_ok)


def _half_memory_mb() -> int | None:
    """Half the machine's memory in MB (None where the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**21)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def _default_memory(rows: int, attempt: int = 0) -> str | None:
    """DuckDB's memory limit: 600 MB up to 10 million ratings, then 32 bytes more a rating
    (the hash tables of the ids and of the per-respondent sums grow with them), doubled
    at each ``attempt`` after DuckDB ran out of it, at most half the machine's memory.
    None when the attempt would not raise the limit (it is already at the cap)."""
    base = 600 + 32 * max(0, rows - 10_000_000) // 2**20
    mb = base * 2**attempt
    half = _half_memory_mb()
    if half is not None:
        cap = max(600, half)
        if attempt and min(base * 2**(attempt - 1), cap) >= cap:
            return None
        mb = min(mb, cap)
    return f"{mb}MB"


def _connect(threads: int | None = None, memory_limit: str | None = None,
             parts: Sequence[str] = (), storage_options: StorageOptions = None) -> Any:
    """A DuckDB connection with the engine's settings, reading the URL ``parts``."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    limit = memory_limit or os.environ.get("INSTRVAL_DUCKDB_MEMORY") or "600MB"
    con.execute(f"SET memory_limit = {_lit(limit)}")
    tmp = os.environ.get("INSTRVAL_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
    con.execute(f"SET temp_directory = {_lit(os.path.join(tmp, 'instrval-duckdb'))}")
    _register_filesystems(con, parts, storage_options)
    return con


# ----------------------------------------------------------------------------- steps
_PACK_BITS = 21  # three counters of up to 2**21 - 1 ratings per respondent in one BIGINT


def _counters(plan: _Plan) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The counters to sum per respondent, and those that follow from others: a 0/1
    item's count of 1s among gate-open ratings is its ``selected`` count (a 1 presents
    the construct), and an item's gate-open count is the gate's count (or all ratings)."""
    sel_idx = {it: i for i, (it, _, kind, _) in enumerate(plan.sel)
               if kind in ("multi_select", "binary")}
    gate_idx = {sql: i for i, (_, sql) in enumerate(plan.gates)}
    count: list[tuple[str, str]] = []
    derived: dict[str, str] = {}
    count += [(f"s{i}", s) for i, (_, _, _, s) in enumerate(plan.sel)]
    count += [(f"p{i}", s) for i, s in enumerate(plan.pres)]
    count += [(f"g{i}", s) for i, (_, s) in enumerate(plan.gates)]
    for i, (it, v, s) in enumerate(plan.value_counts):
        if v == 1 and it in sel_idx:
            derived[f"v{i}"] = f"s{sel_idx[it]}"
        else:
            count.append((f"v{i}", s))
    for i, it in enumerate(plan.gate_ok):
        sql = plan.gate_ok[it]
        if sql == "TRUE":
            derived[f"o{i}"] = "__n"
        elif sql in gate_idx:
            derived[f"o{i}"] = f"g{gate_idx[sql]}"
        else:
            count.append((f"o{i}", f"({sql})"))
    return count, derived


def _agg_sql(plan: _Plan, where: str, packed: bool = True) -> str:
    """Per-respondent sums over the clean rows (``where`` excludes the rest); every
    other row forms its own group (``__bad`` = its row). With ``packed``, three counters
    share one 63-bit sum (decoded by :func:`_agg_df`)."""
    cols = ["min(__row) AS __first", "count(*) AS __n"]
    count, _ = _counters(plan)
    if packed:
        for k in range(0, len(count), 3):
            terms = [f"(CAST(COALESCE({sql}, FALSE) AS BIGINT) << {_PACK_BITS * j})"
                     for j, (_, sql) in enumerate(count[k:k + 3])]
            cols.append(f"CAST(COALESCE(sum({' + '.join(terms)}), 0) AS BIGINT) AS __k{k // 3}")
    else:
        cols += [f"count_if({sql}) AS {name}" for name, sql in count]
    if plan.date is not None:
        cols.append(f"min({plan.date}) AS __dmin")
        cols.append(f"max({plan.date}) AS __dmax")
    return (f"SELECT {plan.resp} AS __resp, CASE WHEN {where} THEN -1 ELSE __row END "
            f"AS __bad, CASE WHEN {where} THEN NULL ELSE __rid END AS __badrid, "
            f"{', '.join(cols)} FROM ({plan.source_sql}) GROUP BY ALL")


#: Vectors (of 2,048 rows) per chunk when a grouped result is fetched.
_FETCH_VECTORS = 256


def _unpack(df: pd.DataFrame, count: list[tuple[str, str]]) -> pd.DataFrame:
    """A chunk of :func:`_agg_sql`'s result with its packed sums (``__k*``) decoded into
    one int32 column per counter."""
    out = {c: df[c] for c in df.columns if not c.startswith("__k")}
    mask = (1 << _PACK_BITS) - 1
    for k in range(0, len(count), 3):
        if f"__k{k // 3}" not in df.columns:
            break
        packed = df[f"__k{k // 3}"].to_numpy(dtype=np.int64, na_value=0)
        for j, (name, _) in enumerate(count[k:k + 3]):
            # a counter is below 2**21: int32 halves the respondent-level memory
            out[name] = ((packed >> (_PACK_BITS * j)) & mask).astype(np.int32)
    return pd.DataFrame(out, copy=False)


def _agg_df(con: Any, plan: _Plan, where: str) -> pd.DataFrame:
    """Run :func:`_agg_sql` and return one column per counter (``s*``, ``p*``, ``g*``,
    ``v*``, ``o*``), derived ones included.

    The result is fetched chunk by chunk and decoded as it comes, so that the packed
    sums of every respondent are never all in memory at once beside the decoded ones.
    """
    count, derived = _counters(plan)
    res = con.execute(_agg_sql(plan, where, packed=True))
    chunks: list[pd.DataFrame] = []
    while True:
        chunk = res.fetch_df_chunk(_FETCH_VECTORS)
        if not chunks or len(chunk):
            chunks.append(_unpack(chunk, count))
        if not len(chunk):
            break
    df = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    del chunks
    if len(df) and int(df["__n"].max()) >= 2**_PACK_BITS:  # pragma: no cover - huge groups
        df = con.execute(_agg_sql(plan, where, packed=False)).df()
    for name, src in derived.items():
        df[name] = df[src]
    return df


def _read_rows(parts: Sequence[str], offsets: Sequence[int], rows: np.ndarray,
               nulls: dict[str, bool], storage_options: StorageOptions = None
               ) -> pd.DataFrame:
    """The export rows ``rows`` (spreadsheet numbers, sorted) as the pandas reader sees
    them (pyarrow to pandas; integer columns with blanks anywhere in the file as float)."""
    import pyarrow as pa

    tables = []
    schema = None
    bounds = list(offsets) + [np.iinfo(np.int64).max]
    pos = np.asarray(rows, dtype=np.int64) - 2
    for fi, f in enumerate(parts):
        lo, hi = bounds[fi], bounds[fi + 1]
        mine = pos[(pos >= lo) & (pos < hi)] - lo
        if not len(mine) and schema is not None:
            continue
        with _open_parquet(f, storage_options) as pf:
            schema = pf.schema_arrow
            start = 0
            for rg in range(pf.metadata.num_row_groups if len(mine) else 0):
                n = pf.metadata.row_group(rg).num_rows
                sub = mine[(mine >= start) & (mine < start + n)] - start
                if len(sub):
                    t = pf.read_row_group(rg)
                    tables.append(t.take(pa.array(sub)))
                start += n
    assert schema is not None
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    df = table.to_pandas()
    for name in table.column_names:
        t = table.schema.field(name).type
        if pa.types.is_integer(t) and nulls.get(name) and df[name].dtype.kind in "iu":
            df[name] = df[name].astype("float64")
    return df


def _check_rows(df: pd.DataFrame, rows: np.ndarray, instrument: Instrument, file: str
                ) -> Any:
    """The pandas checker on the rows the engine could not pass as clean."""
    from instrval.io.ratings.raw import RawTable, header_names
    from instrval.io.ratings.read import finish

    names, hproblems = header_names([str(c) for c in df.columns], file)
    df = df.copy()
    df.columns = names
    raw = RawTable(frame=df.reset_index(drop=True), rows=np.asarray(rows, dtype=np.int64),
                   file=file, format="wide", problems=hproblems,
                   details={"container": "parquet"})
    return finish(raw, instrument, fmt="wide", mapping=None, ddict=None, digest=None)


def reduce_respondents(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Add up per-respondent sums of several passes or partitions (respondents matched by
    id; first row and first date the smallest, last date the largest)."""
    used = [f for f in frames if len(f)]
    if not used:
        return frames[0]
    both = pd.concat(used, ignore_index=True)
    agg = {c: ("min" if c in ("__first", "__dmin") else "max" if c == "__dmax" else "sum")
           for c in both.columns if c != "__resp"}
    return both.groupby("__resp", sort=False).agg(agg).reset_index()


def _check_rest(instrument: Instrument, plan: _Plan, clean: pd.DataFrame, path: Any,
                parts: Sequence[str], offsets: Sequence[int], sus: pd.DataFrame,
                extra: np.ndarray, nulls: Any, total: int, engine: str,
                storage_options: StorageOptions = None) -> Any:
    """The rows not passed as clean (``sus`` and ``extra``) read back and run through the
    pandas checker, then the scan assembled: the common end of the DuckDB and Dask engines."""
    sub_rows = np.unique(np.concatenate([sus["__row"].to_numpy(np.int64), extra]))
    df = _read_rows(parts, offsets, sub_rows, nulls, storage_options)
    name = str(path)
    rd_sub = _check_rows(df, sub_rows, instrument, name)
    return _finalize(instrument, plan, clean, rd_sub, sub_rows, total,
                     {"file": name, "format": "wide", "sha256": None,
                      "container": "parquet", "parts": len(parts)}, engine)


def _finalize(instrument: Instrument, plan: _Plan, clean: pd.DataFrame, rd_sub: Any,
              sub_rows: np.ndarray, n_read: int, source: dict[str, Any], engine: str
              ) -> RatingScan:
    """Add the clean rows' sums and the pandas-checked rows' results."""
    acc_rows = sub_rows[~np.isin(sub_rows, rd_sub.quarantine["row"].to_numpy(np.int64))] \
        if len(sub_rows) else sub_rows
    counts_sub, items_sub = scan_counts(rd_sub, acc_rows)
    k = len(plan.sel)
    m = len(plan.pres)
    meta = pd.DataFrame([(a, b, c) for a, b, c, _ in plan.sel],
                        columns=["item_id", "construct_id", "kind"])
    cl = clean
    # respondents in order of their first row (a stable sort, column by column: no copy
    # of the whole respondent table)
    order = np.argsort(cl["__first"].to_numpy(dtype=np.int64), kind="stable") \
        if len(cl) else np.zeros(0, dtype=np.intp)

    def stack(cols: list[str]) -> np.ndarray:
        out = np.empty((len(order), len(cols)), dtype="float64")
        for i, c in enumerate(cols):
            out[:, i] = cl[c].to_numpy()[order]
        return out

    Y = stack([f"s{i}" for i in range(k)])
    P = stack([f"p{i}" for i in range(m)])
    counts = RelevanceCounts(meta, np.asarray(plan.pidx, dtype=np.intp), tuple(plan.skipped),
                             cl["__resp"].to_numpy(dtype=object)[order] if len(cl) else
                             np.zeros(0, dtype=object),
                             cl["__first"].to_numpy(dtype=np.int64)[order] if len(cl) else
                             np.zeros(0, dtype=np.int64), Y, P,
                             int(cl["__n"].sum()) if len(cl) else 0)
    del Y, P
    if not counts_sub.meta["item_id"].equals(meta["item_id"]):
        raise RuntimeError("engine and pandas indicators disagree")  # pragma: no cover
    counts = counts.merge(counts_sub)

    def t(col: str) -> int:
        if not len(cl) or col not in cl.columns:
            return 0
        return int(np.sum(cl[col].to_numpy(), dtype=np.int64))

    presented = {c.id: 0 for c in instrument.constructs}
    for i, cid in enumerate(plan.pres_construct):
        presented[cid] = t(f"p{i}")
    sub_sum = rd_sub.summary()
    for cid, v in sub_sum["presented"].items():
        presented[cid] = presented.get(cid, 0) + int(v)
    gates_open = {gid: t(f"g{i}") + int(sub_sum["gates_open"].get(gid, 0))
                  for i, (gid, _) in enumerate(plan.gates)}
    item_counts: dict[str, tuple[int, dict[int, int]]] = {}
    for i, it in enumerate(plan.gate_ok):
        n_rows = t(f"o{i}") + items_sub.get(it, (0, {}))[0]
        vc: dict[int, int] = {}
        for j, (it2, v, _) in enumerate(plan.value_counts):
            if it2 == it:
                vc[v] = t(f"v{j}")
        for v, cnt in items_sub.get(it, (0, {}))[1].items():
            vc[v] = vc.get(v, 0) + cnt
        item_counts[it] = (n_rows, {v: c for v, c in sorted(vc.items()) if c})
    dates = None
    cand = []
    if len(cl) and "__dmin" in cl.columns and cl["__dmin"].notna().any():
        cand.append((pd.Timestamp(cl["__dmin"].min()), pd.Timestamp(cl["__dmax"].max())))
    dr = rd_sub.date_range()
    if dr is not None:
        cand.append((pd.Timestamp(dr[0]), pd.Timestamp(dr[1])))
    if cand:
        dates = (min(c[0] for c in cand), max(c[1] for c in cand))
    n_acc = counts.n_ratings
    src = {**source, "rows_read": n_read, "engine": engine,
           "rows_checked_by_pandas": int(len(sub_rows))}
    if n_acc + rd_sub.n_quarantined != n_read:  # pragma: no cover - a bug, not bad data
        raise RuntimeError("the engine lost rows")
    return RatingScan(instrument=instrument, n_read=n_read, quarantine=rd_sub.quarantine,
                      problems=rd_sub.problems, source=src,
                      respondents=len(counts.respondents), dates=dates,
                      presented=presented, gates_open=gates_open, item_counts=item_counts,
                      relevance_counts=counts, engine=engine)


def _strip_dups(con: Any, plan: _Plan, sus: pd.DataFrame) -> np.ndarray:
    """Clean rows whose id equals, once stripped, the id of a row sent to pandas (the
    pandas checker compares stripped ids): they go to pandas too."""
    from instrval.validate.ratings import as_text

    raw = sus["__rid"]
    stripped = as_text(raw.astype("string") if raw.dtype != object else raw)
    differ = stripped.notna() & (stripped.astype(object) != raw.astype(object))
    if not differ.any():
        return np.zeros(0, dtype=np.int64)
    keys = pd.DataFrame({"k": stripped[differ].astype(str).unique()})
    con.register("__keys", keys)
    got = con.execute(f"SELECT __row FROM ({plan.source_sql}) WHERE __clean AND "
                      f"__rid IN (SELECT k FROM __keys)").fetchnumpy()["__row"]
    con.unregister("__keys")
    return np.asarray(got, dtype=np.int64)


def scan_ratings(path: str | os.PathLike[str], instrument: Instrument, *,
                 threads: int | None = None, memory_limit: str | None = None,
                 storage_options: StorageOptions = None,
                 progress: ProgressFn | None = None) -> RatingScan:
    """Check a wide Parquet export (file, folder of parts or glob) with DuckDB.

    Parameters
    ----------
    path : path-like or str
        A Parquet file, a folder of Parquet parts or a glob (``"parts/*.parquet"``), local
        or an fsspec URL (``"s3://bucket/exports/"``, ``"gs://..."``, ``"file:///..."``;
        read through fsspec, no DuckDB extension needed). Rows are numbered through the
        parts in name order as in one spreadsheet.
    instrument : Instrument
    threads, memory_limit : optional
        DuckDB's ``threads`` and ``memory_limit`` (default: 600MB up to 10 million
        ratings, 32 bytes more a rating beyond, at most half the memory, and twice that
        again when DuckDB runs out of it; or the ``INSTRVAL_DUCKDB_MEMORY`` environment
        variable). DuckDB spills to the temporary folder beyond it.
    storage_options : dict, optional
        Options of the URL's fsspec filesystem (``{"anon": True}``, ``{"profile": ...}``,
        credentials), as ``dask.dataframe.read_parquet`` takes them.
    progress : callable(str), optional
        Receives a line per step (rows per second, parts done).

    Returns
    -------
    RatingScan
        The counts, quarantine and problems of :func:`instrval.io.ratings.read_ratings`
        (identical, row for row) and the sufficient statistics of descriptives and
        relevance ratios.

    Raises
    ------
    EngineNotApplicable
        For exports the engine does not read (not wide, columns needing a mapping,
        boolean or nested columns); read those with the pandas reader.
    RatingsError
        When a file cannot be read, or DuckDB runs out of its memory limit.
    """
    import duckdb

    auto = memory_limit is None and not os.environ.get("INSTRVAL_DUCKDB_MEMORY")
    attempt = 0
    while True:
        try:
            return _scan(path, instrument, threads=threads, memory_limit=memory_limit,
                         storage_options=storage_options, progress=progress,
                         attempt=attempt)
        except duckdb.OutOfMemoryException as exc:
            # DuckDB spills to disk, yet a big GROUP BY near its limit can still run out
            # (two runs in five at 100M ratings): with the default limit, try again with
            # twice as much (at most half the machine's memory) before giving up
            bigger = None
            if auto:  # the rows, from the parts' footers (read again: a rare path)
                rows = _schema(parquet_parts(path, storage_options), storage_options)[2]
                bigger = _default_memory(rows, attempt + 1)
            if bigger is not None:
                attempt += 1
                if progress:
                    progress(f"DuckDB ran out of its memory limit; again with {bigger}")
                continue
            raise RatingsError(
                f"{path}: DuckDB ran out of its memory limit ({exc}); raise it with the "
                "INSTRVAL_DUCKDB_MEMORY environment variable (e.g. "
                "INSTRVAL_DUCKDB_MEMORY=4GB)",
                [Problem("too_large", str(exc), file=str(path))]) from None


def _scan(path: str | os.PathLike[str], instrument: Instrument, *,
          threads: int | None = None, memory_limit: str | None = None,
          storage_options: StorageOptions = None,
          progress: ProgressFn | None = None, attempt: int = 0) -> RatingScan:
    """The body of :func:`scan_ratings` (``attempt``: of the default memory limit)."""
    so = storage_options
    parts = parquet_parts(path, so)
    t0 = time.perf_counter()
    schema, offsets, total, nulls = _schema(parts, so)
    if total == 0:
        raise EngineNotApplicable("no rows")
    if memory_limit is None and not os.environ.get("INSTRVAL_DUCKDB_MEMORY"):
        memory_limit = _default_memory(total, attempt)
    con = _connect(threads, memory_limit, parts, so)
    src = _source_sql(parts, offsets)
    plan = _plan(instrument, schema, parts, src, so)
    if progress:
        progress(f"scanning {total:,} ratings in {len(parts)} part(s) with DuckDB")
    # pass 1: rating ids that occur more than once
    # (64-bit hashes: 8 bytes an id; two ids sharing a hash only send their rows to the
    # pandas checker, which compares the ids themselves)
    con.execute(f"CREATE TEMP TABLE __dup AS SELECT hash(CAST(rating_id AS VARCHAR)) AS k "
                f"FROM ({src}) WHERE rating_id IS NOT NULL GROUP BY ALL "
                f"HAVING count(*) > 1")
    n_dup = con.execute("SELECT count(*) FROM __dup").fetchone()[0]
    if progress:
        dt = time.perf_counter() - t0
        progress(f"ids compared: {total:,} ratings ({total / max(dt, 1e-9):,.0f}/s)")
    # pass 2: per-respondent sums of the clean rows; every other row is its own group
    where = "COALESCE(__clean, FALSE)"
    if n_dup:
        where += " AND hash(__rid) NOT IN (SELECT k FROM __dup)"
    agg = _agg_df(con, plan, where)
    bad = agg["__bad"].to_numpy(np.int64) >= 0
    sus = pd.DataFrame({"__row": agg.loc[bad, "__bad"].to_numpy(np.int64),
                        "__rid": agg.loc[bad, "__badrid"].to_numpy(object)}
                       ).sort_values("__row").reset_index(drop=True)
    clean = (agg.loc[~bad] if bad.any() else agg).drop(columns=["__bad", "__badrid"]
                                                       ).reset_index(drop=True)
    del agg
    extra = _strip_dups(con, plan, sus)
    if len(extra):  # ids equal once stripped: count again without those rows
        con.register("__extra", pd.DataFrame({"r": extra}))
        agg = _agg_df(con, plan, where + " AND __row NOT IN (SELECT r FROM __extra)")
        clean = agg.loc[agg["__bad"] < 0].drop(columns=["__bad", "__badrid"]
                                              ).reset_index(drop=True)
    if progress:
        dt = time.perf_counter() - t0
        progress(f"checked {total:,} ratings ({total / max(dt, 1e-9):,.0f}/s); "
                 f"{len(sus) + len(extra):,} to check row by row")
    con.close()
    scan = _check_rest(instrument, plan, clean, path, parts, offsets, sus, extra, nulls,
                       total, "duckdb", so)
    if progress:
        dt = time.perf_counter() - t0
        progress(f"done: {total:,} ratings in {dt:.1f} s ({total / max(dt, 1e-9):,.0f}/s)")
    return scan

# ----------------------------------------------------------------------------- front door
def read_parts_frame(path: str | os.PathLike[str], *, storage_options: StorageOptions = None,
                     error: type[InstrvalError] = RatingsError) -> tuple[pd.DataFrame, int]:
    """All the Parquet parts of ``path`` (a Parquet file, a folder of parts, a glob or a
    URL) as one DataFrame, rows in name order, and the number of parts.

    Refused (``too_large``) when the parts together would not fit in
    :attr:`~instrval._limits.Limits.max_memory_bytes` (estimated from their footers,
    before any row is read); every part passes :func:`instrval.io.files.check_parquet`.
    Raises ``error`` (an :class:`~instrval.errors.InstrvalError` subclass) naming the part.
    """
    import pyarrow as pa

    from instrval._limits import limits
    from instrval.io.files import parquet_memory_bytes

    name = os.fspath(path)
    try:
        parts = ratings_parts(path, storage_options)
        for f in parts:
            if _suffix(f) not in _PARQUET:
                raise RatingsError(f"{f}: parts and URLs must be Parquet files (*.parquet); "
                                   "download other files and read them locally",
                                   [Problem("invalid_value", "not a Parquet file", file=f)])
        lim = limits()
        need = 0
        rows = 0
        for f in parts:
            _, md = _footer(f, storage_options)
            need += parquet_memory_bytes(md, whole=True)
            rows += md.num_rows
        if need > lim.max_memory_bytes:
            raise RatingsError(
                f"{name}: the {len(parts)} part(s) hold {rows:,} rows that need about "
                f"{need / 2**30:.1f} GiB of memory to read at once (more than "
                f"{lim.max_memory_bytes / 2**30:.1f} GiB); read them with --engine duckdb "
                "or dask where the command has it, or raise INSTRVAL_MAX_MEMORY_BYTES",
                [Problem("too_large", "the parts do not fit in memory", file=name)])
        tables = []
        try:
            for f in parts:
                with _open_parquet(f, storage_options) as pf:
                    tables.append(pf.read())
            table = pa.concat_tables(tables)
        except Exception as exc:  # pyarrow.ArrowInvalid, OSError, the filesystem's errors
            raise RatingsError(f"{name}: cannot read the Parquet parts: {exc}",
                               [Problem("unreadable", str(exc), file=name)]) from None
        del tables
    except RatingsError as exc:
        if error is RatingsError:
            raise
        raise error(exc.summary, list(exc.problems)) from None
    return table.to_pandas(), len(parts)


def _read_parts_pandas(path: str | os.PathLike[str], instrument: Instrument,
                       storage_options: StorageOptions = None) -> Any:
    """The pandas reader on a folder of parts (or a URL): all parts as one table
    (:func:`read_parts_frame`), rows numbered through them in name order."""
    from instrval.io.ratings.raw import frame_table
    from instrval.io.ratings.read import finish

    frame, n_parts = read_parts_frame(path, storage_options=storage_options)
    raw = frame_table(frame, file=os.fspath(path), fmt="wide",
                      details={"container": "parquet", "parts": n_parts})
    return finish(raw, instrument, fmt="wide", mapping=None, ddict=None, digest=None)


def _is_local_text(path: str | os.PathLike[str]) -> bool:
    """A local file that is not Parquet, Excel or SPSS (a CSV export, for
    :func:`~instrval.io.csv_engine.scan_csv`)."""
    p = Path(os.fspath(path))
    if not p.is_file():
        return False
    from instrval.io.ratings.detect import container_of

    with open(p, "rb") as fh:
        head = fh.read(8)
    return container_of(p, head) == "text"


def read_ratings_any(path: str | os.PathLike[str], instrument: Instrument, *,
                     engine: str = "auto", scheduler: str | None = None,
                     format: str | None = None, mapping: Any = None,
                     dictionary: str | os.PathLike[str] | None = None,
                     strict: bool = False, inspect: bool = False,
                     storage_options: StorageOptions = None,
                     progress: ProgressFn | None = None) -> Any:
    """Read and check an export (file, folder of parts or glob; local or an fsspec URL
    such as ``"s3://bucket/exports/"`` with ``storage_options``) with the chosen engine.

    ``engine``: ``"pandas"`` (:func:`instrval.io.ratings.read_ratings`, returns
    :class:`~instrval.model.ratings.RatingData`), ``"duckdb"`` (:func:`scan_ratings`,
    returns :class:`~instrval.model.scan.RatingScan`; a local CSV export is streamed
    block by block by :func:`~instrval.io.csv_engine.scan_csv` instead), ``"dask"``
    (:func:`instrval.io.dask_engine.scan_ratings_dask` on ``scheduler``: an address such
    as ``"tcp://host:8786"`` or ``"local"``) or ``"auto"`` (:func:`choose_engine`).
    Exports the columnar engines do not read (long, REDCap, Qualtrics, SPSS, Excel, a
    CSV that is compressed or not UTF-8, a mapping) go to the pandas reader; ``source["engine"]`` says which engine ran.
    ``inspect=True`` returns without raising for row problems (as
    :func:`~instrval.io.ratings.inspect_ratings`); otherwise nothing usable, or any
    problem with ``strict``, raises as :func:`~instrval.io.ratings.read_ratings`.
    """
    from dataclasses import replace

    from instrval.io.ratings.read import inspect_ratings, raise_or_warn

    so = storage_options
    url = is_url(path)
    chosen = choose_engine(path, engine, so)
    if chosen == "dask" and scheduler is None:
        scheduler = "local"
    columnar = (chosen in ("duckdb", "dask") and format in (None, "wide")
                and mapping is None and dictionary is None)
    result: Any = None
    if columnar:
        try:
            if chosen == "dask":
                from instrval.io.dask_engine import scan_ratings_dask

                result = scan_ratings_dask(path, instrument, scheduler=scheduler or "local",
                                           storage_options=so, progress=progress)
            elif not url and _is_local_text(path):
                from instrval.io.csv_engine import scan_csv

                result = scan_csv(path, instrument, progress=progress)
            else:
                result = scan_ratings(path, instrument, storage_options=so,
                                      progress=progress)
        except EngineNotApplicable as why:
            if progress:
                progress(f"the {chosen} engine does not read this export ({why}); "
                         "reading it with pandas")
            result = None
    if result is None:
        if url or is_parts(path):
            if format not in (None, "wide") or mapping is not None or dictionary is not None:
                what = "URLs" if url else "folders of parts"
                raise RatingsError(f"{path}: {what} must be wide Parquet exports (read "
                                   "other exports from a local file)",
                                   [Problem("invalid_value", "parts must be wide Parquet",
                                            file=str(path))])
            result = _read_parts_pandas(path, instrument, so)
        else:
            result = inspect_ratings(path, instrument, format=format, mapping=mapping,
                                     dictionary=dictionary)
        result = replace(result, source={**result.source, "engine": "pandas"})
    if inspect:
        return result
    return raise_or_warn(result, strict=strict, what=str(path))
