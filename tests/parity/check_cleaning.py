"""Parity of w2s's label cleaning (include/w2s/labels/cleaning.hpp, through tools/w2s_clean) with
cleaning_reference.py, a numpy/scipy reference of EleutherAI's formulas (docs/cleaning-reference-notes.md),
on fixed random features: identical kept indices, labels and predictions within 1e-6 (1e-12 where
both sides compute the same sums in double precision).

    check_cleaning.py --clean BUILD/tools/w2s_clean --work DIR
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cleaning_reference as ref  # noqa: E402


def dataset(kind: str, n: int, d: int, seed: int):
    rng = np.random.default_rng(seed)
    if kind == "blobs":  # two classes of points, the weak labels noisy around them
        truth = (rng.random(n) < 0.5).astype(np.int64)
        x = rng.normal(size=(n, d)) + 1.5 * truth[:, None] * rng.normal(size=(1, d))
        y = np.clip(0.5 + (truth - 0.5) * rng.uniform(0.1, 0.9, n) * np.where(rng.random(n) < 0.2, -1, 1), 0, 1)
    else:  # soft labels from a noisy linear score
        x = rng.normal(size=(n, d))
        score = x @ rng.normal(size=d) + rng.normal(size=n)
        y = 1 / (1 + np.exp(-score))
        truth = (score + rng.normal(size=n) > 0).astype(np.int64)
    x_test = rng.normal(size=(n // 4, d))
    return x, y, x_test, truth


CASES = [
    # name, data, parameters (w2s_clean option → reference parameter)
    ("linear-300", ("linear", 300, 8, 1), dict(contamination=0.1, k_cc=5, k_zeta=5, knn_k=20, l2p=1e-3,
                                              topo_k_cc=20, topo_k_zeta=20, zeta_k=0, relabel_kzeta=20)),
    ("blobs-400", ("blobs", 400, 16, 2), dict(contamination=0.1, k_cc=5, k_zeta=5, knn_k=50, l2p=1e-3,
                                             topo_k_cc=50, topo_k_zeta=50, zeta_k=0, relabel_kzeta=20)),
    ("linear-200-k2", ("linear", 200, 4, 3), dict(contamination=0.25, k_cc=2, k_zeta=3, knn_k=7, l2p=1e-2,
                                                  topo_k_cc=3, topo_k_zeta=4, zeta_k=7, relabel_kzeta=5)),
    # a dense graph: TopoCC keeps most points, so TopoFilter's zeta step removes the rest
    ("blobs-300-kcc40", ("blobs", 300, 4, 4), dict(contamination=0.45, k_cc=40, k_zeta=5, knn_k=20, l2p=1e-3,
                                                   topo_k_cc=40, topo_k_zeta=10, zeta_k=3, relabel_kzeta=20)),
]


def cpp_options(p: dict) -> list:
    return ["--contamination", str(p["contamination"]), "--k-cc", str(p["k_cc"]), "--k-zeta", str(p["k_zeta"]),
            "--probe-k", str(p["knn_k"]), "--probe-l2", str(p["l2p"]), "--probe-k-cc", str(p["topo_k_cc"]),
            "--probe-k-zeta", str(p["topo_k_zeta"]), "--zeta-k", str(p["zeta_k"]),
            "--relabel-k", str(p["relabel_kzeta"])]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clean", required=True, help="the w2s_clean binary")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    failures = []
    zeta_steps = []  # TopoFilter's second step must have run somewhere, or its parity says nothing

    def same(case, what, ours, theirs, tol=None):
        if tol is None:
            ok = list(ours) == list(theirs)
            detail = "" if ok else f"ours {len(ours)} {list(ours)[:12]}..., reference {len(theirs)} {list(theirs)[:12]}..."
        else:
            a, b = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
            ok = a.shape == b.shape and float(np.max(np.abs(a - b))) <= tol
            detail = f"max |difference| {float(np.max(np.abs(a - b))) if a.shape == b.shape else 'shape'} (tolerance {tol})"
        print(f"{case:>14}  {what:<24} {'ok' if ok else 'FAIL'}  {detail}")
        if not ok:
            failures.append(f"{case}: {what}")

    for name, (kind, n, d, seed), p in CASES:
        x, y, x_test, truth = dataset(kind, n, d, seed)
        inp = work / f"{name}.safetensors"
        save_file({"x": x, "y": y, "x_test": x_test, "truth": truth}, str(inp))
        out = work / f"{name}.json"
        subprocess.run([args.clean, "--in", str(inp), "--out", str(out), *cpp_options(p)], check=True)
        ours = json.loads(out.read_text())
        theirs = ref.run_all(x, y, dict(p, zeta_q=1 - p["contamination"], oracle_q=1 - p["contamination"]),
                             x_test=x_test, gt=truth)
        same(name, "TopoCC kept", ours["topo_cc"], theirs["topo_cc"]["kept"])
        same(name, "TopoFilter kept", ours["topo_filter"], theirs["topofilter"]["kept"])
        same(name, "zeta filter k", [ours["zeta_filter_k"]], [theirs["zeta_filter"]["k"]])
        same(name, "zeta filter kept", ours["zeta_filter"], theirs["zeta_filter"]["kept"])
        same(name, "zeta relabel", ours["zeta_relabel"], theirs["zeta_relabel"]["labels"], 1e-12)
        same(name, "zeta relabel disagree", ours["zeta_disagree_relabel"], theirs["zeta_disagree_relabel"]["labels"], 1e-12)
        same(name, "zeta relabel worst", ours["zeta_worst_relabel"], theirs["zeta_worst_relabel"]["labels"], 1e-12)
        same(name, "kNN probe", ours["knn_probe"], theirs["knn_probe"]["train_pred"], 1e-12)
        same(name, "kNN probe on test", ours["knn_probe_test"], theirs["knn_probe"]["test_pred"], 1e-12)
        same(name, "kNN filter kept", ours["knn_filter"], theirs["knn_probe"]["filter"]["kept"])
        same(name, "logistic probe", ours["logistic_probe"], theirs["logistic_probe"]["train_pred"], 1e-6)
        same(name, "logistic probe on test", ours["logistic_probe_test"], theirs["logistic_probe"]["test_pred"], 1e-6)
        same(name, "logistic filter kept", ours["logistic_filter"], theirs["logistic_probe"]["filter"]["kept"])
        same(name, "topo probe", ours["topo_probe"], theirs["topo_probe"]["train_pred"], 1e-12)
        same(name, "topo probe on test", ours["topo_probe_test"], theirs["topo_probe"]["test_pred"], 1e-12)
        same(name, "topo probe filter kept", ours["topo_probe_filter"], theirs["topo_probe"]["filter_modified"]["kept"])
        same(name, "oracle filter kept", ours["oracle_filter"], theirs["oracle_filter"]["kept"])
        zeta_step = max(theirs["topofilter"]["removed_by_zeta"], 0)
        print(f"{name:>14}  {n} points: TopoCC kept {len(ours['topo_cc'])}, TopoFilter's zeta step removed {zeta_step}")
        zeta_steps.append(zeta_step)
    if max(zeta_steps) == 0:
        failures.append("no case exercised TopoFilter's zeta step (TopoCC removed enough everywhere)")
    if failures:
        print(f"FAIL: {len(failures)} differences: {'; '.join(failures)}")
        return 1
    print(f"label cleaning: {len(CASES)} data sets, every method identical to the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
