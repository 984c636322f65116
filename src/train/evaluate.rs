//! Loss, accuracy, the confusion matrix and the mistakes of a model on a dataset, read back once
//! at the end.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::{Device, Tensor};
use burn::tensor::activation::softmax;

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

/// Evaluates `model` (inference mode: call `.valid()` on a training model) on every image: the
/// loss and accuracy of [`assess`].
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
    Ok(assess(model, data, batch_size, device).await?.evaluation)
}

/// One image the model got wrong.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Mistake {
    /// Its index in the dataset.
    pub index: usize,
    /// Its label (the true class).
    pub label: usize,
    /// The class the model gave it.
    pub predicted: usize,
    /// The probability of the predicted class.
    pub score: f32,
    /// The probability the model gave the true class.
    pub label_score: f32,
}

/// [`Evaluation`] with what went wrong: the confusion matrix and every misclassified image
/// (`Model.evaluate`'s answer).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct EvaluationReport {
    /// Loss, accuracy and image count.
    #[serde(flatten)]
    pub evaluation: Evaluation,
    /// The confusion matrix.
    pub confusion: Confusion,
    /// Every misclassified image, in dataset order: its index, true label, predicted class and
    /// their probabilities.
    pub mistakes: Vec<Mistake>,
}

/// How many images of each class got each class.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Confusion {
    /// Classes (the matrix is `classes`×`classes`).
    pub classes: usize,
    /// `counts[label * classes + predicted]`: how many images of class `label` were given
    /// class `predicted` (rows: the truth; the diagonal: the right ones).
    #[serde(serialize_with = "crate::typed::u32s")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Uint32Array"))]
    pub counts: Vec<u32>,
}

/// Loss, accuracy, and from each image's predicted class the confusion matrix and the mistakes,
/// in one pass read back once.
///
/// # Errors
/// [`Error::BadInput`] when the dataset's images do not fit the model or `batch_size` is 0;
/// [`Error::Backend`] when reading the result fails.
pub async fn assess<M: ImageClassifier>(
    model: &M,
    data: &Dataset,
    batch_size: usize,
    device: &Device,
) -> Result<EvaluationReport> {
    if batch_size == 0 {
        return Err(Error::BadInput("batch size must be at least 1".into()));
    }
    let [c, h, w] = data.shape();
    check_input(model.input_shape(), [1, c, h, w])?;
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut loss_sum: Tensor<1> = Tensor::zeros([1], device);
    let mut read = Vec::new();
    let indices: Vec<usize> = (0..data.len()).collect();
    let mut classes = 0;
    for chunk in indices.chunks(batch_size) {
        let batch = data.batch(chunk, device, None);
        let logits = model.logits(batch.images);
        let n = chunk.len();
        classes = logits.dims()[1];
        let probabilities = softmax(logits.clone(), 1);
        let predicted = probabilities.clone().argmax(1); // [n, 1]
        let score = probabilities.clone().gather(1, predicted.clone());
        let label_score = probabilities.gather(1, batch.labels.clone().reshape([n, 1]));
        loss_sum = loss_sum + loss_fn.forward(logits, batch.labels) * n as f32;
        read.push(Tensor::cat(vec![predicted.float(), score, label_score], 1).reshape([n * 3]));
        yield_to_event_loop().await;
    }
    read.push(loss_sum);
    let mut values = read_all(read).await?;
    let loss = values.pop().map_or(0.0, |v| v[0]) / data.len() as f32;
    let mut confusion = vec![0u32; classes * classes];
    let mut mistakes = Vec::new();
    let mut right = 0usize;
    let rows = values.iter().flat_map(|v| v.chunks_exact(3));
    for ((index, row), &label) in rows.enumerate().zip(data.labels()) {
        let (predicted, label) = (row[0] as usize, usize::from(label));
        if let Some(cell) = confusion.get_mut(label * classes + predicted) {
            *cell += 1;
        }
        if predicted == label {
            right += 1;
        } else {
            mistakes.push(Mistake {
                index,
                label,
                predicted,
                score: row[1],
                label_score: row[2],
            });
        }
    }
    Ok(EvaluationReport {
        evaluation: Evaluation {
            loss,
            accuracy: right as f32 / data.len() as f32,
            images: data.len(),
        },
        confusion: Confusion {
            classes,
            counts: confusion,
        },
        mistakes,
    })
}
