/**
 * The Web Worker behind `Model.load(…, { worker: true })`: it hosts one engine (js/local.ts) and
 * forwards the page's calls to it through Comlink (js/rpc.ts), by name — nothing here knows the
 * API's methods. Arrays in results that the wasm module made are transferred, not copied. Not
 * meant to be imported directly.
 */

import { Comlink } from "./rpc.js";
import { ConvlensError } from "./errors.js";
import { browserPlatform } from "./browser.js";
import { openLocal } from "./local.js";
import { setPlatform } from "./runtime.js";
import type { Args, Call, Engine, EngineOptions, EngineSource } from "./engine.js";
import type { BackendInfo, LoadProgress, ModelInfo } from "./types.js";

setPlatform(browserPlatform);

let engine: Engine | undefined;

function need(): Engine {
  if (!engine) throw new ConvlensError("DISPOSED", "the worker has no model");
  return engine;
}

/** A callback on the page, as the worker holds it: a Comlink proxy, whose calls post a message and return a promise of its reply. */
type Remote = ((...args: unknown[]) => Promise<unknown>) & Partial<Record<typeof Comlink.releaseProxy, () => void>>;

/**
 * The page's callbacks of a paused training run (its stream's pull, its events): the network
 * goes on with them on `resume`, so their ports stay open until the run ends.
 */
const held: Remote[] = [];

function release(remotes: Remote[]): void {
  for (const remote of remotes) remote[Comlink.releaseProxy]?.();
}

/**
 * Runs `work` with the page's callbacks in `args` wrapped so that the answer waits for each one's
 * last reply: a callback's messages travel on a port of their own, so without this the result
 * could overtake the events. The callbacks' ports are closed afterwards, unless `paused` says
 * of the result that a training run was paused (then when the run ends).
 */
async function withCallbacks<T>(args: unknown[], work: (args: unknown[]) => Promise<T>, paused: (result: T) => boolean = () => false): Promise<T> {
  const replies: Promise<unknown>[] = [];
  const remotes = args.filter((a): a is Remote => typeof a === "function");
  const wrapped = args.map((arg, i) => {
    if (typeof arg !== "function") return arg;
    return (...a: unknown[]) => {
      const reply = (arg as Remote)(...a);
      replies[i] = reply.catch(() => {});
      return reply;
    };
  });
  let keep = false;
  try {
    const result = await work(wrapped);
    await Promise.all(replies);
    keep = paused(result);
    return result;
  } finally {
    if (keep) held.push(...remotes);
    else release(remotes);
  }
}

/** The calls that start or continue a training run: null is a paused run. */
const RUNS: ReadonlySet<Call> = new Set<Call>(["fit", "fitStream", "resume"]);

/** The typed arrays in a result (nested in arrays and plain objects, a few levels deep). */
function views(value: unknown, out: ArrayBufferView[] = [], depth = 0): ArrayBufferView[] {
  if (ArrayBuffer.isView(value)) out.push(value);
  else if (depth < 4 && typeof value === "object" && value !== null) {
    for (const v of Array.isArray(value) ? value : Object.values(value)) views(v, out, depth + 1);
  }
  return out;
}

/**
 * The buffers of a result that may be transferred: each array's own whole `ArrayBuffer` (copies
 * out of wasm memory), never a view into a larger one such as the memory itself.
 */
function transferable(result: unknown): ArrayBuffer[] {
  const buffers = views(result)
    .filter((a) => a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength)
    .map((a) => a.buffer as ArrayBuffer);
  return [...new Set(buffers)];
}

const api = {
  async open(source: EngineSource, options: EngineOptions, onProgress: (event: LoadProgress) => unknown): Promise<{ backend: BackendInfo; info: ModelInfo }> {
    return withCallbacks([onProgress], async ([progress]) => {
      engine = await openLocal(source, options, progress as (event: LoadProgress) => void);
      return { backend: engine.backend, info: engine.info };
    });
  },
  async call(method: Call, ...args: unknown[]): Promise<unknown> {
    const run = RUNS.has(method);
    // A new run, or the paused one going on: the callbacks held for a run that ended go.
    if (run && method !== "resume") release(held.splice(0));
    let result: unknown;
    try {
      result = await withCallbacks(args, (wrapped) => need().call(method, ...(wrapped as Args<Call>)), (r) => run && r === null);
    } catch (err) {
      if (run) release(held.splice(0));
      throw err;
    }
    if (run && result !== null) release(held.splice(0));
    return typeof result === "object" && result !== null ? Comlink.transfer(result, transferable(result)) : result;
  },
  signal(name: "pause" | "stop"): void {
    engine?.signal(name);
  },
  dispose(): void {
    engine?.dispose();
    engine = undefined;
    release(held.splice(0));
  },
};

/** What the worker exposes (the proxy's view of it). */
export type WorkerApi = typeof api;

Comlink.expose(api);
