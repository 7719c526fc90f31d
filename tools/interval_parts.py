#!/usr/bin/env python3
"""Splits a report interval into its two sources (docs/results.md, "What an interval covers"):
the percentile interval of the PGR of means when resampling the seeds alone, and when
resampling the test examples alone (from the records' per-example `test_correct`). The
report's own interval (w2s_report) resamples both at once.

    python3 tools/interval_parts.py results/main [--resamples 2000]

One line per experiment folder under the given folder (records of one configuration each).
"""
import argparse
import glob
import json
import os
import random
import sys


def decode(hexdigits, n):
    return [(int(hexdigits[i // 4], 16) >> (3 - i % 4)) & 1 for i in range(n)]


def pgr(rows):
    w, c, s = (sum(r[k] for r in rows) for k in range(3))
    return (s - w) / (c - w) if c > w else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--resamples", type=int, default=2000)
    args = ap.parse_args()
    rng = random.Random(20231214)
    folders = sorted(d for d in glob.glob(os.path.join(args.folder, "*")) if os.path.isdir(d))
    if not folders:
        sys.exit(f"{args.folder}: no experiment folders")
    for folder in folders:
        rows = []
        for path in sorted(glob.glob(os.path.join(folder, "*.jsonl"))):
            r = json.loads(open(path, encoding="utf-8").readline())
            m, n = r.get("metrics"), r["n"]["test"]
            if not m or "test_correct" not in m["student"]:
                sys.exit(f"{path}: no per-example test results (a record made before issue 18, or regression)")
            rows.append([m[k]["accuracy"] for k in ("weak", "ceiling", "student")] +
                        [decode(m[k]["test_correct"], n) for k in ("weak", "ceiling", "student")])
        if len(rows) < 2:
            continue
        n = len(rows[0][3])
        seeds, test = [], []
        for _ in range(args.resamples):
            seeds.append(pgr([rng.choice(rows) for _ in rows]))
            count = [0] * n
            for _ in range(n):
                count[rng.randrange(n)] += 1
            test.append(pgr([[sum(c * v for c, v in zip(count, r[k])) / n for k in (3, 4, 5)] for r in rows]))
        q = lambda v: (sorted(v)[int(0.025 * (len(v) - 1))], sorted(v)[int(0.975 * (len(v) - 1))])
        print(f"{os.path.basename(folder)}: {len(rows)} seeds, PGR {pgr(rows):.3f}; seeds alone [{q(seeds)[0]:.2f}, "
              f"{q(seeds)[1]:.2f}], test examples alone [{q(test)[0]:.2f}, {q(test)[1]:.2f}]")


if __name__ == "__main__":
    main()
