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
from instrval.io.exports.fhir import to_fhir_questionnaire, write_fhir
from instrval.io.exports.redcap import (
    REDCAP_COLUMNS,
    import_redcap_dictionary,
    redcap_dictionary,
    redcap_field_map,
    write_redcap,
)
from instrval.io.exports.xlsform import write_xlsform, xlsform_sheets
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
    "xlsform_sheets",
    "write_xlsform",
]

EXPORT_FORMATS = ("fhir", "redcap", "xlsform")


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
