"""Benchmark: the full IAM report (234,196 ratings) and the bfi report, end to end.

Target (2-core machine): the IAM report in <= 10 s wall and <= 1 GB peak memory.
Each run is a fresh `instrval report` process (imports included, as a user sees it); the
peak resident memory is that of the child, from resource.getrusage(RUSAGE_CHILDREN).

    python benchmarks/bench_report.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "iam (234,196 ratings, 15 interviews)": ROOT / "examples/iam/study.yaml",
    "bfi (2,800 x 25 Likert, EFA + CFA)": ROOT / "examples/bfi/study.yaml",
}


def run_once(study: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `instrval report` child process.

    A small wrapper process starts the report as its only child, so that its
    RUSAGE_CHILDREN peak is that report's alone.
    """
    with tempfile.TemporaryDirectory() as tmp:
        code = ("import resource, subprocess, sys, time\n"
                "t0 = time.perf_counter()\n"
                "subprocess.run([sys.executable, '-m', 'instrval', 'report', sys.argv[1],"
                " '--out', sys.argv[2], '--quiet'], check=True, stdout=subprocess.DEVNULL)\n"
                "wall = time.perf_counter() - t0\n"
                "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
                "print(wall, peak)\n")
        out = subprocess.run([sys.executable, "-c", code, str(study), tmp], check=True,
                             capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"{'case':42s} {'median wall (s)':>16s} {'max wall (s)':>13s} {'peak RSS (MB)':>14s}")
    for name, study in CASES.items():
        walls, peaks = [], []
        for _ in range(args.runs):
            w, p = run_once(study)
            walls.append(w)
            peaks.append(p)
        print(f"{name:42s} {statistics.median(walls):16.2f} {max(walls):13.2f} "
              f"{max(peaks):14.0f}")
    print("target: IAM <= 10 s wall, <= 1024 MB peak")


if __name__ == "__main__":
    main()
