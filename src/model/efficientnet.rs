//! EfficientNet-Lite0 (Tan & Le, 2019; the "Lite" variant for mobile accelerators): a 3×3 stride-2
//! stem, sixteen MBConv blocks (1×1 expansion, depthwise k×k convolution, 1×1 projection, with a
//! residual connection where the shape allows), a 1×1 head to 1,280 channels, global average
//! pooling, dropout and a linear classifier. Lite differs from EfficientNet-B0 in having no
//! squeeze-and-excitation and ReLU6 instead of swish. BatchNorm uses eps 1e-3 and the
//! convolutions TensorFlow's "same" padding (asymmetric for stride 2: the extra row and column go
//! at the bottom and right), as the weights were trained with; the input, pixels in [0, 1] as for
//! every network here, is first normalised as TensorFlow's EfficientNet-Lite training did
//! (`(255·x − 127) / 128`). 224×224 RGB in, 4.65 M parameters with 1,000 classes.
//!
//! The parameters carry the names of the PyTorch port whose ImageNet weights convlens ships
//! (`_conv_stem`, `_blocks.3._depthwise_conv`, `_fc`, …) through [`EfficientNet::pytorch_key`].

use burn::config::Config;
use burn::module::Module;
use burn::nn::activation::Relu6;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::prelude::{Device, Tensor};

use super::{ImageClassifier, Recorder};
use super::{LayerGeometry, LayerKind};

/// EfficientNet-Lite0's hyperparameters.
#[derive(Config, Debug)]
pub struct EfficientNetConfig {
    /// Number of output classes (1,000 for ImageNet).
    #[config(default = 1000)]
    pub classes: usize,
    /// Input height and width (the weights were trained at 224).
    #[config(default = 224)]
    pub image_size: usize,
    /// Dropout before the classifier, in training.
    #[config(default = 0.2)]
    pub dropout: f64,
    /// The network reads pixels in [0, 1] like every network of the zoo, and first maps them to
    /// what the weights were trained on: `(255·x − input_mean) / input_std` (TensorFlow's
    /// EfficientNet-Lite normalisation, 127 and 128).
    #[config(default = 127.0)]
    pub input_mean: f32,
    /// See `input_mean`.
    #[config(default = 128.0)]
    pub input_std: f32,
}

/// One stage of MBConv blocks: expansion ratio, kernel size, stride of its first block, output
/// channels and repeats (EfficientNet-B0's table; Lite0 scales neither width nor depth).
const STAGES: [(usize, usize, usize, usize, usize); 7] = [
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
];
const STEM: usize = 32;
const HEAD: usize = 1280;
const BN_EPS: f64 = 1e-3;

/// The blocks' names in feature maps (`block1` … `block16`).
const BLOCK_NAMES: [&str; 16] = [
    "block1", "block2", "block3", "block4", "block5", "block6", "block7", "block8", "block9",
    "block10", "block11", "block12", "block13", "block14", "block15", "block16",
];

/// `[1×1 expand → BN → ReLU6] → depthwise k×k → BN → ReLU6 → 1×1 project → BN [+ input]`.
#[derive(Module, Debug)]
pub struct MbConv {
    expand_conv: Option<Conv2d>,
    bn0: Option<BatchNorm>,
    depthwise_conv: Conv2d,
    bn1: BatchNorm,
    project_conv: Conv2d,
    bn2: BatchNorm,
    #[module(skip)]
    residual: bool,
}

/// See the module documentation.
#[derive(Module, Debug)]
pub struct EfficientNet {
    conv_stem: Conv2d,
    bn0: BatchNorm,
    blocks: Vec<MbConv>,
    conv_head: Conv2d,
    bn1: BatchNorm,
    pool: AdaptiveAvgPool2d,
    dropout: Dropout,
    fc: Linear,
    act: Relu6,
    #[module(skip)]
    input_shape: [usize; 3],
    /// `(scale, shift)` with `input = x · scale + shift` (from the config's mean and std).
    #[module(skip)]
    normalise: (f32, f32),
}

