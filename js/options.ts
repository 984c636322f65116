/** The options of the API's calls, checked and copied before anything reaches wasm (`BAD_INPUT` naming the option). */

import {
  AUGMENT,
  BATCH_SIZE,
  EARLY_STOPPING_PATIENCE,
  ELASTIC,
  EPOCHS,
  LEARNING_RATE,
  MAX_CLASSES,
  MIN_CLASSES,
  MAX_LABEL_LENGTH,
  MAX_LAYERS,
  MAX_NAME,
  MAX_WEIGHTS_BYTES,
  PATIENCE,
  READ_LOSS_EVERY,
  SEED,
  STEPS,
  THREADS,
  TOP_K,
  VALIDATION_SPLIT,
} from "./limits.js";
import {
  bad,
  bytes,
  callback,
  describe,
  integer,
  number,
  options as plainOptions,
  ranged,
  reading,
} from "./guard.js";
import { ConvlensError } from "./errors.js";
import type { Dataset, EpochEvent, LoadOptions, Normalise, Preprocess, StepEvent } from "./types.js";

const BACKENDS = ["auto", "webgpu", "cpu"];
const FIT_OPTIONS = ["epochs", "batchSize", "learningRate", "patience", "augment", "elastic", "validationData", "validationSplit",
  "seed", "readLossEvery", "train", "schedule", "earlyStopping", "preprocess", "signal", "onStep", "onEpoch"] as const;

/** `Model.load`'s options, checked (`BAD_INPUT` naming the option). */
export function loadOptions(raw: unknown): LoadOptions {
  const o = plainOptions(raw, "Model.load options", ["backend", "onProgress", "worker", "threads", "classes", "preprocess", "input", "transfer", "cut"]);
  if (o.transfer !== undefined && typeof o.transfer !== "boolean") throw bad("transfer", "true or false", o.transfer);
  if (o.cut !== undefined && (typeof o.cut !== "string" || o.cut.length > MAX_LABEL_LENGTH)) {
    throw bad("cut", `a node's name of at most ${MAX_LABEL_LENGTH} characters`, o.cut);
  }
  if (o.backend !== undefined && !BACKENDS.includes(o.backend as string)) {
    throw bad("backend", '"auto", "webgpu" or "cpu"', o.backend);
  }
  if (o.worker !== undefined && typeof o.worker !== "boolean") throw bad("worker", "true or false", o.worker);
  return {
    backend: o.backend as LoadOptions["backend"],
    onProgress: callback(o.onProgress, "onProgress"),
    worker: o.worker as boolean | undefined,
    threads: ranged(o.threads, "threads", THREADS),
    classes: o.classes === undefined ? undefined : labels(o.classes),
    preprocess: preprocessOption(o.preprocess),
    input: inputOption(o.input),
    transfer: o.transfer as boolean | undefined,
    cut: o.cut as string | undefined,
  };
}

/** An ONNX network's `input` normalisation, checked and copied. */
function inputOption(raw: unknown): Normalise | undefined {
  if (raw === undefined) return undefined;
  const o = plainOptions(raw, "input", ["mean", "std", "scale", "bgr"]);
  const perChannel = (value: unknown, name: string): number[] => {
    if (value === undefined) return [];
    return reading(`input.${name}`, () => {
      if (!Array.isArray(value) || value.length > 4) throw bad(`input.${name}`, "an array of 1 to 4 numbers, one per channel", value);
      return Array.from({ length: value.length }, (_, i) => {
        const v = value[i] as unknown;
        if (typeof v !== "number" || !Number.isFinite(v)) throw bad(`input.${name}[${i}]`, "a finite number", v);
        return v;
      });
    });
  };
  const std = perChannel(o.std, "std");
  if (std.includes(0)) throw bad("input.std", "numbers other than 0", o.std);
  if (o.scale !== undefined && (typeof o.scale !== "number" || !Number.isFinite(o.scale) || o.scale === 0)) {
    throw bad("input.scale", "a finite number other than 0 (1, or 255 for a network trained on bytes)", o.scale);
  }
  if (o.bgr !== undefined && typeof o.bgr !== "boolean") throw bad("input.bgr", "true or false", o.bgr);
  return { mean: perChannel(o.mean, "mean"), std, scale: (o.scale as number | undefined) ?? 1, bgr: (o.bgr as boolean | undefined) ?? false };
}

