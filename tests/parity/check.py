#!/usr/bin/env python3
"""Parity of our C++ tokenizers and models (tools/w2s_encode) with Hugging Face's.

    check.py {wordpiece,bert,mpnet,bpe,gpt2} --encode W2S_ENCODE --data DATA --texts TEXTS.jsonl --work DIR

wordpiece  token ids of every text (w2s_encode --vocab <MiniLM>/vocab.txt) vs
           tokenizers.Tokenizer.from_file(<MiniLM>/tokenizer.json) without truncation and padding,
           then truncated at 128 (ids include [CLS]/[SEP]) on each text's first 2,000 characters
bert       last hidden state and pooled sentence embedding of 64 real texts of varied length
           (truncated at 128, padded batches) vs transformers.BertModel + the folder's pooling
mpnet      all-mpnet-base-v2: every text's BERT uncased ids mapped to MPNet's (what the ladder's
           mpnet-base reads) vs the folder's own tokenizer.json, untruncated and at 128; then the
           last hidden state and pooled embedding of the 64 texts vs transformers.MPNetModel
bpe        token ids of every text vs transformers.GPT2TokenizerFast on data/text/gpt2, then
           truncated at 128 on each text's first 2,000 characters
gpt2       last hidden state of a seeded random GPT-2 (2 layers, 64 wide, GPT-2's vocabulary)
           saved by transformers, on the BPE ids of the same 64 texts, in padded batches

Each prints one line per comparison ("bert pooled max_abs_diff=... max_rel_diff=...") and
exits 1 with the first differing texts on a mismatch. max_rel_diff is the largest
||ours - ref|| / ||ref|| over the compared vectors (one per real token, or per text when pooled).
TEXTS.jsonl comes from make_texts.py; the HF side runs offline, in float32.
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

transformers.logging.set_verbosity_error()
REL_TOL = 2e-5  # fp32: measured differences are about 2e-6 (docs/parity.md); ten times that is the bound
HIDDEN_TEXTS, BATCH, MAX_TOKENS, PREFIX_CHARS = 64, 16, 128, 2000


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:  # iterate on "\n" only: texts may hold U+2028 and friends
        return [json.loads(line) for line in f]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


def encode(args, *options):
    """Runs w2s_encode; a failure stops the check with its stderr."""
    cmd = [str(args.encode), *map(str, options)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {run.returncode}:\n{run.stderr.strip()}")
    return run.stdout


def compare_ids(name, texts, ours, ref, token_of, note=""):
    """Counts texts whose ids differ and shows the first five; returns the count."""
    bad = [i for i, (o, r) in enumerate(zip(ours, ref)) if o != r]
    if len(ours) != len(ref):
        print(f"{name}: {len(ours)} id lines from w2s_encode for {len(ref)} texts")
        return max(len(bad), 1)
    print(f"{name}: {len(texts)} texts{note}, {len(bad)} differ")
    for i in bad[:5]:
        o, r = ours[i], ref[i]
        at = next((k for k, (a, b) in enumerate(zip(o, r)) if a != b), min(len(o), len(r)))
        show = lambda ids: " ".join(f"{t}:{token_of(t)!r}" for t in ids[max(at - 2, 0):at + 6])  # noqa: E731
        print(f"  text {i} ({texts[i]['source']}, {len(texts[i]['text'])} chars): {texts[i]['text'][:160]!r}\n"
              f"    first difference at id {at} of {len(o)} (ours) / {len(r)} (ref)\n"
              f"    ours: {show(o)}\n    ref:  {show(r)}")
    return len(bad)


def compare_hidden(name, ours, ref, mask):
    """max_abs_diff and max_rel_diff over the real rows (mask == 1); returns True if within REL_TOL."""
    keep = mask.bool()
    o, r = ours[keep], ref[keep]
    abs_diff = (o - r).abs().max().item()
    rel_diff = ((o - r).norm(dim=-1) / r.norm(dim=-1).clamp_min(1e-12)).max().item()
    ok = rel_diff <= REL_TOL
    print(f"{name} max_abs_diff={abs_diff:.3e} max_rel_diff={rel_diff:.3e} ({keep.sum().item()} vectors)"
          + ("" if ok else f": above the {REL_TOL:g} bound"))
    return ok


def check_padding(name, ours, mask):
    """Our rows are right-padded with zeros (the w2s_encode interface)."""
    ok = ours[~mask.bool()].abs().max().item() == 0 if (mask == 0).any() else True
    if not ok:
        print(f"{name}: padding positions of last_hidden_state are not zero")
    return ok


def stack_padded(hs, masks):
    """Per-batch hidden states and masks, right-padded to one N x T x H tensor and N x T mask."""
    width = max(h.shape[1] for h in hs)
    pad = lambda x: torch.nn.functional.pad(x, (0, 0) * (x.dim() - 2) + (0, width - x.shape[1]))  # noqa: E731
    return torch.cat([pad(h) for h in hs]), torch.cat([pad(m) for m in masks])


def same_layout(name, ours, ref, ref_mask):
    """Same N x T x H shape and the same attention mask (so the same token counts) as the reference."""
    shape, mask = tuple(ours["last_hidden_state"].shape), ours["attention_mask"].long()
    if shape == tuple(ref.shape) and torch.equal(mask, ref_mask):
        return True
    print(f"{name}: last_hidden_state {shape} vs ref {tuple(ref.shape)}; lengths ours {mask.sum(1).tolist()}\n"
          f"  ref {ref_mask.sum(1).tolist()}")
    return False


def varied_texts(texts, n=HIDDEN_TEXTS):
    """n real texts spread evenly over the corpus sorted by length: short sentences to long emails."""
    real = sorted((t for t in texts if t["source"] != "adversarial"), key=lambda t: (len(t["text"]), t["text"]))
    return [real[i * len(real) // n] for i in range(n)]


def minilm(args):
    return args.data / "models/all-MiniLM-L6-v2"


def check_ids(args, texts, name, options, reference, token_of):
    """Our ids (w2s_encode OPTIONS) vs reference(strings, max_tokens) on every text, then truncated at
    MAX_TOKENS on every text's first PREFIX_CHARS characters (truncation looks at the start only,
    and the prefixes keep the second pass cheap; most emails still run past MAX_TOKENS)."""
    prefixes = [dict(t, text=t["text"][:PREFIX_CHARS]) for t in texts]
    write_jsonl(args.work / "prefixes.jsonl", [{"text": t["text"]} for t in prefixes])
    bad = 0
    for cut, rows, path in [(0, texts, args.texts), (MAX_TOKENS, prefixes, args.work / "prefixes.jsonl")]:
        out = args.work / f"{name}_ids_{cut}.jsonl"
        encode(args, *options, "--texts", path, "--ids", out, "--max-tokens", cut)
        ref = reference([t["text"] for t in rows], cut)
        label = f"{name} ids truncated at {cut}" if cut else f"{name} ids"
        note = f" ({sum(len(r) == cut for r in ref)} cut)" if cut else ""
        bad += compare_ids(label, rows, read_jsonl(out), ref, token_of, note)
    return bad == 0


def check_wordpiece(args, texts):
    tok = Tokenizer.from_file(str(minilm(args) / "tokenizer.json"))
    tok.no_padding()

    def reference(strings, cut):
        tok.enable_truncation(cut) if cut else tok.no_truncation()
        return [e.ids for e in tok.encode_batch(strings)]
    return check_ids(args, texts, "wordpiece", ["--vocab", minilm(args) / "vocab.txt"], reference, tok.id_to_token)


def encoder_reference(folder, strings, model, pad_id, pad_token):
    """transformers `model` (a model class loaded from `folder`) + the folder's sentence-transformers
    pooling on its own tokenizer.json, in batches of BATCH padded with `pad_id` to their longest text:
    (tokenizer, ids, last_hidden_state, attention_mask, pooled)."""
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding(pad_id=pad_id, pad_token=pad_token)  # to the longest text of each batch
    model = model.eval()
    modules = json.loads((folder / "modules.json").read_text())
    pooling = next(m for m in modules if m["type"].endswith(".Pooling"))
    pool_config = json.loads((folder / pooling["path"] / "config.json").read_text())
    normalize = any(m["type"].endswith(".Normalize") for m in modules)
    ids, hs, masks, pooled = [], [], [], []
    with torch.no_grad():
        for start in range(0, len(strings), BATCH):
            enc = tok.encode_batch(strings[start:start + BATCH])
            mask = torch.tensor([e.attention_mask for e in enc])
            h = model(input_ids=torch.tensor([e.ids for e in enc]), attention_mask=mask).last_hidden_state
            ids += [e.ids[:sum(e.attention_mask)] for e in enc]
            hs.append(h)
            masks.append(mask)
            pooled.append(pool(h, mask, pool_config, normalize))
    return (tok, ids, *stack_padded(hs, masks), torch.cat(pooled))


def bert_reference(folder, strings):
    """transformers.BertModel + the folder's pooling ([PAD] = 0)."""
    model = transformers.BertModel.from_pretrained(folder, local_files_only=True)
    return encoder_reference(folder, strings, model, 0, "[PAD]")


