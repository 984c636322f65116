#!/usr/bin/env python3
"""Writes a state_dict of the reference PyTorch VisualIntelligenceNetwork, laid out under its
module names, as safetensors — with numpy and safetensors only, no PyTorch — plus an input and
the logits a numpy forward pass (eval mode) computes for it.

    feature_extractor = Sequential(Conv2d(in, 64, 3), ReLU(), MaxPool2d(2))
    complexity_layers = Sequential(*[Conv2d(c, 128, 3), BatchNorm2d(128), ReLU()] * level)
    classifier        = Sequential(AdaptiveAvgPool2d(1), Flatten(), Linear(128, classes))

Usage: vin_state_dict.py OUT_DIR [level] [in_channels] [size] [classes]
Writes OUT_DIR/vin.safetensors and OUT_DIR/vin-expected.json.
"""
import json
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file


def state_dict(rng, level, in_ch, classes):
    sd = {}

    def conv(name, cin, cout):
        bound = 1 / np.sqrt(cin * 9)
        sd[f"{name}.weight"] = rng.uniform(-bound, bound, (cout, cin, 3, 3)).astype(np.float32)
        sd[f"{name}.bias"] = rng.uniform(-bound, bound, (cout,)).astype(np.float32)

    conv("feature_extractor.0", in_ch, 64)
    for i in range(level):
        conv(f"complexity_layers.{3 * i}", 64 if i == 0 else 128, 128)
        bn = f"complexity_layers.{3 * i + 1}"
        sd[f"{bn}.weight"] = rng.uniform(0.5, 1.5, 128).astype(np.float32)
        sd[f"{bn}.bias"] = rng.uniform(-0.2, 0.2, 128).astype(np.float32)
        sd[f"{bn}.running_mean"] = rng.uniform(-0.1, 0.1, 128).astype(np.float32)
        sd[f"{bn}.running_var"] = rng.uniform(0.5, 2.0, 128).astype(np.float32)
        sd[f"{bn}.num_batches_tracked"] = np.array(100, dtype=np.int64)
    bound = 1 / np.sqrt(128)
    sd["classifier.2.weight"] = rng.uniform(-bound, bound, (classes, 128)).astype(np.float32)
    sd["classifier.2.bias"] = rng.uniform(-bound, bound, (classes,)).astype(np.float32)
    return sd


def conv2d(x, w, b):
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))
    return np.einsum("nihwkl,oikl->nohw", windows, w, optimize=True) + b[None, :, None, None]


def forward(sd, x, level):
    x = np.maximum(conv2d(x, sd["feature_extractor.0.weight"], sd["feature_extractor.0.bias"]), 0)
    n, c, h, w = x.shape
    x = x[:, :, : h // 2 * 2, : w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
    for i in range(level):
        conv, bn = f"complexity_layers.{3 * i}", f"complexity_layers.{3 * i + 1}"
        x = conv2d(x, sd[f"{conv}.weight"], sd[f"{conv}.bias"])
        mean, var = sd[f"{bn}.running_mean"], sd[f"{bn}.running_var"]
        x = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
        x = np.maximum(x * sd[f"{bn}.weight"][None, :, None, None] + sd[f"{bn}.bias"][None, :, None, None], 0)
    x = x.mean(axis=(2, 3))
    return x @ sd["classifier.2.weight"].T + sd["classifier.2.bias"]


def main(out_dir, level="2", in_ch="1", size="16", classes="10"):
    level, in_ch, size, classes = int(level), int(in_ch), int(size), int(classes)
    rng = np.random.default_rng(7)
    sd = state_dict(rng, level, in_ch, classes)
    x = rng.uniform(0, 1, (2, in_ch, size, size)).astype(np.float32)
    logits = forward({k: v.astype(np.float64) for k, v in sd.items()}, x.astype(np.float64), level)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(sd, str(out / "vin.safetensors"))
    (out / "vin-expected.json").write_text(json.dumps({
        "level": level, "in_channels": in_ch, "size": size, "classes": classes,
        "input": x.ravel().tolist(), "logits": logits.ravel().tolist(),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:])
