/** `Model`: a network of the zoo on a backend, behind an engine (js/engine.ts), with serialised calls. */

import { ConvlensError, badInput } from "./errors.js";
import { mine, toDataset, toImages, type Prepare } from "./input.js";
import { decoded, decodedDataset } from "./decode.js";
import { FitEvents, PauseGate, pullBatches, streamedDataset } from "./batches.js";
import { fileBytes, isFileSource, removeSaved, saveModel, savedModels } from "./sources.js";
import { bad, reading } from "./guard.js";
import { classifyOptions, explainOptions, fitOptions, imageOptions, loadOptions, mapOptions, ownSource } from "./options.js";
import { currentPlatform } from "./runtime.js";
import { openLocal } from "./local.js";
import type { Engine, EngineSource } from "./engine.js";
import type {
  Batches,
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
  ImageBatch,
  ImageInput,
  ImageOptions,
  LoadOptions,
  LoadProgress,
  ModelInfo,
  Pixels,
  Preprocess,
  ModelSource,
  SavedModel,
  Prediction,
} from "./types.js";

/**
 * The model's type under its former name.
 *
 * @deprecated Use {@link Model}: one class in this thread and in a Web Worker.
 */
export type ConvlensModel = Model;

/** A network on a backend, in this thread or (`worker: true`) in a Web Worker: the same class either way. */
export class Model {
  #engine: Engine;
  #disposed = false;
  #queue: Promise<unknown> = Promise.resolve();
  #fitting = false;
  /** The running `fit`'s pause state. */
  #gate: PauseGate | undefined;
  readonly backend: BackendInfo;
  readonly info: ModelInfo;

  private constructor(engine: Engine) {
    this.#engine = engine;
    this.backend = engine.backend;
    this.info = engine.info;
  }

  /**
   * Loads a shipped model by name, or an architecture with your weights (or fresh ones).
   *
   * @example
   * const model = await Model.load("lenet5-mnist", { backend: "auto" });
   * model.info;    // { architecture: "lenet5", inputShape: [1, 28, 28], classes: ["0", …, "9"], parameters: 61706 }
   * model.backend; // { name: "cpu", adapter: null, fallbackReason: "the WebGPU adapter (google swiftshader) is a software fallback …" }
   */
  static async load(source: ModelSource, rawOptions: LoadOptions = {}): Promise<Model> {
    const options = loadOptions(rawOptions);
    if (typeof source !== "string" && (typeof source !== "object" || source === null)) {
      throw bad("source", "a shipped model's name, a model file (bytes, Blob, URL, \"indexeddb://name\") or { architecture, weights?, classes? }", source);
    }
    const file = isFileSource(source) ? source : undefined;
    if (file === undefined && (options.input !== undefined || options.cut !== undefined)) {
      throw bad(options.input !== undefined ? "input" : "cut", "for an ONNX network's file", options.input ?? options.cut);
    }
    const own = typeof source === "string" || file !== undefined ? undefined : ownSource(source);
    if (options.classes !== undefined && own !== undefined) {
      throw bad("classes", "given in the source ({ architecture, weights, classes }) for your own weights; as a load option it is for a shipped model", options.classes);
    }
    const open = options.worker ? currentPlatform().worker : openLocal;
    if (!open) throw badInput("worker: true needs a browser with Web Workers");
    // A throwing onProgress stops the load (BAD_INPUT with the exception as its cause), also when
    // it is called from the worker, where nothing else would see it.
    const onProgress = options.onProgress;
    let failed: ((err: unknown) => void) | undefined;
    const stopped = new Promise<never>((_, reject) => (failed = reject));
    let stop: unknown;
    const progress = (event: LoadProgress) => {
      if (stop !== undefined) return;
      try {
        reading("onProgress", () => onProgress?.(event));
      } catch (err) {
        stop = err;
        failed?.(err);
      }
    };
    void stopped.catch(() => {});
    progress({ phase: "runtime" });
    let engineSource: EngineSource;
    if (file !== undefined) {
      const bytes = await fileBytes(file, (loaded, total) => progress({ phase: "weights", loaded, total }));
      // Fetched here (not the caller's array): a worker is handed it rather than a copy.
      const network = { labels: options.classes, input: options.input, transfer: options.transfer, cut: options.cut };
      engineSource = { kind: "file", bytes: ArrayBuffer.isView(file) || file instanceof ArrayBuffer ? bytes : mine(bytes), network };
    } else if (own !== undefined) {
      engineSource = { kind: "own", ...own };
    } else {
      engineSource = { kind: "shipped", name: source as string, classes: options.classes };
    }
    if (stop !== undefined) throw stop;
    const opening = open(engineSource, { backend: options.backend ?? "auto", preprocess: options.preprocess, threads: options.threads }, progress);
    let engine: Engine;
    try {
      engine = await Promise.race([opening, stopped]);
    } catch (err) {
      // Stopped by onProgress: the engine, once open, is not needed.
      if (stop !== undefined) void opening.then((opened) => opened.dispose(), () => {});
      throw err;
    }
    // onProgress threw as the engine opened (its last "backend" event).
    if (stop !== undefined) {
      engine.dispose();
      throw stop;
    }
    return new Model(engine);
  }

