"""The whole-network ONNX fixtures: the graphs torch.onnx exported (tests/fixtures/networks/
NAME.graph.onnx, scripts/onnx_torch_export.py) filled with weights from a counter-based generator
that tests/support/onnx_fill.rs repeats bit for bit (He-uniform kernels, small biases, batch
norms near identity), run by onnxruntime on two images of the same generator.

    python3 scripts/onnx_networks.py --expected        # tests/fixtures/networks/NAME.expected.json (committed)
    python3 scripts/onnx_networks.py OUT_DIR           # OUT_DIR/NAME.onnx and NAME.json (the Node test)

Needs numpy, onnx and onnxruntime only.
"""
import glob
import json
import math
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

GRAPHS = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "networks")
MASK = (1 << 64) - 1


def uniform(stream: int, n: int) -> np.ndarray:
    """n values in [0, 1): splitmix64 of (stream, index), its top 24 bits over 2^24 (exact in f32)."""
    i = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (np.uint64(stream) * np.uint64(0x9E3779B97F4A7C15) + i * np.uint64(0xBF58476D1CE4E5B9)
             + np.uint64(0x94D049BB133111EB))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def fill(model: onnx.ModelProto) -> None:
    role = {}
    for node in model.graph.node:
        for k, name in enumerate(node.input):
            role.setdefault(name, (node.op_type, k, node))
    for index, t in enumerate(model.graph.initializer):
        if t.data_type != onnx.TensorProto.FLOAT:
            continue
        shape = tuple(t.dims)
        n = int(np.prod(shape)) if shape else 1
        op, k, node = role.get(t.name, ("", -1, None))
        if op == "Identity":  # a shared initializer: who reads the Identity's output
            op, k, node = role.get(node.output[0], ("", -1, None))
        u = uniform(index + 1, n)
        if op == "Conv" and k == 1:
            bound = math.sqrt(6.0 / int(np.prod(shape[1:])))
            v = (2.0 * u - 1.0) * bound
        elif op == "Gemm" and k == 1:
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)
            bound = math.sqrt(3.0 / (shape[1] if trans_b else shape[0]))
            v = (2.0 * u - 1.0) * bound
        elif op == "MatMul" and k == 1:  # tf2onnx's dense layers: [in, out]
            v = (2.0 * u - 1.0) * math.sqrt(3.0 / shape[0])
        elif op in ("BatchNormalization", "Mul") and k in (1, 4):  # scales (tf2onnx's batch norms: Mul)
            v = 0.5 + u
        else:
            v = (2.0 * u - 1.0) * 0.1
        model.graph.initializer[index].CopyFrom(numpy_helper.from_array(v.reshape(shape).astype(np.float32), t.name))


def images(shape) -> np.ndarray:
    return uniform(0, int(np.prod(shape))).astype(np.float32).reshape(shape)


def networks():
    for path in sorted(glob.glob(os.path.join(GRAPHS, "*.graph.onnx"))):
        name = os.path.basename(path)[: -len(".graph.onnx")]
        model = onnx.load(path)
        fill(model)
        onnx.checker.check_model(model)
        dims = model.graph.input[0].type.tensor_type.shape.dim
        shape = [2] + [d.dim_value for d in dims[1:]]
        x = images(shape)
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        (y,) = session.run(None, {session.get_inputs()[0].name: x})
        yield name, model, shape, x, y


def main() -> None:
    expected = sys.argv[1] == "--expected"
    out = GRAPHS if expected else sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, model, shape, x, y in networks():
        record = {"shape": shape, "logits": [float(v) for v in y.ravel()], "onnxruntime": ort.__version__}
        if expected:
            target = os.path.join(out, f"{name}.expected.json")
        else:
            onnx.save(model, os.path.join(out, f"{name}.onnx"))
            record["input"] = [float(v) for v in x.ravel()]
            target = os.path.join(out, f"{name}.json")
        with open(target, "w") as f:
            json.dump(record, f)
        print(f"{target}: logits up to {np.abs(y).max():.3g}", file=sys.stderr)


if __name__ == "__main__":
    main()
