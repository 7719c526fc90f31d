#!/usr/bin/env bash
# two_configs.sh EXPERIMENTS TOOLS DATA WORK: one experiment run twice into the same folder with
# another policy option writes two records (the first is not overwritten), and the report shows
# two groups, each labelled by the option that differs. A third run repeating the first option
# with --skip-existing runs nothing.
set -u
experiments=$1 tools=$2 data=$3 work=$4
rm -rf "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
run() {
  "$experiments/aux_confidence_loss" --dataset wine --smoke --quiet --data-dir "$data" --out "$work/results" \
    --cache-dir "$work/cache" "$@"
}
run --aux-alpha 0.5 >/dev/null || fail "the first run failed"
run --aux-alpha 0.75 >/dev/null || fail "the second run failed"
records=$(find "$work/results" -name '*.jsonl' | sort)
[[ $(wc -l <<<"$records") -eq 2 ]] || fail "expected two records, found: $records"
report=$("$tools/w2s_report" --include-smoke "$work/results") || fail "w2s_report failed"
grep -q "| aux_confidence_loss (alpha=0.5) | wine | xs → l | 1 |" <<<"$report" &&
  grep -q "| aux_confidence_loss (alpha=0.75) | wine | xs → l | 1 |" <<<"$report" &&
  grep -q "\[n/a: 1 seed\]" <<<"$report" || fail "the report should show two groups of one seed: $report"
before=$(stat -c %i $records)
out=$(run --aux-alpha 0.5 --skip-existing)
grep -q "recorded already (--skip-existing)" <<<"$out" || fail "--skip-existing reran: $out"
[[ $(stat -c %i $records) == "$before" ]] || fail "--skip-existing rewrote a record"
echo "two options, two records, two groups:"
grep "aux_confidence_loss" <<<"$report"
