/** Images and datasets from JS values → the flat arrays the wasm module reads. */

import { ConvlensError, badInput } from "./errors.js";
import { MAX_BATCH, MAX_DATASET_BYTES, MAX_SIDE, MAX_VALUES, bad, describe, dims, reading, typedArray, typedKind } from "./guard.js";
import type { Dataset, ImageBatch, ImageInput, Pixels } from "./types.js";

/**
 * The buffers of arrays this module allocated (its conversions and copies). A worker may be
 * handed them (transferred, not copied); the caller's own arrays are only ever copied.
 */
const made = new WeakSet<ArrayBufferLike>();

export function mine<T extends Float32Array | Uint8Array>(array: T): T {
  made.add(array.buffer);
  return array;
}

/** Of `arrays`, the buffers this module allocated, once each: what can be transferred. */
export function ownBuffers(...arrays: ArrayBufferView[]): ArrayBuffer[] {
  return [...new Set(arrays.map((a) => a.buffer).filter((b): b is ArrayBuffer => made.has(b) && b instanceof ArrayBuffer))];
}

/** A drawable image is drawn at most this large before the network's own resize. */
export const MAX_DRAW = 1024;

/** One image or several of one size as float pixels `[n, c, h, w]`; `batch` says which was asked. */
export interface PlainImages {
  data: Float32Array;
  shape: [number, number, number, number];
  batch: boolean;
}

/** Float pixels in [0, 1], channel-major, and their shape. */
export interface PlainImage {
  data: Float32Array;
  shape: [number, number, number];
}

/** `input.key`, read as the caller's code may throw. */
function field(input: object, key: string, name: string): unknown {
  return reading(name, () => (input as Record<string, unknown>)[key]);
}

function hasKeys(input: unknown, ...keys: string[]): input is object {
  return typeof input === "object" && input !== null && reading("the input", () => keys.every((k) => k in input));
}

/** ImageData, or an object like it: `{ data: Uint8ClampedArray, width, height }`, checked. */
function imageData(input: object): PlainImage {
  const width = field(input, "width", "width");
  const height = field(input, "height", "height");
  for (const [name, side] of [["width", width], ["height", height]] as const) {
    if (typeof side !== "number" || !Number.isSafeInteger(side) || side < 1 || side > MAX_SIDE) {
      throw bad(`ImageData ${name}`, `a whole number from 1 to ${MAX_SIDE}`, side);
    }
  }
  const [w, h] = [width as number, height as number];
  if (3 * w * h > MAX_VALUES) throw badInput(`a ${w}×${h} ImageData is larger than the limit of ${MAX_VALUES} values; scale it down first`);
  const data = typedArray(field(input, "data", "ImageData data"), ["Uint8ClampedArray"], "ImageData data", MAX_VALUES) as Uint8Array;
  if (data.length !== 4 * w * h) throw badInput(`ImageData data holds ${data.length} bytes; ${w}×${h} RGBA needs ${4 * w * h}`);
  return fromRgba(data, w, h);
}

/**
 * RGBA bytes (as in ImageData, or a decoded file) → RGB planes in [0, 1], composited over black;
 * larger than `maxSide` a side, scaled down by area averaging first.
 */
export function fromRgba(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, maxSide = Infinity): PlainImage {
  if (Math.max(width, height) > maxSide) return shrunk(rgba, width, height, maxSide);
  const plane = width * height;
  const data = mine(new Float32Array(3 * plane));
  for (let i = 0; i < plane; i++) {
    const alpha = rgba[4 * i + 3] / 255;
    for (let c = 0; c < 3; c++) data[c * plane + i] = (rgba[4 * i + c] / 255) * alpha;
  }
  return { data, shape: [3, height, width] };
}

/** {@link fromRgba} of an image larger than `maxSide`: each output pixel the mean of its source area. */
function shrunk(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, maxSide: number): PlainImage {
  const scale = maxSide / Math.max(width, height);
  const [w, h] = [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
  const data = mine(new Float32Array(3 * w * h));
  for (let y = 0; y < h; y++) {
    const [y0, y1] = [Math.floor((y * height) / h), Math.max(Math.floor((y * height) / h) + 1, Math.floor(((y + 1) * height) / h))];
    for (let x = 0; x < w; x++) {
      const [x0, x1] = [Math.floor((x * width) / w), Math.max(Math.floor((x * width) / w) + 1, Math.floor(((x + 1) * width) / w))];
      const sums = [0, 0, 0];
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0; sx < x1; sx++) {
          const i = 4 * (sy * width + sx);
          const alpha = rgba[i + 3] / 255;
          for (let c = 0; c < 3; c++) sums[c] += (rgba[i + c] / 255) * alpha;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < 3; c++) data[(c * h + y) * w + x] = sums[c] / n;
    }
  }
  return { data, shape: [3, h, w] };
}

