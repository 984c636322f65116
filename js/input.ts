/** Images and datasets from JS values → the flat arrays the wasm module reads. */

import { badInput } from "./errors.js";
import type { Dataset, ImageBatch, ImageInput, Pixels } from "./types.js";

/** A drawable image is drawn at most this large before the network's own resize. */
const MAX_DRAW = 1024;

/** The most images one call reads (the wasm module's limit too). */
export const MAX_BATCH = 1024;

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

function isPixels(input: unknown): input is Pixels {
  return typeof input === "object" && input !== null && "data" in input && "shape" in input;
}

function isImageData(input: unknown): input is ImageData {
  return (
    typeof input === "object" &&
    input !== null &&
    "data" in input &&
    "width" in input &&
    "height" in input &&
    (input as ImageData).data instanceof Uint8ClampedArray
  );
}

function checkShape(shape: unknown): [number, number, number] {
  if (
    !Array.isArray(shape) ||
    shape.length !== 3 ||
    !shape.every((d) => Number.isInteger(d) && d > 0)
  ) {
    throw badInput(`shape must be [channels, height, width] of positive integers, got ${JSON.stringify(shape)}`);
  }
  return shape as [number, number, number];
}

/** RGBA bytes (as in ImageData) → RGB planes in [0, 1], composited over black. */
function fromRgba(rgba: Uint8ClampedArray, width: number, height: number): PlainImage {
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const alpha = rgba[4 * i + 3] / 255;
    for (let c = 0; c < 3; c++) data[c * plane + i] = (rgba[4 * i + c] / 255) * alpha;
  }
  return { data, shape: [3, height, width] };
}

/** Draws a canvas, bitmap or image element (scaled down to at most MAX_DRAW a side) and reads its pixels. */
function fromDrawable(source: CanvasImageSource & { width: number; height: number }): PlainImage {
  const natural = source as { naturalWidth?: number; naturalHeight?: number };
  const [w0, h0] = [natural.naturalWidth || source.width, natural.naturalHeight || source.height];
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
  if (isImageData(input)) return fromRgba(input.data, input.width, input.height);
  if (isPixels(input)) {
    const shape = checkShape(input.shape);
    return { data: floats(input.data), shape };
  }
  const drawable = input as CanvasImageSource & { width?: number; height?: number };
  if (
    typeof drawable === "object" &&
    drawable !== null &&
    typeof (drawable as { width?: unknown }).width === "number" &&
    ((typeof HTMLCanvasElement !== "undefined" && drawable instanceof HTMLCanvasElement) ||
      (typeof OffscreenCanvas !== "undefined" && drawable instanceof OffscreenCanvas) ||
      (typeof ImageBitmap !== "undefined" && drawable instanceof ImageBitmap) ||
      (typeof HTMLImageElement !== "undefined" && drawable instanceof HTMLImageElement))
  ) {
    return fromDrawable(drawable as CanvasImageSource & { width: number; height: number });
  }
  throw badInput(
    "input must be ImageData, a canvas, an ImageBitmap, an <img>, or { data, shape: [c, h, w] }",
  );
}

function floats(data: unknown): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return Float32Array.from(data, (v) => v / 255);
  throw badInput("data must be a Float32Array (0–1) or a Uint8Array (0–255)");
}

/**
 * One image or a batch (an array of images of one size, or `{ data, shape: [n, c, h, w] }`)
 * → float pixels `[n, c, h, w]`. Throws `BAD_INPUT` for anything else.
 */
export function toImages(input: ImageInput | ImageBatch): PlainImages {
  if (Array.isArray(input)) {
    if (input.length === 0) throw badInput("the array of images is empty");
    if (input.length > MAX_BATCH) throw badInput(`a batch holds at most ${MAX_BATCH} images, got ${input.length}`);
    const images = input.map((image) => toImage(image));
    const shape = images[0].shape;
    const per = shape[0] * shape[1] * shape[2];
    const data = new Float32Array(images.length * per);
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
  if (isPixels(input) && Array.isArray(input.shape) && (input.shape as unknown[]).length === 4) {
    const shape = input.shape as unknown[];
    if (!shape.every((d) => Number.isInteger(d) && (d as number) > 0)) {
      throw badInput(`shape must be [images, channels, height, width] of positive integers, got ${JSON.stringify(shape)}`);
    }
    const [n, c, h, w] = shape as [number, number, number, number];
    if (n > MAX_BATCH) throw badInput(`a batch holds at most ${MAX_BATCH} images, got ${n}`);
    if (input.data?.length !== n * c * h * w) {
      throw badInput(`shape ${JSON.stringify(shape)} needs ${n * c * h * w} values, got ${input.data?.length}`);
    }
    return { data: floats(input.data), shape: [n, c, h, w], batch: true };
  }
  const one = toImage(input as ImageInput);
  return { data: one.data, shape: [1, ...one.shape], batch: false };
}

/** What a worker is sent for {@link toImages}' result: a batch, or one image as it came. */
export function wireImages(images: PlainImages): Pixels | { data: Float32Array; shape: number[] } {
  return { data: images.data, shape: images.batch ? images.shape : images.shape.slice(1) };
}

/** Bytes and labels for the wasm module, checked against the model's input shape. */
export function toDataset(
  dataset: Dataset,
  inputShape: readonly number[],
): { images: Uint8Array; labels: Uint8Array } {
  if (typeof dataset !== "object" || dataset === null) throw badInput("a dataset is { images, labels, shape }");
  const shape = checkShape(dataset.shape);
  if (shape.some((d, i) => d !== inputShape[i])) {
    throw badInput(
      `dataset images are ${JSON.stringify(shape)} but the model reads ${JSON.stringify(inputShape)}; resize them first`,
    );
  }
  const per = shape[0] * shape[1] * shape[2];
  const labels = Array.from(dataset.labels ?? []);
  if (labels.length === 0) throw badInput("the dataset is empty");
  if (!labels.every((l) => Number.isInteger(l) && l >= 0 && l < 256)) {
    throw badInput("labels must be whole numbers from 0 to 255");
  }
  const { images } = dataset;
  if (!images || images.length !== labels.length * per) {
    throw badInput(
      `${images?.length ?? 0} pixel values do not make ${labels.length} images of ${JSON.stringify(shape)} (${per} each)`,
    );
  }
  let bytes: Uint8Array;
  if (images instanceof Float32Array) {
    bytes = new Uint8Array(images.length);
    for (let i = 0; i < images.length; i++) {
      const v = images[i];
      if (!Number.isFinite(v)) throw badInput(`pixel ${i} is ${v}; pixels must be finite numbers`);
      bytes[i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  } else if (images instanceof Uint8Array || images instanceof Uint8ClampedArray) {
    bytes = images instanceof Uint8Array ? images : new Uint8Array(images);
  } else {
    throw badInput("images must be a Uint8Array (0–255) or a Float32Array (0–1)");
  }
  return { images: bytes, labels: Uint8Array.from(labels) };
}
