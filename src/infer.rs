//! Inference that ends on the host: class probabilities and feature maps as plain numbers.

use burn::tensor::activation::softmax;

use crate::error::Result;
use crate::model::{ImageClassifier, check_input};
use crate::readback::{read, read_all};
use burn::prelude::Tensor;

/// One layer's output for one image, read back to the host.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMap {
    /// The layer's name, e.g. `"conv1"`.
    pub layer: &'static str,
    /// `[channels, height, width]` (a dense layer is `[features, 1, 1]`).
    pub shape: [usize; 3],
    /// `channels·height·width` values, channel after channel.
    pub data: Vec<f32>,
}

/// Softmax probabilities, `classes` values per image, image after image.
///
/// # Errors
/// [`crate::Error::BadInput`] for a wrongly shaped input, [`crate::Error::Backend`] when
/// reading the result fails.
pub async fn probabilities<M: ImageClassifier>(model: &M, images: Tensor<4>) -> Result<Vec<f32>> {
    let logits = model.try_logits(images)?;
    read(softmax(logits, 1)).await
}

/// Every layer's output for the first image of `images`, in forward order, read in one go.
///
/// # Errors
/// As for [`probabilities`].
pub async fn feature_maps<M: ImageClassifier>(
    model: &M,
    images: Tensor<4>,
) -> Result<Vec<FeatureMap>> {
    check_input(model.input_shape(), images.dims())?;
    let activations = model.activations(images.narrow(0, 0, 1));
    let shapes: Vec<_> = activations
        .layers
        .iter()
        .map(|a| {
            let [_, c, h, w] = a.tensor.dims();
            (a.layer, [c, h, w])
        })
        .collect();
    let data = read_all(activations.layers.into_iter().map(|a| a.tensor).collect()).await?;
    Ok(shapes
        .into_iter()
        .zip(data)
        .map(|((layer, shape), data)| FeatureMap { layer, shape, data })
        .collect())
}

/// The first convolution's kernels, read back: `(layer, [out, in, kh, kw], values)`.
///
/// # Errors
/// [`crate::Error::Backend`] when reading fails.
pub async fn first_filters<M: ImageClassifier>(
    model: &M,
) -> Result<(&'static str, [usize; 4], Vec<f32>)> {
    let (layer, weight) = model.first_filters();
    let shape = weight.dims();
    Ok((layer, shape, read(weight).await?))
}
