//! The output of every layer of a forward pass: what the page draws as feature maps.

use burn::prelude::Tensor;

/// One layer's output.
#[derive(Debug, Clone)]
pub struct LayerActivation {
    /// The layer's name, e.g. `"conv1"` or `"fc1"`.
    pub layer: String,
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
    pub fn shapes(&self) -> Vec<(&str, [usize; 4])> {
        self.layers
            .iter()
            .map(|a| (a.layer.as_str(), a.tensor.dims()))
            .collect()
    }
}

/// Where a forward pass reports layer outputs: nowhere (plain inference), into a list, or — for
/// gradients at a layer (Grad-CAM) — by cutting the graph there: the named layer's output goes on
/// as a new leaf that requires gradients, kept to be asked for its gradient after `backward`.
pub struct Recorder(Mode);

enum Mode {
    Off,
    On(Vec<LayerActivation>),
    Tap {
        layer: String,
        leaf: Option<Box<Tensor<4>>>,
    },
}

impl Recorder {
    /// Records nothing: the forward pass costs what it would without activations.
    pub fn off() -> Self {
        Self(Mode::Off)
    }

    /// Records every layer.
    pub fn on() -> Self {
        Self(Mode::On(Vec::new()))
    }

    /// Records nothing but makes `layer`'s output (a convolutional layer's) a leaf that
    /// requires gradients ([`Self::tapped`]): on an autodiff device, `backward` from the class
    /// score then gives the gradient at that layer.
    pub fn tap(layer: &str) -> Self {
        Self(Mode::Tap {
            layer: layer.to_string(),
            leaf: None,
        })
    }

    /// The tapped layer's output (the leaf the rest of the pass read), if the pass reached it.
    pub fn tapped(self) -> Option<Tensor<4>> {
        match self.0 {
            Mode::Tap { leaf, .. } => leaf.map(|t| *t),
            _ => None,
        }
    }

    /// Reports a convolutional layer's `[batch, channels, height, width]` output; returns what
    /// the pass goes on with (the same tensor, or the tapped leaf).
    pub fn map(&mut self, layer: &str, tensor: Tensor<4>) -> Tensor<4> {
        match &mut self.0 {
            Mode::Off => tensor,
            Mode::On(layers) => {
                layers.push(LayerActivation {
                    layer: layer.to_string(),
                    tensor: tensor.clone(),
                });
                tensor
            }
            Mode::Tap {
                layer: wanted,
                leaf,
            } if wanted == layer && leaf.is_none() => {
                let cut = tensor.detach().require_grad();
                *leaf = Some(Box::new(cut.clone()));
                cut
            }
            Mode::Tap { .. } => tensor,
        }
    }

    /// Records a dense layer's `[batch, features]` output as `[batch, features, 1, 1]`.
    pub fn dense(&mut self, layer: &str, tensor: &Tensor<2>) {
        if let Mode::On(layers) = &mut self.0 {
            let [batch, features] = tensor.dims();
            layers.push(LayerActivation {
                layer: layer.to_string(),
                tensor: tensor.clone().reshape([batch, features, 1, 1]),
            });
        }
    }

    /// Pairs the recorded layers with the logits.
    pub fn finish(self, logits: Tensor<2>) -> Activations {
        let layers = match self.0 {
            Mode::On(layers) => layers,
            _ => Vec::new(),
        };
        Activations { logits, layers }
    }
}
