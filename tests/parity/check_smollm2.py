#!/usr/bin/env python3
"""Parity of our SmolLM2-135M-Instruct (a Llama decoder read from a GGUF file) with Hugging Face's.

    check_smollm2.py --gguf FILE.gguf --gguf-tool W2S_GGUF --encode W2S_ENCODE --texts TEXTS.jsonl --work DIR
    check_smollm2.py --gguf FILE.gguf --work DIR --self-test [--texts TEXTS.jsonl]

The reference is transformers' own GGUF reader: modeling_gguf_pytorch_utils.load_gguf_checkpoint
dequantizes every tensor to float32 under LlamaModel's names (q_proj and k_proj un-permuted back
from llama.cpp's rotary layout), loaded into transformers.LlamaModel (eager attention, float32)
built from the LlamaConfig of the file's metadata; the tokenizer is AutoTokenizer(gguf_file=),
always called with add_special_tokens=False (the file says add_bos_token false; transformers'
LlamaTokenizerFast would prepend <|im_start|>).

converted  W2S_GGUF FILE.gguf --out DIR/converted: model.safetensors holds the same tensor names as
           the reference (LlamaModel's state_dict: embed_tokens.weight, layers.N..., norm.weight; no
           lm_head, the embeddings are tied), each float32 of the same shape with
           max_abs_diff <= 1e-6 * max|ref| (0 expected: both dequantize the same blocks); config.json
           holds LlamaConfig's fields (FIELDS) equal to the reference's (floats at float32 precision:
           the file stores them as float32).
ids        W2S_ENCODE --model FILE.gguf: the ids of every text of TEXTS.jsonl and of STRINGS below.
           Reference: the tokenizer transformers builds from the file with its pre-tokenizer made
           SmolLM2's own (tokenizer.json: digits split one by one, then byte-level with GPT-2's
           regex; llama.cpp reads tokenizer.ggml.pre = "smollm" the same way). transformers 4.49's
           converter ignores tokenizer.ggml.pre and keeps the byte-level split alone, which differs
           on a run of whitespace before a digit ("a  1": Ġ Ġ 1 instead of ĠĠ 1); the number of texts
           where it differs is printed (--reference-tokenizer gguf-converter makes it the reference).
           A text holding one of the 17 special tokens (<|endoftext|>, <|im_start|>, <|im_end|>,
           <file_sep>, ...) literally is read differently by design: transformers splits it out as
           the special token, ours reads it as plain text. Those texts are counted apart and compared
           with the same reference without its special tokens.
hidden     24 texts of varied length: our ids (cut at 128) in batches of 8 right-padded with the
           file's pad id (2, <|im_end|>) go through LlamaModel; its last_hidden_state (after the
           final RMSNorm) vs ours at the real tokens: max_abs_diff and max_rel_diff (the largest
           ||ours - ref|| / ||ref|| over real tokens), bound 1e-4 (float32 through 30 layers);
           padding rows of ours must be zero. With right padding and a causal mask a real token
           never attends to padding, and the default position ids (0, 1, ...) are right.

Prints one line per comparison like check.py and exits 0 (pass) or 1. Needs torch, transformers,
tokenizers and safetensors (run.sh checks them) and gguf; without gguf or without FILE.gguf it
exits 77 (skipped) unless W2S_REQUIRE_PARITY=1 or CI=true (then 1). --self-test runs the reference
side only (no tools): the load, the config, the tensor names (all of them into
DIR/reference_tensors.txt), the ids of STRINGS, one forward and a greedy completion (which must
name Paris); with --texts it also times the reference forward of the 24 texts and counts where
the two tokenizer readings differ on the corpus.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check  # noqa: E402
from check import (MAX_TOKENS, check_padding, compare_hidden, compare_ids, encode, load_file, read_jsonl,  # noqa: E402
                   same_layout, stack_padded, transformers, varied_texts, write_jsonl)
import torch  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402


def missing(reason):
    required = os.environ.get("W2S_REQUIRE_PARITY") == "1" or os.environ.get("CI") == "true"
    print(f"{'FAIL' if required else 'SKIP'}: {reason}")
    sys.exit(1 if required else 77)


try:
    import gguf  # noqa: F401
    from transformers import modeling_gguf_pytorch_utils
    from transformers.modeling_utils import no_init_weights
except ImportError as e:
    missing(f"cannot import gguf or transformers' GGUF reader ({e})")

REL_TOL = 1e-4        # float32 through 30 layers; check.py's 2e-5 is for 6-layer encoders
TENSOR_TOL = 1e-6     # max_abs_diff of a converted tensor, relative to max|ref| (0 expected)
HIDDEN_TEXTS, BATCH = 24, 8
FIELDS = ["model_type", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
          "num_key_value_heads", "rms_norm_eps", "rope_theta", "max_position_embeddings", "vocab_size",
          "tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id"]
OPTIONAL_FIELDS = ["head_dim", "hidden_act", "attention_bias", "mlp_bias"]  # compared where ours has them
SMOLLM_PRETOKENIZER = {"type": "Sequence", "pretokenizers": [
    {"type": "Digits", "individual_digits": True},
    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}
# Ours besides make_texts.py's: digit runs (the digit split), contractions, whitespace runs (before
# digits too: where transformers' GGUF converter differs), Unicode, bytes missing from the vocabulary,
# and special tokens spelt literally.
STRINGS = [
    "Hello world, 12345 it's   fine!", "  leading spaces\n\nnew lines\tand tab", "naïve café 東京 😀",
    "12345", "3.14", "a1b2", "1,000,000.50 and -7e-3", "year 2024: 99% of 1/2", "x  1", "x\n\n2024", "x\t\t7",
    "    42 indented", "phone +1 (555) 123-4567", "０１２ fullwidth ٣٤٥ arabic-indic ² ½ Ⅻ",
    "don't can't I'm we'll they've she'd it's", "DON'T I'M YOU'LL", "rock'n'roll O'Neil's 'tis", "it’s curly",
    "a  b", "a   b    c", " ", "   ", " x", "x ", "x  ", "a \n b", "\n", "\r\n\r\n", "\t", "a\t\tb", " \t \n ",
    "tab\tand  spaces  \n\n  end  ", "e\u0301 vs \u00e9", "👩🏽‍💻 🇯🇵 😀😁", "한국어 Ελληνικά עִבְרִית",
    "ﬁ ligature", "zero\u200bwidth \ufeffbom \u00a0nbsp", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\x00 nul \x7f del", "\U0010ffff \ue000 \ufffd",
    # bytes the vocabulary lacks (0x04 0x06 0x13 0x14 0x16 0x1d 0xf1 0xf2 ...): the unknown id 0, one for a run
    # of them inside one pre-token (the BPE's fuse_unk)
    "a\x04b", "x\x04\x04\x06 fused", "\x13\x14 \x16\x1d", "\U00040000 plane 4", "ab\U00040000\U00080001z",
    "<|im_start|>user\nHello<|im_end|>\n", "<|endoftext|><|endoftext|>", "code <jupyter_code> x <file_sep>",
    "<|im_start|", "<| im_start |>",
]


def tool(binary, *options):
    """Runs one of our tools; a failure stops the check with its stderr (like check.encode)."""
    cmd = [str(binary), *map(str, options)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {run.returncode}:\n{run.stderr.strip()}")
    return run.stdout


def read_metadata_once():
    """AutoTokenizer reads the GGUF's metadata twice (for its config, then for its vocabulary), ~8 s
    each on 2 cores; here both get our own first read. The reading itself is transformers'."""
    original, cache = modeling_gguf_pytorch_utils.load_gguf_checkpoint, {}

    def load(path, return_tensors=False, model_to_load=None):
        if return_tensors:
            return original(path, return_tensors=True, model_to_load=model_to_load)
        key = str(Path(path).resolve())
        if key not in cache:
            cache[key] = original(path, return_tensors=False)
        return cache[key]
    from transformers import tokenization_utils_fast
    from transformers.models.auto import tokenization_auto
    modeling_gguf_pytorch_utils.tqdm = lambda items, **_: items  # no progress bar on stderr
    for module in (tokenization_utils_fast, tokenization_auto, modeling_gguf_pytorch_utils):
        if hasattr(module, "load_gguf_checkpoint"):
            module.load_gguf_checkpoint = load
    return load


