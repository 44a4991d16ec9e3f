"""Delimited text for every tabular reader: one decoding policy and one delimiter sniffer.

Every reader of delimited text (rating exports, data tables, panels, decisions, coding
tables, REDCap dictionaries) reads its bytes through :func:`read_text_bytes` (the size,
file-type and gzip guards of :mod:`instrval.io.files`), decodes them with
:func:`decode_text` and finds the delimiter with :func:`sniff_delimiter`. Rows are then
numbered as in a spreadsheet: the header is row 1.

The decoding policy, the same everywhere:

1. a file that starts as a known binary format (PNG, PDF, zip, old ``.xls``, SQLite...)
   or holds a NUL byte is refused (``not_text``);
2. UTF-16 with a byte-order mark (Excel's "Unicode text") is decoded as UTF-16;
3. UTF-8, with or without a byte-order mark;
4. otherwise, unless the content looks binary (``not_text``), Windows-1252 (Excel's plain
   "CSV" on Windows; Latin-1 for the five bytes Windows-1252 leaves undefined), with a
   :class:`~instrval.errors.DataQualityWarning` naming the file, the first byte that is
   not UTF-8 and its line.
"""
from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from instrval.errors import DataQualityWarning, InstrvalError, Problem
from instrval.io.files import Limits, inflate_gzip, limits, read_input_bytes

__all__ = ["BINARY_MAGIC", "DELIMITERS", "decode_text", "decode_text_with", "read_text_bytes",
           "sniff_delimiter"]

#: The delimiters :func:`sniff_delimiter` chooses from, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")

#: Leading bytes of binary formats given by mistake, and what they are.
BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"PK\x03\x04": "a zip archive (an .xlsx workbook is one: give it the .xlsx extension)",
    b"\xd0\xcf\x11\xe0": "an old binary Excel/Office file (.xls): save it as .xlsx or CSV",
    b"SQLite format": "an SQLite database",
}


def read_text_bytes(path: str | os.PathLike[str], *, error: type[InstrvalError],
                    what: str, limits_: Limits | None = None) -> tuple[bytes, bytes]:
    """The bytes of a text file through the guards: ``(as_stored, inflated)``.

    ``as_stored`` is the file's bytes (for a digest); ``inflated`` is the same, gunzipped
    when the content is gzip (checked against the decompression limits).
    """
    lim = limits_ or limits()
    raw = read_input_bytes(Path(path), error=error, what=what, limits=lim)
    data = raw
    if raw[:2] == b"\x1f\x8b":
        data = inflate_gzip(raw, file=str(path), error=error, what=what, limits=lim)
    return raw, data


def decode_text(raw: bytes, *, file: str | None, error: type[InstrvalError],
                what: str = "file", stacklevel: int = 2) -> str:
    """Decode the bytes of a text file by the one policy of this module (see above).

    Raises ``error`` (reason ``not_text`` or ``encoding``) naming the file and line.
    """
    return decode_text_with(raw, file=file, error=error, what=what,
                            stacklevel=stacklevel + 1)[0]


def decode_text_with(raw: bytes, *, file: str | None, error: type[InstrvalError],
                     what: str = "file", stacklevel: int = 2) -> tuple[str, str]:
    """As :func:`decode_text`, also returning the encoding used (``"utf-8"``,
    ``"utf-16"``, ``"cp1252"`` or ``"latin-1"``)."""
    name = file or "<data>"

    def fail(reason: str, message: str, line: int | None = None) -> InstrvalError:
        where = f"{name}:{line}" if line is not None else name
        return error(f"{where}: {message}",
                     [Problem(reason, message, file=file, line=line, row=line)])

    for magic, kind in BINARY_MAGIC.items():
        if raw.startswith(magic):
            raise fail("not_text", f"the {what} is {kind}, not a CSV text file")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM ("Unicode text")
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise fail("encoding", "the file starts as UTF-16 text but is not valid "
                       "UTF-16") from None
    nul = raw.find(b"\x00")
    if nul >= 0:  # text never holds NUL; the csv module (Python 3.10) cannot parse it either
        line = raw[:nul].count(b"\n") + 1
        raise fail("not_text", f"the {what} contains a NUL byte on line {line}: it is not a "
                   "text table; give a CSV, TSV or XLSX file", line)
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    line = raw[:bad_at].count(b"\n") + 1
    head = raw[:65536]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if controls > len(head) // 100:
        raise fail("not_text", f"the {what} is not a text file (binary content, e.g. byte "
                   f"0x{raw[bad_at]:02x} on line {line}); give a CSV, TSV or XLSX file",
                   line)
    try:
        text, encoding = raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    warnings.warn(
        f"{name} is not UTF-8 (byte 0x{raw[bad_at]:02x} on line {line}); it was read as "
        f"{'Windows-1252' if encoding == 'cp1252' else 'Latin-1'}. If accented text looks "
        "wrong, save the file as 'CSV UTF-8'", DataQualityWarning, stacklevel=stacklevel + 1)
    return text, encoding


_QUOTED = re.compile(r'"[^"]*"')


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header (the first non-blank line of ``text``): the most
    frequent of comma, semicolon, tab and pipe outside double quotes; comma when there is
    none (and on a tie, the first in :data:`DELIMITERS`)."""
    header = ""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        line = text[start:] if end < 0 else text[start:end]
        if line.strip():
            header = line
            break
        if end < 0:
            break
        start = end + 1
    unquoted = _QUOTED.sub("", header)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","
