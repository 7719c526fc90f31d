#!/usr/bin/env bash
# faults.sh EXPERIMENTS_DIR TOOLS_DIR DATA_DIR WORK_DIR: fault injection on a real run (wine, a
# few seconds a run). Every fault must end in the clean run's numbers or one line of error,
# never in a silently wrong number, a half-written file or a leftover temporary file.
#   1. kill -9 during each cached stage (pretraining, weak supervisor, ceiling), then rerun;
#   2. each kind of cached artefact damaged (a flipped byte, a truncation, an edited sidecar,
#      another entry's file; the encoder's per-text features: a flipped byte), then rerun:
#      reported in one line, recomputed, same numbers;
#   3. the data changed under the cache (every label flipped, same rows): nothing reused;
#      a NaN cell: refused, naming file, line and field;
#   4. a full disk under --cache-dir (a 64 KiB tmpfs where mount works, else a file-size
#      limit) and under --out: one line of error, exit 1, no temporary file left;
#   5. divergence: an error by default; with --on-divergence record, a record the report
#      leaves out and counts.
set -u
experiments=$1 tools=$2 data=$3 work=$4
bin=$experiments/naive_finetune
rm -rf "$work"
mkdir -p "$work"
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

# This budget makes each stage last long enough to be killed inside it (about a second here);
# the later faults use a smaller one. The strong size is m, not the default l: l's pretraining
# takes ~16 s here and the faults below redo it a dozen times; m's, ~1.3 s, still long enough to
# be killed inside. data_for, out_for and cache_for override the folders.
budget=(--dataset wine --strong m --epochs 30 --weak-epochs 30 --batch-size 8 --eval-points 2)
run() {
  "$bin" "${budget[@]}" --data-dir "${data_for:-$data}" --out "${out_for:-$work/results}" \
    --cache-dir "${cache_for:-$work/cache}" "$@"
}
# The newest record of seed ${2:-0} under the results folder ${1:-$work/results} (records are named by
# the run's identity: experiment/identity.hpp), or nothing.
record_in() { ls -t "${1:-$work/results}"/naive_finetune/wine_xs_m_*_seed"${2:-0}".jsonl 2>/dev/null | head -1; }
# The numbers of a record (metrics without timings), one line, for comparing runs.
numbers() {
  python3 -c 'import json,sys
r = json.loads(open(sys.argv[1]).read())
m = r["metrics"]
print(json.dumps({k: m[k] for k in ("weak", "ceiling", "student", "pgr", "agreement")}, sort_keys=True))' "$1" 2>/dev/null ||
    echo "unreadable record $1"
}
leftovers() { find "$@" -name '*.tmp.*' 2>/dev/null; }

# The clean numbers, with a cache made from scratch.
run --quiet >/dev/null 2>"$work/clean.err" || { cat "$work/clean.err" >&2; exit 1; }
clean=$(numbers "$(record_in)")
echo "clean: $clean"
run --quiet >/dev/null 2>&1
[[ $(numbers "$(record_in)") == "$clean" ]] || fail "a cached rerun changed the numbers"

# 1. kill -9 inside each cached stage, then rerun.
for stage in "pretraining m" "weak xs seed 0: training" "ceiling m seed 0: training"; do
  rm -rf "$work/cache" "$work/results"
  run >"$work/kill.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && ! grep -q "$stage" "$work/kill.log"; do  # however slow the machine
    sleep 0.02
  done
  kill -9 "$pid" 2>/dev/null  # at once: on a fast machine the rest of the run takes well under a second
  wait "$pid" 2>/dev/null
  grep -q "$stage" "$work/kill.log" || fail "kill: the run never reached '$stage'"
  [[ -n $(record_in) ]] && fail "kill during '$stage': a record was written by the killed run"
  # what a kill mid-write can leave besides: a temporary file, and a .pt whose sidecar was not yet written
  mkdir -p "$work/cache/weak"
  echo partial >"$work/cache/weak/stray.pt.tmp.99999"
  rm -f "$(ls "$work"/cache/backbones/*.json 2>/dev/null | head -1)"
  if run --quiet >/dev/null 2>"$work/rerun.err" && [[ $(numbers "$(record_in)") == "$clean" ]]; then
    pass "kill -9 during '$stage', then a rerun: the clean numbers"
  else
    fail "kill -9 during '$stage': the rerun gave $(numbers "$(record_in)"): $(cat "$work/rerun.err")"
  fi
