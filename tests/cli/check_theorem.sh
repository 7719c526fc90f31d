#!/usr/bin/env bash
# check_theorem.sh EXPERIMENTS_DIR TOOLS_DIR WORK: runs experiments/gain_vs_misfit
# on the Charikar et al. setting (20 transfer tasks, full budget, one seed) and
# checks the theorem on its records: on the transfer split, where the heads are
# fitted, gain >= misfit - 2*sqrt(misfit*err_ceiling) for every task (the
# tolerance docs/theory.md derives), and on the test split the correlation of
# (misfit, gain) over the tasks is at least 0.8.
set -euo pipefail
experiments=$1 tools=$2 work=$3
rm -rf "$work/results"
"$experiments/gain_vs_misfit" --seeds 0 --out "$work/results" --cache-dir "$work/cache" --quiet
"$tools/w2s_report" "$work/results" --tasks "$work/tasks.csv" >/dev/null
awk -F, 'NR > 1 {
  if ($4 == "transfer") { n++; if ($10 < $9 - $11 - 1e-9) { bad++; print "violated: task " $5 ": gain " $10 " < misfit " $9 " - " $11 } }
  if ($4 == "test") { m++; x += $9; y += $10; xx += $9 * $9; yy += $10 * $10; xy += $9 * $10 }
}
END {
  d = (m * xx - x * x) * (m * yy - y * y)
  if (m < 2 || d <= 0) { print "no test tasks, or misfit/gain constant: correlation undefined"; exit 1 }
  r = (m * xy - x * y) / sqrt(d)
  printf "transfer tasks: %d, violations: %d; test correlation(misfit, gain) over %d tasks: %.3f\n", n, bad, m, r
  exit (n >= 20 && bad == 0 && r >= 0.8) ? 0 : 1
}' "$work/tasks.csv"
