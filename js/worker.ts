/**
 * The Web Worker behind `Model.load(…, { worker: true })`: it holds one model and exposes its
 * calls through Comlink (js/rpc.ts). Results the worker made (feature maps, filters, weights) are
 * transferred, not copied. Not meant to be imported directly.
 */

import { Comlink } from "./rpc.js";
import { pulledBatches } from "./batches.js";
import { ConvlensError } from "./errors.js";
import { browserPlatform } from "./browser.js";
import { Model, type ConvlensModel } from "./model.js";
import { setPlatform, setThreads } from "./runtime.js";
import type {
  BackendInfo,
  ClassifyOptions,
  Dataset,
  Embedding,
  ExplainOptions,
  Explanation,
  FeatureMapOptions,
  EpochEvent,
  EvaluationReport,
  FeatureMap,
  Filters,
  FitOptions,
  ImageOptions,
  LoadOptions,
  LoadProgress,
  ModelInfo,
  ModelSource,
  PixelBatch,
  Pixels,
  Prediction,
  StepEvent,
} from "./types.js";

setPlatform(browserPlatform);

let model: ConvlensModel | undefined;
const fits = new Map<number, AbortController>();

function need(): ConvlensModel {
  if (!model) throw new ConvlensError("DISPOSED", "the worker has no model");
  return model;
}

/**
 * A callback on the page, as the worker holds it (a Comlink proxy: calling it posts a message and
 * returns a promise of its reply; replies come back in order).
 */
type Callback<T> = (event: T) => unknown;

/**
 * Runs `work` with `callback` delivering its events, and answers only after the page has taken
 * the last event: a callback's messages travel on a port of their own, so without this the
 * result could overtake them. The callback's port is closed afterwards.
 */
async function withEvents<T, R>(callback: Callback<T>, work: (deliver: (event: T) => void) => Promise<R>): Promise<R> {
  let last: unknown;
  try {
    const result = await work((event) => {
      last = callback(event);
    });
    await last;
    return result;
  } finally {
    (callback as unknown as Comlink.Remote<unknown>)[Comlink.releaseProxy]();
  }
}

/**
 * The buffers of results that may be transferred: each array's own whole `ArrayBuffer` (copies
 * out of wasm memory), never a view into a larger one such as the memory itself.
 */
function own(...arrays: ArrayBufferView[]): ArrayBuffer[] {
  const buffers = arrays
    .map((a) => a.buffer)
    .filter((b, i): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength === arrays[i].byteLength);
  return [...new Set(buffers)];
}

const api = {
  async load(source: ModelSource, options: LoadOptions, onProgress: Callback<LoadProgress>): Promise<{ backend: BackendInfo; info: ModelInfo }> {
    setThreads(options.threads);
    return withEvents(onProgress, async (deliver) => {
      model = await Model.load(source, {
        backend: options.backend,
        classes: options.classes,
        preprocess: options.preprocess,
        onProgress: deliver,
      });
      return { backend: model.backend, info: model.info };
    });
  },
  async classify(images: Pixels | PixelBatch, options: ClassifyOptions): Promise<Prediction[] | Prediction[][]> {
    return need().classify(images, options);
  },
  async featureMaps(images: Pixels | PixelBatch, options: FeatureMapOptions): Promise<FeatureMap[] | FeatureMap[][]> {
    const maps = await need().featureMaps(images, options);
    return Comlink.transfer(maps, own(...maps.flat().map((m) => m.data)));
  },
  async prepare(image: Pixels, options: ImageOptions): Promise<Pixels> {
    const prepared = await need().prepare(image, options);
    return Comlink.transfer(prepared, own(prepared.data));
  },
  async explain(image: Pixels, options: ExplainOptions): Promise<Explanation> {
    const e = await need().explain(image, options);
    return Comlink.transfer(e, own(e.heat, e.raw, e.original));
  },
  async embed(images: Pixels | PixelBatch, options: ImageOptions): Promise<Embedding> {
    const embedding = await need().embed(images, options);
    return Comlink.transfer(embedding, own(embedding.data));
  },
  async filters(): Promise<Filters> {
    const filters = await need().filters();
    return Comlink.transfer(filters, own(filters.data));
  },
  async fit(
    id: number,
    dataset: Dataset | ((restart: boolean) => Promise<Dataset | null>),
    options: FitOptions & { wantSteps: boolean },
    onEvent: Callback<StepEvent | EpochEvent>,
  ): Promise<EpochEvent[]> {
    const controller = new AbortController();
    fits.set(id, controller);
    const { wantSteps, ...rest } = options;
    // A function: the page's streamed dataset, pulled batch by batch.
    const data = typeof dataset === "function" ? pulledBatches(dataset) : dataset;
    try {
      return await withEvents(onEvent, (deliver) =>
        need().fit(data, { ...rest, signal: controller.signal, onStep: wantSteps ? deliver : undefined, onEpoch: deliver }),
      );
    } finally {
      fits.delete(id);
      if (typeof dataset === "function") (dataset as unknown as Comlink.Remote<unknown>)[Comlink.releaseProxy]();
    }
  },
  pause(): Promise<boolean> {
    return need().pause();
  },
  resume(): boolean {
    return need().resume();
  },
  abort(id: number): void {
    fits.get(id)?.abort();
  },
  async evaluate(dataset: Dataset): Promise<EvaluationReport> {
    const report = await need().evaluate(dataset);
    return Comlink.transfer(report, own(report.confusion.counts));
  },
  async exportWeights(): Promise<Uint8Array> {
    const bytes = await need().exportWeights();
    return Comlink.transfer(bytes, own(bytes));
  },
  async exportModel(): Promise<Uint8Array> {
    const bytes = await need().exportModel();
    return Comlink.transfer(bytes, own(bytes));
  },
  info(): ModelInfo {
    return need().info;
  },
  dispose(): void {
    model?.dispose();
    model = undefined;
  },
};

/** What the worker exposes (the proxy's view of it). */
export type WorkerApi = typeof api;

Comlink.expose(api);
