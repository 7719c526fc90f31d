#!/usr/bin/env python3
"""Forward-pass throughput of the ladder's models: our C++ path (w2s_encode) vs transformers.

    python bench/encoder_bench.py --build build --data data --threads 2 --texts 512 [--batch 32] [--model NAME|all]
        [--source mixed|brown|fine-foods] [--by-length]

--model picks one model of the ladder (default minilm-l6), or `all`: each in turn (one whose files
are missing is skipped with a line), then one markdown table of them all (for docs/performance.md).

  minilm-l6   data/models/all-MiniLM-L6-v2        transformers.BertModel + the folder's pooling
  minilm-l3   data/models/paraphrase-MiniLM-L3-v2 transformers.BertModel + the folder's pooling
  mpnet-base  data/models/all-mpnet-base-v2       transformers.MPNetModel + the folder's pooling; ids
              are BERT uncased's WordPiece (all-MiniLM-L6-v2/vocab.txt) mapped to MPNet's, as the ladder reads
  smollm2     data/models/SmolLM2-135M-Instruct.Q4_1.gguf  transformers.LlamaModel as
              tests/parity/check_smollm2.py's Reference builds it from transformers' own GGUF reader
              (dequantised to float32, eager attention); a decoder: last_hidden_state only, no pooling

Both sides read the same N real texts (--source mixed: N/3 each of emails, Brown sentences and reviews,
chosen as tests/parity/make_texts.py does, interleaved; brown or fine-foods: that dataset's texts alone) as the same token ids: w2s_encode tokenises them once
(--ids, truncated at --max-tokens) and both sides are then fed those ids, in the same batches, each
right-padded to its longest row with the model's padding id (BERT 0, MPNet 1, SmolLM2 2), with the
same number of threads and the same process settings (OMP_WAIT_POLICY=PASSIVE, OpenBLAS threads,
malloc thresholds: what w2s_encode sets for itself). Only the model forward (+ pooling for the
encoders) is timed, neither tokenisation nor loading: ours by `w2s_encode --time`. Each side is
timed warm, as an experiment's feature store runs once it has met its largest batch: the reference
after one untimed pass over every batch in its process, ours with `--repeats 2` (each w2s_encode
process is new: its first pass is the cold one, the better of its two is kept); each side's best of
--repeats such runs, alternating, as the machine may be shared. --by-length orders the texts by
their number of ids before batching, on both sides, as the per-text feature store does when it
encodes a dataset (models/bert_backbone.hpp: chunks of 64 sorted by length; pass --batch 64): the
rate an experiment's features are computed at; each model's minutes
per 1,000 texts at our rate are printed. The GEMM peak is measured in this process: the best of five
torch float32 2048 x 2048 matmuls (the same LibTorch and BLAS as our binary), before and after each
model. Prints both rates,
the ratio w2s/hf (what the benchmark is judged on), and each side's GFLOP/s as a fraction of the
peak (FLOPs per token as w2s_encode counts them for the model; the reference does the same work).
"""
import argparse
import ctypes
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as w2s_encode sets for itself; libgomp reads it on load
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests/parity"))

import torch  # noqa: E402
import transformers  # noqa: E402

import check  # noqa: E402  (tests/parity/check.py: the sentence-transformers pooling)
import make_texts  # noqa: E402

MINILM = "models/all-MiniLM-L6-v2"
# name: (path under --data, kind, padding id, extra w2s_encode options for the ids pass)
MODELS = {
    "minilm-l6": (MINILM, "bert", 0, []),
    "minilm-l3": ("models/paraphrase-MiniLM-L3-v2", "bert", 0, []),
    "mpnet-base": ("models/all-mpnet-base-v2", "mpnet", 1, ["--vocab", MINILM + "/vocab.txt"]),
    "smollm2": ("models/SmolLM2-135M-Instruct.Q4_1.gguf", "llama", 2, []),
}


def match_runtime(threads):
    """This process's threads and malloc settings as w2s_encode's (include/w2s/core/runtime.hpp):
    torch's threads, OpenBLAS's own threads, no trimming of freed tensors back to the kernel."""
    torch.set_num_threads(threads)
    try:
        ctypes.CDLL("libblas.so.3").openblas_set_num_threads(threads)
    except (OSError, AttributeError):
        pass  # not OpenBLAS
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
    libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD


