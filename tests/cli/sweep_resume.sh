#!/usr/bin/env bash
# sweep_resume.sh TOOLS EXPERIMENTS DATA WORK: w2s_sweep killed with -9 mid-way and started again
# ends with exactly one valid record per run of the grid, no temporary file, and runs nothing
# a third time. Also: the runs it killed are not left running (they die with the sweep).
set -u
tools=$1 experiments=$2 data=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
# the smoke grid's 6 runs, each a few seconds long: long enough to be killed inside
grid=$work/grid.ini
sed 's/^args = .*/args = --smoke --quiet --epochs 200 --weak-epochs 3/' "$(dirname "$0")/../sweep/smoke.ini" >"$grid"
export W2S_DATA_DIR=$data
sweep=("$tools/w2s_sweep" "$grid" --bin-dir "$experiments" --out "$work/results" --cache-dir "$work/cache" --jobs 2)
fail() { echo "FAIL: $*" >&2; exit 1; }
runs=$("${sweep[@]}" --dry-run | wc -l)
[[ $runs -eq 6 ]] || fail "the grid should expand to 6 runs, got $runs"
# a slice: --only narrows by a run's field or option, repeated to narrow further
only=$("${sweep[@]}" --dry-run --only experiment=aux_confidence_loss | wc -l)
[[ $only -eq 4 ]] || fail "--only experiment=aux_confidence_loss should keep 4 runs, got $only"
only=$("${sweep[@]}" --dry-run --only experiment=aux_confidence_loss --only aux-alpha=0.75 --only seed=1)
[[ $(wc -l <<<"$only") -eq 1 && $only == *"aux-alpha=0.75 seed 1"* ]] || fail "--only narrowed to one run, got: $only"

# 1. start; once a run is done and others are in flight, kill -9 the sweep
"${sweep[@]}" >"$work/first.log" 2>&1 &
pid=$!
state=$work/results/.sweep/runs
in_flight() {  # a run that has started and has not written its marker
  local f
  for f in "$state"/*.running; do [[ -e $f && ! -e ${f%.running}.done ]] && return 0; done
  return 1
}
until { compgen -G "$state/*.done" >/dev/null && in_flight; } || ! kill -0 "$pid" 2>/dev/null; do
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
done_before=$(compgen -G "$work/results/.sweep/runs/*.done" | wc -l)
[[ $done_before -ge 1 && $done_before -lt 6 ]] || fail "expected a sweep killed mid-way, found $done_before of 6 runs done"
sleep 1
pgrep -f -- "--out $work/results " >/dev/null && fail "runs of the killed sweep are still running: $(pgrep -af -- "--out $work/results ")"
"${sweep[@]}" --status >"$work/status.log"
grep -q "lost: [1-9]" "$work/status.log" || fail "status after the kill should show the runs in flight as lost: $(cat "$work/status.log")"
echo "killed mid-way: $done_before of 6 runs done; status:"
cat "$work/status.log"

# 2. the rerun finishes the rest
"${sweep[@]}" >"$work/second.log" 2>&1 || fail "the rerun failed: $(cat "$work/second.log")"
grep -q "6 runs, $done_before done already; running $((6 - done_before))" "$work/second.log" ||
  fail "the rerun did not skip the done runs: $(head -1 "$work/second.log")"
records=$(find "$work/results" -name '*.jsonl' | wc -l)
[[ $records -eq 6 ]] || fail "expected exactly 6 records, found $records: $(find "$work/results" -name '*.jsonl')"
python3 - "$work/results" <<'PY' || exit 1
import json, pathlib, sys
runs = set()
for p in pathlib.Path(sys.argv[1]).rglob("*.jsonl"):
    lines = p.read_text().splitlines()
    assert len(lines) == 1, f"{p}: {len(lines)} lines"
    r = json.loads(lines[0])
    assert "metrics" in r and r["identity"]["run"] not in runs, p
    runs.add(r["identity"]["run"])
PY
[[ -z $(find "$work" -name '*.tmp.*') ]] || fail "temporary files left: $(find "$work" -name '*.tmp.*')"
[[ -s $work/results/sweep.md ]] && grep -q "done: 6" "$work/results/sweep.md" || fail "no summary saying 6 done"

# 3. a third start runs nothing
"${sweep[@]}" >"$work/third.log" 2>&1 || fail "the third start failed"
grep -q "6 runs, 6 done already; running 0" "$work/third.log" || fail "third start: $(head -1 "$work/third.log")"
echo "kill -9 and rerun: exactly one valid record per run (6), nothing run twice after it"
