#!/usr/bin/env python3
"""tools/select_setting.py on synthetic records: runs that differ only in an option the old key
left out (train-layers) stay apart, a diverged record is skipped with a note (it used to raise
KeyError), each weak size is taken at its best held-out budget, a pair whose label-free control
recovers more than half the gap is out, the chosen setting is written with the student's option
in its section and the weak budget; and when no pair passes it says so and exits 3.

    python3 tests/tools/select_setting_test.py tools/select_setting.py
"""
import json
import os
import subprocess
import sys
import tempfile


def record(group, layers, weak_size, seed, weak, ceiling, label_free, weak_epochs=3):
    config = {"lr": 0.01, "epochs": 30, "batch_size": 100, "weak_epochs": weak_epochs, "weak_lr": 0.001}
    fields = {"experiment": "ground_truth_student", "dataset": "brown-val", "weak": weak_size, "strong": "minilm-l6",
              "policies": {"student": {"name": "finetune", "options": {"train_layers": layers}}}, "config": config,
              "data": {"dataset": "brown-val@x", "backbones": {"weak": f"{weak_size}-key", "strong": "minilm-l6-key"}}}
    return {"experiment": "ground_truth_student", "dataset": "brown-val", "weak": weak_size, "strong": "minilm-l6",
            "seed": seed, "config": config, "identity": {"group": group, "fields": fields},
            "metrics": {"weak": {"accuracy": weak}, "ceiling": {"accuracy": ceiling},
                        "label_free": {"kmeans": {"accuracy": label_free}}}}


def write(folder, lines):
    runs = os.path.join(folder, "ground_truth_student")
    os.makedirs(runs)
    for i, r in enumerate(lines):
        with open(os.path.join(runs, f"r{i}.jsonl"), "w") as f:
            f.write(json.dumps(r) + "\n")


def main():
    script = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "data", "text", "fine-foods"))
        with open(os.path.join(tmp, "data", "text", "fine-foods", "train.jsonl"), "w") as f:
            f.write('{"label": "great"}\n{"label": "other"}\n')
        lines = []
        for seed in range(3):  # the probe (train-layers 0) and top-1 (train-layers 1): same lr, epochs, sizes
            lines.append(record("probe-xs", 0, "xs", seed, 0.62, 0.80, 0.70))
            # xs under top-1: a wide gap, but clustering recovers (0.85 - 0.62) / 0.24 = 0.96 of it
            lines.append(record("top1-xs", 1, "xs", seed, 0.62, 0.86, 0.85))
            # s at two budgets: 3 epochs (0.70) and 10 epochs (0.74, the better); label-free PGR 0.08
            lines.append(record("top1-s", 1, "s", seed, 0.70, 0.86, 0.75))
            lines.append(record("top1-s-10", 1, "s", seed, 0.74, 0.86, 0.75, weak_epochs=10))
        diverged = record("top1-xs", 1, "xs", 9, 0, 0, 0)
        del diverged["metrics"]
        diverged["diverged"] = {"stage": "ceiling minilm-l6 seed 9", "step": 3}
        lines.append(diverged)
        write(os.path.join(tmp, "runs"), lines)
        ini = os.path.join(tmp, "main.ini")
        out = subprocess.run([sys.executable, script, os.path.join(tmp, "runs"), "--data", os.path.join(tmp, "data"),
                              "--ini", ini], capture_output=True, text=True)
        print(out.stdout, out.stderr)
        assert out.returncode == 0, "select_setting.py failed"
        assert "left out, diverged" in out.stderr
        # the probe's ceiling (0.80) and top-1's (0.86) are two rows, not one overwritten by the other
        assert out.stdout.count("| brown-val | xs → minilm-l6 |") == 2, "runs differing in train-layers were merged"
        assert '| finetune {"train_layers": 0} |' in out.stdout and '| finetune {"train_layers": 1} |' in out.stdout
        assert "- brown-val xs → minilm-l6 (weak epochs 3, weak lr 0.001): out: label-free PGR 0.96 > 0.5" in out.stdout
        # top-1 has the better ceiling; s at its best budget (10 epochs) is kept, xs is out by the label-free rule
        assert "chosen: brown, weak s (weak epochs 10, weak lr 0.001) → strong minilm-l6" in out.stdout, out.stdout
        text = open(ini).read()
        assert "[finetune]\ntrain-layers = 1\n" in text, text
        assert "weak-epochs = 10\n" in text and "noise-control = true\n" in text, text
        # no pair passes: only xs, out by the label-free rule; exit 3, nothing written
        write(os.path.join(tmp, "none"), [record("top1-xs", 1, "xs", s, 0.62, 0.86, 0.85) for s in range(3)])
        none_ini = os.path.join(tmp, "none.ini")
        out = subprocess.run([sys.executable, script, os.path.join(tmp, "none"), "--data", os.path.join(tmp, "data"),
                              "--ini", none_ini], capture_output=True, text=True)
        print(out.stdout, out.stderr)
        assert out.returncode == 3 and "no pair passes the rule" in out.stdout and not os.path.exists(none_ini)
    print("select_setting: ok")


if __name__ == "__main__":
    main()