done

# 2. damage each kind of artefact, in each way; a rerun must say so in one line and recompute.
budget=(--dataset wine --strong m --epochs 4 --weak-epochs 4 --batch-size 8 --eval-points 2)
rm -rf "$work/cache" "$work/results"
run --quiet >/dev/null 2>&1
clean=$(numbers "$(record_in)")
damage() {  # damage KIND HOW
  local pt json
  pt=$(ls "$work"/cache/"$1"/*.pt | head -1)
  json=${pt%.pt}.json
  case $2 in
    flip) python3 -c 'import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x10; open(p, "wb").write(b)' "$pt" ;;
    truncate) truncate -s $(($(stat -c %s "$pt") - 100)) "$pt" ;;
    sidecar) python3 -c 'import json,sys
j = json.load(open(sys.argv[1])); j["seconds"] = j["seconds"] + 1  # a number edited, the checksum kept
open(sys.argv[1], "w").write(json.dumps(j))' "$json" ;;
    swap) cp "$(ls "$work"/cache/*/*.pt | grep -v "/$1/" | head -1)" "$pt" ;;
  esac
  echo "$pt"
}
for kind in backbones weak ceiling; do
  for how in flip truncate sidecar swap; do
    file=$(damage "$kind" "$how")
    run --quiet >/dev/null 2>"$work/damaged.err"
    status=$?
    what=$(grep -c . "$work/damaged.err")
    if [[ $status -eq 0 && $(numbers "$(record_in)") == "$clean" && $what -ge 1 ]] &&
      grep -q "w2s: cache: .*: damaged (.*); recomputing it" "$work/damaged.err" &&
      grep -q "$(basename "${file%.pt}")" "$work/damaged.err"; then
      pass "$kind artefact, $how: reported ($(head -1 "$work/damaged.err" | sed 's/.*damaged/damaged/')), recomputed, clean numbers"
    else
      fail "$kind artefact, $how: exit $status, numbers $(numbers "$(record_in)"), stderr: $(cat "$work/damaged.err")"
    fi
  done
  run --quiet >/dev/null 2>"$work/healed.err"
  [[ -s $work/healed.err ]] && fail "$kind artefacts: still reported after the recompute: $(cat "$work/healed.err")"
done

# ... and the pretrained encoder's per-text features, where the checkpoint is set up (./w2s.sh setup).
if [[ -d $data/models/all-MiniLM-L6-v2 ]]; then
  encoder=(--dataset brown --smoke --strong minilm-l6 --train-layers 0 --data-dir "$data" --out "$work/encoder"
    --cache-dir "$work/cache" --quiet)
  "$bin" "${encoder[@]}" >/dev/null 2>&1
  encoder_record=$(ls "$work"/encoder/naive_finetune/brown_xs_minilm-l6_*_seed0.jsonl | head -1)
  encoder_clean=$(numbers "$encoder_record")
  pt=$(find "$work/cache/features" -name "*.pt" | sort | head -1)
  python3 -c 'import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x10; open(p, "wb").write(b)' "$pt"
  "$bin" "${encoder[@]}" >/dev/null 2>"$work/features.err"
  if [[ $(numbers "$encoder_record") == "$encoder_clean" ]] && grep -q "features/.*damaged (checksum mismatch)" "$work/features.err"; then
    pass "encoder features artefact, flip: reported, recomputed, clean numbers"
  else
    fail "encoder features artefact, flip: numbers $(numbers "$encoder_record"), stderr: $(cat "$work/features.err")"
  fi
else
  echo "skipped: encoder features (no $data/models/all-MiniLM-L6-v2; ./w2s.sh setup fetches it)"
fi

# 3. the data changed under the cache: every label of the table flipped (same rows).
mkdir -p "$work/data/sklearn"
python3 -c 'import sys
src, dst = sys.argv[1:]
lines = open(src).read().splitlines()
out = [lines[0]] + [",".join(l.split(",")[:-1] + [str((int(l.split(",")[-1]) + 1) % 3)]) for l in lines[1:]]
open(dst, "w").write("\n".join(out) + "\n")' "$data/sklearn/wine_data.csv" "$work/data/sklearn/wine_data.csv"
data_for=$work/data out_for=$work/relabelled run >"$work/relabel.log" 2>&1
if grep -q ": cached" "$work/relabel.log"; then
  fail "relabelled data: a stage was served from the cache made from the old labels: $(grep ': cached' "$work/relabel.log")"
