"""Opening input files: the one place that turns OS errors into instrval errors and that
guards every reader against hostile input.

Every reader (instruments, study files, rating exports, coding tables, expert panels and
decisions, mapping files, codebooks, data tables) gets its bytes through
:func:`read_input_bytes` and, for compressed or container formats, through the guards
below, so that a missing file, a folder, a device or a pipe given for a file, an oversized
file or a decompression bomb gets the same clear error and reason code whatever the
reader:

1. **regular files only** (:func:`read_input_bytes`): a folder (``not_a_file``), a device
   such as ``/dev/zero``, a FIFO or a socket (``not_a_regular_file``) is refused before
   anything is read -- a FIFO is opened without blocking, so a pipe with no writer cannot
   hang a command; a file larger than :attr:`Limits.max_file_bytes` is refused
   (``too_large``);
2. **gzip** (:func:`inflate_gzip`): inflated in a stream and stopped as soon as the output
   passes :attr:`Limits.max_inflated_bytes` or the inflation ratio passes
   :attr:`Limits.max_ratio` (``decompression_bomb``);
3. **zip archives and XLSX workbooks** (:func:`check_zip`, :func:`check_xlsx`): every
   member's declared size and ratio is checked before anything is inflated (``zipfile``
   never inflates a member past its declared size), then each worksheet is scanned as a
   byte stream, and a sheet with more rows than :attr:`Limits.max_sheet_rows` or cells
   than :attr:`Limits.max_sheet_cells` is refused (``too_many_rows``, ``too_many_cells``)
   before a spreadsheet library builds one cell object;
4. **Parquet** (:func:`check_parquet`): only the footer metadata is read; a file (read
   whole) or a row group (read in a stream) whose estimated memory passes
   :attr:`Limits.max_memory_bytes`, or whose rows per byte of file pass
   :attr:`Limits.max_parquet_ratio`, is refused (``too_large``, ``decompression_bomb``).

Spreadsheets are then read through :func:`instrval.io.tables.read_sheet` (the guards of
3., the header kept as written, a duplicate column named, rows numbered as in the
spreadsheet), which the data-table, rating-export, panel, decisions and coding readers
share.

The limits are :class:`Limits`; the defaults are sized so that legitimate large inputs are
read (see ``docs/security.md``) and each can be changed with an environment variable
(``INSTRVAL_MAX_FILE_BYTES``...) or by passing ``limits=`` to the functions here.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from instrval._limits import Limits, limits
from instrval.errors import InstrvalError, Problem

__all__ = ["Limits", "limits", "read_input_bytes", "check_input_file", "inflate_gzip",
           "check_zip", "open_zip", "check_xlsx", "check_parquet",
           "parquet_memory_bytes", "is_url"]

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30


def is_url(path: Any) -> bool:
    """True for an fsspec URL (``s3://bucket/prefix/``, ``gs://``, ``abfs://``,
    ``https://``, ``file:///data/parts/``, ``memory://``) rather than a local path: such a
    DATA argument skips the local-file guards (the Parquet footer bounds still apply)."""
    import re

    return isinstance(path, str) and re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", path) is not None


def _size(n: float) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


def _fail(error: type[InstrvalError], name: str, reason: str, message: str,
          **kw: Any) -> InstrvalError:
    return error(f"{name}: {message}", [Problem(reason, message, file=name, **kw)])


# ------------------------------------------------------------------------ plain files
def read_input_bytes(path: str | os.PathLike[str], *, error: type[InstrvalError],
                     what: str, limit: int | None = None,
                     limits: Limits | None = None) -> bytes:
    """Return the bytes of an input file (at most ``limit`` bytes when given).

    Parameters
    ----------
    path : path-like
    error : type of InstrvalError
        The error class the reader raises (``RatingsError``, ``StudyError``, ...).
    what : str
        What the file is, for messages ("rating export", "instrument file").
    limit : int, optional
        Read only the first ``limit`` bytes (to detect a format).
    limits : Limits, optional
        Default: :func:`limits` (the defaults and the environment).

    Raises
    ------
    InstrvalError (of class ``error``)
        Naming the file, when it is missing (``file_not_found``), a folder
        (``not_a_file``), a device, FIFO or socket (``not_a_regular_file``), larger than
        :attr:`Limits.max_file_bytes` (``too_large``), or cannot be read (``unreadable``).
    """
    lim = limits or _limits()
    name = str(path)
    fd = _open_regular(path, error=error, what=what, lim=lim, check_size=limit is None)
    try:
        want = limit if limit is not None else lim.max_file_bytes + 1
        chunks: list[bytes] = []
        got = 0
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            while got < want:
                b = fh.read(min(want - got, 16 * MiB))
                if not b:
                    break
                chunks.append(b)
                got += len(b)
    except OSError as exc:
        msg = f"cannot read the {what}: {exc.strerror or exc}"
        raise error(f"{name}: {msg}", [Problem("unreadable", msg, file=name)]) from None
    finally:
        if fd >= 0:
            os.close(fd)
    data = b"".join(chunks)
    if limit is None and len(data) > lim.max_file_bytes:
        raise _too_large(error, name, what, lim)
    return data


def _limits() -> Limits:
    return limits()


def _too_large(error: type[InstrvalError], name: str, what: str, lim: Limits) -> InstrvalError:
    return _fail(error, name, "too_large",
                 f"the {what} is larger than {_size(lim.max_file_bytes)}; refusing to read "
                 "it (raise INSTRVAL_MAX_FILE_BYTES to read it anyway)")


def check_input_file(path: str | os.PathLike[str], *, error: type[InstrvalError],
                     what: str, limits: Limits | None = None,
                     max_bytes: int | None = None) -> int:
    """Check that ``path`` is a readable regular file (for readers that open the file
    themselves, e.g. a Parquet stream); return its size in bytes.

    ``max_bytes`` (default :attr:`Limits.max_file_bytes`; ``0`` for no size limit) caps
    the size."""
    lim = limits or _limits()
    fd = _open_regular(path, error=error, what=what, lim=lim, check_size=False)
    try:
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    cap = lim.max_file_bytes if max_bytes is None else max_bytes
    if cap and size > cap:
        raise _too_large(error, str(path), what, lim)
    return size


def _open_regular(path: str | os.PathLike[str], *, error: type[InstrvalError], what: str,
                  lim: Limits, check_size: bool = True) -> int:
    """Open ``path`` for reading without blocking (a FIFO with no writer cannot hang) and
    return the descriptor once it is known to be a regular file of acceptable size."""
    name = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(os.fspath(path), flags)
    except FileNotFoundError:
        raise error(f"{what} not found: {name}",
                    [Problem("file_not_found", f"{what} not found", file=name)]) from None
    except IsADirectoryError:
        raise _not_a_file(error, name, what) from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO opened for writing only
            raise _not_regular(error, name, what, "a socket or pipe") from None
        msg = f"cannot read the {what}: {exc.strerror or exc}"
        raise error(f"{name}: {msg}", [Problem("unreadable", msg, file=name)]) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _not_a_file(error, name, what)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else
                    "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
                    "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
            raise _not_regular(error, name, what, kind)
        if check_size and st.st_size > lim.max_file_bytes:
            raise _too_large(error, name, what, lim)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _not_a_file(error: type[InstrvalError], name: str, what: str) -> InstrvalError:
    return error(f"{what} is a directory, not a file: {name}",
                 [Problem("not_a_file", f"{what} is a directory, not a file", file=name)])


def _not_regular(error: type[InstrvalError], name: str, what: str,
                 kind: str) -> InstrvalError:
    return _fail(error, name, "not_a_regular_file",
                 f"the {what} is {kind}, not a regular file; save the data to a file and "
                 "give its name")


# ------------------------------------------------------------------------ gzip
def inflate_gzip(raw: bytes, *, file: str, error: type[InstrvalError], what: str = "file",
                 limits: Limits | None = None) -> bytes:
    """Inflate gzip data in a stream, refusing a decompression bomb.

    Stops with ``decompression_bomb`` as soon as the output passes
    :attr:`Limits.max_inflated_bytes`, or passes :attr:`Limits.ratio_floor_bytes` at a
    ratio above :attr:`Limits.max_ratio`; damaged data is ``unreadable``."""
    lim = limits or _limits()
    src = io.BytesIO(raw)
    out = io.BytesIO()
    total = 0
    try:
        with gzip.GzipFile(fileobj=src) as fh:
            while True:
                b = fh.read(4 * MiB)
                if not b:
                    break
                total += len(b)
                _check_inflation(total, max(src.tell(), 1), lim, error=error, name=file,
                                 what=what)
                out.write(b)
    except (OSError, EOFError, zlib.error) as exc:
        raise _fail(error, file, "unreadable",
                    f"the {what} is not a readable gzip file: {exc}") from None
    return out.getvalue()


def _check_inflation(inflated: int, compressed: int, lim: Limits, *,
                     error: type[InstrvalError], name: str, what: str,
                     member: str | None = None) -> None:
    where = f" (archive member {member!r})" if member else ""
    if inflated > lim.max_inflated_bytes:
        raise _fail(error, name, "decompression_bomb",
                    f"the {what}{where} inflates past {_size(lim.max_inflated_bytes)}; "
                    "refusing to read it (raise INSTRVAL_MAX_INFLATED_BYTES to read it "
                    "anyway)", value=inflated)
    ratio = inflated / max(compressed, 1)
    if inflated > lim.ratio_floor_bytes and ratio > lim.max_ratio:
        raise _fail(error, name, "decompression_bomb",
                    f"the {what}{where} inflates {ratio:,.0f} times (more than "
                    f"{lim.max_ratio:,.0f}); refusing a likely decompression bomb (raise "
                    "INSTRVAL_MAX_RATIO to read it anyway)", value=round(ratio, 1))


# ------------------------------------------------------------------------ zip / xlsx
def check_zip(zf: zipfile.ZipFile, *, file: str, error: type[InstrvalError],
              what: str = "archive", limits: Limits | None = None,
              max_members: int = 10_000) -> None:
    """Refuse an archive whose declared sizes or ratios pass the limits, before anything
    is inflated (``zipfile`` never inflates a member past its declared size)."""
    lim = limits or _limits()
    infos = zf.infolist()
    if len(infos) > max_members:
        raise _fail(error, file, "decompression_bomb",
                    f"the {what} has {len(infos):,} members (more than {max_members:,})")
    total = 0
    for info in infos:
        total += info.file_size
        _check_inflation(info.file_size, info.compress_size, lim, error=error, name=file,
                         what=what, member=info.filename)
        _check_inflation(total, max(sum(i.compress_size for i in infos), 1), lim,
                         error=error, name=file, what=what)


def open_zip(raw: bytes, *, file: str, error: type[InstrvalError], what: str,
             limits: Limits | None = None) -> zipfile.ZipFile:
    """Open zip bytes (``unreadable`` when damaged) and :func:`check_zip` them."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise _fail(error, file, "unreadable",
                    f"the {what} is not a readable zip archive ({exc})") from None
    try:
        check_zip(zf, file=file, error=error, what=what, limits=limits)
    except BaseException:
        zf.close()
        raise
    return zf


