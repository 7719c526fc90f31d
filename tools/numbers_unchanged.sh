#!/usr/bin/env bash
# tools/numbers_unchanged.sh BEFORE_EXPERIMENTS_DIR AFTER_EXPERIMENTS_DIR [WORK]: for a change that must
# not move a number. Runs the same thirteen records with two builds' experiment binaries (one seed each,
# one BLAS thread, separate caches): the main job's setting on 2,000 Brown rows for naive, aux loss,
# random noise, few-shot, KL with --val-fraction and top-1 fine-tuning; bootstrapping on
# breast-cancer; KL on digits; --smoke runs of KL, bootstrapping and the regression task; the
# early-stopping oracle and ProbeAfter (weak_then_probe) on breast-cancer. Then
# tools/compare_records.py BEFORE AFTER: exit 1 if any value differs. About 4 minutes on 2 cores.
# A build of an older revision: git worktree add /tmp/before REV && cmake -S /tmp/before -B /tmp/before/build
# -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C /tmp/before/build (its experiments/ is BEFORE).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
before=$1 after=$2 work=${3:-/tmp/w2s-numbers-unchanged}
data=${W2S_DATA_DIR:-$here/data}
main=$here/experiments/configs/main.ini
export OMP_WAIT_POLICY=PASSIVE
run() {  # run EXPERIMENTS_DIR OUT
  local e=$1 out=$2
  rm -rf "$out"
  local common=(--data-dir "$data" --out "$out/results" --cache-dir "$out/cache" --quiet --threads 1 --seeds 0)
  local small=(--config "$main" --train-size 2000 --test-size 500)
  "$e/naive_finetune" "${small[@]}" "${common[@]}"
  "$e/aux_confidence_loss" "${small[@]}" "${common[@]}"
  "$e/random_noise_vs_weak_labels" "${small[@]}" "${common[@]}"
  "$e/few_shot_prompting" "${small[@]}" "${common[@]}"
  "$e/kl_loss" "${small[@]}" --val-fraction 0.2 "${common[@]}"
  "$e/ground_truth_student" --config "$main" --train-layers 1 --epochs 1 --lr 1e-3 --train-size 400 --test-size 200 \
    "${common[@]}"
  "$e/bootstrapping" --dataset breast-cancer --weak xs --strong l "${common[@]}"
  "$e/kl_loss" --dataset digits --weak xs --strong m "${common[@]}"
  "$e/kl_loss" --smoke --val-fraction 0.2 "${common[@]}"
  "$e/bootstrapping" --smoke "${common[@]}"
  "$e/gain_vs_misfit" --smoke "${common[@]}"
  # the students that wrap others: the oracle's best step, and ProbeAfter's probe on ground truth
  "$e/early_stopping_oracle" --dataset breast-cancer --weak xs --strong l "${common[@]}"
  "$e/weak_then_probe" --dataset breast-cancer --weak xs --strong l "${common[@]}"
}
run "$before" "$work/before"
run "$after" "$work/after"
python3 "$here/tools/compare_records.py" "$work/before/results" "$work/after/results"
