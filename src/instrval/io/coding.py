"""Readers of coded interview segments and codebooks.

:func:`read_coding` reads

* ``"table"``: a coded-segment table (CSV, TSV or XLSX) with one row per coding:
  ``segment_id``, ``participant``, ``document``, ``text``, ``code``, ``coder`` and
  optionally ``item_id``, ``construct_id``, ``theme``, ``category``;
* ``"taguette"``: Taguette's highlight export (CSV or XLSX; columns ``id``, ``document``,
  ``tag``, ``content``): the highlight id is the segment, the document the participant;
  Taguette exports no coders;
* ``"qualcoder"``: a QualCoder coded-text export (CSV or XLSX) with the columns of its
  ``code_text`` table: a code name (``codename`` / ``code``), the file (``file`` /
  ``filename``), the coded text (``seltext`` / ``coded text`` / ``text``), ``pos0``,
  ``pos1`` and the coder (``owner`` / ``coder``); a segment is ``file:pos0-pos1``;
* ``"refi-qda"``: a REFI-QDA project (``.qdpx``, a zip holding ``project.qde`` and the
  sources, or a bare ``.qde``) as written by NVivo, ATLAS.ti, MAXQDA and QualCoder: every
  ``Coding`` of a ``PlainTextSelection`` of a ``TextSource`` becomes a row; the code is its
  path in the codebook (``parent/child``), the coder the ``User`` named by the coding's
  ``creatingUser``, the participant the ``Case`` the source belongs to (else the source
  name) and the segment ``source:start-end``.

XML is parsed with defusedxml (no DTDs, no entity expansion, no external entities) and
archives are checked before anything is extracted: member count, declared and actual
uncompressed sizes and compression ratio are capped, names that climb out of the archive
and nested archives are refused (see :data:`LIMITS`).

:func:`read_codebook` reads a codebook (YAML/JSON, CSV/XLSX, or a REFI-QDA ``.qdc``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _safe_fromstring

from instrval._choices import CODING_FORMATS
from instrval.errors import CodingError, Problem
from instrval.io.files import read_input_bytes
from instrval.io.tables import read_sheet
from instrval.io.yamlfile import load_document
from instrval.model.coding import CATEGORIES, Codebook, CodebookEntry, CodingData
from instrval.model.instrument import Instrument
from instrval.validate.coding import check_segments, parse_category

__all__ = ["read_coding", "read_codebook", "FORMATS", "LIMITS"]

#: Formats :func:`read_coding` knows.
FORMATS = CODING_FORMATS

#: Caps applied to archives (``.qdpx``, ``.xlsx``) and XML before reading them.
LIMITS: dict[str, int] = {
    "max_members": 10_000,              # entries in an archive
    "max_member_bytes": 200 * 2**20,    # uncompressed size of one member read
    "max_total_bytes": 1024 * 2**20,    # declared uncompressed size of all members
    "max_ratio": 200,                   # uncompressed / compressed, for members > 1 MiB
    "max_xml_bytes": 200 * 2**20,       # size of project.qde / .qdc
    "max_db_bytes": 4 * 2**30,          # size of a QualCoder project database (data.qda)
    "max_db_rows": 2_000_000,           # codings read from it
    "max_db_steps": 2_000_000_000,      # SQLite virtual-machine steps for the query
}
_SQLITE_MAGIC = b"SQLite format 3\x00"

_ARCHIVE_SUFFIXES = (".zip", ".qdpx", ".jar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar",
                     ".tar")
_ZIP_MAGIC = b"PK\x03\x04"
_NS_PROJECT = "urn:QDA-XML:project:1.0"
_NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"

_TABLE_ALIASES: dict[str, tuple[str, ...]] = {
    "segment_id": ("segment_id", "segment", "segment id", "id", "quote_id", "quotation_id"),
    "participant": ("participant", "participant_id", "respondent", "respondent_id",
                    "interviewee", "case"),
    "document": ("document", "doc", "file", "filename", "transcript", "source"),
    "text": ("text", "segment_text", "quote", "quotation", "content", "coded_text"),
    "code": ("code", "codes", "tag", "code_name", "codename"),
    "coder": ("coder", "coder_id", "rater", "owner", "user", "annotator"),
    "item_id": ("item_id", "item"),
    "construct_id": ("construct_id", "construct"),
    "theme": ("theme", "inductive_theme"),
    "category": ("category", "judgement", "judgment"),
}
_QUALCODER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("codename", "code_name", "code name", "code"),
    "document": ("filename", "file", "file name", "file_name", "name"),
    "text": ("seltext", "coded text", "coded_text", "text", "coded"),
    "coder": ("owner", "coder"),
    "pos0": ("pos0", "start"),
    "pos1": ("pos1", "end"),
    "ctid": ("ctid", "id"),
    "participant": ("case", "case name", "casename", "participant"),
}


# ============================================================================ helpers
def _norm(name: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _read_bytes(path: Path, what: str) -> bytes:
    return read_input_bytes(path, error=CodingError, what=what)


def _fail(file: str, reason: str, message: str, **kw: Any) -> CodingError:
    return CodingError(f"{file}: {message}", [Problem(reason, message, file=file, **kw)])


def _check_archive(zf: zipfile.ZipFile, file: str) -> None:
    """Refuse archives that are too big, too many, climb out, or nest other archives."""
    infos = zf.infolist()
    if len(infos) > LIMITS["max_members"]:
        raise _fail(file, "archive_too_many_members",
                    f"archive has {len(infos)} members, more than the limit of "
                    f"{LIMITS['max_members']}; refusing to read it")
    total = 0
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if (name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name)
                or "\x00" in name):
            raise _fail(file, "archive_path_traversal",
                        f"archive member {name!r} has a path that leaves the archive; "
                        "refusing to read it", value=name)
        if name.lower().endswith(_ARCHIVE_SUFFIXES):
            raise _fail(file, "nested_archive",
                        f"archive member {name!r} is itself an archive; nested archives are "
                        "not read", value=name)
        total += info.file_size
        if info.file_size > LIMITS["max_member_bytes"]:
            raise _fail(file, "archive_too_large",
                        f"archive member {name!r} declares {info.file_size} bytes "
                        f"uncompressed, more than the limit of {LIMITS['max_member_bytes']}; "
                        "refusing to read it (possible zip bomb)", value=name)
        if (info.file_size > 2**20 and info.compress_size > 0
                and info.file_size / info.compress_size > LIMITS["max_ratio"]):
            raise _fail(file, "archive_too_large",
                        f"archive member {name!r} compresses {info.file_size} bytes into "
                        f"{info.compress_size} (ratio above {LIMITS['max_ratio']}); refusing "
                        "to read it (possible zip bomb)", value=name)
    if total > LIMITS["max_total_bytes"]:
        raise _fail(file, "archive_too_large",
                    f"archive declares {total} bytes uncompressed, more than the limit of "
                    f"{LIMITS['max_total_bytes']}; refusing to read it (possible zip bomb)")


def _read_member(zf: zipfile.ZipFile, name: str, file: str,
                 cap: int | None = None) -> bytes:
    """Read one member, stopping as soon as it exceeds the cap (whatever it declared)."""
    cap = LIMITS["max_member_bytes"] if cap is None else cap
    out = io.BytesIO()
    try:
        with zf.open(name) as fh:
            while True:
                chunk = fh.read(1 << 16)
                if not chunk:
                    break
                out.write(chunk)
                if out.tell() > cap:
                    raise _fail(file, "archive_too_large",
                                f"archive member {name!r} expands past {cap} bytes; refusing "
                                "to read it (possible zip bomb)", value=name)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise _fail(file, "bad_archive", f"cannot read archive member {name!r}: {exc}",
                    value=name) from None
    data = out.getvalue()
    if data.startswith(_ZIP_MAGIC):
        raise _fail(file, "nested_archive", f"archive member {name!r} is itself a zip "
                    "archive; nested archives are not read", value=name)
    return data


def _open_zip(data: bytes, file: str) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise _fail(file, "bad_archive", f"not a readable zip archive: {exc}") from None
    _check_archive(zf, file)
    return zf


def _parse_xml(data: bytes, file: str, what: str) -> Element:
    if len(data) > LIMITS["max_xml_bytes"]:
        raise _fail(file, "xml_too_large", f"{what} is {len(data)} bytes, more than the limit "
                    f"of {LIMITS['max_xml_bytes']}")
    try:
        return _safe_fromstring(data, forbid_dtd=True, forbid_entities=True,
                                forbid_external=True)
    except DefusedXmlException as exc:
        raise _fail(file, "unsafe_xml",
                    f"{what} uses XML features instrval refuses for safety "
                    f"({type(exc).__name__}: DTDs, entity declarations and external "
                    "references are not allowed)") from None
    except ParseError as exc:
        line = getattr(exc, "position", (None,))[0]
        raise _fail(file, "xml_syntax", f"{what} is not well-formed XML: {exc}",
                    line=line) from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _table_from_bytes(data: bytes, path: Path, file: str) -> pd.DataFrame:
    """Read a CSV/TSV/XLSX file into a DataFrame of strings ('' for blank cells)."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            zf = _open_zip(data, file)
            zf.close()
            df = read_sheet(data, file=file, error=CodingError, what="coding table",
                            dtype=str, keep_default_na=False)
        else:
            if data.startswith(b"SQLite format 3"):
                raise _fail(file, "not_text", "the file is an SQLite database (a QualCoder "
                            "project?), not a table; export the codings as REFI-QDA (.qdpx) "
                            "or CSV")
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                line = data[: exc.start].count(b"\n") + 1
                raise _fail(file, "encoding", f"not UTF-8 text (byte 0x{data[exc.start]:02x} "
                            f"at line {line}); save it as UTF-8", line=line) from None
            if not text.strip():
                raise _fail(file, "empty_file", "the file is empty")
            sep = "\t" if suffix == ".tsv" else None
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep,
                             engine="python", header=None)
            header = [str(h).strip() for h in df.iloc[0]] if len(df) else []
            twice = sorted({h for h in header if h and header.count(h) > 1})
            if twice:
                raise CodingError.from_problems(
                    [Problem("duplicate_column", f"column {h!r} appears more than once in "
                             "the header; the second would be silently ignored", file=file,
                             row=1, column=h, value=h) for h in twice], file)
            df = df.iloc[1:].reset_index(drop=True)
            df.columns = header
    except CodingError:
        raise
    except (ValueError, pd.errors.ParserError, KeyError, OSError, csv.Error) as exc:
        # csv.Error: the python engine's delimiter sniffer found no delimiter
        raise _fail(file, "unreadable", f"cannot read the table: {exc}") from None
    df.columns = [str(c) for c in df.columns]
    return df.fillna("")


