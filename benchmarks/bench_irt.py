"""Timings for item response models (vs R eRm in the same run when Rscript is available).

Rasch family (conditional ML): raschdat1 (100 x 30 binary), bfi N1-N5 (2800 x 5, six
categories, missing answers) by PCM and RSM; each timed for the item parameters alone
(eRm ``RM``/``PCM``/``RSM``) and for the whole analysis (parameters, person parameters,
item fit and Andersen's LR test: eRm ``person.parameter`` + ``itemfit`` + ``LRtest``).
2PL and GRM (marginal ML) have no R counterpart installed; their times are given alone.

Run from the repository root:  python benchmarks/bench_irt.py [--no-r]
Prints medians of several runs (milliseconds).
"""

from __future__ import annotations

import sys
import warnings

from _harness import median_ms, read_data, run_r

from instrval.stats.irt import irt

BFI = read_data("bfi.csv", index_col=0)
RASCH = read_data("raschdat1.csv")
NEURO = BFI[["N1", "N2", "N3", "N4", "N5"]] - 1
NEURO_ROWS = NEURO.dropna(how="all")
ABILITY = read_data("ability.csv")

R_CODE = r"""
suppressPackageStartupMessages(library(eRm))
bfi <- read.csv("tests/data/bfi.csv", row.names = 1)
x <- bfi[, c("N1", "N2", "N3", "N4", "N5")] - 1
x <- x[rowSums(!is.na(x)) > 0, ]
med <- function(expr, k) median(replicate(k, system.time(eval(expr))[["elapsed"]])) * 1000
all_of <- function(fit) { pp <- person.parameter(fit); itemfit(pp); LRtest(fit) }
cat(sprintf("R eRm RM raschdat1 (100 x 30)            %9.1f ms\n", med(quote(RM(raschdat1)), 5)))
cat(sprintf("R eRm RM raschdat1, full analysis        %9.1f ms\n",
            med(quote(all_of(RM(raschdat1))), 3)))
cat(sprintf("R eRm PCM bfi N1-N5 (2800 x 5, NA)       %9.1f ms\n", med(quote(PCM(x)), 3)))
cat(sprintf("R eRm PCM bfi N1-N5, person par. + fit   %9.1f ms\n",
            med(quote(itemfit(person.parameter(PCM(x)))), 3)))
cat(sprintf("R eRm RSM bfi N1-N5                      %9.1f ms\n", med(quote(RSM(x)), 3)))
"""


def main() -> None:
    warnings.simplefilter("ignore")
    rows = [
        ("instrval rasch raschdat1 (no LR test)", lambda: irt(RASCH, model="rasch",
                                                              lr_test=False)),
        ("instrval rasch raschdat1, full analysis", lambda: irt(RASCH, model="rasch")),
        ("instrval pcm bfi N1-N5 (no LR test)", lambda: irt(NEURO, model="pcm", lr_test=False)),
        ("instrval rsm bfi N1-N5 (no LR test)", lambda: irt(NEURO, model="rsm", lr_test=False)),
        ("instrval grm bfi N1-N5 (2800 x 5)", lambda: irt(NEURO, model="grm")),
        ("instrval 2pl ability (1525 x 16)", lambda: irt(ABILITY, model="2pl")),
    ]
    for name, fn in rows:
        print(f"{name:44s} {median_ms(fn, repeats=3):9.1f} ms")
    out = None if "--no-r" in sys.argv else run_r(R_CODE)
    if out is not None:
        print(out.stdout.rstrip() or out.stderr.rstrip())


if __name__ == "__main__":
    main()
