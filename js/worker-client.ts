/**
 * `Model.load(…, { worker: true })`: the same API, with the model in a Web Worker, reached through
 * Comlink (js/rpc.ts). Everything is checked here before it is posted, as on the main thread; the
 * arrays this side made (conversions, copies) are transferred, the caller's are copied.
 */

import { Comlink } from "./rpc.js";
import { FitEvents, pullBatches, streamedDataset } from "./batches.js";
import { ConvlensError, fromWasm } from "./errors.js";
import { reading } from "./guard.js";
import { imageList, ownBuffers, toDataset, toImages, wireImages } from "./input.js";
import { decoded, decodedDataset } from "./decode.js";
import { saveModel } from "./sources.js";
import { classifyOptions, explainOptions, fitOptions, imageOptions, mapOptions } from "./options.js";
import type { ConvlensModel } from "./model.js";
import type { WorkerApi } from "./worker.js";
import type {
  BackendInfo,
  ClassifyOptions,
  Dataset,
  Batches,
  Embedding,
  ExplainOptions,
  Explanation,
  FeatureMapOptions,
  EpochEvent,
  EvaluationReport,
  FeatureMap,
  Filters,
  FitOptions,
  ImageBatch,
  ImageInput,
  ImageOptions,
  LoadOptions,
  LoadProgress,
  ModelInfo,
  ModelSource,
  SavedModel,
  PixelBatch,
  Pixels,
  Prediction,
} from "./types.js";

type Reject = (err: ConvlensError) => void;

/** A value posted with the buffers this side made transferred. */
function posted<T extends object>(value: T, ...arrays: ArrayBufferView[]): T {
  return Comlink.transfer(value, ownBuffers(...arrays));
}

/** A call's failure as a ConvlensError: the worker's arrive as one (js/rpc.ts); a value the
 * browser cannot post (`DataCloneError`) is the caller's `BAD_INPUT`. */
function posting(err: unknown): ConvlensError {
  if (err instanceof ConvlensError) return err;
  if ((err as { name?: unknown })?.name === "DataCloneError") {
    return new ConvlensError("BAD_INPUT", `a value could not be sent to the worker: ${(err as Error).message}`, { cause: err });
  }
  return fromWasm(err);
}

class WorkerModel implements ConvlensModel {
  #worker: Worker | null;
  #remote: Comlink.Remote<WorkerApi>;
  /** The calls in flight: settled here when the worker fails or the model is disposed. */
  #inflight = new Set<Reject>();
  #nextFit = 1;
  /** `fit`s running (0 or 1) and whether the worker's is paused, as far as this side knows. */
  #fits = 0;
  #paused = false;
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

