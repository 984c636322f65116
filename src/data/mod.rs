//! Turning caller-supplied pixels and labels into tensors, with validation; dataset readers.

mod augment;
mod dataset;
mod idx;
mod images;
mod resize;

pub use augment::{affine, elastic, shift};
pub use dataset::{Augment, Batch, Dataset, SplitMix};
pub use idx::{Idx, parse_idx};
pub use images::{check_finite, check_labels, images_tensor, labels_tensor};
pub use resize::{
    MAX_BATCH, MAX_SIDE, Placement, fit_image, fit_images, fit_images_centred_digit,
    fit_images_cropped,
};
