#!/usr/bin/env bash
# slurm.sh TOOLS EXPERIMENTS DATA WORK: the smoke grid through a real one-node Slurm started here
# on loopback (tests/cli/slurm_cluster.sh) gives the same records as the local pool; a task killed
# mid-run (scancel) shows as lost and is rerun by the resubmission. Exit 77 (ctest: skipped), with
# the reason, where Slurm cannot start (not root, the packages missing, or the daemons refuse).
set -u
tools=$1 experiments=$2 data=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
cluster=$here/slurm_cluster.sh
if ! why=$("$cluster" can-start 2>&1); then
  echo "SKIPPED: cannot start a one-node Slurm here: $why"
  exit 77
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
dir=$(mktemp -d /tmp/w2s_slurm.XXXX)  # short: munge's socket path is limited
trap '"$cluster" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
if ! env=$("$cluster" start "$dir" 2>"$work/cluster.err"); then
  echo "SKIPPED: the one-node Slurm did not start here (the daemons' own words):"
  tail -20 "$work/cluster.err"
  exit 77
fi
eval "$env"
export W2S_DATA_DIR=$data
sweep() {  # sweep GRID OUT ARGS...
  local grid=$1 out=$2
  shift 2
  "$tools/w2s_sweep" "$grid" --bin-dir "$experiments" --out "$out" --cache-dir "$work/cache" "$@"
}
wait_for() {  # wait_for GRID OUT PATTERN: until --status matches, at most 5 minutes
  local deadline=$((SECONDS + 300))
  until sweep "$1" "$2" --status | grep -q "$3"; do
    ((SECONDS < deadline)) || fail "waited 5 min for '$3': $(sweep "$1" "$2" --status; squeue)"
    sleep 1
  done
}

# 1. the same grid with the local pool and through Slurm: the same records
grid=$here/../sweep/smoke.ini
sweep "$grid" "$work/local" --jobs 2 >"$work/local.log" 2>&1 || fail "local pool: $(tail -3 "$work/local.log")"
sweep "$grid" "$work/slurm" --slurm --time 10 >"$work/submit.log" || fail "submission: $(cat "$work/submit.log")"
grep -q "submitted 6 runs as job array" "$work/submit.log" || fail "submission: $(cat "$work/submit.log")"
wait_for "$grid" "$work/slurm" "done: 6"
python3 - "$work/local" "$work/slurm" <<'PY' || fail "Slurm's records differ from the local pool's"
import json, pathlib, sys
local, slurm = (pathlib.Path(p) for p in sys.argv[1:])
names = sorted(p.relative_to(local) for p in local.rglob("*.jsonl"))
assert len(names) == 6 and names == sorted(p.relative_to(slurm) for p in slurm.rglob("*.jsonl")), names
for n in names:
    a, b = (json.loads((d / n).read_text()) for d in (local, slurm))
    assert a["identity"]["run"] == b["identity"]["run"] and a["metrics"] == b["metrics"], n
print(f"the same {len(names)} records (same identities, same metrics) from the local pool and from Slurm")
PY
ls "$work"/slurm/.sweep/slurm/*/task_*.log >/dev/null || fail "no per-task logs"

# 2. a task killed mid-run, then the resubmission (runs long enough to be caught running)
slow=$work/slow.ini
printf 'experiments = naive_finetune\ndatasets = wine\nseeds = 0-1\nargs = --smoke --quiet --epochs 400\n' >"$slow"
sweep "$slow" "$work/killed" --slurm >"$work/submit2.log" || fail "submission: $(cat "$work/submit2.log")"
deadline=$((SECONDS + 120))
until running=$(cat "$work"/killed/.sweep/runs/*.running 2>/dev/null | head -1) && [[ -n $running ]]; do
  ((SECONDS < deadline)) || fail "no run started within 2 min: $(squeue)"
  sleep 0.2
done
task=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["slurm_task"])' "$running")
scancel "$task" || fail "scancel $task"
while [[ -n $(squeue -h -j "$task" 2>/dev/null) ]]; do sleep 0.5; done
wait_for "$slow" "$work/killed" "lost: 1"
sweep "$slow" "$work/killed" --status
sweep "$slow" "$work/killed" --slurm >"$work/submit3.log" || fail "resubmission: $(cat "$work/submit3.log")"
grep -q "submitted 1 run as" "$work/submit3.log" || fail "the resubmission should run only the lost run: $(cat "$work/submit3.log")"
wait_for "$slow" "$work/killed" "done: 2"
[[ $(find "$work/killed" -name '*.jsonl' | wc -l) -eq 2 ]] || fail "expected 2 records: $(find "$work/killed" -name '*.jsonl')"
[[ -z $(find "$work" -name '*.tmp.*') ]] || fail "temporary files left: $(find "$work" -name '*.tmp.*')"
echo "task $task cancelled mid-run: reported lost, rerun by the resubmission; 2 records"