def check_encoder_states(args, texts, name, options, reference):
    """Our ids, last hidden state and pooled vectors (w2s_encode OPTIONS) of 64 varied texts against
    reference(strings) (encoder_reference's tuple): the same input ids, max_rel_diff within REL_TOL,
    padding rows zero."""
    sample = varied_texts(texts)
    write_jsonl(args.work / f"{name}_texts.jsonl", [{"text": t["text"]} for t in sample])
    out, ids_out = args.work / f"{name}_hidden.safetensors", args.work / f"{name}_hidden_ids.jsonl"
    encode(args, *options, "--texts", args.work / f"{name}_texts.jsonl", "--hidden", out, "--ids", ids_out,
           "--max-tokens", MAX_TOKENS, "--batch", BATCH)
    ours = load_file(str(out))
    tok, ids, ref, ref_mask, ref_pooled = reference([t["text"] for t in sample])
    cut = sum(len(i) == MAX_TOKENS for i in ids)
    print(f"{name}: {len(sample)} texts, {cut} of them cut at {MAX_TOKENS} tokens, batches of {BATCH}")
    if compare_ids(f"{name} input ids", sample, read_jsonl(ids_out), ids, tok.id_to_token) or \
            not same_layout(name, ours, ref, ref_mask):
        return False
    ok = compare_hidden(f"{name} last_hidden_state", ours["last_hidden_state"], ref, ref_mask)
    ok &= compare_hidden(f"{name} pooled", ours["pooled"], ref_pooled, torch.ones(len(sample)))
    return check_padding(name, ours["last_hidden_state"], ref_mask) and ok


