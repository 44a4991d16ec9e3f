"""Timings for instrval.stats.reliability and icc (run: python benchmarks/bench_reliability.py).

Target: Cronbach's alpha with a 2,000-resample bootstrap CI on bfi (2,800 x 25) <= 1 s.
Prints the median of several in-process runs.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pandas as pd

from instrval.stats.icc import icc
from instrval.stats.reliability import cronbach_alpha

ROOT = Path(__file__).resolve().parents[1]
REVERSE = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]


def median_time(fn, repeats: int = 7) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    bfi = pd.read_csv(ROOT / "tests" / "data" / "bfi.csv", index_col=0)
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
        t = median_time(fn)
        print(f"{name:<{width}}  {t * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
