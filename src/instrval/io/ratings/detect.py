"""Which container (text, Excel, Parquet, SPSS) and which format (``wide``, ``long``,
``redcap``, ``qualtrics``, ``spss``) a rating export is, from its extension, magic bytes
and header."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from instrval.errors import RatingsError
from instrval.io.files import read_input_bytes
from instrval.io.ratings.long import LONG_COLUMNS
from instrval.io.ratings.qualtrics import qualtrics_legacy

__all__ = ["detect_format", "container_of"]

_EXCEL = {".xlsx", ".xlsm", ".xls"}
_PARQUET = {".parquet", ".pq"}
_SPSS = {".sav", ".zsav"}


def container_of(path: Path, head: bytes) -> str:
    """``excel``, ``parquet``, ``spss`` or ``text``, from the extension or the first bytes
    (``head``) of the file."""
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
    if qualtrics_legacy(lines):
        return "qualtrics"
    if names >= LONG_COLUMNS:
        return "long"
    return "wide"


def detect_format(path: str | os.PathLike[str], *, dictionary: Any = None) -> str:
    """Guess the format of an export: ``wide``, ``long``, ``redcap``, ``qualtrics`` or
    ``spss`` (from the file's extension, magic bytes and header)."""
    p = Path(path)
    head = read_input_bytes(p, error=RatingsError, what="rating export", limit=65536)
    kind = container_of(p, head)
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
