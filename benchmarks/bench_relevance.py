"""Benchmark: relevance ratios on an IAM-sized rating set (234,196 ratings, 5,596 raters).

Run from the repository root::

    /work/venv/bin/python benchmarks/bench_relevance.py

Uses ``instrval.datasets.iam.generate_iam_ratings`` when it exists, otherwise synthesises a
canonical wide table of the same shape with numpy (heavy-tailed ratings per respondent,
gates open in about 19% / 30% of ratings). Prints the median of several runs of
``relevance_ratios`` (the data are loaded once, before timing).
"""

from __future__ import annotations

import statistics
import sys

import numpy as np
import pandas as pd
from _harness import ROOT, timings

from instrval.io.instrument import read_instrument
from instrval.model.ratings import RatingData
from instrval.stats.relevance import relevance_ratios

N_RATINGS = 234_196
N_RESPONDENTS = 5_596


def synthesise(instrument, n: int = N_RATINGS, g: int = N_RESPONDENTS,
               seed: int = 2012) -> pd.DataFrame:
    """A canonical wide rating table shaped like the 2012 IAM data."""
    rng = np.random.default_rng(seed)
    # heavy-tailed activity: a few respondents rate hundreds of times
    act = rng.lognormal(0.0, 1.3, size=g)
    resp = np.concatenate([np.arange(g), rng.choice(g, size=n - g, p=act / act.sum())])
    rng.shuffle(resp)
    cols: dict[str, object] = {
        "rating_id": pd.array([f"k{i}" for i in range(n)], dtype="string"),
        "respondent_id": pd.array([f"r{j}" for j in resp], dtype="string"),
        "date": pd.Timestamp("2012-01-01")
        + pd.to_timedelta(rng.integers(0, 366, size=n), unit="D"),
    }
    gates_p = {"use_gate": 0.194, "benefit_gate": 0.30}
    for c in instrument.constructs:
        open_ = np.ones(n, dtype=bool)
        if c.gate is not None:
            ans = rng.choice(["yes", "no", "possibly"], size=n,
                             p=[gates_p[c.gate.id], (1 - gates_p[c.gate.id]) / 2,
                                (1 - gates_p[c.gate.id]) / 2])
            cols[c.gate.id] = pd.array(ans, dtype="string")
            open_ = ans == "yes"
        if c.kind == "single_choice":
            lv = rng.choice(list(c.item_ids), size=n, p=[0.6, 0.3, 0.1])
            cols[c.id] = pd.array(lv, dtype="string")
        else:
            for it in c.items:
                p = rng.uniform(0.03, 0.5)
                v = (rng.random(n) < p).astype("int64")
                cols[it.id] = pd.array(np.where(open_, v, 0), dtype="Int64")
                cols[it.id][~open_] = pd.NA
    return pd.DataFrame(cols)


def load(instrument) -> tuple[pd.DataFrame, str]:
    try:
        from instrval.datasets.iam import generate_iam_ratings
    except ImportError:
        return synthesise(instrument), "numpy synthesis (generator not available)"
    return generate_iam_ratings(n_ratings=N_RATINGS, seed=2012), "generate_iam_ratings"


def timeit(fn, repeat: int = 9) -> tuple[float, float]:
    """Median and minimum wall time of ``repeat`` runs, in seconds."""
    times = timings(fn, repeat)
    return statistics.median(times), min(times)


def main() -> int:
    inst = read_instrument(ROOT / "instruments/iam/iam-2011.yaml")
    df, origin = load(inst)
    ratings = RatingData(instrument=inst, data=df)
    print(f"data: {origin}; {len(df):,} ratings, {df['respondent_id'].nunique():,} "
          f"respondents, {len(inst.items)} items")
    cases = [
        ("Wilson only (cluster=False)", lambda: relevance_ratios(ratings, cluster=False)),
        ("delta-method cluster interval", lambda: relevance_ratios(
            ratings, cluster_method="delta")),
        ("bootstrap over respondents, 1000 resamples", lambda: relevance_ratios(
            ratings, n_boot=1000, seed=1)),
        ("bootstrap + by quarter (5 groups)", lambda: relevance_ratios(
            ratings, n_boot=1000, seed=1, period="quarter")),
    ]
    target = 0.3
    print(f"target: <= {target * 1000:.0f} ms per call (data already loaded)")
    for name, fn in cases:
        fn()  # warm-up
        t, best = timeit(fn)
        flag = "" if "by quarter" in name else ("  OK" if t <= target else "  SLOW")
        print(f"{name:46s} median {t * 1000:7.1f} ms  min {best * 1000:7.1f} ms{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
