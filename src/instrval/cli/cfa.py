"""`instrval` commands: cfa."""

from __future__ import annotations

from instrval.cli._base import main  # noqa: F401
