#!/usr/bin/env python3
"""Encoder feature extraction: pooled MiniLM embeddings, our C++ path vs transformers.

    python bench/encoder_bench.py --build build --data data --threads 2 --texts 512 [--batch 32]

Both sides embed the same N real texts (N/3 each of emails, Brown sentences and reviews,
chosen as tests/parity/make_texts.py does, interleaved), truncated at 128 tokens, in the
same batches (padded to the longest text of each batch), with the same number of threads
and the same process settings (OMP_WAIT_POLICY=PASSIVE, OpenBLAS threads, malloc
thresholds: what w2s_encode sets for itself). Only the model forward + pooling is timed,
not tokenisation: ours by `w2s_encode --time`, the reference (transformers.BertModel) after
one warm-up batch; each side's best of --repeats passes, alternating, as the machine may be shared.
The GEMM peak is measured in this process: the best of five torch float32 2048 x 2048
matmuls (the same LibTorch and BLAS as our binary). Prints both rates, the ratio w2s/hf,
and each side's GFLOP/s as a fraction of the peak (FLOPs as w2s_encode counts them; the
reference does the same work).
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

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as w2s_encode sets for itself; libgomp reads it on load
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests/parity"))

import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

import make_texts  # noqa: E402


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


def corpus(data, n):
    """n real texts: n/3 each of emails, Brown sentences and reviews, interleaved (varied lengths in every batch)."""
    per = -(-n // 3)
    sources = [make_texts.emails(data, per), make_texts.brown_sentences(data, per), make_texts.reviews(data, per)]
    return [t for group in zip(*sources) for t in group][:n]


def hf_encoder(folder, texts, batch, max_tokens):
    """A function that runs one timed pass of BertModel + mean pooling + normalisation over the
    pre-tokenised batches and returns its examples/s (after one warm-up batch here)."""
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_truncation(max_tokens)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    batches = []
    for start in range(0, len(texts), batch):
        enc = tok.encode_batch(texts[start:start + batch])
        batches.append((torch.tensor([e.ids for e in enc]), torch.tensor([e.attention_mask for e in enc])))
    model = transformers.BertModel.from_pretrained(folder, local_files_only=True).eval()

    @torch.no_grad()
    def run(batches=batches):
        start = time.perf_counter()
        for ids, mask in batches:
            h = model(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).float()
            torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1)
        return len(texts) / (time.perf_counter() - start)
    run(batches[:1])
    return run


def w2s_rate(cmd):
    """(examples/s, GFLOP/s) from one run of `w2s_encode --time`."""
    run = subprocess.run(cmd, capture_output=True, text=True)
    timing = re.search(r"encode: \d+ examples in [\d.e+-]+ s: ([\d.e+-]+) examples/s, ([\d.e+-]+) GFLOP/s", run.stdout)
    if run.returncode != 0 or not timing:
        sys.exit(f"encoder_bench: {' '.join(cmd)} failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    return float(timing[1]), float(timing[2])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per side, alternating; the best counts")
    args = parser.parse_args()
    match_runtime(args.threads)
    folder = args.data / "models/all-MiniLM-L6-v2"
    texts = corpus(args.data, args.texts)
    peak = gemm_peak()
    hf_pass = hf_encoder(folder, texts, args.batch, args.max_tokens)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "texts.jsonl"
        path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
        cmd = [str(args.build / "tools/w2s_encode"), "--model", str(folder), "--texts", str(path), "--time",
               "--max-tokens", str(args.max_tokens), "--batch", str(args.batch), "--threads", str(args.threads)]
        ours, ref = [], []
        for _ in range(args.repeats):  # alternating, so a burst of load elsewhere hits both sides alike
            ours.append(w2s_rate(cmd))
            ref.append(hf_pass())
    (ours, ours_gflops), ref = max(ours), max(ref)
    peak = max(peak, gemm_peak())  # before and after, for the same reason
    hf_gflops = ours_gflops * ref / ours

    print(f"threads {args.threads}, torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{len(texts)} texts, batch {args.batch}, max tokens {args.max_tokens}, best of {args.repeats}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"gemm peak (torch 2048x2048 float32 matmul): {peak:.1f} GFLOP/s")
    print(f"w2s: {ours:.1f} examples/s, {ours_gflops:.1f} GFLOP/s = {ours_gflops / peak:.2f} of peak")
    print(f"hf:  {ref:.1f} examples/s, {hf_gflops:.1f} GFLOP/s = {hf_gflops / peak:.2f} of peak")
    print(f"w2s/hf = {ours / ref:.2f}")


if __name__ == "__main__":
    main()
