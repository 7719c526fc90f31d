#!/usr/bin/env python3
"""w2s_figures: result records -> the paper's figures (PNG and SVG) and one Markdown page.

    python3 tools/w2s_figures.py RECORDS... --out DIR [--report build/tools/w2s_report]
                                 [--title T] [--include-smoke]

Reads every *.jsonl under the given files and folders (one JSON record per line),
groups the records of one configuration over its seeds, draws each figure the records
support into DIR (PNG at 150 dpi and SVG) and writes DIR/index.md: the figures, one
sentence each, the table, and the records left out. A figure the records cannot
support is not drawn; the page says what it needs.

Grouping, as w2s_report's: records with `identity.group` are grouped by it; older records
by (experiment, dataset, weak, strong, policies, config without placement keys such as
out and seeds). A seed found twice in one group counts once (the first, in path order).
Groups of the same cell that differ (e.g. in policies.loss.options.alpha) are separate
series, labelled by what differs ("alpha=0.5"). Means are over seeds; error bars on
accuracies are +-1 sample standard deviation over seeds; PGR is that of the
seed-averaged scores (openai's order), its error bars a 95% percentile bootstrap over
seeds. Records marked "diverged" are counted and listed, not drawn.
"""
import argparse
import dataclasses
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import textwrap

import matplotlib

matplotlib.use("Agg")  # files only: no display on the machines that run this
import matplotlib.pyplot as plt  # noqa: E402  (after use(): the backend is fixed at import)
import numpy as np  # noqa: E402
from matplotlib.ticker import NullFormatter, NullLocator  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from w2s_placement import PLACEMENT_KEYS  # noqa: E402  (the tools folder, wherever this runs from)

# What each figure shows: the --help epilog and the page's headings and sentences.
FIGURES = {
    "fig3_accuracy": ("Fig. 3 (top): test accuracy against strong student size",
                      "student accuracy per weak supervisor, the strong ceiling (black, dashed) and the weak "
                      "supervisors (triangles) against the strong size; naive_finetune, and any experiment "
                      "with at least two strong sizes"),
    "fig3_pgr": ("Fig. 3 (bottom): performance gap recovered against strong student size",
                 "PGR of the seed-averaged accuracies, one line per weak supervisor, for the same "
                 "experiments as Fig. 3 (top)"),
    "fig5": ("Fig. 5: naive fine-tuning against the auxiliary confidence loss",
             "student accuracy and PGR of naive_finetune and aux_confidence_loss on each (dataset, weak, "
             "strong) both have: bars for one strong size, lines against strong size for several"),
    "fig8": ("Fig. 8: student agreement with its supervisor",
             "agreement where the supervisor is right and where it is wrong, per experiment: bars for "
             "one strong size, lines against strong size for several"),
    "fig26": ("Fig. 26: simulated label noise against real weak labels",
              "student accuracy and PGR per label source: random_noise_vs_weak_labels and the "
              "errors_on_* experiments against naive_finetune's real weak labels, same dataset, weak "
              "and strong"),
    "gain_misfit": ("Gain against misfit (Charikar et al. 2024)",
                    "regression records: per task and split, the student's gain over its supervisor "
                    "(err_weak - err_w2s) against its misfit to the weak labels, with the line "
                    "gain = misfit"),
    "fig7_curves": ("Figs. 7 and 13: test score during training",
                    "mean over seeds of the student's (colour) and the ceiling's (black, dashed) test "
                    "score against training step, the weak supervisor's final score as a dotted line; "
                    "one panel per experiment, one figure per (dataset, strong size)"),
}

SIZE_ORDER = ["xxs", "xs", "s", "m", "l", "xl", "xxl"]
MODELS = ("weak", "ceiling", "student")
NAIVE, AUX = "naive_finetune", "aux_confidence_loss"
NOISE_EXPERIMENTS = ["random_noise_vs_weak_labels", "errors_on_longest_inputs", "errors_on_shortest_inputs",
                     "errors_where_strong_unconfident"]
# Config keys that do not change what a run computes (where it reads and writes, how many seeds,
# what to do on divergence): core/placement.hpp's placement keys, as tools/w2s_placement.py has them.
IGNORED_CONFIG = PLACEMENT_KEYS
DPI = 150
COLOURS = plt.get_cmap("tab10").colors
# Line style and marker per variant of a series; dotted is kept for the weak models' lines.
VARIANT_STYLES = [("-", "o"), ("-.", "s"), ((0, (5, 1)), "^"), ((0, (3, 1, 1, 1, 1, 1)), "D")]


class InputError(Exception):
    """Bad input (a path, a record, the report tool): printed as one line, exit status 1."""


# ----------------------------------------------------------------------------- records


@dataclasses.dataclass
class Record:
    """One seed's result, the fields the figures use."""
    where: str  # "file:line", for messages
    experiment: str
    dataset: str
    weak: str
    strong: str
    seed: int
    strong_parameters: int | None
    policies: dict
    config: dict
    identity: dict
    scores: dict  # model -> test score (accuracy, or -MSE for regression)
    agreement: dict  # supervisor_right / supervisor_wrong; empty for regression
    curves: dict  # model -> (steps, scores) arrays
    tasks: dict  # split -> list of {err_weak, err_w2s, err_ceiling, misfit, gain}
    regression: bool


@dataclasses.dataclass
class Diverged:
    """A record marked diverged: no metrics; counted and listed on the page."""
    where: str
    experiment: str
    dataset: str
    weak: str
    strong: str
    seed: int
    stage: str
    step: object


@dataclasses.dataclass
class Records:
    """Everything read from the inputs."""
    paths: list
    files: list
    results: list
    diverged: list
    smoke_skipped: int
    others_skipped: int  # records without metrics: other tools' output


def number(x):
    """A JSON number as float; null or absent as NaN (the tools write null for non-finite values)."""
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else math.nan


def parse_curve(model_metrics):
    """(steps, scores) of a model's test curve, or None when the record has none."""
    curve = model_metrics.get("curve")
    if not curve or not curve.get("steps"):
        return None
    return np.asarray(curve["steps"], float), np.asarray([number(v) for v in curve["score"]], float)


def parse_record(r, where):
    """A result record (one with "metrics") as a Record."""
    m = r["metrics"]
    sizes = r.get("sizes", {})
    strong_size = sizes.get("strong", {})
    # Older records have "accuracy" only; regression records have "score" (= -MSE) and no accuracy.
    scores = {k: number(m[k].get("score", m[k].get("accuracy"))) for k in MODELS}
    # The label-free control (metrics.label_free, issue 21): k-means on the strong model's frozen
    # features, clusters named by the weak labels; its accuracy stands in for the student's in its PGR.
    label_free = m.get("label_free") or {}
    if "kmeans" in label_free:
        scores["label_free"] = number(label_free["kmeans"].get("accuracy"))
    # The noise control (metrics.noise_control, --noise-control): the same student on random errors
    # at the supervisor's rate; its accuracy stands in for the student's in its PGR.
    noise = m.get("noise_control") or {}
    if "accuracy" in noise:
        scores["noise_control"] = number(noise["accuracy"])
    curves = {k: c for k in MODELS if (c := parse_curve(m[k])) is not None}
    agreement = {k: number(v) for k, v in m.get("agreement", {}).items()}
    return Record(where=where, experiment=r["experiment"], dataset=r["dataset"],
                  weak=sizes.get("weak", {}).get("name", r["weak"]), strong=strong_size.get("name", r["strong"]),
                  seed=int(r["seed"]),
                  strong_parameters=strong_size.get("parameters"), policies=r.get("policies", {}),
                  config=r.get("config", {}), identity=r.get("identity", {}), scores=scores, agreement=agreement,
                  curves=curves, tasks=m.get("tasks", {}), regression="mse" in m["student"])