def _pick(columns: list[str], aliases: tuple[str, ...]) -> str | None:
    normed = {_norm(c): c for c in columns}
    for a in aliases:
        if _norm(a) in normed:
            return normed[_norm(a)]
    return None


def _detect_table_format(columns: list[str]) -> str:
    normed = {_norm(c) for c in columns}
    if {"id", "document", "tag", "content"} <= normed and "segment_id" not in normed:
        return "taguette"
    if ({"seltext", "pos0"} & normed) or ({"codename", "owner"} <= normed) or \
            ({"coder", "coded", "codename"} <= normed):  # QualCoder's coded-text report
        return "qualcoder"
    return "table"


# ============================================================================ codebook
def read_codebook(path: str | Path, *, instrument: Instrument | None = None) -> Codebook:
    """Read a codebook: what each code means.

    Formats (by extension):

    * YAML/JSON: ``codes:`` either a mapping ``code: {category, item_id, construct_id,
      subcategory, theme, description}`` or a list of such mappings with a ``code`` key;
      optional ``format_version`` and ``instrument`` keys;
    * CSV/TSV/XLSX: one row per code, columns ``code``, ``category`` and optional
      ``item_id``, ``construct_id``, ``subcategory``, ``theme``, ``description``;
    * REFI-QDA ``.qdc``: codes are named by their path (``parent/child``); a path part equal
      to a category (``challenges``) or ``challenges:misread`` sets the category, and lines
      ``item: ID``, ``construct: ID``, ``category: NAME``, ``theme: TEXT`` in a code's
      ``Description`` set the rest. With ``instrument``, path parts equal to an item or
      construct id map the code to it.

    ``category`` is one of ``supports``, ``challenges``, ``wording``, ``missing_concept``,
    ``other``; ``challenges:misread`` gives a subcategory in one cell.

    Raises
    ------
    CodingError
        Listing every problem: unknown categories, duplicate codes, codes without a name,
        and (with ``instrument``) unknown item or construct ids.
    """
    p = Path(path)
    file = str(path)
    suffix = p.suffix.lower()
    if suffix == ".qdc":
        data = _read_bytes(p, "codebook")
        root = _parse_xml(data, file, "codebook")
        entries = [e for e in _refi_codes(root, instrument).values()]
        return _finish_codebook(entries, file, instrument, None)
    if suffix in (".csv", ".tsv", ".xlsx", ".xlsm"):
        data = _read_bytes(p, "codebook")
        df = _table_from_bytes(data, p, file)
        col = {k: _pick(list(df.columns), (k, *alias)) for k, alias in {
            "code": ("code_name", "tag", "name"), "category": ("judgement",),
            "item_id": ("item",), "construct_id": ("construct",), "subcategory": (),
            "theme": (), "description": ("definition",)}.items()}
        if col["code"] is None:
            raise _fail(file, "missing_column", "the codebook has no 'code' column; columns "
                        f"found: {', '.join(df.columns)}", column="code")
        records = []
        for i, rec in enumerate(df.to_dict(orient="records")):
            d = {k: (rec[c] if c is not None else "") for k, c in col.items()}
            d["_line"] = i + 2
            records.append(d)
        return _finish_codebook(records, file, instrument, "row")
    doc = load_document(p, error=CodingError, what="codebook")
    data = doc.data
    if not isinstance(data, Mapping) or "codes" not in data:
        raise _fail(file, "missing_key", "a codebook file needs a 'codes:' key (a mapping of "
                    "code -> {category, item_id, construct_id, ...} or a list)", key="codes")
    codes = data["codes"]
    records = []
    shape: list[Problem] = []  # every malformed entry, not only the first
    if isinstance(codes, Mapping):
        for code, spec in codes.items():
            if spec is None:
                spec = {}
            if isinstance(spec, str):
                spec = {"category": spec}
            if not isinstance(spec, Mapping):
                shape.append(Problem("wrong_type", f"code {code!r} must map to a mapping, "
                                     f"got {type(spec).__name__}", file=file,
                                     key=f"codes.{code}", line=doc.lines.get(f"codes.{code}")))
                continue
            records.append({**spec, "code": code, "_line": doc.lines.get(f"codes.{code}"),
                            "_key": f"codes.{code}"})
    elif isinstance(codes, list):
        for i, spec in enumerate(codes):
            if not isinstance(spec, Mapping):
                shape.append(Problem("wrong_type", f"codes[{i}] must be a mapping", file=file,
                                     key=f"codes[{i}]", line=doc.lines.get(f"codes[{i}]")))
                continue
            records.append({**spec, "_line": doc.lines.get(f"codes[{i}]"),
                            "_key": f"codes[{i}]"})
    else:
        raise _fail(file, "wrong_type", "'codes' must be a mapping or a list", key="codes",
                    line=doc.lines.get("codes"))
    if shape:
        try:
            _finish_codebook(records, file, instrument, "line")
        except CodingError as exc:  # the well-formed entries' problems too
            shape.extend(exc.problems)
        raise CodingError.from_problems(shape, file)
    inst_label = data.get("instrument")
    return _finish_codebook(records, file, instrument, "line",
                            instrument_label=None if inst_label is None else str(inst_label))