class Reference:
    """transformers' reading of FILE.gguf: config, LlamaModel, tokenizers and what they were built from."""

    def __init__(self, path, primary="smollm2"):
        start = time.time()
        load = read_metadata_once()
        self.meta = load(path)
        self.config = transformers.LlamaConfig(**self.meta["config"], attn_implementation="eager",
                                               torch_dtype=torch.float32)
        with no_init_weights():
            self.model = transformers.LlamaModel(self.config)
        tensors = load(path, return_tensors=True, model_to_load=self.model)["tensors"]
        self.gguf_names = {hf: g for g, hf in modeling_gguf_pytorch_utils.get_gguf_hf_weights_map(self.model).items()}
        self.model.load_state_dict(tensors, strict=True)  # every LlamaModel weight, nothing else
        del tensors
        self.model.eval().float()
        self.state = self.model.state_dict()
        self.auto = transformers.AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        spec = json.loads(self.auto.backend_tokenizer.to_str())
        smollm = dict(spec, pre_tokenizer=SMOLLM_PRETOKENIZER)
        self.special = sorted(t.content for t in self.auto.added_tokens_decoder.values())
        self.tokenizers = {"smollm2": Tokenizer.from_str(json.dumps(smollm)),
                           "gguf-converter": Tokenizer.from_str(json.dumps(spec))}
        self.plain = {"smollm2": Tokenizer.from_str(json.dumps(dict(smollm, added_tokens=[]))),
                      "gguf-converter": Tokenizer.from_str(json.dumps(dict(spec, added_tokens=[])))}
        self.primary = primary
        self.other = next(k for k in self.tokenizers if k != primary)
        self.pad_id = self.config.pad_token_id
        self.seconds = time.time() - start

    def ids(self, strings, name=None, plain=False):
        """Token ids without special tokens added; plain: the special tokens' spellings read as text."""
        tok = (self.plain if plain else self.tokenizers)[name or self.primary]
        return [e.ids for e in tok.encode_batch(strings, add_special_tokens=False)]

    def token_of(self, i):
        return self.auto.convert_ids_to_tokens(i)

    def holds_special(self, text):
        return any(s in text for s in self.special)

    def forward(self, ids):
        """last_hidden_state and mask of ids in batches of BATCH, right-padded with pad_id (stacked)."""
        hs, masks = [], []
        with torch.no_grad():
            for start in range(0, len(ids), BATCH):
                batch = ids[start:start + BATCH]
                width = max(1, max(map(len, batch)))
                x = torch.tensor([i + [self.pad_id] * (width - len(i)) for i in batch])
                mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i in batch])
                hs.append(self.model(input_ids=x, attention_mask=mask, use_cache=False).last_hidden_state)
                masks.append(mask)
        return stack_padded(hs, masks)