def parse_diverged(r, where):
    """A record marked diverged as a Diverged."""
    d = r["diverged"]
    return Diverged(where=where, experiment=r["experiment"], dataset=r["dataset"], weak=r["weak"],
                    strong=r["strong"], seed=int(r["seed"]), stage=d.get("stage", "?"), step=d.get("step", "?"))


def jsonl_files(paths):
    """Every *.jsonl under `paths` (files are taken as given), sorted."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += [os.path.join(d, f) for d, _, names in os.walk(p) for f in names if f.endswith(".jsonl")]
        elif os.path.isfile(p):
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or directory")
    return sorted(files)


def read_records(paths, include_smoke=False):
    """Reads every record under `paths`; skips smoke runs unless asked and other tools' records."""
    out = Records(paths=list(paths), files=jsonl_files(paths), results=[], diverged=[], smoke_skipped=0,
                  others_skipped=0)
    for path in out.files:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{path}:{n}"
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(f"{where}: not a JSON record ({e})") from None
                if not isinstance(r, dict):
                    continue
                if r.get("smoke") and not include_smoke:
                    out.smoke_skipped += 1
                    continue
                try:
                    if "diverged" in r:
                        out.diverged.append(parse_diverged(r, where))
                    elif "metrics" in r:
                        out.results.append(parse_record(r, where))
                    else:
                        out.others_skipped += 1
                except (KeyError, TypeError, AttributeError, ValueError) as e:
                    raise InputError(f"{where}: record lacks a field or has one of the wrong type ({e!r})") from None
    return out


# ----------------------------------------------------------------------------- groups


@dataclasses.dataclass
class Group:
    """The seeds of one configuration."""
    experiment: str
    dataset: str
    weak: str
    strong: str
    records: list  # one per seed
    repeated: list  # records of a seed already in `records`: left out
    label: str = ""  # what tells this group from others of its cell ("alpha=0.5"); "" when alone

    @property
    def name(self):
        """The experiment, with the variant label when there is one."""
        return f"{self.experiment} ({self.label})" if self.label else self.experiment

    @property
    def regression(self):
        return any(r.regression for r in self.records)

    def mean_sd(self, model):
        """Mean and sample standard deviation over seeds of a model's test score."""
        return mean_sd([r.scores[model] for r in self.records])

    def gap(self):
        """Mean ceiling − mean weak score over seeds: what a PGR divides by."""
        rows = [r.scores for r in self.records]
        return float(np.mean([r["ceiling"] for r in rows]) - np.mean([r["weak"] for r in rows])) if rows else math.nan

    def pgr_defined(self):
        """Whether this group's PGR means anything: the ceiling beats the supervisor by at least
        MIN_GAP (classification accuracy; regression scores are −MSE, any positive gap counts)."""
        gap = self.gap()
        return math.isfinite(gap) and gap > 0 and (self.regression or gap >= MIN_GAP)

    def pgr(self):
        return pgr_of_means([r.scores for r in self.records])

    def pgr_interval(self):
        return pgr_interval([r.scores for r in self.records])

    def label_free_pgr(self):
        """PGR of the label-free control's seed-averaged accuracy on the same weak and ceiling; None
        unless every seed recorded it."""
        return self.control_pgr("label_free")

    def noise_control_pgr(self):
        """The same for the noise control (--noise-control)."""
        return self.control_pgr("noise_control")

    def control_pgr(self, key):
        rows = [r.scores for r in self.records]
        if not rows or any(not math.isfinite(r.get(key, math.nan)) for r in rows):
            return None
        return pgr_of_means([{"weak": r["weak"], "ceiling": r["ceiling"], "student": r[key]} for r in rows])


def configuration(r):
    """What a record's configuration is: its identity's fields; for records made before run
    identities, its policies and config without the placement keys (as w2s_report)."""
    if "fields" in r.identity:
        return r.identity["fields"]
    return {"policies": r.policies, "config": {k: v for k, v in r.config.items() if k not in IGNORED_CONFIG}}


def group_key(r):
    """Records with the same key are seeds of one configuration.

    The cell (experiment, dataset, weak, strong) is part of every key, so that records
    of different cells are never pooled, whatever an identity hash says."""
    cell = (r.experiment, r.dataset, r.weak, r.strong)
    if "group" in r.identity:
        return cell + ("identity", r.identity["group"])
    return cell + (json.dumps(configuration(r), sort_keys=True),)


def flatten(value, prefix=()):
    """{path tuple: leaf} of a JSON object; lists are leaves."""
    if not isinstance(value, dict):
        return {prefix: value}
    out = {}
    for k, v in value.items():
        out.update(flatten(v, prefix + (k,)))
    return out


def short_names(paths):
    """Readable names for flat paths: the option's own name ("alpha"), or the policy's for a
    policy name ("loss"); the full path where two paths would share a name."""
    def short(path):
        parts = [p for p in path if p not in ("policies", "config", "options")] or list(path)
        return parts[-2] if parts[-1] == "name" and len(parts) > 1 else parts[-1]
    names = {p: short(p) for p in paths}
    clashes = {n for n in names.values() if list(names.values()).count(n) > 1}
    return {p: ".".join(p[1:] or p) if n in clashes else n for p, n in names.items()}


def show(value):
    """A JSON leaf for a label: strings bare (hashes cut to 8 digits, as w2s_report), the rest as JSON."""
    if not isinstance(value, str):
        return json.dumps(value)
    return value[:8] if len(value) > 12 and re.fullmatch(r"[0-9a-f]+", value) else value


def label_variants(groups):
    """Labels groups that share a cell with others: records made before run identities (no
    identity.group) as such where records with identities share their experiment and dataset,
    and each kind among itself by the configuration values that differ (label_by_difference)."""
    legacy = [g for g in groups if "group" not in g.records[0].identity]
    current = [g for g in groups if "group" in g.records[0].identity]
    label_by_difference(current)
    label_by_difference(legacy)
    shared = {(g.experiment, g.dataset) for g in current}
    for g in legacy:
        if (g.experiment, g.dataset) in shared:
            g.label = ", ".join(filter(None, ["recorded before run identities", g.label]))


