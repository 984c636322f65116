//! Loss and accuracy of a model on a dataset, read back once at the end.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::{Device, Int, Tensor};

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::model::{ImageClassifier, check_input};
use crate::pause::yield_to_event_loop;
use crate::readback::read_all;

/// Loss and accuracy on a dataset.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// Mean cross-entropy over the dataset.
    pub loss: f32,
    /// Fraction of images whose top class is their label, in `[0, 1]`.
    pub accuracy: f32,
    /// How many images were evaluated.
    pub images: usize,
}

/// How many rows of `logits` have their largest score at `labels` (a `[1]` tensor, on the
/// device).
///
/// # Shapes
/// - `logits`: `[batch, classes]`, `labels`: `[batch]`
pub(crate) fn hits(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    logits
        .argmax(1)
        .squeeze_dim::<1>(1)
        .equal(labels)
        .int()
        .sum()
        .float()
}

/// Evaluates `model` (inference mode: call `.valid()` on a training model) on every image.
///
/// # Errors
/// [`Error::BadInput`] when the dataset's images do not fit the model or `batch_size` is 0;
/// [`Error::Backend`] when reading the result fails.
pub async fn evaluate<M: ImageClassifier>(
    model: &M,
    data: &Dataset,
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation> {
    if batch_size == 0 {
        return Err(Error::BadInput("batch size must be at least 1".into()));
    }
    let [c, h, w] = data.shape();
    check_input(model.input_shape(), [1, c, h, w])?;
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut loss_sum: Tensor<1> = Tensor::zeros([1], device);
    let mut correct: Tensor<1> = Tensor::zeros([1], device);
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(batch_size) {
        let batch = data.batch(chunk, device, None);
        let logits = model.logits(batch.images);
        let hits = hits(logits.clone(), batch.labels.clone());
        loss_sum = loss_sum + loss_fn.forward(logits, batch.labels) * chunk.len() as f32;
        correct = correct + hits;
        yield_to_event_loop().await;
    }
    let values = read_all(vec![loss_sum, correct]).await?;
    let n = data.len() as f32;
    Ok(Evaluation {
        loss: values[0][0] / n,
        accuracy: values[1][0] / n,
        images: data.len(),
    })
}