def check_bert(args, texts):
    return check_encoder_states(args, texts, "bert", ["--model", minilm(args)],
                                lambda strings: bert_reference(minilm(args), strings))


def mpnet(args):
    return args.data / "models/all-mpnet-base-v2"


def mpnet_reference(folder, strings):
    """transformers.MPNetModel + the folder's pooling (<s> … </s>, padded with <pad> = 1)."""
    model = transformers.MPNetModel.from_pretrained(folder, local_files_only=True, add_pooling_layer=False)
    return encoder_reference(folder, strings, model, 1, "<pad>")


def check_mpnet(args, texts):
    """MPNet reads the datasets' BERT uncased WordPiece ids mapped to its own (models/mpnet.hpp): those
    ids on every text against its own tokenizer's, then hidden states and pooled vectors of 64 texts
    against transformers' MPNetModel."""
    tok = Tokenizer.from_file(str(mpnet(args) / "tokenizer.json"))
    tok.no_padding()
    options = ["--model", mpnet(args), "--vocab", minilm(args) / "vocab.txt"]
    # A text that holds one of the two tokenizers' special tokens literally is read differently by
    # design: BERT's tokenizer (the datasets') makes "[CLS]" its special token (-> MPNet's <s>) and
    # "<s>" plain text, MPNet's the other way round. Only those texts may differ.
    literal = ("[CLS]", "[SEP]", "[PAD]", "[MASK]", "<s>", "</s>", "<pad>", "<unk>", "<mask>")
    prefixes = [dict(t, text=t["text"][:PREFIX_CHARS]) for t in texts]
    write_jsonl(args.work / "prefixes.jsonl", [{"text": t["text"]} for t in prefixes])
    ok = True
    for cut, rows, path in [(0, texts, args.texts), (MAX_TOKENS, prefixes, args.work / "prefixes.jsonl")]:
        out = args.work / f"mpnet_ids_{cut}.jsonl"
        encode(args, *options, "--texts", path, "--ids", out, "--max-tokens", cut)
        tok.enable_truncation(cut) if cut else tok.no_truncation()
        ref = [e.ids for e in tok.encode_batch([t["text"] for t in rows])]
        ours = read_jsonl(out)
        special = [any(s in t["text"] for s in literal) for t in rows]
        plain = [i for i in range(len(rows)) if not special[i]]
        differ = sum(ours[i] != ref[i] for i in range(len(rows)) if special[i])
        label = f"mpnet ids truncated at {cut}" if cut else "mpnet ids"
        print(f"{label}: {sum(special)} texts hold a special token literally ({differ} of them read differently, "
              "by design)")
        ok &= compare_ids(label + " (the other texts)", [rows[i] for i in plain], [ours[i] for i in plain],
                          [ref[i] for i in plain], tok.id_to_token) == 0
    return check_encoder_states(args, texts, "mpnet", options,
                                lambda strings: mpnet_reference(mpnet(args), strings)) and ok


