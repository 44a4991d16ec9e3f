"""Small helpers shared by the statistics modules (not public API)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["show_value"]


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
