//! Training: one optimisation step (the loop and the plateau scheduler build on it).

mod step;

pub use step::{Batch, adam, train_step};
