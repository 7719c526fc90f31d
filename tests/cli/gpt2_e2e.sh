#!/usr/bin/env bash
# gpt2_e2e.sh TOOLS_DIR EXPERIMENTS_DIR DATA_DIR WORK: weak tiny GPT-2 → strong tiny
# GPT-2 on a small jsonl in the openai format written here (Brown corpus news vs
# fiction sentences as "txt", fiction = hard_label 1), through the unchanged
# naive_finetune and aux_confidence_loss files, with gradient accumulation.
set -euo pipefail
tools=$1 experiments=$2 data=$3 work=$4
rm -rf "$work" && mkdir -p "$work/data/openai/sciq" "$work/data/text" "$work/data/models"
ln -s "$data/text/gpt2" "$work/data/text/gpt2"
"$tools/make_tiny_gpt2" "$work/data/models/tiny-weak" --n-embd 8 --n-layer 1 --seed 1 >/dev/null
"$tools/make_tiny_gpt2" "$work/data/models/tiny-strong" --n-embd 16 --n-layer 2 --seed 2 >/dev/null
jsonl() {  # FILE LABEL COUNT: sentences → {"txt": ..., "hard_label": LABEL}, quotes and backslashes escaped
  sed -e 's#/[^ ]*##g' -e 's/^[[:space:]]*//' -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$1" |
    awk -v l="$2" -v n="$3" 'NF >= 5 && c < n {print "{\"txt\": \"" $0 "\", \"hard_label\": " l "}"; c++}'
}
{ jsonl "$data/text/brown/ca01" 0 60; jsonl "$data/text/brown/ck01" 1 60; } >"$work/data/openai/sciq/train.jsonl"
{ jsonl "$data/text/brown/ca02" 0 20; jsonl "$data/text/brown/ck02" 1 20; } >"$work/data/openai/sciq/test.jsonl"
common=(--dataset sciq --data-dir "$work/data" --weak tiny-weak --strong tiny-strong --batch-size 8 --minibatch 2
        --epochs 1 --weak-epochs 1 --out "$work/results" --cache-dir "$work/cache" --quiet)
"$experiments/naive_finetune" "${common[@]}"
"$experiments/aux_confidence_loss" "${common[@]}"
"$experiments/few_shot_prompting" "${common[@]}" --shots 2
for e in naive_finetune aux_confidence_loss few_shot_prompting; do
  grep -q '"pgr"' "$work"/results/"$e"/sciq_tiny-weak_tiny-strong_*_seed0.jsonl
done
echo "ok: records for naive_finetune, aux_confidence_loss, few_shot_prompting"
