"""Small helpers shared by the statistics modules (not public API)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import StatisticsError

__all__ = ["show_value", "item_array"]


def show_value(v: Any) -> str:
    """repr of a value for messages: numpy scalars as plain Python, 2.0 as 2.

    >>> import numpy as np
    >>> show_value(np.float64(2.0)), show_value("x")
    ('2', "'x'")
    """
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return repr(v)


def item_array(data: pd.DataFrame, what: str, *, expected: str = "a pandas DataFrame"
               ) -> np.ndarray:
    """The item responses of ``data`` (a DataFrame of at least 2 item columns) as a float
    array, NaN for missing; ``what`` names the function, ``expected`` the input, in the
    :class:`~instrval.errors.StatisticsError` raised otherwise."""
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(f"{what} needs {expected}, got {type(data).__name__}")
    if data.shape[1] < 2:
        raise StatisticsError(f"{what} needs at least 2 items, got {data.shape[1]}")
    try:
        return data.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise StatisticsError(f"{what} needs numeric item responses: {exc}") from None
