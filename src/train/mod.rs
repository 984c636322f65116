//! Training: one optimisation step, the ReduceLROnPlateau scheduler, evaluation and the loop.

mod evaluate;
mod fit;
mod plateau;
mod step;

pub use evaluate::{Evaluation, evaluate};
pub use fit::{EpochEvent, FitConfig, FitEvent, FitOutcome, StepEvent, fit};
pub use plateau::{PlateauMode, ReduceLrOnPlateau, ReduceLrOnPlateauConfig, ThresholdMode};
pub use step::{Batch, adam, train_step};
