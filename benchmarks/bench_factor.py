"""Timings for factor analysis: EFA minres/oblimin 5 factors on bfi (vs R psych::fa in the
same run, when Rscript is available), parallel analysis with 100 iterations, omega.

Run from the repository root:  python benchmarks/bench_factor.py
Prints medians of several runs (milliseconds).
"""

from __future__ import annotations

from functools import partial

from _harness import median_ms, read_data, run_r

from instrval.stats.dimensionality import kmo, parallel_analysis, velicer_map
from instrval.stats.efa import efa
from instrval.stats.omega import omega

BFI = read_data("bfi.csv", index_col=0).iloc[:, :25]
#: Median of 15 runs after 2 warm-up runs, in milliseconds.
ms = partial(median_ms, repeats=15, warmup=2)


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
        ("efa minres/oblimin 5 factors, bfi (pairwise)", ms(lambda: efa(BFI, n_factors=5))),
        ("efa ml/promax 5 factors, bfi", ms(
            lambda: efa(BFI, n_factors=5, method="ml", rotation="promax"))),
        ("efa pa/varimax 5 factors, bfi", ms(
            lambda: efa(BFI, n_factors=5, method="pa", rotation="varimax"))),
        ("kmo bfi", ms(lambda: kmo(BFI))),
        ("velicer_map bfi", ms(lambda: velicer_map(BFI))),
        ("omega 5 factors bfi", ms(lambda: omega(BFI, n_factors=5))),
        ("parallel_analysis 100 iterations bfi", ms(
            lambda: parallel_analysis(BFI, n_iter=100, seed=1), repeats=5, warmup=1)),
    ]
    for name, t in rows:
        print(f"{name:<45} {t:9.1f} ms")
    out = run_r(R_CODE)
    if out is not None:
        vals = out.stdout.split()
        if len(vals) >= 2:
            print(f"{'R psych::fa minres/oblimin 5 factors, bfi':<45} {float(vals[0]):9.1f} ms")
            print(f"{'R psych::fa.parallel n.iter=100, bfi':<45} {float(vals[1]):9.1f} ms")
        else:  # pragma: no cover
            print("R timing failed:", out.stderr.strip()[:200])


if __name__ == "__main__":
    main()
