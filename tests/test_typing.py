"""mypy on the modules that every layer uses (the result protocol, the converter, the
option checks, the figures): they type-check clean with the project's configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ["src/instrval/_result.py", "src/instrval/_choices.py", "src/instrval/_jsonable.py",
         "src/instrval/errors.py", "src/instrval/plot"]


@pytest.mark.slow
def test_leaf_modules_type_check():
    import mypy  # noqa: F401 - in the test extra: missing means a broken install, not a skip
    res = subprocess.run([sys.executable, "-m", "mypy", "--follow-imports=silent",
                          "--no-incremental", *CLEAN],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