def pool(h, mask, config, normalize):
    """sentence-transformers' Pooling (+ Normalize), for the modes its config switches on."""
    known = {"cls_token", "max_tokens", "mean_tokens", "mean_sqrt_len_tokens"}
    other = [k for k, on in config.items() if k.startswith("pooling_mode_") and on and k[13:] not in known]
    if other:
        sys.exit(f"check.py: pooling mode {other} is not implemented here")
    m = mask.unsqueeze(-1).to(h.dtype)
    parts = []
    if config.get("pooling_mode_cls_token"):
        parts.append(h[:, 0])
    if config.get("pooling_mode_max_tokens"):
        parts.append(h.masked_fill(m == 0, -1e9).max(1).values)
    if config.get("pooling_mode_mean_tokens"):
        parts.append((h * m).sum(1) / m.sum(1).clamp_min(1e-9))
    if config.get("pooling_mode_mean_sqrt_len_tokens"):
        parts.append((h * m).sum(1) / m.sum(1).sqrt())
    out = torch.cat(parts, 1)
    return torch.nn.functional.normalize(out, dim=1) if normalize else out


def gpt2_tokenizer(args):
    gpt2 = args.data / "text/gpt2"
    return transformers.GPT2TokenizerFast(vocab_file=str(gpt2 / "encoder.json"), merges_file=str(gpt2 / "vocab.bpe"))


def check_bpe(args, texts):
    tok = gpt2_tokenizer(args)

    def reference(strings, cut):
        return tok(strings, truncation=bool(cut), max_length=cut or None)["input_ids"]
    return check_ids(args, texts, "bpe", ["--bpe", args.data / "text/gpt2"], reference, tok.convert_ids_to_tokens)


def check_gpt2(args, texts):
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=50257, n_positions=MAX_TOKENS)
    model = transformers.GPT2Model(config).eval()
    folder = args.work / "tiny-gpt2"
    model.save_pretrained(folder, safe_serialization=True)

    tok = gpt2_tokenizer(args)
    ids = tok([t["text"] for t in varied_texts(texts)], truncation=True, max_length=MAX_TOKENS)["input_ids"]
    write_jsonl(args.work / "gpt2_ids.jsonl", [{"ids": i} for i in ids])
    out = args.work / "gpt2_hidden.safetensors"
    encode(args, "--model", folder, "--texts", args.work / "gpt2_ids.jsonl", "--hidden", out,
           "--max-tokens", MAX_TOKENS, "--batch", BATCH)
    ours = load_file(str(out))

    hs, masks = [], []
    with torch.no_grad():
        for start in range(0, len(ids), BATCH):
            batch = ids[start:start + BATCH]
            width = max(map(len, batch))
            x = torch.tensor([i + [0] * (width - len(i)) for i in batch])  # right-padded, like ours
            mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i in batch])
            hs.append(model(input_ids=x, attention_mask=mask).last_hidden_state)
            masks.append(mask)
    ref, ref_mask = stack_padded(hs, masks)
    print(f"gpt2: {len(ids)} texts of {min(map(len, ids))} to {max(map(len, ids))} ids, batches of {BATCH}")
    if not same_layout("gpt2", ours, ref, ref_mask):
        return False
    ok = compare_hidden("gpt2 last_hidden_state", ours["last_hidden_state"], ref, ref_mask)
    return check_padding("gpt2", ours["last_hidden_state"], ref_mask) and ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("check", choices=["wordpiece", "bert", "mpnet", "bpe", "gpt2"])
    parser.add_argument("--encode", type=Path, required=True, help="the w2s_encode binary")
    parser.add_argument("--data", type=Path, required=True, help="the project's data/ folder")
    parser.add_argument("--texts", type=Path, required=True, help="corpus written by make_texts.py")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder")
    args = parser.parse_args()
    if not os.access(args.encode, os.X_OK):
        sys.exit(f"FAIL: {args.encode} is not an executable (build the w2s_encode target)")
    args.work.mkdir(parents=True, exist_ok=True)
    texts = read_jsonl(args.texts)
    ok = globals()[f"check_{args.check}"](args, texts)
    print(f"{args.check}: {'ok' if ok else 'FAIL: ours differs from the reference (above)'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
