// Generated from src/limits.rs by tests/api/generated.rs (`CONVLENS_BLESS=1 cargo test --test
// api generated` rewrites it); do not edit. The limits and option ranges the Rust core applies.

/** The most values (floats or bytes) of images one call reads. */
export const MAX_VALUES = 67108864;

/** The most images one call reads, and the largest `batchSize`. */
export const MAX_BATCH = 1024;

/** The largest side of an image, in pixels. */
export const MAX_SIDE = 8192;

/** The most bytes of a dataset's images. */
export const MAX_DATASET_BYTES = 268435456;

/** The largest weights or model file, in bytes. */
export const MAX_WEIGHTS_BYTES = 268435456;

/** The fewest classes a model may have. */
export const MIN_CLASSES = 2;

/** The most classes a model may have. */
export const MAX_CLASSES = 4096;

/** The longest class label, in characters. */
export const MAX_LABEL_LENGTH = 256;

/** The longest name an option may give (an architecture, a layer), in characters. */
export const MAX_NAME = 100;

/** The most layers an option may list. */
export const MAX_LAYERS = 256;

/** A numeric option's accepted values. */
export interface Range {
  readonly min: number;
  readonly max: number;
  /** Whether `min` itself is refused. */
  readonly minOpen: boolean;
  /** Whether `max` itself is refused. */
  readonly maxOpen: boolean;
  /** Whole numbers only. */
  readonly whole: boolean;
}

/** `fit`'s `epochs`. */
export const EPOCHS: Range = { min: 1, max: 1000000, minOpen: false, maxOpen: false, whole: true };

/** `fit`'s `batchSize`. */
export const BATCH_SIZE: Range = { min: 1, max: 1024, minOpen: false, maxOpen: false, whole: true };

/** `fit`'s `patience`. */
export const PATIENCE: Range = { min: 1, max: 1000000, minOpen: false, maxOpen: false, whole: true };

/** `fit`'s `earlyStopping.patience`. */
export const EARLY_STOPPING_PATIENCE: Range = { min: 1, max: 1000000, minOpen: false, maxOpen: false, whole: true };

/** `fit`'s `readLossEvery`. */
export const READ_LOSS_EVERY: Range = { min: 1, max: 1000000, minOpen: false, maxOpen: false, whole: true };

/** `fit`'s `augment`. */
export const AUGMENT: Range = { min: 0, max: 8, minOpen: false, maxOpen: false, whole: true };

/** `fit`'s `elastic`. */
export const ELASTIC: Range = { min: 0, max: 8, minOpen: false, maxOpen: false, whole: false };

/** `fit`'s `learningRate`. */
export const LEARNING_RATE: Range = { min: 0, max: 10, minOpen: true, maxOpen: true, whole: false };

/** `fit`'s `validationSplit`. */
export const VALIDATION_SPLIT: Range = { min: 0, max: 1, minOpen: false, maxOpen: true, whole: false };

/** `fit`'s `seed`. */
export const SEED: Range = { min: 0, max: 9007199254740991, minOpen: false, maxOpen: false, whole: true };

/** `explain`'s `steps` (integrated gradients). */
export const STEPS: Range = { min: 1, max: 256, minOpen: false, maxOpen: false, whole: true };

/** `Model.load`'s `threads`. */
export const THREADS: Range = { min: 1, max: 256, minOpen: false, maxOpen: false, whole: true };

/** `classify`'s `topK`. */
export const TOP_K: Range = { min: 1, max: 4096, minOpen: false, maxOpen: false, whole: true };
