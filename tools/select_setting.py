#!/usr/bin/env python3
"""Chooses the main job's setting from validation runs only (docs/results.md, "How the
setting was chosen"). `./w2s.sh select` makes the runs: ground_truth_student on the
validation variants (`--dataset NAME-val`: 80% of the training pool trains, 20% is held
out; no test example is read) for each text dataset, weak size and probe learning rate.

The rule, fixed before the runs:
  1. per dataset, the strong probe's learning rate with the best mean held-out ceiling;
  2. keep the (dataset, weak size) pairs whose mean held-out gap, ceiling - weak, is at
     least 0.08 (the issue's "real gap"), and whose supervisor learned something: its
     held-out accuracy at least 0.03 above always answering the majority class (the
     class shares of the training pool: MAJORITY below);
  3. prefer the sentiment task (fine-foods) if any of its pairs is kept, else brown;
  4. within it, the weak size with the highest held-out accuracy: the best supervisor
     that still leaves the gap.
Prints the table and the choice; `--ini FILE` also writes the choice as a config file.

    python3 tools/select_setting.py results/select [--ini experiments/configs/main.ini]
"""
import argparse
import collections
import glob
import json
import os
import statistics
import sys

PREFERENCE = ["fine-foods-val", "brown-val"]
GAP = 0.08
INFORMATIVE = 0.03


def majority_shares(data):
    """The majority class's share of each candidate's training pool: fine-foods from its
    export (2,600 of 4,000 are "great"); brown is balanced by construction (docs/text.md)."""
    labels = [json.loads(line)["label"] for line in open(os.path.join(data, "text", "fine-foods", "train.jsonl"))]
    top = max(labels.count(c) for c in set(labels))
    return {"fine-foods-val": top / len(labels), "brown-val": 0.5}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="the --out folder of the validation runs")
    ap.add_argument("--ini", help="write the chosen setting here as a w2s config file")
    ap.add_argument("--data", default="data", help="the data folder (for fine-foods' class shares)")
    args = ap.parse_args()
    runs = collections.defaultdict(lambda: {"weak": {}, "ceiling": {}})
    for path in glob.glob(os.path.join(args.folder, "**", "*.jsonl"), recursive=True):
        for number, line in enumerate(open(path, encoding="utf-8"), 1):
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{number}: not valid JSON ({e})")
            if r.get("experiment") != "ground_truth_student":
                continue
            key = (r["dataset"], r["weak"], r["strong"], r["config"]["lr"], r["config"]["epochs"])
            runs[key]["weak"][r["seed"]] = r["metrics"]["weak"]["accuracy"]
            runs[key]["ceiling"][r["seed"]] = r["metrics"]["ceiling"]["accuracy"]
    if not runs:
        sys.exit(f"{args.folder}: no ground_truth_student records; run ./w2s.sh select first")
    mean = {k: (statistics.mean(v["weak"].values()), statistics.mean(v["ceiling"].values()), len(v["weak"]))
            for k, v in runs.items()}
    print("| dataset | weak → strong | probe lr | epochs | seeds | held-out weak | held-out ceiling | gap |")
    print("|---|---|---|---|---|---|---|---|")
    for k in sorted(mean):
        w, c, n = mean[k]
        print(f"| {k[0]} | {k[1]} → {k[2]} | {k[3]:g} | {k[4]} | {n} | {w:.3f} | {c:.3f} | {c - w:+.3f} |")
    best_lr = {}
    for (d, _, s, lr, ep), (_, c, _) in mean.items():
        if (d, s) not in best_lr or c > best_lr[(d, s)][0]:
            best_lr[(d, s)] = (c, lr, ep)
    majority = majority_shares(args.data)
    print("\nmajority-class share of the training pool: " + ", ".join(f"{d} {m:.3f}" for d, m in majority.items()))
    kept = [(k, mean[k]) for k in mean
            if mean[k][1] - mean[k][0] >= GAP and mean[k][0] >= majority.get(k[0], 1.0) + INFORMATIVE
            and best_lr[(k[0], k[2])][1:] == (k[3], k[4])]
    for d in PREFERENCE:
        pairs = [(k, m) for k, m in kept if k[0] == d]
        if pairs:
            (dataset, weak, strong, lr, epochs), (w, c, _) = max(pairs, key=lambda p: p[1][0])
            break
    else:
        sys.exit(f"no pair has a held-out gap of at least {GAP}")
    base = dataset[: -len("-val")]
    print(f"\nchosen: {base}, weak {weak} → strong {strong}, probe lr {lr:g}, {epochs} epochs "
          f"(held-out weak {w:.3f}, ceiling {c:.3f}, gap {c - w:.3f})")
    if args.ini:
        text = (f"# The main job's setting, chosen on validation data by tools/select_setting.py\n"
                f"# (./w2s.sh select; docs/results.md): held-out weak {w:.3f}, ceiling {c:.3f}.\n"
                f"dataset = {base}\nweak = {weak}\nstrong = {strong}\ntrain-layers = 0\nlr = {lr:g}\nepochs = {epochs}\n")
        tmp = args.ini + ".part"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.ini)
        print(f"wrote {args.ini}")


if __name__ == "__main__":
    main()
