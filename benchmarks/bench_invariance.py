"""Timings for multi-group measurement invariance and CFA models in lavaan syntax (vs R
lavaan in the same run).

Workload: 10 items on 2 correlated factors, 2 groups of 2,000 respondents (4,000 in all;
seeded simulation, group 2 with two shifted intercepts and one weaker loading), the four
levels configural / metric / scalar / strict.  instrval's ``measurement_invariance`` also
runs the score test of every equality constraint; the R side does the same work:
four ``cfa(group.equal = ...)`` fits, ``lavTestLRT`` and ``lavTestScore`` on the three
constrained models.

WLSMV: the same respondents with every item cut into 5 ordered categories (cut points -1, -0.3,
0.4, 1.1), configural and equal loadings + thresholds models and the scaled difference test;
R: two ``cfa(ordered = TRUE, estimator = "WLSMV")`` fits and ``lavTestLRT``.

Also: the Holzinger-Swineford bifactor model (ML), bfi five factors with MLR, and the
three-factor model by FIML on tests/fixtures/hs_missing.csv.

Run from the repository root:  python benchmarks/bench_invariance.py [--no-r] [--wlsmv]
(``--wlsmv``: only the WLSMV rows.)
Prints medians of several runs (milliseconds).
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _harness import ROOT, median_ms, read_data, run_r

from instrval.stats.cfa import cfa
from instrval.stats.sem.invariance import measurement_invariance

BIFACTOR = """g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9
visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"""
HS3 = """visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"""
BFI5 = "\n".join(f"{f} =~ " + " + ".join(f"{c}{i}" for i in range(1, 6))
                 for f, c in zip(["agree", "consc", "extra", "neuro", "open"], "ACENO",
                                 strict=True))

MODEL = """f1 =~ y1 + y2 + y3 + y4 + y5
f2 =~ y6 + y7 + y8 + y9 + y10"""


def ordinal(data: pd.DataFrame) -> pd.DataFrame:
    """Each item cut into 5 ordered categories (1-5)."""
    out = data.copy()
    for c in [f"y{i}" for i in range(1, 11)]:
        out[c] = np.digitize(data[c].to_numpy(), [-1.0, -0.3, 0.4, 1.1]) + 1
    return out


def simulate(n_per_group: int = 2000, seed: int = 20150) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for g, name in enumerate(["A", "B"]):
        lam = np.array([0.8, 0.7, 0.75, 0.6, 0.65, 0.8, 0.7, 0.6, 0.75, 0.7])
        nu = np.zeros(10)
        if g == 1:
            lam[3] = 0.45
            nu[[2, 7]] = [0.3, -0.25]
        phi = np.array([[1.0, 0.4], [0.4, 1.0]])
        eta = rng.multivariate_normal([0.0, 0.2 * g], phi, size=n_per_group)
        load = np.zeros((10, 2))
        load[:5, 0] = lam[:5]
        load[5:, 1] = lam[5:]
        y = nu + eta @ load.T + rng.normal(0.0, 0.6, size=(n_per_group, 10))
        d = pd.DataFrame(y, columns=[f"y{i}" for i in range(1, 11)])
        d["group"] = name
        frames.append(d)
    return pd.concat(frames, ignore_index=True)


R_CODE = r"""
suppressPackageStartupMessages(library(lavaan))
d <- read.csv("{path}")
m <- "{model}"
run <- function() {{
  eqs <- list("", "loadings", c("loadings", "intercepts"),
              c("loadings", "intercepts", "residuals"))
  fits <- lapply(eqs, function(eq) cfa(m, data = d, group = "group", group.equal = eq))
  do.call(lavTestLRT, fits)
  for (f in fits[2:4]) lavTestScore(f)
}}
t <- median(replicate(5, system.time(run())[["elapsed"]])) * 1000
cat(sprintf("R lavaan 4 levels + LRT + score tests  %9.1f ms\n", t))
hs <- read.csv("tests/data/HolzingerSwineford1939.csv")
bfi <- read.csv("tests/data/bfi.csv", row.names = 1)
hsm <- read.csv("tests/fixtures/hs_missing.csv")
med <- function(expr, k = 5) median(replicate(k, system.time(eval(expr))[["elapsed"]])) * 1000
cat(sprintf("R lavaan bifactor HS (ML)              %9.1f ms\n",
            med(quote(cfa("{bifactor}", data = hs, std.lv = TRUE, orthogonal = TRUE)))))
