#!/usr/bin/env python3
"""Where an encoder's forward pass spends its time, by ATen operator, in transformers (issue 20).

    .venv/bin/python bench/op_profile.py --data data --threads 2 [--model minilm-l6|minilm-l3|mpnet-base]
        [--batch 64] [--tokens 28] [--repeats 5]

w2s's BERT and MPNet layers run the same ATen operators in the same order as transformers' eager
layers (three Linear projections, matmul for the scores, softmax, matmul, dense, LayerNorm, the
feed-forward with GELU), on the same LibTorch and BLAS, so this profile says what limits both: it
runs the reference model on a batch of `--batch` rows of `--tokens` ids (random ids: an operator's
cost does not depend on them; Brown's sentences hold about 28 pieces on average, reviews about
110), under the same process settings as bench/encoder_bench.py (threads, OpenBLAS threads,
OMP_WAIT_POLICY=PASSIVE), after two warm-up passes, and prints each operator's share of the
self time, and the rate of the projections (aten::addmm) against the GEMM peak measured in this
process (the best of five float32 2048 x 2048 matmuls).
"""
import argparse
import ctypes
import os
import sys
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
    args = parser.parse_args()
    for name, value in (("--threads", args.threads), ("--batch", args.batch), ("--tokens", args.tokens),
                        ("--repeats", args.repeats)):
        if value < 1:
            sys.exit(f"op_profile.py: {name}: expected >= 1, got {value}")
    folder = Path(args.data) / "models" / MODELS[args.model]
    if not (folder / "config.json").exists():
        sys.exit(f"op_profile.py: {folder}: no config.json (fetch the checkpoints: ./w2s.sh models)")

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
    print("\n| operator | share of self time | calls per pass |\n|---|---:|---:|")
    shown = 0.0
    for e in rows[:8]:
        share = e.self_cpu_time_total / total
        shown += share
        print(f"| `{e.key}` | {share:.1%} | {e.count // args.repeats} |")
    print(f"| everything else | {1 - shown:.1%} | |")


if __name__ == "__main__":
    main()
