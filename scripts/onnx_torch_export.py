"""Exports real CNN architectures with torch.onnx (torchvision's ResNet-18, MobileNet V3 small,
EfficientNet-B0, SqueezeNet 1.1 and a small VGG-style net), batch dynamic, and commits only
their graphs: every float initializer keeps its name and shape but not its values
(tests/fixtures/networks/NAME.graph.onnx, a few KB each). scripts/onnx_networks.py fills them
with seeded weights and records onnxruntime's outputs, without PyTorch.

Run once, by hand, where PyTorch is installed (it is not in CI's path):
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch torchvision onnx onnxscript
    /tmp/torchenv/bin/python scripts/onnx_torch_export.py
"""
import os
import tempfile

import onnx
import torch
import torchvision
from torch import nn

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "networks")


class SmallVgg(nn.Module):
    """VGG's pattern (3×3 convolutions in pairs, max pooling, dropout and dense layers) at 64×64."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        layers, c = [], 3
        for width in (32, 64, 128):
            for _ in range(2):
                layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU(inplace=True)]
                c = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(128 * 8 * 8, 256), nn.ReLU(True), nn.Dropout(), nn.Linear(256, classes)
        )

    def forward(self, x):
        return self.classifier(self.features(x))


NETWORKS = {
    "resnet18": (lambda: torchvision.models.resnet18(num_classes=1000), 224),
    "mobilenet_v3_small": (lambda: torchvision.models.mobilenet_v3_small(num_classes=1000), 224),
    "efficientnet_b0": (lambda: torchvision.models.efficientnet_b0(num_classes=1000), 224),
    "squeezenet1_1": (lambda: torchvision.models.squeezenet1_1(num_classes=1000), 224),
    "vgg_small": (lambda: SmallVgg(10), 64),
}


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    for name, (make, size) in NETWORKS.items():
        model = make().eval()
        x = torch.rand(2, 3, size, size)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.onnx")
            torch.onnx.export(
                model, (x,), path, input_names=["image"], output_names=["logits"],
                dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False,
            )
            m = onnx.load(path)
        for t in m.graph.initializer:
            if t.data_type == onnx.TensorProto.FLOAT:
                t.ClearField("raw_data")
                t.ClearField("float_data")
        m.producer_name, m.producer_version = "pytorch", torch.__version__
        out = os.path.join(OUT, f"{name}.graph.onnx")
        onnx.save(m, out)
        print(out, os.path.getsize(out), "bytes,", len(m.graph.node), "nodes")


if __name__ == "__main__":
    main()
