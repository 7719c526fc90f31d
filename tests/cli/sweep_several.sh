#!/usr/bin/env bash
# sweep_several.sh TOOLS EXPERIMENTS DATA WORK: one w2s_sweep command runs two grids in order, each
# into its own folder, counting over both ("[k/5]"), with a summary per grid and one for all; a
# second start runs nothing; --only slices across the grids; --out with two grids, or two grids
# with the same folder, are refused by name.
set -u
tools=$1 experiments=$2 data=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
export W2S_DATA_DIR=$data
# two small grids from the smoke grid, each with its own 'out': naive_finetune × seeds 0-1 (2 runs),
# and the aux loss at three weights × seed 0 (3 runs)
sed -e 's/^experiments = .*/experiments = naive_finetune/' -e "s|^args = |out = $work/a\nargs = |" \
  -e '/^\[options/,$d' "$(dirname "$0")/../sweep/smoke.ini" >"$work/a.ini"
sed -e 's/^experiments = .*/experiments = aux_confidence_loss/' -e "s|^args = |out = $work/b\nargs = |" \
  -e 's/^seeds = .*/seeds = 0/' -e 's/^aux-alpha = .*/aux-alpha = 0.5, 0.75, 0.9/' \
  "$(dirname "$0")/../sweep/smoke.ini" >"$work/b.ini"
sweep=("$tools/w2s_sweep" "$work/a.ini" "$work/b.ini" --bin-dir "$experiments" --cache-dir "$work/cache")

[[ $("${sweep[@]}" --dry-run | wc -l) -eq 5 ]] || fail "two grids should expand to 2 + 3 runs: $("${sweep[@]}" --dry-run)"
# --only keeps what matches in either grid; a filter that matches no grid is refused
only=$("${sweep[@]}" --dry-run --only seed=1)
[[ $(wc -l <<<"$only") -eq 1 && $only == *"naive_finetune"*"seed 1"* ]] || fail "--only seed=1 over both grids: $only"
"${sweep[@]}" --dry-run --only seed=7 >"$work/only.log" 2>&1 && fail "--only seed=7 matched nothing and passed"
grep -q "no run of the 2 grids matches" "$work/only.log" || fail "--only seed=7: $(cat "$work/only.log")"

"${sweep[@]}" >"$work/first.log" 2>&1 || fail "the sweep failed: $(cat "$work/first.log")"
grep -q "^2 grids: 5 runs to do" "$work/first.log" || fail "no total line: $(cat "$work/first.log")"
for k in 1 2 3 4 5; do
  grep -q "^\[$k/5\] done" "$work/first.log" || fail "no line [$k/5]: $(cat "$work/first.log")"
done
# the grids ran in order: every run of a.ini before any of b.ini
last_a=$(grep -n "^\[.*naive_finetune" "$work/first.log" | tail -1 | cut -d: -f1)
first_b=$(grep -n "^\[.*aux_confidence_loss" "$work/first.log" | head -1 | cut -d: -f1)
[[ $last_a -lt $first_b ]] || fail "b.ini's runs started before a.ini's ended: $(cat "$work/first.log")"
[[ $(find "$work/a" -name '*.jsonl' | wc -l) -eq 2 && $(find "$work/b" -name '*.jsonl' | wc -l) -eq 3 ]] ||
  fail "expected 2 records in a/ and 3 in b/: $(find "$work" -name '*.jsonl')"
grep -q "done: 2" "$work/a/sweep.md" && grep -q "done: 3" "$work/b/sweep.md" || fail "summaries: $(cat "$work"/*/sweep.md)"
grep -q "^all 2 grids: 5 runs done now, 0 failed" "$work/first.log" || fail "no overall summary: $(tail -3 "$work/first.log")"

"${sweep[@]}" >"$work/second.log" 2>&1 || fail "the second start failed: $(cat "$work/second.log")"
grep -q "^2 grids: 0 runs to do" "$work/second.log" || fail "the second start ran something: $(cat "$work/second.log")"

# refusals
"${sweep[@]}" --out "$work/one" >"$work/out.log" 2>&1 && fail "--out with two grids passed"
grep -q "^w2s_sweep: error: --out: one folder for 2 grids" "$work/out.log" || fail "--out: $(cat "$work/out.log")"
"$tools/w2s_sweep" "$work/a.ini" "$work/a.ini" --bin-dir "$experiments" >"$work/same.log" 2>&1 && fail "the same grid twice passed"
grep -q "a.ini: its records' folder .* is another grid's of this command" "$work/same.log" || fail "same out: $(cat "$work/same.log")"
echo "two grids in one command: 5 runs counted over both, in order, each into its own folder"
