"""Exports CNNs built with Keras (TensorFlow) through tf2onnx — Keras's MobileNetV2 and a small
Keras CNN — batch dynamic, images in as NCHW (`inputs_as_nchw`, tf2onnx's option for image
models: the graph transposes to TensorFlow's NHWC itself), and commits only their graphs as
scripts/onnx_torch_export.py does (tests/fixtures/networks/tf_NAME.graph.onnx: every float
initializer keeps its name and shape but not its values). scripts/onnx_networks.py fills them
with seeded weights and records onnxruntime's outputs, without TensorFlow.

Run once, by hand, where TensorFlow is installed (it is not in CI's path):
    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx==1.23.2
    /tmp/tfvenv/bin/python scripts/onnx_tf_export.py
"""
import os

import onnx
import tensorflow as tf
import tf2onnx

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "networks")


def small_cnn():
    """Keras's own layers as a classifier uses them: convolutions with "same" padding, batch
    normalisation, ReLU, max pooling, a separable convolution, global average pooling, dropout and
    dense layers."""
    k = tf.keras.layers
    inputs = tf.keras.Input((32, 32, 3))
    x = k.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = k.BatchNormalization()(x)
    x = k.ReLU()(x)
    x = k.MaxPooling2D()(x)
    x = k.SeparableConv2D(32, 3, padding="same", activation="relu")(x)
    x = k.Conv2D(32, 3, strides=2, padding="valid", activation="relu")(x)
    x = k.GlobalAveragePooling2D()(x)
    x = k.Dropout(0.5)(x)
    x = k.Dense(64, activation="relu")(x)
    outputs = k.Dense(10)(x)
    return tf.keras.Model(inputs, outputs), 32


NETWORKS = {
    "tf_mobilenet_v2": lambda: (tf.keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3), classifier_activation=None), 224),
    "tf_small_cnn": small_cnn,
}


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    tf.random.set_seed(0)
    for name, make in NETWORKS.items():
        model, size = make()
        spec = (tf.TensorSpec((None, size, size, 3), tf.float32, name="image"),)
        m, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=17, inputs_as_nchw=["image"])
        for t in m.graph.initializer:
            if t.data_type == onnx.TensorProto.FLOAT:
                t.ClearField("raw_data")
                t.ClearField("float_data")
        m.producer_name, m.producer_version = "tf2onnx", f"{tf2onnx.__version__} (TensorFlow {tf.__version__})"
        out = os.path.join(OUT, f"{name}.graph.onnx")
        onnx.save(m, out)
        print(out, os.path.getsize(out), "bytes,", len(m.graph.node), "nodes:", sorted({n.op_type for n in m.graph.node}))


if __name__ == "__main__":
    main()
