"""Timings for instrval.stats.reliability and icc (run: python benchmarks/bench_reliability.py).

Target: Cronbach's alpha with a 2,000-resample bootstrap CI on bfi (2,800 x 25) <= 1 s.
Prints the median of several in-process runs.
"""

from __future__ import annotations

from _harness import median_ms, read_data

from instrval.stats.icc import icc
from instrval.stats.reliability import cronbach_alpha

REVERSE = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]


def main() -> None:
    bfi = read_data("bfi.csv", index_col=0)
    items = list(bfi.columns[:25])
    cases = {
        "alpha bfi25 pairwise, no bootstrap":
            lambda: cronbach_alpha(bfi, items=items, reverse=REVERSE),
        "alpha bfi25 pairwise, 2000 bootstrap resamples (target <= 1 s)":
            lambda: cronbach_alpha(bfi, items=items, reverse=REVERSE, n_boot=2000, seed=1),
        "alpha bfi25 listwise, 2000 bootstrap resamples":
            lambda: cronbach_alpha(bfi, items=items, reverse=REVERSE, n_boot=2000, seed=1,
                                   missing="listwise"),
        "alpha agreeableness (5 items) pairwise, 2000 bootstrap resamples":
            lambda: cronbach_alpha(bfi, items=items[:5], reverse=["A1"], n_boot=2000, seed=1),
        "ICC, bfi A2-A5 complete rows (2,7xx targets x 4 raters)":
            lambda: icc(bfi[["A2", "A3", "A4", "A5"]].dropna()),
    }
    width = max(len(k) for k in cases)
    for name, fn in cases.items():
        print(f"{name:<{width}}  {median_ms(fn):8.1f} ms")


if __name__ == "__main__":
    main()
