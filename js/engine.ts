/**
 * The narrow waist between {@link Model} and the wasm module: an engine forwards the calls of the
 * wasm `Network` (its methods, whose TypeScript types wasm-bindgen generates from `src/web/`) by
 * name, in this thread (js/local.ts) or in a Web Worker (js/worker-client.ts → js/worker.ts).
 * Everything else — checking options, reading images, ranking classes, the queue, pause and
 * abort — happens once, in `Model`, on the calling side.
 */

import type { Network } from "./wasm/convlens_webgpu_train.js";
import type { BackendInfo, LoadProgress, ModelInfo, Normalise, Preprocess } from "./types.js";

type Callable = (...args: never[]) => unknown;

/** The methods of the wasm `Network` an engine forwards: all but those that end it or interrupt a run (see {@link Engine.signal}). */
export type Call = Exclude<
  { [K in keyof Network]: K extends string ? (Network[K] extends Callable ? K : never) : never }[keyof Network],
  "free" | "dispose" | "stop" | "pause"
>;

/** The arguments of a call, as the wasm `Network` takes them. */
export type Args<M extends Call> = Parameters<Network[M]>;

/** What a call resolves to. */
export type Reply<M extends Call> = Awaited<ReturnType<Network[M]>>;

/** A model's network on a backend, behind the calls of the wasm `Network`. */
export interface Engine {
  readonly backend: BackendInfo;
  /** The network as it was opened. */
  readonly info: ModelInfo;
  /**
   * Runs one call of the wasm `Network`; the engine moves the network into the training module
   * first when the call needs it (`fit`, `explain`…). Rejects with a `ConvlensError`.
   */
  call<M extends Call>(method: M, ...args: Args<M>): Promise<Reply<M>>;
  /**
   * Interrupts a training run before its next step: `"pause"` (it resolves to null; `resume`
   * continues) or `"stop"`. Asked before the run starts, it applies when the run starts.
   */
  signal(name: "pause" | "stop"): void;
  /** Frees the network once the calls in flight have settled; later calls reject with `DISPOSED`. */
  dispose(): void;
}

/** Where an engine's network comes from: checked by `Model.load` (file bytes read on its side). */
export type EngineSource =
  | { kind: "file"; bytes: Uint8Array; network?: NetworkOptions }
  | { kind: "shipped"; name: string; classes?: string[] }
  | { kind: "own"; architecture: string; weights?: Uint8Array; classes?: string[] };

/** How an ONNX network is read (a model file takes none of these). */
export interface NetworkOptions {
  labels?: string[];
  input?: Normalise;
  transfer?: boolean;
  cut?: string;
}

/** How an engine opens its network. */
export interface EngineOptions {
  backend: "auto" | "webgpu" | "cpu";
  preprocess?: Preprocess;
  /** The threaded CPU module's pool size (a worker's engine). */
  threads?: number;
}

/**
 * Opens an engine, in this thread or in a worker (the platform's), telling `onProgress` of the
 * shipped weights' download (`"weights"`) and of creating the network (`"backend"`).
 */
export type OpenEngine = (source: EngineSource, options: EngineOptions, onProgress: (event: LoadProgress) => void) => Promise<Engine>;
