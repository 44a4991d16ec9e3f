"""The timing harness the in-process benchmarks share.

The benchmark scripts run as ``python benchmarks/bench_<topic>.py`` (this folder is then
first on ``sys.path``) and import what they need from here: the repository root, the test
data sets, a median timer and the R runner for side-by-side timings.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "read_data", "timings", "median_ms", "run_r"]

#: The repository root (benchmarks read tests/data and instruments/ from it).
ROOT = Path(__file__).resolve().parents[1]


def read_data(name: str, **kwargs: Any) -> Any:
    """``pandas.read_csv(tests/data/NAME, **kwargs)``."""
    import pandas as pd

    return pd.read_csv(ROOT / "tests" / "data" / name, **kwargs)


def timings(fn: Callable[[], Any], repeats: int = 7, warmup: int = 0) -> list[float]:
    """Wall times in seconds of ``repeats`` calls of ``fn``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def median_ms(fn: Callable[[], Any], repeats: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn`` in milliseconds (see :func:`timings`)."""
    return statistics.median(timings(fn, repeats, warmup)) * 1000.0


def run_r(code: str) -> subprocess.CompletedProcess[str] | None:
    """Run R code with ``Rscript -e`` from the repository root; None without Rscript."""
    if not shutil.which("Rscript"):
        return None
    return subprocess.run(["Rscript", "-e", code], cwd=ROOT, capture_output=True, text=True,
                          check=False)
