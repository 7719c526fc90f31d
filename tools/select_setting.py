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
# Options shown as columns when they differ between runs.
SHOWN = ["student", "lr", "epochs", "batch_size", "weak_lr", "weak_epochs", "eval_points", "train_size"]
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
    # One entry per run identity (identity.group: every option, the code, data and threads),
    # so runs that differ in any option (train-layers, val-fraction, batch size, ...) never
    # overwrite each other; `setting` is that identity less the weak size, which the rule's
    # first step compares learning rates (and any other option) over.
    runs = {}
    diverged = []
    for path in sorted(glob.glob(os.path.join(args.folder, "**", "*.jsonl"), recursive=True)):
        for number, line in enumerate(open(path, encoding="utf-8"), 1):
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{number}: not valid JSON ({e})")
            if r.get("experiment") != "ground_truth_student":
                continue
            if "diverged" in r or "metrics" not in r:
                diverged.append(f"{path}:{number}")
                continue
            if "identity" not in r:
                sys.exit(f"{path}:{number}: a record made before run identities; rerun ./w2s.sh select")
            fields, group = r["identity"]["fields"], r["identity"]["group"]
            config = fields["config"]  # without placement keys (experiment/identity.hpp)
            setting = dict(fields)
            setting["config"] = {k: v for k, v in fields["config"].items() if k != "weak"}
            setting.pop("weak", None)
            student = fields.get("policies", {}).get("student", {})
            config = dict(config, student=f"{student.get('name', '?')} {json.dumps(student.get('options', {}))}")
            entry = runs.setdefault(group, {"dataset": r["dataset"], "weak": r["weak"], "strong": r["strong"],
                                            "config": config, "setting": json.dumps(setting, sort_keys=True),
                                            "w": {}, "c": {}})
            entry["w"][r["seed"]] = r["metrics"]["weak"]["accuracy"]
            entry["c"][r["seed"]] = r["metrics"]["ceiling"]["accuracy"]
    if diverged:
        print(f"left out, diverged (no metrics): {len(diverged)} records: " + ", ".join(diverged), file=sys.stderr)
    if not runs:
        sys.exit(f"{args.folder}: no ground_truth_student records; run ./w2s.sh select first")
    for e in runs.values():
        e["mw"], e["mc"], e["n"] = statistics.mean(e["w"].values()), statistics.mean(e["c"].values()), len(e["w"])
    shown = [k for k in SHOWN if len({json.dumps(e["config"].get(k)) for e in runs.values()}) > 1]
    print("| dataset | weak → strong | " + "".join(f"{k} | " for k in shown) + "seeds | held-out weak | held-out ceiling | gap |")
    print("|---|---|" + "---|" * len(shown) + "---|---|---|---|")
    for e in sorted(runs.values(), key=lambda e: (e["dataset"], e["weak"], e["strong"], e["setting"])):
        cols = "".join(f" {e['config'].get(k)} |" for k in shown)
        print(f"| {e['dataset']} | {e['weak']} → {e['strong']} |{cols} {e['n']} | {e['mw']:.3f} | {e['mc']:.3f} | "
              f"{e['mc'] - e['mw']:+.3f} |")
    # 1. per (dataset, strong model), the setting with the best mean held-out ceiling
    ceiling = collections.defaultdict(list)
    for e in runs.values():
        ceiling[(e["dataset"], e["strong"], e["setting"])].append(e["mc"])
    best = {}
    for (d, s, setting), cs in ceiling.items():
        c = statistics.mean(cs)
        if (d, s) not in best or c > best[(d, s)][0]:
            best[(d, s)] = (c, setting)
    majority = majority_shares(args.data)
    print("\nmajority-class share of the training pool: " + ", ".join(f"{d} {m:.3f}" for d, m in majority.items()))
    kept = [e for e in runs.values()
            if e["mc"] - e["mw"] >= GAP and e["mw"] >= majority.get(e["dataset"], 1.0) + INFORMATIVE
            and best[(e["dataset"], e["strong"])][1] == e["setting"]]
    for d in PREFERENCE:
        pairs = [e for e in kept if e["dataset"] == d]
        if pairs:
            chosen = max(pairs, key=lambda e: e["mw"])
            dataset, weak, strong, w, c = chosen["dataset"], chosen["weak"], chosen["strong"], chosen["mw"], chosen["mc"]
            lr, epochs = chosen["config"]["lr"], chosen["config"]["epochs"]
            break
    else:
        sys.exit(f"no pair has a held-out gap of at least {GAP}")
    base = dataset[: -len("-val")]
    print(f"\nchosen: {base}, weak {weak} → strong {strong}, probe lr {lr:g}, {epochs} epochs "
          f"(held-out weak {w:.3f}, ceiling {c:.3f}, gap {c - w:.3f})")
    if args.ini:
        text = (f"# The main job's setting, chosen on validation data by tools/select_setting.py\n"
                f"# (./w2s.sh select; docs/results.md): held-out weak {w:.3f}, ceiling {c:.3f}.\n"
                f"dataset = {base}\nweak = {weak}\nstrong = {strong}\nlr = {lr:g}\nepochs = {epochs}\n")
        policy = json.loads(chosen["setting"]).get("policies", {}).get("student", {})
        if policy.get("name") == "finetune" and "train_layers" in policy.get("options", {}):
            text += f"\n[finetune]\ntrain-layers = {policy['options']['train_layers']}\n"
        tmp = args.ini + ".part"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.ini)
        print(f"wrote {args.ini}")


if __name__ == "__main__":
    main()
