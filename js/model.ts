/** `Model`: a network of the zoo on a backend, with serialised calls. */

import type { Network as InferenceNetwork } from "./wasm/convlens_cpu.js";
import type { Network as TrainingNetwork } from "./wasm/convlens_webgpu_train.js";
import { ConvlensError, badInput, fromWasm } from "./errors.js";
import { toDataset, toImages, type Prepare } from "./input.js";
import { decoded, decodedDataset } from "./decode.js";
import { FitEvents, PauseGate, pullBatches, streamedDataset } from "./batches.js";
import { fileBytes, isFileSource, portable, removeSaved, saveModel, savedModels } from "./sources.js";
import { bad, describe, reading } from "./guard.js";
import { classifyOptions, explainOptions, fitOptions, imageOptions, loadOptions, mapOptions, ownSource } from "./options.js";
import type { PretrainedInfo } from "./types.js";
import { currentPlatform, generation, moduleFor, recover, runtime, trainingRuntime } from "./runtime.js";
import type { Bindings, TrainingBindings } from "./runtime.js";
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
  LayerGeometry,
  LoadOptions,
  ModelInfo,
  Pixels,
  Preprocess,
  ModelSource,
  SavedModel,
  Prediction,
} from "./types.js";

/** What every model offers, in this thread ({@link Model}) or in a Web Worker. */
export interface ConvlensModel {
  readonly backend: BackendInfo;
  readonly info: ModelInfo;
  classify(input: ImageInput, options?: ClassifyOptions): Promise<Prediction[]>;
  classify(input: ImageBatch, options?: ClassifyOptions): Promise<Prediction[][]>;
  classify(input: ImageInput | ImageBatch, options?: ClassifyOptions): Promise<Prediction[] | Prediction[][]>;
  featureMaps(input: ImageInput, options?: FeatureMapOptions): Promise<FeatureMap[]>;
  featureMaps(input: ImageBatch, options?: FeatureMapOptions): Promise<FeatureMap[][]>;
  featureMaps(input: ImageInput | ImageBatch, options?: FeatureMapOptions): Promise<FeatureMap[] | FeatureMap[][]>;
  embed(input: ImageInput | ImageBatch, options?: ImageOptions): Promise<Embedding>;
  prepare(input: ImageInput, options?: ImageOptions): Promise<Pixels>;
  explain(input: ImageInput, options?: ExplainOptions): Promise<Explanation>;
  filters(): Promise<Filters>;
  fit(dataset: Dataset | Batches, options?: FitOptions): Promise<EpochEvent[]>;
  pause(): Promise<boolean>;
  resume(): boolean;
  readonly paused: boolean;
  evaluate(dataset: Dataset): Promise<EvaluationReport>;
  exportWeights(): Promise<Uint8Array>;
  exportModel(): Promise<Uint8Array>;
  save(target: string): Promise<SavedModel>;
  dispose(): void;
}

/** A network of the inference module (what `Model.load` creates) or of the training module. */
type Network = InferenceNetwork | TrainingNetwork;

export class Model implements ConvlensModel {
  #net: Network | null;
  /** Whether `#net` belongs to the training module (after the first `fit()`). */
  #trains = false;
  #queue: Promise<unknown> = Promise.resolve();
  #fitting = false;
  /** The running `fit`'s pause state. */
  #gate: PauseGate | undefined;
  readonly backend: BackendInfo;
  readonly info: ModelInfo;

  /** The module `#net` lives in, and that module's instance generation when it was created. */
  #bindings: Bindings | TrainingBindings;
  #generation: number;

  private constructor(net: Network, bindings: Bindings | TrainingBindings) {
    this.#net = net;
    this.#bindings = bindings;
    this.#generation = generation(bindings);
    this.backend = net.backend as BackendInfo;
    this.info = Model.#describe(net);
  }

  static #describe(net: Network): ModelInfo {
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

