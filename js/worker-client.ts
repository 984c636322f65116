/**
 * `Model.load(…, { worker: true })`: the model's engine in a Web Worker (js/worker.ts), reached
 * through Comlink (js/rpc.ts). Every call is forwarded by name: the page's callbacks as proxies,
 * the arrays that convlens made on this side (conversions, copies) transferred, the caller's own
 * copied. Checking and converting happen once, in `Model`, before a call gets here.
 */

import { Comlink } from "./rpc.js";
import { ConvlensError, fromWasm } from "./errors.js";
import { ownBuffers } from "./input.js";
import type { WorkerApi } from "./worker.js";
import type { Args, Call, Engine, OpenEngine, Reply } from "./engine.js";
import type { BackendInfo, ModelInfo } from "./types.js";

type Reject = (err: ConvlensError) => void;

/** A call's failure as a ConvlensError: the worker's arrive as one (js/rpc.ts); a value the
 * browser cannot post (`DataCloneError`) is the caller's `BAD_INPUT`. */
function posting(err: unknown): ConvlensError {
  if (err instanceof ConvlensError) return err;
  if ((err as { name?: unknown })?.name === "DataCloneError") {
    return new ConvlensError("BAD_INPUT", `a value could not be sent to the worker: ${(err as Error).message}`, { cause: err });
  }
  return fromWasm(err);
}

/** The typed arrays in a value (nested in arrays and plain objects, a few levels deep). */
function views(value: unknown, out: ArrayBufferView[] = [], depth = 0): ArrayBufferView[] {
  if (ArrayBuffer.isView(value)) out.push(value);
  else if (depth < 3 && typeof value === "object" && value !== null && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)) {
    for (const v of Array.isArray(value) ? value : Object.values(value)) views(v, out, depth + 1);
  }
  return out;
}

/** `value` as posted: with the buffers this side made transferred. */
function posted<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  const buffers = ownBuffers(...views(value));
  return buffers.length > 0 ? Comlink.transfer(value, buffers) : value;
}

/** A callback of this side as the worker calls it: a Comlink proxy whose replies carry this side's arrays transferred. */
function callback(fn: (...args: unknown[]) => unknown): unknown {
  return Comlink.proxy(async (...args: unknown[]) => posted(await fn(...args)));
}

class WorkerEngine implements Engine {
  #worker: Worker | null;
  #remote: Comlink.Remote<WorkerApi>;
  /** The calls in flight: settled here when the worker fails or the engine is disposed. */
  #inflight = new Set<Reject>();
  backend!: BackendInfo;
  info!: ModelInfo;

  constructor(worker: Worker) {
    this.#worker = worker;
    this.#remote = Comlink.wrap<WorkerApi>(worker);
    worker.addEventListener("error", (e) => {
      this.#interrupt(new ConvlensError("INTERNAL", `the convlens worker failed: ${e.message}`));
    });
  }

  #interrupt(err: ConvlensError): void {
    for (const reject of this.#inflight) reject(err);
    this.#inflight.clear();
  }

  /** Runs one request on the worker, unless disposed; settles if the worker fails. */
  #request<T>(work: (remote: Comlink.Remote<WorkerApi>) => Promise<T>): Promise<T> {
    if (!this.#worker) return Promise.reject(new ConvlensError("DISPOSED", "this model was disposed; load a new one"));
    return new Promise<T>((resolve, reject) => {
      this.#inflight.add(reject);
      work(this.#remote)
        .then(resolve, (err: unknown) => reject(posting(err)))
        .finally(() => this.#inflight.delete(reject));
    });
  }

  async open(...[source, options, onProgress]: Parameters<OpenEngine>): Promise<void> {
    const opened = await this.#request((remote) =>
      remote.open(posted(source), options, Comlink.proxy(onProgress)),
    );
    this.backend = opened.backend;
    this.info = opened.info;
  }

  call<M extends Call>(method: M, ...args: Args<M>): Promise<Reply<M>> {
    const wired = (args as unknown[]).map((arg) =>
      typeof arg === "function" ? callback(arg as (...a: unknown[]) => unknown) : posted(arg),
    );
    return this.#request((remote) => remote.call(method, ...wired) as Promise<Reply<M>>);
  }

  signal(name: "pause" | "stop"): void {
    void this.#request((remote) => remote.signal(name)).catch(() => {});
  }

  dispose(): void {
    const worker = this.#worker;
    if (!worker) return;
    const remote = this.#remote;
    this.#worker = null;
    remote
      .dispose()
      .catch(() => {})
      .finally(() => {
        remote[Comlink.releaseProxy]();
        worker.terminate();
        // Calls still in flight when the worker goes (their replies never come) settle here.
        this.#interrupt(new ConvlensError("DISPOSED", "this model was disposed while the call ran"));
      });
  }
}

/** Starts a worker and opens the engine there. */
export const openInWorker: OpenEngine = async (source, options, onProgress) => {
  const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  const engine = new WorkerEngine(worker);
  try {
    await engine.open(source, options, onProgress);
    return engine;
  } catch (err) {
    worker.terminate();
    throw err;
  }
};
