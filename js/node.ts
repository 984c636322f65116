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
import { ConvlensError } from "./errors.js";
import { setPlatform } from "./runtime.js";

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
});

export { Model } from "./model.js";
export type { ConvlensModel } from "./model.js";
export { backends, pretrained, architectures, datasets } from "./catalog.js";
export { ConvlensError } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export type * from "./types.js";
