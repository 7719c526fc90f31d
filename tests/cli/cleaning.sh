#!/usr/bin/env bash
# cleaning.sh EXPERIMENTS TOOLS DATA WORK: the label-cleaning experiments of issue 22 end to end on
# breast-cancer (--smoke): each record's metrics.cleaning says how many transfer rows were kept and
# what share of the supervisor's errors and correct labels went; the oracle (which reads ground
# truth) removes errors first and the random control removes both alike; the report shows them.
set -u
experiments=$1 tools=$2 data=$3 work=$4
rm -rf "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
for e in topo_filter oracle_filter random_filter zeta_relabel; do
  "$experiments/$e" --dataset breast-cancer --smoke --quiet --data-dir "$data" --out "$work/records" \
    --cache-dir "$work/cache" --contamination 0.2 >/dev/null || fail "$e failed"
done
python3 - "$work/records" <<'PY' || fail "records"
import json, pathlib, sys
records = {}
for f in pathlib.Path(sys.argv[1]).rglob("*.jsonl"):
    r = json.loads(f.read_text().splitlines()[-1])
    records[r["experiment"]] = r["metrics"]["cleaning"]
assert set(records) == {"topo_filter", "oracle_filter", "random_filter", "zeta_relabel"}, records.keys()
o, r, t, z = records["oracle_filter"], records["random_filter"], records["topo_filter"], records["zeta_relabel"]
n = o["of"]
keep = round(0.8 * n)  # round((1 - contamination) N), half to even
assert o["kept"] == keep and r["kept"] == keep, (o, r, keep)
assert t["kept"] <= n - round(0.2 * n), t  # TopoFilter removes at least its contamination
assert z["kept"] == n, z  # relabelling keeps every row
assert o["method"] == "oracle_filter" and z["method"] == "zeta_relabel", (o, z)
# The oracle drops the labels farthest from the truth: every error before any correct label.
errors = round(o["weak_error_rate"] * n)
dropped = n - keep
assert o["weak_errors_removed"] == 1.0 or o["correct_labels_removed"] == 0.0, o
assert o["target_error_rate"] <= o["weak_error_rate"], o
assert o["weak_errors_removed"] >= r["weak_errors_removed"], (o, r)
print(f"ok: {n} transfer rows, {errors} weak errors, {dropped} dropped; oracle removed "
      f"{o['weak_errors_removed']:.2f} of the errors, random {r['weak_errors_removed']:.2f}, "
      f"TopoFilter {t['weak_errors_removed']:.2f} (and {t['correct_labels_removed']:.2f} of the correct labels)")
PY
"$tools/w2s_report" --include-smoke "$work/records" | grep -q "Label cleaning (metrics.cleaning" || fail "the report has no label-cleaning table"
