"""Timings for polychoric/tetrachoric correlations and ML CFA (vs R psych/lavaan in the same
run when Rscript is available).

Targets: polychoric matrix of the 25 bfi items <= 0.5 s (psych ~2.7 s on one core);
Holzinger-Swineford 3-factor CFA (lavaan ~35-50 ms).

Run from the repository root:  python benchmarks/bench_polychoric_cfa.py
Prints medians of several runs (milliseconds).
"""

from __future__ import annotations

import warnings

from _harness import median_ms, read_data, run_r

from instrval.stats.cfa import cfa
from instrval.stats.polychoric import polychoric, tetrachoric

BFI = read_data("bfi.csv", index_col=0)
HS = read_data("HolzingerSwineford1939.csv")
ABILITY = read_data("ability.csv")
HS_MODEL = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
            "speed": ["x7", "x8", "x9"]}
BFI_MODEL = {f: [c + str(i) for i in range(1, 6)]
             for f, c in zip(["agree", "consc", "extra", "neuro", "open"], "ACENO", strict=True)}

R_CODE = r"""
suppressPackageStartupMessages({library(psych); library(lavaan)})
bfi <- read.csv("tests/data/bfi.csv", row.names = 1); hs <- read.csv("tests/data/HolzingerSwineford1939.csv")
options(mc.cores = 1)
med <- function(expr, k) median(replicate(k, system.time(eval(expr))[["elapsed"]])) * 1000
m <- "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
cat(sprintf("R polychoric bfi25 (1 core)    %8.1f ms\n", med(quote(polychoric(bfi[, 1:25])), 3)))
cat(sprintf("R polychoric A1-A5             %8.1f ms\n", med(quote(polychoric(bfi[, 1:5])), 5)))
cat(sprintf("R lavaan cfa HS                %8.1f ms\n", med(quote(cfa(m, data = hs)), 10)))
"""


def main() -> None:
    warnings.simplefilter("ignore")
    rows = [
        ("polychoric bfi25 (300 pairs)", lambda: polychoric(BFI.iloc[:, :25])),
        ("polychoric A1-A5", lambda: polychoric(BFI.iloc[:, :5])),
        ("tetrachoric ability (16 items)", lambda: tetrachoric(ABILITY)),
        ("cfa HS 3 factors (ML)", lambda: cfa(HS, HS_MODEL)),
        ("cfa bfi 5 factors (ML)", lambda: cfa(BFI, BFI_MODEL)),
    ]
    for name, fn in rows:
        print(f"instrval {name:<32s}{median_ms(fn):8.1f} ms")
    out = run_r(R_CODE)
    if out is not None:
        print(out.stdout.rstrip() or out.stderr.rstrip())


if __name__ == "__main__":
    main()
