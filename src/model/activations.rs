//! The output of every layer of a forward pass: what the page draws as feature maps.

use burn::prelude::Tensor;

/// One layer's output.
#[derive(Debug, Clone)]
pub struct LayerActivation {
    /// The layer's name, e.g. `"conv1"` or `"fc1"`.
    pub layer: &'static str,
    /// `[batch, channels, height, width]`; a dense layer's `[batch, features]` is stored as
    /// `[batch, features, 1, 1]` so that every layer has one shape.
    pub tensor: Tensor<4>,
}

/// Class scores plus every layer's output, in forward order.
#[derive(Debug, Clone)]
pub struct Activations {
    /// `[batch, classes]`, before softmax.
    pub logits: Tensor<2>,
    /// One entry per layer, in the order the forward pass runs them.
    pub layers: Vec<LayerActivation>,
}

impl Activations {
    /// Each layer's name and `[batch, channels, height, width]`.
    pub fn shapes(&self) -> Vec<(&'static str, [usize; 4])> {
        self.layers
            .iter()
            .map(|a| (a.layer, a.tensor.dims()))
            .collect()
    }
}

/// Where a forward pass reports layer outputs: nowhere (plain inference) or into a list.
pub struct Recorder(Option<Vec<LayerActivation>>);

impl Recorder {
    /// Records nothing: the forward pass costs what it would without activations.
    pub fn off() -> Self {
        Self(None)
    }

    /// Records every layer.
    pub fn on() -> Self {
        Self(Some(Vec::new()))
    }

    /// Records a convolutional layer's `[batch, channels, height, width]` output.
    pub fn map(&mut self, layer: &'static str, tensor: &Tensor<4>) {
        if let Some(layers) = &mut self.0 {
            layers.push(LayerActivation {
                layer,
                tensor: tensor.clone(),
            });
        }
    }

    /// Records a dense layer's `[batch, features]` output as `[batch, features, 1, 1]`.
    pub fn dense(&mut self, layer: &'static str, tensor: &Tensor<2>) {
        if let Some(layers) = &mut self.0 {
            let [batch, features] = tensor.dims();
            layers.push(LayerActivation {
                layer,
                tensor: tensor.clone().reshape([batch, features, 1, 1]),
            });
        }
    }

    /// Pairs the recorded layers with the logits.
    pub fn finish(self, logits: Tensor<2>) -> Activations {
        Activations {
            logits,
            layers: self.0.unwrap_or_default(),
        }
    }
}
