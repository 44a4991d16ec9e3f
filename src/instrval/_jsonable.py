"""Conversion of results to plain JSON data: the one converter every ``to_dict()`` uses.

Low level on purpose: it imports nothing of instrval, nor numpy and pandas (a value can only
be a numpy or pandas object once they have been imported by someone else), so that the statistics (``instrval.stats``), the readers and the command line
(``instrval.cli._base`` re-exports :func:`to_jsonable`) can all use it without importing
one another, and ``import instrval.cli`` stays fast.

* :func:`to_jsonable` converts a whole structure (results, DataFrames, mappings, lists,
  arrays, scalars);
* :func:`jsonable_scalar` converts one cell;
* :func:`float_or_none` makes a number a plain ``float`` (``None`` when missing or not
  finite).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

__all__ = ["to_jsonable", "jsonable_scalar", "float_or_none"]


def float_or_none(v: Any) -> float | None:
    """``v`` as a plain ``float``; ``None`` for ``None``, ``pd.NA``, NaN and infinities.

    >>> float_or_none(3), float_or_none(float("nan")), float_or_none(None)
    (3.0, None, None)
    """
    if v is None or _is_na(v):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def jsonable_scalar(v: Any) -> Any:
    """One value as plain JSON data: numpy scalars as Python ``bool`` / ``int`` / ``float``,
    NaN, infinities, ``pd.NA`` and ``pd.NaT`` as ``None``, timestamps as ISO 8601 text;
    anything else unchanged.

    >>> import numpy as np
    >>> jsonable_scalar(np.int64(2)), jsonable_scalar(np.float64("inf")), jsonable_scalar("a")
    (2, None, 'a')
    """
    np, pd = _numpy_pandas()
    return _scalar(v, np, pd)


def to_jsonable(obj: Any, *, fallback: Callable[[Any], Any] | None = None) -> Any:
    """Convert results (DataFrames, numpy values, NaN) to plain JSON data.

    Objects with a ``to_dict()`` method (the result classes) are converted through it;
    DataFrames become lists of row records, Series and mappings dicts with text keys,
    lists, tuples, sets and arrays lists; scalars as :func:`jsonable_scalar` (NaN and
    infinities become ``None``). Any other object is returned unchanged, or passed to
    ``fallback`` (e.g. ``str``) when one is given.

    >>> import pandas as pd
    >>> to_jsonable(pd.DataFrame({"item_id": ["a"], "r": [float("nan")]}))
    [{'item_id': 'a', 'r': None}]
    """
    np, pd = _numpy_pandas()
    return _convert(obj, np, pd, fallback)


# ----------------------------------------------------------------------------- internals
class _Absent:
    """A type no value is an instance of: stands in for the types of an unloaded library."""


_NO_NUMPY = SimpleNamespace(bool_=_Absent, integer=_Absent, floating=_Absent, ndarray=_Absent)
_NO_PANDAS = SimpleNamespace(DataFrame=_Absent, Series=_Absent, Timestamp=_Absent,
                             NA=_Absent(), NaT=_Absent())


def _numpy_pandas() -> tuple[Any, Any]:
    """numpy and pandas if they are loaded, else stand-ins (so that JSON output of plain
    data, e.g. ``instrval instrument check --json``, does not import them)."""
    return sys.modules.get("numpy", _NO_NUMPY), sys.modules.get("pandas", _NO_PANDAS)


def _is_na(v: Any) -> bool:
    """True for ``pd.NA`` and ``pd.NaT``, without importing pandas to find out."""
    return type(v).__name__ in ("NAType", "NaTType")


def _scalar(v: Any, np: Any, pd: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _convert(obj: Any, np: Any, pd: Any, fallback: Callable[[Any], Any] | None) -> Any:
    if hasattr(obj, "to_dict") and not isinstance(obj, (pd.DataFrame, pd.Series, Mapping)):
        obj = obj.to_dict()
    if isinstance(obj, pd.DataFrame):
        return [_convert(r, np, pd, fallback) for r in obj.to_dict(orient="records")]
    if isinstance(obj, (pd.Series, Mapping)):
        return {str(k): _convert(v, np, pd, fallback) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_convert(v, np, pd, fallback) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_convert(v, np, pd, fallback) for v in obj.tolist()]
    out = _scalar(obj, np, pd)
    if (fallback is not None and obj is not None and out is obj
            and not isinstance(obj, (str, bool, int, float))):
        return fallback(obj)
    return out