def same_value(ours, ref):
    if isinstance(ours, bool) or isinstance(ref, bool):
        return ours is ref
    if isinstance(ours, float) or isinstance(ref, float):
        return isinstance(ours, (int, float)) and np.float32(ours) == np.float32(ref)
    return type(ours) is type(ref) and ours == ref


def check_converted(args, ref):
    out = args.work / "converted"
    tool(args.gguf_tool, args.gguf, "--out", out)
    ok = True
    config = json.loads((out / "config.json").read_text())
    wanted = FIELDS + [f for f in OPTIONAL_FIELDS if f in config]
    bad = [f"{f}: ours {config.get(f, '(missing)')!r}, ref {getattr(ref.config, f)!r}" for f in wanted
           if f not in config or not same_value(config[f], getattr(ref.config, f))]
    print(f"smollm2 config.json: {len(wanted)} fields, {len(bad)} differ" + "".join(f"\n  {b}" for b in bad))
    ok &= not bad

    ours = load_file(str(out / "model.safetensors"))
    names, ref_names = set(ours), set(ref.state)
    if names != ref_names:
        print(f"smollm2 converted tensors: {len(names)} names vs {len(ref_names)} in the reference; only ours: "
              f"{sorted(names - ref_names)[:8]}; only the reference's: {sorted(ref_names - names)[:8]}")
        ok = False
    worst, worst_rel, bad = 0.0, 0.0, []
    for name in sorted(names & ref_names):
        o, r = ours[name], ref.state[name]
        if o.dtype != torch.float32 or o.shape != r.shape:
            bad.append(f"{name}: ours {o.dtype} {list(o.shape)}, ref {r.dtype} {list(r.shape)}")
            continue
        diff = (o - r).abs().max().item()
        rel = diff / max(r.abs().max().item(), 1e-30)
        worst, worst_rel = max(worst, diff), max(worst_rel, rel)
        if rel > TENSOR_TOL:
            bad.append(f"{name} ({ref.gguf_names.get(name)}): max_abs_diff={diff:.3e}, {rel:.3e} of max|ref|")
    print(f"smollm2 converted tensors: {len(names & ref_names)} compared, max_abs_diff={worst:.3e} "
          f"({worst_rel:.3e} of max|ref|), {len(bad)} differ" + "".join(f"\n  {b}" for b in bad[:8]))
    return ok and not bad


