/**
 * Encoded images — a `Blob`/`File`, or the bytes of a PNG or JPEG file — decoded into pixels
 * before the synchronous conversions of js/input.ts: in browsers by the browser
 * (`createImageBitmap`), in Node by the platform's decoders (pngjs, jpeg-js).
 */

import { badInput } from "./errors.js";
import { MAX_VALUES, reading } from "./guard.js";
import { currentPlatform } from "./runtime.js";
import type { Dataset, ImageBatch, ImageInput, Pixels } from "./types.js";

/** The largest encoded file read (64 MiB). */
export const MAX_ENCODED_BYTES = 64 * 1024 * 1024;

/** Whether `value` is a Blob (a File is one). */
function isBlob(value: unknown): value is Blob {
  return typeof Blob !== "undefined" && value instanceof Blob;
}

/** The encoded format of `bytes`, from its first bytes. */
export function sniff(bytes: Uint8Array): "png" | "jpeg" | "gif" | "webp" | "bmp" | undefined {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "png";
  if (starts(0xff, 0xd8, 0xff)) return "jpeg";
  if (starts(0x47, 0x49, 0x46, 0x38)) return "gif";
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return "webp";
  if (starts(0x42, 0x4d)) return "bmp";
  return undefined;
}

/** Whether `value` is an encoded image this module decodes: a Blob, or bytes with an image signature. */
function isEncoded(value: unknown): value is Blob | Uint8Array | ArrayBuffer {
  if (isBlob(value)) return true;
  if (value instanceof ArrayBuffer) return sniff(new Uint8Array(value, 0, Math.min(12, value.byteLength))) !== undefined;
  if (value instanceof Uint8Array) return sniff(value) !== undefined;
  return false;
}

/** One encoded image → pixels `{ data, shape: [3, h, w] }` (scaled down as drawables are). */
async function decodeOne(value: Blob | Uint8Array | ArrayBuffer): Promise<Pixels> {
  const size = isBlob(value) ? value.size : value.byteLength;
  if (size > MAX_ENCODED_BYTES) throw badInput(`the encoded image is ${size} bytes; the limit is ${MAX_ENCODED_BYTES}`);
  const bytes = isBlob(value) ? new Uint8Array(await value.arrayBuffer()) : value instanceof ArrayBuffer ? new Uint8Array(value) : value;
  const format = sniff(bytes);
  if (!format) throw badInput(`the ${isBlob(value) ? "Blob" : "bytes"} are not an image file (PNG, JPEG, GIF, WebP or BMP)`);
  const decode = currentPlatform().decode;
  if (!decode) throw badInput("this platform cannot decode image files");
  const image = await decode(bytes, format);
  if (image.shape[0] * image.shape[1] * image.shape[2] > MAX_VALUES) throw badInput("the decoded image is larger than the limit");
  return image;
}

/** An input with its encoded images decoded (other inputs are returned as they are). */
export async function decoded<T extends ImageInput | ImageBatch>(input: T): Promise<T> {
  if (isEncoded(input)) return (await decodeOne(input)) as T;
  if (Array.isArray(input)) {
    const list = reading("the array of images", () => Array.from(input as unknown[]));
    if (!list.some(isEncoded)) return input;
    return (await Promise.all(list.map((i) => (isEncoded(i) ? decodeOne(i) : i)))) as T;
  }
  return input;
}

/** A dataset whose list of images holds encoded ones, with those decoded. */
export async function decodedDataset<T extends Dataset | undefined>(dataset: T): Promise<T> {
  if (typeof dataset !== "object" || dataset === null) return dataset;
  const images = reading("dataset.images", () => (dataset as { images?: unknown }).images);
  if (!Array.isArray(images)) return dataset;
  const labels = reading("dataset.labels", () => (dataset as { labels?: unknown }).labels);
  return { images: await decoded(images as ImageInput[]), labels } as T;
}
