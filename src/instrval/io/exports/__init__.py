"""Exports of an instrument to survey platforms, and the REDCap import.

* :func:`~instrval.io.exports.fhir.to_fhir_questionnaire` / :func:`write_fhir`: an HL7
  FHIR R4 ``Questionnaire`` resource (JSON).
* :func:`~instrval.io.exports.redcap.redcap_dictionary` / :func:`write_redcap`: a REDCap
  data dictionary (CSV, REDCap's 18 columns); :func:`redcap_field_map` says which REDCap
  field and code holds each instrval id; :func:`import_redcap_dictionary` reads a data
  dictionary back into an :class:`~instrval.model.instrument.Instrument`.
* :func:`~instrval.io.exports.xlsform.write_xlsform`: an XLSForm workbook (ODK, KoboToolbox,
  SurveyCTO) with survey, choices and settings sheets.
* :func:`export_instrument` dispatches on ``format`` (``fhir``, ``redcap``, ``xlsform``),
  as ``instrval instrument export`` does.

Text written to spreadsheet cells (CSV and XLSX) that begins with ``=``, ``+``, ``-`` or
``@`` could be run as a formula by a spreadsheet program. The REDCap CSV prefixes such
text with a single quote (``'``), which the REDCap import strips again; the XLSForm
workbook stores such cells as text with Excel's quote-prefix attribute, so the cell value
(what XLSForm tools read) is unchanged. See ``docs/publishing-and-exports.md``.
"""

from __future__ import annotations

import os
from pathlib import Path

from instrval.errors import ExportError
from instrval.io.exports.fhir import read_fhir_instrument, to_fhir_questionnaire, write_fhir
from instrval.io.exports.redcap import (
    REDCAP_COLUMNS,
    FormImport,
    import_redcap_dictionary,
    read_redcap_instrument,
    redcap_dictionary,
    redcap_field_map,
    write_redcap,
)
from instrval.io.exports.xlsform import read_xlsform_instrument, write_xlsform, xlsform_sheets
from instrval.model.instrument import Instrument

__all__ = [
    "EXPORT_FORMATS",
    "export_instrument",
    "to_fhir_questionnaire",
    "write_fhir",
    "REDCAP_COLUMNS",
    "redcap_dictionary",
    "redcap_field_map",
    "write_redcap",
    "import_redcap_dictionary",
    "read_redcap_instrument",
    "read_xlsform_instrument",
    "read_fhir_instrument",
    "import_instrument",
    "IMPORT_FORMATS",
    "FormImport",
    "xlsform_sheets",
    "write_xlsform",
]

EXPORT_FORMATS = ("fhir", "redcap", "xlsform")
#: Formats :func:`import_instrument` reads.
IMPORT_FORMATS = ("redcap", "xlsform", "fhir")


def import_instrument(path: str | os.PathLike[str], format: str, *, id: str | None = None,
                      version: str | None = None, title: str | None = None,
                      strict: bool = False) -> FormImport:
    """Build an instrument from a REDCap data dictionary, an XLSForm or a FHIR
    Questionnaire (``format``: redcap, xlsform or fhir).

    Returns the :class:`~instrval.io.exports.redcap.FormImport` (``instrument`` and the
    ``notes`` on what was left out). ``id`` and ``version`` are required for REDCap;
    ``strict`` (REDCap) refuses fields that cannot be imported.

    Raises
    ------
    ExportError
        For an unknown format, a file not in its format, or one that gives no construct.
    """
    if format == "redcap":
        if not id or not version:
            raise ExportError("a REDCap import needs id and version (a data dictionary "
                              "names neither)")
        return read_redcap_instrument(path, id=id, version=version, title=title,
                                      strict=strict)
    if format == "xlsform":
        return read_xlsform_instrument(path, id=id, version=version, title=title)
    if format == "fhir":
        return read_fhir_instrument(path, id=id, version=version, title=title)
    raise ExportError(f"unknown import format {format!r}; choose one of "
                      f"{', '.join(IMPORT_FORMATS)}")


def export_instrument(instrument: Instrument, format: str, out: str | os.PathLike[str]
                      ) -> Path:
    """Write ``instrument`` to ``out`` in ``format`` (fhir, redcap or xlsform).

    Raises
    ------
    ExportError
        For an unknown format.
    """
    if format == "fhir":
        return write_fhir(instrument, out)
    if format == "redcap":
        return write_redcap(instrument, out)
    if format == "xlsform":
        return write_xlsform(instrument, out)
    raise ExportError(f"unknown export format {format!r}; choose one of "
                      f"{', '.join(EXPORT_FORMATS)}")
