"""Timings for factor analysis: EFA minres/oblimin 5 factors on bfi (vs R psych::fa in the
same run, when Rscript is available), parallel analysis with 100 iterations, omega.

Run from the repository root:  python benchmarks/bench_factor.py
Prints medians of several runs (milliseconds).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from pathlib import Path

import pandas as pd

from instrval.stats.dimensionality import kmo, parallel_analysis, velicer_map
from instrval.stats.efa import efa
from instrval.stats.omega import omega

ROOT = Path(__file__).resolve().parents[1]
BFI = pd.read_csv(ROOT / "tests/data/bfi.csv", index_col=0).iloc[:, :25]


def median_ms(fn, repeats: int = 15, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


R_CODE = """
suppressPackageStartupMessages(library(psych))
x <- read.csv("tests/data/bfi.csv", row.names = 1)[, 1:25]
invisible(fa(x, 5))
t <- sapply(1:15, function(i) system.time(fa(x, 5))[["elapsed"]])
cat(median(t) * 1000, "\\n")
set.seed(1)
t2 <- system.time(invisible(capture.output(fa.parallel(x, n.iter = 100, plot = FALSE))))[["elapsed"]]
cat(t2 * 1000, "\\n")
"""


def main() -> None:
    rows = [
        ("efa minres/oblimin 5 factors, bfi (pairwise)", median_ms(lambda: efa(BFI, n_factors=5))),
        ("efa ml/promax 5 factors, bfi", median_ms(
            lambda: efa(BFI, n_factors=5, method="ml", rotation="promax"))),
        ("efa pa/varimax 5 factors, bfi", median_ms(
            lambda: efa(BFI, n_factors=5, method="pa", rotation="varimax"))),
        ("kmo bfi", median_ms(lambda: kmo(BFI))),
        ("velicer_map bfi", median_ms(lambda: velicer_map(BFI))),
        ("omega 5 factors bfi", median_ms(lambda: omega(BFI, n_factors=5))),
        ("parallel_analysis 100 iterations bfi", median_ms(
            lambda: parallel_analysis(BFI, n_iter=100, seed=1), repeats=5, warmup=1)),
    ]
    for name, ms in rows:
        print(f"{name:<45} {ms:9.1f} ms")
    if shutil.which("Rscript"):
        out = subprocess.run(["Rscript", "-e", R_CODE], cwd=ROOT, capture_output=True,
                             text=True, check=False)
        vals = out.stdout.split()
        if len(vals) >= 2:
            print(f"{'R psych::fa minres/oblimin 5 factors, bfi':<45} {float(vals[0]):9.1f} ms")
            print(f"{'R psych::fa.parallel n.iter=100, bfi':<45} {float(vals[1]):9.1f} ms")
        else:  # pragma: no cover
            print("R timing failed:", out.stderr.strip()[:200])


if __name__ == "__main__":
    main()
