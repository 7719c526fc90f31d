#!/usr/bin/env python3
"""compare_records.py BEFORE AFTER: for refactors that must not change a number. Every record
under BEFORE has one under AFTER with the same experiment, dataset, sizes and seed, and its metrics,
n, policies, config and sizes are equal to the last digit (timings, identities and run-time fields
may differ: metrics.label_free.features is the features' cache key, an identity that names the code
that made them). Prints one line per pair and the count of differing values; exit 1 if any differ."""
import json, os, sys, pathlib
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from w2s_placement import PLACEMENT_KEYS as PLACEMENT  # core/placement.hpp's: where a run wrote is no result
def load(root):
    out = {}
    for p in sorted(pathlib.Path(root).rglob("*.jsonl")):
        r = json.loads(p.read_text().splitlines()[0])
        out[(r["experiment"], r["dataset"], r["weak"], r["strong"], r["seed"])] = r
    return out
def diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        d = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b: d.append(f"{path}/{k}: only in {'after' if k in b else 'before'}")
            else: d += diff(a[k], b[k], f"{path}/{k}")
        return d
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [x for i, (u, v) in enumerate(zip(a, b)) for x in diff(u, v, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} -> {b!r}"]
before, after = load(sys.argv[1]), load(sys.argv[2])
bad = 0
for key, r in before.items():
    if key not in after:
        print("MISSING", key); bad += 1; continue
    s = after[key]
    d = []
    for field in ("metrics", "n", "policies", "config", "sizes"):
        a, b = r.get(field), s.get(field)
        if field == "config":  # where things were written is not a result
            a, b = ({k: v for k, v in c.items() if k not in PLACEMENT} for c in (a or {}, b or {}))
        if field == "metrics":  # the label-free control's features key names the code, like the record's identity
            a, b = ({k: ({x: y for x, y in v.items() if x != "features"} if k == "label_free" and isinstance(v, dict)
                         else v) for k, v in c.items()} for c in (a or {}, b or {}))
        d += diff(a, b, field)
    bad += len(d)
    m = r["metrics"]
    print(f"{key[0]:24s} seed {key[4]}: pgr {m.get('pgr')}  student {m['student'].get('accuracy', m['student'].get('mse'))}  "
          + ("EQUAL" if not d else "DIFFERENT: " + "; ".join(d[:5])))
print(f"{len(before)} records compared, {bad} differing values")
sys.exit(1 if bad else 0)
