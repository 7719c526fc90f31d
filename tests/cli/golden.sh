#!/usr/bin/env bash
# golden.sh EXPERIMENTS_DIR DATA_DIR WORK GOLDEN_JSON: one seed of the main job's setting
# (experiments/configs/main.ini, on a part of Brown so that it runs in CI: --train-size 2000
# --test-size 500) against the numbers this machine's build recorded (tests/golden/main_seed0.json).
# Accuracies and PGR are pinned to the golden file's tolerance, measured as the largest change
# between 1 and 2 BLAS threads (docs/results.md, "The golden test"), so a BLAS thread change does
# not trip it and any change to what is computed does. Skipped (77) without the MiniLM checkpoint.
set -euo pipefail
experiments=$1 data=$2 work=$3 golden=$4
[[ -d $data/models/all-MiniLM-L6-v2 ]] || { echo "skipped: no $data/models/all-MiniLM-L6-v2 (./w2s.sh setup)"; exit 77; }
rm -rf "$work/results"
mkdir -p "$work"
"$experiments/naive_finetune" --config "$(dirname "$0")/../../experiments/configs/main.ini" --seeds 0 \
  --train-size 2000 --test-size 500 --data-dir "$data" --out "$work/results" --cache-dir "$work/cache" --quiet \
  ${W2S_GOLDEN_THREADS:+--threads "$W2S_GOLDEN_THREADS"}
record=$(ls "$work"/results/naive_finetune/brown_xs_minilm-l6_*_seed0.jsonl)
python3 - "$record" "$golden" <<'PY'
import json, sys
record = json.loads(open(sys.argv[1]).readline())
golden = json.load(open(sys.argv[2]))
m = record["metrics"]
got = {"weak": m["weak"]["accuracy"], "ceiling": m["ceiling"]["accuracy"], "student": m["student"]["accuracy"],
       "pgr": m["pgr"]}
bad = []
for k, want in golden["values"].items():
    tol = golden["tolerance"][k]
    line = f"{k}: got {got[k]:.6f}, golden {want:.6f}, tolerance {tol:g} ({record['runtime']['threads']} threads)"
    print(line)
    if not abs(got[k] - want) <= tol:
        bad.append(line)
if bad:
    sys.exit("golden numbers changed:\n" + "\n".join(bad))
print("golden: every number within its tolerance")
PY
