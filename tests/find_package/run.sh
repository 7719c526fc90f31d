#!/usr/bin/env bash
# run.sh SOURCE_DIR WORK_DIR DATA_DIR [BUILD_DIR]: installs w2s into WORK_DIR/prefix (from BUILD_DIR,
# the test's own build, where it built the engine; else configured and built from SOURCE_DIR here) and
# builds an outside project against it with find_package(w2s) twice: against the compiled engine
# w2s::engine (the default) and header-only (-DW2S_HEADER_ONLY=ON: the consumer compiles every
# definition, and the companion library's installed sources, itself). Each runs its experiment
# on a built-in dataset; both must write the same numbers (include/w2s/core/engine.hpp).
set -euo pipefail
src=$1 work=$2 data=$3 build=${4:-}
rm -rf "$work"
if [[ -z $build || ! -f $build/libw2s_engine.a ]]; then  # no build with the compiled engine to install from
  build=$work/build
  cmake -S "$src" -B "$build" -G Ninja -DW2S_BUILD_EXPERIMENTS=OFF -DW2S_BUILD_TESTS=OFF -DW2S_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" >/dev/null  # the engine and the dataset companion library
fi
cmake --install "$build" --prefix "$work/prefix" >/dev/null
launcher="$(command -v ccache || true)"
for mode in compiled header-only; do
  flag=OFF
  [[ $mode == header-only ]] && flag=ON
  cmake -S "$src/tests/find_package" -B "$work/consumer-$mode" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
        -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" -DW2S_HEADER_ONLY=$flag >/dev/null
  cmake --build "$work/consumer-$mode"
  # Which way it was built: the compiled consumer sees only declarations (W2S_COMPILED_ENGINE)
  # and links the installed engine; the header-only one neither.
  if [[ $mode == compiled ]]; then
    grep -q W2S_COMPILED_ENGINE "$work/consumer-$mode/build.ninja" ||
      { echo "compiled consumer: built without W2S_COMPILED_ENGINE"; exit 1; }
    grep -q libw2s_engine.a "$work/consumer-$mode/build.ninja" || { echo "compiled consumer: not linked to w2s::engine"; exit 1; }
  else
    ! grep -q 'W2S_COMPILED_ENGINE\|libw2s_engine' "$work/consumer-$mode/build.ninja" ||
      { echo "header-only consumer: built against the compiled engine"; exit 1; }
  fi
  "$work/consumer-$mode/experiments/my_ablation" --smoke --quiet --data-dir "$data" --out "$work/results-$mode" \
    --cache-dir "$work/cache-$mode"
done
# w2s_add_experiment embedded the fingerprint of the installed headers and the consumer's source;
# the two builds compute the same numbers.
python3 - "$work" <<'PY'
import glob, json, sys
work = sys.argv[1]
metrics = {}
for mode in ("compiled", "header-only"):
    [path] = glob.glob(f"{work}/results-{mode}/naive_finetune/fashion-mnist_xs_l_*_seed0.jsonl")
    r = json.loads(open(path).readline())
    code = r["identity"]["fields"]["code"]
    assert all(len(code[k]) == 16 and code[k] != "unknown" for k in ("library", "source")), code
    metrics[mode] = {k: r["metrics"][k] for k in ("weak", "ceiling", "student", "pgr")}
assert metrics["compiled"] == metrics["header-only"], f"the two builds differ: {metrics}"
print("compiled and header-only consumers: same numbers", metrics["compiled"]["student"]["accuracy"])
PY
echo "find_package(w2s) consumer built and ran, against the compiled engine and header-only"
