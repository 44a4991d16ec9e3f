"""The command line starts fast: importing it, ``--help`` and ``instrument check`` load no
numerical library and no statistics; a statistics command loads only what it uses.

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
BFI = ROOT / "tests" / "data" / "bfi.csv"
BFI_INST = ROOT / "instruments" / "bfi" / "bfi-1.0.yaml"

#: Module name prefixes that must not be loaded by start-up.
HEAVY = ("scipy", "pandas", "numpy", "instrval.stats", "instrval.qual", "instrval.integrate",
         "instrval.pipeline", "instrval.report", "instrval.io.tables", "instrval.io.ratings",
         "instrval.io.coding", "jinja2", "duckdb", "pyarrow", "dask", "matplotlib",
         "threadpoolctl")

PROBE = """
import json, sys
{code}
heavy = {heavy!r}
print(json.dumps(sorted(m for m in sys.modules
                        if any(m == h or m.startswith(h + ".") for h in heavy))))
"""


def _loaded_after(code: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(code=code, heavy=heavy)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_command(args: list[str]) -> str:
    return ("import contextlib, io\n"
            "from instrval.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    main({args!r}, standalone_mode=False)\n")


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


#: Heavy libraries no statistics command on its own needs: the distribution functions
#: come from ``scipy.special`` (``instrval.stats._dist``), the optimisers are imported
#: by the function that runs them, report, engines and plots only by their commands.
NOT_FOR_STATISTICS = ("scipy.stats", "jinja2", "duckdb", "dask", "matplotlib",
                      "instrval.report", "instrval.pipeline", "instrval.io.engine",
                      "instrval.io.dask_engine", "instrval.plot")


@pytest.mark.parametrize(("args", "absent", "present"), [
    (["reliability", str(BFI), "--instrument", str(BFI_INST), "--construct",
      "agreeableness", "--json"],
     ("scipy.optimize", "scipy.linalg", "instrval.stats.efa", "instrval.stats.sem"),
     ("instrval.stats.reliability", "scipy.special")),
    (["reliability", str(BFI), "--items", "A1,A2,A3,A4,A5", "--reverse", "A1"],
     ("scipy.optimize", "scipy.linalg"), ("instrval.stats.reliability",)),
    (["efa", str(BFI), "--instrument", str(BFI_INST), "--factors", "5", "--json"],
     ("instrval.stats.sem", "instrval.stats.cfa"),
     ("instrval.stats.efa", "scipy.optimize")),
    (["cfa", str(BFI), "--instrument", str(BFI_INST), "--json"],
     ("instrval.stats.cfa_ordinal", "instrval.stats.efa"),
     ("instrval.stats.cfa", "instrval.stats.sem.ml")),
], ids=["alpha-instrument", "alpha-items", "efa", "cfa-ml"])
def test_statistics_commands_load_only_what_they_use(args, absent, present):
    heavy = NOT_FOR_STATISTICS + absent + present
    loaded = _loaded_after(_run_command(args), heavy)
    assert [m for m in loaded
            if not any(m == p or m.startswith(p + ".") for p in present)] == []
    assert set(present) <= set(loaded)  # the probe sees the modules the command does use


def test_instrval_process_freezes_objects_at_exit():
    """The ``instrval`` process collects its young objects less often and skips walking
    its objects at exit (gc.freeze, after the exit handlers registered while it runs);
    importing the command line from another program leaves the collector alone."""
    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: print('exit', gc.get_freeze_count() > 0,"
            " gc.get_threshold()[0] >= 100_000, flush=True))\n"
            "print('start', gc.get_freeze_count() > 0, gc.get_threshold()[0] >= 100_000)\n"
            "from instrval.__main__ import run\n"
            "sys.argv = ['instrval', '--version']\n"
            "run()\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out[0] == "start False False" and out[-1] == "exit True True"
    plain = ("import gc\nbefore = gc.get_threshold()\nimport instrval.cli\n"
             "print(gc.get_threshold() == before, gc.get_freeze_count() == 0)")
    assert subprocess.run([sys.executable, "-c", plain], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip() == "True True"
