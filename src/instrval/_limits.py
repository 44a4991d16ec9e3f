"""The limits every reader (and a few statistics) apply to hostile or oversized input.

A leaf module (it imports only :mod:`instrval.errors`) so that readers and statistics
share one set of documented, configurable limits; see ``docs/security.md`` and
:mod:`instrval.io.files`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

from instrval.errors import InstrvalError, Problem

__all__ = ["Limits", "limits"]

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Limits that every reader applies to its input (see ``docs/security.md``).

    Each default can be changed with the environment variable named after the field in
    capitals with an ``INSTRVAL_`` prefix (``INSTRVAL_MAX_FILE_BYTES=8589934592``), or by
    passing ``limits=Limits(...)`` where a function takes it.

    Attributes
    ----------
    max_file_bytes : int
        Largest input file read whole (default 4 GiB).
    max_inflated_bytes : int
        Largest size a gzip file or the members of a zip/XLSX archive may inflate to
        (default 2 GiB).
    max_ratio : float
        Largest inflation ratio (inflated / compressed bytes) of a gzip file or an archive
        member (default 200; CSV and spreadsheet XML compress 5-30 times).
    ratio_floor_bytes : int
        The ratio is only enforced past this inflated size (default 16 MiB), so that
        small, very repetitive files are read.
    max_sheet_rows : int
        Most rows in one worksheet of an XLSX workbook (default 1,048,576, Excel's own
        limit).
    max_sheet_cells : int
        Most cells in one worksheet (default 20,000,000).
    max_cell_bytes : int
        Longest cell of delimited text (default 16 MiB; the ``csv`` module's own default
        is 128 KiB).
    max_memory_bytes : int
        Largest estimated memory of a Parquet file read whole, or of one row group read
        in a stream (default 8 GiB).
    max_parquet_ratio : float
        Largest ratio of estimated in-memory bytes to file bytes of a Parquet file
        (default 10,000: only absurd inflation is refused).
    max_yaml_nodes : int
        Most nodes of a YAML/JSON document once aliases are expanded (default 200,000).
    max_nesting : int
        Deepest nesting of a YAML/JSON document (default 100).
    """

    max_file_bytes: int = 4 * GiB
    max_inflated_bytes: int = 2 * GiB
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 16 * MiB
    max_sheet_rows: int = 1_048_576
    max_sheet_cells: int = 20_000_000
    max_cell_bytes: int = 16 * MiB
    max_memory_bytes: int = 8 * GiB
    max_parquet_ratio: float = 10_000.0
    max_yaml_nodes: int = 200_000
    max_nesting: int = 100


def limits(base: Limits | None = None, **overrides: Any) -> Limits:
    """The limits in force: ``base`` (default :class:`Limits`), then the
    ``INSTRVAL_MAX_...`` environment variables, then ``overrides``."""
    out = base or Limits()
    env: dict[str, Any] = {}
    for f in fields(Limits):
        raw = os.environ.get("INSTRVAL_" + f.name.upper())
        if raw is None or base is not None:
            continue
        try:
            env[f.name] = float(raw) if f.type in ("float", float) else int(float(raw))
        except ValueError:
            raise InstrvalError(
                f"the environment variable INSTRVAL_{f.name.upper()} must be a number, got "
                f"{raw!r}", [Problem("invalid_value", "not a number", key=f.name,
                                     value=raw)]) from None
    return replace(out, **env, **overrides)