def _finish_codebook(records: list[Any], file: str, instrument: Instrument | None,
                     where: str | None, instrument_label: str | None = None) -> Codebook:
    problems: list[Problem] = []
    entries: dict[str, CodebookEntry] = {}
    item_construct = ({it.id: c.id for c, it in instrument.iter_items()}
                      if instrument is not None else {})
    constructs = set(instrument.construct_ids) if instrument is not None else set()

    def s(v: Any) -> str | None:
        return None if v is None or (isinstance(v, str) and not v.strip()) else str(v).strip()

    for rec in records:
        if isinstance(rec, CodebookEntry):
            rec = {**rec.to_dict(), "_line": rec.line}
        line = rec.get("_line")
        loc: dict[str, Any] = {}
        if where == "row":
            loc["row"] = line
        elif where == "line":
            loc["line"] = line
            loc["key"] = rec.get("_key")
        code = s(rec.get("code"))
        if code is None:
            problems.append(Problem("missing_code", "a codebook entry has no code", file=file,
                                    **loc))
            continue
        cat, sub, ok = parse_category(s(rec.get("category")))
        if not ok:
            problems.append(Problem("unknown_category", f"code {code!r}: category {cat!r} is "
                                    f"not one of {', '.join(CATEGORIES)}", file=file,
                                    value=cat, **loc))
        sub = s(rec.get("subcategory")) or sub
        item_id = s(rec.get("item_id") if rec.get("item_id") is not None else rec.get("item"))
        construct_id = s(rec.get("construct_id") if rec.get("construct_id") is not None
                         else rec.get("construct"))
        if instrument is not None:
            if item_id is not None and item_id not in item_construct:
                problems.append(Problem("unknown_item", f"code {code!r}: item {item_id!r} is "
                                        f"not in instrument {instrument.label}", file=file,
                                        value=item_id, **loc))
            if construct_id is not None and construct_id not in constructs:
                problems.append(Problem("unknown_construct", f"code {code!r}: construct "
                                        f"{construct_id!r} is not in instrument "
                                        f"{instrument.label}", file=file, value=construct_id,
                                        **loc))
            if (item_id in item_construct and construct_id in constructs
                    and item_construct[item_id] != construct_id):
                problems.append(Problem("construct_mismatch", f"code {code!r}: item "
                                        f"{item_id!r} belongs to {item_construct[item_id]!r}, "
                                        f"not {construct_id!r}", file=file, **loc))
            if item_id in item_construct and construct_id is None:
                construct_id = item_construct[item_id]
        if code in entries:
            problems.append(Problem("duplicate_code", f"code {code!r} is defined twice",
                                    file=file, value=code, **loc))
            continue
        entries[code] = CodebookEntry(
            code=code, category=cat if ok else None, item_id=item_id,
            construct_id=construct_id, subcategory=sub, theme=s(rec.get("theme")),
            description=s(rec.get("description")), line=line)
    if problems:
        raise CodingError.from_problems(problems, f"codebook {file}")
    return Codebook(entries, file=file, instrument=instrument_label)


