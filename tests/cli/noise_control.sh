#!/usr/bin/env bash
# noise_control.sh EXPERIMENTS TOOLS DATA WORK: --noise-control records, beside the aux-loss
# student's PGR, the same student trained on ground truth with the weak supervisor's error count
# flipped at random (metrics.noise_control), and the report shows its PGR; without the option the
# record has none and the report says "not run". Also checks the fields issue 21 added beside it:
# the supervisor's calibration on the transfer half and both namings of the label-free control.
set -u
experiments=$1 tools=$2 data=$3 work=$4
rm -rf "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
run() {
  "$experiments/aux_confidence_loss" --dataset breast-cancer --smoke --quiet --data-dir "$data" --out "$work/$1" \
    --cache-dir "$work/cache" "${@:2}"
}
run with --noise-control >/dev/null || fail "the run with --noise-control failed"
run without >/dev/null || fail "the run without it failed"
python3 - "$work" <<'PY' || fail "records"
import json, pathlib, sys
work = pathlib.Path(sys.argv[1])
def record(folder):
    files = sorted((work / folder).rglob("*.jsonl"))
    assert len(files) == 1, f"{folder}: expected one record, found {files}"
    return json.loads(files[0].read_text().splitlines()[-1])
m = record("with")["metrics"]
n = m["noise_control"]
weak = m["weak"]["transfer_calibration"]
# The weak labels are soft (WeakLabels<Soft>), so the control's labels are too.
assert n["labels"] == "random_noise_soft", n
assert 0 < n["error_rate"] < 0.5 and n["errors"] >= 1, n
assert 0 <= n["accuracy"] <= 1, n
gap = m["ceiling"]["accuracy"] - m["weak"]["accuracy"]
if gap > 0:
    assert abs(n["pgr"] - (n["accuracy"] - m["weak"]["accuracy"]) / gap) < 1e-12, n
else:
    assert n["pgr"] is None, n  # no gap: no PGR, as for the student
assert 0 <= weak["mean_margin"] <= 0.5 and 0 <= weak["ece"] <= 1, weak
assert abs(weak["mean_confidence"] - 0.5 - weak["mean_margin"]) < 1e-12, weak
for model in ("weak", "ceiling", "student"):
    assert set(m[model]["calibration"]) == {"mean_confidence", "mean_margin", "ece"}, m[model]
for baseline in ("kmeans", "pca_sign"):
    lf = m["label_free"][baseline]
    assert 0 <= lf["accuracy_majority_naming"] <= 1 and 0 <= lf["accuracy"] <= 1, lf
without = record("without")["metrics"]
assert "noise_control" not in without, without.keys()
print("noise control:", json.dumps(n), "weak transfer calibration:", json.dumps(weak))
PY
report=$("$tools/w2s_report" --include-smoke "$work/with" "$work/without") || fail "w2s_report failed"
grep -q "noise-control PGR" <<<"$report" || fail "no noise-control column: $report"
grep -Eq "^\| aux_confidence_loss[^|]* \| breast-cancer \| [^|]+ \| 1 \| ([^|]+\| ){5}-?[0-9]+\.[0-9]{2} \|" \
  <<<"$report" || fail "no row shows a noise-control PGR: $report"
grep -Eq "^\| aux_confidence_loss[^|]* \| breast-cancer \| [^|]+ \| 1 \| ([^|]+\| ){5}not run \|" \
  <<<"$report" || fail "no row says not run: $report"
grep "aux_confidence_loss" <<<"$report"
