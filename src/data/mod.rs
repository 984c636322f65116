//! Turning caller-supplied pixels and labels into tensors, with validation; dataset readers.

mod idx;
mod images;

pub use idx::{Idx, parse_idx};
pub use images::{images_tensor, labels_tensor};