/** Draws a canvas, bitmap or image element (scaled down to at most MAX_DRAW a side) and reads its pixels. */
function fromDrawable(source: CanvasImageSource): PlainImage {
  const sizes = source as {
    naturalWidth?: number;
    naturalHeight?: number;
    videoWidth?: number;
    videoHeight?: number;
    displayWidth?: number;
    displayHeight?: number;
    width?: number;
    height?: number;
  };
  const w0 = sizes.naturalWidth || sizes.videoWidth || sizes.displayWidth || sizes.width || 0;
  const h0 = sizes.naturalHeight || sizes.videoHeight || sizes.displayHeight || sizes.height || 0;
  if (!(w0 > 0 && h0 > 0)) throw badInput("the image is empty (0×0); wait until it has loaded");
  const scale = Math.min(1, MAX_DRAW / Math.max(w0, h0));
  const [w, h] = [Math.max(1, Math.round(w0 * scale)), Math.max(1, Math.round(h0 * scale))];
  let ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (typeof OffscreenCanvas !== "undefined") {
    ctx = new OffscreenCanvas(w, h).getContext("2d", { willReadFrequently: true });
  } else {
    const canvas = document.createElement("canvas");
    [canvas.width, canvas.height] = [w, h];
    ctx = canvas.getContext("2d", { willReadFrequently: true });
  }
  if (!ctx) throw badInput("could not get a 2D canvas context to read the image");
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(source, 0, 0, w, h);
  return fromRgba(ctx.getImageData(0, 0, w, h).data, w, h);
}

/**
 * Any accepted input → float pixels. Throws `BAD_INPUT` for anything else.
 */
export function toImage(input: ImageInput): PlainImage {
  if (hasKeys(input, "data", "width", "height") && typedKind(field(input, "data", "data")) === "Uint8ClampedArray") {
    return imageData(input as object);
  }
  if (hasKeys(input, "data", "shape")) {
    const shape = dims(field(input, "shape", "shape"), [3], MAX_SIDE, "shape", "channels, height, width") as [number, number, number];
    return { data: floats(field(input, "data", "data"), shape), shape };
  }
  const drawable = input as CanvasImageSource;
  if (typeof HTMLVideoElement !== "undefined" && drawable instanceof HTMLVideoElement) {
    // HAVE_CURRENT_DATA: a frame to draw.
    if (drawable.readyState < 2) throw badInput("the <video> has no frame yet; wait for its loadeddata event");
    return fromDrawable(drawable);
  }
  if (
    typeof drawable === "object" &&
    drawable !== null &&
    ((typeof HTMLCanvasElement !== "undefined" && drawable instanceof HTMLCanvasElement) ||
      (typeof OffscreenCanvas !== "undefined" && drawable instanceof OffscreenCanvas) ||
      (typeof ImageBitmap !== "undefined" && drawable instanceof ImageBitmap) ||
      (typeof HTMLImageElement !== "undefined" && drawable instanceof HTMLImageElement) ||
      (typeof VideoFrame !== "undefined" && drawable instanceof VideoFrame))
  ) {
    return fromDrawable(drawable);
  }
  throw badInput(
    `input must be ImageData, a canvas, an ImageBitmap, an <img>, a <video>, a VideoFrame, a Blob or the bytes of an image file, or { data, shape: [c, h, w] }, got ${describe(input)}`,
  );
}

/** Pixels of `shape` (`[…, c, h, w]`) as floats in [0, 1]: checked for size, type and finite values. */
function floats(data: unknown, shape: readonly number[]): Float32Array {
  const needed = shape.reduce((a, b) => a * b, 1);
  if (needed > MAX_VALUES) {
    throw badInput(`shape ${JSON.stringify(shape)} is ${needed} values; the limit is ${MAX_VALUES} per call (scale the images down)`);
  }
  const values = typedArray(data, ["Float32Array", "Uint8Array", "Uint8ClampedArray"], "data", MAX_VALUES);
  if (values.length !== needed) throw badInput(`shape ${JSON.stringify(shape)} needs ${needed} values, data holds ${values.length}`);
  if (values instanceof Float32Array) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!(v >= 0 && v <= 1)) throw badInput(`data[${i}] is ${v}; float pixels must lie in [0, 1]`);
    }
    return values;
  }
  return mine(Float32Array.from(values, (v) => v / 255));
}