def label_by_difference(groups):
    """Labels groups that share a cell with others by the configuration values that differ.

    The differing paths are collected per (experiment, dataset) over all its cells, and every
    group of that experiment and dataset is labelled by them, so that one variant (say
    alpha=0.5) carries the same label at every strong size and draws as one line. Paths are
    compared within a cell only: the sizes, which differ between cells, never become labels."""
    flat = {id(g): flatten(configuration(g.records[0])) for g in groups}
    for members in bucket(groups, lambda g: (g.experiment, g.dataset)).values():
        differing = set()
        for cell in bucket(members, lambda g: (g.weak, g.strong)).values():
            keys = set().union(*(flat[id(g)] for g in cell))
            differing |= {k for k in keys if len({json.dumps(flat[id(g)].get(k)) for g in cell}) > 1}
        names = short_names(sorted(differing))
        for g in members:
            g.label = ", ".join(f"{names[k]}={show(flat[id(g)].get(k))}" for k in sorted(differing))
        for cell in bucket(members, lambda g: (g.weak, g.strong)).values():
            if len(cell) > 1 and len({g.label for g in cell}) < len(cell):
                # Same policies and config, different identity hash: name them by their hash.
                for g in cell:
                    group_hash = "group " + str(g.records[0].identity.get("group", "?"))[:8]
                    g.label = ", ".join(filter(None, [g.label, group_hash]))


def bucket(items, key):
    """{key: [items]} in order of first appearance."""
    out = {}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return out


def size_rank(names):
    """Sort key for size names: the ladder order (xxs ... xxl), then others in order of first appearance."""
    others = [n for n in dict.fromkeys(names) if n not in SIZE_ORDER]
    return lambda n: SIZE_ORDER.index(n) if n in SIZE_ORDER else len(SIZE_ORDER) + others.index(n)


def group_records(records):
    """Groups result records into configurations (see group_key), labels the variants of a
    cell (see label_variants) and sorts them by dataset, experiment, weak, strong and label."""
    groups = []
    for rs in bucket(records, group_key).values():
        by_seed = bucket(rs, lambda r: r.seed)
        groups.append(Group(rs[0].experiment, rs[0].dataset, rs[0].weak, rs[0].strong,
                            records=[same[0] for _, same in sorted(by_seed.items())],
                            repeated=[r for same in by_seed.values() for r in same[1:]]))
    label_variants(groups)
    rank = size_rank([g.weak for g in groups] + [g.strong for g in groups])
    return sorted(groups, key=lambda g: (g.dataset, g.experiment, rank(g.weak), rank(g.strong), g.label))


# ----------------------------------------------------------------------------- statistics


def mean_sd(values):
    """Mean and sample standard deviation (0 for one value) of the finite values; NaNs when none."""
    v = np.asarray([x for x in values if math.isfinite(x)], float)
    if not len(v):
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


# A PGR whose ceiling beats its supervisor by less than this (accuracy) divides by noise: the
# scaling study's xs → minilm-l6 on Brown (gap 0.001) gives PGR 8. Fig. 3's PGR panel and Fig. 5
# leave such pairs out and say so.
MIN_GAP = 0.01


def pgr_of_means(rows):
    """PGR of the seed-averaged scores: (mean student - mean weak) / (mean ceiling - mean weak).

    `rows`: one mapping per seed with "weak", "ceiling" and "student" scores. Averaging
    over seeds first and taking the PGR of the means is openai's order (and w2s_report's).
    None when there are no rows or the ceiling is not above the weak model."""
    if not rows:
        return None
    w, c, s = (float(np.mean([r[k] for r in rows])) for k in ("weak", "ceiling", "student"))
    return (s - w) / (c - w) if c > w else None


def pgr_interval(rows, level=0.95, resamples=10000):
    """Percentile bootstrap over seeds of pgr_of_means: (low, high), or None for under two seeds.

    Resamples whose ceiling is not above the weak model are dropped, as in w2s_report;
    the generator differs from the report's, so the bounds agree to resampling noise."""
    if len(rows) < 2:
        return None
    scores = {k: np.asarray([r[k] for r in rows], float) for k in ("weak", "ceiling", "student")}
    pick = np.random.default_rng(20231214).integers(0, len(rows), size=(resamples, len(rows)))
    w, c, s = (scores[k][pick].mean(axis=1) for k in ("weak", "ceiling", "student"))
    ok = c > w
    if not ok.any():
        return None
    stats = np.sort((s[ok] - w[ok]) / (c[ok] - w[ok]))
    at = lambda q: float(stats[int(math.floor(q * (len(stats) - 1)))])  # noqa: E731
    return at((1 - level) / 2), at((1 + level) / 2)


def per_seed_mean_sd(records, value):
    """Mean and sd over seeds of `value(record)`, each seed counted once: the weak model and the
    ceiling of one seed are shared by every student of that seed, so their records repeat them."""
    by_seed = bucket(records, lambda r: r.seed)
    return mean_sd([float(np.mean([value(r) for r in rs])) for rs in by_seed.values()])


def mean_curve(records, model):
    """The model's test curve averaged over seeds: (steps, mean, sd); the first seed's steps,
    the others interpolated onto them if their evaluation steps differ. None when no curves."""
    curves = [r.curves[model] for r in records if model in r.curves]
    if not curves:
        return None
    steps = curves[0][0]
    ys = np.stack([y if np.array_equal(x, steps) else np.interp(steps, x, y) for x, y in curves])
    sd = ys.std(axis=0, ddof=1) if len(ys) > 1 else np.zeros_like(steps)
    return steps, ys.mean(axis=0), sd


# ----------------------------------------------------------------------------- drawing helpers


def atomic_write(path, write):
    """Writes `path` through a temporary file in its folder and a rename: never half a file."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix="." + os.path.basename(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the figures from other users
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def safe(name):
    """A name usable in a file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


@dataclasses.dataclass
class Drawn:
    """A written figure: its file stem and the sentence for the page."""
    stem: str
    heading: str
    sentence: str


@dataclasses.dataclass
class Skipped:
    """A figure the records could not support, and what it needs."""
    reason: str


class Output:
    """The output folder: saves figures (PNG and SVG) and reports each on one line."""

    def __init__(self, folder):
        self.folder = folder

    def save(self, fig, stem):
        for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None})):
            path = os.path.join(self.folder, f"{stem}.{ext}")
            # No dates or versions in the files: the same records give the same bytes.
            atomic_write(path, lambda f: fig.savefig(f, format=ext, dpi=DPI, bbox_inches="tight", metadata=meta))
        plt.close(fig)
        print(f"{stem}: {os.path.join(self.folder, stem)}.png, .svg")
        return stem


class SizeAxis:
    """The strong-size x axis: parameters on a log axis when every record has them, else
    the size names in ladder order on a categorical axis."""

    def __init__(self, groups):
        records = [r for g in groups for r in g.records]
        names = [r.strong for r in records]
        self.names = sorted(dict.fromkeys(names), key=size_rank(names))
        params = {r.strong: r.strong_parameters for r in records}
        self.parameters = params if all(isinstance(p, int) and p > 0 for p in params.values()) else None

    def x(self, name):
        return self.parameters[name] if self.parameters else self.names.index(name)

    def decorate(self, ax):
        if self.parameters:
            ax.set_xscale("log")
            ticks = [self.parameters[n] for n in self.names]
            labels = [f"{n}\n{human(self.parameters[n])}" for n in self.names]
            for i in range(1, len(ticks)):  # sizes close on the log axis (109M, 135M): the label a line lower
                if ticks[i] < 1.6 * ticks[i - 1] and not labels[i - 1].startswith("\n"):
                    labels[i] = "\n\n" + labels[i]
            ax.set_xticks(ticks, labels)
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel("strong student size (parameters, log scale)")
        else:
            ax.set_xticks(range(len(self.names)), self.names)
            ax.set_xlim(-0.5, len(self.names) - 0.5)
            ax.set_xlabel("strong student size (ladder entry)")


