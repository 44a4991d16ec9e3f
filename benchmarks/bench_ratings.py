"""Benchmark: reading and checking rating exports (run from the repository root).

    python benchmarks/bench_ratings.py              # 234,196-rating CSV (+ REDCap, CSV.gz)
    python benchmarks/bench_ratings.py --big        # also 10 million ratings from Parquet

Targets (2-core machine): the 234,196-rating canonical CSV read and checked in <= 2 s
(target 1 s) with <= 500 MB peak memory; 10 million ratings streamed from Parquet with
peak memory under 2 GB. Each timing is the median of several runs in a fresh process
(peak RSS measured by the child from /proc/self/status VmHWM).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IAM = ROOT / "instruments" / "iam" / "iam-2011.yaml"

CHILD = r"""
import json, resource, sys, time, warnings


def hwm():
    # VmHWM is the peak RSS of this process image (ru_maxrss survives exec on Linux,
    # so it would report the parent's peak)
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

import instrval
from instrval.io.ratings import read_ratings, iter_ratings, count_ratings
iam = instrval.read_instrument(sys.argv[1])
kind, path = sys.argv[2], sys.argv[3]
warnings.simplefilter("ignore")
base = hwm()
t = time.perf_counter()
if kind == "read":
    rd = read_ratings(path, iam)
    n = rd.n_read
elif kind == "redcap":
    rd = read_ratings(path, iam, dictionary=sys.argv[4])
    n = rd.n_read
else:
    tot = count_ratings(iter_ratings(path, iam, chunksize=int(sys.argv[4])), iam)
    n = tot.read
dt = time.perf_counter() - t
peak = hwm()
print(json.dumps({"seconds": dt, "rows": n, "peak_mb": peak / 1024,
                  "base_mb": base / 1024}))
"""


def child(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(IAM), *args], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench(label: str, runs: int, *args: str) -> None:
    res = [child(*args) for _ in range(runs)]
    sec = statistics.median(r["seconds"] for r in res)
    peak = max(r["peak_mb"] for r in res)
    rows = res[0]["rows"]
    print(f"{label:<44} {rows:>10,} rows  median {sec:7.3f} s  "
          f"({rows / sec:,.0f} rows/s)  peak RSS {peak:7.1f} MB "
          f"(after imports {res[0]['base_mb']:.0f} MB)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", action="store_true", help="also 10 million ratings (Parquet)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--big-n", type=int, default=10_000_000)
    args = ap.parse_args()
    from instrval import read_instrument
    from instrval.datasets.iam import (
        generate_iam_ratings,
        write_iam_csv,
        write_iam_parquet,
        write_iam_redcap,
    )

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t = time.perf_counter()
        df = generate_iam_ratings()
        print(f"generate 234,196 ratings: {time.perf_counter() - t:.2f} s")
        write_iam_csv(df, d / "iam.csv")
        write_iam_csv(df, d / "iam.csv.gz")
        write_iam_redcap(df, read_instrument(IAM), d / "redcap.csv", d / "dict.csv")
        del df
        bench("canonical CSV, read + check", args.runs, "read", str(d / "iam.csv"))
        bench("canonical CSV.gz, read + check", args.runs, "read", str(d / "iam.csv.gz"))
        bench("REDCap export + dictionary, read + check", max(1, args.runs // 2), "redcap",
              str(d / "redcap.csv"), str(d / "dict.csv"))
        if args.big:
            t = time.perf_counter()
            write_iam_parquet(d / "big.parquet", args.big_n,
                              round(5596 * args.big_n / 234196), seed=2012,
                              chunk_size=1_000_000)
            print(f"generate + write {args.big_n:,} ratings to Parquet: "
                  f"{time.perf_counter() - t:.1f} s")
            bench(f"{args.big_n:,} ratings, Parquet, iter_ratings(500k)", 3, "chunks",
                  str(d / "big.parquet"), "500000")


if __name__ == "__main__":
    main()