  /**
   * Loads a shipped model by name, or an architecture with your weights (or fresh ones).
   *
   * @example
   * const model = await Model.load("lenet5-mnist", { backend: "auto" });
   * model.info;    // { architecture: "lenet5", inputShape: [1, 28, 28], classes: ["0", …, "9"], parameters: 61706 }
   * model.backend; // { name: "cpu", adapter: null, fallbackReason: "the WebGPU adapter (google swiftshader) is a software fallback …" }
   */
  static async load(source: ModelSource, rawOptions: LoadOptions = {}): Promise<ConvlensModel> {
    const options = loadOptions(rawOptions);
    if (typeof source !== "string" && (typeof source !== "object" || source === null)) {
      throw bad("source", "a shipped model's name, a model file (bytes, Blob, URL, \"indexeddb://name\") or { architecture, weights?, classes? }", source);
    }
    const file = isFileSource(source) ? source : undefined;
    if (file !== undefined && options.classes !== undefined) {
      throw bad("classes", "for a shipped model (transfer learning); a model file brings its own labels", options.classes);
    }
    const own = typeof source === "string" || file !== undefined ? undefined : ownSource(source);
    if (options.worker) {
      const platform = currentPlatform();
      if (!platform.worker) throw badInput("worker: true needs a browser with Web Workers");
      return platform.worker(file !== undefined ? portable(file) : own ?? (source as string), { ...options, worker: false });
    }
    const onProgress = options.onProgress;
    const progress = (event: Parameters<NonNullable<LoadOptions["onProgress"]>>[0]) =>
      reading("onProgress", () => onProgress?.(event));
    progress({ phase: "runtime" });
    const backend = options.backend ?? "auto";
    const wasm = await runtime(await moduleFor(backend));
    if (file !== undefined) {
      const bytes = await fileBytes(file, (loaded, total) => progress({ phase: "weights", loaded, total }));
      progress({ phase: "backend" });
      try {
        return new Model(await wasm.Network.fromModelFile(backend, bytes, { preprocess: options.preprocess }), wasm);
      } catch (err) {
        throw recover(wasm, err) ?? fromWasm(err);
      }
    }
    let architecture: string;
    let labels: string[] | undefined;
    let weights: Uint8Array | undefined;
    let preprocess: PretrainedInfo["preprocess"] | undefined;
    if (options.classes !== undefined && own !== undefined) {
      throw bad("classes", "given in the source ({ architecture, weights, classes }) for your own weights; as a load option it is for a shipped model", options.classes);
    }
    if (own === undefined) {
      const known: PretrainedInfo[] = wasm.pretrained();
      const entry = known.find((p) => p.name === source);
      if (!entry) {
        throw new ConvlensError(
          "NOT_FOUND",
          `no shipped model ${describe(source)}; shipped: ${known.map((p) => p.name).join(", ")}`,
        );
      }
      architecture = entry.architecture;
      // Transfer learning (`classes`): the new labels on a fresh head; otherwise the model's
      // own, from the catalogue or (null there) from the weights file.
      labels = options.classes ?? entry.labels ?? undefined;
      preprocess = options.preprocess ?? entry.preprocess;
      weights = await currentPlatform().weights(entry.file, (loaded, total) =>
        progress({ phase: "weights", loaded, total }),
      );
    } else {
      ({ architecture, classes: labels, weights } = own);
      preprocess = options.preprocess;
    }
    progress({ phase: "backend" });
    try {
      const net = await wasm.Network.create(architecture, backend, weights, {
        labels,
        transfer: options.classes !== undefined,
        preprocess,
      });
      return new Model(net, wasm);
    } catch (err) {
      throw recover(wasm, err) ?? fromWasm(err);
    }
  }

  /** Whether `#net`'s instance was restarted after a trap (the network is gone with it). */
  #lost(): boolean {
    return generation(this.#bindings) !== this.#generation;
  }