# ============================================================================ read_coding
def read_coding(path: str | Path, *, instrument: Instrument | None = None,
                codebook: Codebook | str | Path | None = None,
                format: str | None = None) -> CodingData:
    """Read and check coded interview segments.

    Parameters
    ----------
    path : path-like
        A coded-segment table (``.csv``, ``.tsv``, ``.xlsx``), a Taguette or QualCoder
        export, or a REFI-QDA project (``.qdpx``, ``.qde``).
    instrument : Instrument, optional
        Item and construct ids are checked against it; an item's construct is filled in.
    codebook : Codebook or path, optional
        Maps codes to items, constructs and categories; every code must be in it. Without
        one, a code that is itself a category name (``supports``, ``challenges:misread``)
        gets that category and the others have none.
    format : {"table", "taguette", "qualcoder", "refi-qda"}, optional
        Default: from the extension (``.qdpx``/``.qde`` are REFI-QDA) and, for tables, the
        header (Taguette: ``id, document, tag, content``; QualCoder: ``seltext``/``pos0``
        or ``codename`` + ``owner``).

    Returns
    -------
    CodingData
        Accepted segments, quarantined rows (never dropped silently), problems, source.

    Raises
    ------
    CodingError
        When the file cannot be used at all: missing, unreadable, required columns
        missing, unsafe XML or a refused archive, or a bad codebook.
    """
    p = Path(path)
    file = str(path)
    if format is not None and format not in FORMATS:
        raise CodingError(f"unknown coding format {format!r}; choose one of "
                          f"{', '.join(FORMATS)}")
    if codebook is not None and not isinstance(codebook, Codebook):
        codebook = read_codebook(codebook, instrument=instrument)
    db = _qualcoder_db_path(p)
    if db is not None and format in (None, "qualcoder"):
        format = "qualcoder"
        raw, has_coder, details, digest = _qualcoder_db_rows(db, file)
        segments, quarantine, problems = check_segments(
            raw, file=file, instrument=instrument, codebook=codebook,
            has_coder_column=has_coder, raw_cells=raw.drop(columns=["_problem"],
                                                            errors="ignore"))
        source = {"file": file, "format": format, "sha256": digest,
                  "rows_read": int(len(raw)), **details}
        return CodingData(segments=segments, quarantine=quarantine,
                          problems=tuple(problems), source=source, codebook=codebook,
                          instrument=instrument.label if instrument is not None else None)
    data = _read_bytes(p, "coding file")
    suffix = p.suffix.lower()
    if format is None and suffix in (".qdpx", ".qde"):
        format = "refi-qda"
    if format == "refi-qda":
        raw, cells, has_coder, details, project_book = _refi_rows(data, p, file, instrument)
        if codebook is None and len(project_book):
            codebook = project_book
    else:
        df = _table_from_bytes(data, p, file)
        fmt = format or _detect_table_format(list(df.columns))
        format = fmt
        if fmt == "taguette":
            raw, has_coder = _taguette_rows(df, file)
        elif fmt == "qualcoder":
            raw, has_coder = _qualcoder_rows(df, file)
        else:
            raw, has_coder = _table_rows(df, file)
        cells = df
        details = {}
    segments, quarantine, problems = check_segments(
        raw, file=file, instrument=instrument, codebook=codebook,
        has_coder_column=has_coder, raw_cells=cells)
    source = {"file": file, "format": format, "sha256": _sha256(data),
              "rows_read": int(len(raw)), **details}
    return CodingData(segments=segments, quarantine=quarantine, problems=tuple(problems),
                      source=source, codebook=codebook,
                      instrument=instrument.label if instrument is not None else None)