  #checkAlive(): void {
    if (this.#disposed) throw new ConvlensError("DISPOSED", "this model was disposed; load a new one");
  }

  /** Runs `task` after every earlier call on this model has settled. */
  #run<T>(task: (engine: Engine) => Promise<T>): Promise<T> {
    const next = this.#queue.then(() => {
      this.#checkAlive();
      return task(this.#engine);
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  /**
   * The network's `prepare` for a dataset given as a list of images, as `classify` would prepare
   * them. Not queued: it needs no device, so it runs while the network trains (a streamed
   * dataset's batches).
   */
  #preparer(preprocess: Preprocess | undefined): Prepare {
    return (data, shape) => {
      this.#checkAlive();
      return this.#engine.call("prepare", data, shape, preprocess);
    };
  }

  /**
   * Classifies one image of any size (resized to `info.inputShape`), or several in one forward
   * pass: an array of images of one size, or `{ data, shape: [n, c, h, w] }` (one result per image).
   *
   * @example
   * await model.classify(canvas, { topK: 3 });
   * // [{ label: "7", index: 7, score: 0.98 }, { label: "2", index: 2, score: 0.01 }, …]
   * await model.classify([canvasA, canvasB], { topK: 1 });
   * // [[{ label: "7", index: 7, score: 0.98 }], [{ label: "1", index: 1, score: 0.99 }]]
   */
  async classify(input: ImageInput, options?: ClassifyOptions): Promise<Prediction[]>;
  async classify(input: ImageBatch, options?: ClassifyOptions): Promise<Prediction[][]>;
  async classify(input: ImageInput | ImageBatch, options?: ClassifyOptions): Promise<Prediction[] | Prediction[][]>;
  async classify(
    input: ImageInput | ImageBatch,
    options: ClassifyOptions = {},
  ): Promise<Prediction[] | Prediction[][]> {
    this.#checkAlive();
    const classes = this.info.classes;
    const { topK, preprocess } = classifyOptions(options, classes.length);
    const images = toImages(await decoded(input));
    const probs = (await this.#run((engine) =>
      engine.call("classify", images.data, Uint32Array.from(images.shape), preprocess),
    )) as Float32Array;
    const k = classes.length;
    const ranked = Array.from({ length: images.shape[0] }, (_, i) =>
      Array.from(probs.subarray(i * k, (i + 1) * k), (score, index) => ({
        label: classes[index] ?? String(index),
        index,
        score,
      }))
        .sort((a, b) => b.score - a.score)
        .slice(0, topK),
    );
    return images.batch ? ranked : ranked[0];
  }

  /**
   * Every layer's output for one image, in forward order; for a batch (as for `classify`),
   * one such array per image, from one forward pass.
   *
   * @example
   * const maps = await model.featureMaps(canvas);
   * maps[0]; // { layer: "conv1", shape: [6, 28, 28], data: Float32Array(4704) }
   */
  async featureMaps(input: ImageInput, options?: FeatureMapOptions): Promise<FeatureMap[]>;
  async featureMaps(input: ImageBatch, options?: FeatureMapOptions): Promise<FeatureMap[][]>;
  async featureMaps(input: ImageInput | ImageBatch, options?: FeatureMapOptions): Promise<FeatureMap[] | FeatureMap[][]>;
  async featureMaps(input: ImageInput | ImageBatch, options: FeatureMapOptions = {}): Promise<FeatureMap[] | FeatureMap[][]> {
    this.#checkAlive();
    const { preprocess, layers } = mapOptions(options);
    const images = toImages(await decoded(input));
    const maps = (await this.#run((engine) =>
      engine.call("featureMaps", images.data, Uint32Array.from(images.shape), preprocess, layers),
    )) as FeatureMap[][];
    return images.batch ? maps : maps[0];
  }

  /**
   * The network's input made from one image, as `classify` makes it (the model's `preprocess`,
   * or the option's): `{ data, shape }` with `shape` the model's `inputShape`, values in [0, 1].
   * What the network sees, e.g. the centred 28×28 digit of a drawing.
   *
   * @example
   * const seen = await model.prepare(canvas); // { data: Float32Array(784), shape: [1, 28, 28] }
   */
  async prepare(input: ImageInput, options: ImageOptions = {}): Promise<Pixels> {
    this.#checkAlive();
    const { preprocess } = imageOptions(options, "prepare");
    const images = toImages(await decoded(input));
    if (images.batch) throw badInput("prepare takes one image");
    const data = await this.#preparer(preprocess)(images.data, Uint32Array.from(images.shape));
    return { data, shape: [...this.info.inputShape] };
  }

  /**
   * Why the model gives one image its class: a heat map over the image as the model prepared it
   * (`prepare()`), computed with autodiff on the model's backend — Grad-CAM at a convolutional
   * layer (default: the last), the input gradient's magnitude (`"saliency"`), or integrated
   * gradients from a black image. The first call fetches the training module (autodiff), as
   * `fit` does.
   *
   * @example
   * const e = await model.explain(canvas, { method: "gradcam" });
   * e.label; // "7"
   * e.heat; // Float32Array(28 * 28), 0…1
   */
  async explain(input: ImageInput, options: ExplainOptions = {}): Promise<Explanation> {
    this.#checkAlive();
    const { wasm, preprocess } = explainOptions(options, this.info.classes.length);
    const images = toImages(await decoded(input));
    if (images.batch) throw badInput("explain takes one image");
    return this.#run(async (engine) =>
      (await engine.call("explain", images.data, Uint32Array.from(images.shape), wasm, preprocess)) as Explanation,
    );
  }

  /**
   * The features the classifying layer reads (EfficientNet-Lite0: 1,280 pooled values), for
   * one image or a batch (as for `classify`), from one forward pass: a description of each image
   * for search, clustering or a classifier of your own.
   *
   * @example
   * const { data, shape } = await model.embed(photo); // shape: [1, 1280]
   */
  async embed(input: ImageInput | ImageBatch, options: ImageOptions = {}): Promise<Embedding> {
    this.#checkAlive();
    const { preprocess } = imageOptions(options, "embed");
    const images = toImages(await decoded(input));
    const data = (await this.#run((engine) =>
      engine.call("embed", images.data, Uint32Array.from(images.shape), preprocess),
    )) as Float32Array;
    const n = images.shape[0];
    return { data, shape: [n, data.length / n] };
  }

  /**
   * The first convolution's kernels: what the network looks for in the pixels.
   *
   * @example
   * await model.filters(); // { layer: "conv1", shape: [6, 1, 5, 5], data: Float32Array(150) }
   */
  async filters(): Promise<Filters> {
    this.#checkAlive();
    return this.#run(async (engine) => (await engine.call("filters")) as Filters);
  }

  /**
   * Trains with Adam and ReduceLROnPlateau on the validation loss; resolves to one event per epoch.
   * `dataset` is labelled images in memory, or an iterable / async iterable of batches (each a
   * dataset; read anew every epoch, so it must start over when iterated again; `validationData`
   * is then required). `pause()` and `resume()` suspend it exactly. A second `fit` while one runs
   * rejects with `BUSY`; other calls wait for the running step (and run while it is paused).
   *
   * @example
   * const history = await model.fit({ images, labels, shape: [1, 28, 28] }, { epochs: 2, onEpoch: (e) => console.log(e.validation.accuracy) });
   * history.at(-1); // { type: "epoch", epoch: 2, trainLoss: 0.21, validation: { loss: 0.25, accuracy: 0.92, images: 200 }, lr: 0.001, nextLr: 0.001, … }
   */
  async fit(dataset: Dataset | Batches, options: FitOptions = {}): Promise<EpochEvent[]> {
    this.#checkAlive();
    if (this.#fitting) throw new ConvlensError("BUSY", "fit() is already running on this model; await it or abort it first");
    const { wasm: rest, validationData, preprocess, signal, onStep, onEpoch } = fitOptions(options);
    if (signal?.aborted) throw new ConvlensError("ABORTED", "the AbortSignal was already aborted; nothing was trained");
    const streamed = streamedDataset(dataset, validationData);
    // Set before anything is awaited, so that a second call meanwhile is BUSY.
    this.#fitting = true;
    const gate = new PauseGate();
    this.#gate = gate;
    const engine = this.#engine;
    const events = new FitEvents(onStep, onEpoch, () => engine.signal("stop"));
    const abort = () => {
      engine.signal("stop");
      gate.end();
    };
    signal?.addEventListener("abort", abort);
    try {
      const prepare = this.#preparer(preprocess);
      const shape = this.info.inputShape;
      const train = streamed ? undefined : await toDataset(await decodedDataset(dataset as Dataset), shape, "dataset", prepare);
      const validation =
        validationData === undefined ? undefined : await toDataset(await decodedDataset(validationData), shape, "validationData", prepare);
      const pull = streamed
        ? pullBatches(streamed, async (batch, name) => toDataset(await decodedDataset(batch), shape, name, prepare), events.streamFailed)
        : undefined;
      let result = await this.#run(async () => {
        if (signal?.aborted) throw new ConvlensError("ABORTED", "the AbortSignal was aborted before training started; nothing was trained");
        const run = pull
          ? engine.call("fitStream", pull, validation!.images, validation!.labels, rest, events.onEvent)
          : engine.call("fit", train!.images, train!.labels, validation?.images, validation?.labels, rest, events.onEvent);
        // Asked while the images were read: the run pauses before its first step.
        if (gate.asked) engine.signal("pause");
        return (await run) as EpochEvent[] | null;
      });
      // Paused: the model answers other calls until resume(), abort or dispose().
      while (result === null) {
        if (!(await gate.paused())) {
          if (this.#disposed) throw new ConvlensError("DISPOSED", "this model was disposed while its training was paused");
          throw new ConvlensError("ABORTED", "the AbortSignal was aborted while training was paused; the model keeps the weights of the last step");
        }
        result = await this.#run(async () => (await engine.call("resume", events.onEvent)) as EpochEvent[] | null);
      }
      // A callback that threw on one of the last steps: a worker's run may have finished before
      // the stop reached it, but the call still fails as it does in this thread.
      if (events.callbackError) throw events.callbackError;
      return result;
    } catch (err) {
      return events.afterFailure(err, Boolean(signal?.aborted));
    } finally {
      signal?.removeEventListener("abort", abort);
      gate.end();
      this.#gate = undefined;
      this.#fitting = false;
      // The completed epochs joined the training record (also when stopped).
      if (!this.#disposed) {
        await engine
          .call("description")
          .then((d) => (this.info.training = (d as { training: ModelInfo["training"] }).training))
          .catch(() => {});
      }
    }
  }

  /**
   * Pauses the running `fit` before its next step. Resolves to `true` once it is paused (the
   * model then answers `classify`, `exportModel`… with the weights of that step), `false` when
   * no `fit` runs or it ended first. `resume()` continues it exactly: Adam's moments, the
   * learning-rate schedule and the position in the data are kept, so the result equals training
   * that was never paused.
   *
   * @example
   * const training = model.fit(data, { epochs: 10 });
   * await model.pause(); // true
   * await model.classify(canvas); // the weights of the last step
   * model.resume();
   * await training;
   */
  pause(): Promise<boolean> {
    const gate = this.#gate;
    if (!gate) return Promise.resolve(false);
    // Already paused: nothing to ask of the network (a flag left set would pause the resumed
    // run again at once).
    if (gate.isPaused) return Promise.resolve(true);
    const answer = gate.ask();
    this.#engine.signal("pause");
    return answer;
  }

  /** Continues a paused `fit`; `false` when none is paused. */
  resume(): boolean {
    return this.#gate?.resume() ?? false;
  }

  /** Whether a `fit` is paused, waiting for `resume()`. */
  get paused(): boolean {
    return this.#gate?.isPaused ?? false;
  }

  /**
   * Mean cross-entropy loss and accuracy on labelled images, with the confusion matrix and every
   * misclassified image (its index, true label, predicted class and their probabilities).
   *
   * @example
   * const r = await model.evaluate({ images, labels, shape: [1, 28, 28] }); // { loss: 0.04, accuracy: 0.988, images: 500, … }
   * r.confusion.counts[7 * 10 + 2]; // sevens read as twos
   * r.mistakes[0]; // { index: 247, label: 4, predicted: 6, score: 0.71, labelScore: 0.27 }
   */
  async evaluate(dataset: Dataset): Promise<EvaluationReport> {
    this.#checkAlive();
    const data = await toDataset(await decodedDataset(dataset), this.info.inputShape, "dataset", this.#preparer(undefined));
    return this.#run(async (engine) => (await engine.call("evaluate", data.images, data.labels)) as EvaluationReport);
  }

  /**
   * The weights as bytes that `Model.load({ architecture, weights })` accepts.
   *
   * @example
   * const bytes = await model.exportWeights(); // Uint8Array(248…) — save it, then:
   * await Model.load({ architecture: "lenet5", weights: bytes });
   */
  async exportWeights(): Promise<Uint8Array> {
    this.#checkAlive();
    return this.#run(async (engine) => (await engine.call("exportWeights")) as Uint8Array);
  }

  /**
   * A model file: the weights with the architecture, labels, input shape, preparation and
   * training record, versioned and checksummed, in one binary file that `Model.load(bytes)`
   * (or a Blob, a URL, `"indexeddb://name"`) takes with nothing else.
   *
   * @example
   * const file = await model.exportModel(); // Uint8Array
   * const again = await Model.load(file);   // again.info equals model.info
   */
  async exportModel(): Promise<Uint8Array> {
    this.#checkAlive();
    return this.#run(async (engine) => (await engine.call("exportModel")) as Uint8Array);
  }

  /**
   * Saves the model file into IndexedDB (`"indexeddb://name"`, then `Model.load("indexeddb://name")`)
   * or as a download (`"download://name"`); resolves to what was saved.
   *
   * @example
   * await model.save("indexeddb://my-digits"); // { name: "my-digits", architecture: "lenet5", classes: […], size: 250123, savedAt: … }
   */
  async save(target: string): Promise<SavedModel> {
    this.#checkAlive();
    return saveModel(this, target);
  }

  /**
   * The models saved in this browser's IndexedDB.
   *
   * @example
   * await Model.list(); // [{ name: "my-digits", architecture: "lenet5", classes: […], size: 250123, savedAt: … }]
   */
  static list(): Promise<SavedModel[]> {
    return savedModels();
  }

  /**
   * Removes a model saved in IndexedDB (`"name"` or `"indexeddb://name"`).
   *
   * @example
   * await Model.remove("my-digits");
   */
  static remove(name: string): Promise<void> {
    return removeSaved(name);
  }

  /**
   * Frees the model's memory; a running `fit` stops, and later calls reject with `DISPOSED`.
   *
   * @example
   * model.dispose();
   * await model.classify(img); // rejects: ConvlensError { code: "DISPOSED" }
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#gate?.end();
    this.#engine.dispose();
  }
}
