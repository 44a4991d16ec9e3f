"""Checked rating data for one instrument.

A :class:`RatingData` is what the rating readers (:mod:`instrval.io.ratings`) return once
an export has been checked against an instrument. It holds the accepted ratings in the
canonical wide layout, the quarantined rows with their reasons, every problem found, and
where the data came from. Statistics take a ``RatingData`` (or its ``data`` frame) and
never see unchecked input.

Canonical wide layout of ``data`` (one row per accepted rating):

* ``rating_id`` (string), ``respondent_id`` (string);
* ``date`` (datetime64, may be NaT) when the export had dates, and any grouping columns;
* one column per item of ``multi_select``, ``binary`` and ``likert`` constructs, named by
  the item id (nullable ``Int64``; ``<NA>`` = not presented or not answered);
* one column per ``single_choice`` construct, named by the construct id, holding the chosen
  level's item id (string; ``<NA>`` = not answered);
* one column per gate, named by the gate id, holding the chosen option (string;
  ``<NA>`` = not asked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from instrval.errors import Problem
from instrval.model.instrument import Construct, Instrument

__all__ = ["RatingData", "ID_COLUMNS", "QUARANTINE_COLUMNS", "expected_columns"]

#: Columns every canonical rating table starts with.
ID_COLUMNS = ("rating_id", "respondent_id")

#: Columns every quarantine table starts with (then the raw cells of the row).
QUARANTINE_COLUMNS = ("row", "reason", "message")


def expected_columns(instrument: Instrument) -> tuple[str, ...]:
    """The canonical answer columns, in instrument order (gate, then its construct)."""
    cols: list[str] = []
    for c in instrument.constructs:
        if c.gate is not None:
            cols.append(c.gate.id)
        if c.kind == "single_choice":
            cols.append(c.id)
        else:
            cols.extend(c.item_ids)
    return tuple(cols)


@dataclass(frozen=True)
class RatingData:
    """Accepted ratings, quarantined rows and problems for one instrument.

    Attributes
    ----------
    instrument : Instrument
    data : DataFrame
        Accepted ratings in the canonical wide layout (see the module docstring).
    quarantine : DataFrame
        Rows that could not be used: ``row`` (as in a spreadsheet, header = 1),
        ``reason`` (``;``-joined reason codes), ``message``, then the raw cells.
    problems : tuple of Problem
        Every problem found, errors and warnings.
    source : mapping
        Provenance: ``file``, ``format``, ``sha256``, ``rows_read`` and any reader details.
    """

    instrument: Instrument
    data: pd.DataFrame
    quarantine: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(QUARANTINE_COLUMNS)))
    problems: tuple[Problem, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------- counts
    @property
    def n_accepted(self) -> int:
        return len(self.data)

    @property
    def n_quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def n_read(self) -> int:
        """Rows read from the export (``accepted + quarantined``)."""
        return self.n_accepted + self.n_quarantined

    @property
    def n_respondents(self) -> int:
        return int(self.data["respondent_id"].nunique()) if len(self.data) else 0

    @property
    def has_dates(self) -> bool:
        return "date" in self.data.columns and bool(self.data["date"].notna().any())

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last rating date, or None without dates."""
        if not self.has_dates:
            return None
        d = self.data["date"].dropna()
        return d.min(), d.max()

    @property
    def group_columns(self) -> tuple[str, ...]:
        """Columns that are neither ids, date, items, constructs nor gates."""
        known = set(ID_COLUMNS) | {"date"} | set(self.value_columns())
        return tuple(c for c in self.data.columns if c not in known)

    # ------------------------------------------------------------- layout
    def value_columns(self) -> tuple[str, ...]:
        """The canonical answer columns for this instrument, in instrument order
        (:func:`expected_columns`)."""
        return expected_columns(self.instrument)

    def construct_columns(self, construct: Construct | str) -> tuple[str, ...]:
        """The answer columns of one construct (its items, or its own column)."""
        c = self.instrument.construct(construct) if isinstance(construct, str) else construct
        return (c.id,) if c.kind == "single_choice" else c.item_ids

    def gate_open(self, gate_id: str) -> pd.Series:
        """Boolean Series: True where the gate was answered with an opening option."""
        gate = self.instrument.gate(gate_id)
        col = self.data[gate.id]
        return col.isin(list(gate.open_when)).fillna(False).astype(bool)

    def presented(self, construct: Construct | str) -> pd.Series:
        """Boolean Series: True where the construct was presented to the rater.

        A construct was presented when its gate (if any) is open and at least one of its
        answer cells is not blank (a multi-select construct left with every box
        unticked is stored as zeros, not blanks).
        """
        c = self.instrument.construct(construct) if isinstance(construct, str) else construct
        cols = list(self.construct_columns(c))
        mask = self.data[cols].notna().any(axis=1)
        if c.gate is not None:
            mask &= self.gate_open(c.gate.id)
        return mask.astype(bool)

    def item_frame(self, items: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
        """Item columns as float (NaN for missing), for statistics on Likert/binary items.

        Parameters
        ----------
        items : list of str, optional
            Item ids; default: every item of ``likert``, ``binary`` and ``multi_select``
            constructs.
        """
        if items is None:
            items = [it.id for c in self.instrument.constructs if c.kind != "single_choice"
                     for it in c.items]
        return self.data[list(items)].astype("float64")

    def problems_frame(self) -> pd.DataFrame:
        """The problems as a table: file, row, column, value, reason, message, severity."""
        cols = ["file", "row", "column", "value", "reason", "message", "severity"]
        return pd.DataFrame([{k: getattr(p, k) for k in cols} for p in self.problems],
                            columns=cols)

    def summary(self) -> dict[str, Any]:
        """Counts a reader prints: read, accepted, quarantined, respondents, dates,
        ratings presenting each construct, and ratings opening each gate."""
        dr = self.date_range()
        return {
            "read": self.n_read,
            "accepted": self.n_accepted,
            "quarantined": self.n_quarantined,
            "respondents": self.n_respondents,
            "date_min": dr[0].date().isoformat() if dr else None,
            "date_max": dr[1].date().isoformat() if dr else None,
            "presented": {c.id: int(self.presented(c).sum())
                          for c in self.instrument.constructs},
            "gates_open": {g.id: int(self.gate_open(g.id).sum())
                           for g in self.instrument.gates},
        }
