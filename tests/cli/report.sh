#!/usr/bin/env bash
# report.sh W2S_REPORT FOLDER: the report exits 0 and prints the smoke run's table row. (A
# pattern alone would also match an error message that names the folder.)
set -euo pipefail
out=$("$1" --include-smoke "$2")
printf '%s\n' "$out"
grep -q '^| naive_finetune | fashion-mnist | xs → l | 1 | ' <<<"$out" || { echo "no naive_finetune row" >&2; exit 1; }
grep -q 'two-level percentile bootstrap' <<<"$out" || { echo "no interval note" >&2; exit 1; }
