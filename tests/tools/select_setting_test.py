#!/usr/bin/env python3
"""tools/select_setting.py on synthetic records: runs that differ only in an option the old key
left out (train-layers) stay apart, a diverged record is skipped with a note (it used to raise
KeyError), and the chosen setting is written with the student's option in its section.

    python3 tests/tools/select_setting_test.py tools/select_setting.py
"""
import json
import os
import subprocess
import sys
import tempfile


def record(group, layers, weak_size, seed, weak, ceiling):
    config = {"lr": 0.01, "epochs": 30, "batch_size": 100}
    fields = {"experiment": "ground_truth_student", "dataset": "brown-val", "weak": weak_size, "strong": "minilm-l6",
              "policies": {"student": {"name": "finetune", "options": {"train_layers": layers}}}, "config": config}
    return {"experiment": "ground_truth_student", "dataset": "brown-val", "weak": weak_size, "strong": "minilm-l6",
            "seed": seed, "config": config, "identity": {"group": group, "fields": fields},
            "metrics": {"weak": {"accuracy": weak}, "ceiling": {"accuracy": ceiling}}}


def main():
    script = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        runs = os.path.join(tmp, "runs", "ground_truth_student")
        os.makedirs(runs)
        os.makedirs(os.path.join(tmp, "data", "text", "fine-foods"))
        with open(os.path.join(tmp, "data", "text", "fine-foods", "train.jsonl"), "w") as f:
            f.write('{"label": "great"}\n{"label": "other"}\n')
        lines = []
        for seed in range(3):  # the probe (train-layers 0) and top-1 (train-layers 1): same lr, epochs, sizes
            lines.append(record("probe-xs", 0, "xs", seed, 0.62, 0.80))
            lines.append(record("top1-xs", 1, "xs", seed, 0.62, 0.86))
            lines.append(record("top1-s", 1, "s", seed, 0.70, 0.86))
        diverged = record("top1-xs", 1, "xs", 9, 0, 0)
        del diverged["metrics"]
        diverged["diverged"] = {"stage": "ceiling minilm-l6 seed 9", "step": 3}
        lines.append(diverged)
        for i, r in enumerate(lines):
            with open(os.path.join(runs, f"r{i}.jsonl"), "w") as f:
                f.write(json.dumps(r) + "\n")
        ini = os.path.join(tmp, "main.ini")
        out = subprocess.run([sys.executable, script, os.path.join(tmp, "runs"), "--data", os.path.join(tmp, "data"),
                              "--ini", ini], capture_output=True, text=True)
        print(out.stdout, out.stderr)
        assert out.returncode == 0, "select_setting.py failed"
        assert "left out, diverged" in out.stderr
        # the probe's ceiling (0.80) and top-1's (0.86) are two rows, not one overwritten by the other
        assert out.stdout.count("| brown-val | xs → minilm-l6 |") == 2, "runs differing in train-layers were merged"
        assert '| finetune {"train_layers": 0} |' in out.stdout and '| finetune {"train_layers": 1} |' in out.stdout
        # top-1 has the better ceiling; of its pairs with a gap >= 0.08, xs (gap 0.24) and s (0.16): s is the better supervisor
        assert "chosen: brown, weak s → strong minilm-l6" in out.stdout
        text = open(ini).read()
        assert "[finetune]\ntrain-layers = 1\n" in text, text
    print("select_setting: ok")


if __name__ == "__main__":
    main()