def human(n):
    """A parameter count, short: 1.2M."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return str(n)


def score_label(regression):
    return "test score (−MSE)" if regression else "test accuracy (fraction correct)"


def score_word(regression):
    return "score (−MSE)" if regression else "accuracy"


def pair_name(weak, strong):
    """"weak xs → strong l": bare ladder names ("l") read poorly on their own."""
    return f"weak {weak} → strong {strong}"


PGR_LABEL = "performance gap recovered (PGR)"


def legend_outside(ax, **kwargs):
    """The legend right of the axes, where it cannot cover data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, fontsize="small", **kwargs)


def pgr_references(ax):
    """Thin lines at PGR 0 (the weak model) and 1 (the ceiling)."""
    for y in (0, 1):
        ax.axhline(y, color="0.6", lw=0.8, zorder=0)


def pgr_yerr(groups):
    """Asymmetric error bars (2 x n) from each group's bootstrap interval; zero where none
    (a missing group, None, included)."""
    err = np.zeros((2, len(groups)))
    for i, g in enumerate(groups):
        p, ci = (g.pgr(), g.pgr_interval()) if g else (None, None)
        if p is not None and ci is not None:
            err[:, i] = max(p - ci[0], 0), max(ci[1] - p, 0)
    return err


def seeds_note(groups):
    """"n seeds" or "2-5 seeds", for titles."""
    counts = sorted({len(g.records) for g in groups})
    n = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    return f"{n} seed" + ("" if n == "1" else "s")


def grouped_barh(ax, categories, series):
    """Horizontal grouped bars: one row per category, one bar per series in each row.

    `series`: (name, values, xerr or None, colour); NaN values draw no bar. Horizontal,
    so that long category names stay readable."""
    height = 0.8 / len(series)
    for i, (name, values, xerr, colour) in enumerate(series):
        y = np.arange(len(categories)) - 0.4 + height * (i + 0.5)
        ax.barh(y, np.nan_to_num(values), height, xerr=xerr, color=colour, label=name, capsize=2,
                error_kw={"lw": 0.8})
        for yi, v in zip(y, values):
            if not math.isfinite(v):
                ax.text(0, yi, " n/a", va="center", fontsize="x-small", color="0.4")
    ax.set_yticks(range(len(categories)), categories)
    ax.set_ylim(len(categories) - 0.5, -0.5)  # first category on top


def bar_figure(rows):
    """A figure for horizontal bars: height grows with the number of rows."""
    return plt.figure(figsize=(11, 1.5 + 0.55 * rows))


def legend_below(fig, handles_from, ncol):
    """A legend under the whole figure, below the x labels (call after tight_layout)."""
    fig.legend(*handles_from.get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol,
               fontsize="small")


# ----------------------------------------------------------------------------- figures


def by_dataset(groups):
    return bucket(groups, lambda g: g.dataset)


def series_of(groups, key):
    """{key: groups sorted by strong size}."""
    rank = size_rank([g.strong for g in groups])
    return {k: sorted(v, key=lambda g: rank(g.strong)) for k, v in bucket(groups, key).items()}


def weak_colours(groups):
    """A colour per weak size, in ladder order."""
    weaks = sorted({g.weak for g in groups}, key=size_rank([g.weak for g in groups]))
    return {w: COLOURS[i % len(COLOURS)] for i, w in enumerate(weaks)}


def style_by_weak_and_label(groups):
    """(colour, linestyle, marker) per (weak, label): colour by weak size, style by variant."""
    labels = sorted({g.label for g in groups})
    return {(w, lab): (colour,) + VARIANT_STYLES[labels.index(lab) % len(VARIANT_STYLES)]
            for w, colour in weak_colours(groups).items() for lab in labels}


def fig3_eligible(groups):
    """(dataset, experiment) -> groups, for naive_finetune and experiments with two or more strong sizes."""
    cells = bucket(groups, lambda g: (g.dataset, g.experiment))
    return {k: gs for k, gs in cells.items() if k[1] == NAIVE or len({g.strong for g in gs}) >= 2}


FIG3_NEEDS = "needs naive_finetune records, or records of at least two strong sizes for one experiment"


def plot_fig3_accuracy(groups, out):
    """Fig. 3 (top): accuracy against strong size per (dataset, experiment)."""
    drawn = []
    for (dataset, experiment), gs in fig3_eligible(groups).items():
        axis, styles = SizeAxis(gs), style_by_weak_and_label(gs)
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        for (weak, label), line in series_of(gs, lambda g: (g.weak, g.label)).items():
            colour, ls, marker = styles[(weak, label)]
            m = np.array([g.mean_sd("student") for g in line])
            ax.errorbar([axis.x(g.strong) for g in line], m[:, 0], m[:, 1], color=colour, ls=ls, marker=marker,
                        capsize=3, label=f"student on {weak}'s labels" + (f", {label}" if label else ""))
        for weak, wgs in series_of(gs, lambda g: g.weak).items():
            strongs = list(dict.fromkeys(g.strong for g in wgs))
            m = np.array([per_seed_mean_sd([r for g in wgs if g.strong == s for r in g.records],
                                           lambda r: r.scores["weak"]) for s in strongs])
            ax.errorbar([axis.x(s) for s in strongs], m[:, 0], m[:, 1], color=weak_colours(gs)[weak], ls="none",
                        marker="v", mfc="none", ms=8, capsize=3, label=f"weak supervisor {weak}")
        ceiling = [(s, per_seed_mean_sd([r for g in gs if g.strong == s for r in g.records],
                                        lambda r: r.scores["ceiling"])) for s in axis.names]
        ax.errorbar([axis.x(s) for s, _ in ceiling], [v[0] for _, v in ceiling], [v[1] for _, v in ceiling],
                    color="black", ls="--", marker="_", ms=12, capsize=3, label="strong ceiling (ground truth)")
        axis.decorate(ax)
        ax.set_ylabel(score_label(gs[0].regression))
        ax.set_title(f"{dataset}, {experiment}: test {score_word(gs[0].regression)} against strong size\n"
                     f"(mean ± 1 s.d. over {seeds_note(gs)})", fontsize="medium")
        ax.grid(alpha=0.3)
        legend_outside(ax)
        stem = out.save(fig, f"fig3_accuracy_{safe(dataset)}_{safe(experiment)}")
        drawn.append(Drawn(stem, f"{dataset}, {experiment}",
                           f"Test {score_word(gs[0].regression)} of {experiment} students on "
                           f"{dataset} against strong size ({', '.join(axis.names)}), one line per weak supervisor "
                           f"({', '.join(dict.fromkeys(g.weak for g in gs))}), with the ceiling and the supervisors; "
                           f"mean ± 1 s.d. over {seeds_note(gs)}."))
    return drawn or [Skipped(FIG3_NEEDS)]