/// TensorFlow's "same" padding for a `kernel`-wide window at `stride` over `size` pixels:
/// `(before, after)`, the odd pixel after.
fn same(kernel: usize, stride: usize, size: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(size);
    (total / 2, total - total / 2)
}

/// A bias-free convolution with "same" padding on `size`×`size` inputs (depthwise when
/// `groups` equals the channels).
fn conv(
    channels: [usize; 2],
    kernel: usize,
    stride: usize,
    groups: usize,
    size: usize,
    device: &Device,
) -> Conv2d {
    let (before, after) = same(kernel, stride, size);
    Conv2dConfig::new(channels, [kernel, kernel])
        .with_stride([stride, stride])
        .with_groups(groups)
        .with_padding(PaddingConfig2d::Explicit(before, before, after, after))
        .with_bias(false)
        .init(device)
}

fn norm(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels)
        .with_epsilon(BN_EPS)
        .init(device)
}

impl EfficientNetConfig {
    /// Builds EfficientNet-Lite0 with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> EfficientNet {
        let mut size = self.image_size.div_ceil(2);
        let mut input = STEM;
        let mut blocks = Vec::new();
        for (expansion, kernel, stride, output, repeats) in STAGES {
            for repeat in 0..repeats {
                let stride = if repeat == 0 { stride } else { 1 };
                let hidden = input * expansion;
                let expand = expansion != 1;
                blocks.push(MbConv {
                    expand_conv: expand.then(|| conv([input, hidden], 1, 1, 1, size, device)),
                    bn0: expand.then(|| norm(hidden, device)),
                    depthwise_conv: conv([hidden, hidden], kernel, stride, hidden, size, device),
                    bn1: norm(hidden, device),
                    project_conv: conv([hidden, output], 1, 1, 1, size.div_ceil(stride), device),
                    bn2: norm(output, device),
                    residual: stride == 1 && input == output,
                });
                size = size.div_ceil(stride);
                input = output;
            }
        }
        EfficientNet {
            conv_stem: conv([3, STEM], 3, 2, 1, self.image_size, device),
            bn0: norm(STEM, device),
            blocks,
            conv_head: conv([input, HEAD], 1, 1, 1, size, device),
            bn1: norm(HEAD, device),
            pool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            dropout: DropoutConfig::new(self.dropout).init(),
            fc: LinearConfig::new(HEAD, self.classes).init(device),
            act: Relu6::new(),
            input_shape: [3, self.image_size, self.image_size],
            normalise: (255.0 / self.input_std, -self.input_mean / self.input_std),
        }
    }
}

impl MbConv {
    fn forward(&self, x: Tensor<4>, act: &Relu6) -> Tensor<4> {
        let mut y = x.clone();
        if let (Some(expand), Some(bn)) = (&self.expand_conv, &self.bn0) {
            y = act.forward(bn.forward(expand.forward(y)));
        }
        let y = act.forward(self.bn1.forward(self.depthwise_conv.forward(y)));
        let y = self.bn2.forward(self.project_conv.forward(y));
        if self.residual { y + x } else { y }
    }
}

impl EfficientNet {
    /// The PyTorch port's name of a Burn module path: each named segment gets a leading
    /// underscore (`blocks.3.depthwise_conv` → `_blocks.3._depthwise_conv`).
    pub fn pytorch_key(burn_path: &str) -> Option<String> {
        Some(
            burn_path
                .split('.')
                .map(|segment| {
                    if segment.chars().all(|c| c.is_ascii_digit()) {
                        segment.to_string()
                    } else {
                        format!("_{segment}")
                    }
                })
                .collect::<Vec<_>>()
                .join("."),
        )
    }
}

impl ImageClassifier for EfficientNet {
    fn first_filters(&self) -> (&str, Tensor<4>) {
        ("stem", self.conv_stem.weight.val())
    }

