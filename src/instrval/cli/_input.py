"""The input options the analysis commands share with ``instrval ratings check``.

``--format``, ``--mapping`` and ``--dictionary`` read DATA with the rating readers (wide,
long, REDCap, Qualtrics, SPSS; CSV, XLSX, Parquet, ``.sav``), checked against the
instrument given with ``--instrument``, exactly as ``instrval ratings check`` reads it.
Without them, and for a plain CSV/TSV/XLSX file, DATA is read as a table of item columns.

DATA may also be Parquet: a file, a folder of Parquet parts, a glob (``"parts/*.parquet"``)
or a URL (``s3://bucket/exports/``) - see :func:`parquet_input`. With ``--instrument`` it
is read as a rating export (the parts concatenated, within
:attr:`~instrval._limits.Limits.max_memory_bytes`); without, as a table of its columns.

DATA ``-`` reads standard input (see :func:`data_path`): it is spooled, within
:attr:`~instrval._limits.Limits.max_file_bytes`, to a private temporary file that the
readers then read exactly as a file (a CSV/TSV text, gzip-compressed or not, an XLSX
workbook, a Parquet or SPSS file, recognised by their first bytes); messages name it
``<stdin>``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from instrval._choices import RATING_FORMATS

__all__ = ["export_options", "open_table", "read_items", "read_table", "data_path",
           "stdin_aliases", "parquet_input", "DataPath", "EXPORT_SUFFIXES", "STDIN_NAME"]

#: How messages name standard input.
STDIN_NAME = "<stdin>"
_META_KEY = "instrval.stdin"

#: Suffix of the spooled file, from the first bytes of standard input.
_MAGIC_SUFFIX = ((b"PK\x03\x04", ".xlsx"), (b"PAR1", ".parquet"), (b"$FL2", ".sav"),
                 (b"$FL3", ".zsav"), (b"\x1f\x8b", ".csv.gz"))

#: Files that only the rating readers read (never a plain table).
EXPORT_SUFFIXES = (".parquet", ".sav", ".zsav")

_OPTIONS = [
    click.option("--format", "fmt", type=click.Choice(RATING_FORMATS),
                 help="Read DATA as a rating export of this format (as `ratings check`; "
                      "needs --instrument). Default: a plain table of item columns, or the "
                      "detected export format with --mapping/--dictionary or a Parquet/SPSS "
                      "file."),
    click.option("--mapping", type=click.Path(exists=True, dir_okay=False),
                 help="Mapping file from export columns and codes to item ids (needs "
                      "--instrument)."),
    click.option("--dictionary", type=click.Path(exists=True, dir_okay=False),
                 help="REDCap data dictionary (CSV) of a REDCap export (needs --instrument)."),
]


class DataPath(click.Path):
    """``click.Path(exists=True, allow_dash=True)`` for DATA that also takes a folder of
    Parquet parts, and a glob or a URL (checked by the readers, not here)."""

    def __init__(self) -> None:
        super().__init__(exists=True, allow_dash=True)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        import os

        from instrval.io.files import is_url

        s = os.fspath(value)
        if is_url(s) or (any(ch in s for ch in "*?[") and not Path(s).exists()):
            return s
        return super().convert(value, param, ctx)


def export_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--format``, ``--mapping`` and ``--dictionary`` (parameters ``fmt``,
    ``mapping``, ``dictionary``) to a command."""
    for opt in reversed(_OPTIONS):
        f = opt(f)
    return f


def _read_stdin() -> bytes:
    """The bytes of standard input, refused past ``Limits.max_file_bytes``."""
    import sys

    from instrval._limits import limits
    from instrval.errors import InstrvalError, Problem

    lim = limits()
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # pragma: no cover - a text-only stdin (never under click)
        raw = sys.stdin.read().encode("utf-8")
    else:
        chunks: list[bytes] = []
        got = 0
        while got <= lim.max_file_bytes:
            b = stream.read(min(lim.max_file_bytes + 1 - got, 16 << 20))
            if not b:
                break
            chunks.append(b)
            got += len(b)
        raw = b"".join(chunks)
    if len(raw) > lim.max_file_bytes:
        msg = (f"standard input is larger than {lim.max_file_bytes} bytes; refusing to read "
               "it (raise INSTRVAL_MAX_FILE_BYTES to read it anyway)")
        raise InstrvalError(f"{STDIN_NAME}: {msg}", [Problem("too_large", msg, file=STDIN_NAME)])
    if not raw:
        msg = "standard input is empty (0 bytes)"
        raise InstrvalError(f"{STDIN_NAME}: {msg}", [Problem("empty_file", msg, file=STDIN_NAME)])
    return raw


