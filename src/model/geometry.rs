//! What each recorded layer is and how it reads its input: the kind (for a sentence that
//! explains it) and the kernel, stride and padding (for the part of the image one of its output
//! pixels sees, its receptive field).

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;

/// What a layer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub enum LayerKind {
    /// Slides learned filters over its input.
    Convolution,
    /// Keeps positive values, sets negative ones to 0.
    Relu,
    /// Keeps the largest value of each window.
    Pooling,
    /// Normalises each channel with statistics learned in training.
    BatchNorm,
    /// Adds the block's input back to its output, then ReLU (a residual connection).
    Residual,
    /// A mobile inverted bottleneck: expands the channels, filters each alone, squeezes them back.
    Block,
    /// Averages each channel over the whole image.
    GlobalPooling,
    /// Every output is a weighted sum of every input.
    Dense,
    /// Any other operation of an imported network (element by element, or a rearrangement).
    Operation,
}

/// One recorded layer's kind and geometry (kernel, stride and padding along each side; 1, 1,
/// 0 for layers that act pixel by pixel; 0 for dense and global layers, which see everything).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct LayerGeometry {
    /// Its name among the feature maps.
    pub layer: String,
    /// What it does.
    pub kind: LayerKind,
    /// Kernel side.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Padding before the first pixel (top and left).
    pub padding: usize,
    /// The part of the network's input one output pixel sees.
    pub receptive_field: ReceptiveField,
    /// An imported network's node: its operator (e.g. `"Conv"`), output shape for one image
    /// and parameter count.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub node: Option<NodeInfo>,
}

/// What the node list of an imported network shows of one node.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// The ONNX operator, e.g. `"Conv"`.
    pub operator: String,
    /// The output's shape for one image (its batch dimension 1).
    pub output: Vec<usize>,
    /// The values of the node's tensors (kernels, biases, statistics).
    pub parameters: usize,
}

/// Where one output pixel of a layer looks in the network's input: output pixel `(y, x)` sees
/// the square of side `size` centred on `(start + y · jump, start + x · jump)` (in input pixels,
/// continuous: pixel 0 spans 0 to 1), clipped to the image; `size` 0: the whole image.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct ReceptiveField {
    /// Side of the square, in input pixels (0: everything).
    pub size: f32,
    /// Input pixels between neighbouring output pixels.
    pub jump: f32,
    /// Centre of output pixel 0, in input pixels.
    pub start: f32,
}

/// `layers` (in forward order) with each one's receptive field filled in.
pub fn with_receptive_fields(mut layers: Vec<LayerGeometry>) -> Vec<LayerGeometry> {
    let (mut size, mut jump, mut start, mut whole) = (1.0f32, 1.0f32, 0.5f32, false);
    for layer in &mut layers {
        if layer.kernel == 0 {
            whole = true;
        }
        if whole {
            layer.receptive_field = ReceptiveField {
                size: 0.0,
                jump: 0.0,
                start: 0.0,
            };
            continue;
        }
        let k = layer.kernel as f32;
        size += (k - 1.0) * jump;
        start += ((k - 1.0) / 2.0 - layer.padding as f32) * jump;
        jump *= layer.stride as f32;
        layer.receptive_field = ReceptiveField { size, jump, start };
    }
    layers
}

impl LayerGeometry {
    /// A layer acting pixel by pixel (ReLU, batch norm, a residual sum).
    pub fn pointwise(layer: &str, kind: LayerKind) -> Self {
        Self::new(layer, kind, 1, 1, 0)
    }

    /// A layer that sees its whole input (dense, global pooling).
    pub fn whole(layer: &str, kind: LayerKind) -> Self {
        Self::new(layer, kind, 0, 0, 0)
    }

    /// A convolution's geometry.
    pub fn conv(layer: &str, conv: &Conv2d) -> Self {
        let kernel = conv.kernel_size[0];
        Self::new(
            layer,
            LayerKind::Convolution,
            kernel,
            conv.stride[0],
            padding(&conv.padding, kernel),
        )
    }

    /// A max-pool's geometry.
    pub fn pool(layer: &str, pool: &MaxPool2d) -> Self {
        let kernel = pool.kernel_size[0];
        Self::new(
            layer,
            LayerKind::Pooling,
            kernel,
            pool.stride[0],
            padding(&pool.padding, kernel),
        )
    }

    /// `kind` with a convolution's kernel, stride and padding (a block whose spatial part is
    /// that convolution).
    pub fn like(layer: &str, kind: LayerKind, conv: &Conv2d) -> Self {
        Self {
            kind,
            ..Self::conv(layer, conv)
        }
    }

    fn new(layer: &str, kind: LayerKind, kernel: usize, stride: usize, padding: usize) -> Self {
        Self {
            layer: layer.to_string(),
            kind,
            kernel,
            stride,
            padding,
            // Filled in by `with_receptive_fields`, which needs the layers before.
            receptive_field: ReceptiveField {
                size: 0.0,
                jump: 0.0,
                start: 0.0,
            },
            node: None,
        }
    }
}

/// The padding before the first pixel.
fn padding(config: &PaddingConfig2d, kernel: usize) -> usize {
    match config {
        PaddingConfig2d::Same => (kernel - 1) / 2,
        PaddingConfig2d::Valid => 0,
        PaddingConfig2d::Explicit(top, ..) => *top,
    }
}

#[cfg(test)]
mod tests {
    use burn::prelude::{Device, Tensor};

    use super::*;
    use crate::model::{Architecture, ImageClassifier};

    #[test]
    fn every_recorded_layer_has_its_geometry_in_order() {
        let device = Device::flex();
        for architecture in Architecture::ALL {
            let model = architecture.init(&device);
            let [c, h, w] = model.input_shape();
            let recorded: Vec<String> = model
                .activations(Tensor::zeros([1, c, h, w], &device))
                .layers
                .into_iter()
                .map(|a| a.layer)
                .collect();
            let layers = model.layers();
            let named: Vec<&str> = layers.iter().map(|l| l.layer.as_str()).collect();
            assert_eq!(named, recorded, "{}", architecture.name());
            assert!(named.contains(&model.last_conv()));
        }
    }

    #[test]
    fn lenet5s_receptive_fields_are_the_textbook_ones() {
        let model = Architecture::LeNet5.init(&Device::flex());
        let layers = with_receptive_fields(model.layers());
        let field = |name: &str| {
            layers
                .iter()
                .find(|l| l.layer == name)
                .unwrap()
                .receptive_field
        };
        // conv1 5×5 (padding 2), pool 2×2, conv2 5×5, pool 2×2: 5, 6, 14 and 16 pixels.
        let rf = |size, jump, start| ReceptiveField { size, jump, start };
        assert_eq!(field("conv1"), rf(5.0, 1.0, 0.5));
        assert_eq!(field("pool1"), rf(6.0, 2.0, 1.0));
        assert_eq!(field("conv2"), rf(14.0, 2.0, 5.0));
        assert_eq!(field("pool2"), rf(16.0, 4.0, 6.0));
        assert_eq!(field("fc1").size, 0.0, "a dense layer sees everything");
    }
}
