/** `Model.load(…, { worker: true })`: the same API, with the model in a Web Worker. */

import { ConvlensError } from "./errors.js";
import { reading } from "./guard.js";
import { toDataset, toImages, wireImages } from "./input.js";
import { deliver, fitOptions, topK } from "./options.js";
import type { ConvlensModel } from "./model.js";
import type { Method, Reply } from "./protocol.js";
import type {
  BackendInfo,
  Dataset,
  EpochEvent,
  Evaluation,
  FeatureMap,
  Filters,
  FitOptions,
  ImageBatch,
  ImageInput,
  LoadOptions,
  ModelInfo,
  ModelSource,
  Prediction,
} from "./types.js";

type Pending = {
  resolve: (value: unknown) => void;
  reject: (err: ConvlensError) => void;
  onEvent?: (event: never) => void;
};

class WorkerModel implements ConvlensModel {
  #worker: Worker | null;
  #pending = new Map<number, Pending>();
  #next = 1;
  backend!: BackendInfo;
  info!: ModelInfo;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (e: MessageEvent<Reply>) => {
      const reply = e.data;
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      if ("event" in reply) {
        pending.onEvent?.(reply.event as never);
        return;
      }
      this.#pending.delete(reply.id);
      if ("error" in reply) pending.reject(new ConvlensError(reply.error.code, reply.error.message));
      else pending.resolve(reply.result);
    };
    worker.onerror = (e) => {
      const err = new ConvlensError("INTERNAL", `the convlens worker failed: ${e.message}`);
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
  }

  call<T>(method: Method, args: unknown[], onEvent?: (event: never) => void): { id: number; done: Promise<T> } {
    const id = this.#next++;
    if (!this.#worker) {
      return { id, done: Promise.reject(new ConvlensError("DISPOSED", "this model was disposed; load a new one")) };
    }
    const done = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent });
    });
    this.#worker.postMessage({ id, method, args });
    return { id, done };
  }

  async classify(input: ImageInput, options?: { topK?: number }): Promise<Prediction[]>;
  async classify(input: ImageBatch, options?: { topK?: number }): Promise<Prediction[][]>;
  async classify(input: ImageInput | ImageBatch, options?: { topK?: number }): Promise<Prediction[] | Prediction[][]>;
  async classify(
    input: ImageInput | ImageBatch,
    options: { topK?: number } = {},
  ): Promise<Prediction[] | Prediction[][]> {
    const k = topK(options, this.info.classes.length);
    return this.call<Prediction[]>("classify", [wireImages(toImages(input)), { topK: k }]).done;
  }

  async featureMaps(input: ImageInput): Promise<FeatureMap[]>;
  async featureMaps(input: ImageBatch): Promise<FeatureMap[][]>;
  async featureMaps(input: ImageInput | ImageBatch): Promise<FeatureMap[] | FeatureMap[][]>;
  async featureMaps(input: ImageInput | ImageBatch): Promise<FeatureMap[] | FeatureMap[][]> {
    return this.call<FeatureMap[]>("featureMaps", [wireImages(toImages(input))]).done;
  }

  async filters(): Promise<Filters> {
    return this.call<Filters>("filters", []).done;
  }

  async fit(dataset: Dataset, options: FitOptions = {}): Promise<EpochEvent[]> {
    // Checked here as `Model.fit` checks them, so that only plain, checked copies are posted.
    const { wasm, validationData, signal, onStep, onEpoch } = fitOptions(options);
    if (signal?.aborted) throw new ConvlensError("ABORTED", "the AbortSignal was already aborted; nothing was trained");
    const shape = this.info.inputShape;
    const train = { ...toDataset(dataset, shape), shape };
    const validation = validationData === undefined ? undefined : { ...toDataset(validationData, shape, "validationData"), shape };
    let callbackError: ConvlensError | undefined;
    const { id, done } = this.call<EpochEvent[]>(
      "fit",
      [train, { ...wasm, validationData: validation, wantSteps: Boolean(onStep) }],
      ((event: { type: string }) => {
        const failed = deliver(event, onStep, onEpoch);
        if (failed) {
          callbackError ??= failed;
          this.call("abort", [id]);
        }
      }) as (event: never) => void,
    );
    const abort = () => this.call("abort", [id]);
    signal?.addEventListener("abort", abort);
    try {
      const history = await done;
      // A callback that threw on one of the last steps: the worker may have finished before the
      // abort reached it, but the call still fails as it does on the main thread.
      if (callbackError) throw callbackError;
      return history;
    } catch (err) {
      throw callbackError ?? err;
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  async evaluate(dataset: Dataset): Promise<Evaluation> {
    const shape = this.info.inputShape;
    return this.call<Evaluation>("evaluate", [{ ...toDataset(dataset, shape), shape }]).done;
  }

  async exportWeights(): Promise<Uint8Array> {
    return this.call<Uint8Array>("exportWeights", []).done;
  }

  dispose(): void {
    const worker = this.#worker;
    if (!worker) return;
    this.call("dispose", []).done.finally(() => {
      worker.terminate();
      // Calls still in flight when the worker goes (their replies never come) settle here.
      const err = new ConvlensError("DISPOSED", "this model was disposed while the call ran");
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    });
    this.#worker = null;
  }
}

/** Starts a worker, loads the model there, and returns a proxy with the same API. */
export async function loadInWorker(source: ModelSource, options: LoadOptions): Promise<ConvlensModel> {
  const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  const model = new WorkerModel(worker);
  const { onProgress, ...rest } = options;
  // A throwing onProgress stops the load, as on the main thread: BAD_INPUT with the exception as
  // its cause (it runs here, in a message handler, where nothing else would see it).
  let failed = false;
  let stop: (err: unknown) => void = () => {};
  const stopped = new Promise<never>((_, reject) => {
    stop = reject;
  });
  const progress = (event: never) => {
    if (failed) return;
    try {
      reading("onProgress", () => (onProgress as ((event: never) => void) | undefined)?.(event));
    } catch (err) {
      failed = true;
      stop(err);
    }
  };
  try {
    const loaded = await Promise.race([
      model.call<{ backend: BackendInfo; info: ModelInfo }>("load", [source, { backend: rest.backend, threads: rest.threads }], progress)
        .done,
      stopped,
    ]);
    model.backend = loaded.backend;
    model.info = loaded.info;
    return model;
  } catch (err) {
    worker.terminate();
    throw err;
  }
}