def data_path(path: Any) -> Any:
    """``path`` itself, or for ``-`` the path of a temporary copy of standard input.

    Standard input is read once per command (a command that reads DATA twice reads the
    same copy), through the size limit of the readers; the copy is deleted when the
    command ends. Outside a click command the copy lives until the process exits.
    """
    if str(path) != "-":
        return path
    import atexit
    import shutil
    import tempfile

    ctx = click.get_current_context(silent=True)
    meta: dict[str, Any] = ctx.find_root().meta if ctx is not None else _PROCESS_META
    spooled = meta.get(_META_KEY)
    if spooled is not None:
        return spooled
    raw = _read_stdin()
    suffix = next((suf for magic, suf in _MAGIC_SUFFIX if raw.startswith(magic)), ".csv")
    folder = tempfile.mkdtemp(prefix="instrval-stdin-")
    target = Path(folder) / f"stdin{suffix}"
    with open(target, "xb") as fh:
        fh.write(raw)
    meta[_META_KEY] = str(target)
    if ctx is not None:
        ctx.find_root().call_on_close(lambda: shutil.rmtree(folder, ignore_errors=True))
    else:
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return str(target)


_PROCESS_META: dict[str, Any] = {}


def stdin_aliases(ctx: click.Context | None) -> dict[str, str]:
    """``{temporary path: "<stdin>"}`` for the copy of standard input of ``ctx``'s
    command, so that messages name standard input."""
    if ctx is None:
        return {}
    spooled = ctx.find_root().meta.get(_META_KEY)
    return {spooled: STDIN_NAME} if spooled else {}


def parquet_input(path: Any) -> bool:
    """True when DATA is Parquet (:func:`instrval.io.items.is_parquet_input`)."""
    from instrval.io.items import is_parquet_input

    return is_parquet_input(path)


def _parquet_table(path: Any, error: Any = None) -> Any:
    """Parquet DATA (:func:`parquet_input`) as a table of its columns
    (:func:`instrval.io.items.read_parquet_table`)."""
    from instrval.errors import StatisticsError
    from instrval.io.items import read_parquet_table

    return read_parquet_table(path, error=error or StatisticsError)


def read_table(path: Any, **kwargs: Any) -> Any:
    """:func:`instrval.io.tables.read_table` that also reads ``-`` (standard input) and
    Parquet DATA - a file, a folder of parts, a glob or a URL - as a table of its columns."""
    from instrval.io.tables import read_table as _read_table

    path = data_path(path)
    if parquet_input(path):
        return _parquet_table(path, kwargs.get("error"))
    return _read_table(path, **kwargs)


def _export_data(data: str, instrument: Any, fmt: str | None, mapping: str | None,
                 dictionary: str | None) -> Any:
    """The path of DATA; a rating export without ``--instrument`` is a usage error."""
    data = data_path(data)
    options = fmt is not None or mapping is not None or dictionary is not None
    export = options or (not parquet_input(data)
                         and Path(data).suffix.lower() in EXPORT_SUFFIXES)
    if export and instrument is None:
        raise click.UsageError(
            "--format, --mapping, --dictionary and SPSS files read DATA as a rating "
            "export checked against an instrument: give --instrument")
    return data


def open_table(data: str, *, instrument: Any = None, fmt: str | None = None,
               mapping: str | None = None, dictionary: str | None = None) -> Any:
    """Read DATA (``-``: standard input) as a :class:`~instrval.io.tables.Table` with
    :func:`instrval.io.items.read_item_table` (a rating export with ``--instrument``;
    Parquet without, a table of its columns); a rating export without ``--instrument``
    is a usage error."""
    from instrval.io.items import read_item_table

    data = _export_data(data, instrument, fmt, mapping, dictionary)
    return read_item_table(data, instrument=instrument, format=fmt, mapping=mapping,
                           dictionary=dictionary)


def read_items(data: str, *, instrument: Any = None, fmt: str | None = None,
               mapping: str | None = None, dictionary: str | None = None,
               **kwargs: Any) -> Any:
    """:func:`instrval.io.items.read_item_data` of DATA (``-``: standard input); a rating
    export without ``--instrument`` is a usage error."""
    from instrval.io.items import read_item_data

    data = _export_data(data, instrument, fmt, mapping, dictionary)
    return read_item_data(data, instrument=instrument, format=fmt, mapping=mapping,
                          dictionary=dictionary, **kwargs)
