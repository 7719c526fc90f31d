#!/usr/bin/env bash
# run.sh BUILD_DIR DATA_DIR WORK [CHECK...]: parity of our tokenizers and models with
# Hugging Face's (check.py; CHECK is wordpiece, bert, bpe or gpt2, default all four).
# Uses $W2S_PYTHON, a Python with torch, transformers, tokenizers and safetensors;
# without one it says so and exits 77, which ctest reports as skipped.
set -euo pipefail
build=$1 data=$2 work=$3
shift 3
checks=("$@")
[[ ${#checks[@]} -gt 0 ]] || checks=(wordpiece bert bpe gpt2)
here=$(cd "$(dirname "$0")" && pwd)
if [[ -z ${W2S_PYTHON:-} ]]; then
  echo "SKIP: W2S_PYTHON is not set (the test command sets it to .venv/bin/python)"
  exit 77
fi
if ! "$W2S_PYTHON" -c "import torch, transformers, tokenizers, safetensors" 2>/dev/null; then
  echo "SKIP: $W2S_PYTHON cannot import torch, transformers, tokenizers and safetensors"
  exit 77
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
mkdir -p "$work"
"$W2S_PYTHON" "$here/make_texts.py" "$data" "$work/texts.jsonl"
status=0
for check in "${checks[@]}"; do
  "$W2S_PYTHON" "$here/check.py" "$check" --encode "$build/tools/w2s_encode" --data "$data" \
    --texts "$work/texts.jsonl" --work "$work" || status=1
done
exit $status