/** A list of class labels, checked and copied. */
function labels(raw: unknown): string[] {
  return reading("classes", () => {
    if (!Array.isArray(raw)) throw bad("classes", "an array of label strings", raw);
    const length = raw.length;
    if (length < MIN_CLASSES || length > MAX_CLASSES) throw bad("classes", `${MIN_CLASSES} to ${MAX_CLASSES} labels`, raw);
    return Array.from({ length }, (_, i) => {
      const label = raw[i] as unknown;
      if (typeof label !== "string" || label.length > MAX_LABEL_LENGTH) {
        throw bad(`classes[${i}]`, `a string of at most ${MAX_LABEL_LENGTH} characters`, label);
      }
      return label;
    });
  });
}

/** A `preprocess` option, checked and copied: `{ kind: "resize" }`, `{ kind: "centreCrop", fraction }` or `{ kind: "centreDigit" }`. */
export function preprocessOption(raw: unknown): Preprocess | undefined {
  if (raw === undefined) return undefined;
  const o = plainOptions(raw, "preprocess", ["kind", "fraction"]);
  if (o.kind === "resize") {
    if (o.fraction !== undefined) throw bad("preprocess.fraction", "nothing for a resize", o.fraction);
    return { kind: "resize" };
  }
  if (o.kind === "centreDigit") {
    if (o.fraction !== undefined) throw bad("preprocess.fraction", "nothing for centreDigit", o.fraction);
    return { kind: "centreDigit" };
  }
  if (o.kind === "centreCrop") {
    const fraction = number(o.fraction, "preprocess.fraction", 0, 1, { min: true });
    if (fraction === undefined) throw bad("preprocess.fraction", "a number in (0, 1]", o.fraction);
    return { kind: "centreCrop", fraction };
  }
  throw bad("preprocess.kind", '"resize", "centreCrop" or "centreDigit"', o.kind);
}

/** `{ architecture, weights?, classes? }`, checked and copied. */
export function ownSource(source: object): { architecture: string; weights?: Uint8Array; classes?: string[] } {
  const o = plainOptions(source, "the model source", ["architecture", "weights", "classes"]);
  if (typeof o.architecture !== "string" || o.architecture.length > MAX_NAME) {
    throw bad("architecture", "the name of an architecture (see architectures())", o.architecture);
  }
  const weights = o.weights === undefined ? undefined : bytes(o.weights, "weights", MAX_WEIGHTS_BYTES);
  const classes = o.classes === undefined ? undefined : labels(o.classes);
  return { architecture: o.architecture, weights, classes };
}

/** `fit`'s options, checked and copied: the ones for the wasm module, and the JS-side ones. */
export function fitOptions(raw: unknown) {
  const o = plainOptions(raw, "fit options", FIT_OPTIONS);
  const signal = o.signal;
  if (
    signal !== undefined &&
    !(typeof AbortSignal !== "undefined" && signal instanceof AbortSignal) &&
    !(typeof signal === "object" && signal !== null && typeof (signal as AbortSignal).addEventListener === "function")
  ) {
    throw bad("signal", "an AbortSignal", signal);
  }
  return {
    wasm: {
      epochs: ranged(o.epochs, "epochs", EPOCHS),
      batchSize: ranged(o.batchSize, "batchSize", BATCH_SIZE),
      learningRate: ranged(o.learningRate, "learningRate", LEARNING_RATE),
      patience: ranged(o.patience, "patience", PATIENCE),
      augment: ranged(o.augment, "augment", AUGMENT),
      elastic: ranged(o.elastic, "elastic", ELASTIC),
      validationSplit: ranged(o.validationSplit, "validationSplit", VALIDATION_SPLIT),
      seed: ranged(o.seed, "seed", SEED),
      readLossEvery: ranged(o.readLossEvery, "readLossEvery", READ_LOSS_EVERY),
      train: oneOf(o.train, "train", ["all", "head"] as const),
      schedule: oneOf(o.schedule, "schedule", ["plateau", "cosine", "none"] as const),
      earlyStopping: earlyStopping(o.earlyStopping),
    },
    validationData: o.validationData as Dataset | undefined,
    preprocess: preprocessOption(o.preprocess),
    signal: signal as AbortSignal | undefined,
    onStep: callback<(e: StepEvent) => void>(o.onStep, "onStep"),
    onEpoch: callback<(e: EpochEvent) => unknown>(o.onEpoch, "onEpoch"),
  };
}


