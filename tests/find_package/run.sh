#!/usr/bin/env bash
# run.sh SOURCE_DIR WORK_DIR DATA_DIR: installs w2s from SOURCE_DIR into WORK_DIR/prefix,
# builds an outside project against it with find_package(w2s), and runs its experiment on a
# built-in dataset (registered by the installed companion library's objects).
set -euo pipefail
src=$1 work=$2 data=$3
rm -rf "$work"
cmake -S "$src" -B "$work/build" -G Ninja -DW2S_BUILD_EXPERIMENTS=OFF -DW2S_BUILD_TESTS=OFF -DW2S_BUILD_BENCH=OFF >/dev/null
cmake --build "$work/build" >/dev/null  # the dataset companion library (compiled; the core is headers)
cmake --install "$work/build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/tests/find_package" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_CXX_COMPILER_LAUNCHER="$(command -v ccache || true)" >/dev/null
cmake --build "$work/consumer"
"$work/consumer/experiments/my_ablation" --smoke --quiet --data-dir "$data" --out "$work/results" --cache-dir "$work/cache"
record=$(ls "$work"/results/naive_finetune/fashion-mnist_xs_l_*_seed0.jsonl)
# w2s_add_experiment embedded the fingerprint of the installed headers and the consumer's source
python3 -c 'import json, sys
code = json.loads(open(sys.argv[1]).readline())["identity"]["fields"]["code"]
assert all(len(code[k]) == 16 and code[k] != "unknown" for k in ("library", "source")), code' "$record"
echo "find_package(w2s) consumer built and ran"
