"""Errors and warnings raised by instrval.

Every error instrval raises on bad input is an :class:`InstrvalError`. It carries the
list of :class:`Problem` records found (all of them, not just the first), each naming
the file, the place in it (row and column for tables, key path and line for YAML/JSON),
the offending value and a reason code, so that a user can fix everything in one pass.
The command-line interface prints these messages and exits with a non-zero status;
it never shows a traceback for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "Problem",
    "InstrvalError",
    "InstrumentError",
    "RatingsError",
    "CodingError",
    "PanelError",
    "StudyError",
    "PublishError",
    "ExportError",
    "StatisticsError",
    "InstrvalWarning",
    "ConvergenceWarning",
    "HeywoodWarning",
    "SmoothingWarning",
    "DataQualityWarning",
]


@dataclass(frozen=True)
class Problem:
    """One problem found in an input.

    Attributes
    ----------
    reason : str
        A stable, machine-readable reason code such as ``"duplicate_id"`` or
        ``"out_of_range"``.
    message : str
        A sentence for people.
    file : str, optional
        The file the problem is in.
    row : int, optional
        The row as a user sees it in a spreadsheet (the header is row 1, the first data
        row is row 2), for tabular inputs.
    column : str, optional
        The column name, for tabular inputs.
    key : str, optional
        The key path (``constructs[2].items[0].id``), for YAML/JSON inputs.
    line : int, optional
        The 1-based line in the file, where the parser knows it.
    value : object, optional
        The offending value, as read.
    severity : {"error", "warning"}
        Errors make a row or file unusable; warnings are reported and nothing is dropped.
    """

    reason: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    key: str | None = None
    line: int | None = None
    value: Any = None
    severity: str = "error"

    def location(self) -> str:
        """Return ``file:line`` / ``file, row R, column C`` style text for this problem."""
        parts: list[str] = []
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        if where:
            parts.append(where)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.key is not None:
            parts.append(f"at {self.key}")
        return ", ".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message

    def to_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-friendly dict."""
        d = asdict(self)
        v = d["value"]
        if v is not None and not isinstance(v, (str, int, float, bool)):
            d["value"] = str(v)
        return d


class InstrvalError(Exception):
    """Base class of instrval's errors about inputs and arguments.

    Parameters
    ----------
    message : str
        A summary line.
    problems : sequence of Problem, optional
        Every problem found. ``str(error)`` lists them all.
    """

    def __init__(self, message: str, problems: Sequence[Problem] | None = None):
        super().__init__(message)
        self.summary = message
        self.problems: list[Problem] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.summary
        lines = [self.summary]
        lines.extend(f"  - {p}" for p in self.problems)
        return "\n".join(lines)

    @classmethod
    def from_problems(cls, problems: Iterable[Problem], what: str) -> InstrvalError:
        """Build an error whose summary counts the problems found in ``what``."""
        problems = list(problems)
        n = len(problems)
        noun = "problem" if n == 1 else "problems"
        return cls(f"{n} {noun} in {what}", problems)


class InstrumentError(InstrvalError):
    """An instrument definition file is malformed or inconsistent."""


class RatingsError(InstrvalError):
    """A rating export cannot be read or contains nothing usable."""


class CodingError(InstrvalError):
    """A coding table, codebook or qualitative-analysis project cannot be used."""


class PanelError(InstrvalError):
    """An expert-panel file cannot be used."""


class StudyError(InstrvalError):
    """A study file is malformed, or names inputs that cannot be used."""


class PublishError(InstrvalError):
    """Publishing to an instrument registry was refused."""


class ExportError(InstrvalError):
    """An instrument cannot be exported to, or imported from, a survey platform format."""


class StatisticsError(InstrvalError):
    """A statistic cannot be computed from the data given (too few rows, a constant item...)."""


class InstrvalWarning(UserWarning):
    """Base class of instrval's warnings."""


class ConvergenceWarning(InstrvalWarning):
    """An iterative estimate did not converge; the result carries a flag too."""


class HeywoodWarning(InstrvalWarning):
    """A communality reached or exceeded 1 (a Heywood case); the result carries a flag too."""


class SmoothingWarning(InstrvalWarning):
    """A correlation matrix was not positive definite and was smoothed."""


class DataQualityWarning(InstrvalWarning):
    """Input data has problems that did not stop the analysis (quarantined rows, etc.)."""