  #lostError(): ConvlensError {
    return new ConvlensError(
      "INTERNAL",
      "convlens's WebAssembly instance stopped during an earlier call and was restarted; this model was lost with it: load it again",
    );
  }

  /** Runs `task` after every earlier call on this model has settled. */
  #run<T>(task: (net: Network) => Promise<T>): Promise<T> {
    const next = this.#queue.then(() => {
      if (!this.#net) throw new ConvlensError("DISPOSED", "this model was disposed; load a new one");
      if (this.#lost()) throw this.#lostError();
      return task(this.#net);
    });
    this.#queue = next.catch(() => {});
    return next.catch((err) => {
      throw recover(this.#bindings, err) ?? fromWasm(err);
    });
  }

  /** Prepares one image of a dataset given as a list, as `classify` would (the network's `prepare`). */
  #preparer(preprocess: Preprocess | undefined): Prepare {
    return (image) => {
      this.#checkAlive();
      try {
        return (this.#net as Network).prepare(image.data, Uint32Array.from([1, ...image.shape]), preprocess);
      } catch (err) {
        throw recover(this.#bindings, err) ?? fromWasm(err);
      }
    };
  }

  #checkAlive(): void {
    if (!this.#net) throw new ConvlensError("DISPOSED", "this model was disposed; load a new one");
    if (this.#lost()) throw this.#lostError();
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
    const probs = (await this.#run((net) =>
      net.classify(images.data, Uint32Array.from(images.shape), preprocess),
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
    const maps = (await this.#run((net) =>
      net.featureMaps(images.data, Uint32Array.from(images.shape), preprocess, layers),
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
    const data = this.#preparer(preprocess)({ data: images.data, shape: images.shape.slice(1) as [number, number, number] });
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
    return this.#run(async (current) => {
      const net = await this.#trainingNetwork(current);
      return (await net.explain(images.data, Uint32Array.from(images.shape), wasm, preprocess)) as Explanation;
    });
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
    const data = (await this.#run((net) =>
      net.embed(images.data, Uint32Array.from(images.shape), preprocess),
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
    return this.#run((net) => net.filters());
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
    let net: TrainingNetwork | undefined;
    const events = new FitEvents(onStep, onEpoch, () => net?.stop());
    const abort = () => {
      net?.stop();
      gate.end();
    };
    signal?.addEventListener("abort", abort);
    try {
      const prepare = this.#preparer(preprocess);
      const shape = this.info.inputShape;
      const train = streamed ? undefined : toDataset(await decodedDataset(dataset as Dataset), shape, "dataset", prepare);
      const validation =
        validationData === undefined
          ? undefined
          : toDataset(await decodedDataset(validationData), shape, "validationData", prepare);
      const pull = streamed
        ? pullBatches(streamed, async (batch, name) => toDataset(await decodedDataset(batch), shape, name, prepare), events.streamFailed)
        : undefined;
      let result = await this.#run(async (current) => {
        net = await this.#trainingNetwork(current);
        if (signal?.aborted) throw new ConvlensError("ABORTED", "the AbortSignal was aborted before training started; nothing was trained");
        if (gate.asked) net.pause();
        return (
          pull
            ? net.fitStream(pull, validation!.images, validation!.labels, rest, events.onEvent)
            : net.fit(train!.images, train!.labels, validation?.images, validation?.labels, rest, events.onEvent)
        ) as Promise<EpochEvent[] | null>;
      });
      // Paused: the model answers other calls until resume(), abort or dispose().
      while (result === null) {
        if (!(await gate.paused())) {
          if (!this.#net) throw new ConvlensError("DISPOSED", "this model was disposed while its training was paused");
          throw new ConvlensError("ABORTED", "the AbortSignal was aborted while training was paused; the model keeps the weights of the last step");
        }
        result = await this.#run(async () => (await net!.resume(events.onEvent)) as EpochEvent[] | null);
      }
      return result;
    } catch (err) {
      return events.afterFailure(err, Boolean(signal?.aborted));
    } finally {
      signal?.removeEventListener("abort", abort);
      gate.end();
      this.#gate = undefined;
      this.#fitting = false;
      // The completed epochs joined the training record (also when stopped).
      try {
        if (net && this.#net === net) this.info.training = net.description().training;
      } catch {
        // disposed meanwhile: nothing to record
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
    if (this.#trains && this.#net && "pause" in this.#net) this.#net.pause();
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
   * `net` as a network of the training module. The first time, the training module is fetched
   * and compiled, and the weights move into a network it creates on the same backend; the
   * inference module's network is then freed. Later calls get the same network back, as does a
   * network of a module that trains too (`cpu_threads`).
   */
  async #trainingNetwork(net: Network): Promise<TrainingNetwork> {
    if (this.#trains || "fit" in net) {
      this.#trains = true;
      return net as TrainingNetwork;
    }
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
    this.#trains = true;
    this.#bindings = training;
    this.#generation = generation(training);
    net.dispose();
    net.free();
    return next;
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
    const data = toDataset(await decodedDataset(dataset), this.info.inputShape, "dataset", this.#preparer(undefined));
    return this.#run(async (net) => (await net.evaluate(data.images, data.labels)) as EvaluationReport);
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
    return this.#run((net) => net.exportWeights());
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
    return this.#run((net) => net.exportModel());
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
    const net = this.#net;
    if (!net) return;
    this.#net = null;
    this.#gate?.end();
    if (this.#lost()) return; // gone with its instance
    net.dispose();
    this.#queue.then(() => {
      if (!this.#lost()) net.free();
    });
  }
}
