"""The command line starts fast: importing it, ``--help`` and ``instrument check`` load no
numerical library and no statistics.

Every command module imports pandas, numpy, scipy, the readers and the statistics inside
its command functions, so that ``instrval --help`` does not pay for them (about 1 s).
Each check runs in a fresh interpreter, since this test process has imported them already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IAM = ROOT / "instruments" / "iam" / "iam-2011.yaml"

#: Module name prefixes that must not be loaded by start-up.
HEAVY = ("scipy", "pandas", "numpy", "instrval.stats", "instrval.qual", "instrval.integrate",
         "instrval.pipeline", "instrval.report", "instrval.io.tables", "instrval.io.ratings",
         "instrval.io.coding")

PROBE = """
import json, sys
{code}
heavy = {heavy!r}
print(json.dumps(sorted(m for m in sys.modules
                        if any(m == h or m.startswith(h + ".") for h in heavy))))
"""


def _loaded_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(code=code, heavy=HEAVY)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_cli_loads_no_heavy_module():
    assert _loaded_after("import instrval.cli") == []


@pytest.mark.parametrize("args", [
    ["--help"],
    ["instrument", "--help"],
    ["ratings", "check", "--help"],
    ["instrument", "check", str(IAM)],
    ["instrument", "check", "--json", str(IAM)],
], ids=["help", "instrument-help", "ratings-check-help", "instrument-check",
        "instrument-check-json"])
def test_light_commands_load_no_heavy_module(args):
    code = ("import contextlib, io\n"
            "from instrval.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    main({args!r}, standalone_mode=False)\n")
    assert _loaded_after(code) == []


def test_heavy_modules_still_load_when_a_command_needs_them():
    """The probe can see them: a statistics command does import pandas and the stats."""
    code = ("import contextlib, io\n"
            "from instrval.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    main(['icc', {str(ROOT / 'tests/data/shrout_fleiss.csv')!r}, '--json'],"
            " standalone_mode=False)\n")
    loaded = _loaded_after(code)
    assert "pandas" in loaded and "instrval.stats.icc" in loaded
