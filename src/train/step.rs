//! One optimisation step: forward, cross-entropy, backward, Adam.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::{Int, Tensor};

use crate::data::Batch;
use crate::model::ImageClassifier;

/// Adam with PyTorch's defaults (β = 0.9/0.999, ε = 1e-8); the learning rate is given per step.
pub fn adam() -> ModuleOptimizer {
    AdamConfig::new().with_epsilon(1e-8).init()
}

/// Runs one step of `optim` on `batch` and returns the updated model, the batch's mean
/// cross-entropy loss and how many of its images were classified correctly, both *before* the
/// update (`[1]` tensors, still on the device: read them only when you need them, since a GPU
/// read stalls the pipeline).
///
/// The model's parameters must live on an autodiff device (`device.autodiff()`).
///
/// # Shapes
/// - `batch.images`: `[batch, ...model.input_shape()]`, `batch.labels`: `[batch]`
pub fn train_step<M: ImageClassifier>(
    model: M,
    optim: &mut ModuleOptimizer,
    batch: &Batch,
    learning_rate: f64,
) -> (M, Tensor<1>, Tensor<1>) {
    let logits = model.logits(batch.images.clone());
    let correct = hits(logits.clone().detach(), batch.labels.clone());
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits, batch.labels.clone());
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let model = optim.step(learning_rate, model, grads);
    (model, loss.detach(), correct)
}

/// How many rows of `logits` have their largest score at `labels` (a `[1]` tensor, on the
/// device).
///
/// # Shapes
/// - `logits`: `[batch, classes]`, `labels`: `[batch]`
fn hits(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    logits
        .argmax(1)
        .squeeze_dim::<1>(1)
        .equal(labels)
        .int()
        .sum()
        .float()
}
