/**
 * convlens for Node ≥ 20: the same API on the CPU backend, reading the wasm module and the
 * shipped weights from the package's files.
 *
 * @example
 * import { Model } from "convlens";
 * const model = await Model.load("lenet5-mnist");
 * model.backend.name; // "cpu"
 */

import { readFile } from "node:fs/promises";
import { fetchBytes } from "./fetch.js";
import { ConvlensError, badInput } from "./errors.js";
import { MAX_DRAW, fromRgba } from "./input.js";
import { setPlatform } from "./runtime.js";
import type { Pixels } from "./types.js";

/** A decoder package, imported when first needed (a dependency of this package). */
async function decoder<T>(name: string): Promise<T> {
  const module = (await import(name)) as { default?: T };
  return (module.default ?? module) as T;
}

interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/** PNG (pngjs) and JPEG (jpeg-js) bytes → pixels, scaled down as the browser's drawables are (MAX_DRAW). */
async function decode(bytes: Uint8Array, format: string): Promise<Pixels> {
  let image: Rgba;
  try {
    if (format === "png") {
      const { PNG } = await decoder<{ PNG: { sync: { read(b: Uint8Array): Rgba } } }>("pngjs");
      image = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } else if (format === "jpeg") {
      const jpeg = await decoder<{ decode(b: Uint8Array, o: object): Rgba }>("jpeg-js");
      image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 256, maxMemoryUsageInMB: 1024 });
    } else {
      throw badInput(`Node decodes PNG and JPEG files; this is ${format.toUpperCase()}`);
    }
  } catch (err) {
    if (err instanceof ConvlensError) throw err;
    throw badInput(`the ${format.toUpperCase()} image could not be decoded: ${err instanceof Error ? err.message : String(err)}`);
  }
  return fromRgba(image.data, image.width, image.height, MAX_DRAW);
}

async function read(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const bytes = await readFile(url);
    return new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  } catch (err) {
    throw new ConvlensError("NOT_FOUND", `could not read ${url.pathname}: ${String(err)}`, { cause: err });
  }
}

setPlatform({
  wasm: (module) => read(new URL(`./wasm/convlens_${module}_bg.wasm`, import.meta.url)),
  weights: async (file, onProgress) => {
    const bytes = await read(new URL(`../weights/${file}`, import.meta.url));
    onProgress?.(bytes.length, bytes.length);
    return bytes;
  },
  decode,
  // file: URLs from the disk; others through fetch.
  fetch: async (url, onProgress) => {
    if (url.protocol !== "file:") return fetchBytes(url, onProgress);
    const bytes = await read(url);
    onProgress?.(bytes.length, bytes.length);
    return bytes;
  },
});

export { Model } from "./model.js";
export type { ConvlensModel } from "./model.js";
export { backends, pretrained, architectures, datasets } from "./catalog.js";
export { ConvlensError } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export type * from "./types.js";
