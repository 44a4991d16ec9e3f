"""Shared test fixtures: the small real data sets in tests/data and the command line.

The data fixtures are read once per session and shared: treat them as read-only (take a
``.copy()`` before changing one).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def bfi() -> pd.DataFrame:
    """tests/data/bfi.csv: 2,800 rows, items A1..O5 (1-6), gender, education, age."""
    return pd.read_csv(DATA / "bfi.csv", index_col=0)


@pytest.fixture(scope="session")
def bfi_items(bfi: pd.DataFrame) -> pd.DataFrame:
    """The 25 bfi items A1..O5."""
    return bfi.iloc[:, :25]


@pytest.fixture(scope="session")
def hs() -> pd.DataFrame:
    """tests/data/HolzingerSwineford1939.csv (lavaan's example data)."""
    return pd.read_csv(DATA / "HolzingerSwineford1939.csv")


@pytest.fixture(scope="session")
def shrout_fleiss() -> pd.DataFrame:
    """tests/data/shrout_fleiss.csv: Shrout & Fleiss (1979), 6 targets x 4 judges."""
    return pd.read_csv(DATA / "shrout_fleiss.csv", index_col=0)


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """``run_cli(*args, **kwargs)``: invoke ``instrval`` (arguments as text) in-process."""
    from instrval.cli import main

    def run(*args: Any, **kwargs: Any) -> Result:
        return CliRunner().invoke(main, [str(a) for a in args], **kwargs)

    return run


@pytest.fixture
def cli_json(run_cli: Callable[..., Result]) -> Callable[..., Any]:
    """``cli_json(*args)``: run ``instrval *args``, check it exits with 0 and return the JSON
    it printed."""

    def run(*args: Any) -> Any:
        out = run_cli(*args)
        assert out.exit_code == 0, out.output
        return json.loads(out.output)

    return run
