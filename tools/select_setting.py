#!/usr/bin/env python3
"""Chooses the main job's setting from validation runs only (docs/results.md, "How the
setting was chosen"). `./w2s.sh select` makes the runs: ground_truth_student on the
validation variants (`--dataset NAME-val`: 80% of the training pool trains, 20% is held
out; no test example is read) for each text dataset, weak size and probe learning rate.

The rule, fixed before the runs (issue 21; the validation split holds out whole Brown files,
as its test split does):
  1. per dataset, the strong probe's learning rate with the best mean held-out ceiling;
  2. per (dataset, weak size), the weak budget (weak epochs and learning rate) with the best
     mean held-out weak accuracy: a weak model is weak by its size or pretraining, not by
     being stopped early;
  3. keep the (dataset, weak size) pairs whose mean held-out gap, ceiling - weak, is at
     least 0.08 (the issue's "real gap"); whose supervisor learned something: its held-out
     accuracy at least 0.03 above always answering the majority class (the class shares of
     the training pool: majority_shares below); and whose task the strong model's features
     do not already solve without labels: the label-free control (k-means on the strong
     features, clusters named by the weak labels; metrics.label_free) recovers at most half
     the held-out gap (PGR of its mean accuracy <= 0.5);
  4. prefer the sentiment task (fine-foods) if any of its pairs is kept, else brown;
  5. within it, the weak size with the highest held-out accuracy: the best supervisor
     that still leaves the gap.
Prints the table and the choice; `--ini FILE` also writes the choice as a config file. When
no pair passes it says why for each and exits 3, writing nothing.

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
LABEL_FREE_MAX_PGR = 0.5


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
            # `setting`: what step 1 compares (the strong side), so the weak size and budget are left out
            setting = dict(fields)
            setting["config"] = {k: v for k, v in fields["config"].items()
                                 if k not in ("weak", "weak_epochs", "weak_lr")}
            setting.pop("weak", None)
            data = dict(fields.get("data", {}))  # the weak backbone's cache key names the weak size too
            data["backbones"] = {k: v for k, v in data.get("backbones", {}).items() if k != "weak"}
            setting["data"] = data
            student = fields.get("policies", {}).get("student", {})
            config = dict(config, student=f"{student.get('name', '?')} {json.dumps(student.get('options', {}))}")
            entry = runs.setdefault(group, {"dataset": r["dataset"], "weak": r["weak"], "strong": r["strong"],
                                            "config": config, "setting": json.dumps(setting, sort_keys=True),
                                            "w": {}, "c": {}, "lf": {}})
            entry["w"][r["seed"]] = r["metrics"]["weak"]["accuracy"]
            entry["c"][r["seed"]] = r["metrics"]["ceiling"]["accuracy"]
            label_free = r["metrics"].get("label_free") or {}
            if "kmeans" in label_free:
                entry["lf"][r["seed"]] = label_free["kmeans"]["accuracy"]
    if diverged:
        print(f"left out, diverged (no metrics): {len(diverged)} records: " + ", ".join(diverged), file=sys.stderr)
    if not runs:
        sys.exit(f"{args.folder}: no ground_truth_student records; run ./w2s.sh select first")
    for e in runs.values():
        e["mw"], e["mc"], e["n"] = statistics.mean(e["w"].values()), statistics.mean(e["c"].values()), len(e["w"])
        # the label-free control's PGR on the same held-out weak and ceiling (None: not recorded, or no gap)
        e["lf_pgr"] = ((statistics.mean(e["lf"].values()) - e["mw"]) / (e["mc"] - e["mw"])
                       if len(e["lf"]) == len(e["w"]) and e["mc"] > e["mw"] else None)
    shown = [k for k in SHOWN if len({json.dumps(e["config"].get(k)) for e in runs.values()}) > 1]
    print("| dataset | weak → strong | " + "".join(f"{k} | " for k in shown) +
          "seeds | held-out weak | held-out ceiling | gap | label-free PGR |")
    print("|---|---|" + "---|" * len(shown) + "---|---|---|---|---|")
    for e in sorted(runs.values(), key=lambda e: (e["dataset"], e["weak"], e["strong"], json.dumps(e["config"]))):
        cols = "".join(f" {e['config'].get(k)} |" for k in shown)
        lf = "n/a" if e["lf_pgr"] is None else f"{e['lf_pgr']:.2f}"
        print(f"| {e['dataset']} | {e['weak']} → {e['strong']} |{cols} {e['n']} | {e['mw']:.3f} | {e['mc']:.3f} | "
              f"{e['mc'] - e['mw']:+.3f} | {lf} |")
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
    # 2. per (dataset, strong setting, weak size), the weak budget with the best held-out weak accuracy
    on_best = [e for e in runs.values() if best[(e["dataset"], e["strong"])][1] == e["setting"]]
    budget = {}
    for e in on_best:
        k = (e["dataset"], e["strong"], e["weak"])
        if k not in budget or e["mw"] > budget[k]["mw"]:
            budget[k] = e
    print("\nper pair, on the best probe setting and the weak budget with the best held-out weak accuracy:")
    kept = []
    for k, e in sorted(budget.items()):
        why = []
        if e["mc"] - e["mw"] < GAP:
            why.append(f"gap {e['mc'] - e['mw']:.3f} < {GAP}")
        if e["mw"] < majority.get(e["dataset"], 1.0) + INFORMATIVE:
            why.append(f"weak {e['mw']:.3f} < majority {majority.get(e['dataset'], 1.0):.3f} + {INFORMATIVE}")
        if e["lf_pgr"] is None or e["lf_pgr"] > LABEL_FREE_MAX_PGR:
            why.append("label-free PGR " + ("not recorded" if e["lf_pgr"] is None else f"{e['lf_pgr']:.2f}") +
                       f" > {LABEL_FREE_MAX_PGR}")
        print(f"- {e['dataset']} {e['weak']} → {e['strong']} (weak epochs {e['config'].get('weak_epochs')}, "
              f"weak lr {e['config'].get('weak_lr')}): " + ("kept" if not why else "out: " + "; ".join(why)))
        if not why:
            kept.append(e)
    for d in PREFERENCE:
        pairs = [e for e in kept if e["dataset"] == d]
        if pairs:
            chosen = max(pairs, key=lambda e: e["mw"])
            dataset, weak, strong, w, c = chosen["dataset"], chosen["weak"], chosen["strong"], chosen["mw"], chosen["mc"]
            lr, epochs = chosen["config"]["lr"], chosen["config"]["epochs"]
            weak_epochs, weak_lr = chosen["config"]["weak_epochs"], chosen["config"]["weak_lr"]
            break
    else:
        print("\nno pair passes the rule (see above); nothing chosen")
        sys.exit(3)
    base = dataset[: -len("-val")]
    print(f"\nchosen: {base}, weak {weak} (weak epochs {weak_epochs}, weak lr {weak_lr:g}) → strong {strong}, "
          f"probe lr {lr:g}, {epochs} epochs (held-out weak {w:.3f}, ceiling {c:.3f}, gap {c - w:.3f}, "
          f"label-free PGR {chosen['lf_pgr']:.2f})")
    if args.ini:
        text = (f"# The main job's setting, chosen on validation data by tools/select_setting.py\n"
                f"# (./w2s.sh select; docs/results.md): held-out weak {w:.3f}, ceiling {c:.3f},\n"
                f"# label-free PGR {chosen['lf_pgr']:.2f}.\n"
                f"dataset = {base}\nweak = {weak}\nstrong = {strong}\nlr = {lr:g}\nepochs = {epochs}\n"
                f"weak-epochs = {weak_epochs}\nweak-lr = {weak_lr:g}\nnoise-control = true\n")
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
