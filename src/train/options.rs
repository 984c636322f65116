//! `fit`'s options as the caller gives them (JS, the CLI, tests), checked into the loop's
//! [`FitConfig`](crate::train::FitConfig) against the ranges of [`crate::limits`], and where the
//! validation images come from.

use serde::Deserialize;

use crate::data::Dataset;
use crate::error::{Error, Result};

/// Where the validation images come from.
#[derive(Debug, Clone)]
pub enum Validation {
    /// The last fraction of the training images (in `[0, 1)`; rounded, at least one image
    /// stays for training). 0 (or a set too small to give one) validates on the training
    /// images themselves, so the scheduler watches the training loss.
    Split(f64),
    /// The last this many training images (0 as for `Split(0.0)`).
    Count(usize),
    /// A separate set.
    Data(Dataset),
}

impl Validation {
    /// The training and the validation images.
    ///
    /// # Errors
    /// [`Error::BadInput`] for a split outside `[0, 1)` or a count not below the training
    /// images.
    pub fn split(self, all: Dataset) -> Result<(Dataset, Dataset)> {
        let held = match self {
            Validation::Data(validation) => return Ok((all, validation)),
            Validation::Split(fraction) => {
                crate::limits::VALIDATION_SPLIT.check("validationSplit", Some(fraction))?;
                ((all.len() as f64 * fraction).round() as usize).min(all.len() - 1)
            }
            Validation::Count(count) => {
                if count >= all.len() {
                    return Err(Error::BadInput(format!(
                        "the validation images ({count}) must be fewer than the training images ({})",
                        all.len()
                    )));
                }
                count
            }
        };
        Ok(if held == 0 {
            (all.clone(), all)
        } else {
            all.split_at(all.len() - held)
        })
    }
}

/// `fit`'s options, as JS passes them (camelCase) and the CLI's flags set them; absent ones
/// keep the defaults of [`crate::train::FitConfig`]. Unknown keys are errors. (The JS API's
/// `FitOptions` extends this with its callbacks, signal and validation data.)
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct FitOptions {
    /// Passes over the training images (1 to 1,000,000; default 5).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub epochs: Option<f64>,
    /// Images per step (1 to 1,024; default 64).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub batch_size: Option<f64>,
    /// Adam's first learning rate, in (0, 10) (default 1e-3).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub learning_rate: Option<f64>,
    /// ReduceLROnPlateau's patience in epochs (default 3).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub patience: Option<f64>,
    /// Augmentation: the largest shift in pixels, 0 to 8, with rotation and scaling (0: none).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub augment: Option<f64>,
    /// Augmentation: elastic distortion of up to this many pixels, 0 to 8 (with `augment`).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub elastic: Option<f64>,
    /// Seed of the shuffle and the augmentation (0 to 2^53 − 1).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub seed: Option<f64>,
    /// Read the training loss every this many steps (default 10).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub read_loss_every: Option<f64>,
    /// The fraction of the training images held out to validate when no validation set is
    /// given, in [0, 1) (default 0.1).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub validation_split: Option<f64>,
    /// What trains: `"all"` the weights (default), or `"head"` only the classifying layer, the
    /// rest frozen with its BatchNorm statistics (transfer learning on a pretrained backbone).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub train: Option<Train>,
    /// How the learning rate changes: `"plateau"` (default, ReduceLROnPlateau with `patience`),
    /// `"cosine"` (annealed to 0 over the epochs) or `"none"`.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub schedule: Option<crate::train::Schedule>,
    /// Stop once the validation loss has not improved for `patience` epochs; with
    /// `restoreBest`, end with the best epoch's weights.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub early_stopping: Option<EarlyStopping>,
}

/// `fit`'s `earlyStopping`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EarlyStopping {
    /// Epochs without a lower validation loss before training stops (1 to 1,000,000).
    pub patience: f64,
    /// End with the weights of the epoch with the lowest validation loss (default false).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    #[serde(default)]
    pub restore_best: Option<bool>,
}

/// Which weights [`Classifier::fit`](crate::session::Classifier::fit) trains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Train {
    /// Every weight.
    #[default]
    All,
    /// Only the classifying layer ([`ImageClassifier::head`](crate::model::ImageClassifier::head)).
    Head,
}

#[cfg(feature = "train")]
impl FitOptions {
    /// The training loop's settings, every value checked.
    ///
    /// # Errors
    /// [`Error::BadInput`] naming the option that is out of range or not whole.
    pub fn config(&self) -> Result<crate::train::FitConfig> {
        use crate::limits as l;
        let mut config = crate::train::FitConfig::new();
        /// `value` (when given) into `target`, if `range` accepts it.
        fn whole<T: TryFrom<u64>>(
            key: &str,
            value: Option<f64>,
            range: l::Range,
            target: &mut T,
        ) -> Result<()> {
            if let Some(v) = range.whole_number(key, value)? {
                *target = v;
            }
            Ok(())
        }
        whole("epochs", self.epochs, l::EPOCHS, &mut config.epochs)?;
        whole(
            "batchSize",
            self.batch_size,
            l::BATCH_SIZE,
            &mut config.batch_size,
        )?;
        whole("patience", self.patience, l::PATIENCE, &mut config.patience)?;
        whole(
            "readLossEvery",
            self.read_loss_every,
            l::READ_LOSS_EVERY,
            &mut config.read_loss_every,
        )?;
        whole("augment", self.augment, l::AUGMENT, &mut config.max_shift)?;
        whole("seed", self.seed, l::SEED, &mut config.seed)?;
        if let Some(schedule) = self.schedule {
            config.schedule = schedule;
        }
        if let Some(early) = self.early_stopping {
            let mut patience = 0usize;
            whole(
                "earlyStopping.patience",
                Some(early.patience),
                l::EARLY_STOPPING_PATIENCE,
                &mut patience,
            )?;
            config.early_stopping = Some(patience);
            config.restore_best = early.restore_best.unwrap_or(false);
        }
        if let Some(lr) = l::LEARNING_RATE.check("learningRate", self.learning_rate)? {
            config.learning_rate = lr;
        }
        if let Some(e) = l::ELASTIC.check("elastic", self.elastic)? {
            config.elastic = e as f32;
        }
        Ok(config)
    }

    /// Where validation images come from when no set is given.
    pub fn validation(&self) -> Validation {
        Validation::Split(self.validation_split.unwrap_or(0.1))
    }
}