def gemm_peak(n=2048, repeats=5):
    """Best GFLOP/s of an n x n float32 matmul."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


SOURCES = ("mixed", "brown", "fine-foods")


def corpus(data, n, source="mixed"):
    """n real texts: `mixed` n/3 each of emails, Brown sentences and reviews, interleaved (varied lengths in
    every batch); `brown` Brown sentences only; `fine-foods` reviews only (a dataset's own length profile)."""
    if source == "brown":
        return make_texts.brown_sentences(data, n)[:n]
    if source == "fine-foods":
        return make_texts.reviews(data, n)[:n]
    per = -(-n // 3)
    sources = [make_texts.emails(data, per), make_texts.brown_sentences(data, per), make_texts.reviews(data, per)]
    return [t for group in zip(*sources) for t in group][:n]


def model_files(data, name):
    """The files a model needs (the checkpoint, and for MPNet BERT uncased's vocabulary)."""
    path, _, _, options = MODELS[name]
    files = [data / path] + [data / o for o in options[1::2]]
    return files, [f for f in files if not f.exists()]


def padded_batches(ids, batch, pad_id):
    """(input_ids, attention_mask) per batch of `batch` rows, right-padded to the batch's longest row."""
    out = []
    for start in range(0, len(ids), batch):
        rows = ids[start:start + batch]
        width = max(1, max(map(len, rows)))
        out.append((torch.tensor([r + [pad_id] * (width - len(r)) for r in rows]),
                    torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])))
    return out


