"""Reading and writing instrument definition files (YAML or JSON).

The file format is described in ``docs/instrument-format.md``; its JSON Schema is
:func:`instrval.io.schema.instrument_schema`.
"""

from __future__ import annotations

import os
from pathlib import Path

from instrval.errors import InstrumentError, Problem
from instrval.io.yamlfile import dump_json, dump_yaml, load_document, loads_document
from instrval.model.checks import check_instrument_data
from instrval.model.instrument import Instrument, _build

__all__ = ["read_instrument", "loads_instrument", "dumps_instrument", "write_instrument",
           "check_instrument_file"]


def check_instrument_file(path: str | os.PathLike[str]) -> list[Problem]:
    """Return every problem in an instrument file (an empty list when it is valid).

    Problems that stop the file from being parsed at all (missing file, invalid YAML)
    are returned as a single problem.
    """
    try:
        doc = load_document(path, error=InstrumentError, what="instrument file")
    except InstrumentError as exc:
        return exc.problems or [Problem("unreadable", exc.summary, file=str(path))]
    return check_instrument_data(doc.data, file=str(path), lines=doc.lines)


def read_instrument(path: str | os.PathLike[str]) -> Instrument:
    """Read and check an instrument definition file.

    Parameters
    ----------
    path : path-like
        A ``.yaml``/``.yml`` or ``.json`` file.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        Listing every problem (file, key path, line, value, reason) when the file is not
        a valid instrument definition.

    Examples
    --------
    >>> import instrval
    >>> iam = instrval.read_instrument("instruments/iam/iam-2011.yaml")  # doctest: +SKIP
    >>> iam.counts()  # doctest: +SKIP
    {'constructs': 4, 'items': 23, 'gates': 2}
    """
    doc = load_document(path, error=InstrumentError, what="instrument file")
    check_instrument_data(doc.data, file=str(path), lines=doc.lines, raise_on_error=True)
    return _build(doc.data)


def loads_instrument(text: str, *, fmt: str = "yaml", file: str | None = None) -> Instrument:
    """Parse and check an instrument definition given as text (``fmt``: yaml or json)."""
    doc = loads_document(text, file=file, json_syntax=fmt == "json", error=InstrumentError,
                         what="instrument file")
    check_instrument_data(doc.data, file=file, lines=doc.lines, raise_on_error=True)
    return _build(doc.data)


def dumps_instrument(instrument: Instrument, *, fmt: str = "yaml") -> str:
    """Return the text of an instrument file (``fmt``: yaml or json)."""
    data = instrument.to_dict()
    if fmt == "json":
        return dump_json(data)
    if fmt == "yaml":
        return dump_yaml(data)
    raise ValueError(f"fmt must be 'yaml' or 'json', got {fmt!r}")


def write_instrument(instrument: Instrument, path: str | os.PathLike[str], *,
                     overwrite: bool = False) -> Path:
    """Write an instrument file; the format follows the suffix (``.json`` or YAML).

    The file is written to a temporary name and renamed, so an interrupted write never
    leaves a partial file. An existing file is refused unless ``overwrite=True``.
    """
    from instrval.io.atomic import atomic_write_text

    p = Path(path)
    fmt = "json" if p.suffix.lower() == ".json" else "yaml"
    if p.exists() and not overwrite:
        raise InstrumentError(f"{p} exists; refusing to overwrite it (pass overwrite=True)")
    atomic_write_text(p, dumps_instrument(instrument, fmt=fmt))
    return p
