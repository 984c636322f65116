//! What the training loop reports, step by step and epoch by epoch: plain values, built without
//! the `train` feature too (a model file's training record holds epochs, and every module reads
//! model files).

use super::evaluate::Evaluation;

/// Sent after every optimisation step.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct StepEvent {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the epoch.
    pub step: usize,
    /// Steps in one epoch: null during a streamed dataset's first epoch (its length is known
    /// once it has been read through).
    pub steps_per_epoch: Option<usize>,
    /// The batch loss, on the steps where it was read (every `readLossEvery`); otherwise null.
    pub loss: Option<f32>,
    /// The learning rate used.
    pub lr: f64,
    /// Training throughput so far in this epoch.
    pub images_per_second: f64,
}

/// Sent after every epoch, once it was evaluated.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct EpochEvent {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f32,
    /// Fraction of the epoch's training images classified correctly (as they were seen, with
    /// augmentation, by the weights of the moment).
    pub train_accuracy: f32,
    /// Loss and accuracy on the validation set.
    pub validation: Evaluation,
    /// The learning rate used during this epoch.
    pub lr: f64,
    /// The learning rate ReduceLROnPlateau chose for the next epoch.
    pub next_lr: f64,
    /// Wall time of the epoch, evaluation included.
    pub seconds: f64,
    /// Training throughput.
    pub images_per_second: f64,
}

/// What the training loop reports: `{ type: "step", … }` or `{ type: "epoch", … }`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FitEvent {
    /// After every step.
    Step(StepEvent),
    /// After every epoch.
    Epoch(EpochEvent),
}

/// How the learning rate changes from epoch to epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// ReduceLROnPlateau on the validation loss (×0.1 after `patience` epochs without
    /// improvement): the seed's.
    #[default]
    Plateau,
    /// Cosine annealing from the first rate to 0 over the epochs (no restarts).
    Cosine,
    /// The first rate throughout.
    None,
}
