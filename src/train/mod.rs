//! Training: one optimisation step, the ReduceLROnPlateau scheduler, evaluation and the loop.
//!
//! Evaluation is inference and always built; the optimiser step and the loop need autodiff and
//! Adam, which only the `train` feature (on by default) compiles in: the browser's first
//! download is the crate without it (README, "The JS API and the npm package").

mod evaluate;
mod events;
#[cfg(feature = "train")]
mod fit;
mod options;
mod plateau;
#[cfg(feature = "train")]
mod step;

pub use evaluate::{Confusion, Evaluation, EvaluationReport, Mistake, assess, evaluate};
pub use events::{EpochEvent, FitEvent, Schedule, StepEvent};
#[cfg(feature = "train")]
pub use fit::{BatchStream, FitConfig, FitOutcome, Run, StreamFuture, TrainData, fit};
pub use options::{EarlyStopping, FitOptions, Train, Validation};
pub use plateau::{PlateauMode, ReduceLrOnPlateau, ReduceLrOnPlateauConfig, ThresholdMode};
#[cfg(feature = "train")]
pub use step::{adam, train_step};
