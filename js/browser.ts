/** The browser platform: fetch for the wasm module and the shipped weights. */

import { ConvlensError, badInput } from "./errors.js";
import { toImage } from "./input.js";
import { cachedBytes, fetchBytes } from "./fetch.js";
import type { Platform, WasmModule } from "./runtime.js";

/** Shipped weights, one static URL each so that bundlers copy them. */
const WEIGHTS: Record<string, () => URL> = {
  "lenet5-mnist.bpk": () => new URL("../weights/lenet5-mnist.bpk", import.meta.url),
  "vin-fashion.bpk": () => new URL("../weights/vin-fashion.bpk", import.meta.url),
  "efficientnet-lite0-imagenet.bpk": () => new URL("../weights/efficientnet-lite0-imagenet.bpk", import.meta.url),
};

/** The wasm modules, one static URL each for the same reason. */
const MODULES: Record<WasmModule, () => URL> = {
  cpu: () => new URL("./wasm/convlens_cpu_bg.wasm", import.meta.url),
  webgpu: () => new URL("./wasm/convlens_webgpu_bg.wasm", import.meta.url),
  cpu_train: () => new URL("./wasm/convlens_cpu_train_bg.wasm", import.meta.url),
  webgpu_train: () => new URL("./wasm/convlens_webgpu_train_bg.wasm", import.meta.url),
  cpu_threads: () => new URL("./wasm/convlens_cpu_threads_bg.wasm", import.meta.url),
};

/** Fetches the wasm modules and the weights from the package's files, relative to this module. */
export const browserPlatform: Platform = {
  wasm: async (module) => MODULES[module](),
  threads: true,
  weights: (file, onProgress) => {
    const url = WEIGHTS[file];
    if (!url) throw new ConvlensError("NOT_FOUND", `no shipped weights file ${file}`);
    // Kept in Cache Storage: a second visit loads offline.
    return cachedBytes(url(), onProgress);
  },
  fetch: fetchBytes,
  decode: async (bytes, format) => {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: `image/${format}` }));
    } catch (err) {
      throw badInput(`the ${format.toUpperCase()} image could not be decoded: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      return toImage(bitmap);
    } finally {
      bitmap.close();
    }
  },
};
