"""The protocol every result of instrval follows.

:class:`Result` is a base for the frozen dataclasses the statistics return. It gives each
result

* ``to_dict()``: JSON-ready data through the one converter
  (:func:`instrval._jsonable.to_jsonable`); result classes override it where they choose
  their keys, the default lists every field;
* ``to_frame()``: a tidy DataFrame; the default is one row of the scalar fields (results
  with one row per item override it);
* a short ``repr`` (a few lines: what it is, its size and its key numbers, never the
  whole tables) and ``_repr_html_`` for notebooks (the same summary above the first rows
  of ``to_frame()``);
* ``plot_svg()`` and ``plot()`` where the report draws a figure of it (see
  :mod:`instrval.plot`);
* immutable mappings: a ``dict`` given to a field is stored as a read-only
  :class:`types.MappingProxyType` (pickling and copying still work).

A leaf module: it imports nothing of instrval at import time but :mod:`instrval._jsonable`.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True, repr=False)
... class Demo(Result):
...     estimate: float
...     n: int
...     settings: dict
>>> d = Demo(estimate=0.123456, n=40, settings={"method": "x"})
>>> d
Demo: estimate = 0.1235, n = 40
  settings: {method: x}
>>> d.settings["method"] = "y"
Traceback (most recent call last):
...
TypeError: 'mappingproxy' object does not support item assignment
>>> d.to_dict()
{'estimate': 0.123456, 'n': 40, 'settings': {'method': 'x'}}
"""

from __future__ import annotations

import dataclasses
import html
import math
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from instrval._jsonable import to_jsonable

__all__ = ["Result"]

_SCALARS = (bool, int, float, str)
_MAX_LINE = 88


