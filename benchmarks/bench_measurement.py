"""Timings for scale scores, test-retest, hypotheses and the DeLong AUC, side by side with
R (run: python benchmarks/bench_measurement.py).

instrval: median of several in-process runs. R: median of the same number of runs inside
one Rscript session (psych::scoreItems, psych::ICC, cor.test + t.test, pROC::ci.auc).
"""

from __future__ import annotations

import pandas as pd
from _harness import ROOT, median_ms, read_data, run_r

from instrval.io.instrument import read_instrument
from instrval.model.hypotheses import Hypothesis
from instrval.stats.criterion import auc_delong
from instrval.stats.hypotheses import evaluate_hypotheses
from instrval.stats.measurement_error import retest
from instrval.stats.scoring import score_items

R_CODE = r"""
suppressPackageStartupMessages({library(psych); library(pROC)})
med <- function(f, n = 7) { f(); median(replicate(n, system.time(f())[["elapsed"]])) * 1000 }
bfi <- read.csv("tests/data/bfi.csv", row.names = 1)[, 1:25]
keys <- list(A = c("-A1","A2","A3","A4","A5"), C = c("C1","C2","C3","-C4","-C5"),
             E = c("-E1","-E2","E3","E4","E5"), N = c("N1","N2","N3","N4","N5"),
             O = c("O1","-O2","O3","O4","-O5"))
cat("score", med(function() scoreItems(keys, bfi, impute = "none", min = 1, max = 6)), "\n")
b <- read.csv("examples/stai6/data/stai-baseline.csv")
six <- c("calm","tense","upset","relaxed","content","worried")
k6 <- list(s = c("-calm","tense","upset","-relaxed","-content","worried"))
b$s <- as.numeric(scoreItems(k6, b[, six], impute = "none", min = 1, max = 4)$scores)
r <- read.csv("examples/stai6/data/stai-repeated.csv"); r <- r[r$design == "control", ]
r$s <- as.numeric(scoreItems(k6, r[, six], impute = "none", min = 1, max = 4)$scores)
w <- na.omit(reshape(r[, c("respondent_id","time","s")], idvar = "respondent_id",
                     timevar = "time", direction = "wide")[, -1])
cat("retest", med(function() { ICC(w, lmer = FALSE); t.test(w[, 2] - w[, 1]) }), "\n")
cat("hyp", med(function() { cor.test(b$s, b$trait_anxiety); cor.test(b$s, b$neuroticism)
  cor.test(b$s, b$extraversion)
  t.test(b$s[b$trait_group %in% "high"], b$s[b$trait_group %in% "low"]) }), "\n")
cat("auc", med(function() ci.auc(roc(b$stai20_ge40, b$s, levels = c(0, 1),
                                    direction = "<", quiet = TRUE), method = "delong")), "\n")
"""


def main() -> None:
    bfi = read_data("bfi.csv", index_col=0)
    inst_bfi = read_instrument(ROOT / "instruments" / "bfi" / "bfi-1.0.yaml")
    stai = read_instrument(ROOT / "instruments" / "stai6" / "stai6-1.0.yaml")
    base = pd.read_csv(ROOT / "examples" / "stai6" / "data" / "stai-baseline.csv")
    base["stai6"] = score_items(base, instrument=stai, min_items=0).scores["stai6"]
    rep = pd.read_csv(ROOT / "examples" / "stai6" / "data" / "stai-repeated.csv")
    rep = rep[rep["design"] == "control"]
    hs = [Hypothesis("H1", "correlation", "stai6", other="trait_anxiety", min=.3),
          Hypothesis("H2", "correlation", "stai6", other="neuroticism", min=.3),
          Hypothesis("H3", "correlation", "stai6", other="extraversion", direction="any",
                     max=.3),
          Hypothesis("H4", "known_groups", "stai6", group="trait_group", higher="high",
                     lower="low", min=.5)]
    cases = {
        "score": ("score_items, bfi 2,800 x 25, 5 scales",
                  lambda: score_items(bfi, instrument=inst_bfi, min_items=0)),
        "retest": ("retest, STAI-6 control studies (311 pairs, scored from items)",
                   lambda: retest(rep, id="respondent_id", time="time", instrument=stai,
                                  min_items=0)),
        "hyp": ("4 hypotheses (3 correlations, 1 known groups), n = 3,032",
                lambda: evaluate_hypotheses(base, hs)),
        "auc": ("AUC with DeLong CI, 1,346 x 1,585 cases",
                lambda: auc_delong(base["stai6"], base["stai20_ge40"])),
    }
    r_ms: dict[str, str] = {}
    res = run_r(R_CODE)
    if res is not None and res.returncode == 0:
        for line in res.stdout.splitlines():
            key, _, val = line.partition(" ")
            r_ms[key] = f"{float(val):8.1f} ms"
    width = max(len(v[0]) for v in cases.values())
    print(f"{'task':<{width}}  {'instrval':>11}  {'R':>11}")
    for key, (name, fn) in cases.items():
        print(f"{name:<{width}}  {median_ms(fn):8.1f} ms  {r_ms.get(key, '-'):>11}")


if __name__ == "__main__":
    main()