def plot_fig3_pgr(groups, out):
    """Fig. 3 (bottom): PGR against strong size per (dataset, experiment)."""
    drawn = []
    for (dataset, experiment), gs in fig3_eligible(groups).items():
        axis, styles = SizeAxis(gs), style_by_weak_and_label(gs)
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        pgr_references(ax)
        small = sorted({f"{g.weak} → {g.strong}" for g in gs if g.pgr() is not None and not g.pgr_defined()})
        for (weak, label), line in series_of(gs, lambda g: (g.weak, g.label)).items():
            line = [g for g in line if g.pgr() is not None and g.pgr_defined()]
            if not line:
                continue
            colour, ls, marker = styles[(weak, label)]
            ax.errorbar([axis.x(g.strong) for g in line], [g.pgr() for g in line], pgr_yerr(line), color=colour,
                        ls=ls, marker=marker, capsize=3, label=f"weak {weak}" + (f", {label}" if label else ""))
            control = [(axis.x(g.strong), g.label_free_pgr()) for g in line if g.label_free_pgr() is not None]
            if control:  # the label-free control beside the PGR it qualifies (issue 21)
                ax.plot(*zip(*control), color=colour, ls=":", marker="x",
                        label=f"label-free control, weak {weak}" + (f", {label}" if label else ""))
            noise = [(axis.x(g.strong), g.noise_control_pgr()) for g in line if g.noise_control_pgr() is not None]
            if noise:  # the noise control (Fig. 26's), where the runs had --noise-control
                ax.plot(*zip(*noise), color=colour, ls="--", marker="+",
                        label=f"noise control, weak {weak}" + (f", {label}" if label else ""))
        axis.decorate(ax)
        ax.set_ylabel(PGR_LABEL)
        ax.set_title(f"{dataset}, {experiment}: PGR against strong size\n(PGR of the means over "
                     f"{seeds_note(gs)}; bars: 95% bootstrap over seeds)", fontsize="medium")
        ax.grid(alpha=0.3)
        legend_outside(ax, title="supervisor")
        stem = out.save(fig, f"fig3_pgr_{safe(dataset)}_{safe(experiment)}")
        drawn.append(Drawn(stem, f"{dataset}, {experiment}",
                           f"PGR of {experiment} on {dataset} against strong size ({', '.join(axis.names)}), one "
                           f"line per weak supervisor; PGR of the seed-averaged scores, error bars a 95% percentile "
                           f"bootstrap over {seeds_note(gs)}. Dotted, where recorded: the label-free control (k-means "
                           f"on the strong model's frozen features, clusters named by the weak labels); dashed, "
                           f"where run: the noise control (the same student on random errors at the "
                           f"supervisor's rate)." + (f" Not drawn, the ceiling within {MIN_GAP} of the supervisor "
                                                      f"(a PGR of noise): {', '.join(small)}." if small else "")))
    return drawn or [Skipped(FIG3_NEEDS)]


def fig5_cells(groups):
    """dataset -> naive and aux groups of the (weak, strong) pairs both experiments have."""
    out = {}
    for dataset, gs in by_dataset(groups).items():
        pairs = {(g.weak, g.strong) for g in gs if g.experiment == NAIVE} & \
                {(g.weak, g.strong) for g in gs if g.experiment == AUX}
        both = [g for g in gs if g.experiment in (NAIVE, AUX) and (g.weak, g.strong) in pairs]
        if both:
            out[dataset] = both
    return out


def plot_fig5(groups, out):
    """Fig. 5: naive_finetune against aux_confidence_loss, per dataset."""
    drawn = []
    for dataset, gs in fig5_cells(groups).items():
        several = len({g.strong for g in gs}) > 1
        fig = fig5_lines(dataset, gs) if several else fig5_bars(dataset, gs)
        stem = out.save(fig, f"fig5_naive_vs_aux_{safe(dataset)}")
        pairs = ", ".join(dict.fromkeys(pair_name(g.weak, g.strong) for g in gs))
        drawn.append(Drawn(stem, dataset,
                           f"naive_finetune against aux_confidence_loss on {dataset} ({pairs}): student "
                           f"{score_word(gs[0].regression)} (mean ± 1 s.d.) and PGR (95% bootstrap) "
                           f"over {seeds_note(gs)}, " + ("against strong size." if several else "as bars.") +
                           f" PGR is left out where the ceiling is within {MIN_GAP} of the supervisor."))
    return drawn or [Skipped("needs naive_finetune and aux_confidence_loss records of the same dataset, weak and "
                             "strong sizes")]


def fig5_bars(dataset, gs):
    """Fig. 5 for one strong size: rows are (weak, strong) pairs, bars the two methods."""
    rows = bucket(gs, lambda g: (g.weak, g.strong))
    methods = list(dict.fromkeys(g.name for g in sorted(gs, key=lambda g: g.experiment != NAIVE)))
    fig = bar_figure(len(rows) * (len(methods) + 2))
    acc, pgr = fig.subplots(1, 2, sharey=True)
    cats = [pair_name(w, s).replace(" → ", "\n→ ") for w, s in rows]

    acc_series = [(f"{model} (reference)", [per_seed_mean_sd([r for g in c for r in g.records],
                                                             lambda r: r.scores[model])[0] for c in rows.values()],
                   None, grey) for model, grey in (("weak", "0.75"), ("ceiling", "0.35"))]
    pgr_series = []
    for i, name in enumerate(methods):
        cell_groups = [next((g for g in c if g.name == name), None) for c in rows.values()]
        ms = [g.mean_sd("student") if g else (math.nan, 0.0) for g in cell_groups]
        acc_series.append((name, [m for m, _ in ms], [s for _, s in ms], COLOURS[i]))
        pgrs = [g.pgr() if g and g.pgr_defined() else None for g in cell_groups]
        pgr_series.append((name, [math.nan if p is None else p for p in pgrs], pgr_yerr(cell_groups), COLOURS[i]))
    grouped_barh(acc, cats, acc_series)
    acc.set_xlabel(score_label(gs[0].regression) + ", mean ± 1 s.d.")
    lo = min(v for _, vs, _, _ in acc_series for v in vs if math.isfinite(v))
    acc.set_xlim(max(0.0, lo - 0.1) if not gs[0].regression else None, None)
    grouped_barh(pgr, cats, pgr_series)
    pgr.axvline(0, color="0.4", lw=0.8)
    pgr.axvline(1, color="0.6", lw=0.8, ls="--")
    pgr.set_xlabel(PGR_LABEL + ", 95% bootstrap")
    fig.suptitle(f"{dataset}: naive_finetune vs aux_confidence_loss ({seeds_note(gs)})")
    fig.tight_layout()
    legend_below(fig, acc, ncol=len(acc_series))
    return fig


