// Real held-out digits for the consumer tests: the IDX subsets scripts/fetch-data.sh writes to
// $CONVLENS_DATA/assets (2,000 training and 500 held-out digits).
import { readFileSync } from "node:fs";
import { join } from "node:path";

function idx(path) {
  const bytes = readFileSync(path);
  const dims = bytes[3];
  const shape = Array.from({ length: dims }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  return { shape, data: new Uint8Array(bytes.buffer, bytes.byteOffset + 4 + 4 * dims, shape.reduce((a, b) => a * b, 1)) };
}

/** `{ images, labels, shape: [1, 28, 28] }` of `split` ("train" or "test"), the first `n`. */
export function digits(split, n, dataset = "mnist", dir = join(process.env.CONVLENS_DATA, "assets")) {
  const images = idx(join(dir, `${dataset}-${split}-images.idx`));
  const labels = idx(join(dir, `${dataset}-${split}-labels.idx`));
  const count = Math.min(n, labels.shape[0]);
  return {
    images: images.data.slice(0, count * 784),
    labels: labels.data.slice(0, count),
    shape: [1, 28, 28],
  };
}

/** Image `i` of a dataset as `{ data, shape }`. */
export function image(set, i) {
  return { data: set.images.slice(i * 784, (i + 1) * 784), shape: [1, 28, 28] };
}
