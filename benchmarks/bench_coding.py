"""Timings of the qualitative strand (median of several runs).

Run from the repository root: python benchmarks/bench_coding.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _harness import ROOT, median_ms

from instrval.io.coding import read_coding
from instrval.io.instrument import read_instrument
from instrval.qual.evidence import item_evidence
from instrval.stats.agreement import coder_agreement, cohen_kappa, krippendorff_alpha

EX = ROOT / "examples" / "iam" / "coding"


def bench(label: str, fn, runs: int = 7) -> None:
    print(f"{label:<66s} {median_ms(fn, runs, warmup=0):9.1f} ms")


def main() -> None:
    iam = read_instrument(ROOT / "instruments/iam/iam-2011.yaml")
    data = read_coding(EX / "segments.csv", instrument=iam, codebook=EX / "codebook.yaml")
    bench("read_coding IAM example (276 rows, codebook)",
          lambda: read_coding(EX / "segments.csv", instrument=iam,
                              codebook=EX / "codebook.yaml"))
    bench("item_evidence IAM example", lambda: item_evidence(data, iam))
    bench("coder_agreement IAM example (47 double-coded segments, 27 codes)",
          lambda: coder_agreement(data))
    rng = np.random.default_rng(1)
    a = rng.integers(1, 6, 10_000)
    b = np.where(rng.random(10_000) < 0.7, a, rng.integers(1, 6, 10_000))
    bench("cohen_kappa 10,000 pairs, 5 levels",
          lambda: cohen_kappa(pd.DataFrame({"a": a, "b": b})))
    x = rng.integers(1, 6, (5, 2_000)).astype(float)
    x[rng.random(x.shape) < 0.2] = np.nan
    bench("krippendorff_alpha 5 coders x 2,000 units, nominal",
          lambda: krippendorff_alpha(x))


if __name__ == "__main__":
    main()