def _with_rows(df: pd.DataFrame) -> pd.Series:
    return pd.Series(range(2, len(df) + 2), index=df.index)


def _table_rows(df: pd.DataFrame, file: str) -> tuple[pd.DataFrame, bool]:
    cols = list(df.columns)
    picked = {k: _pick(cols, a) for k, a in _TABLE_ALIASES.items()}
    missing = [k for k in ("segment_id", "participant", "text", "code") if picked[k] is None]
    if missing:
        raise CodingError.from_problems(
            [Problem("missing_column", f"required column {m!r} is missing; columns found: "
                     f"{', '.join(cols)}", file=file, row=1, column=m) for m in missing],
            f"coding table {file}")
    raw = pd.DataFrame({k: (df[c] if c is not None else "") for k, c in picked.items()},
                       index=df.index)
    raw["row"] = _with_rows(df)
    return raw, picked["coder"] is not None


def _taguette_rows(df: pd.DataFrame, file: str) -> tuple[pd.DataFrame, bool]:
    cols = list(df.columns)
    picked = {k: _pick(cols, (k,)) for k in ("id", "document", "tag", "content")}
    missing = [k for k, v in picked.items() if v is None]
    if missing:
        raise CodingError.from_problems(
            [Problem("missing_column", f"Taguette export lacks column {m!r}", file=file,
                     row=1, column=m) for m in missing], f"Taguette export {file}")
    doc = df[picked["document"]]
    raw = pd.DataFrame({
        "segment_id": df[picked["id"]],
        "participant": doc.map(lambda d: PurePosixPath(str(d)).stem if str(d).strip() else ""),
        "document": doc, "text": df[picked["content"]], "code": df[picked["tag"]],
        "coder": "",
    }, index=df.index)
    raw["row"] = _with_rows(df)
    return raw, False


def _qualcoder_rows(df: pd.DataFrame, file: str) -> tuple[pd.DataFrame, bool]:
    """QualCoder's exports of coded text: the ``code_text`` table (``seltext``, ``pos0``,
    ``pos1``, ``owner``) or the coded-text report (``File`` or ``Case, Filename``,
    ``Coder``, ``Coded``, ``Id``, ``Codename``, ``Coded_Memo``).

    A segment is a stretch of one file that one or more coders coded: codings whose
    positions overlap (``pos0``/``pos1``) are one segment ``file:start-end`` (the union of
    their spans), so that two coders' codings of the same passage are compared even when
    their boundaries differ by a few characters. The report has no positions: codings of
    one file whose coded texts are equal, contain one another or overlap by at least
    20 characters are one segment. Image and audio/video codings (``imid:``, ``avid:``)
    are quarantined: only coded text is read.
    """
    cols = list(df.columns)
    picked = {k: _pick(cols, a) for k, a in _QUALCODER_ALIASES.items()}
    missing = [k for k in ("code", "document", "text") if picked[k] is None]
    if missing:
        raise CodingError.from_problems(
            [Problem("missing_column", f"QualCoder export lacks a {m!r} column (one of "
                     f"{', '.join(_QUALCODER_ALIASES[m])})", file=file, row=1, column=m)
             for m in missing], f"QualCoder export {file}")

    def get(k: str) -> pd.Series:
        c = picked[k]
        return df[c] if c is not None else pd.Series([""] * len(df), index=df.index)

    docs = [str(d) for d in get("document")]
    texts = [str(t) for t in get("text")]
    pos: list[tuple[int, int] | None] = []
    for a, b in zip(get("pos0"), get("pos1"), strict=True):
        try:
            pos.append((int(str(a).strip()), int(str(b).strip())))
        except ValueError:
            pos.append(None)
    problems: list[Any] = [None] * len(df)
    for k, c in enumerate(get("ctid")):
        if str(c).strip().lower().startswith(("imid:", "avid:")):
            problems[k] = ("not_text", f"QualCoder {str(c).split(':')[0]} coding "
                           f"({texts[k]!r}): only coded text is read")
    seg_ids = qualcoder_segments(docs, texts, pos)
    texts = _segment_texts(seg_ids, texts)
    part = get("participant")
    participant = [pp if str(pp).strip() else (PurePosixPath(str(d)).stem if str(d) else "")
                   for pp, d in zip(part, docs, strict=True)]
    raw = pd.DataFrame({"segment_id": seg_ids, "participant": participant, "document": docs,
                        "text": texts, "code": get("code"), "coder": get("coder")},
                       index=df.index)
    raw["row"] = _with_rows(df)
    if any(p is not None for p in problems):
        raw["_problem"] = problems
    return raw, picked["coder"] is not None


