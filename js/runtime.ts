/**
 * Loading convlens's wasm modules, each once, on whatever platform the entry point described.
 * There are four, one per backend × (inference, training): a model starts on the inference
 * module of its backend (the first download), and its first `fit()` fetches the training module
 * (autodiff, Adam, the training loop) of the same backend.
 */

import type * as Inference from "./wasm/convlens_cpu.js";
import type * as Training from "./wasm/convlens_webgpu_train.js";
import { ConvlensError } from "./errors.js";
import type { LoadOptions, ModelSource } from "./types.js";
import type { ConvlensModel } from "./model.js";

/** What differs between browsers and Node: how bytes are fetched, and workers. */
export interface Platform {
  /** A wasm module for wasm-bindgen's `init` (a URL in browsers, bytes in Node). */
  wasm(module: WasmModule): Promise<URL | BufferSource>;
  /** A shipped file in the package's `weights/` folder. */
  weights(file: string, onProgress?: (loaded: number, total?: number) => void): Promise<Uint8Array>;
  /** Loads the model in a Web Worker, where there are workers. */
  worker?(source: ModelSource, options: LoadOptions): Promise<ConvlensModel>;
}

/** The backend a module is built for (every module also has the CPU backend). */
export type ModuleBackend = "cpu" | "webgpu";
/** `cpu`, `webgpu`: inference (classify, feature maps, evaluate); `…_train`: all that and `fit`. */
export type WasmModule = ModuleBackend | `${ModuleBackend}_train`;
/** What is called of every module's bindings (wasm-bindgen's `init` and the exports). */
export type Bindings = Pick<typeof Inference, "Network" | "pretrained" | "architectures" | "webgpuAdapter"> & {
  default(options: { module_or_path: URL | BufferSource }): Promise<unknown>;
};
/** The same for a training module, whose `Network` can `fit`. */
export type TrainingBindings = Omit<Bindings, "Network"> & Pick<typeof Training, "Network">;

/** The bindings of each module, imported only when that module is first needed. */
const BINDINGS: Record<WasmModule, () => Promise<Bindings | TrainingBindings>> = {
  cpu: () => import("./wasm/convlens_cpu.js"),
  webgpu: () => import("./wasm/convlens_webgpu.js"),
  cpu_train: () => import("./wasm/convlens_cpu_train.js"),
  webgpu_train: () => import("./wasm/convlens_webgpu_train.js"),
};

let platform: Platform | undefined;
const loaded = new Map<WasmModule, Promise<Bindings | TrainingBindings>>();

export function setPlatform(p: Platform): void {
  platform = p;
}

export function currentPlatform(): Platform {
  if (!platform) throw new ConvlensError("INTERNAL", "convlens was imported without an entry point");
  return platform;
}

/**
 * The smallest module that uses a 128-bit SIMD instruction (the probe of the wasm-feature-detect
 * project): convlens's modules are built with `+simd128`, which an engine without WebAssembly SIMD
 * refuses to compile.
 */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** Imports a module's bindings and instantiates its wasm; rejects with `BACKEND` saying why. */
async function instantiate(module: WasmModule): Promise<Bindings | TrainingBindings> {
  if (typeof WebAssembly !== "object" || !WebAssembly.validate(SIMD_PROBE)) {
    throw new ConvlensError(
      "BACKEND",
      "this JavaScript engine has no WebAssembly SIMD, which convlens needs: use Chrome or Edge 91+, Firefox 89+, Safari 16.4+ or Node 16.4+",
    );
  }
  try {
    const bindings = await BINDINGS[module]();
    await bindings.default({ module_or_path: await currentPlatform().wasm(module) });
    return bindings;
  } catch (err) {
    throw new ConvlensError(
      "BACKEND",
      `could not load convlens's WebAssembly module "${module}": ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/** A module's initialised bindings: fetched and compiled on first use, shared afterwards. */
function load(module: WasmModule): Promise<Bindings | TrainingBindings> {
  let ready = loaded.get(module);
  if (!ready) {
    ready = instantiate(module).catch((err) => {
      loaded.delete(module);
      throw err;
    });
    loaded.set(module, ready);
  }
  return ready;
}

/** The inference module of `backend`. */
export function runtime(backend: ModuleBackend): Promise<Bindings> {
  return load(backend);
}

/** The training module of `backend` (fetched on the first `fit()`). */
export function trainingRuntime(backend: ModuleBackend): Promise<TrainingBindings> {
  return load(`${backend}_train`) as Promise<TrainingBindings>;
}

/**
 * A module for what needs no model (the catalog: backends, shipped models, architectures): one
 * already loaded or loading, else the smallest (the CPU inference module).
 */
export function anyRuntime(): Promise<Bindings> {
  return loaded.values().next().value ?? runtime("cpu");
}

/** The part of `navigator.gpu` read here. */
interface GpuLike {
  requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean } | null>;
}

/**
 * The backend whose inference module `Model.load` fetches for a backend request: WebGPU's when
 * WebGPU is asked for by name, or for `"auto"` when there is a hardware adapter — the rule of
 * `select` in `src/device.rs`, applied here only to choose which file to fetch. The module then
 * selects for itself, so were the two ever to disagree the model would still load (on the CPU
 * with a reason, or with a larger download than needed).
 */
export async function moduleFor(request: unknown): Promise<ModuleBackend> {
  if (request === "webgpu") return "webgpu";
  if (request !== "auto") return "cpu";
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!gpu) return "cpu";
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return "cpu";
    const fallback = adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
    return fallback ? "cpu" : "webgpu";
  } catch {
    return "cpu";
  }
}