def fig5_lines(dataset, gs):
    """Fig. 5 for several strong sizes: accuracy and PGR against strong size, a line per (method, weak)."""
    axis, styles = SizeAxis(gs), style_by_weak_and_label(gs)
    fig, (acc, pgr) = plt.subplots(1, 2, figsize=(12, 4.5))
    pgr_references(pgr)
    naive_first = sorted(gs, key=lambda g: g.experiment != NAIVE)
    for (name, weak, label), line in series_of(naive_first, lambda g: (g.name, g.weak, g.label)).items():
        colour, _, marker = styles[(weak, label)]
        ls = "-" if line[0].experiment == NAIVE else "--"
        m = np.array([g.mean_sd("student") for g in line])
        acc.errorbar([axis.x(g.strong) for g in line], m[:, 0], m[:, 1], color=colour, ls=ls, marker=marker, capsize=3,
                     label=f"{name}, weak {weak}")
        defined = [g for g in line if g.pgr() is not None and g.pgr_defined()]
        pgr.errorbar([axis.x(g.strong) for g in defined], [g.pgr() for g in defined], pgr_yerr(defined), color=colour,
                     ls=ls, marker=marker, capsize=3, label=f"{name}, weak {weak}")
    for ax in (acc, pgr):
        axis.decorate(ax)
        ax.grid(alpha=0.3)
    acc.set_ylabel(score_label(gs[0].regression) + ", mean ± 1 s.d.")
    pgr.set_ylabel(PGR_LABEL + ", 95% bootstrap")
    legend_outside(pgr, title=f"solid: {NAIVE}; dashed: {AUX}")
    fig.suptitle(f"{dataset}: naive_finetune vs aux_confidence_loss against strong size ({seeds_note(gs)})")
    fig.tight_layout()
    return fig


def with_agreement(groups):
    return [g for g in groups if all(math.isfinite(r.agreement.get("supervisor_wrong", math.nan)) for r in g.records)]


def plot_fig8(groups, out):
    """Fig. 8: agreement with the supervisor where it is right and wrong."""
    drawn = []
    for dataset, all_gs in by_dataset(with_agreement(groups)).items():
        # an experiment run at several strong sizes gets lines of its own; the rest share one bar chart
        by_experiment = bucket(all_gs, lambda g: g.experiment)
        ladders = {e: egs for e, egs in by_experiment.items() if len({g.strong for g in egs}) > 1}
        for experiment, egs in ladders.items():
            stem = out.save(fig8_lines(dataset, experiment, egs), f"fig8_agreement_{safe(dataset)}_{safe(experiment)}")
            drawn.append(Drawn(stem, f"{dataset}, {experiment}",
                               f"Agreement of {experiment} students on {dataset} with their supervisor where it "
                               f"is right (solid) and wrong (dashed) against strong size, one colour per weak "
                               f"supervisor; mean ± 1 s.d. over {seeds_note(egs)}."))
        gs = [g for e, egs in by_experiment.items() if e not in ladders for g in egs]
        if gs:
            stem = out.save(fig8_bars(dataset, gs), f"fig8_agreement_{safe(dataset)}")
            drawn.append(Drawn(stem, dataset,
                               f"Agreement of the students on {dataset} with their supervisor where it is right and "
                               f"where it is wrong, per experiment ({', '.join(dict.fromkeys(g.name for g in gs))}); "
                               f"mean ± 1 s.d. over {seeds_note(gs)}."))
    return drawn or [Skipped("needs classification records with metrics.agreement")]


def agreement(g, which):
    return mean_sd([r.agreement.get(which, math.nan) for r in g.records])


def fig8_bars(dataset, gs):
    """Fig. 8 for one strong size: a row per group, bars for supervisor right and wrong."""
    pairs = {(g.weak, g.strong) for g in gs}
    cats = [g.name + (f"\n{pair_name(g.weak, g.strong)}" if len(pairs) > 1 else "") for g in gs]
    fig = bar_figure(len(gs) * 1.3)
    ax = fig.subplots()
    series = [(f"supervisor {which}", [agreement(g, key)[0] for g in gs], [agreement(g, key)[1] for g in gs], colour)
              for which, key, colour in (("right", "supervisor_right", "tab:green"),
                                         ("wrong", "supervisor_wrong", "tab:red"))]
    grouped_barh(ax, cats, series)
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("student agrees with supervisor (fraction of test examples), mean ± 1 s.d.")
    pair = pair_name(gs[0].weak, gs[0].strong) if len(pairs) == 1 else "several size pairs"
    ax.set_title(f"{dataset} ({pair}): agreement with the supervisor where it is right and wrong "
                 f"({seeds_note(gs)})", fontsize="medium")
    legend_outside(ax)
    return fig


def fig8_lines(dataset, experiment, gs):
    """Fig. 8 for several strong sizes: agreement against strong size, a colour per weak supervisor."""
    axis, styles = SizeAxis(gs), style_by_weak_and_label(gs)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for (weak, label), line in series_of(gs, lambda g: (g.weak, g.label)).items():
        colour, _, marker = styles[(weak, label)]
        for which, ls in (("right", "-"), ("wrong", "--")):
            m = np.array([agreement(g, f"supervisor_{which}") for g in line])
            ax.errorbar([axis.x(g.strong) for g in line], m[:, 0], m[:, 1], color=colour, ls=ls, marker=marker,
                        capsize=3, label=f"weak {weak}{', ' + label if label else ''}: supervisor {which}")
    axis.decorate(ax)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("agreement with supervisor\n(fraction of test examples)")
    ax.set_title(f"{dataset}, {experiment}: agreement where the supervisor is right (solid) / wrong (dashed)\n"
                 f"(mean ± 1 s.d. over {seeds_note(gs)})", fontsize="medium")
    ax.grid(alpha=0.3)
    legend_outside(ax)
    return fig


def label_source(g):
    """The policy that made the student's labels, with its options: "longest (rate=0.2)"."""
    src = g.records[0].policies.get("label_source", {})
    opts = ", ".join(f"{k}={show(v)}" for k, v in sorted(src.get("options", {}).items()))
    return src.get("name", "?") + (f" ({opts})" if opts else "")


def plot_fig26(groups, out):
    """Fig. 26: the noise ablations against naive_finetune, per (dataset, weak, strong)."""
    drawn = []
    for (dataset, weak, strong), gs in bucket(groups, lambda g: (g.dataset, g.weak, g.strong)).items():
        noise = [g for g in gs if g.experiment in NOISE_EXPERIMENTS]
        if not noise:
            continue
        noise.sort(key=lambda g: (NOISE_EXPERIMENTS.index(g.experiment), g.label))
        shown = [g for g in gs if g.experiment == NAIVE] + noise
        stem = out.save(fig26(dataset, weak, strong, shown), f"fig26_noise_{safe(dataset)}_{safe(weak)}_{safe(strong)}")
        drawn.append(Drawn(stem, f"{dataset}, {pair_name(weak, strong)}",
                           f"Student {score_word(gs[0].regression)} and PGR on {dataset} ({pair_name(weak, strong)}) "
                           f"per label source: {', '.join(g.name for g in shown)}; mean ± 1 s.d. and 95% "
                           f"bootstrap over {seeds_note(shown)}."))
    return drawn or [Skipped("needs records of " + ", ".join(NOISE_EXPERIMENTS[:-1]) + " or " + NOISE_EXPERIMENTS[-1]
                             + " (with naive_finetune on the same dataset, weak and strong as the reference)")]