def _qualcoder_db_path(p: Path) -> Path | None:
    """The SQLite database of a QualCoder project: the project folder (``name.qda/``
    holding ``data.qda``) or the ``data.qda`` file itself; None for anything else."""
    cand = p / "data.qda" if p.is_dir() else p
    try:
        with open(cand, "rb") as fh:
            return cand if fh.read(16) == _SQLITE_MAGIC else None
    except OSError:
        return None


_QUALCODER_SQL = """
SELECT ct.ctid, ct.pos0, ct.pos1, ct.seltext, ct.owner, s.name, cn.name,
       (SELECT c.name FROM case_text x JOIN cases c ON c.caseid = x.caseid
        WHERE x.fid = ct.fid ORDER BY x.id LIMIT 1)
FROM code_text ct
LEFT JOIN source s ON s.id = ct.fid
LEFT JOIN code_name cn ON cn.cid = ct.cid
ORDER BY ct.ctid
LIMIT ?
"""


def _qualcoder_db_rows(db: Path, file: str
                       ) -> tuple[pd.DataFrame, bool, dict[str, Any], str]:
    """Read the coded text of a QualCoder project database, read-only and bounded.

    The database is opened read-only (``mode=ro``, ``PRAGMA query_only``); its size, the
    number of codings read and the work SQLite may do are capped (:data:`LIMITS`).
    Codings are the ``code_text`` rows; the document is the ``source`` name, the code the
    ``code_name`` name, the coder ``owner``, the participant the first case the file
    belongs to (else the file name). Segments: see :func:`qualcoder_segments`.
    """
    import sqlite3

    size = db.stat().st_size
    if size > LIMITS["max_db_bytes"]:
        raise _fail(file, "too_large", f"the QualCoder database is {size} bytes, over the "
                    f"cap of {LIMITS['max_db_bytes']}")
    digest = hashlib.sha256()
    with open(db, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    cap = LIMITS["max_db_rows"]
    steps = 0

    def progress() -> int:
        nonlocal steps
        steps += 10_000
        return 1 if steps > LIMITS["max_db_steps"] else 0

    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _fail(file, "unreadable", f"cannot open the QualCoder database: {exc}") from None
    try:
        conn.set_progress_handler(progress, 10_000)
        conn.execute("PRAGMA query_only = 1")
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        need = {"code_text", "code_name", "source"}
        if not need <= tables:
            raise _fail(file, "not_qualcoder", "not a QualCoder project database (tables "
                        f"{', '.join(sorted(need - tables))} missing)")
        if "case_text" not in tables or "cases" not in tables:
            sql = _QUALCODER_SQL.replace(
                """(SELECT c.name FROM case_text x JOIN cases c ON c.caseid = x.caseid
        WHERE x.fid = ct.fid ORDER BY x.id LIMIT 1)""", "NULL")
        else:
            sql = _QUALCODER_SQL
        rows = conn.execute(sql, (cap + 1,)).fetchall()
    except sqlite3.Error as exc:
        reason = "too_large" if "interrupt" in str(exc).lower() else "unreadable"
        raise _fail(file, reason, f"cannot read the QualCoder database: {exc}") from None
    finally:
        conn.close()
    if len(rows) > cap:
        raise _fail(file, "too_large", f"the QualCoder database holds more than {cap} "
                    "codings (LIMITS['max_db_rows'])")
    docs = [str(r[5] if r[5] is not None else f"fid?{r[0]}") for r in rows]
    texts = [str(r[3] or "") for r in rows]
    pos = [(int(r[1]), int(r[2])) if r[1] is not None and r[2] is not None else None
           for r in rows]
    seg_ids = qualcoder_segments(docs, texts, pos)
    texts = _segment_texts(seg_ids, texts)
    raw = pd.DataFrame({
        "segment_id": seg_ids,
        "participant": [str(r[7]) if r[7] else PurePosixPath(d).stem
                        for r, d in zip(rows, docs, strict=True)],
        "document": docs, "text": texts,
        "code": [str(r[6]) if r[6] is not None else "" for r in rows],
        "coder": [str(r[4] or "") for r in rows],
        "row": [int(r[0]) for r in rows]})
    has_coder = bool(len(raw)) and bool((raw["coder"] != "").any())
    details = {"container": "sqlite", "codings": len(rows)}
    return raw, has_coder, details, digest.hexdigest()


def _segment_texts(seg_ids: list[str], texts: list[str]) -> list[str]:
    """The text of each coding's segment: the longest coded text in the segment."""
    longest: dict[str, str] = {}
    for sid, t in zip(seg_ids, texts, strict=True):
        if len(t) > len(longest.get(sid, "")):
            longest[sid] = t
    return [longest.get(sid, t) for sid, t in zip(seg_ids, texts, strict=True)]


#: Coded texts of one file that share at least this many characters are one segment.
_MIN_TEXT_OVERLAP = 20


def _text_overlap(a: str, b: str) -> bool:
    """Do two coded texts (whitespace normalised) share a passage: equal, one inside the
    other, or the end of one the start of the other over at least
    :data:`_MIN_TEXT_OVERLAP` characters? Linear in the texts' length."""
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    k = _MIN_TEXT_OVERLAP
    if len(a) < k or len(b) < k:
        return False
    for x, y in ((a, b), (b, a)):  # a suffix of x is a prefix of y
        start = x.find(y[:k])
        while start >= 0:
            if y.startswith(x[start:]):
                return True
            start = x.find(y[:k], start + 1)
    return False


#: Distinct coded texts per file compared pairwise in a report without positions; above
#: this, only equal texts are one segment.
_MAX_TEXT_COMPARE = 5000


def qualcoder_segments(docs: list[str], texts: list[str],
                       pos: list[tuple[int, int] | None]) -> list[str]:
    """Segment ids for QualCoder codings: overlapping spans of one file are one segment.

    With positions, the segment is ``file:start-end`` of the union of overlapping spans;
    without, codings of a file whose texts overlap (see :func:`_text_overlap`) form one
    segment ``file:#k`` (k counts segments within the file in order of first coding).
    """
    n = len(docs)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    by_doc: dict[str, list[int]] = {}
    for i, d in enumerate(docs):
        by_doc.setdefault(d, []).append(i)
    for idx in by_doc.values():
        spans = sorted((p[0], p[1], i) for i in idx if (p := pos[i]) is not None)
        rep, end = -1, None
        for a, b, i in spans:  # sweep: a span starting before the running end overlaps
            if end is not None and a < end:
                union(rep, i)
                end = max(end, b)
            else:
                rep, end = i, b
        rest = [i for i in idx if pos[i] is None]
        first: dict[str, int] = {}  # equal texts first (a dictionary, not pairs)
        for i in rest:
            t = " ".join(texts[i].split())
            if t in first:
                union(first[t], i)
            else:
                first[t] = i
        distinct = list(first.items())
        if len(distinct) <= _MAX_TEXT_COMPARE:
            for x, (ti, i) in enumerate(distinct):
                for tj, j in distinct[:x]:
                    if _text_overlap(ti, tj):
                        union(i, j)
    clusters: dict[int, list[int]] = {}
    for i in range(n):
        clusters.setdefault(find(i), []).append(i)
    out = [""] * n
    numbering: dict[str, int] = {}
    for r in sorted(clusters):
        members = clusters[r]
        spans = [p for j in members if (p := pos[j]) is not None]
        d = docs[r]
        if len(spans) == len(members):
            sid = f"{d}:{min(a for a, _ in spans)}-{max(b for _, b in spans)}"
        else:
            numbering[d] = numbering.get(d, 0) + 1
            sid = f"{d}:#{numbering[d]}"
        for j in members:
            out[j] = sid
    return out


# ============================================================================ REFI-QDA
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == name]


