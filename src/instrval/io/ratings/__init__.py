"""Reading rating exports and checking them against an instrument.

:func:`read_ratings` turns an export from a survey platform into checked
:class:`~instrval.model.ratings.RatingData`: the accepted ratings in the canonical wide
layout, a quarantine table with every row that could not be used and why, and a
:class:`~instrval.errors.Problem` for every failing cell. ``accepted + quarantined = read``
always holds; nothing is silently dropped or imputed.

Formats (``format=``; detected from the file when ``None``), described with examples in
``docs/ratings-formats.md``:

``wide``
    Canonical wide table (CSV, CSV.gz, XLSX or Parquet): ``rating_id``,
    ``respondent_id``, optional ``date`` and grouping columns, a column per item of
    multi-select, Likert and binary constructs, a column per single-choice construct
    (the chosen level id), a column per gate (the chosen option).
``long``
    ``rating_id``, ``respondent_id``, ``item_id``, ``value`` (plus optional ``date`` and
    grouping columns), one line per answer.
``redcap``
    A REDCap record export (raw values), read with its data dictionary when given.
``qualtrics``
    A Qualtrics CSV export with three header rows and numeric values.
``spss``
    An SPSS ``.sav`` file (needs :mod:`pyreadstat`, the ``spss`` extra); value labels
    are used to recode single-choice and gate codes.

:func:`iter_ratings` reads Parquet files in chunks (and other files whole) and
:class:`RatingCounts` adds up the chunks' counts.

The package, one module per step (each imports only those above it):

``raw``
    :class:`~instrval.io.ratings.raw.RawTable` and the delimited-text parser.
``long``, ``qualtrics``, ``redcap``
    What each format needs before the columns are mapped (pivot, ids, header rows,
    record-level rows, data dictionary, value labels, blank or hidden check boxes).
``detect``
    The container and format of a file (:func:`detect_format`).
``read``
    The readers and the finish step every format ends with (:func:`read_ratings`,
    :func:`inspect_ratings`, :func:`check_ratings`, :func:`ratings_mapping_template`).
``chunks``
    :func:`iter_ratings`, :class:`RatingCounts`, :func:`count_ratings`.
"""

from __future__ import annotations

from instrval.io.ratings.chunks import RatingCounts, count_ratings, iter_ratings
from instrval.io.ratings.detect import detect_format
from instrval.io.ratings.read import (
    FORMATS,
    MAX_LISTED_PROBLEMS,
    check_ratings,
    finish,
    inspect_ratings,
    raise_or_warn,
    ratings_mapping_template,
    read_ratings,
)
from instrval.io.ratings.redcap import read_redcap_dictionary

__all__ = [
    "FORMATS",
    "read_ratings",
    "inspect_ratings",
    "check_ratings",
    "iter_ratings",
    "RatingCounts",
    "count_ratings",
    "detect_format",
    "read_redcap_dictionary",
    "ratings_mapping_template",
    "MAX_LISTED_PROBLEMS",
]

# The finish step under the names it had when the readers were one module
# (use instrval.io.ratings.read.finish and raise_or_warn).
_finish = finish
_raise_or_warn = raise_or_warn
