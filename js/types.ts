/** Public types of the convlens API. */

/** A backend name. `"auto"` picks WebGPU on a hardware adapter and the CPU backend otherwise. */
export type BackendName = "auto" | "webgpu" | "cpu";

/** What the browser says about its WebGPU adapter. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software adapter such as SwiftShader. */
  isFallbackAdapter: boolean;
}

/** The backend a model runs on. */
export interface BackendInfo {
  name: "webgpu" | "cpu";
  /** The WebGPU adapter, when `name` is `"webgpu"`. */
  adapter: AdapterInfo | null;
  /** Why `"auto"` chose the CPU backend, when it did. */
  fallbackReason: string | null;
  /**
   * How many threads the CPU backend's kernels run on: 1, or the size of the Web Worker pool of
   * the threaded module (worker mode on a cross-origin isolated page; README, "Threads").
   */
  threads: number;
}

/** An entry of {@link backends}. */
export interface AvailableBackend {
  name: "webgpu" | "cpu";
  adapter?: AdapterInfo;
}

/** What a model is. */
export interface ModelInfo {
  /** `"lenet5"`, `"vin"`, `"resnet8"` or `"alexnet"`. */
  architecture: string;
  /** `[channels, height, width]` the network reads; other sizes are resized. */
  inputShape: [number, number, number];
  /** Class labels by output index. */
  classes: string[];
  /** Trainable parameters. */
  parameters: number;
}

/** Pixels with their shape, channel-major (`[c, h, w]`, c = 1, 3 or 4). Bytes are 0–255, floats 0–1. */
export interface Pixels {
  data: Float32Array | Uint8Array | Uint8ClampedArray;
  shape: [number, number, number];
}

/** Anything {@link Model.classify} and {@link Model.featureMaps} accept. */
export type ImageInput =
  | Pixels
  | ImageData
  | HTMLCanvasElement
  | OffscreenCanvas
  | ImageBitmap
  | HTMLImageElement;

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

/** One layer's output for one image. */
export interface FeatureMap {
  layer: string;
  /** `[channels, height, width]`; dense layers are `[units, 1, 1]`. */
  shape: [number, number, number];
  data: Float32Array;
}

/** The first convolution's kernels. */
export interface Filters {
  layer: string;
  /** `[outChannels, inChannels, kernelHeight, kernelWidth]`. */
  shape: [number, number, number, number];
  data: Float32Array;
}

/** Labelled images; every image has the model's input shape. */
export interface Dataset {
  /** Image after image, channel-major: bytes 0–255 or floats 0–1. */
  images: Uint8Array | Uint8ClampedArray | Float32Array;
  /** Class index of each image. */
  labels: Uint8Array | Int32Array | number[];
  /** `[channels, height, width]` of one image. */
  shape: [number, number, number];
}

/** Sent after every optimisation step. */
export interface StepEvent {
  type: "step";
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  /** The batch loss, on the steps where it was read (every `readLossEvery`); otherwise null. */
  loss: number | null;
  lr: number;
  imagesPerSecond: number;
}

/** Loss and accuracy on a dataset. */
export interface Evaluation {
  loss: number;
  accuracy: number;
  images: number;
}

/** Sent after every epoch. */
export interface EpochEvent {
  type: "epoch";
  epoch: number;
  trainLoss: number;
  /** Fraction of this epoch's (augmented) training images classified correctly as they were seen. */
  trainAccuracy: number;
  validation: Evaluation;
  /** The learning rate used in this epoch. */
  lr: number;
  /** The learning rate ReduceLROnPlateau chose for the next epoch. */
  nextLr: number;
  seconds: number;
  imagesPerSecond: number;
}

/** Options of {@link Model.fit}. Training is Adam + ReduceLROnPlateau(min, factor 0.1) on the validation loss. */
export interface FitOptions {
  /** Default 5. */
  epochs?: number;
  /** Default 64. */
  batchSize?: number;
  /** Adam's initial learning rate, default 1e-3. */
  learningRate?: number;
  /** ReduceLROnPlateau's patience in epochs, default 3. */
  patience?: number;
  /** Augmentation: random shifts up to this many pixels plus small rotations and scalings (default 0: none). */
  augment?: number;
  /** Validation images; default: the last `validationSplit` of the training data. */
  validationData?: Dataset;
  /** Default 0.1. */
  validationSplit?: number;
  /** Shuffle and augmentation seed, default 42. */
  seed?: number;
  /** Read the training loss every this many steps (default 10): each read waits for the GPU. */
  readLossEvery?: number;
  /** Stops training within one step; `fit` then rejects with code `ABORTED` and the model keeps its last step. */
  signal?: AbortSignal;
  /** After each step. If it throws, training stops within one step and `fit` rejects with `ABORTED` whose `cause` is that exception. */
  onStep?: (event: StepEvent) => void;
  /** After each epoch; throwing stops training as for `onStep`. */
  onEpoch?: (event: EpochEvent) => void;
}

/** Progress of {@link Model.load}. */
export interface LoadProgress {
  phase: "runtime" | "weights" | "backend";
  /** Bytes loaded so far (weights), when known. */
  loaded?: number;
  total?: number;
}

/** Where a model's weights come from. */
export type ModelSource =
  | string
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
