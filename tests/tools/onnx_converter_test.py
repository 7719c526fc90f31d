#!/usr/bin/env python3
"""tools/onnx_to_st.py on the real paraphrase-MiniLM-L3-v2.onnx and on corrupted copies of it.

Each corruption (a Linear weight gone, one of the wrong shape, one read twice, an extra
initializer, a named bias renamed, ReLU for GELU, a file that is not ONNX or is cut short) must be
refused: a non-zero exit, one line on stderr naming the node or initializer, and neither
OUT_FOLDER nor OUT_FOLDER.part left behind. The unmodified file must convert to the tensors and
config.json of data/models/paraphrase-MiniLM-L3-v2 (what ./w2s.sh models wrote).

    onnx_converter_test.py tools/onnx_to_st.py DATA_DIR

Needs the onnx and safetensors packages: it runs under $W2S_PYTHON (./w2s.sh test sets it to
.venv/bin/python) or, without it, under the interpreter that started it. Without them or without
the ONNX file it says so and exits 77 (skipped), except where it is required
(W2S_REQUIRE_PARITY=1, or CI=true): there it fails, as tests/parity/run.sh does.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REEXEC = "W2S_ONNX_CONVERTER_TEST_REEXEC"
PREFIX = "model.0.auto_model."
LAYER = "/model/model.0/auto_model/encoder/layer.{}/"


def missing(why):
    if os.environ.get("W2S_REQUIRE_PARITY") == "1" or os.environ.get("CI") == "true":
        sys.exit(f"FAIL: {why}; this test is required here (W2S_REQUIRE_PARITY=1 or CI=true): "
                 "./w2s.sh python and ./w2s.sh models make it")
    print(f"SKIP: {why}")
    sys.exit(77)


def node(model, name):
    found = [n for n in model.graph.node if n.name == name]
    assert len(found) == 1, f"the test's model has {len(found)} nodes named {name}"
    return found[0]


def init(model, name):
    found = [t for t in model.graph.initializer if t.name == name]
    assert len(found) == 1, f"the test's model has {len(found)} initializers named {name}"
    return found[0]


# Each corruption: (name, what changes the loaded model in place, strings the one-line error must contain).
def drop_weight(m):  # layer 1's key weight (an anonymous initializer) removed
    m.graph.initializer.remove(init(m, "onnx::MatMul_484"))


def transposed_weight(m):  # layer 0's intermediate weight [384, 1536] replaced by one of shape [1536, 384]
    from onnx import numpy_helper
    t = init(m, "onnx::MatMul_481")
    t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).T.copy(), t.name))


def weight_read_twice(m):  # layer 1's key MatMul reads the query's weight (the key's is left unused)
    node(m, LAYER.format(1) + "attention/self/key/MatMul").input[1] = "onnx::MatMul_483"


def extra_initializer(m):  # a pooler weight that nothing reads
    import numpy as np
    from onnx import numpy_helper
    m.graph.initializer.append(numpy_helper.from_array(np.zeros((384, 384), np.float32), PREFIX + "pooler.dense.weight"))


def renamed_bias(m):  # layer 2's value bias renamed, consistently in the Add that reads it
    old, new = PREFIX + "encoder.layer.2.attention.self.value.bias", PREFIX + "encoder.layer.2.attention.self.v.bias"
    init(m, old).name = new
    add = node(m, LAYER.format(2) + "attention/self/value/Add")
    add.input[:] = [new if t == old else t for t in add.input]


def relu_for_gelu(m):  # layer 1's erf GELU (Div, Erf, Add, Mul, Mul and their Constants) replaced by one Relu
    from onnx import helper
    act = LAYER.format(1) + "intermediate/intermediate_act_fn/"
    nodes = list(m.graph.node)
    at = next(k for k, n in enumerate(nodes) if n.name.startswith(act))
    kept = [n for n in nodes if not n.name.startswith(act)]
    relu = helper.make_node("Relu", [LAYER.format(1) + "intermediate/dense/Add_output_0"], [act + "Relu_output_0"],
                            name=act + "Relu")
    node(m, LAYER.format(1) + "output/dense/MatMul").input[0] = act + "Relu_output_0"
    del m.graph.node[:]
    m.graph.node.extend(kept[:at] + [relu] + kept[at:])


def erf_to_relu(m):  # layer 2's Erf node turned into a Relu, the rest of the chain kept
    node(m, LAYER.format(2) + "intermediate/intermediate_act_fn/Erf").op_type = "Relu"


CORRUPTIONS = [
    ("anonymous weight removed", drop_weight,
     ["'onnx::MatMul_484' is not an initializer", LAYER.format(1) + "attention/self/key/MatMul",
      "encoder.layer.1.attention.self.key"]),
    ("weight of the transposed shape", transposed_weight,
     ["initializer onnx::MatMul_481", "encoder.layer.0.intermediate.dense", "[384, 1536]", "[1536, 384]"]),
    ("weight read by two MatMuls", weight_read_twice,
     ["initializer onnx::MatMul_483: used by encoder.layer.1.attention.self.key.weight and by "
      "encoder.layer.1.attention.self.query.weight"]),
    ("extra unused initializer", extra_initializer,
     ["initializers not matched to a BERT parameter: " + PREFIX + "pooler.dense.weight"]),
    ("named bias renamed", renamed_bias,
     ["no initializer " + PREFIX + "encoder.layer.2.attention.self.value.bias"]),
    ("Relu for the GELU", relu_for_gelu,
     ["layer 1 activation", "not a GELU: Relu node '" + LAYER.format(1) + "intermediate/intermediate_act_fn/Relu'"]),
    ("Erf turned into Relu", erf_to_relu,
     ["layer 2 activation", "not a GELU: Relu node '" + LAYER.format(2) + "intermediate/intermediate_act_fn/Erf'"]),
]


def run(converter, model, vocab, out):
    return subprocess.run([sys.executable, converter, str(model), str(vocab), str(out)],
                          capture_output=True, text=True, timeout=120)


def check_refused(what, converter, model, vocab, out, needles):
    r = run(converter, model, vocab, out)
    err = r.stderr.strip()
    problems = []
    if r.returncode == 0:
        problems.append("exit status 0 (converted anyway)")
    if len(err.splitlines()) != 1 or not err.startswith(f"onnx_to_st.py: {model}: "):
        problems.append("stderr is not one line 'onnx_to_st.py: MODEL: ...'")
    problems += [f"the message lacks {n!r}" for n in needles if n not in err]
    problems += [f"{p} left behind" for p in (out, out.with_name(out.name + ".part")) if p.exists()]
    status = "ok" if not problems else "FAIL: " + "; ".join(problems)
    print(f"{what}: {status}\n  {err}")
    return not problems


def main():
    converter, data = sys.argv[1], Path(sys.argv[2])
    onnx_file = data / "models" / "paraphrase-MiniLM-L3-v2.onnx"
    vocab = data / "models" / "all-MiniLM-L6-v2"
    reference = data / "models" / "paraphrase-MiniLM-L3-v2"
    if not onnx_file.is_file() or not (reference / "model.safetensors").is_file():
        missing(f"no {onnx_file} (and {reference}): ./w2s.sh models fetches it")
    if not (vocab / "vocab.txt").is_file():
        missing(f"no {vocab}: ./w2s.sh setup fetches it")
    python = os.environ.get("W2S_PYTHON")
    if python and not os.environ.get(REEXEC):  # the converter runs under this same interpreter
        os.environ[REEXEC] = "1"
        try:
            os.execv(python, [python, __file__, *sys.argv[1:]])
        except OSError as e:
            missing(f"W2S_PYTHON={python}: {e}")
    try:
        import numpy as np
        import onnx
        from safetensors.numpy import load_file
    except ImportError as e:
        missing(f"{sys.executable} cannot import onnx and safetensors ({e}; ./w2s.sh python installs them)")

    ok = True
    with tempfile.TemporaryDirectory(prefix="onnx_converter_test.") as tmp:
        tmp = Path(tmp)
        # The unmodified file: the same tensors and config as the folder ./w2s.sh models wrote.
        out = tmp / "good"
        r = run(converter, onnx_file, vocab, out)
        if r.returncode != 0:
            print(f"unmodified file: FAIL: exit status {r.returncode}\n{r.stderr}")
            return 1
        got, want = load_file(str(out / "model.safetensors")), load_file(str(reference / "model.safetensors"))
        bad = sorted(set(got) ^ set(want)) + [k for k in sorted(set(got) & set(want))
                                              if got[k].dtype != want[k].dtype or not np.array_equal(got[k], want[k])]
        same_config = (out / "config.json").read_bytes() == (reference / "config.json").read_bytes()
        if bad or not same_config or out.with_name("good.part").exists():
            print(f"unmodified file: FAIL: tensors that differ {bad[:5]}, config.json the same: {same_config}")
            ok = False
        else:
            print(f"unmodified file: ok ({len(got)} tensors equal to {reference / 'model.safetensors'})")

        base = onnx.load(str(onnx_file))
        for k, (what, corrupt, needles) in enumerate(CORRUPTIONS):
            m = onnx.ModelProto()
            m.CopyFrom(base)
            corrupt(m)
            path = tmp / f"case{k}.onnx"
            path.write_bytes(m.SerializeToString())
            ok &= check_refused(what, converter, path, vocab, tmp / f"out{k}", needles)
            path.unlink()

        raw = onnx_file.read_bytes()
        for k, (what, data_bytes, needles) in enumerate([
                ("random bytes", np.random.default_rng(0).bytes(4096), ["not an ONNX model (DecodeError"]),
                ("truncated to half", raw[:len(raw) // 2], ["not an ONNX model (DecodeError"]),
                ("empty file (an empty ModelProto)", b"", ["the graph has no input 'input_ids'"])]):
            path = tmp / f"bytes{k}.onnx"
            path.write_bytes(data_bytes)
            ok &= check_refused(what, converter, path, vocab, tmp / f"bytes_out{k}", needles)
    print("all ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
