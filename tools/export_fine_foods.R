# Writes the Amazon fine-food reviews of Debian's r-cran-modeldata (data set
# small_fine_foods: data frames training_data, 4,000 rows, and testing_data, 1,000 rows)
# as JSON Lines, one review a line, in the package's row order:
#   {"text": <review>, "label": "great"|"other", "product": <product id>}
# into <out>/train.jsonl and <out>/test.jsonl (UTF-8; each written to .part, then renamed).
#
#   Rscript tools/export_fine_foods.R <out>      (./w2s.sh setup runs it)
#
# Base R only: no JSON package comes with r-base-core or modeldata's dependencies, so
# strings are escaped here (RFC 8259: backslash, quote and every control character < 0x20).
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript export_fine_foods.R <out dir>")
out <- args[[1]]

data(small_fine_foods, package = "modeldata")

json_string <- function(x) {
  x <- enc2utf8(as.character(x))
  bad <- !validUTF8(x)
  if (any(bad)) stop("not valid UTF-8: row(s) ", paste(head(which(bad)), collapse = ", "))
  x <- gsub("\\", "\\\\", x, fixed = TRUE)  # first, so the escapes below stay single
  x <- gsub("\"", "\\\"", x, fixed = TRUE)
  x <- gsub("\n", "\\n", x, fixed = TRUE)
  x <- gsub("\r", "\\r", x, fixed = TRUE)
  x <- gsub("\t", "\\t", x, fixed = TRUE)
  for (code in setdiff(1:31, c(9, 10, 13))) {  # R strings cannot hold NUL
    x <- gsub(intToUtf8(code), sprintf("\\u%04x", code), x, fixed = TRUE)
  }
  paste0("\"", x, "\"")
}

write_split <- function(frame, name) {
  label <- as.character(frame$score)
  if (!all(label %in% c("great", "other"))) stop(name, ": unexpected score ", setdiff(label, c("great", "other")))
  lines <- paste0("{\"text\": ", json_string(frame$review),
                  ", \"label\": ", json_string(label),
                  ", \"product\": ", json_string(frame$product), "}")
  part <- file.path(out, paste0(name, ".jsonl.part"))
  con <- file(part, open = "wb")
  writeLines(lines, con, sep = "\n", useBytes = TRUE)
  close(con)
  part
}

dir.create(out, recursive = TRUE, showWarnings = FALSE)
parts <- c(write_split(training_data, "train"), write_split(testing_data, "test"))
for (p in parts) {
  if (!file.rename(p, sub("\\.part$", "", p))) stop("cannot rename ", p)
}
cat(sprintf("fine-foods: %d training and %d test reviews written to %s\n",
            nrow(training_data), nrow(testing_data), out))
