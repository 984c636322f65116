/** Loading the wasm module once, on whatever platform the entry point described. */

import init, * as wasm from "./wasm/convlens.js";
import { ConvlensError } from "./errors.js";
import type { LoadOptions, ModelSource } from "./types.js";
import type { ConvlensModel } from "./model.js";

/** What differs between browsers and Node: how bytes are fetched, and workers. */
export interface Platform {
  /** The wasm module for wasm-bindgen's `init` (a URL in browsers, bytes in Node). */
  wasm(): Promise<URL | BufferSource>;
  /** A shipped file in the package's `weights/` folder. */
  weights(file: string, onProgress?: (loaded: number, total?: number) => void): Promise<Uint8Array>;
  /** Loads the model in a Web Worker, where there are workers. */
  worker?(source: ModelSource, options: LoadOptions): Promise<ConvlensModel>;
}

let platform: Platform | undefined;
let ready: Promise<typeof wasm> | undefined;

export function setPlatform(p: Platform): void {
  platform = p;
}

export function currentPlatform(): Platform {
  if (!platform) throw new ConvlensError("INTERNAL", "convlens was imported without an entry point");
  return platform;
}

/**
 * The smallest module that uses a 128-bit SIMD instruction (the probe of the wasm-feature-detect
 * project): convlens's module is built with `+simd128`, which an engine without WebAssembly SIMD
 * refuses to compile.
 */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** The initialised wasm bindings (loaded on first use, shared afterwards). */
export function runtime(): Promise<typeof wasm> {
  ready ??= (async () => {
    if (typeof WebAssembly !== "object" || !WebAssembly.validate(SIMD_PROBE)) {
      ready = undefined;
      throw new ConvlensError(
        "BACKEND",
        "this JavaScript engine has no WebAssembly SIMD, which convlens needs: use Chrome or Edge 91+, Firefox 89+, Safari 16.4+ or Node 16.4+",
      );
    }
    try {
      await init({ module_or_path: await currentPlatform().wasm() });
      return wasm;
    } catch (err) {
      ready = undefined;
      throw new ConvlensError(
        "BACKEND",
        `could not load convlens's WebAssembly module: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  })();
  return ready;
}
