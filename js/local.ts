/**
 * The engine in this thread: one wasm `Network`, which starts in the inference module of its
 * backend and moves into the training module on the first call that needs it (`fit`,
 * `explain`…). It restarts a trapped instance (js/runtime.ts `recover`) and frees the network
 * once the calls in flight have settled. A worker hosts one of these (js/worker.ts).
 */

import type { Network as InferenceNetwork } from "./wasm/convlens_cpu.js";
import type { Network as TrainingNetwork } from "./wasm/convlens_webgpu_train.js";
import { ConvlensError, fromWasm } from "./errors.js";
import { describe } from "./guard.js";
import { currentPlatform, generation, moduleFor, recover, runtime, setThreads, trainingRuntime } from "./runtime.js";
import type { Bindings, TrainingBindings } from "./runtime.js";
import type { Args, Call, Engine, OpenEngine, Reply } from "./engine.js";
import type { BackendInfo, LayerGeometry, ModelInfo, PretrainedInfo } from "./types.js";

/** A network of the inference module (what opening creates) or of the training module. */
type Network = InferenceNetwork | TrainingNetwork;

/** The calls that run training: a pause or stop asked while one starts applies to it. */
const RUNS: ReadonlySet<Call> = new Set<Call>(["fit", "fitStream", "resume"]);

/** What a network is, as `Model.info` says it. */
function describeNetwork(net: Network): ModelInfo {
  const { training } = net.description();
  return {
    architecture: net.architecture,
    inputShape: Array.from(net.inputShape) as [number, number, number],
    classes: net.labels,
    parameters: net.parameters,
    preprocess: net.preprocess,
    training,
    layers: net.layers as LayerGeometry[],
  };
}

export class LocalEngine implements Engine {
  #net: Network | null;
  /** The module `#net` lives in, and that module's instance generation when it was created. */
  #bindings: Bindings | TrainingBindings;
  #generation: number;
  /** The move into the training module, while it runs (calls that need it share it). */
  #moving: Promise<TrainingNetwork> | undefined;
  /** Signals asked while a training run is starting (applied when it starts). */
  #asked = { pause: false, stop: false, starting: false };
  #inflight = new Set<Promise<unknown>>();
  readonly backend: BackendInfo;
  readonly info: ModelInfo;

  constructor(net: Network, bindings: Bindings | TrainingBindings) {
    this.#net = net;
    this.#bindings = bindings;
    this.#generation = generation(bindings);
    this.backend = net.backend as BackendInfo;
    this.info = describeNetwork(net);
  }

  /** Whether `#net`'s instance was restarted after a trap (the network is gone with it). */
  #lost(): boolean {
    return generation(this.#bindings) !== this.#generation;
  }

  #current(): Network {
    if (!this.#net) throw new ConvlensError("DISPOSED", "this model was disposed; load a new one");
    if (this.#lost()) {
      throw new ConvlensError(
        "INTERNAL",
        "convlens's WebAssembly instance stopped during an earlier call and was restarted; this model was lost with it: load it again",
      );
    }
    return this.#net;
  }

