"""Reading rating exports and checking them against an instrument (see
:mod:`instrval.io.ratings.read`)."""

from __future__ import annotations

from instrval.io.ratings.read import (
    FORMATS,
    MAX_LISTED_PROBLEMS,
    RatingCounts,
    check_ratings,
    count_ratings,
    detect_format,
    inspect_ratings,
    iter_ratings,
    ratings_mapping_template,
    read_ratings,
    read_redcap_dictionary,
)

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
