"""Makes the whole-network ONNX fixtures: the graphs torch.onnx exported
(tests/fixtures/networks/*.graph.onnx, scripts/onnx_torch_export.py) filled with seeded weights
(as PyTorch initialises them: He-normal kernels, small biases, batch norms near identity), and
onnxruntime's logits for two seeded images. Needs numpy, onnx and onnxruntime only.

Usage: python3 scripts/onnx_networks.py OUT_DIR
Writes OUT_DIR/NAME.onnx and OUT_DIR/NAME.json ({ shape, input, logits, onnxruntime }).
"""
import glob
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

GRAPHS = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "networks")


def fill(model: onnx.ModelProto, seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Which node reads each initializer, and as which input.
    role = {}
    for node in model.graph.node:
        for k, name in enumerate(node.input):
            role.setdefault(name, (node.op_type, k, node))
    for i, t in enumerate(model.graph.initializer):
        if t.data_type != onnx.TensorProto.FLOAT:
            continue
        shape = tuple(t.dims)
        op, k, node = role.get(t.name, ("", -1, None))
        if op == "Identity":  # a shared initializer: see who reads the Identity's output
            op, k, node = role.get(node.output[0], ("", -1, None))
        if op == "Conv" and k == 1:
            fan_in = int(np.prod(shape[1:]))
            v = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        elif op == "Gemm" and k == 1:
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)
            fan_in = shape[1] if trans_b else shape[0]
            v = rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)
        elif op == "BatchNormalization" and k in (1, 4):
            v = rng.uniform(0.5, 1.5, shape)
        else:
            v = rng.uniform(-0.1, 0.1, shape)
        model.graph.initializer[i].CopyFrom(numpy_helper.from_array(v.astype(np.float32), t.name))


def main() -> None:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(GRAPHS, "*.graph.onnx"))):
        name = os.path.basename(path)[: -len(".graph.onnx")]
        model = onnx.load(path)
        fill(model, seed=1)
        onnx.checker.check_model(model)
        target = os.path.join(out, f"{name}.onnx")
        onnx.save(model, target)
        dims = model.graph.input[0].type.tensor_type.shape.dim
        shape = [2] + [d.dim_value for d in dims[1:]]
        x = np.random.default_rng(2).random(shape, dtype=np.float32)
        session = ort.InferenceSession(target, providers=["CPUExecutionProvider"])
        (y,) = session.run(None, {session.get_inputs()[0].name: x})
        with open(os.path.join(out, f"{name}.json"), "w") as f:
            json.dump({"shape": shape, "input": x.ravel().tolist(), "logits": y.ravel().tolist(),
                       "onnxruntime": ort.__version__}, f)
        print(f"{target}: {os.path.getsize(target)} bytes, logits up to {np.abs(y).max():.3g}", file=sys.stderr)


if __name__ == "__main__":
    main()