  call<M extends Call>(method: M, ...args: Args<M>): Promise<Reply<M>> {
    const run = this.#invoke(method, args);
    this.#inflight.add(run);
    void run.catch(() => {}).finally(() => this.#inflight.delete(run));
    return run;
  }

  async #invoke<M extends Call>(method: M, args: Args<M>): Promise<Reply<M>> {
    // A training run's start: signals that arrive until the run begins (while the network moves
    // into the training module) are kept for it.
    let starting = RUNS.has(method);
    if (starting) this.#asked = { pause: false, stop: false, starting: true };
    const started = () => {
      const asked = this.#asked;
      if (starting) this.#asked = { pause: false, stop: false, starting: false };
      starting = false;
      return asked;
    };
    try {
      let net = this.#current();
      if (typeof (net as unknown as Partial<Record<string, unknown>>)[method] !== "function") net = await this.#training(net);
      if (starting) {
        const asked = started();
        if (asked.stop) throw new ConvlensError("ABORTED", "training was stopped before it started; nothing was trained");
        if (asked.pause) (net as TrainingNetwork).pause();
      }
      const fn = (net as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
      return (await fn.apply(net, args)) as Reply<M>;
    } catch (err) {
      started();
      throw recover(this.#bindings, err) ?? fromWasm(err);
    }
  }

  signal(name: "pause" | "stop"): void {
    const net = this.#net;
    if (!net || this.#lost()) return;
    if (this.#asked.starting) {
      this.#asked[name] = true;
      return;
    }
    try {
      if (name === "stop") net.stop();
      else if ("pause" in net) net.pause();
    } catch {
      // a signal never fails: the run it was for has ended
    }
  }

  /**
   * `net` as a network of the training module. The first time, the training module is fetched
   * and compiled, and the weights move into a network it creates on the same backend; the
   * inference module's network is then freed. A network of a module that trains too
   * (`cpu_threads`) never reaches here.
   */
  #training(net: Network): Promise<TrainingNetwork> {
    this.#moving ??= this.#move(net).finally(() => (this.#moving = undefined));
    return this.#moving;
  }

  async #move(net: Network): Promise<TrainingNetwork> {
    const training = await trainingRuntime(this.backend.name);
    // A model file: the labels, the preparation and the training record move with the weights.
    const file = await net.exportModel();
    let next: TrainingNetwork;
    try {
      next = await training.Network.fromModelFile(this.backend.name, file, {});
    } catch (err) {
      throw recover(training, err) ?? fromWasm(err);
    }
    if (this.#net !== net) {
      // Disposed meanwhile: dispose() frees the old network; the new one is not needed.
      next.free();
      throw new ConvlensError("DISPOSED", "this model was disposed; load a new one");
    }
    this.#net = next;
    this.#bindings = training;
    this.#generation = generation(training);
    net.dispose();
    net.free();
    return next;
  }

  dispose(): void {
    const net = this.#net;
    if (!net) return;
    this.#net = null;
    if (this.#lost()) return; // gone with its instance
    net.dispose();
    const bindings = this.#bindings;
    const born = this.#generation;
    void Promise.allSettled([...this.#inflight]).then(() => {
      if (generation(bindings) === born) net.free();
    });
  }
}

/** Opens a network in this thread: a model file, a shipped model (its weights fetched) or an architecture. */
export const openLocal: OpenEngine = async (source, options, onProgress) => {
  if (options.threads !== undefined) setThreads(options.threads);
  const backend = options.backend;
  const wasm = await runtime(await moduleFor(backend));
  try {
    if (source.kind === "file") {
      onProgress({ phase: "backend" });
      // A model file or an ONNX network: told apart by their content, in Rust.
      const { labels, input, transfer, cut } = source.network ?? {};
      const fileOptions = Object.fromEntries(
        Object.entries({ preprocess: options.preprocess, labels, input, transfer, cut }).filter(([, v]) => v !== undefined),
      );
      return new LocalEngine(await wasm.Network.fromModelFile(backend, source.bytes, fileOptions), wasm);
    }
    let architecture: string;
    let labels: string[] | undefined;
    let weights: Uint8Array | undefined;
    let preprocess = options.preprocess;
    if (source.kind === "shipped") {
      const known: PretrainedInfo[] = wasm.pretrained();
      const entry = known.find((p) => p.name === source.name);
      if (!entry) {
        throw new ConvlensError("NOT_FOUND", `no shipped model ${describe(source.name)}; shipped: ${known.map((p) => p.name).join(", ")}`);
      }
      architecture = entry.architecture;
      // Transfer learning (`classes`): the new labels on a fresh head; otherwise the model's
      // own, from the catalogue or (null there) from the weights file.
      labels = source.classes ?? entry.labels ?? undefined;
      preprocess ??= entry.preprocess;
      weights = await currentPlatform().weights(entry.file, (loaded, total) => onProgress({ phase: "weights", loaded, total }));
    } else {
      ({ architecture, classes: labels, weights } = source);
    }
    onProgress({ phase: "backend" });
    const net = await wasm.Network.create(architecture, backend, weights, {
      labels,
      transfer: source.kind === "shipped" && source.classes !== undefined,
      preprocess,
    });
    return new LocalEngine(net, wasm);
  } catch (err) {
    throw recover(wasm, err) ?? fromWasm(err);
  }
};