_ROW_TOKENS = (b"<row ", b"<row>", b":row ", b":row>")
_CELL_TOKENS = (b"<c ", b"<c>", b":c ", b":c>")


def check_xlsx(raw: bytes, *, file: str, error: type[InstrvalError],
               what: str = "workbook", limits: Limits | None = None) -> None:
    """Refuse a workbook that is a decompression bomb or whose worksheets hold more rows
    or cells than the limits, by scanning its XML as a byte stream (fast: a sheet of 3
    million rows is refused after reading its first million rows' bytes)."""
    lim = limits or _limits()
    if not raw.startswith(b"PK\x03\x04"):
        return  # the reader names the wrong format
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise _fail(error, file, "unreadable",
                    f"the {what} is not a readable spreadsheet (an .xlsx workbook is a zip "
                    f"archive: {exc})") from None
    with zf:
        check_zip(zf, file=file, error=error, what=what, limits=lim)
        for info in zf.infolist():
            nm = info.filename
            if not (nm.startswith("xl/worksheets/") and nm.endswith(".xml")):
                continue
            rows = cells = 0
            carry = b""
            try:
                with zf.open(info) as fh:
                    while True:
                        chunk = fh.read(4 * MiB)
                        if not chunk:
                            break
                        buf = carry + chunk
                        rows += _count(buf, _ROW_TOKENS) - _count(carry, _ROW_TOKENS)
                        cells += _count(buf, _CELL_TOKENS) - _count(carry, _CELL_TOKENS)
                        carry = buf[-4:]
                        sheet = nm.rsplit("/", 1)[-1]
                        if rows > lim.max_sheet_rows:
                            raise _fail(error, file, "too_many_rows",
                                        f"worksheet {sheet!r} of the {what} has more than "
                                        f"{lim.max_sheet_rows:,} rows; refusing to read it "
                                        "(give a CSV or Parquet file, or raise "
                                        "INSTRVAL_MAX_SHEET_ROWS)", value=rows)
                        if cells > lim.max_sheet_cells:
                            raise _fail(error, file, "too_many_cells",
                                        f"worksheet {sheet!r} of the {what} has more than "
                                        f"{lim.max_sheet_cells:,} cells; refusing to read it "
                                        "(give a CSV or Parquet file, or raise "
                                        "INSTRVAL_MAX_SHEET_CELLS)", value=cells)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error,
                    NotImplementedError) as exc:
                raise _fail(error, file, "unreadable",
                            f"the {what} is damaged (member {nm!r}: {exc})") from None


