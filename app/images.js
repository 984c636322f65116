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

/**
 * Any drawable (canvas, bitmap, video) → the 28×28 greyscale image an MNIST-style network reads:
 * light ink on black, the ink's bounding box scaled into 20×20 and centred by its centre of mass,
 * as MNIST was made. A picture that is mostly light (dark ink on paper) is inverted first.
 */
export function toMnist(source, width, height) {
  const work = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true });
  work.drawImage(source, 0, 0, width, height);
  const rgba = work.getImageData(0, 0, width, height).data;
  const grey = new Float32Array(width * height);
  let mean = 0;
  for (let i = 0; i < grey.length; i++) {
    grey[i] = (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
    mean += grey[i] / grey.length;
  }
  if (mean > 0.5) for (let i = 0; i < grey.length; i++) grey[i] = 1 - grey[i];
  // Bounding box of the ink.
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (grey[y * width + x] > 0.1) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  const out = new Float32Array(SIZE * SIZE);
  if (x1 < 0) return out;
  const [bw, bh] = [x1 - x0 + 1, y1 - y0 + 1];
  const scale = 20 / Math.max(bw, bh);
  const [sw, sh] = [Math.max(1, Math.round(bw * scale)), Math.max(1, Math.round(bh * scale))];
  // The ink, as an image, scaled into a 20×20 box (area averaging by the browser).
  const ink = new OffscreenCanvas(bw, bh).getContext("2d");
  const inkImage = ink.createImageData(bw, bh);
  for (let y = 0; y < bh; y++)
    for (let x = 0; x < bw; x++) {
      const v = grey[(y + y0) * width + x + x0] * 255;
      inkImage.data.set([v, v, v, 255], 4 * (y * bw + x));
    }
  ink.putImageData(inkImage, 0, 0);
  const small = new OffscreenCanvas(sw, sh).getContext("2d", { willReadFrequently: true });
  small.imageSmoothingQuality = "high";
  small.drawImage(ink.canvas, 0, 0, sw, sh);
  const px = small.getImageData(0, 0, sw, sh).data;
  // Centre of mass → the middle of the 28×28 frame.
  let [mass, cx, cy] = [0, 0, 0];
  for (let y = 0; y < sh; y++)
    for (let x = 0; x < sw; x++) {
      const v = px[4 * (y * sw + x)] / 255;
      mass += v;
      cx += v * x;
      cy += v * y;
    }
  const [ox, oy] = mass > 0 ? [Math.round(13.5 - cx / mass), Math.round(13.5 - cy / mass)] : [4, 4];
  for (let y = 0; y < sh; y++)
    for (let x = 0; x < sw; x++) {
      const [tx, ty] = [x + ox, y + oy];
      if (tx >= 0 && ty >= 0 && tx < SIZE && ty < SIZE) out[ty * SIZE + tx] = px[4 * (y * sw + x)] / 255;
    }
  return out;
}

/** A file or dropped image → an ImageBitmap. */
export function decode(file) {
  if (!file.type.startsWith("image/")) throw new Error(`${file.name} is not an image`);
  return createImageBitmap(file);
}
