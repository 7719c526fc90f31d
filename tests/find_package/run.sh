#!/usr/bin/env bash
# run.sh SOURCE_DIR WORK_DIR DATA_DIR: installs w2s from SOURCE_DIR into WORK_DIR/prefix,
# builds an outside project against it with find_package(w2s), and runs its experiment.
set -euo pipefail
src=$1 work=$2 data=$3
rm -rf "$work"
cmake -S "$src" -B "$work/build" -G Ninja -DW2S_BUILD_EXPERIMENTS=OFF -DW2S_BUILD_TESTS=OFF -DW2S_BUILD_BENCH=OFF >/dev/null
cmake --install "$work/build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/tests/find_package" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_CXX_COMPILER_LAUNCHER="$(command -v ccache || true)" >/dev/null
cmake --build "$work/consumer"
"$work/consumer/experiments/my_ablation" --smoke --quiet --data-dir "$data" --out "$work/results" --cache-dir "$work/cache"
test -s "$work/results/naive_finetune/fashion-mnist_xs_l_seed0.jsonl"
echo "find_package(w2s) consumer built and ran"