def fig26(dataset, weak, strong, gs):
    """Bars per label source: student accuracy (with weak and ceiling lines) and PGR."""
    cats = [f"{g.name}\nlabels: {label_source(g)}" for g in gs]
    colours = ["0.45" if g.experiment == NAIVE else COLOURS[0] for g in gs]
    fig = bar_figure(len(gs) * 1.2)
    acc, pgr = fig.subplots(1, 2, sharey=True)
    ms = [g.mean_sd("student") for g in gs]
    acc.barh(range(len(gs)), [m for m, _ in ms], xerr=[s for _, s in ms], color=colours, capsize=3)
    records = [r for g in gs for r in g.records]
    for model, ls in (("weak", ":"), ("ceiling", "--")):
        acc.axvline(per_seed_mean_sd(records, lambda r: r.scores[model])[0], color="black", ls=ls,
                    label=f"{model} (mean)")
    acc.set_xlim(max(0.0, min(m for m, _ in ms) - 0.1) if not gs[0].regression else None, None)
    acc.set_xlabel(score_label(gs[0].regression) + ", student, mean ± 1 s.d.")
    acc.set_yticks(range(len(gs)), cats)
    acc.set_ylim(len(gs) - 0.5, -0.5)
    pgr.barh(range(len(gs)), [g.pgr() if g.pgr() is not None else 0 for g in gs], xerr=pgr_yerr(gs), color=colours,
             capsize=3)
    pgr.axvline(0, color="0.4", lw=0.8)
    pgr.axvline(1, color="0.6", lw=0.8, ls="--")
    pgr.set_xlabel(PGR_LABEL + ", 95% bootstrap")
    fig.suptitle(f"{dataset} ({pair_name(weak, strong)}): simulated label noise vs real weak labels (grey: "
                 f"{NAIVE}; {seeds_note(gs)})")
    fig.tight_layout()
    legend_below(fig, acc, ncol=2)
    return fig


def plot_gain_misfit(groups, out):
    """Gain against misfit for regression records with metrics.tasks."""
    drawn = []
    for (dataset, experiment), gs in bucket([g for g in groups if any(r.tasks for r in g.records)],
                                            lambda g: (g.dataset, g.experiment)).items():
        fig, ax = plt.subplots(figsize=(6, 5.5))
        points = []
        for i, split in enumerate(dict.fromkeys(s for g in gs for r in g.records for s in r.tasks)):
            tasks = [t for g in gs for r in g.records for t in r.tasks.get(split, [])]
            x, y = [number(t.get("misfit")) for t in tasks], [number(t.get("gain")) for t in tasks]
            ax.scatter(x, y, s=18, alpha=0.7, color=COLOURS[i], label=f"{split} ({len(tasks)} points: tasks × seeds)")
            points += [v for v in x + y if math.isfinite(v)]
        lo, hi = min(points + [0.0]), max(points + [0.0])
        ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="gain = misfit")
        ax.set_xlabel("misfit E(f_sw − f_w)² (squared error)")
        ax.set_ylabel("gain err_weak − err_w2s (squared error)")
        ax.set_aspect("equal", adjustable="datalim")
        ax.grid(alpha=0.3)
        pairs = ", ".join(dict.fromkeys(pair_name(g.weak, g.strong) for g in gs))
        ax.set_title(f"{dataset}, {experiment} ({pairs}):\ngain against misfit per task", fontsize="medium")
        ax.legend(loc="upper left", fontsize="small")
        stem = out.save(fig, f"gain_misfit_{safe(dataset)}_{safe(experiment)}")
        drawn.append(Drawn(stem, f"{dataset}, {experiment}",
                           f"Per task, split and seed of {experiment} on {dataset}, the student's gain over its weak "
                           f"supervisor against its misfit to the weak labels; Charikar et al.'s theorem puts the "
                           f"points on or above the dashed line when the strong representation is realisable."))
    return drawn or [Skipped("needs regression records with metrics.tasks (gain_vs_misfit on charikar)")]


def plot_curves(groups, out):
    """Figs. 7/13: test score against training step, a panel per experiment, a figure per (dataset, strong)."""
    drawn = []
    with_curves = [g for g in groups if all("student" in r.curves for r in g.records)]
    for (dataset, strong), gs in bucket(with_curves, lambda g: (g.dataset, g.strong)).items():
        panels = bucket(gs, lambda g: g.experiment)
        stem = out.save(curves_figure(dataset, strong, panels), f"fig7_curves_{safe(dataset)}_{safe(strong)}")
        drawn.append(Drawn(stem, f"{dataset}, strong {strong}",
                           f"Test {score_word(gs[0].regression)} against training step on "
                           f"{dataset} with strong {strong}, one panel per experiment ({', '.join(panels)}): "
                           f"student (colour, mean ± 1 s.d. shaded), ceiling (black, dashed), weak supervisor's "
                           f"final score (dotted); mean over {seeds_note(gs)}."))
    return drawn or [Skipped("needs records with metrics.student.curve")]


def curves_figure(dataset, strong, panels):
    """One panel per experiment; a shared legend right of the panels."""
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols + 2.5, 3.3 * rows + 0.6), sharey=True, squeeze=False)
    every = [g for gs in panels.values() for g in gs]
    styles = style_by_weak_and_label(every)
    handles = {"ceiling": {}, "student": {}, "weak": {}}  # legend order: ceiling, students, supervisors
    for ax, (experiment, gs) in zip(axes.flat, panels.items()):
        draw_curves(ax, gs, styles, handles)
        ax.set_title(experiment, fontsize="medium")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(panels):]:
        ax.remove()
    for ax in axes[:, 0]:
        ax.set_ylabel(score_label(every[0].regression))
    for ax in axes.flat[:len(panels)]:
        ax.set_xlabel("training step (minibatches)")
    fig.suptitle(f"{dataset}, strong student {strong}: test {score_word(every[0].regression)} during training "
                 f"({seeds_note(every)})")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (3.3 * rows + 0.6)))  # leave the title its own line
    ordered = {k: v for kind in handles.values() for k, v in kind.items()}
    fig.legend(ordered.values(), ordered.keys(), loc="upper left", bbox_to_anchor=(1.0, 0.93), fontsize="small")
    return fig


def lone_point(steps):
    """A marker for a curve of one evaluation (a closed-form fit, e.g. least squares), which a line cannot show."""
    return "o" if len(steps) == 1 else None