  /** Runs one call on the worker, unless the model was disposed; settles if the worker fails. */
  call<T>(work: (remote: Comlink.Remote<WorkerApi>) => Promise<T>): Promise<T> {
    if (!this.#worker) return Promise.reject(new ConvlensError("DISPOSED", "this model was disposed; load a new one"));
    return new Promise<T>((resolve, reject) => {
      this.#inflight.add(reject);
      work(this.#remote)
        .then(resolve, (err: unknown) => reject(posting(err)))
        .finally(() => this.#inflight.delete(reject));
    });
  }

  async classify(input: ImageInput, options?: ClassifyOptions): Promise<Prediction[]>;
  async classify(input: ImageBatch, options?: ClassifyOptions): Promise<Prediction[][]>;
  async classify(input: ImageInput | ImageBatch, options?: ClassifyOptions): Promise<Prediction[] | Prediction[][]>;
  async classify(
    input: ImageInput | ImageBatch,
    options: ClassifyOptions = {},
  ): Promise<Prediction[] | Prediction[][]> {
    const checked = classifyOptions(options, this.info.classes.length);
    const images = wireImages(toImages(await decoded(input)));
    return this.call<Prediction[] | Prediction[][]>((remote) =>
      remote.classify(posted(images as Pixels | PixelBatch, images.data), checked),
    );
  }

  async featureMaps(input: ImageInput, options?: FeatureMapOptions): Promise<FeatureMap[]>;
  async featureMaps(input: ImageBatch, options?: FeatureMapOptions): Promise<FeatureMap[][]>;
  async featureMaps(input: ImageInput | ImageBatch, options?: FeatureMapOptions): Promise<FeatureMap[] | FeatureMap[][]>;
  async featureMaps(input: ImageInput | ImageBatch, options: FeatureMapOptions = {}): Promise<FeatureMap[] | FeatureMap[][]> {
    const checked = mapOptions(options);
    const images = wireImages(toImages(await decoded(input)));
    return this.call<FeatureMap[] | FeatureMap[][]>((remote) =>
      remote.featureMaps(posted(images as Pixels | PixelBatch, images.data), checked),
    );
  }

  async embed(input: ImageInput | ImageBatch, options: ImageOptions = {}): Promise<Embedding> {
    const checked = imageOptions(options, "embed");
    const images = wireImages(toImages(await decoded(input)));
    return this.call<Embedding>((remote) => remote.embed(posted(images as Pixels | PixelBatch, images.data), checked));
  }

  async prepare(input: ImageInput, options: ImageOptions = {}): Promise<Pixels> {
    const checked = imageOptions(options, "prepare");
    const image = toImages(await decoded(input));
    if (image.batch) throw new ConvlensError("BAD_INPUT", "prepare takes one image");
    const one = wireImages(image) as Pixels;
    return this.call<Pixels>((remote) => remote.prepare(posted(one, one.data), checked));
  }

  async explain(input: ImageInput, options: ExplainOptions = {}): Promise<Explanation> {
    const checked = explainOptions(options, this.info.classes.length);
    const image = toImages(await decoded(input));
    if (image.batch) throw new ConvlensError("BAD_INPUT", "explain takes one image");
    const one = wireImages(image) as Pixels;
    return this.call<Explanation>((remote) => remote.explain(posted(one, one.data), { ...checked.wasm, preprocess: checked.preprocess }));
  }

  /** A dataset as the worker is sent it: checked bytes, or a list of images as pixels (the worker prepares them). */
  #wireDataset(dataset: Dataset, name: string): { value: Dataset; arrays: ArrayBufferView[] } {
    const shape = this.info.inputShape;
    const list = imageList(dataset, shape, name);
    if (list) {
      const images = list.images.map((i) => ({ data: i.data, shape: i.shape }));
      return { value: { images, labels: list.labels }, arrays: [...images.map((i) => i.data), list.labels] };
    }
    const data = toDataset(dataset, shape, name);
    return { value: { ...data, shape }, arrays: [data.images, data.labels] };
  }

  async filters(): Promise<Filters> {
    return this.call((remote) => remote.filters());
  }

  async fit(dataset: Dataset | Batches, options: FitOptions = {}): Promise<EpochEvent[]> {
    // Checked here as `Model.fit` checks them, so that only plain, checked copies are posted.
    const { wasm, validationData, preprocess, signal, onStep, onEpoch } = fitOptions(options);
    if (signal?.aborted) throw new ConvlensError("ABORTED", "the AbortSignal was already aborted; nothing was trained");
    const streamed = streamedDataset(dataset, validationData);
    const train = streamed ? undefined : this.#wireDataset(await decodedDataset(dataset as Dataset), "dataset");
    const validation = validationData === undefined ? undefined : this.#wireDataset(await decodedDataset(validationData), "validationData");
    // Aborted while the images were decoded: nothing was posted, nothing trained.
    if (signal?.aborted) throw new ConvlensError("ABORTED", "the AbortSignal was aborted before training started; nothing was trained");
    const id = this.#nextFit++;
    const abort = () => void this.call((remote) => remote.abort(id)).catch(() => {});
    const events = new FitEvents(onStep, onEpoch, abort);
    // A streamed dataset stays here; the worker pulls its batches, checked and posted one by one.
    const pull = streamed
      ? pullBatches(
          streamed,
          async (batch, name) => {
            const wire = this.#wireDataset(await decodedDataset(batch), name);
            return posted(wire.value, ...wire.arrays);
          },
          events.streamFailed,
        )
      : undefined;
    signal?.addEventListener("abort", abort);
    this.#fits += 1;
    try {
      const arrays = [...(train?.arrays ?? []), ...(validation?.arrays ?? [])];
      const history = await this.call((remote) =>
        remote.fit(
          id,
          train ? posted(train.value, ...arrays) : Comlink.proxy(pull!),
          { ...wasm, preprocess, validationData: validation?.value, wantSteps: Boolean(onStep) },
          Comlink.proxy(events.onEvent),
        ),
      );
      // A callback that threw on one of the last steps: the worker may have finished before the
      // abort reached it, but the call still fails as it does on the main thread.
      if (events.callbackError) throw events.callbackError;
      return history;
    } catch (err) {
      return events.afterFailure(err, Boolean(signal?.aborted));
    } finally {
      signal?.removeEventListener("abort", abort);
      this.#fits -= 1;
      this.#paused = false;
      // The training record grew (also when stopped).
      await this.call((remote) => remote.info())
        .then((info) => (this.info = info))
        .catch(() => {});
    }
  }

  async pause(): Promise<boolean> {
    if (this.#fits === 0) return false;
    const paused = await this.call((remote) => remote.pause());
    this.#paused = paused && this.#fits > 0;
    return paused;
  }

  resume(): boolean {
    if (!this.#paused) return false;
    this.#paused = false;
    void this.call((remote) => remote.resume()).catch(() => {});
    return true;
  }

  get paused(): boolean {
    return this.#paused;
  }

  async evaluate(dataset: Dataset): Promise<EvaluationReport> {
    const data = this.#wireDataset(await decodedDataset(dataset), "dataset");
    return this.call((remote) => remote.evaluate(posted(data.value, ...data.arrays)));
  }

  async exportWeights(): Promise<Uint8Array> {
    return this.call((remote) => remote.exportWeights());
  }

  async exportModel(): Promise<Uint8Array> {
    return this.call((remote) => remote.exportModel());
  }

  async save(target: string): Promise<SavedModel> {
    return saveModel(this, target);
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
  const progress = (event: LoadProgress) => {
    if (failed) return;
    try {
      reading("onProgress", () => onProgress?.(event));
    } catch (err) {
      failed = true;
      stop(err);
    }
  };
  try {
    const loaded = await Promise.race([
      model.call((remote) =>
        remote.load(
          source,
          { backend: rest.backend, threads: rest.threads, classes: rest.classes, preprocess: rest.preprocess },
          Comlink.proxy(progress),
        ),
      ),
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
