"""Allowed values of options that both the library and the command line check.

Kept in a module that imports nothing (the errors of :func:`check_choice` are imported when
raised), so that the command line can build its ``--help``
(``click.Choice``) without importing the readers and statistics that define them; those
modules re-export the names they use (e.g. :data:`instrval.io.ratings.FORMATS`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["RATING_FORMATS", "CODING_FORMATS", "RELEVANCE_PERIODS", "CLUSTER_METHODS",
           "check_choice", "renamed_keyword"]

#: Formats :func:`instrval.io.ratings.read_ratings` reads.
RATING_FORMATS = ("wide", "long", "redcap", "qualtrics", "spss")

#: Formats :func:`instrval.io.coding.read_coding` knows.
CODING_FORMATS = ("table", "taguette", "qualcoder", "refi-qda")

#: Accepted values of ``period`` in :func:`instrval.stats.relevance.relevance_ratios`.
RELEVANCE_PERIODS = ("month", "quarter", "year")

#: Accepted values of ``cluster_method`` in :func:`instrval.stats.relevance.relevance_ratios`.
CLUSTER_METHODS = ("bootstrap", "delta")


def check_choice(name: str, value: Any, choices: Any, *, error: type[Exception] | None = None,
                 ) -> Any:
    """Return ``value`` if it is one of ``choices``; otherwise raise ``error`` (default
    :class:`instrval.errors.StatisticsError`) with a message naming the option and the
    allowed values.

    >>> check_choice("method", "ml", ("minres", "ml"))
    'ml'
    >>> check_choice("method", "x", ("minres", "ml"))
    Traceback (most recent call last):
    ...
    instrval.errors.StatisticsError: method must be one of 'minres', 'ml'; got 'x'
    """
    if value in choices:
        return value
    if error is None:
        from instrval.errors import StatisticsError

        error = StatisticsError
    allowed = ", ".join(repr(c) for c in choices)
    raise error(f"{name} must be one of {allowed}; got {value!r}")


def renamed_keyword(old: str, new: str, old_value: Any, new_value: Any, default: Any,
                    *, convert: Any = None) -> Any:
    """The value of a renamed keyword argument, warning (``DeprecationWarning``) when the
    old name is used. ``old_value`` is ``None`` when the old name was not given; giving
    both names (the new one not at its default) is an error.

    >>> renamed_keyword("fm", "method", None, "ml", "minres")
    'ml'
    """
    if old_value is None:
        return new_value
    import warnings

    if new_value != default:
        raise TypeError(f"give {new}= only (the old name {old}= is deprecated)")
    warnings.warn(f"{old}= is deprecated and will be removed in the next release; "
                  f"use {new}=", DeprecationWarning, stacklevel=3)
    return convert(old_value) if convert is not None else old_value
