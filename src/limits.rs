//! Every limit and option range of the API, written once. The Rust core checks them; the JS API
//! checks the same ones before anything is copied or posted, from `js/limits.ts`, which
//! [`typescript`] writes from these values (`tests/api/generated.rs` fails when that file is stale;
//! `CONVLENS_BLESS=1 cargo test --test api generated` rewrites it).

use std::ops::RangeInclusive;

use crate::error::{Error, Result};

/// The most values (floats or bytes) of images one call reads: 64 Mi, 256 MiB as f32. A call's
/// input is copied into wasm memory, which may hold at most 4 GiB and never shrinks, so a larger
/// one would leave the page's memory grown for good.
pub const MAX_VALUES: usize = 64 * 1024 * 1024;
/// The most images one call reads, and the largest `batchSize`.
pub const MAX_BATCH: usize = 1024;
/// The largest side of an image, in pixels.
pub const MAX_SIDE: usize = 8192;
/// The most bytes of a dataset's images (256 Mi: 340,000 MNIST-sized images).
pub const MAX_DATASET_BYTES: usize = 256 * 1024 * 1024;
/// The largest weights or model file (256 MiB; the biggest shipped model is 0.6 MiB).
pub const MAX_WEIGHTS_BYTES: usize = 256 * 1024 * 1024;
/// The fewest classes a model may have.
pub const MIN_CLASSES: usize = 2;
/// The most classes a model may have.
pub const MAX_CLASSES: usize = 4096;
/// How many classes a model may have.
pub const CLASSES: RangeInclusive<usize> = MIN_CLASSES..=MAX_CLASSES;
/// The longest class label, in characters.
pub const MAX_LABEL_LENGTH: usize = 256;
/// The longest name an option may give (an architecture, a layer), in characters.
pub const MAX_NAME: usize = 100;
/// The most layers an option may list.
pub const MAX_LAYERS: usize = 256;

/// A numeric option's accepted values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
    /// Whether `min` itself is refused.
    pub min_open: bool,
    /// Whether `max` itself is refused.
    pub max_open: bool,
    /// Whole numbers only.
    pub whole: bool,
}

impl Range {
    /// Whole numbers from `min` to `max`.
    pub const fn whole(min: f64, max: f64) -> Self {
        Self {
            min,
            max,
            min_open: false,
            max_open: false,
            whole: true,
        }
    }

    /// Whether `v` is accepted.
    pub fn contains(&self, v: f64) -> bool {
        let above = if self.min_open {
            v > self.min
        } else {
            v >= self.min
        };
        let below = if self.max_open {
            v < self.max
        } else {
            v <= self.max
        };
        v.is_finite() && above && below && (!self.whole || v.fract() == 0.0)
    }

    /// What the range accepts, in words: "a whole number from 1 to 256", "a number above 0
    /// and below 10".
    pub fn describe(&self) -> String {
        let what = if self.whole {
            "a whole number"
        } else {
            "a number"
        };
        let from = if self.min_open { "above" } else { "from" };
        let to = if self.max_open { "and below" } else { "to" };
        format!("{what} {from} {} {to} {}", self.min, self.max)
    }

    /// `value` checked (`None` when not given).
    ///
    /// # Errors
    /// [`Error::BadInput`] naming `key`, the range and the value.
    pub fn check(&self, key: &str, value: Option<f64>) -> Result<Option<f64>> {
        match value {
            Some(v) if !self.contains(v) => Err(Error::BadInput(format!(
                "{key} must be {}, got {v}",
                self.describe()
            ))),
            other => Ok(other),
        }
    }

    /// A whole-number option checked and converted (`None` when not given).
    ///
    /// # Errors
    /// [`Error::BadInput`] naming `key`, the range and the value.
    pub fn whole_number<T: TryFrom<u64>>(
        &self,
        key: &str,
        value: Option<f64>,
    ) -> Result<Option<T>> {
        let Some(v) = self.check(key, value)? else {
            return Ok(None);
        };
        T::try_from(v as u64)
            .map(Some)
            .map_err(|_| Error::BadInput(format!("{key} must be {}, got {v}", self.describe())))
    }
}