def reference_model(path, kind):
    """(forward(ids, mask) -> the timed work on one batch, parameter count) of transformers' model."""
    if kind == "llama":
        try:
            import check_smollm2  # exits 77 (skip) without gguf or transformers' GGUF reader
        except SystemExit as e:
            raise RuntimeError(f"tests/parity/check_smollm2.py cannot build the reference (exit {e.code})") from e
        model = check_smollm2.Reference(path).model  # LlamaModel, float32, eager attention

        def forward(ids, mask):
            return model(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
    else:
        cls = transformers.BertModel if kind == "bert" else transformers.MPNetModel
        model = cls.from_pretrained(path, local_files_only=True, add_pooling_layer=False)
        modules = json.loads((path / "modules.json").read_text())
        pooling = next(m for m in modules if m["type"].endswith(".Pooling"))
        pool_config = json.loads((path / pooling["path"] / "config.json").read_text())
        normalize = any(m["type"].endswith(".Normalize") for m in modules)

        def forward(ids, mask):
            h = model(input_ids=ids, attention_mask=mask).last_hidden_state
            return check.pool(h, mask, pool_config, normalize)  # the folder's pooling (+ Normalize), as ours
    model.eval()
    return forward, sum(p.numel() for p in model.parameters())


def hf_pass(forward, batches, n):
    """A function that runs one timed pass of `forward` over the batches and returns examples/s
    (after one untimed pass over them here: each batch's shape met once, as w2s_encode --repeats 2)."""
    @torch.no_grad()
    def run(batches=batches):
        start = time.perf_counter()
        for ids, mask in batches:
            forward(ids, mask)
        return n / (time.perf_counter() - start)
    run(batches)
    return run


def w2s_run(cmd):
    """Runs w2s_encode; its stdout, or RuntimeError with its output."""
    run = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    return run.stdout


def w2s_rate(cmd):
    """(examples/s, GFLOP/s, tokens) from one run of `w2s_encode --time`."""
    out = w2s_run(cmd)
    timing = re.search(r"encode: \d+ examples in [\d.e+-]+ s: ([\d.e+-]+) examples/s, ([\d.e+-]+) GFLOP/s "
                       r"\((\d+) tokens", out)
    if not timing:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: no timing line in its output:\n{out}")
    return float(timing[1]), float(timing[2]), int(timing[3])


def bench(args, name, texts_path, n, tmp):
    """One model: {model, params, texts, tokens, w2s, hf, w2s_gflops, hf_gflops}."""
    rel, kind, pad_id, options = MODELS[name]
    path = args.data / rel
    options = [o if i % 2 == 0 else args.data / o for i, o in enumerate(options)]
    encode = [args.build / "tools/w2s_encode", "--model", path, *options]
    # The ids once, by our tokenizer (parity-checked against each model's own: tests/parity); both sides read them.
    ids_path, ids_texts = tmp / f"{name}_ids.jsonl", tmp / f"{name}_ids_in.jsonl"
    w2s_run([*encode, "--texts", texts_path, "--ids", ids_path, "--max-tokens", args.max_tokens])
    with open(ids_path, encoding="utf-8") as f:
        ids = [json.loads(line) for line in f]
    if len(ids) != n:
        raise RuntimeError(f"w2s_encode wrote {len(ids)} id lines for {n} texts")
    if args.by_length:
        ids.sort(key=len)  # stable: texts of one length keep their order
    ids_texts.write_text("".join(json.dumps({"ids": i}) + "\n" for i in ids), encoding="utf-8")
    forward, params = reference_model(path, kind)
    run_hf = hf_pass(forward, padded_batches(ids, args.batch, pad_id), n)
    cmd = [*encode, "--texts", ids_texts, "--time", "--repeats", 2, "--max-tokens", args.max_tokens,
           "--batch", args.batch, "--threads", args.threads]
    ours, ref = [], []
    for _ in range(args.repeats):  # alternating, so a burst of load elsewhere hits both sides alike
        ours.append(w2s_rate(cmd))
        ref.append(run_hf())
    del forward, run_hf
    gc.collect()
    (w2s, w2s_gflops, tokens), hf = max(ours), max(ref)
    if tokens != sum(map(len, ids)):
        raise RuntimeError(f"w2s_encode counted {tokens} tokens, the ids hold {sum(map(len, ids))}")
    return dict(model=name, params=params, texts=n, tokens=tokens, w2s=w2s, hf=hf, w2s_gflops=w2s_gflops,
                hf_gflops=w2s_gflops * hf / w2s)  # the same FLOPs in each side's time


def report(r, peak):
    print(f"{r['model']}: {r['params'] / 1e6:.1f}M parameters, {r['texts']} texts, {r['tokens']} tokens")
    print(f"  w2s: {r['w2s']:.1f} examples/s, {r['w2s_gflops']:.1f} GFLOP/s = {r['w2s_gflops'] / peak:.2f} of peak")
    print(f"  hf:  {r['hf']:.1f} examples/s, {r['hf_gflops']:.1f} GFLOP/s = {r['hf_gflops'] / peak:.2f} of peak")
    print(f"  w2s/hf = {r['w2s'] / r['hf']:.2f}; w2s: {1000 / r['w2s'] / 60:.1f} min per 1,000 texts", flush=True)


def table(rows, peak):
    lines = ["| model | parameters | texts | tokens | w2s examples/s | hf examples/s | w2s/hf | w2s % of peak "
             "| hf % of peak |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['error']} | | | | | | | |")
            continue
        lines.append(f"| {r['model']} | {r['params'] / 1e6:.1f}M | {r['texts']} | {r['tokens']} | {r['w2s']:.1f} "
                     f"| {r['hf']:.1f} | {r['w2s'] / r['hf']:.2f} | {100 * r['w2s_gflops'] / peak:.0f}% "
                     f"| {100 * r['hf_gflops'] / peak:.0f}% |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--model", choices=[*MODELS, "all"], default="minilm-l6",
                        help="the ladder's model to time, or all of them in turn (default minilm-l6)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per side, alternating; the best counts")
    parser.add_argument("--source", choices=SOURCES, default="mixed",
                        help="whose texts: mixed (emails, Brown sentences, reviews), brown or fine-foods")
    parser.add_argument("--by-length", action="store_true",
                        help="batch the texts in order of length, as the feature store does (with --batch 64)")
    args = parser.parse_args()
    if not os.access(args.build / "tools/w2s_encode", os.X_OK):
        sys.exit(f"encoder_bench: {args.build / 'tools/w2s_encode'} is not an executable (build the tools)")
    names = list(MODELS) if args.model == "all" else [args.model]
    match_runtime(args.threads)
    texts = corpus(args.data, args.texts, args.source)
    peak = gemm_peak()
    print(f"threads {args.threads}, torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{len(texts)} texts ({args.source}), batch {args.batch}{' by length' if args.by_length else ''}, "
          f"max tokens {args.max_tokens}, best of {args.repeats}", flush=True)
    rows, failed = [], False
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        texts_path = tmp / "texts.jsonl"
        texts_path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
        for name in names:
            _, missing = model_files(args.data, name)
            if missing:
                print(f"{name}: skipped, missing {', '.join(map(str, missing))}", flush=True)
                if args.model != "all":
                    sys.exit(1)
                continue
            try:
                r = bench(args, name, texts_path, len(texts), tmp)
            except RuntimeError as e:
                if args.model != "all":
                    sys.exit(f"encoder_bench: {name}: {e}")
                print(f"{name}: FAILED: {e}", flush=True)
                rows.append(dict(model=name, error="failed"))
                failed = True
                continue
            peak = max(peak, gemm_peak())  # before and after each model, as the machine may be shared
            report(r, peak)
            rows.append(r)
    print(f"gemm peak (torch 2048x2048 float32 matmul, best before and after): {peak:.1f} GFLOP/s; "
          f"load average {os.getloadavg()[0]:.2f}")
    if len(names) > 1:
        print(f"\n{table(rows, peak)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
