# Exports the trait-anxiety ratings of psychTools::tai (psychTools 2.2.9, GPL >= 2;
# Revelle, Personality Motivation and Cognition Laboratory, Northwestern University) as
# the ratings file of this example: one row per respondent, the 20 items coded 1-4 as
# given (anxiety-absent items not reversed), study and time kept as grouping columns.
# Re-run from the repository root:  Rscript examples/stai-trait/export.R
suppressPackageStartupMessages(library(psychTools))
x <- psychTools::tai
out <- data.frame(rating_id = sprintf("t%04d", seq_len(nrow(x))),
                  respondent_id = ifelse(is.na(x$id), sprintf("t%04d", seq_len(nrow(x))),
                                         sprintf("%s-%s", x$study, x$id)),
                  x[, 4:23], study = x$study, check.names = FALSE)
names(out) <- gsub(".", "_", names(out), fixed = TRUE)
write.csv(out, "examples/stai-trait/tai.csv", row.names = FALSE, na = "")
cat("wrote examples/stai-trait/tai.csv:", nrow(out), "rows\n")
