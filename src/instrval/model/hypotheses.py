"""Hypotheses for construct validity and responsiveness (plain immutable types).

A hypothesis states, before the data are seen, what a scale score should do:

* ``correlation``: correlate with another variable (``other``) in a ``direction``
  (positive, negative or any) with an absolute size of at least ``min`` and/or below
  ``max`` (e.g. ``r >= .50`` with a measure of the same construct, ``|r| < .30`` with an
  unrelated one; Prinsen et al. 2018);
* ``known_groups``: be higher in one group (``higher``) than another (``lower``) of the
  column ``group``, by a standardised difference (Hedges' g) of at least ``min`` and/or a
  raw mean difference of at least ``min_diff``;
* ``auc``: discriminate the ``positive`` value of ``group`` from the others with an area
  under the ROC curve of at least ``min`` (responsiveness with an anchor of change).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Hypothesis", "HYPOTHESIS_TYPES", "DIRECTIONS"]

HYPOTHESIS_TYPES = ("correlation", "known_groups", "auc")
DIRECTIONS = ("positive", "negative", "any")


@dataclass(frozen=True)
class Hypothesis:
    """One hypothesis (see the module docstring)."""

    id: str
    type: str
    scale: str
    other: str | None = None
    group: str | None = None
    higher: Any = None
    lower: Any = None
    positive: Any = None
    direction: str = "positive"
    min: float | None = None
    max: float | None = None
    min_diff: float | None = None
    method: str = "pearson"
    description: str | None = None

    def expected(self) -> str:
        """The expectation in words, e.g. ``r >= 0.30`` or ``g >= 0.50 (high > low)``."""
        if self.type == "correlation":
            sym = {"positive": "r", "negative": "-r", "any": "|r|"}[self.direction]
            parts = []
            if self.min is not None:
                parts.append(f"{sym} >= {self.min:.2f}")
            if self.max is not None:
                parts.append(f"|r| < {self.max:.2f}")
            if not parts:
                parts.append({"positive": "r > 0", "negative": "r < 0",
                              "any": "any r"}[self.direction])
            return " and ".join(parts)
        if self.type == "known_groups":
            parts = []
            if self.min is not None:
                parts.append(f"g >= {self.min:.2f}")
            if self.max is not None:
                parts.append(f"g < {self.max:.2f}")
            if self.min_diff is not None:
                parts.append(f"difference >= {self.min_diff:g}")
            if not parts:
                parts.append("difference > 0")
            return " and ".join(parts) + f" ({self.higher} > {self.lower})"
        lim = self.min if self.min is not None else 0.70
        return f"AUC >= {lim:.2f} ({self.group} = {self.positive})"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}