cat(sprintf("R lavaan bfi 5 factors (MLR)           %9.1f ms\n",
            med(quote(cfa("{bfi5}", data = bfi, estimator = "MLR")), 3)))
cat(sprintf("R lavaan HS 3 factors FIML (10%% NA)    %9.1f ms\n",
            med(quote(cfa("{hs3}", data = hsm, missing = "ml")))))
"""

R_WLSMV = r"""
suppressPackageStartupMessages(library(lavaan))
m <- "{model}"
dord <- read.csv("{path_ord}")
ords <- paste0("y", 1:10)
run_wlsmv <- function() {{
  f0 <- cfa(m, data = dord, group = "group", ordered = ords, estimator = "WLSMV")
  f1 <- cfa(m, data = dord, group = "group", ordered = ords, estimator = "WLSMV",
            group.equal = c("loadings", "thresholds"))
  lavTestLRT(f0, f1)
}}
t <- median(replicate(5, system.time(run_wlsmv())[["elapsed"]])) * 1000
cat(sprintf("R lavaan WLSMV 2 levels + LRT          %9.1f ms\n", t))
"""


def main() -> None:
    warnings.simplefilter("ignore")
    data = simulate()
    res = measurement_invariance(data, MODEL, group="group")
    print(res.levels[["level", "chi2", "df", "cfi", "rmsea", "holds"]].to_string(index=False))
    t = median_ms(lambda: measurement_invariance(data, MODEL, group="group"), repeats=5)
    print(f"{'instrval measurement_invariance':39s} {t:9.1f} ms")
    dord = ordinal(data)
    res = measurement_invariance(dord, MODEL, group="group", estimator="wlsmv")
    print(res.levels[["level", "chi2", "df", "cfi", "rmsea", "delta_chi2"]].to_string(
        index=False))
    t = median_ms(lambda: measurement_invariance(dord, MODEL, group="group",
                                                 estimator="wlsmv"), repeats=5)
    print(f"{'instrval measurement_invariance WLSMV':39s} {t:9.1f} ms")
    if "--wlsmv" in sys.argv:        # only the WLSMV rows (and their R side)
        if "--no-r" not in sys.argv:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "ord.csv"
                dord.to_csv(path, index=False)
                out = run_r(R_WLSMV.format(path_ord=path, model=MODEL))
            if out is not None:
                print(out.stdout.rstrip() or out.stderr.rstrip())
        return
    hs = read_data("HolzingerSwineford1939.csv")
    bfi = read_data("bfi.csv", index_col=0)
    hsm = pd.read_csv(ROOT / "tests" / "fixtures" / "hs_missing.csv")
    rows = [
        ("instrval bifactor HS (ML)", lambda: cfa(hs, BIFACTOR, std_lv=True, orthogonal=True)),
        ("instrval bfi 5 factors (MLR)", lambda: cfa(bfi, BFI5, estimator="mlr")),
        ("instrval HS 3 factors FIML (10% NA)", lambda: cfa(hsm, HS3, missing="ml")),
    ]
    for name, fn in rows:
        print(f"{name:39s} {median_ms(fn, repeats=5):9.1f} ms")
    if "--no-r" in sys.argv:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inv.csv"
        data.to_csv(path, index=False)
        path_ord = Path(tmp) / "ord.csv"
        dord.to_csv(path_ord, index=False)
        out = run_r(R_CODE.format(path=path, model=MODEL, bifactor=BIFACTOR, bfi5=BFI5,
                                  hs3=HS3) + R_WLSMV.format(path_ord=path_ord, model=MODEL))
    if out is not None:
        print(out.stdout.rstrip() or out.stderr.rstrip())


if __name__ == "__main__":
    main()