def _child(el: Element, name: str) -> Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _guid(value: str | None) -> str:
    """A REFI-QDA GUID in one spelling: the standard allows upper or lower case and
    braces (ATLAS.ti writes upper case), so references are compared lower-cased."""
    return (value or "").strip().strip("{}").lower()


def _refi_sets(root: Element) -> dict[str, list[str]]:
    """Code groups (ATLAS.ti) and code sets (NVivo, MAXQDA): code guid -> set names."""
    out: dict[str, list[str]] = {}
    sets_el = _child(root, "Sets")
    if sets_el is None:
        return out
    for st in _children(sets_el, "Set"):
        name = (st.get("name") or "").strip()
        if not name:
            continue
        for m in _children(st, "MemberCode"):
            out.setdefault(_guid(m.get("targetGUID")), []).append(name)
    return out


def _refi_codes(root: Element, instrument: Instrument | None) -> dict[str, CodebookEntry]:
    """Codes of a REFI-QDA codebook element (or project): guid -> entry named by path.

    Code groups (``<Sets>``) a code belongs to count like its parents: a group named by
    an item or construct id, or by a category (``supports``, ``challenges:misread``),
    gives the code that item, construct or category; the first other group is its theme.
    """
    sets = _refi_sets(root) if _local(root.tag) == "Project" else {}
    items = set(instrument.item_ids) if instrument is not None else set()
    constructs = set(instrument.construct_ids) if instrument is not None else set()
    out: dict[str, CodebookEntry] = {}
    codes_el = root if _local(root.tag) == "Codes" else None
    if codes_el is None:
        book = root if _local(root.tag) == "CodeBook" else _child(root, "CodeBook")
        codes_el = _child(book, "Codes") if book is not None else None
    if codes_el is None:
        return out

    def walk(el: Element, path: list[str]) -> None:
        for code in _children(el, "Code"):
            name = (code.get("name") or "").strip()
            guid = (code.get("guid") or "").strip()
            full = [*path, name]
            spec: dict[str, str] = {}
            desc = _child(code, "Description")
            if desc is not None and desc.text:
                for line in desc.text.splitlines():
                    k, sep, v = line.partition(":")
                    k = _norm(k)
                    if sep and k in ("item", "item_id", "construct", "construct_id",
                                     "category", "subcategory", "theme"):
                        spec[k.replace("_id", "")] = v.strip()
            cat = sub = None
            item = spec.get("item")
            construct = spec.get("construct")
            groups = sets.get(_guid(guid), [])
            theme = spec.get("theme")
            for part in [*full, *groups]:
                c, s, ok = parse_category(part)
                if ok and c is not None:
                    cat, sub = c, s or sub
                if part in items and item is None:
                    item = part
                if part in constructs and construct is None:
                    construct = part
                if part in groups and theme is None and not ok and part not in items \
                        and part not in constructs:
                    theme = part
            if "category" in spec:
                cat = spec["category"]
            entry = CodebookEntry(
                code="/".join(full), category=cat, item_id=item, construct_id=construct,
                subcategory=spec.get("subcategory") or sub, theme=theme,
                description=desc.text.strip() if desc is not None and desc.text else None)
            if guid:
                out[_guid(guid)] = entry
            walk(code, full)

    walk(codes_el, [])
    return out


