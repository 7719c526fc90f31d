#!/usr/bin/env bash
# bench/build_times.sh [--quick] [WORK_DIR]: what an ablation file costs to build, with the compiled engine
# (w2s::engine, the default) and header-only (-DW2S_HEADER_ONLY=ON), back to back on this machine
# (docs/performance.md). For each: a clean build of every experiment and tool from an empty build
# folder, then `touch experiments/kl_loss.cpp` and its rebuild (compile, fingerprint, link), twice.
# ccache is off and 2 jobs run, so the numbers are the compiler's. Prints each time and the ratios
# it is judged on: the one-file rebuild against its budget of 15 s, and header-only / compiled.
# Run it on an idle machine: it takes about 20 minutes on 2 cores. --quick builds only what
# kl_loss needs from the empty folder (no clean-build time, about 8 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[[ ${1:-} == --quick ]] && quick=1 && shift
work=${1:-/tmp/w2s-build-times}
jobs=${W2S_JOBS:-2}
now() { date +%s.%N; }
declare -A clean touch1
for mode in compiled header-only; do
  dir=$work/$mode
  flag=OFF
  [[ $mode == header-only ]] && flag=ON
  rm -rf "$dir"
  CCACHE_DISABLE=1 cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2S_HEADER_ONLY=$flag >/dev/null
  targets=$(cd "$dir" && ninja -t targets all | grep -E '^(experiments|tools)/[a-z_0-9]+: CXX_EXECUTABLE_LINKER' |
    cut -d: -f1 | sort -u)
  ((quick)) && targets=experiments/kl_loss
  start=$(now)
  CCACHE_DISABLE=1 ninja -C "$dir" -j "$jobs" $targets >"$dir.log" 2>&1
  clean[$mode]=$(echo "$(now) - $start" | bc)
  printf '%-12s build from an empty folder of %d experiment and tool binaries: %6.1f s\n' "$mode" \
    "$(wc -w <<<"$targets")" \
    "${clean[$mode]}"
  for i in 1 2; do
    touch experiments/kl_loss.cpp
    start=$(now)
    CCACHE_DISABLE=1 ninja -C "$dir" experiments/kl_loss >>"$dir.log" 2>&1
    t=$(echo "$(now) - $start" | bc)
    [[ $i == 2 ]] && touch1[$mode]=$t
    printf '%-12s touch experiments/kl_loss.cpp and rebuild it (%d): %6.1f s\n' "$mode" "$i" "$t"
  done
done
echo
printf 'one-file rebuild, compiled engine: %.1f s against a budget of 15 s (ratio %.2f)\n' "${touch1[compiled]}" \
  "$(echo "${touch1[compiled]} / 15" | bc -l)"
what="clean build"
((quick)) && what="kl_loss from an empty folder"
printf 'header-only / compiled: one-file rebuild %.2fx, %s %.2fx\n' \
  "$(echo "${touch1[header-only]} / ${touch1[compiled]}" | bc -l)" "$what" \
  "$(echo "${clean[header-only]} / ${clean[compiled]}" | bc -l)"
