/**
 * Public types of the convlens API. The values the Rust core gives or reads — backend info,
 * training events, evaluations, the training options, the catalogue — are defined once in Rust
 * (`src/api.rs`, `src/train/`, `src/session.rs`); their TypeScript types are generated into the
 * wasm modules' `.d.ts` (tsify) and re-exported here.
 */

import type {
  AdapterInfo,
  BackendSummary,
  Evaluation as WasmEvaluation,
  FitOptions as TrainingOptions,
} from "./wasm/convlens_cpu.js";
import type { EpochEvent as WasmEpochEvent, StepEvent as WasmStepEvent } from "./wasm/convlens_cpu_train.js";

export type { LayerGeometry, LayerKind, NodeInfo, ReceptiveField } from "./wasm/convlens_cpu.js";
import type { LayerGeometry } from "./wasm/convlens_cpu.js";
export type { ArchitectureInfo, DatasetInfo, ModelDescription, Normalise, Preprocess, PretrainedInfo, TrainingRecord } from "./wasm/convlens_cpu.js";
import type { Normalise } from "./wasm/convlens_cpu.js";
import type { TrainingRecord } from "./wasm/convlens_cpu.js";
import type { Preprocess } from "./wasm/convlens_cpu.js";
export type { AdapterInfo };
export type { EarlyStopping, Schedule, Train } from "./wasm/convlens_cpu.js";
import type { Completeness, ExplainMethod, ExplainOptions as WasmExplainOptions } from "./wasm/convlens_cpu.js";
export type { Completeness, ExplainMethod };
// The results that hold typed arrays, generated from Rust too (src/explain.rs, src/infer.rs,
// src/train/evaluate.rs).
export type { Confusion, EvaluationReport, Explanation, FeatureMap, Filters } from "./wasm/convlens_cpu.js";

/** Options of {@link Model.explain}. */
export interface ExplainOptions extends WasmExplainOptions {
  /** How the image is prepared (default: the model's `preprocess`). */
  preprocess?: Preprocess;
}

/** The options of {@link Model.fit} that the Rust core reads (`FitOptions` in `src/session.rs`). */
export type { TrainingOptions };

/** A backend name. `"auto"` picks WebGPU on a hardware adapter and the CPU backend otherwise. */
export type BackendName = "auto" | "webgpu" | "cpu";

/** The backend a model runs on. */
export type BackendInfo = BackendSummary;

/** An entry of {@link backends}. */
export interface AvailableBackend {
  name: "webgpu" | "cpu";
  adapter?: AdapterInfo;
}

/** What a model is. */
export interface ModelInfo {
  /** A name of {@link architectures}, e.g. `"lenet5"` or `"efficientnet-lite0"`. */
  architecture: string;
  /** `[channels, height, width]` the network reads; images of other sizes are prepared as `preprocess` says. */
  inputShape: [number, number, number];
  /** Class labels by output index. */
  classes: string[];
  /** Trainable parameters. */
  parameters: number;
  /**
   * How `classify`, `featureMaps`, `embed` and `fit` make an image of any size the input: the
   * shipped model's own preparation (e.g. EfficientNet-Lite0's centre crop of 224/256), which a
   * call's `preprocess` option replaces.
   */
  preprocess: Preprocess;
  /** Every `fit` the weights went through (from their model file, and since), oldest first: options and epochs. */
  training: TrainingRecord[];
  /**
   * Every layer among the feature maps, in order: what it does (`kind`), its kernel, stride and
   * padding, and its receptive field — output pixel `(y, x)` sees the square of side
   * `receptiveField.size` centred on `start + y · jump`, `start + x · jump` of the prepared input
   * (size 0: all of it).
   */
  layers: LayerGeometry[];
}

/** Options of {@link Model.classify}. */
export interface ClassifyOptions {
  /** How many classes per image, most likely first (default: all). */
  topK?: number;
  /** Replaces the model's preparation for this call (e.g. `{ kind: "resize" }` for an image already cropped). */
  preprocess?: Preprocess;
}

/** Options of {@link Model.embed} and {@link Model.prepare}. */
export interface ImageOptions {
  /** Replaces the model's preparation for this call. */
  preprocess?: Preprocess;
}

/** Options of {@link Model.featureMaps}. */
export interface FeatureMapOptions extends ImageOptions {
  /**
   * Only these layers' maps are read back (e.g. `["block1", "block9"]`), in forward order: what a
   * page shows of a 224-pixel network; default every layer's.
   */
  layers?: string[];
}

/** The features the classifying layer reads, per image (`[images, features]`, image after image). */
export interface Embedding {
  data: Float32Array;
  shape: [number, number];
}

/** Pixels with their shape, channel-major (`[c, h, w]`, c = 1, 3 or 4). Bytes are 0–255, floats 0–1. */
export interface Pixels {
  data: Float32Array | Uint8Array | Uint8ClampedArray;
  shape: [number, number, number];
}

/**
 * Anything {@link Model.classify} and {@link Model.featureMaps} accept: pixels, the browser's
 * drawables (a `<video>`'s current frame, a `VideoFrame`), or an image file as a `Blob`/`File`
 * or its bytes (decoded by the browser; in Node, PNG and JPEG by pngjs and jpeg-js).
 */
export type ImageInput =
  | Pixels
  | ImageData
  | HTMLCanvasElement
  | OffscreenCanvas
  | ImageBitmap
  | HTMLImageElement
  | HTMLVideoElement
  | VideoFrame
  | Blob
  | Uint8Array
  | ArrayBuffer;

/** Several images of one size in one array: `[images, channels, height, width]`, image after image. */
export interface PixelBatch {
  data: Float32Array | Uint8Array | Uint8ClampedArray;
  shape: [number, number, number, number];
}