else
  pass "relabelled data (same rows): no stage reused from the cache"
fi
sed -i '5s/^[^,]*,/nan,/' "$work/data/sklearn/wine_data.csv"
if data_for=$work/data out_for=$work/relabelled run --quiet >/dev/null 2>"$work/nan.err"; then
  fail "a NaN cell was accepted"
elif [[ $(grep -c . "$work/nan.err") -eq 1 ]] && grep -q "wine_data.csv:5: field 1: expected a finite number, got 'nan'" "$work/nan.err"; then
  pass "a NaN cell: $(cat "$work/nan.err")"
else
  fail "a NaN cell: $(cat "$work/nan.err")"
fi

# 4. a full disk under --cache-dir (a 64 KiB tmpfs where mounting is allowed, else a 64 KiB
#    file-size limit), and an --out that cannot take the record (a 1 KiB file-size limit).
full_disk() {  # full_disk EXPECTED DIR LIMIT_KB ARGS...: one line of error, exit 1, nothing left in DIR
  local expected=$1 dir=$2 kb=$3
  shift 3
  (
    trap '' XFSZ  # a write past the limit then fails with EFBIG instead of killing the process
    [[ $kb -gt 0 ]] && ulimit -f "$kb"
    run --quiet "$@"
  ) >/dev/null 2>"$work/full.err"
  local status=$?
  if [[ $status -eq 1 && $(grep -c . "$work/full.err") -eq 1 && -z $(leftovers "$dir") ]] &&
    grep -q "$expected" "$work/full.err" && [[ -z $(record_in "$dir") ]]; then
    pass "full disk under $dir: $(cat "$work/full.err")"
  else
    fail "full disk under $dir: exit $status, leftovers '$(leftovers "$dir")', stderr: $(cat "$work/full.err")"
  fi
}
small=$work/small
mkdir -p "$small"
if mount -t tmpfs -o size=64k tmpfs "$small" 2>/dev/null; then
  cache_for=$small/cache full_disk "cache: cannot write" "$small" 0
  # --out on a disk with no space left at all: said so, before any work
  mkdir -p "$small/out"
  head -c 1M /dev/zero >"$small/filler" 2>/dev/null || true
  out_for=$small/out full_disk "out: no space left on the device" "$small/out" 0 --no-cache
  umount "$small"
else
  cache_for=$small/cache full_disk "cache: cannot write" "$small" 64
fi
out_for=$work/full-out full_disk "write failed" "$work/full-out" 1 --no-cache

# 5. divergence: stopped with one line; with --on-divergence record, counted by the report.
out_for=$work/diverged run --lr 1e6 --quiet >/dev/null 2>"$work/div.err"
status=$?
if [[ $status -eq 1 && $(grep -c . "$work/div.err") -eq 1 ]] && grep -q "diverged" "$work/div.err" &&
  [[ -z $(record_in "$work/diverged") ]]; then
  pass "--lr 1e6: $(cat "$work/div.err")"
else
  fail "--lr 1e6: exit $status: $(cat "$work/div.err")"
fi
out_for=$work/diverged run --seeds 0,1 --lr 1e6 --on-divergence record --quiet >/dev/null 2>&1 ||
  fail "--on-divergence record exited non-zero"
cp "$(record_in)" "$work/diverged/naive_finetune/wine_xs_m_healthy_seed9.jsonl"  # a healthy run beside them
report=$("$tools/w2s_report" "$work/diverged" 2>&1)
# the healthy run (another --lr: another configuration) is its own row, labelled by what differs
if grep -q "| naive_finetune (lr=0.001) | wine | xs → m | 1 |" <<<"$report" && grep -q "marked diverged" <<<"$report" &&
  grep -q "seed 0, 1" <<<"$report"; then
  pass "--on-divergence record: two records marked diverged, left out of the table and listed by the report"
else
  fail "--on-divergence record: the report says: $report"
fi
grep -q '"diverged"' "$(record_in "$work/diverged")" || fail "the diverged record is not marked"

[[ -z $(leftovers "$work/cache" "$work/results") ]] || fail "temporary files left: $(leftovers "$work/cache" "$work/results")"
if [[ $failures -gt 0 ]]; then
  echo "$failures fault(s) not handled" >&2
  exit 1
fi
echo "all faults handled"
