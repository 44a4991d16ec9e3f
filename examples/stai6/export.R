# Export the STAI data of psychTools (sai, tai, msqR; GPL >= 2, Revelle, Personality,
# Motivation and Cognition Laboratory, Northwestern University, 1991-1999) to the CSV files
# of this example. Re-run from the repository root:  Rscript examples/stai6/export.R
# (psychTools 2.2.9 gave the committed files.)
#
# data/stai-baseline.csv  first administration of every study: the six STAI-6 items, the
#                         full 20-item state form total, trait anxiety (tai), EPI
#                         neuroticism and extraversion, gender and session (morning:
#                         before noon; later: noon or after; from msqR's TOD, time 1).
# data/stai-repeated.csv  first and second administration (long form) of the control
#                         studies (Cart, Fast, SHED, SHOP: no manipulation) and of the film
#                         studies (FIAT, FLAT, Maps, MIXX: a film between the two).
suppressPackageStartupMessages(library(psychTools))
data(sai); data(tai); data(msqR)
six <- c("calm", "tense", "upset", "relaxed", "content", "worried")
pos <- c("calm", "secure", "at.ease", "rested", "comfortable", "confident", "relaxed",
         "content", "joyful", "pleasant")
neg <- c("tense", "regretful", "upset", "worrying", "anxious", "nervous", "jittery",
         "high.strung", "worried", "rattled")
# full-form total: positive (anxiety-absent) items reversed (5 - x); NA when any item missing
stai20 <- function(d) rowSums(d[, neg]) + rowSums(5 - d[, pos])
tai_pos <- c("pleasant", "rested", "calm", "happy", "secure", "content", "steady")
tai_neg <- setdiff(colnames(tai)[-(1:3)], tai_pos)
tai$trait_anxiety <- rowSums(tai[, tai_neg]) + rowSums(5 - tai[, tai_pos])
key <- function(study, id) paste0(study, "-", id)
sai$key <- key(sai$study, sai$id)
tai$key <- key(tai$study, tai$id)
m1 <- msqR[msqR$time == 1, ]
m1$key <- key(m1$study, m1$id)
m1 <- m1[!duplicated(m1$key), ]

t1 <- sai[sai$time == 1, ]
base <- data.frame(rating_id = t1$key, respondent_id = t1$key, study = as.character(t1$study),
                   t1[, six], stai20 = stai20(t1))
base$stai20_ge40 <- ifelse(is.na(base$stai20), NA, as.integer(base$stai20 >= 40))
base$trait_anxiety <- tai$trait_anxiety[match(base$respondent_id, tai$key)]
base$neuroticism <- m1$Neuroticism[match(base$respondent_id, m1$key)]
base$extraversion <- m1$Extraversion[match(base$respondent_id, m1$key)]
g <- m1$gender[match(base$respondent_id, m1$key)]
base$gender <- ifelse(is.na(g), NA, ifelse(g == 1, "male", "female"))
tod <- m1$TOD[match(base$respondent_id, m1$key)]
base$session <- ifelse(is.na(tod), NA, ifelse(tod < 12, "morning", "later"))
q <- quantile(base$trait_anxiety, c(.25, .75), na.rm = TRUE)
base$trait_group <- ifelse(is.na(base$trait_anxiety), NA,
                           ifelse(base$trait_anxiety >= q[2], "high",
                                  ifelse(base$trait_anxiety <= q[1], "low", "middle")))
write.csv(base, "examples/stai6/data/stai-baseline.csv", row.names = FALSE, na = "")

control <- c("Cart", "Fast", "SHED", "SHOP")
films <- c("FIAT", "FLAT", "Maps", "MIXX")
r <- sai[sai$time %in% 1:2 & sai$study %in% c(control, films), ]
rep <- data.frame(respondent_id = r$key, study = as.character(r$study), time = r$time,
                  design = ifelse(r$study %in% control, "control", "film"),
                  r[, six], stai20 = stai20(r))
film <- m1$film[match(rep$respondent_id, m1$key)]
rep$film <- c("Frontline", "Halloween", "Serengeti", "Parenthood")[film]
rep$threat_film <- ifelse(rep$design == "film" & !is.na(film), as.integer(film %in% 1:2), NA)
rep <- rep[order(rep$study, rep$respondent_id, rep$time), ]
write.csv(rep, "examples/stai6/data/stai-repeated.csv", row.names = FALSE, na = "")
cat("wrote", nrow(base), "baseline and", nrow(rep), "repeated rows\n")