def _count(buf: bytes, tokens: Iterable[bytes]) -> int:
    return sum(buf.count(t) for t in tokens)


# ------------------------------------------------------------------------ parquet
def check_parquet(source: Any, *, file: str, error: type[InstrvalError],
                  what: str = "Parquet file", whole: bool = True,
                  limits: Limits | None = None, file_bytes: int | None = None) -> Any:
    """Check a Parquet file from its footer metadata only; return the metadata.

    ``whole=True`` (the file is read at once into a DataFrame): refuse when the estimated
    memory of the whole table passes :attr:`Limits.max_memory_bytes`. ``whole=False``
    (streamed one row group at a time): refuse only a row group that would not fit, so
    files of 100 million ratings stay readable. Either way, refuse an estimated
    in-memory size more than :attr:`Limits.max_parquet_ratio` times the file size.
    """
    import pyarrow.parquet as pq

    lim = limits or _limits()
    try:
        meta = source if hasattr(source, "row_group") else pq.read_metadata(source)
    except Exception as exc:  # pyarrow.ArrowInvalid, OSError
        raise _fail(error, file, "unreadable",
                    f"the {what} is not a readable Parquet file: {exc}") from None
    if file_bytes is None:
        try:
            file_bytes = (len(source.getbuffer()) if isinstance(source, io.BytesIO)
                          else os.path.getsize(source) if isinstance(source, (str, Path))
                          else None)
        except OSError:
            file_bytes = None
    total = 0
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        est = _row_group_bytes(rg, whole=whole)
        total += est
        if not whole and est > lim.max_memory_bytes:
            raise _fail(error, file, "too_large",
                        f"row group {g} of the {what} holds {rg.num_rows:,} rows that need "
                        f"about {_size(est)} of memory (more than "
                        f"{_size(lim.max_memory_bytes)}); rewrite it with smaller row groups "
                        "or raise INSTRVAL_MAX_MEMORY_BYTES")
    if whole and total > lim.max_memory_bytes:
        raise _fail(error, file, "too_large",
                    f"the {what} holds {meta.num_rows:,} rows x {meta.num_columns} columns "
                    f"that need about {_size(total)} of memory to read at once (more than "
                    f"{_size(lim.max_memory_bytes)}); read it in chunks (iter_ratings) or "
                    "raise INSTRVAL_MAX_MEMORY_BYTES")
    if file_bytes:
        arrow = sum(_row_group_bytes(meta.row_group(g), whole=False)
                    for g in range(meta.num_row_groups))
        ratio = arrow / file_bytes
        if ratio > lim.max_parquet_ratio:
            raise _fail(error, file, "decompression_bomb",
                        f"the {what} ({_size(file_bytes)}) declares {meta.num_rows:,} rows "
                        f"that inflate {ratio:,.0f} times (more than "
                        f"{lim.max_parquet_ratio:,.0f}); refusing a likely decompression bomb",
                        value=round(ratio, 1))
    return meta


def parquet_memory_bytes(meta: Any, *, whole: bool = True) -> int:
    """Estimated memory of a Parquet file from its footer metadata (as
    :func:`check_parquet` estimates it): to read it at once into a DataFrame (``whole``)
    or as Arrow row groups."""
    return sum(_row_group_bytes(meta.row_group(g), whole=whole)
               for g in range(meta.num_row_groups))


def _row_group_bytes(rg: Any, *, whole: bool) -> int:
    """Estimated memory of a row group: 8 bytes per fixed-width cell; text cells cost
    16 bytes plus their text in Arrow, and about 64 bytes as pandas objects."""
    n = rg.num_rows
    est = 0
    for j in range(rg.num_columns):
        col = rg.column(j)
        if col.physical_type in ("BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"):
            est += n * (64 if whole else 16) + max(col.total_uncompressed_size, 0)
        else:
            est += n * 8
    return est