def _refi_rows(data: bytes, path: Path, file: str, instrument: Instrument | None
               ) -> tuple[pd.DataFrame, pd.DataFrame, bool, dict[str, Any], Codebook]:
    zf: zipfile.ZipFile | None = None
    if path.suffix.lower() == ".qde" or not data.startswith(_ZIP_MAGIC):
        xml = data
    else:
        zf = _open_zip(data, file)
        names = {i.filename: i for i in zf.infolist()}
        qde = [n for n in names if n.lower().endswith(".qde") and "/" not in n.strip("/")]
        if not qde:
            raise _fail(file, "missing_member", "the .qdpx archive has no project.qde")
        xml = _read_member(zf, qde[0], file, LIMITS["max_xml_bytes"])
    root = _parse_xml(xml, file, "project.qde")
    if _local(root.tag) != "Project":
        raise _fail(file, "not_refi_project", f"the root element is <{_local(root.tag)}>, "
                    "not a REFI-QDA <Project>")
    users: dict[str, str] = {}
    users_el = _child(root, "Users")
    if users_el is not None:
        for u in _children(users_el, "User"):
            users[_guid(u.get("guid"))] = u.get("name") or u.get("id") or u.get("guid", "")
    codes = _refi_codes(root, instrument)
    source_case: dict[str, str] = {}
    cases_el = _child(root, "Cases")
    if cases_el is not None:
        for case in _children(cases_el, "Case"):
            for ref in _children(case, "SourceRef"):
                target = _guid(ref.get("targetGUID"))
                # a source in several cases keeps the first
                source_case.setdefault(target, case.get("name") or case.get("guid", ""))
    rows: list[dict[str, Any]] = []
    n = 0
    sources_el = _child(root, "Sources")
    text_sources = _children(sources_el, "TextSource") if sources_el is not None else []
    for src in text_sources:
        sguid = _guid(src.get("guid"))
        sname = src.get("name") or sguid
        content_el = _child(src, "PlainTextContent")
        content: str | None = None
        source_problem: tuple[str, str] | None = None
        if content_el is not None:
            content = content_el.text or ""
        else:
            ptp = src.get("plainTextPath") or ""
            if ptp.startswith("internal://") and zf is not None:
                member = "sources/" + ptp[len("internal://"):]
                match = [nm for nm in zf.namelist() if nm.lower() == member.lower()]
                if match:
                    raw_txt = _read_member(zf, match[0], file)
                    try:
                        content = raw_txt.decode("utf-8-sig")
                    except UnicodeDecodeError:
                        source_problem = ("bad_selection", f"source {sname!r}: {match[0]} is "
                                          "not UTF-8 text")
                else:
                    source_problem = ("bad_selection", f"source {sname!r}: {ptp} is not in "
                                      "the archive")
            else:
                where = ptp or "no path"
                source_problem = ("bad_selection", f"source {sname!r}: its text ({where}) "
                                  "is not inside the project")
        participant = source_case.get(sguid, PurePosixPath(sname).stem)
        for sel in _children(src, "PlainTextSelection"):
            try:
                start = int(sel.get("startPosition", ""))
                end = int(sel.get("endPosition", ""))
            except ValueError:
                start = end = -1
            text = None
            problem = source_problem
            if problem is None and content is not None:
                if 0 <= start < end <= len(content):
                    text = content[start:end]
                else:
                    problem = ("bad_selection", f"selection {start}-{end} is outside source "
                               f"{sname!r} ({len(content)} characters)")
            codings = _children(sel, "Coding")
            for cod in codings:
                n += 1
                ref = _child(cod, "CodeRef")
                target = ref.get("targetGUID", "") if ref is not None else ""
                entry = codes.get(_guid(target))
                p = problem
                if entry is None and p is None:
                    p = ("bad_selection", f"coding refers to code {target!r}, which is not in "
                         "the project's codebook")
                user = cod.get("creatingUser") or sel.get("creatingUser") or \
                    src.get("creatingUser") or ""
                coder = users.get(_guid(user), user) if user else ""
                rows.append({
                    "segment_id": f"{sname}:{start}-{end}", "participant": participant,
                    "document": sname, "text": text if text is not None else "",
                    "code": entry.code if entry is not None else target, "coder": coder,
                    "item_id": "", "construct_id": "", "theme": "", "category": "",
                    "row": n, "_problem": p,
                    "selection_guid": sel.get("guid", ""), "coding_guid": cod.get("guid", "")})
    if zf is not None:
        zf.close()
    cols = ["segment_id", "participant", "document", "text", "code", "coder", "item_id",
            "construct_id", "theme", "category", "row", "_problem", "selection_guid",
            "coding_guid"]
    raw = pd.DataFrame(rows, columns=cols)
    has_coder = bool(len(raw)) and bool((raw["coder"] != "").any())
    if not has_coder:
        raw["coder"] = ""
    cells = raw.drop(columns=["_problem"])
    details = {"sources": len(text_sources), "users": len(users), "codes": len(codes),
               "code_groups": len({g for gs in _refi_sets(root).values() for g in gs})}
    book = Codebook({e.code: e for e in codes.values()}, file=f"{file} (project codebook)")
    return raw, cells, has_coder, details, book