    fn input_shape(&self) -> [usize; 3] {
        self.input_shape
    }

    /// The global-average-pooled features.
    ///
    /// # Shapes
    /// - input: `[batch, 3, s, s]`
    /// - output: `[batch, 1280]`
    fn features_recorded(&self, x: Tensor<4>, rec: &mut Recorder) -> Tensor<2> {
        let (scale, shift) = self.normalise;
        let x = self
            .conv_stem
            .forward(x.mul_scalar(scale).add_scalar(shift)); // [batch, 32, s/2, s/2]
        let x = rec.map("stem", x);
        let mut x = self.act.forward(self.bn0.forward(x));
        for (block, name) in self.blocks.iter().zip(BLOCK_NAMES) {
            x = rec.map(name, block.forward(x, &self.act));
        }
        let x = self
            .act
            .forward(self.bn1.forward(self.conv_head.forward(x))); // [batch, 1280, s/32, s/32]
        let x = rec.map("head", x);
        self.pool.forward(x).flatten::<2>(1, 3) // [batch, 1280]
    }

    fn classify_features(&self, x: Tensor<2>) -> Tensor<2> {
        self.fc.forward(self.dropout.forward(x)) // [batch, classes]
    }

    fn head(&self) -> (&str, &str) {
        ("classifier", "fc")
    }

    fn layers(&self) -> Vec<LayerGeometry> {
        let mut layers = vec![LayerGeometry::conv("stem", &self.conv_stem)];
        for (block, name) in self.blocks.iter().zip(BLOCK_NAMES) {
            // The block's only spatial step is its depthwise convolution.
            layers.push(LayerGeometry::like(
                name,
                LayerKind::Block,
                &block.depthwise_conv,
            ));
        }
        layers.push(LayerGeometry::conv("head", &self.conv_head));
        layers.push(LayerGeometry::whole("classifier", LayerKind::Dense));
        layers
    }

    fn last_conv(&self) -> &str {
        "head"
    }

    fn pytorch_key(burn_path: &str) -> Option<String> {
        EfficientNet::pytorch_key(burn_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::trainable_parameters;

    #[test]
    fn tf_same_padding_puts_the_odd_pixel_after() {
        assert_eq!(same(3, 2, 224), (0, 1));
        assert_eq!(same(5, 2, 28), (1, 2));
        assert_eq!(same(5, 1, 14), (2, 2));
        assert_eq!(same(1, 1, 7), (0, 0));
    }

    #[test]
    fn lite0_has_the_published_parameter_count_and_block_shapes() {
        let device = Device::flex();
        let model = EfficientNetConfig::new().init(&device);
        // 4,652,008: the PyTorch state_dict's tensors, less BatchNorm's running statistics.
        assert_eq!(trainable_parameters(&model), 4_652_008);
        let model = EfficientNetConfig::new()
            .with_classes(5)
            .with_image_size(64)
            .init(&device);
        let acts = model.activations(Tensor::zeros([1, 3, 64, 64], &device));
        let shapes = acts.shapes();
        assert_eq!(shapes[0], ("stem", [1, 32, 32, 32]));
        assert_eq!(shapes[1], ("block1", [1, 16, 32, 32]));
        assert_eq!(shapes[3], ("block3", [1, 24, 16, 16]));
        assert_eq!(shapes[16], ("block16", [1, 320, 2, 2]));
        assert_eq!(shapes[17], ("head", [1, 1280, 2, 2]));
        assert_eq!(shapes[18], ("classifier", [1, 5, 1, 1]));
    }

    #[test]
    fn pytorch_names_take_the_ports_underscores() {
        assert_eq!(
            EfficientNet::pytorch_key("blocks.3.depthwise_conv").as_deref(),
            Some("_blocks.3._depthwise_conv")
        );
        assert_eq!(EfficientNet::pytorch_key("fc").as_deref(), Some("_fc"));
    }
}
