#!/usr/bin/env bash
# run.sh BUILD_DIR DATA_DIR WORK [CHECK...]: parity of our tokenizers and models with
# Hugging Face's (check.py; CHECK is wordpiece, bert, bpe or gpt2, default all four), of the label
# cleaning of issue 22 with a reference of EleutherAI's formulas (CHECK cleaning, check_cleaning.py), and of the
# converted minilm-l3 with onnxruntime on its original ONNX file (CHECK minilm_l3, check_minilm_l3.py),
# and of SmolLM2 read from its GGUF file with transformers reading the same file (CHECK smollm2,
# check_smollm2.py: the dequantised tensors, the tokenizer, the hidden states).
# Uses $W2S_PYTHON, a Python with torch, transformers, tokenizers and safetensors;
# without one it says so and exits 77, which ctest reports as skipped, except where it is
# required (W2S_REQUIRE_PARITY=1, or CI=true): there it fails.
set -euo pipefail
build=$1 data=$2 work=$3
shift 3
checks=("$@")
[[ ${#checks[@]} -gt 0 ]] || checks=(wordpiece bert bpe gpt2)
here=$(cd "$(dirname "$0")" && pwd)
# Where the reference must be there (./w2s.sh test sets W2S_REQUIRE_PARITY=1, and CI=true in CI),
# its absence fails the test instead of skipping it.
missing() {
  if [[ ${W2S_REQUIRE_PARITY:-} == 1 || ${CI:-} == true ]]; then
    echo "FAIL: $1; the parity tests are required here (W2S_REQUIRE_PARITY=1 or CI=true): ./w2s.sh python makes it" >&2
    exit 1
  fi
  echo "SKIP: $1"
  exit 77
}
[[ -n ${W2S_PYTHON:-} ]] || missing "W2S_PYTHON is not set (the test command sets it to .venv/bin/python)"
if [[ ${checks[*]} == cleaning ]]; then  # EleutherAI's label cleaning: numpy and scipy, no transformers
  "$W2S_PYTHON" -c "import numpy, scipy, safetensors" 2>/dev/null ||
    missing "$W2S_PYTHON cannot import numpy, scipy and safetensors"
  mkdir -p "$work"
  exec "$W2S_PYTHON" "$here/check_cleaning.py" --clean "$build/tools/w2s_clean" --work "$work"
fi
"$W2S_PYTHON" -c "import torch, transformers, tokenizers, safetensors" 2>/dev/null ||
  missing "$W2S_PYTHON cannot import torch, transformers, tokenizers and safetensors"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
mkdir -p "$work"
"$W2S_PYTHON" "$here/make_texts.py" "$data" "$work/texts.jsonl"
status=0
for check in "${checks[@]}"; do
  if [[ $check == mpnet && ! -s $data/models/all-mpnet-base-v2/model.safetensors ]]; then
    missing "no $data/models/all-mpnet-base-v2: ./w2s.sh models fetches it"
  fi
  if [[ $check == smollm2 ]]; then  # SmolLM2's GGUF file: transformers reads it through gguf
    gguf_file=$data/models/SmolLM2-135M-Instruct.Q4_1.gguf
    [[ -s $gguf_file ]] || missing "no $gguf_file: ./w2s.sh models fetches it"
    "$W2S_PYTHON" -c "import gguf" 2>/dev/null || missing "$W2S_PYTHON cannot import gguf (./w2s.sh python)"
    "$W2S_PYTHON" "$here/check_smollm2.py" --gguf "$gguf_file" --gguf-tool "$build/tools/w2s_gguf" \
      --encode "$build/tools/w2s_encode" --texts "$work/texts.jsonl" --work "$work" || status=1
    continue
  fi
  if [[ $check == minilm_l3 ]]; then
    folder=$data/models/paraphrase-MiniLM-L3-v2
    [[ -s $folder/model.safetensors && -s $folder.onnx ]] || missing "no $folder (and .onnx): ./w2s.sh models fetches it"
    "$W2S_PYTHON" -c "import onnxruntime" 2>/dev/null || missing "$W2S_PYTHON cannot import onnxruntime (./w2s.sh python)"
    "$W2S_PYTHON" "$here/check_minilm_l3.py" --folder "$folder" --encode "$build/tools/w2s_encode" \
      --texts "$work/texts.jsonl" --work "$work" || status=1
    continue
  fi
  "$W2S_PYTHON" "$here/check.py" "$check" --encode "$build/tools/w2s_encode" --data "$data" \
    --texts "$work/texts.jsonl" --work "$work" || status=1
done
exit $status
