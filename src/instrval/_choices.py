"""Allowed values of options that both the library and the command line check.

Kept in a module that imports nothing, so that the command line can build its ``--help``
(``click.Choice``) without importing the readers and statistics that define them; those
modules re-export the names they use (e.g. :data:`instrval.io.ratings.FORMATS`).
"""

from __future__ import annotations

__all__ = ["RATING_FORMATS", "CODING_FORMATS", "RELEVANCE_PERIODS", "CLUSTER_METHODS"]

#: Formats :func:`instrval.io.ratings.read_ratings` reads.
RATING_FORMATS = ("wide", "long", "redcap", "qualtrics", "spss")

#: Formats :func:`instrval.io.coding.read_coding` knows.
CODING_FORMATS = ("table", "taguette", "qualcoder", "refi-qda")

#: Accepted values of ``period`` in :func:`instrval.stats.relevance.relevance_ratios`.
RELEVANCE_PERIODS = ("month", "quarter", "year")

#: Accepted values of ``cluster_method`` in :func:`instrval.stats.relevance.relevance_ratios`.
CLUSTER_METHODS = ("bootstrap", "delta")
