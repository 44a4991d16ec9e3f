"""Timings for instrval.stats.dif against R in the same run (when Rscript is available).

Target: DIF on 10 items faster than R. Cases:

* logistic regression DIF, bfi agreeableness + conscientiousness (10 six-point items,
  ~2,700 respondents) by gender: instrval ``dif`` vs an R loop of ``MASS::polr`` (the three
  nested models and their likelihood-ratio tests per item, polr's default tolerance);
* the same on the simulated binary test (10 items, 1,200 respondents): ``glm`` loop;
* Mantel-Haenszel on the simulated binary test: ``stats::mantelhaen.test`` loop.

Run from the repository root:  python benchmarks/bench_dif.py
Prints medians of several runs (milliseconds).
"""

from __future__ import annotations

import pandas as pd
from _harness import ROOT, median_ms, read_data, run_r

from instrval.io.instrument import read_instrument
from instrval.stats.dif import dif

BFI = read_data("bfi.csv", index_col=0)
SIM = pd.read_csv(ROOT / "tests" / "fixtures" / "dif_binary.csv")
INST = read_instrument(ROOT / "instruments" / "bfi" / "bfi-1.0.yaml")

R_CODE = r"""
suppressPackageStartupMessages(library(MASS))
bfi <- read.csv("tests/data/bfi.csv", row.names = 1)
sim <- read.csv("tests/fixtures/dif_binary.csv")
med <- function(expr, k) median(replicate(k, system.time(eval(expr))[["elapsed"]])) * 1000
polr_dif <- function() {
  for (items in list(paste0("A", 1:5), paste0("C", 1:5))) {
    d <- na.omit(bfi[, c(items, "gender")])
    x <- d[, items]
    for (r in intersect(c("A1", "C4", "C5"), items)) x[[r]] <- 7 - x[[r]]
    total <- rowSums(x); group <- as.integer(d$gender == 2)
    for (it in items) {
      y <- factor(x[[it]])
      m1 <- polr(y ~ total, method = "logistic"); m2 <- polr(y ~ total + group, method = "logistic")
      m3 <- polr(y ~ total * group, method = "logistic")
      anova(m1, m2); anova(m1, m3); anova(m2, m3)
    }
  }
}
items <- sprintf("q%02d", 1:10)
glm_dif <- function() {
  total <- rowSums(sim[, items]); group <- as.integer(sim$group == "foc")
  for (it in items) {
    y <- sim[[it]]
    m1 <- glm(y ~ total, family = binomial); m2 <- glm(y ~ total + group, family = binomial)
    m3 <- glm(y ~ total * group, family = binomial)
    anova(m1, m2, test = "Chisq"); anova(m1, m3, test = "Chisq"); anova(m2, m3, test = "Chisq")
  }
}
mh_dif <- function() {
  total <- rowSums(sim[, items]); g <- factor(sim$group, levels = c("ref", "foc"))
  keep <- total %in% intersect(total[g == "ref"], total[g == "foc"])
  for (it in items)
    mantelhaen.test(table(g[keep], factor(sim[[it]][keep], levels = 1:0), total[keep]))
}
cat(sprintf("R polr loop, bfi A+C (10 items) by gender   %8.1f ms\n", med(quote(polr_dif()), 5)))
cat(sprintf("R glm loop, simulated binary (10 items)      %8.1f ms\n", med(quote(glm_dif()), 5)))
cat(sprintf("R mantelhaen.test loop (10 items)            %8.1f ms\n", med(quote(mh_dif()), 10)))
"""


def main() -> None:
    rows = [
        ("logistic DIF, bfi A+C (10 items) by gender",
         lambda: [dif(BFI, instrument=INST, construct=c, group="gender")
                  for c in ("agreeableness", "conscientiousness")]),
        ("logistic DIF, bfi 25 items (5 constructs), purified",
         lambda: dif(BFI, instrument=INST, group="gender", purify=True)),
        ("logistic DIF, simulated binary (10 items)",
         lambda: dif(SIM, group="group", levels=("ref", "foc"))),
        ("Mantel-Haenszel, simulated binary (10 items)",
         lambda: dif(SIM, group="group", levels=("ref", "foc"), method="mh")),
        ("  with purification",
         lambda: dif(SIM, group="group", levels=("ref", "foc"), method="mh", purify=True)),
    ]
    for name, fn in rows:
        print(f"instrval {name:<46s}{median_ms(fn):8.1f} ms")
    out = run_r(R_CODE)
    if out is not None:
        print(out.stdout.rstrip() or out.stderr.rstrip())


if __name__ == "__main__":
    main()