/// `fit`'s `epochs`.
pub const EPOCHS: Range = Range::whole(1.0, 1e6);
/// `fit`'s `batchSize`.
pub const BATCH_SIZE: Range = Range::whole(1.0, MAX_BATCH as f64);
/// `fit`'s `patience` (ReduceLROnPlateau).
pub const PATIENCE: Range = Range::whole(1.0, 1e6);
/// `fit`'s `earlyStopping.patience`.
pub const EARLY_STOPPING_PATIENCE: Range = Range::whole(1.0, 1e6);
/// `fit`'s `readLossEvery`.
pub const READ_LOSS_EVERY: Range = Range::whole(1.0, 1e6);
/// `fit`'s `augment`: the largest shift in pixels.
pub const AUGMENT: Range = Range::whole(0.0, 8.0);
/// `fit`'s `elastic`: the largest elastic displacement in pixels.
pub const ELASTIC: Range = Range {
    whole: false,
    ..Range::whole(0.0, 8.0)
};
/// `fit`'s `learningRate`.
pub const LEARNING_RATE: Range = Range {
    min: 0.0,
    max: 10.0,
    min_open: true,
    max_open: true,
    whole: false,
};
/// `fit`'s `validationSplit`.
pub const VALIDATION_SPLIT: Range = Range {
    min: 0.0,
    max: 1.0,
    min_open: false,
    max_open: true,
    whole: false,
};
/// `fit`'s `seed`: every whole number a JS number holds exactly (2^53 − 1).
pub const SEED: Range = Range::whole(0.0, 9_007_199_254_740_991.0);
/// Integrated gradients' `steps`.
pub const STEPS: Range = Range::whole(1.0, 256.0);
/// `Model.load`'s `threads`.
pub const THREADS: Range = Range::whole(1.0, 256.0);
/// `classify`'s `topK`.
pub const TOP_K: Range = Range::whole(1.0, MAX_CLASSES as f64);

/// The sizes, as `js/limits.ts` names them.
const SIZES: [(&str, &str, usize); 10] = [
    (
        "MAX_VALUES",
        "The most values (floats or bytes) of images one call reads.",
        MAX_VALUES,
    ),
    (
        "MAX_BATCH",
        "The most images one call reads, and the largest `batchSize`.",
        MAX_BATCH,
    ),
    (
        "MAX_SIDE",
        "The largest side of an image, in pixels.",
        MAX_SIDE,
    ),
    (
        "MAX_DATASET_BYTES",
        "The most bytes of a dataset's images.",
        MAX_DATASET_BYTES,
    ),
    (
        "MAX_WEIGHTS_BYTES",
        "The largest weights or model file, in bytes.",
        MAX_WEIGHTS_BYTES,
    ),
    (
        "MIN_CLASSES",
        "The fewest classes a model may have.",
        MIN_CLASSES,
    ),
    (
        "MAX_CLASSES",
        "The most classes a model may have.",
        MAX_CLASSES,
    ),
    (
        "MAX_LABEL_LENGTH",
        "The longest class label, in characters.",
        MAX_LABEL_LENGTH,
    ),
    (
        "MAX_NAME",
        "The longest name an option may give (an architecture, a layer), in characters.",
        MAX_NAME,
    ),
    (
        "MAX_LAYERS",
        "The most layers an option may list.",
        MAX_LAYERS,
    ),
];

/// The option ranges, as `js/limits.ts` names them.
const RANGES: [(&str, &str, Range); 13] = [
    ("EPOCHS", "`fit`'s `epochs`.", EPOCHS),
    ("BATCH_SIZE", "`fit`'s `batchSize`.", BATCH_SIZE),
    ("PATIENCE", "`fit`'s `patience`.", PATIENCE),
    (
        "EARLY_STOPPING_PATIENCE",
        "`fit`'s `earlyStopping.patience`.",
        EARLY_STOPPING_PATIENCE,
    ),
    (
        "READ_LOSS_EVERY",
        "`fit`'s `readLossEvery`.",
        READ_LOSS_EVERY,
    ),
    ("AUGMENT", "`fit`'s `augment`.", AUGMENT),
    ("ELASTIC", "`fit`'s `elastic`.", ELASTIC),
    ("LEARNING_RATE", "`fit`'s `learningRate`.", LEARNING_RATE),
    (
        "VALIDATION_SPLIT",
        "`fit`'s `validationSplit`.",
        VALIDATION_SPLIT,
    ),
    ("SEED", "`fit`'s `seed`.", SEED),
    (
        "STEPS",
        "`explain`'s `steps` (integrated gradients).",
        STEPS,
    ),
    ("THREADS", "`Model.load`'s `threads`.", THREADS),
    ("TOP_K", "`classify`'s `topK`.", TOP_K),
];

/// `js/limits.ts`: these limits as TypeScript constants.
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from src/limits.rs by tests/api/generated.rs (`CONVLENS_BLESS=1 cargo test --test\n\
         // api generated` rewrites it); do not edit. The limits and option ranges the Rust core applies.\n",
    );
    for (name, doc, value) in SIZES {
        out += &format!("\n/** {doc} */\nexport const {name} = {value};\n");
    }
    out += "\n/** A numeric option's accepted values. */\nexport interface Range {\n  readonly min: number;\n  readonly max: number;\n  /** Whether `min` itself is refused. */\n  readonly minOpen: boolean;\n  /** Whether `max` itself is refused. */\n  readonly maxOpen: boolean;\n  /** Whole numbers only. */\n  readonly whole: boolean;\n}\n";
    for (name, doc, r) in RANGES {
        out += &format!(
            "\n/** {doc} */\nexport const {name}: Range = {{ min: {}, max: {}, minOpen: {}, maxOpen: {}, whole: {} }};\n",
            r.min, r.max, r.min_open, r.max_open, r.whole
        );
    }
    out
}