def check_ids(args, ref, texts):
    rows = texts + [{"source": "smollm2", "text": s} for s in STRINGS]
    path, out = args.work / "smollm2_ids_texts.jsonl", args.work / "smollm2_ids.jsonl"
    write_jsonl(path, [{"text": r["text"]} for r in rows])
    encode(args, "--model", args.gguf, "--texts", path, "--ids", out, "--max-tokens", 0)
    ours = read_jsonl(out)
    if len(ours) != len(rows):
        print(f"smollm2 ids: {len(ours)} id lines from w2s_encode for {len(rows)} texts")
        return False
    strings = [r["text"] for r in rows]
    special = [i for i, r in enumerate(rows) if ref.holds_special(r["text"])]
    plain = [i for i in range(len(rows)) if i not in set(special)]
    expected = ref.ids(strings)
    numeric = [i for i in plain if any(c.isnumeric() for c in strings[i])]  # only these can read differently
    other = ref.ids([strings[i] for i in numeric], ref.other)
    print(f"smollm2 ids: reference {ref.primary}; the {ref.other} reading differs on "
          f"{sum(o != expected[i] for o, i in zip(other, numeric))} of the {len(plain)} texts "
          "(whitespace runs before digits)")
    pick = lambda xs, idx: [xs[i] for i in idx]  # noqa: E731
    ok = compare_ids("smollm2 ids", pick(rows, plain), pick(ours, plain), pick(expected, plain), ref.token_of,
                     f" ({len(STRINGS) - sum(ref.holds_special(s) for s in STRINGS)} of them ours)") == 0
    as_text = ref.ids(pick(strings, special), plain=True)
    differ = sum(ours[i] != expected[i] for i in special)
    print(f"smollm2 ids: {len(special)} texts hold a special token literally ({differ} of them read differently "
          "from transformers' tokenizer, by design)")
    ok &= compare_ids("smollm2 ids of those, special tokens read as text", pick(rows, special), pick(ours, special),
                      as_text, ref.token_of) == 0
    return ok


def check_hidden(args, ref, texts):
    sample = varied_texts(texts, HIDDEN_TEXTS)
    path = args.work / "smollm2_texts.jsonl"
    out, ids_out = args.work / "smollm2_hidden.safetensors", args.work / "smollm2_hidden_ids.jsonl"
    write_jsonl(path, [{"text": t["text"]} for t in sample])
    start = time.time()
    encode(args, "--model", args.gguf, "--texts", path, "--ids", ids_out, "--hidden", out,
           "--max-tokens", MAX_TOKENS, "--batch", BATCH)
    seconds = time.time() - start
    ours = load_file(str(out))
    ids = read_jsonl(ids_out)
    expected = [i[:MAX_TOKENS] for i in ref.ids([t["text"] for t in sample])]
    # A difference fails the check, but the states are still compared: the reference reads our ids.
    ok = compare_ids(f"smollm2 hidden input ids (cut at {MAX_TOKENS})", sample, ids, expected, ref.token_of) == 0
    if len(ids) != len(sample):
        return False
    start = time.time()
    h, mask = ref.forward([i[:MAX_TOKENS] for i in ids])
    print(f"smollm2: {len(ids)} texts of {min(map(len, ids))} to {max(map(len, ids))} ids, batches of {BATCH}, "
          f"pad id {ref.pad_id}; w2s_encode {seconds:.1f} s, transformers {time.time() - start:.1f} s")
    if ours["attention_mask"].dtype != torch.int64:
        print(f"smollm2: attention_mask is {ours['attention_mask'].dtype}, not int64")
        return False
    if not same_layout("smollm2", ours, h, mask):
        return False
    check.REL_TOL = REL_TOL  # compare_hidden's bound, for this deeper model
    ok &= compare_hidden("smollm2 last_hidden_state", ours["last_hidden_state"], h, mask)
    return check_padding("smollm2", ours["last_hidden_state"], mask) and ok


def greedy(ref, prompt, steps=8):
    """Greedy completion through the tied embeddings (a whole forward per step: few tokens)."""
    ids = ref.ids([prompt])[0]
    embed = ref.state["embed_tokens.weight"]
    with torch.no_grad():
        for _ in range(steps):
            h = ref.model(input_ids=torch.tensor([ids]), use_cache=False).last_hidden_state[0, -1]
            ids.append(int((embed @ h).argmax()))
    return ref.auto.decode(ids)


