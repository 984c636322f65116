/**
 * Loading convlens's wasm modules, each once, on whatever platform the entry point described.
 * There are four, one per backend × (inference, training): a model starts on the inference
 * module of its backend (the first download), and its first `fit()` fetches the training module
 * (autodiff, Adam, the training loop) of the same backend. A fifth, `cpu_threads`, replaces both
 * CPU modules where wasm threads can run (`threadsUsable`).
 */

import type * as Inference from "./wasm/convlens_cpu.js";
import type * as Training from "./wasm/convlens_webgpu_train.js";
import type * as Threaded from "./wasm/convlens_cpu_threads.js";
import { ConvlensError } from "./errors.js";
import type { Pixels } from "./types.js";
import type { OpenEngine } from "./engine.js";

/** What differs between browsers and Node: how bytes are fetched, and workers. */
export interface Platform {
  /** A wasm module for wasm-bindgen's `init` (a URL in browsers, bytes in Node). */
  wasm(module: WasmModule): Promise<URL | BufferSource>;
  /** A shipped file in the package's `weights/` folder. */
  weights(file: string, onProgress?: (loaded: number, total?: number) => void): Promise<Uint8Array>;
  /** Opens a model's engine in a Web Worker, where there are workers. */
  worker?: OpenEngine;
  /** A URL's bytes, with byte progress (a model file). */
  fetch(url: URL, onProgress?: (loaded: number, total?: number) => void): Promise<Uint8Array>;
  /** Decodes an image file's bytes (`format` from its signature) into pixels `[3, h, w]`. */
  decode?(bytes: Uint8Array, format: string): Promise<Pixels>;
  /** Whether this platform can start wasm-bindgen-rayon's pool (browsers: Web Workers). */
  threads?: boolean;
}

/** The backend a module is built for (every module also has the CPU backend). */
export type ModuleBackend = "cpu" | "webgpu";
/**
 * `cpu`, `webgpu`: inference (classify, feature maps, evaluate); `…_train`: all that and `fit`;
 * `cpu_threads`: the CPU backend with training, its kernels on a pool of Web Workers.
 */
export type WasmModule = ModuleBackend | `${ModuleBackend}_train` | "cpu_threads";
/** What is called of every module's bindings (wasm-bindgen's `init` and the exports). */
export type Bindings = Pick<typeof Inference, "Network" | "pretrained" | "architectures" | "datasets" | "webgpuAdapter"> & {
  default(options: { module_or_path: URL | BufferSource }): Promise<unknown>;
  /** A fresh instance of the compiled module (wasm-bindgen's `--experimental-reset-state-function`). */
  __wbg_reset_state?: () => void;
};
/** The same for a training module, whose `Network` can `fit`. */
export type TrainingBindings = Omit<Bindings, "Network"> & Pick<typeof Training, "Network">;

/** The bindings of each module, imported only when that module is first needed. */
const BINDINGS: Record<WasmModule, () => Promise<Bindings | TrainingBindings>> = {
  cpu: () => import("./wasm/convlens_cpu.js"),
  webgpu: () => import("./wasm/convlens_webgpu.js"),
  cpu_train: () => import("./wasm/convlens_cpu_train.js"),
  webgpu_train: () => import("./wasm/convlens_webgpu_train.js"),
  cpu_threads: () => import("./wasm/convlens_cpu_threads.js"),
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
 * project): convlens's modules are built with `+simd128`, which an engine without WebAssembly
 * SIMD refuses to compile. There is no module without SIMD: Burn's CPU kernels come with gemm's
 * simd128 kernels whatever the target features say (README, "Size and speed").
 */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** Whether this engine has WebAssembly SIMD (Chrome/Edge 91+, Firefox 89+, Safari 16.4+, Node 16.4+). */