/**
 * One image or a batch (an array of images of one size, or `{ data, shape: [n, c, h, w] }`)
 * → float pixels `[n, c, h, w]`. Throws `BAD_INPUT` for anything else.
 */
export function toImages(input: ImageInput | ImageBatch): PlainImages {
  if (Array.isArray(input)) {
    const list = reading("the array of images", () => {
      const length = input.length;
      if (length === 0) throw badInput("the array of images is empty");
      if (length > MAX_BATCH) throw badInput(`a batch holds at most ${MAX_BATCH} images, got ${length}`);
      return Array.from({ length }, (_, i) => input[i] as unknown);
    });
    const images = list.map((image) => toImage(image as ImageInput));
    const shape = images[0].shape;
    const per = shape[0] * shape[1] * shape[2];
    if (images.length * per > MAX_VALUES) throw badInput(`the images hold ${images.length * per} values; the limit is ${MAX_VALUES} per call`);
    const data = mine(new Float32Array(images.length * per));
    images.forEach((image, i) => {
      if (image.shape.some((d, j) => d !== shape[j])) {
        throw badInput(
          `image ${i} is ${JSON.stringify(image.shape)} but image 0 is ${JSON.stringify(shape)}; the images of one call must share a shape`,
        );
      }
      data.set(image.data, i * per);
    });
    return { data, shape: [images.length, ...shape], batch: true };
  }
  if (hasKeys(input, "data", "shape")) {
    const raw = field(input, "shape", "shape");
    if (Array.isArray(raw) && reading("shape", () => raw.length) === 4) {
      const shape = dims(raw, [4], MAX_SIDE, "shape", "images, channels, height, width") as [number, number, number, number];
      if (shape[0] > MAX_BATCH) throw badInput(`a batch holds at most ${MAX_BATCH} images, got ${shape[0]}`);
      return { data: floats(field(input, "data", "data"), shape), shape, batch: true };
    }
  }
  const one = toImage(input as ImageInput);
  return { data: one.data, shape: [1, ...one.shape], batch: false };
}

/**
 * Prepares images of one size, `[n, c, h, w]`, for the model's input (the network's `prepare`):
 * float pixels of the input shape, image after image.
 */
export type Prepare = (data: Float32Array, shape: Uint32Array) => Promise<Float32Array>;

/** The images of a dataset given as a list of images of any size, each as {@link toImage} reads it. */
function imageList(dataset: Dataset, inputShape: readonly number[], name: string): { images: PlainImage[]; labels: Uint8Array } | undefined {
  if (typeof dataset !== "object" || dataset === null) throw bad(name, "{ images, labels, shape } or { images: [image, …], labels }", dataset);
  const raw = field(dataset, "images", `${name}.images`);
  if (!Array.isArray(raw)) return undefined;
  const per = inputShape[0] * inputShape[1] * inputShape[2];
  const list = reading(`${name}.images`, () => {
    const length = raw.length;
    if (length > MAX_DATASET_BYTES / per) throw badInput(`${name} has ${length} images; at most ${Math.floor(MAX_DATASET_BYTES / per)} of the model's input size fit the limit of ${MAX_DATASET_BYTES} bytes`);
    return Array.from({ length }, (_, i) => raw[i] as unknown);
  });
  const images = list.map((image) => toImage(image as ImageInput));
  const labels = toLabels(field(dataset, "labels", `${name}.labels`), name, MAX_DATASET_BYTES / per);
  if (labels.length !== images.length) throw badInput(`${name} has ${images.length} images and ${labels.length} labels`);
  if (labels.length === 0) throw badInput(`${name} is empty`);
  return { images, labels };
}

/**
 * The images of a list prepared by `prepare` into bytes of the input shape: one call per group
 * of images of one size, at most {@link MAX_BATCH} images and {@link MAX_VALUES} values each.
 */
