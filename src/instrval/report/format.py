"""How the report shows a value: the only place numbers are rounded.

Both renderers (:mod:`instrval.report.html` through its templates, and
:mod:`instrval.report.markdown`) format every cell with :func:`fmt_value`.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["fmt_value", "ci_text", "is_missing"]


def is_missing(v: Any) -> bool:
    """True for None, NA, NaT and NaN."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return isinstance(v, float) and math.isnan(v)
    except TypeError:
        return False


def fmt_value(v: Any, fmt: str) -> str:
    """Format a value for display (the only place numbers are rounded).

    Formats: ``pct`` / ``pct1`` (percent, 2 / 1 decimals), ``f<n>`` (n decimals),
    ``int`` (thousands separators), ``num`` (integers as integers, other numbers as given:
    ``2.0`` -> ``2``, ``0.85`` -> ``0.85``), ``p`` (p-value: ``< .001``, else 3 decimals
    without the leading zero), ``bool`` (yes / no), anything else as text. Missing values
    (None, NaN, NA) are an en dash.

    >>> fmt_value(2.0, "num"), fmt_value(0.85, "num"), fmt_value(1234567, "int")
    ('2', '0.85', '1,234,567')
    >>> fmt_value(0.00002, "p"), fmt_value(0.0234, "p"), fmt_value(float("nan"), "f3")
    ('< .001', '.023', '–')
    """
    if is_missing(v):
        return "\u2013"
    if fmt == "pct":
        return f"{100 * float(v):.2f}%"
    if fmt == "pct1":
        return f"{100 * float(v):.1f}%"
    if fmt.startswith("f") and fmt[1:].isdigit():
        f = float(v)
        return "\u2013" if math.isinf(f) else f"{f:.{int(fmt[1:])}f}"
    if fmt == "int":
        return f"{int(v):,}"
    if fmt == "num":
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, (int, float)) or hasattr(v, "dtype"):
            f = float(v)
            if math.isinf(f):
                return "\u2013"
            return f"{int(f):,}" if f.is_integer() else repr(f)
        return str(v)
    if fmt == "p":
        f = float(v)
        if f < 0.001:
            return "< .001"
        txt = f"{f:.3f}"
        return txt[1:] if txt.startswith("0.") else txt
    if fmt == "bool":
        return "yes" if bool(v) else "no"
    return str(v)


def ci_text(lo: Any, hi: Any, fmt: str) -> str:
    """``[lo, hi]``, or an en dash when either end is missing.

    >>> ci_text(0.1234, 0.5, "f2"), ci_text(None, 0.5, "f2")
    ('[0.12, 0.50]', '–')
    """
    if is_missing(lo) or is_missing(hi):
        return "\u2013"
    return f"[{fmt_value(lo, fmt)}, {fmt_value(hi, fmt)}]"
