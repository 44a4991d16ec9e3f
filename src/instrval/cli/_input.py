"""The input options the analysis commands share with ``instrval ratings check``.

``--format``, ``--mapping`` and ``--dictionary`` read DATA with the rating readers (wide,
long, REDCap, Qualtrics, SPSS; CSV, XLSX, Parquet, ``.sav``), checked against the
instrument given with ``--instrument``, exactly as ``instrval ratings check`` reads it.
Without them, and for a plain CSV/TSV/XLSX file, DATA is read as a table of item columns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from instrval._choices import RATING_FORMATS

__all__ = ["export_options", "open_table", "EXPORT_SUFFIXES"]

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


def export_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--format``, ``--mapping`` and ``--dictionary`` (parameters ``fmt``,
    ``mapping``, ``dictionary``) to a command."""
    for opt in reversed(_OPTIONS):
        f = opt(f)
    return f


def open_table(data: str, *, instrument: Any = None, fmt: str | None = None,
               mapping: str | None = None, dictionary: str | None = None) -> Any:
    """Read DATA as a :class:`~instrval.io.tables.Table`.

    A rating export (``fmt``, ``mapping`` or ``dictionary`` given, or a Parquet / SPSS
    file) is read with :func:`instrval.io.ratings.read_ratings` against ``instrument`` (an
    Instrument or its file); its accepted ratings, in canonical wide layout with columns
    named by item id, become the table. Anything else is read with
    :func:`instrval.io.tables.read_table`.
    """
    import numpy as np

    from instrval.io.tables import Table, read_table

    export = (fmt is not None or mapping is not None or dictionary is not None
              or Path(data).suffix.lower() in EXPORT_SUFFIXES)
    if not export:
        return read_table(data)
    if instrument is None:
        raise click.UsageError(
            "--format, --mapping, --dictionary and Parquet/SPSS files read DATA as a rating "
            "export checked against an instrument: give --instrument")
    from instrval.io.instrument import read_instrument
    from instrval.io.ratings import read_ratings

    inst = read_instrument(instrument) if isinstance(instrument, (str, Path)) else instrument
    rd = read_ratings(data, inst, format=fmt, mapping=mapping, dictionary=dictionary)
    df = rd.data.copy()
    for c in inst.item_ids:
        if c in df.columns:
            df[c] = df[c].astype("float64")
    return Table(data=df, rows=np.arange(2, len(df) + 2), file=str(data),
                 format=str(rd.source.get("format", fmt or "export")))
