"""Writes the small ONNX networks the tests load (tests/fixtures/*.onnx), built with onnx.helper
from seeded random weights, and what onnxruntime gives for seeded inputs (*.expected.json).

Usage: python3 scripts/onnx_fixtures.py   (needs onnx and onnxruntime: scripts/requirements.txt)
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")


def tiny_cnn() -> onnx.ModelProto:
    """1×28×28 → 3 classes: conv, batch norm, ReLU, max pool, a depthwise-separable block with a
    residual Add, ReLU6 (Clip), global average pooling, flatten, Gemm and a final Softmax."""
    rng = np.random.default_rng(7)
    w = lambda *s: (rng.standard_normal(s) * 0.5).astype(np.float32)
    inits = [
        numpy_helper.from_array(w(8, 1, 3, 3), "conv1.w"),
        numpy_helper.from_array(w(8), "conv1.b"),
        numpy_helper.from_array((1 + 0.1 * w(8)).astype(np.float32), "bn1.scale"),
        numpy_helper.from_array(w(8) * 0.1, "bn1.bias"),
        numpy_helper.from_array(w(8) * 0.1, "bn1.mean"),
        numpy_helper.from_array((1 + np.abs(w(8))).astype(np.float32), "bn1.var"),
        numpy_helper.from_array(w(8, 1, 3, 3), "dw.w"),
        numpy_helper.from_array(w(8, 8, 1, 1), "pw.w"),
        numpy_helper.from_array(w(8), "pw.b"),
        numpy_helper.from_array(w(3, 8), "fc.w"),
        numpy_helper.from_array(w(3), "fc.b"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array(6.0, np.float32), "six"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv1.w", "conv1.b"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"], ["b1"], name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["b1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "dw.w"], ["d"], name="depthwise", pads=[1, 1, 1, 1], group=8),
        helper.make_node("Conv", ["d", "pw.w", "pw.b"], ["pw"], name="pointwise"),
        helper.make_node("Add", ["pw", "p1"], ["res"], name="residual"),
        helper.make_node("Clip", ["res", "zero", "six"], ["r6"], name="relu6"),
        helper.make_node("AveragePool", ["r6"], ["ap"], name="avgpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0),
        helper.make_node("GlobalAveragePool", ["ap"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="convlens-fixtures")
    model.ir_version = 8
    helper.set_model_props(model, {"labels": json.dumps(["circle", "square", "triangle"])})
    onnx.checker.check_model(model)
    return model


def write(name: str, model: onnx.ModelProto, input_shape) -> None:
    path = os.path.join(OUT, f"{name}.onnx")
    onnx.save(model, path)
    rng = np.random.default_rng(11)
    x = rng.random((4, *input_shape), dtype=np.float32)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {session.get_inputs()[0].name: x})
    # Scores before the final Softmax (convlens drops it): log-probabilities differ from the
    # logits by a constant per image, so the test compares softmax of both.
    with open(os.path.join(OUT, f"{name}.expected.json"), "w") as f:
        json.dump({"shape": list(x.shape), "input": x.ravel().tolist(), "probabilities": y.tolist(),
                   "onnxruntime": ort.__version__}, f)
    print(path, os.path.getsize(path), "bytes")


def external_data() -> onnx.ModelProto:
    """tiny-cnn with its Gemm's weights said to be in another file (which is not written):
    convlens refuses such files by name."""
    model = tiny_cnn()
    t = next(t for t in model.graph.initializer if t.name == "fc.w")
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    for key, value in [("location", "fc.bin"), ("offset", "0"), ("length", "96")]:
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    return model


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write("tiny-cnn", tiny_cnn(), (1, 28, 28))
    onnx.save(external_data(), os.path.join(OUT, "external-data.onnx"))