/** `classify`'s `{ topK, preprocess }` (default: every class, the model's preparation). */
export function classifyOptions(options: unknown, classes: number): { topK: number; preprocess?: Preprocess } {
  const o = plainOptions(options, "classify options", ["topK", "preprocess"]);
  return { topK: ranged(o.topK, "topK", TOP_K) ?? classes, preprocess: preprocessOption(o.preprocess) };
}

/** `embed`'s and `prepare`'s `{ preprocess }`. */
export function imageOptions(options: unknown, call: string): { preprocess?: Preprocess } {
  return { preprocess: preprocessOption(plainOptions(options, `${call} options`, ["preprocess"]).preprocess) };
}

/** `explain`'s `{ method, classIndex, layer, steps, preprocess }`, checked. */
export function explainOptions(options: unknown, classes: number) {
  const o = plainOptions(options, "explain options", ["method", "classIndex", "layer", "steps", "preprocess"]);
  const layer = o.layer;
  if (layer !== undefined && (typeof layer !== "string" || layer.length === 0 || layer.length > MAX_NAME)) {
    throw bad("layer", "a layer name (a string)", layer);
  }
  return {
    wasm: {
      method: oneOf(o.method, "method", ["gradcam", "saliency", "integrated-gradients"] as const),
      classIndex: integer(o.classIndex, "classIndex", 0, classes - 1),
      layer: layer as string | undefined,
      steps: ranged(o.steps, "steps", STEPS),
    },
    preprocess: preprocessOption(o.preprocess),
  };
}

/** `featureMaps`' `{ preprocess, layers }`. */
export function mapOptions(options: unknown): { preprocess?: Preprocess; layers?: string[] } {
  const o = plainOptions(options, "featureMaps options", ["preprocess", "layers"]);
  const raw = o.layers;
  const layers =
    raw === undefined
      ? undefined
      : reading("layers", () => {
          if (!Array.isArray(raw) || raw.length > MAX_LAYERS) throw bad("layers", `an array of at most ${MAX_LAYERS} layer names`, raw);
          return Array.from({ length: raw.length }, (_, i) => {
            const name = raw[i] as unknown;
            if (typeof name !== "string" || name.length > MAX_NAME) throw bad(`layers[${i}]`, "a layer name", name);
            return name;
          });
        });
  return { preprocess: preprocessOption(o.preprocess), layers };
}

/** `fit`'s `earlyStopping: { patience, restoreBest? }`, checked and copied. */
function earlyStopping(raw: unknown): { patience: number; restoreBest?: boolean } | undefined {
  if (raw === undefined) return undefined;
  const o = plainOptions(raw, "earlyStopping", ["patience", "restoreBest"]);
  const patience = ranged(o.patience, "earlyStopping.patience", EARLY_STOPPING_PATIENCE);
  if (patience === undefined) throw bad("earlyStopping.patience", "a whole number of epochs from 1", o.patience);
  if (o.restoreBest !== undefined && typeof o.restoreBest !== "boolean") throw bad("earlyStopping.restoreBest", "true or false", o.restoreBest);
  return { patience, restoreBest: o.restoreBest as boolean | undefined };
}

/** `value` if it is one of `allowed` (or undefined). */
function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw bad(name, allowed.map((a) => JSON.stringify(a)).join(" or "), value);
}

/**
 * Hands a training event to the caller's `onStep` or `onEpoch`; if that throws, returns the
 * `ABORTED` error `fit` rejects with (its `cause` the exception), and the caller stops training.
 */
export function deliver(
  event: { type: string },
  onStep: ((e: StepEvent) => void) | undefined,
  onEpoch: ((e: EpochEvent) => unknown) | undefined,
): ConvlensError | "stop" | undefined {
  try {
    if (event.type === "step") onStep?.(event as StepEvent);
    // `false` from onEpoch ends training after this epoch (fit resolves with the epochs so far).
    else if (onEpoch?.(event as EpochEvent) === false) return "stop";
    return undefined;
  } catch (err) {
    const which = event.type === "step" ? "onStep" : "onEpoch";
    return new ConvlensError(
      "ABORTED",
      `${which} threw (${err instanceof Error ? err.message : describe(err)}); training stopped, the model keeps its last step's weights`,
      { cause: err },
    );
  }
}