/**
 * Several images for one call of {@link Model.classify} or {@link Model.featureMaps}, run as
 * one forward pass: an array of images of one size, or a {@link PixelBatch}.
 */
export type ImageBatch = ImageInput[] | PixelBatch;

/** One class and its probability. */
export interface Prediction {
  label: string;
  index: number;
  score: number;
}



/**
 * Labelled images: one array of images of the model's input shape, or a list of images of any
 * size (canvases, bitmaps, `{ data, shape }`…), each prepared as the model's `preprocess` says.
 */
export type Dataset =
  | {
      /** Image after image, channel-major: bytes 0–255 or floats 0–1. */
      images: Uint8Array | Uint8ClampedArray | Float32Array;
      /** Class index of each image. */
      labels: Uint8Array | Int32Array | number[];
      /** `[channels, height, width]` of one image. */
      shape: [number, number, number];
    }
  | {
      /** The images, any size each. */
      images: ImageInput[];
      /** Class index of each image. */
      labels: Uint8Array | number[];
    };

/**
 * A dataset streamed in batches: an iterable or async iterable of datasets, read anew for every
 * epoch (so iterating it again must start over: pass an object whose `[Symbol.asyncIterator]()`
 * starts a new pass, not a generator object, which runs once).
 *
 * @example
 * const batches = { async *[Symbol.asyncIterator]() { for (const url of shards) yield await loadShard(url); } };
 */
export type Batches = Iterable<Dataset> | AsyncIterable<Dataset>;

/** Sent after every optimisation step. */
export type StepEvent = { type: "step" } & WasmStepEvent;

/** Loss and accuracy on a dataset (as in the epoch events). */
export type Evaluation = WasmEvaluation;

export type { Mistake } from "./wasm/convlens_cpu.js";


/** Sent after every epoch. */
export type EpochEvent = { type: "epoch" } & WasmEpochEvent;

/** Options of {@link Model.fit}. Training is Adam + ReduceLROnPlateau(min, factor 0.1) on the validation loss. */
export interface FitOptions extends TrainingOptions {
  /** How a dataset given as a list of images is prepared (default: the model's `preprocess`). */
  preprocess?: Preprocess;
  /** Validation images; default: the last `validationSplit` of the training data. */
  validationData?: Dataset;
  /** Stops training within one step; `fit` then rejects with code `ABORTED` and the model keeps its last step. */
  signal?: AbortSignal;
  /** After each step. If it throws, training stops within one step and `fit` rejects with `ABORTED` whose `cause` is that exception. */
  onStep?: (event: StepEvent) => void;
  /**
   * After each epoch; returning `false` ends training there (`fit` resolves with the epochs so
   * far); throwing stops training as for `onStep`.
   */
  onEpoch?: (event: EpochEvent) => unknown;
}

/** Progress of {@link Model.load}. */
export interface LoadProgress {
  phase: "runtime" | "weights" | "backend";
  /** Bytes loaded so far (weights), when known. */
  loaded?: number;
  total?: number;
}

/**
 * A model file (from `exportModel` or `save`): its bytes, a `Blob`/`File`, a URL (absolute, or a
 * path relative to the page), or `"indexeddb://name"`.
 */
export type ModelFileSource = Uint8Array | ArrayBuffer | Blob | URL | string;

/** A model saved in IndexedDB (`Model.list()`). */
export interface SavedModel {
  name: string;
  architecture: string;
  classes: string[];
  /** The model file's size in bytes. */
  size: number;
  /** When it was saved (milliseconds since 1970). */
  savedAt: number;
}

/**
 * Where a model comes from: a shipped model's name, a model file ({@link ModelFileSource}), or an
 * architecture with bare weights.
 */
export type ModelSource =
  | ModelFileSource
  | {
      architecture: string;
      /** Bytes from {@link Model.exportWeights}; omitted: freshly initialised (from a fixed seed, so repeatable). */
      weights?: Uint8Array | ArrayBuffer;
      /** Class labels (their number sets the output size); default the digits 0–9. */
      classes?: string[];
    };

/** Options of {@link Model.load}. */
export interface LoadOptions {
  backend?: BackendName;
  /**
   * Transfer learning from a shipped model: keep its trained layers and put a fresh classifying
   * layer with these labels on them (2 to 4,096), e.g.
   * `Model.load("efficientnet-lite0-imagenet", { classes: ["cat", "dog"] })`; then
   * `fit(data, { train: "head" })` trains that layer alone.
   *
   * For an ONNX network: its labels, by output index (default: the file's `labels` metadata, or
   * numbers); with `transfer: true`, the classes of a fresh head.
   */
  classes?: string[];
  /**
   * An ONNX network's input: how pixels in [0, 1] become what it was trained on,
   * `(pixel · scale − mean) / std` per channel (`bgr`: channels reversed first), e.g.
   * `{ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }` for torchvision's models.
   */
  input?: Normalise;
  /** Transfer learning on an ONNX network: a fresh classifying layer of `classes` at `cut`. */
  transfer?: boolean;
  /** The dense or convolution node a fresh head replaces (default: the last dense node, or else the last convolution). */
  cut?: string;
  /** How images become the input, instead of the shipped model's or the architecture's way. */
  preprocess?: Preprocess;
  onProgress?: (progress: LoadProgress) => void;
  /** Run the model in a Web Worker (browsers only); same API. */
  worker?: boolean;
  /**
   * Threads for the CPU backend's kernels, an integer from 1 to 256 (default: the browser's
   * `navigator.hardwareConcurrency`). Used only in worker mode on a cross-origin isolated page
   * whose engine has WebAssembly threads; elsewhere, and with 1, the CPU backend runs on one
   * thread. `model.backend.threads` says how many it got. README: "Threads".
   */
  threads?: number;
}
