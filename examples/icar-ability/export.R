# Exports psychTools::ability (psychTools 2.2.9, GPL >= 2): 16 ICAR ability items scored
# 0/1 (1 = correct) for 1,525 SAPA-project respondents (Revelle, Wilt & Condon 2010;
# Condon & Revelle 2014). The ICAR items are public domain (https://icar-project.com).
# Re-run from the repository root:  Rscript examples/icar-ability/export.R
suppressPackageStartupMessages(library(psychTools))
x <- as.data.frame(psychTools::ability)
names(x) <- gsub(".", "_", names(x), fixed = TRUE)
out <- data.frame(rating_id = sprintf("a%04d", seq_len(nrow(x))),
                  respondent_id = sprintf("a%04d", seq_len(nrow(x))), x)
write.csv(out, "examples/icar-ability/ability.csv", row.names = FALSE, na = "")
cat("wrote examples/icar-ability/ability.csv:", nrow(out), "rows\n")