async function preparedList(images: PlainImage[], inputShape: readonly number[], prepare: Prepare): Promise<Uint8Array> {
  const per = inputShape[0] * inputShape[1] * inputShape[2];
  const out = mine(new Uint8Array(images.length * per));
  const groups = new Map<string, number[]>();
  images.forEach((image, i) => {
    const key = image.shape.join("x");
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  for (const indices of groups.values()) {
    const shape = images[indices[0]].shape;
    const size = shape[0] * shape[1] * shape[2];
    const chunk = Math.max(1, Math.min(MAX_BATCH, Math.floor(MAX_VALUES / size)));
    for (let start = 0; start < indices.length; start += chunk) {
      const part = indices.slice(start, start + chunk);
      const pixels = mine(new Float32Array(part.length * size));
      part.forEach((index, j) => pixels.set(images[index].data, j * size));
      const prepared = await prepare(pixels, Uint32Array.from([part.length, ...shape]));
      if (prepared.length !== part.length * per) {
        throw new ConvlensError("INTERNAL", `preparing ${part.length} images gave ${prepared.length} values, not ${part.length * per}`);
      }
      part.forEach((index, j) => {
        for (let k = 0; k < per; k++) out[index * per + k] = Math.round(prepared[j * per + k] * 255);
      });
    }
  }
  return out;
}

/**
 * Bytes and labels for the wasm module, checked against the model's input shape. A dataset of
 * `{ images: [image, …], labels }` (any sizes) has its images prepared by `prepare`.
 */
export async function toDataset(
  dataset: Dataset,
  inputShape: readonly number[],
  name: string,
  prepare: Prepare,
): Promise<{ images: Uint8Array; labels: Uint8Array }> {
  const list = imageList(dataset, inputShape, name);
  if (list) return { images: await preparedList(list.images, inputShape, prepare), labels: list.labels };
  const shape = dims(field(dataset, "shape", `${name}.shape`), [3], MAX_SIDE, `${name}.shape`, "channels, height, width");
  if (shape.some((d, i) => d !== inputShape[i])) {
    throw badInput(
      `${name} images are ${JSON.stringify(shape)} but the model reads ${JSON.stringify(inputShape)}; resize them first, or pass { images: [image, …], labels } to have them prepared`,
    );
  }
  const per = shape[0] * shape[1] * shape[2];
  const labels = toLabels(field(dataset, "labels", `${name}.labels`), name, MAX_DATASET_BYTES / per);
  if (labels.length === 0) throw badInput(`${name} is empty`);
  const images = typedArray(field(dataset, "images", `${name}.images`), ["Uint8Array", "Uint8ClampedArray", "Float32Array"], `${name}.images`, MAX_DATASET_BYTES);
  if (images.length !== labels.length * per) {
    throw badInput(
      `${name}.images holds ${images.length} values, which do not make ${labels.length} images of ${JSON.stringify(shape)} (${per} each)`,
    );
  }
  let pixels: Uint8Array;
  if (images instanceof Float32Array) {
    pixels = mine(new Uint8Array(images.length));
    for (let i = 0; i < images.length; i++) {
      const v = images[i];
      if (!Number.isFinite(v)) throw badInput(`${name}.images[${i}] is ${v}; pixels must be finite numbers`);
      pixels[i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  } else {
    pixels = images;
  }
  return { images: pixels, labels };
}

/** A dataset's labels, checked and copied: bytes, or an array of whole numbers 0–255 (at most `max`). */
function toLabels(rawLabels: unknown, name: string, max: number): Uint8Array {
  let labels: Uint8Array;
  if (typedKind(rawLabels) !== undefined) {
    const kind = typedKind(rawLabels);
    if (kind !== "Uint8Array" && kind !== "Uint8ClampedArray") {
      throw bad(`${name}.labels`, "a Uint8Array or an array of whole numbers from 0 to 255", rawLabels);
    }
    labels = mine(Uint8Array.from(typedArray(rawLabels, ["Uint8Array", "Uint8ClampedArray"], `${name}.labels`, max)));
  } else if (Array.isArray(rawLabels)) {
    labels = reading(`${name}.labels`, () => {
      const length = rawLabels.length;
      if (length > max) throw badInput(`${name} has ${length} labels; at most ${Math.floor(max)} images of this size fit the limit of ${MAX_DATASET_BYTES} bytes`);
      const out = mine(new Uint8Array(length));
      for (let i = 0; i < length; i++) {
        const l = rawLabels[i] as unknown;
        if (typeof l !== "number" || !Number.isInteger(l) || l < 0 || l > 255) {
          throw bad(`${name}.labels[${i}]`, "a whole number from 0 to 255", l);
        }
        out[i] = l;
      }
      return out;
    });
  } else {
    throw bad(`${name}.labels`, "a Uint8Array or an array of whole numbers from 0 to 255", rawLabels);
  }
  return labels;
}
