//! Turning caller-supplied pixels and labels into tensors, with validation.

mod images;

pub use images::{images_tensor, labels_tensor};