def self_test(args, ref):
    cfg = {f: getattr(ref.config, f) for f in FIELDS + OPTIONAL_FIELDS}
    print(f"smollm2 reference: {args.gguf} read in {ref.seconds:.1f} s; {len(ref.state)} tensors; "
          f"attention {ref.config._attn_implementation}\n  config {json.dumps(cfg)}")
    with open(args.work / "reference_tensors.txt", "w") as f:
        for name, t in ref.state.items():
            f.write(f"{name} {list(t.shape)} {str(t.dtype).replace('torch.', '')} <- {ref.gguf_names.get(name)}\n")
    for name, t in list(ref.state.items())[:5]:
        print(f"  {name} {list(t.shape)} (from {ref.gguf_names.get(name)})")
    print(f"  all {len(ref.state)} names and shapes -> {args.work / 'reference_tensors.txt'}")
    backend = json.loads(ref.auto.backend_tokenizer.to_str())
    print(f"tokenizer: {type(ref.auto).__name__}, {len(ref.special)} special tokens {ref.special[:4]}...; "
          f"transformers' pre-tokenizer {json.dumps(backend['pre_tokenizer'])}, decoder "
          f"{[d['type'] for d in backend['decoder']['decoders']]}; reference {ref.primary}")
    ids, other = ref.ids(STRINGS), ref.ids(STRINGS, ref.other)
    for s, i, o in zip(STRINGS, ids, other):
        note = "" if i == o else f"   ({ref.other}: {o})"
        note += "   (special tokens split out; ours reads them as text)" if ref.holds_special(s) else ""
        print(f"  {s!r}: {i}{note}")
    start = time.time()
    h, mask = ref.forward(ids)
    print(f"forward: {len(ids)} strings in batches of {BATCH}: last_hidden_state {list(h.shape)}, attention_mask "
          f"{list(mask.shape)}, max |h| {h[mask.bool()].abs().max():.2f}, {time.time() - start:.1f} s")
    completion = greedy(ref, "The capital of France is")
    print(f"greedy: {completion!r}")
    ok = "Paris" in completion
    if args.texts:
        texts = read_jsonl(args.texts)
        sample = varied_texts(texts, HIDDEN_TEXTS)
        sample_ids = [i[:MAX_TOKENS] for i in ref.ids([t["text"] for t in sample])]
        start = time.time()
        h, mask = ref.forward(sample_ids)
        print(f"forward: {len(sample)} texts of {min(map(len, sample_ids))} to {max(map(len, sample_ids))} ids: "
              f"{list(h.shape)}, {time.time() - start:.1f} s")
        strings = [t["text"] for t in texts]
        start = time.time()
        a, b = ref.ids(strings), ref.ids(strings, ref.other)
        print(f"tokenizers: {ref.primary} and {ref.other} differ on {sum(x != y for x, y in zip(a, b))} of "
              f"{len(strings)} texts ({sum(map(ref.holds_special, strings))} hold a special token literally); "
              f"{time.time() - start:.1f} s")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", type=Path, required=True, help="SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--gguf-tool", type=Path, help="the w2s_gguf binary (GGUF -> safetensors + config.json)")
    ap.add_argument("--encode", type=Path, help="the w2s_encode binary")
    ap.add_argument("--texts", type=Path, help="corpus written by make_texts.py")
    ap.add_argument("--work", type=Path, required=True, help="scratch folder")
    ap.add_argument("--reference-tokenizer", choices=["smollm2", "gguf-converter"], default="smollm2",
                    help="smollm2: digits split one by one (SmolLM2's tokenizer.json, llama.cpp's 'smollm'); "
                         "gguf-converter: transformers' GGUF converter as is")
    ap.add_argument("--self-test", action="store_true", help="the reference side only, no tools")
    args = ap.parse_args()
    if not args.gguf.is_file():
        missing(f"no {args.gguf}")
    if not args.self_test:
        for name, path in [("--gguf-tool", args.gguf_tool), ("--encode", args.encode)]:
            if not (path and os.access(path, os.X_OK)):
                sys.exit(f"FAIL: {name} {path} is not an executable (build the tools)")
        if not args.texts:
            ap.error("--texts is required (make_texts.py's corpus)")
    args.work.mkdir(parents=True, exist_ok=True)
    start = time.time()
    ref = Reference(args.gguf, args.reference_tokenizer)
    if args.self_test:
        ok = self_test(args, ref)
        print(f"smollm2 self-test: {'ok' if ok else 'FAIL: the greedy completion misses Paris'} "
              f"({time.time() - start:.1f} s)")
        return 0 if ok else 1
    texts = read_jsonl(args.texts)
    ok = check_converted(args, ref)
    ok &= check_ids(args, ref, texts)
    ok &= check_hidden(args, ref, texts)
    print(f"smollm2: {'ok' if ok else 'FAIL: ours differs from the reference (above)'} ({time.time() - start:.1f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
