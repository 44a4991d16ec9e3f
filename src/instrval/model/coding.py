"""Coded interview segments and the codebook that gives codes their meaning.

A :class:`CodingData` is what :func:`instrval.io.coding.read_coding` returns once a coding
table (or a Taguette, QualCoder or REFI-QDA export) has been checked: the accepted coded
segments in one canonical layout, the quarantined rows with their reasons, every problem
found, and where the data came from. A :class:`Codebook` maps each code to an item and/or
a construct of the instrument and to a judgement category.

Canonical layout of ``segments`` (one row per coding: a segment, a code, a coder):

* ``segment_id`` (the coded stretch of text; the same id for the same stretch coded by
  several coders or with several codes), ``participant``, ``document``, ``text`` (verbatim,
  untrusted: escape it when rendering), ``code``, ``coder`` (``<NA>`` when the export has no
  coders);
* ``item_id``, ``construct_id``: from the row or the codebook (``<NA>`` when the code maps
  to neither); ``construct_id`` is filled from the instrument when only the item is known;
* ``theme``: an inductive theme (from the row or the codebook);
* ``category``: one of :data:`CATEGORIES` (``<NA>`` when unknown), ``subcategory``
  (e.g. ``unclear``, ``misread``, ``irrelevant`` under ``challenges``);
* ``row``: where the coding came from (spreadsheet row, header = 1; for XML projects the
  1-based number of the coding in document order).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from instrval.errors import Problem

__all__ = [
    "CATEGORIES",
    "CHALLENGE_SUBCATEGORIES",
    "SEGMENT_COLUMNS",
    "QUARANTINE_COLUMNS",
    "CodebookEntry",
    "Codebook",
    "CodingData",
    "empty_segments",
]

#: Judgement categories a code can carry.
#: ``supports``: the participant's account fits the item's definition (supports its
#: representativeness); ``challenges``: the item was unclear, misread or irrelevant to the
#: construct; ``wording``: a wording suggestion; ``missing_concept``: something the
#: construct should cover that no item does; ``other``: anything else.
CATEGORIES = ("supports", "challenges", "wording", "missing_concept", "other")

#: Suggested subcategories of ``challenges`` (any text is accepted).
CHALLENGE_SUBCATEGORIES = ("unclear", "misread", "irrelevant")

#: Columns of :attr:`CodingData.segments`, in order.
SEGMENT_COLUMNS = ("segment_id", "participant", "document", "text", "code", "coder",
                   "item_id", "construct_id", "theme", "category", "subcategory", "row")

#: Columns every quarantine table starts with (then the raw cells of the row).
QUARANTINE_COLUMNS = ("row", "reason", "message")


def empty_segments() -> pd.DataFrame:
    """An empty segments table with the canonical columns and dtypes."""
    df = pd.DataFrame({c: pd.Series(dtype="string") for c in SEGMENT_COLUMNS})
    df["row"] = df["row"].astype("Int64")
    return df


@dataclass(frozen=True)
class CodebookEntry:
    """What one code means.

    Attributes
    ----------
    code : str
    category : str or None
        One of :data:`CATEGORIES`; None when the codebook does not say.
    item_id, construct_id : str or None
        The item and/or construct the code is about (deductive codes).
    subcategory : str or None
        E.g. ``misread`` for a ``challenges`` code.
    theme : str or None
        The inductive theme the code belongs to.
    description : str or None
    line : int or None
        Where the code is defined (line or row), for messages.
    """

    code: str
    category: str | None = None
    item_id: str | None = None
    construct_id: str | None = None
    subcategory: str | None = None
    theme: str | None = None
    description: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("code", "category", "item_id", "construct_id",
                                                "subcategory", "theme", "description")}


@dataclass(frozen=True)
class Codebook:
    """Codes and what they mean (see :func:`instrval.io.coding.read_codebook`).

    Examples
    --------
    >>> cb = Codebook.from_entries([CodebookEntry("reassured_ok", "supports", "ci_reassured")])
    >>> cb["reassured_ok"].item_id
    'ci_reassured'
    """

    entries: Mapping[str, CodebookEntry]
    file: str | None = None
    instrument: str | None = None

    @classmethod
    def from_entries(cls, entries: list[CodebookEntry] | tuple[CodebookEntry, ...], *,
                     file: str | None = None, instrument: str | None = None) -> Codebook:
        return cls({e.code: e for e in entries}, file=file, instrument=instrument)

    def __contains__(self, code: object) -> bool:
        return code in self.entries

    def __getitem__(self, code: str) -> CodebookEntry:
        return self.entries[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.entries)

    def get(self, code: str) -> CodebookEntry | None:
        return self.entries.get(code)

    def to_frame(self) -> pd.DataFrame:
        """One row per code: code, category, item_id, construct_id, subcategory, theme,
        description."""
        cols = ["code", "category", "item_id", "construct_id", "subcategory", "theme",
                "description"]
        return pd.DataFrame([e.to_dict() for e in self.entries.values()], columns=cols)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "instrument": self.instrument,
                "codes": [e.to_dict() for e in self.entries.values()]}


@dataclass(frozen=True)
class CodingData:
    """Accepted coded segments, quarantined rows and problems.

    Attributes
    ----------
    segments : DataFrame
        Accepted codings in the canonical layout (see the module docstring).
    quarantine : DataFrame
        Rows that could not be used: ``row`` (as in a spreadsheet, header = 1),
        ``reason`` (``;``-joined reason codes), ``message``, then the raw cells.
    problems : tuple of Problem
        Every problem found, errors and warnings.
    source : mapping
        Provenance: ``file``, ``format``, ``sha256``, ``rows_read`` and reader details.
    codebook : Codebook or None
        The codebook the categories were resolved from.
    instrument : str or None
        ``id@version`` of the instrument the rows were checked against.
    """

    segments: pd.DataFrame = field(default_factory=empty_segments)
    quarantine: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(QUARANTINE_COLUMNS)))
    problems: tuple[Problem, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict)
    codebook: Codebook | None = None
    instrument: str | None = None

    @property
    def n_accepted(self) -> int:
        return len(self.segments)

    @property
    def n_quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def n_read(self) -> int:
        """Rows read (``accepted + quarantined``)."""
        return self.n_accepted + self.n_quarantined

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity != "error")

    @property
    def participants(self) -> tuple[str, ...]:
        return tuple(sorted(self.segments["participant"].dropna().unique()))

    @property
    def coders(self) -> tuple[str, ...]:
        return tuple(sorted(self.segments["coder"].dropna().unique()))

    def summary(self) -> dict[str, Any]:
        """Counts for people and JSON: rows, segments, participants, coders, codes."""
        seg = self.segments
        return {
            "file": self.source.get("file"),
            "format": self.source.get("format"),
            "sha256": self.source.get("sha256"),
            "rows_read": int(self.n_read),
            "accepted": int(self.n_accepted),
            "quarantined": int(self.n_quarantined),
            "segments": int(seg["segment_id"].nunique()),
            "participants": len(self.participants),
            "coders": list(self.coders),
            "codes": int(seg["code"].nunique()),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }
