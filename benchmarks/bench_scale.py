"""Ratings at scale, BLAS threads, CLI start-up and wide data, measured side by side.

Run from the repository root (one run measures everything it prints, in the default
environment: no thread variables set):

    python benchmarks/bench_scale.py ratings  [--data /tmp/instrval-scale] [--sizes 10M,100M]
    python benchmarks/bench_scale.py cli      # whole-process CLI time vs Rscript on bfi,
                                              # and the floor: importing what it needs
    python benchmarks/bench_scale.py wide     # alpha and EFA on 4,000 x 135 items vs psych
    python benchmarks/bench_scale.py blas     # parallel analysis, polychoric, alpha bootstrap

``ratings`` generates the IAM-shaped exports with ``instrval ratings generate-iam`` under
``--data`` (kept out of the repository; reused when present): 10M ratings as one Parquet
file, 100M as a folder of Parquet parts. It times, as separate processes with their peak
memory (``/usr/bin/time``): ``instrval ratings check`` (DuckDB engine),
DuckDB alone running the same checks and counts in one SQL query, ``instrval report``, and
``instrval ratings check --engine dask --scheduler local`` (whose JSON output must equal
the single-machine one). Medians of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import ROOT, median_ms, read_data, run_r

IAM = ROOT / "instruments" / "iam" / "iam-2011.yaml"
BFI_INST = ROOT / "instruments" / "bfi" / "bfi-1.0.yaml"
BFI = ROOT / "tests" / "data" / "bfi.csv"
PY = sys.executable
INSTRVAL = [PY, "-m", "instrval"]


def timed(cmd: list[str], **kw) -> tuple[float, float, str]:
    """Wall seconds, peak resident memory in GB and stdout of one process."""
    wall, peak, _, out = timed_cpu(cmd, **kw)
    return wall, peak, out


def timed_cpu(cmd: list[str], ok: tuple[int, ...] = (0, 1), **kw
              ) -> tuple[float, float, float, str]:
    """Wall seconds, peak memory (GB), CPU seconds (user + system) and stdout."""
    t0 = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", *cmd], capture_output=True,
                         text=True, cwd=ROOT, **kw)
    wall = time.perf_counter() - t0
    if out.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    peak_kb, user, system = out.stderr.strip().splitlines()[-1].split()
    return wall, int(peak_kb) / 2**20, float(user) + float(system), out.stdout


def med(cmd: list[str], repeats: int) -> tuple[float, float, str]:
    runs = [timed(cmd) for _ in range(repeats)]
    return (statistics.median(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2])


# ------------------------------------------------------------------------------ ratings
def generate(data: Path, n: int, parts: bool) -> Path:
    out = data / f"iam-{n // 1_000_000}M"
    target = out / ("iam-ratings-2012-parts" if parts else "iam-ratings-2012.parquet")
    if target.exists():
        return target
    cmd = [*INSTRVAL, "ratings", "generate-iam", "--out", str(out), "--n-ratings", str(n),
           "--format", "parquet"]
    if parts:
        cmd += ["--part-rows", "5000000"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    print(f"  generated {n:,} ratings in {time.perf_counter() - t0:.0f} s -> {target}")
    return target


DUCKDB_SQL = r"""
import sys, duckdb, yaml
inst = yaml.safe_load(open(sys.argv[2]))
path = sys.argv[1]
src = (f"read_parquet('{path}/*.parquet')" if not path.endswith('.parquet')
       else f"read_parquet('{path}')")
checks, counts = [], []
cols = []
for c in inst['constructs']:
    g = c.get('gate')
    gate_open = 'TRUE'
    if g:
        opts = ", ".join(f"'{o.lower()}'" for o in g['options'])
        checks.append(f"({g['id']} IS NULL OR lower(trim({g['id']})) IN ({opts}))")
        ow = g['open_when'] if isinstance(g['open_when'], list) else [g['open_when']]
        gate_open = f"coalesce(lower(trim({g['id']})) IN ({', '.join(repr(o) for o in ow)}), FALSE)"
        counts.append(f"count_if(ok AND {gate_open}) AS g_{g['id']}")
        cols.append(g['id'])
    if c['kind'] == 'single_choice':
        lv = ", ".join(f"'{it['id'].lower()}'" for it in c['items'])
        checks.append(f"({c['id']} IS NULL OR lower(trim({c['id']})) IN ({lv}))")
        ans = f"{c['id']} IS NOT NULL"
        cols.append(c['id'])
    else:
        items = [it['id'] for it in c['items']]
        checks += [f"({i} IS NULL OR {i} IN (0, 1))" for i in items]
        ans = " OR ".join(f"{i} IS NOT NULL" for i in items)
        cols += items
    if g:
        checks.append(f"(NOT ({ans}) OR {gate_open})")
    counts.append(f"count_if(ok AND {gate_open} AND ({ans})) AS p_{c['id']}")
checks.append("(" + " OR ".join(f"{x} IS NOT NULL" for x in cols) + ")")
checks += ["rating_id IS NOT NULL", "respondent_id IS NOT NULL"]
sql = f'''
WITH d AS (SELECT * FROM {src}),
dup AS (SELECT rating_id FROM d GROUP BY rating_id HAVING count(*) > 1),
f AS (SELECT *, ({' AND '.join(checks)}) AND rating_id NOT IN (SELECT rating_id FROM dup)
             AS ok FROM d)
SELECT count(*) AS read, count_if(ok) AS accepted,
       count(DISTINCT respondent_id) FILTER (WHERE ok) AS respondents,
       min(date) FILTER (WHERE ok), max(date) FILTER (WHERE ok), {', '.join(counts)} FROM f
'''
print(duckdb.sql(sql).fetchall())
"""


def bench_ratings(data: Path, sizes: list[int], repeats: int,
                  steps: tuple[str, ...] = ("check", "duckdb", "report", "dask")) -> None:
    data.mkdir(parents=True, exist_ok=True)
    print(f"ratings at scale (medians of {repeats}; peak = resident memory of the process)")
    print(f"{'input':<26} {'step':<44} {'seconds':>8} {'peak GB':>8}")
    for n in sizes:
        parts = n >= 50_000_000
        path = generate(data, n, parts)
        label = f"{n // 1_000_000}M {'Parquet parts' if parts else 'Parquet'}"
        rows = []
        ours = duck = None
        ours = med([*INSTRVAL, "ratings", "check", str(path), "--instrument", str(IAM),
                    "--json"], repeats)
        rows.append(("instrval ratings check (duckdb engine)", ours))
        if "duckdb" in steps:
            duck = med([PY, "-c", DUCKDB_SQL, str(path), str(IAM)], repeats)
            rows.append(("DuckDB alone, same checks and counts", duck))
        if "report" in steps:
            with tempfile.TemporaryDirectory() as tmp:
                rep = med([*INSTRVAL, "report", "--instrument", str(IAM), "--ratings",
                           str(path), "--out", tmp, "-q", "--seed", "1", "--timestamp",
                           "2024-01-01T00:00:00Z"], 1)
            rows.append(("instrval report", rep))
        parts = parts and "dask" in steps
        if parts:
            dask = med([*INSTRVAL, "ratings", "check", str(path), "--instrument", str(IAM),
                        "--json", "--engine", "dask", "--scheduler", "local"], 1)
            rows.append(("instrval ratings check --engine dask (local)", dask))
            same = json.loads(dask[2]) == json.loads(ours[2])
            digest = hashlib.sha256(dask[2].encode()).hexdigest()[:12]
        for step, (wall, peak, _) in rows:
            print(f"{label:<26} {step:<44} {wall:8.1f} {peak:8.2f}")
        if duck is not None:
            print(f"{'':<26} ratio instrval / DuckDB alone: {ours[0] / duck[0]:.2f}")
        if parts:
            print(f"{'':<26} Dask result identical to single machine: {same} ({digest})")
        s = json.loads(ours[2])
        print(f"{'':<26} read {s['read']:,}, accepted {s['accepted']:,}, "
              f"respondents {s['respondents']:,}")


# ------------------------------------------------------------------------------ CLI
R_ALPHA = ('suppressMessages(library(psych)); x <- read.csv("tests/data/bfi.csv"); '
           'a <- alpha(x[, c("A1","A2","A3","A4","A5")], keys = c("A1"))')
R_FA = ('suppressMessages(library(psych)); suppressMessages(library(GPArotation)); '
        'x <- read.csv("tests/data/bfi.csv"); f <- fa(x[, 1:25], nfactors = 5)')
R_CFA = ('suppressMessages(library(lavaan)); x <- read.csv("tests/data/bfi.csv"); '
         'm <- "A =~ A1+A2+A3+A4+A5\nC =~ C1+C2+C3+C4+C5\nE =~ E1+E2+E3+E4+E5\n'
         'N =~ N1+N2+N3+N4+N5\nO =~ O1+O2+O3+O4+O5"; f <- cfa(m, data = x); '
         's <- fitMeasures(f)')


#: The start-up floor of each command: the interpreter importing only the libraries the
#: command needs (numpy, pandas, scipy.special for the F quantile of alpha's interval,
#: scipy.optimize for the optimisers of EFA and the RMSEA interval of CFA, PyYAML and
#: click), with the collector settings of the ``instrval`` process.
_FLOOR = ("import atexit, gc; gc.set_threshold(100_000); atexit.register(gc.freeze); "
          "import numpy, pandas, yaml, click, scipy.special")
FLOORS = {"alpha": _FLOOR, "efa": _FLOOR + ", scipy.optimize", "cfa": _FLOOR + ", scipy.optimize"}


def bench_cli(repeats: int) -> None:
    print(f"whole-process time on bfi (2,800 x 25), seconds, medians of {repeats} "
          f"(load average {os.getloadavg()[0]:.2f})")
    cases = [
        ("alpha (agreeableness)", "alpha",
         [*INSTRVAL, "reliability", str(BFI), "--instrument", str(BFI_INST), "--construct",
          "agreeableness", "--json"], R_ALPHA),
        ("EFA, 5 factors", "efa", [*INSTRVAL, "efa", str(BFI), "--instrument", str(BFI_INST),
                                   "--factors", "5", "--json"], R_FA),
        ("CFA, 5 factors (ML)", "cfa", [*INSTRVAL, "cfa", str(BFI), "--instrument",
                                        str(BFI_INST), "--json"], R_CFA),
    ]
    have_r = shutil.which("Rscript") is not None
    print(f"{'task':<24} {'instrval wall':>13} {'Rscript wall':>13} {'instrval CPU':>13} "
          f"{'Rscript CPU':>13} {'floor wall':>11} {'floor CPU':>10}")
    for name, key, cmd, rcode in cases:
        ours, theirs, floor = [], [], []
        for _ in range(repeats):  # interleaved, so that a change of load hits all three
            ours.append(timed_cpu(cmd, ok=(0,)))
            if have_r:
                theirs.append(timed_cpu(["Rscript", "-e", rcode], ok=(0,)))
            floor.append(timed_cpu([PY, "-c", FLOORS[key]], ok=(0,)))
        if not theirs:
            theirs = [(float("nan"),) * 3 + ("",)]
        print(f"{name:<24} {statistics.median(r[0] for r in ours):13.2f} "
              f"{statistics.median(r[0] for r in theirs):13.2f} "
              f"{statistics.median(r[2] for r in ours):13.2f} "
              f"{statistics.median(r[2] for r in theirs):13.2f} "
              f"{statistics.median(r[0] for r in floor):11.2f} "
              f"{statistics.median(r[2] for r in floor):10.2f}")
    print(f"(load average at the end: {os.getloadavg()[0]:.2f})")


# ------------------------------------------------------------------------------ wide
def wide_data(n: int = 4000, k: int = 135, seed: int = 1):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 9))
    load = np.zeros((k, 9))
    for j in range(k):
        load[j, j % 9] = 0.6
    x = f @ load.T + rng.standard_normal((n, k)) * 0.8
    codes = np.clip(np.round(x * 1.2 + 3), 1, 5).astype(int)
    return pd.DataFrame(codes, columns=[f"i{j + 1}" for j in range(k)])


def bench_wide(repeats: int) -> None:
    import warnings

    from instrval.stats.efa import efa
    from instrval.stats.reliability import cronbach_alpha

    warnings.simplefilter("ignore")  # the simulated items are not keyed; timing only
    df = wide_data()
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
        df.to_csv(fh, index=False)
        csv = fh.name
    a = median_ms(lambda: cronbach_alpha(df), repeats=repeats, warmup=1)
    e = median_ms(lambda: efa(df, n_factors=9, method="minres", rotation="oblimin"),
                  repeats=repeats, warmup=1)
    r = run_r(f'suppressMessages(library(psych)); suppressMessages(library(GPArotation)); '
              f'x <- read.csv("{csv}"); '
              f'ta <- median(replicate({repeats}, system.time(alpha(x, warnings=FALSE, '
              f'check.keys=FALSE))[["elapsed"]])); '
              f'tf <- median(replicate({repeats}, system.time(fa(x, nfactors=9, '
              f'rotate="oblimin"))[["elapsed"]])); cat(ta * 1000, tf * 1000)')
    ra, rf = (float(v) for v in r.stdout.split()) if r and r.returncode == 0 else (
        float("nan"), float("nan"))
    os.unlink(csv)
    print(f"wide data (4,000 x 135 items), medians of {repeats}, in-process ms")
    print(f"{'task':<28} {'instrval':>10} {'psych':>10}")
    print(f"{'alpha':<28} {a:10.0f} {ra:10.0f}")
    print(f"{'EFA minres, 9 factors':<28} {e:10.0f} {rf:10.0f}")


# ------------------------------------------------------------------------------ BLAS
def bench_blas(repeats: int) -> None:
    import numpy as np

    from instrval.stats.dimensionality import parallel_analysis
    from instrval.stats.polychoric import polychoric
    from instrval.stats.reliability import cronbach_alpha

    raw = read_data("bfi.csv")
    bfi = raw[[c for c in raw.columns if len(c) == 2 and c[0] in "ACENO" and c[1].isdigit()]]
    items = bfi[["A1", "A2", "A3", "A4", "A5"]]
    pa = median_ms(lambda: parallel_analysis(bfi, n_iter=100, seed=1), repeats=repeats)
    pc = median_ms(lambda: polychoric(bfi.iloc[:, :10]), repeats=repeats)
    ab = median_ms(lambda: cronbach_alpha(items, n_boot=1000, seed=1), repeats=repeats)
    r = run_r('suppressMessages(library(psych)); x <- read.csv("tests/data/bfi.csv"); '
              'x <- x[, grepl("^[ACENO][0-9]$", names(x))]; '
              'set.seed(1); t1 <- system.time(fa.parallel(x, n.iter=100, plot=FALSE))'
              '[["elapsed"]]; t2 <- system.time(polychoric(x[, 1:10]))[["elapsed"]]; '
              'cat(t1 * 1000, t2 * 1000)')
    rp, rc = (float(v) for v in r.stdout.split()[-2:]) if r and r.returncode == 0 else (
        float("nan"), float("nan"))
    env = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    print(f"BLAS-bound steps on bfi in the default environment {env}, ms "
          f"(numpy {np.__version__})")
    print(f"{'task':<34} {'instrval':>10} {'psych':>10}")
    print(f"{'parallel analysis, 100 iterations':<34} {pa:10.0f} {rp:10.0f}")
    print(f"{'polychoric, 10 items':<34} {pc:10.0f} {rc:10.0f}")
    print(f"{'alpha with 1000 bootstrap samples':<34} {ab:10.0f} {'':>10}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", nargs="*", default=["ratings", "cli", "wide", "blas"])
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "instrval-scale")
    ap.add_argument("--sizes", default="10M,100M")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", default="check,duckdb,report,dask",
                    help="ratings steps to run (check is always run)")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}, cores: {os.cpu_count()}")
    if "ratings" in args.what:
        sizes = [int(float(s.rstrip("M")) * 1_000_000) for s in args.sizes.split(",")]
        bench_ratings(args.data, sizes, args.repeats, tuple(args.steps.split(",")))
    if "cli" in args.what:
        bench_cli(args.repeats)
    if "wide" in args.what:
        bench_wide(args.repeats)
    if "blas" in args.what:
        bench_blas(args.repeats)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
