"""mypy on the whole package: it type-checks clean with the project's configuration
(``[tool.mypy]`` in pyproject.toml), so the test suite enforces the annotations."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "instrval"

#: Modules not yet type-clean, checked only as imports of the others (errors inside them
#: are not reported). Empty: every module is clean; a module listed here must exist.
NOT_YET_CLEAN: tuple[str, ...] = ()


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_package_type_checks():
    import mypy  # noqa: F401 - in the test extra: missing means a broken install, not a skip
    exclude = "|".join(re.escape(f"src/instrval/{m}") + "$" for m in NOT_YET_CLEAN)
    args = ["--follow-imports=silent", "src/instrval"]
    if exclude:
        args[:0] = ["--exclude", exclude]
    res = _mypy(*args)
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-2000:]
    # every module of the package was checked except the listed ones
    checked = re.search(r"in (\d+) source files?", res.stdout)
    assert checked, res.stdout
    n_files = sum(1 for _ in PACKAGE.rglob("*.py"))
    assert int(checked.group(1)) == n_files - len(NOT_YET_CLEAN)


def test_exclude_list_names_existing_modules():
    for m in NOT_YET_CLEAN:
        assert (PACKAGE / m).is_file(), m
