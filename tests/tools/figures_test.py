#!/usr/bin/env python3
"""Test of tools/w2s_figures.py on synthetic records.

    python3 tests/tools/figures_test.py tools/w2s_figures.py

Writes a small ladder (weak xs, s; strong s, m, l; two seeds; naive_finetune and
aux_confidence_loss), a second alpha of the auxiliary loss, a noise ablation, a
regression record with per-task numbers, a diverged record and, in a folder of its
own, a malformed line; runs the tool and checks its files, its page, its PGR, its
grouping and its errors. Exits non-zero on failure.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # loading the tool must leave no __pycache__ in the source tree

TOOL = None  # the path of w2s_figures.py, from the command line
WEAK_ACC = {"xs": 0.60, "s": 0.65}
CEILING_ACC = {"s": 0.75, "m": 0.80, "l": 0.85}
PARAMETERS = {"xs": 10_000, "s": 100_000, "m": 1_000_000, "l": 10_000_000}
PAIRS = [("xs", "s"), ("xs", "m"), ("xs", "l"), ("s", "m"), ("s", "l")]
STEPS = [10, 20, 30, 40, 50]


def load_tool():
    spec = importlib.util.spec_from_file_location("w2s_figures", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def curve(final):
    """A test curve rising to `final`."""
    return {"steps": STEPS, "score": [final - 0.04 * (len(STEPS) - 1 - i) / len(STEPS) for i in range(len(STEPS))]}


def model(acc):
    return {"accuracy": acc, "score": acc, "curve": curve(acc)}


def record(experiment, weak, strong, seed, recovered, alpha=0.75, label_source="weak_soft"):
    """A classification record whose student recovers `recovered` of the gap, jittered by seed;
    aux_confidence_loss's records have the loss's `alpha`."""
    w, c = WEAK_ACC[weak] + 0.01 * seed, CEILING_ACC[strong] - 0.01 * seed
    loss = ({"name": "logconf", "options": {"alpha": alpha, "warmup": "linear"}}
            if experiment == "aux_confidence_loss" else {"name": "xent", "options": {}})
    return {"experiment": experiment, "dataset": "synth", "weak": weak, "strong": strong, "seed": seed, "smoke": False,
            "config": {"epochs": 2, "seeds": [0, 1], "out": "/somewhere/else", "weak": weak, "strong": strong},
            "policies": {"label_source": {"name": label_source, "options": {}}, "loss": loss,
                         "student": {"name": "finetune", "options": {}}, "method": {"name": "direct", "options": {}}},
            "sizes": {"weak": {"name": weak, "parameters": PARAMETERS[weak]},
                      "strong": {"name": strong, "parameters": PARAMETERS[strong]}},
            "metrics": {"weak": model(w), "ceiling": model(c), "student": model(w + recovered * (c - w)),
                        "agreement": {"all": 0.8, "supervisor_right": 0.95 - recovered / 10,
                                      "supervisor_wrong": 1 - recovered}}}


def regression_record(seed):
    """A gain_vs_misfit record: -MSE scores and per-task numbers on two splits."""
    tasks = [{"err_weak": 1.0 + t, "err_w2s": 0.6 + t, "err_ceiling": 0.5, "misfit": 0.5 + 0.1 * t, "gain": 0.4}
             for t in range(3)]
    # Least squares is fitted in closed form: its curve is one point, at step 0.
    metric = lambda mse: {"mse": mse, "score": -mse, "curve": {"steps": [0], "score": [-mse]}}  # noqa: E731
    return {"experiment": "gain_vs_misfit", "dataset": "charikar", "weak": "d2", "strong": "d8", "seed": seed,
            "smoke": False, "config": {}, "policies": {"loss": {"name": "squared_error", "options": {}}},
            "sizes": {"weak": {"name": "d2"}, "strong": {"name": "d8"}},
            "metrics": {"weak": metric(1.2), "ceiling": metric(0.5), "student": metric(0.8),
                        "tasks": {"test": tasks, "transfer": tasks}}}


def write_records(root):
    """The synthetic records, one file per record as the experiments write them; returns the folders."""
    records = [record(e, w, s, seed, r) for w, s in PAIRS for seed in (0, 1)
               for e, r in (("naive_finetune", 0.3), ("aux_confidence_loss", 0.7))]
    records.append(record("aux_confidence_loss", "xs", "m", 0, 0.8, alpha=0.5))
    records += [record("random_noise_vs_weak_labels", "xs", "l", seed, 0.5, label_source="random_noise_soft")
                for seed in (0, 1)]
    records += [regression_record(seed) for seed in (0, 1)]
    records.append({"experiment": "naive_finetune", "dataset": "synth", "weak": "s", "strong": "l", "seed": 2,
                    "smoke": False, "diverged": {"stage": "student l", "step": 7, "loss": None, "message": "nan"}})
    records.append({"tool": "model_ladder", "dataset": "synth", "size": "m"})  # another tool's record: skipped
    good = os.path.join(root, "good")
    for i, r in enumerate(records):
        folder = os.path.join(good, r["experiment"] if "experiment" in r else "other")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"record{i}.jsonl"), "w") as f:
            f.write(json.dumps(r) + "\n\n")  # a blank line: skipped
    bad = os.path.join(root, "bad")
    os.makedirs(bad)
    with open(os.path.join(bad, "broken.jsonl"), "w") as f:
        f.write(json.dumps(records[0]) + "\n{not json\n")
    return good, bad


def run_tool(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, timeout=120)


class FiguresTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.good, cls.bad = write_records(cls.tmp.name)
        cls.out = os.path.join(cls.tmp.name, "figures")
        # A stand-in for w2s_report: writes its --markdown argument, so that the page must embed it.
        cls.report = os.path.join(cls.tmp.name, "fake_report")
        with open(cls.report, "w") as f:
            f.write("#!/bin/sh\nwhile [ \"$1\" != --markdown ]; do shift; done\n"
                    "printf '| fake report table |\\n|---|\\n' > \"$2\"\n")
        os.chmod(cls.report, 0o755)
        cls.done = run_tool(cls.good, "--out", cls.out, "--report", cls.report, "--title", "Synthetic")
        cls.tool = load_tool()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_runs(self):
        self.assertEqual(self.done.returncode, 0, self.done.stderr)

    def test_figures_exist_and_are_valid(self):
        stems = ["fig3_accuracy_synth_naive_finetune", "fig3_accuracy_synth_aux_confidence_loss",
                 "fig3_pgr_synth_naive_finetune", "fig3_pgr_synth_aux_confidence_loss", "fig5_naive_vs_aux_synth",
                 "fig8_agreement_synth_naive_finetune", "fig8_agreement_synth_aux_confidence_loss",
                 "fig26_noise_synth_xs_l", "gain_misfit_charikar_gain_vs_misfit", "fig7_curves_synth_s",
                 "fig7_curves_synth_m", "fig7_curves_synth_l", "fig7_curves_charikar_d8"]
        for stem in stems:
            with open(os.path.join(self.out, stem + ".png"), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", stem)
            with open(os.path.join(self.out, stem + ".svg"), encoding="utf-8") as f:
                self.assertIn("<svg", f.read(), stem)
        for stem in stems:
            self.assertIn(stem + ".png", self.done.stdout)  # one line per figure

    def test_page(self):
        with open(os.path.join(self.out, "index.md"), encoding="utf-8") as f:
            page = f.read()
        self.assertTrue(page.startswith("# Synthetic"))
        for name in os.listdir(self.out):
            if name.endswith(".png"):
                self.assertIn(f"]({name})", page, name)  # embedded with a relative link
        for heading, _ in self.tool.FIGURES.values():
            self.assertIn(heading, page)
        self.assertIn("1 marked diverged", page)
        self.assertIn("naive_finetune, synth, s → l, seed 2: diverged in student l at step 7", page)
        self.assertIn("| fake report table |", page)
        self.assertIn("alpha=0.5", page)

    def test_pgr_of_means(self):
        rows = [{"weak": 0.6, "ceiling": 0.9, "student": 0.7}, {"weak": 0.7, "ceiling": 0.8, "student": 0.8}]
        # Means 0.65, 0.85, 0.75: PGR 0.5; the mean of per-seed PGRs would be (1/3 + 1) / 2.
        self.assertAlmostEqual(self.tool.pgr_of_means(rows), 0.5)
        self.assertIsNone(self.tool.pgr_of_means([{"weak": 0.8, "ceiling": 0.8, "student": 0.9}]))

    def test_alphas_are_two_groups(self):
        groups = self.tool.group_records(self.tool.read_records([self.good]).results)
        cell = [g for g in groups if (g.experiment, g.weak, g.strong) == ("aux_confidence_loss", "xs", "m")]
        self.assertEqual(sorted(g.label for g in cell), ["alpha=0.5", "alpha=0.75"])
        self.assertEqual(sorted(len(g.records) for g in cell), [1, 2])
        naive = [g for g in groups if g.experiment == "naive_finetune"]
        self.assertTrue(all(g.label == "" for g in naive))  # one group per cell: no label
        self.assertIn("alpha=0.5", self.tool.markdown_table(groups))

    def test_identity_groups(self):
        base = self.tool.read_records([self.good]).results[0]
        fields = {"policies": base.policies, "code": "c0de" * 4}
        runs = [self.tool.dataclasses.replace(base, seed=s, identity={"group": h, "fields": f})
                for s, h, f in ((0, "aaaa1111", fields), (1, "aaaa1111", fields), (1, "aaaa1111", fields),
                                (0, "bbbb2222", dict(fields, code="beef" * 4)))]
        groups = self.tool.group_records(runs)
        # The repeated seed 1 counts once; the two codes are two groups, labelled by the code's hash.
        self.assertEqual(sorted((len(g.records), len(g.repeated)) for g in groups), [(1, 0), (2, 1)])
        self.assertEqual(sorted(g.label for g in groups), ["code=beefbeef", "code=c0dec0de"])

    def test_malformed_line(self):
        done = run_tool(self.bad, "--out", os.path.join(self.tmp.name, "bad_out"))
        self.assertEqual(done.returncode, 1)
        self.assertIn("broken.jsonl:2", done.stderr)

    def test_no_records(self):
        empty = os.path.join(self.tmp.name, "empty")
        os.makedirs(empty)
        done = run_tool(empty, "--out", os.path.join(self.tmp.name, "empty_out"))
        self.assertEqual(done.returncode, 1)
        self.assertIn("no records under", done.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    TOOL = os.path.abspath(sys.argv.pop(1))
    unittest.main()