def draw_curves(ax, gs, styles, handles):
    """Student curves per (weak, label), the ceiling's, and each weak model's final score
    (per weak size, not per variant: the variants share their supervisor)."""
    ceiling = mean_curve([r for g in gs for r in g.records], "ceiling")
    if ceiling:
        handles["ceiling"]["strong ceiling (ground truth)"], = ax.plot(ceiling[0], ceiling[1], color="black", ls="--",
                                                                       marker=lone_point(ceiling[0]))
    for (weak, label), line in bucket(gs, lambda g: (g.weak, g.label)).items():
        colour, ls, _ = styles[(weak, label)]
        steps, mean, sd = mean_curve([r for g in line for r in g.records], "student")
        name = f"student on {weak}'s labels" + (f", {label}" if label else "")
        handles["student"][name], = ax.plot(steps, mean, color=colour, ls=ls, marker=lone_point(steps))
        ax.fill_between(steps, mean - sd, mean + sd, color=colour, alpha=0.15, lw=0)
    for weak, colour in weak_colours(gs).items():
        final = per_seed_mean_sd([r for g in gs if g.weak == weak for r in g.records], lambda r: r.scores["weak"])[0]
        handles["weak"][f"weak supervisor {weak} (final)"] = ax.axhline(final, color=colour, ls=":", lw=1.2)


PLOTTERS = [("fig3_accuracy", plot_fig3_accuracy), ("fig3_pgr", plot_fig3_pgr), ("fig5", plot_fig5),
            ("fig8", plot_fig8), ("fig26", plot_fig26), ("gain_misfit", plot_gain_misfit),
            ("fig7_curves", plot_curves)]


# ----------------------------------------------------------------------------- tables and the page


def fmt(x, digits=3):
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def markdown_table(groups):
    """One row per group: seed means and the PGR of the means."""
    lines = ["| experiment | dataset | weak | strong | seeds | weak acc | ceiling acc | student acc | PGR of means |",
             "|---|---|---|---|---|---|---|---|---|"]
    for g in groups:
        lines.append(f"| {g.name} | {g.dataset} | {g.weak} | {g.strong} | {len(g.records)} | "
                     f"{fmt(g.mean_sd('weak')[0])} | {fmt(g.mean_sd('ceiling')[0])} | "
                     f"{fmt(g.mean_sd('student')[0])} | {fmt(g.pgr(), 2)} |")
    note = "\n\nRegression rows: the scores are −MSE.\n" if any(g.regression for g in groups) else "\n"
    return "\n".join(lines) + note


def report_table(report, paths, folder, include_smoke):
    """Runs w2s_report on the same inputs, writing its Markdown table to folder/table.md; returns it."""
    table = os.path.join(folder, "table.md")
    cmd = [report, *paths, "--markdown", table] + (["--include-smoke"] if include_smoke else [])
    try:
        done = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise InputError(f"--report {report}: cannot run it ({e.strerror})") from None
    if done.returncode != 0:
        raise InputError(f"--report: {' '.join(cmd)} exited with {done.returncode}: "
                         f"{(done.stderr or done.stdout).strip()}")
    with open(table, encoding="utf-8") as f:
        return f.read()


def count(n, noun):
    """"1 record", "2 records"."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def diverged_lines(diverged):
    return [f"- `{d.where}`: {d.experiment}, {d.dataset}, {d.weak} → {d.strong}, seed {d.seed}: diverged in "
            f"{d.stage} at step {d.step}" for d in diverged]


def page(title, records, groups, sections, table, table_source):
    """index.md: what was read, each figure (or why not), the table and the records left out."""
    lines = [f"# {title}", "",
             f"Read {len(records.results) + len(records.diverged)} records ({len(records.results)} with metrics in "
             f"{len(groups)} groups, {len(records.diverged)} marked diverged) from {len(records.files)} files under: "
             + ", ".join(f"`{p}`" for p in records.paths) + "."]
    if records.smoke_skipped:
        lines.append(f"Left out {count(records.smoke_skipped, 'smoke record')} (--include-smoke draws them).")
    if records.others_skipped:
        lines.append(f"Skipped {count(records.others_skipped, 'record')} without metrics (other tools' output).")
    repeated = [r.where for g in groups for r in g.repeated]
    if repeated:
        lines.append(f"Left out {count(len(repeated), 'record')} of a seed already read for the same configuration "
                     "(the first, in path order, counts): " + ", ".join(f"`{w}`" for w in repeated) + ".")
    lines += ["", "Means are over seeds; accuracy error bars are ±1 sample standard deviation over seeds; PGR is "
              "that of the seed-averaged scores, its error bars a 95% percentile bootstrap over seeds. A series "
              "label such as \"alpha=0.5\" names the configuration value that tells groups of the same "
              "experiment, dataset and sizes apart.", ""]
    for kind, entries in sections:
        heading, what = FIGURES[kind]
        lines += [f"## {heading}", "", what[0].upper() + what[1:] + ".", ""]
        for e in entries:
            if isinstance(e, Skipped):
                lines += [f"_Not drawn: {e.reason}._", ""]
            else:
                lines += [f"### {e.heading}", "", e.sentence, "",
                          f"![{e.stem}]({e.stem}.png)", "", f"Files: [{e.stem}.png]({e.stem}.png), "
                          f"[{e.stem}.svg]({e.stem}.svg)", ""]
    lines += [f"## Table ({table_source})", "", table.rstrip(), ""]
    if records.diverged:
        lines += ["## Records marked diverged (left out of the figures)", "", *diverged_lines(records.diverged), ""]
    return "\n".join(lines)


def parse_args(argv):
    epilog = "figures (each drawn only when the records have what it needs):\n" + "\n".join(
        f"  {kind}: {head}\n" + textwrap.fill(what, 88, initial_indent=" " * 6, subsequent_indent=" " * 6)
        for kind, (head, what) in FIGURES.items())
    ap = argparse.ArgumentParser(prog="w2s_figures", description=__doc__, epilog=epilog,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("records", nargs="+", help="record files (*.jsonl) or folders, read recursively")
    ap.add_argument("--out", required=True, help="folder for the figures and index.md (created if missing)")
    ap.add_argument("--report", help="the w2s_report binary: its Markdown table goes into OUT/table.md and the "
                                     "page; without it the page has a simpler table of its own")
    ap.add_argument("--title", default="Weak-to-strong generalisation: figures", help="the page's title")
    ap.add_argument("--include-smoke", action="store_true", help="include records of --smoke runs")
    return ap.parse_args(argv)


def run(args):
    records = read_records(args.records, args.include_smoke)
    if not records.results and not records.diverged:
        raise InputError("no records under " + ", ".join(args.records)
                         + (f" ({records.smoke_skipped} smoke records left out; --include-smoke draws them)"
                            if records.smoke_skipped else ""))
    os.makedirs(args.out, exist_ok=True)
    groups = group_records(records.results)
    # The table first: a failing --report stops the run before any drawing.
    if args.report:
        table, source = report_table(args.report, args.records, args.out, args.include_smoke), "w2s_report"
    else:
        table, source = markdown_table(groups), "per group"
    out = Output(args.out)
    sections = [(kind, plot(groups, out)) for kind, plot in PLOTTERS]
    index = os.path.join(args.out, "index.md")
    text = page(args.title, records, groups, sections, table, source)
    atomic_write(index, lambda f: f.write(text.encode("utf-8")))
    print(f"index: {index}")


def main(argv=None):
    args = parse_args(argv)
    plt.rcParams["svg.hashsalt"] = "w2s"  # stable SVG ids: the same records give the same file
    try:
        run(args)
    except (InputError, OSError) as e:
        print(f"w2s_figures: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
