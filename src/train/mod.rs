//! Training: one optimisation step and the ReduceLROnPlateau scheduler.

mod plateau;
mod step;

pub use plateau::{PlateauMode, ReduceLrOnPlateau, ReduceLrOnPlateauConfig, ThresholdMode};
pub use step::{Batch, adam, train_step};
