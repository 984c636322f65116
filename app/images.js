// Images for the network: IDX subsets, 28×28 greyscale previews, uploads and webcam frames.

export const SIZE = 28;

/** Fetches an IDX file: `{ shape, data: Uint8Array }`. */
export async function fetchIdx(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const view = new DataView(bytes.buffer);
  const dims = bytes[3];
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i));
  return { shape, data: bytes.subarray(4 + 4 * dims) };
}

/** A dataset subset shipped with the page: `{ images, labels, shape: [1, 28, 28] }`. */
export async function fetchDataset(name, split) {
  const [images, labels] = await Promise.all([
    fetchIdx(`data/${name}-${split}-images.idx`),
    fetchIdx(`data/${name}-${split}-labels.idx`),
  ]);
  return { images: images.data, labels: labels.data, shape: [1, SIZE, SIZE] };
}

/** Draws 28×28 greyscale values (0–1) on a canvas. */
export function paint(canvas, pixels) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIZE, SIZE);
  pixels.forEach((v, i) => image.data.set([v * 255, v * 255, v * 255, 255], 4 * i));
  ctx.putImageData(image, 0, 0);
}
