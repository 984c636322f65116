//! Inference that ends on the host: class probabilities and feature maps as plain numbers.

use burn::tensor::activation::softmax;

use crate::error::Result;
use crate::model::{ImageClassifier, check_input};
use crate::readback::{read, read_all};
use burn::prelude::{Device, Tensor};

/// One layer's output for one image, read back to the host.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct FeatureMap {
    /// The layer's name, e.g. `"conv1"`.
    pub layer: String,
    /// `[channels, height, width]` (a dense layer is `[features, 1, 1]`).
    pub shape: [usize; 3],
    /// `channels·height·width` values, channel after channel.
    #[serde(serialize_with = "crate::typed::f32s")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Float32Array"))]
    pub data: Vec<f32>,
}

/// The first convolution's kernels.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Filters {
    /// The layer's name, e.g. `"conv1"`.
    pub layer: String,
    /// `[outChannels, inChannels, kernelHeight, kernelWidth]`.
    pub shape: [usize; 4],
    /// The weights, kernel after kernel.
    #[serde(serialize_with = "crate::typed::f32s")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Float32Array"))]
    pub data: Vec<f32>,
}

/// Softmax probabilities, `classes` values per image, image after image.
///
/// # Errors
/// [`crate::Error::BadInput`] for a wrongly shaped input, [`crate::Error::Backend`] when
/// reading the result fails, [`crate::Error::BadWeights`] when a probability is not a finite
/// number (finite weights so large that the forward pass overflows; inputs are in [0, 1]).
pub async fn probabilities<M: ImageClassifier>(model: &M, images: Tensor<4>) -> Result<Vec<f32>> {
    let logits = model.try_logits(images)?;
    let probabilities = read(softmax(logits, 1)).await?;
    if let Some(p) = probabilities.iter().find(|p| !p.is_finite()) {
        return Err(crate::Error::BadWeights(format!(
            "the model's scores are not finite numbers ({p}): its weights are so large that the forward pass overflows"
        )));
    }
    Ok(probabilities)
}

/// One forward pass of a blank image on `device`, read back and thrown away: on WebGPU it
/// builds and compiles the forward pass's kernels, so that the first real call does not.
///
/// # Errors
/// As for [`probabilities`].
pub async fn warm_up<M: ImageClassifier>(model: &M, device: &Device) -> Result<()> {
    let [c, h, w] = model.input_shape();
    probabilities(model, Tensor::zeros([1, c, h, w], device)).await?;
    Ok(())
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
    let mut first = feature_maps_per_image(model, images.narrow(0, 0, 1), None).await?;
    Ok(first.remove(0))
}

/// Every layer's output for each image of `images` (one forward pass, one read), image after
/// image; each image's maps in forward order. With `layers`, only those layers are read back
/// (the rest are still computed, never copied off the device): what a page shows of a large
/// network.
///
/// # Errors
/// As for [`probabilities`]; [`Error::BadInput`] naming a layer the network does not have.
pub async fn feature_maps_per_image<M: ImageClassifier>(
    model: &M,
    images: Tensor<4>,
    layers: Option<&[String]>,
) -> Result<Vec<Vec<FeatureMap>>> {
    check_input(model.input_shape(), images.dims())?;
    let batch = images.dims()[0];
    let mut activations = model.activations(images);
    if let Some(wanted) = layers {
        let known: Vec<&str> = activations
            .layers
            .iter()
            .map(|a| a.layer.as_str())
            .collect();
        if let Some(unknown) = wanted.iter().find(|w| !known.contains(&w.as_str())) {
            return Err(crate::error::Error::BadInput(format!(
                "layers: this network has no layer {unknown:?}; it has {}",
                known.join(", ")
            )));
        }
        activations.layers.retain(|a| wanted.contains(&a.layer));
    }
    let shapes: Vec<_> = activations
        .layers
        .iter()
        .map(|a| {
            let [_, c, h, w] = a.tensor.dims();
            (a.layer.clone(), [c, h, w])
        })
        .collect();
    let data = read_all(activations.layers.into_iter().map(|a| a.tensor).collect()).await?;
    let mut per_image: Vec<Vec<FeatureMap>> = (0..batch).map(|_| Vec::new()).collect();
    for ((layer, shape), values) in shapes.into_iter().zip(data) {
        if let [maps] = per_image.as_mut_slice() {
            // One image (the page's case): its values move without a copy.
            maps.push(FeatureMap {
                layer,
                shape,
                data: values,
            });
            continue;
        }
        let per = shape.iter().product::<usize>();
        for (maps, chunk) in per_image.iter_mut().zip(values.chunks_exact(per)) {
            maps.push(FeatureMap {
                layer: layer.clone(),
                shape,
                data: chunk.to_vec(),
            });
        }
    }
    Ok(per_image)
}

/// The first convolution's kernels, read back: `(layer, [out, in, kh, kw], values)`.
///
/// # Errors
/// [`crate::Error::Backend`] when reading fails.
pub async fn first_filters<M: ImageClassifier>(model: &M) -> Result<Filters> {
    let (layer, weight) = model.first_filters();
    let shape = weight.dims();
    Ok(Filters {
        layer: layer.to_string(),
        shape,
        data: read(weight).await?,
    })
}
