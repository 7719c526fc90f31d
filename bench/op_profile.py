#!/usr/bin/env python3
"""Where an encoder's forward pass spends its time, by ATen operator, in transformers and in w2s (issue 20).

    .venv/bin/python bench/op_profile.py --data data --threads 2 [--model minilm-l6|minilm-l3|mpnet-base]
        [--batch 64] [--tokens 28] [--repeats 5] [--build build]

w2s's BERT and MPNet layers run the same ATen operators in the same order as transformers' eager
layers (three Linear projections, matmul for the scores, softmax, matmul, dense, LayerNorm, the
feed-forward with GELU), on the same LibTorch and BLAS, so this profile says what limits both: it
runs the reference model on a batch of `--batch` rows of `--tokens` ids (random ids: an operator's
cost does not depend on them; Brown's sentences hold about 28 pieces on average, reviews about
110), under the same process settings as bench/encoder_bench.py (threads, OpenBLAS threads,
OMP_WAIT_POLICY=PASSIVE), after two warm-up passes, and prints each operator's share of the
self time, and the rate of the projections (aten::addmm) against the GEMM peak measured in this
process (the best of five float32 2048 x 2048 matmuls).

With --build, the same ids go through our model too (`w2s_encode --time --repeats 2 --profile`: the
same operators seen through LibTorch's RecordFunction hook, include/w2s/core/op_profile.hpp, on
`--repeats` batches after two timed passes), and one table puts each operator's milliseconds per batch
on both sides, with both sides' unprofiled examples/s.
"""
import argparse
import ctypes
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODELS = {"minilm-l6": "all-MiniLM-L6-v2", "minilm-l3": "paraphrase-MiniLM-L3-v2", "mpnet-base": "all-mpnet-base-v2"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="data")
    parser.add_argument("--model", default="minilm-l6", choices=sorted(MODELS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=28)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--build", type=Path, help="also profile our model: the build folder holding tools/w2s_encode")
    args = parser.parse_args()
    for name, value in (("--threads", args.threads), ("--batch", args.batch), ("--tokens", args.tokens),
                        ("--repeats", args.repeats)):
        if value < 1:
            sys.exit(f"op_profile.py: {name}: expected >= 1, got {value}")
    folder = Path(args.data) / "models" / MODELS[args.model]
    if not (folder / "config.json").exists():
        sys.exit(f"op_profile.py: {folder}: no config.json (fetch the checkpoints: ./w2s.sh models)")
    if args.build and not os.access(args.build / "tools/w2s_encode", os.X_OK):
        sys.exit(f"op_profile.py: {args.build / 'tools/w2s_encode'} is not an executable (build the tools)")

    import torch
    import transformers

    torch.set_num_threads(args.threads)
    try:
        ctypes.CDLL("libblas.so.3").openblas_set_num_threads(args.threads)
    except (OSError, AttributeError):
        pass
    transformers.logging.set_verbosity_error()
    cls = transformers.MPNetModel if args.model == "mpnet-base" else transformers.BertModel
    model = cls.from_pretrained(str(folder), add_pooling_layer=False).eval()
    config = model.config
    torch.manual_seed(0)
    ids = torch.randint(1000, min(config.vocab_size, 20000), (args.batch, args.tokens))
    mask = torch.ones_like(ids)

    def peak():
        a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - start)
        return 2 * 2048 ** 3 / best / 1e9

    with torch.no_grad():
        gflops_peak = peak()
        for _ in range(2):
            model(input_ids=ids, attention_mask=mask)
        start = time.perf_counter()
        for _ in range(args.repeats):
            model(input_ids=ids, attention_mask=mask)
        seconds = (time.perf_counter() - start) / args.repeats
        with torch.autograd.profiler.profile() as prof:
            for _ in range(args.repeats):
                model(input_ids=ids, attention_mask=mask)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    rows = sorted(events, key=lambda e: -e.self_cpu_time_total)
    # FLOPs of the projections: per token and layer, q, k, v and the output dense (4 h^2) and the
    # feed-forward (2 h f), 2 FLOPs per multiply-add.
    h, f, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    addmm_flops = 2 * args.batch * args.tokens * layers * (4 * h * h + 2 * h * f) * args.repeats
    addmm_us = sum(e.self_cpu_time_total for e in events if e.key == "aten::addmm")
    print(f"{args.model} in transformers {transformers.__version__}, torch {torch.__version__}, {args.threads} threads: "
          f"batch {args.batch} x {args.tokens} tokens, {seconds * 1e3:.1f} ms a pass, "
          f"{args.batch / seconds:.1f} examples/s; GEMM peak {gflops_peak:.1f} GFLOP/s")
    print(f"projections (aten::addmm): {addmm_flops / (addmm_us * 1e-6) / 1e9:.1f} GFLOP/s, "
          f"{addmm_flops / (addmm_us * 1e-6) / 1e9 / gflops_peak:.0%} of the peak")
    if not args.build:
        print("\n| operator | share of self time | calls per pass |\n|---|---:|---:|")
        shown = 0.0
        for e in rows[:8]:
            share = e.self_cpu_time_total / total
            shown += share
            print(f"| `{e.key}` | {share:.1%} | {e.count // args.repeats} |")
        print(f"| everything else | {1 - shown:.1%} | |")
        return
    ours, ours_rate = ours_profile(args, folder, ids)
    theirs = {e.key: (e.self_cpu_time_total / 1e3 / args.repeats, e.count // args.repeats) for e in events}
    print(f"w2s on the same ids: {ours_rate:.1f} examples/s (transformers {args.batch / seconds:.1f}: "
          f"w2s/hf {ours_rate * seconds / args.batch:.2f})")
    side_by_side(theirs, total / 1e3 / args.repeats, ours)


def ours_profile(args, folder, ids):
    """({operator: (ms per batch, calls per batch)} with "all operators", examples/s) of w2s_encode on the
    same ids: --repeats batches, two timed passes, then the profiled one."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ids.jsonl"
        path.write_text("".join(json.dumps({"ids": row}) + "\n" for row in ids.tolist()) * args.repeats)
        cmd = [args.build / "tools/w2s_encode", "--model", folder, "--texts", path, "--batch", args.batch,
               "--threads", args.threads, "--max-tokens", 0, "--time", "--repeats", 2, "--profile"]
        run = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"op_profile.py: {' '.join(map(str, cmd))} failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    rate = re.search(r"^encode: .* s: ([\d.e+-]+) examples/s", run.stdout, re.M)
    rows = re.findall(r"^\| `?([^|`]+?)`? \| [\d.]+% \| ([\d.]+) \| ?(\d*) ?\|$", run.stdout, re.M)
    if not rate or not rows:
        sys.exit(f"op_profile.py: no timing or profile in w2s_encode's output:\n{run.stdout}")
    return {name: (float(ms), int(calls or 0)) for name, ms, calls in rows}, float(rate[1])


def side_by_side(theirs, theirs_total, ours):
    """One table: each operator above 0.5% of either side's time, ms and calls per batch on both sides."""
    ours_total = ours["all operators"][0]
    names = [n for n in ours if n not in ("all operators", "everything else")]
    names += [n for n, (ms, _) in theirs.items() if ms >= 0.005 * theirs_total and n not in ours]
    names.sort(key=lambda n: -max(theirs.get(n, (0, 0))[0], ours.get(n, (0, 0))[0]))
    print("\n| operator | transformers ms per batch | calls | w2s ms per batch | calls |\n|---|---:|---:|---:|---:|")
    for n in names:
        t, o = theirs.get(n), ours.get(n)
        cells = [f"{t[0]:.2f} | {t[1]}" if t else "- | -", f"{o[0]:.2f} | {o[1]}" if o else "< 0.5% | "]
        print(f"| `{n}` | {cells[0]} | {cells[1]} |")
    shown_theirs = sum(theirs.get(n, (0, 0))[0] for n in names)
    print(f"| everything else | {theirs_total - shown_theirs:.2f} | | {ours.get('everything else', (0, 0))[0]:.2f} | |")
    print(f"| all operators | {theirs_total:.2f} | | {ours_total:.2f} | |")

if __name__ == "__main__":
    main()
