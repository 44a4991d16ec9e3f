"""Timings for ordinal CFA by WLSMV (vs R lavaan in the same run when Rscript is available).

Target: the bfi 5-factor model on the 25 ordered items (2436 complete rows, 125 thresholds,
300 polychoric correlations, a 425 x 425 Gamma) faster than lavaan's
``cfa(model, data, ordered = TRUE, estimator = "WLSMV")`` (about 1.8 s on an idle machine).

Run from the repository root:  python benchmarks/bench_cfa_ordinal.py [--no-r]
Prints medians of several runs (milliseconds).
"""

from __future__ import annotations

import sys
import warnings

from _harness import median_ms, read_data, run_r

from instrval.stats.cfa_ordinal import cfa_ordinal

BFI = read_data("bfi.csv", index_col=0)
A = [f"A{i}" for i in range(1, 6)]
C = [f"C{i}" for i in range(1, 6)]
BFI_MODEL = {f: [c + str(i) for i in range(1, 6)]
             for f, c in zip(["agree", "consc", "extra", "neuro", "open"], "ACENO", strict=True)}

R_CODE = r"""
suppressPackageStartupMessages(library(lavaan))
bfi <- read.csv("tests/data/bfi.csv", row.names = 1)
med <- function(expr, k) median(replicate(k, system.time(eval(expr))[["elapsed"]])) * 1000
m1 <- "A =~ A1 + A2 + A3 + A4 + A5"
m5 <- "agree =~ A1 + A2 + A3 + A4 + A5
       consc =~ C1 + C2 + C3 + C4 + C5
       extra =~ E1 + E2 + E3 + E4 + E5
       neuro =~ N1 + N2 + N3 + N4 + N5
       open =~ O1 + O2 + O3 + O4 + O5"
d1 <- bfi[, 1:5]; d5 <- bfi[, 1:25]
cat(sprintf("R lavaan WLSMV A1-A5, 1 factor          %9.1f ms\n",
            med(quote(cfa(m1, data = d1, ordered = TRUE, estimator = "WLSMV")), 5)))
cat(sprintf("R lavaan WLSMV bfi25, 5 factors         %9.1f ms\n",
            med(quote(cfa(m5, data = d5, ordered = TRUE, estimator = "WLSMV")), 3)))
"""


def main() -> None:
    warnings.simplefilter("ignore")
    rows = [
        ("instrval WLSMV A1-A5, 1 factor", lambda: cfa_ordinal(BFI, {"A": A})),
        ("instrval WLSMV A+C, 2 factors", lambda: cfa_ordinal(BFI, {"A": A, "C": C})),
        ("instrval WLSMV bfi25, 5 factors", lambda: cfa_ordinal(BFI, BFI_MODEL)),
    ]
    for name, fn in rows:
        print(f"{name:40s} {median_ms(fn):9.1f} ms")
    out = None if "--no-r" in sys.argv else run_r(R_CODE)
    if out is not None:
        print(out.stdout.rstrip() or out.stderr.rstrip())


if __name__ == "__main__":
    main()
