"""`instrval` commands: ratings."""

from __future__ import annotations

from instrval.cli._base import main  # noqa: F401