class Result:
    """Base of the frozen dataclass results (see the module docstring).

    Subclasses are declared ``@dataclass(frozen=True, repr=False)`` so that the short
    ``repr`` of this class is used. A subclass may override :meth:`_summary_lines`.
    """

    __slots__ = ()

    # ------------------------------------------------------------ immutability
    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, dict):
                object.__setattr__(self, f.name, MappingProxyType(v))

    def __getstate__(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, MappingProxyType) else v)
                for k, v in self.__dict__.items()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, MappingProxyType(v) if isinstance(v, dict) else v)

    # ------------------------------------------------------------ conversions
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field (DataFrames as records, NaN as ``None``)."""
        return to_jsonable({f.name: getattr(self, f.name)
                            for f in dataclasses.fields(self)})  # type: ignore[arg-type]

    def to_frame(self) -> Any:
        """One row holding the scalar fields (numbers, text, flags)."""
        import pandas as pd

        return pd.DataFrame([{k: v for k, v in self._fields() if _is_scalar(v)}])

    # ------------------------------------------------------------ display
    def _fields(self) -> list[tuple[str, Any]]:
        return [(f.name, getattr(self, f.name))
                for f in dataclasses.fields(self)]  # type: ignore[arg-type]

    def _summary_lines(self) -> list[str]:
        """The lines of the short ``repr``: the class name with the scalar fields, then
        one line per table (its shape), mapping (its first keys) or nested result."""
        scalars = [f"{k} = {_fmt(v)}" for k, v in self._fields()
                   if _is_scalar(v) or v is None]
        head = _wrap(type(self).__name__ + ": ", scalars)
        nested = [(k, v) for k, v in self._fields() if not (_is_scalar(v) or v is None)]
        # nested results and mappings (fit measures, settings) first: they hold key numbers
        nested.sort(key=lambda kv: 0 if isinstance(kv[1], (Result, Mapping)) else 1)
        rest: list[str] = []
        for k, v in nested[:4]:
            if isinstance(v, Result):  # a nested result (fit measures): its numbers, 2 lines
                inner = [f"{n} = {_fmt(x)}" for n, x in v._fields() if _is_scalar(x)]
                lines = _wrap(f"  {k}: {type(v).__name__}: ", inner)[:2]
                rest += [_clip(line if i == 0 else "  " + line) for i, line in enumerate(lines)]
            else:
                rest.append(_clip(f"  {k}: {_describe(v)}"))
        if len(nested) > 4:
            rest.append(_clip("  also: " + ", ".join(k for k, _ in nested[4:])))
        return [*head, *rest]

    def __repr__(self) -> str:
        return "\n".join(self._summary_lines())

    def _repr_html_(self) -> str:
        lines = self._summary_lines()
        out = [f"<div><strong>{html.escape(lines[0])}</strong>"]
        if len(lines) > 1:
            out.append("<pre>" + html.escape("\n".join(x.strip() for x in lines[1:]))
                       + "</pre>")
        try:
            frame = self.to_frame()
        except Exception:  # noqa: BLE001 - a display must never fail
            frame = None
        if frame is not None and hasattr(frame, "to_html") and len(frame.columns):
            out.append(frame.head(20).to_html(index=False, max_cols=20, float_format=_g4))
            if len(frame) > 20:
                out.append(f"<p>... {len(frame)} rows</p>")
        out.append("</div>")
        return "".join(out)

    # ------------------------------------------------------------ plots
    def plot_svg(self, **options: Any) -> str:
        """The report's figure of this result as an SVG string (see :mod:`instrval.plot`).

        Raises ``TypeError`` for a result without a figure.
        """
        from instrval.plot import figure_svg

        return figure_svg(self, **options)

    def plot(self, **options: Any) -> Any:
        """The same figure as a matplotlib ``Figure`` (needs the ``plot`` extra)."""
        from instrval.plot import figure_matplotlib

        return figure_matplotlib(self, **options)


# ----------------------------------------------------------------------------- helpers
def _is_scalar(v: Any) -> bool:
    if isinstance(v, _SCALARS):
        return True
    np = sys.modules.get("numpy")
    return np is not None and isinstance(v, np.generic)


def _g4(v: Any) -> str:
    return f"{v:.4g}"


def _fmt(v: Any) -> str:
    if isinstance(v, str):
        return v if len(v) <= 40 else v[:39] + "\u2026"
    if isinstance(v, bool) or v is None:
        return str(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f.is_integer() and abs(f) < 1e15 and not isinstance(v, float):
        return str(int(f))
    return "nan" if math.isnan(f) else f"{f:.4g}"


def _describe(v: Any) -> str:
    if hasattr(v, "shape") and hasattr(v, "columns"):
        cols = [str(c) for c in list(v.columns)[:6]]
        more = ", ..." if len(v.columns) > 6 else ""
        return f"DataFrame {v.shape[0]} x {v.shape[1]} ({', '.join(cols)}{more})"
    if hasattr(v, "shape") and hasattr(v, "index"):
        return f"Series of {len(v)}"
    if hasattr(v, "shape"):
        return f"array {'x'.join(str(s) for s in v.shape)}"
    if isinstance(v, Result):
        return v._summary_lines()[0]
    if isinstance(v, Mapping):
        items = [f"{k}: {_fmt(x) if _is_scalar(x) or x is None else '...'}"
                 for k, x in list(v.items())[:5]]
        more = ", ..." if len(v) > 5 else ""
        return "{" + ", ".join(items) + more + "}"
    if isinstance(v, (tuple, list, set, frozenset)):
        shown = [_fmt(x) if _is_scalar(x) else type(x).__name__ for x in list(v)[:6]]
        more = ", ..." if len(v) > 6 else ""
        return "(" + ", ".join(shown) + more + ")" if shown else "()"
    text = type(v).__name__
    return text


def _clip(line: str) -> str:
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 4] + " ..."


def _wrap(first: str, parts: list[str]) -> list[str]:
    lines, cur = [], first
    for i, p in enumerate(parts):
        piece = p + (", " if i < len(parts) - 1 else "")
        if len(cur) + len(piece) > _MAX_LINE and cur.strip():
            lines.append(cur.rstrip())
            cur = "  " + piece
        else:
            cur += piece
    lines.append(cur.rstrip().rstrip(",").rstrip(":"))
    if len(lines) > 3:
        lines = [*lines[:3], "  ..."]
    return lines