function simdAvailable(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

/** Imports a module's bindings and instantiates its wasm; rejects with `BACKEND` saying why. */
async function instantiate(module: WasmModule): Promise<Bindings | TrainingBindings> {
  if (typeof WebAssembly !== "object" || !simdAvailable()) {
    throw new ConvlensError(
      "BACKEND",
      "this JavaScript engine has no WebAssembly SIMD, which convlens needs: use Chrome or Edge 91+, Firefox 89+, Safari 16.4+ or Node 16.4+",
    );
  }
  try {
    const bindings = await BINDINGS[module]();
    await bindings.default({ module_or_path: await currentPlatform().wasm(module) });
    if (module === "cpu_threads") {
      await (bindings as unknown as Pick<typeof Threaded, "initThreadPool">).initThreadPool(poolSize());
    }
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

/**
 * The smallest module that uses shared memory and an atomic instruction: it compiles only where
 * the engine has WebAssembly threads.
 */
const THREADS_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0,
  26, 11,
]);

let threadsWanted: number | undefined;

/** The `threads` load option (worker mode: each model's worker has its own modules). */
export function setThreads(threads: number | undefined): void {
  threadsWanted = threads;
}

/** Threads for the pool: the option, else the number of logical processors. */
function poolSize(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return threadsWanted ?? Math.max(1, Math.min(256, cores ?? 1));
}

/**
 * Whether the CPU backend runs on `cpu_threads`: with more than one thread wanted, where its pool
 * can start (a platform with Web Workers), inside a worker (the pool's threads block while they
 * wait, which a page's main thread may not; so in practice `Model.load(…, { worker: true })`), on
 * a cross-origin isolated page (SharedArrayBuffer) whose engine has WebAssembly threads and SIMD.
 */
export function threadsUsable(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean; document?: unknown; WorkerGlobalScope?: unknown };
  return (
    poolSize() > 1 &&
    currentPlatform().threads === true &&
    g.crossOriginIsolated === true &&
    g.document === undefined &&
    g.WorkerGlobalScope !== undefined &&
    typeof SharedArrayBuffer === "function" &&
    typeof WebAssembly === "object" &&
    simdAvailable() &&
    WebAssembly.validate(THREADS_PROBE)
  );
}

/** The module the CPU backend runs on: `cpu_threads` where threads are usable (it has training), else `cpu` or `cpu_train`. */
function cpuModule(training: boolean): WasmModule {
  if (threadsUsable()) return "cpu_threads";
  return training ? "cpu_train" : "cpu";
}

/** The inference module of `backend`. */
export function runtime(backend: ModuleBackend): Promise<Bindings> {
  return load(backend === "cpu" ? cpuModule(false) : backend);
}

/** The training module of `backend` (fetched on the first `fit()`). */
export function trainingRuntime(backend: ModuleBackend): Promise<TrainingBindings> {
  return load(backend === "cpu" ? cpuModule(true) : "webgpu_train") as Promise<TrainingBindings>;
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

/** How many times each module's instance was restarted after a trap. */
const restarts = new WeakMap<object, number>();

/** The instance generation of `bindings`: a model created in another one is gone. */
export function generation(bindings: object): number {
  return restarts.get(bindings) ?? 0;
}

/**
 * If `err` is a trap of the WebAssembly instance (a Rust panic, or any `RuntimeError`), which
 * leaves that instance unusable for every model in it: restarts the instance (a fresh one from the
 * same compiled module, so the next call works) and returns the `INTERNAL` error to reject with.
 */
export function recover(bindings: Bindings | TrainingBindings, err: unknown): ConvlensError | undefined {
  if (!(typeof WebAssembly === "object" && err instanceof WebAssembly.RuntimeError)) return undefined;
  restarts.set(bindings, generation(bindings) + 1);
  let restarted = false;
  try {
    bindings.__wbg_reset_state?.();
    restarted = bindings.__wbg_reset_state !== undefined;
  } catch {
    restarted = false;
  }
  return new ConvlensError(
    "INTERNAL",
    `convlens's WebAssembly instance stopped (${err.message})${restarted ? "; it was restarted, so load your models again" : "; reload the page"}`,
    { cause: err },
  );
}
