//! ResNet-8 for small images, in the CIFAR style of He et al. (2016): a 3×3 stem, three stages
//! of one basic residual block each (16, 32 and 64 channels; the last two halve the resolution,
//! with a 1×1 projection on the shortcut), global average pooling and a linear classifier.
//! 1 + 3 × 2 + 1 = 8 weighted layers.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::{Device, Tensor};

use super::{ImageClassifier, Recorder};
use super::{LayerGeometry, LayerKind};

/// ResNet-8's hyperparameters.
#[derive(Config, Debug)]
pub struct ResNetConfig {
    /// Input channels: 1 (greyscale) or 3 (RGB).
    #[config(default = 1)]
    pub in_channels: usize,
    /// Number of output classes.
    #[config(default = 10)]
    pub classes: usize,
    /// Input height and width.
    #[config(default = 28)]
    pub image_size: usize,
}

/// `conv3×3 → BN → ReLU → conv3×3 → BN`, plus the (projected) input, then ReLU.
#[derive(Module, Debug)]
pub struct BasicBlock {
    conv1: Conv2d,
    norm1: BatchNorm,
    conv2: Conv2d,
    norm2: BatchNorm,
    shortcut: Option<Shortcut>,
}

/// A 1×1 strided convolution and BN that match the shortcut to the block's output.
#[derive(Module, Debug)]
pub struct Shortcut {
    conv: Conv2d,
    norm: BatchNorm,
}

/// See the module documentation.
#[derive(Module, Debug)]
pub struct ResNet {
    stem: Conv2d,
    stem_norm: BatchNorm,
    stages: Vec<BasicBlock>,
    classifier: Linear,
    global_pool: AdaptiveAvgPool2d,
    relu: Relu,
    #[module(skip)]
    input_shape: [usize; 3],
}

fn conv3x3(channels: [usize; 2], stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new(channels, [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .init(device)
}

impl BasicBlock {
    fn new(input: usize, output: usize, stride: usize, device: &Device) -> Self {
        let shortcut = (stride != 1 || input != output).then(|| Shortcut {
            conv: Conv2dConfig::new([input, output], [1, 1])
                .with_stride([stride, stride])
                .with_bias(false)
                .init(device),
            norm: BatchNormConfig::new(output).init(device),
        });
        Self {
            conv1: conv3x3([input, output], stride, device),
            norm1: BatchNormConfig::new(output).init(device),
            conv2: conv3x3([output, output], 1, device),
            norm2: BatchNormConfig::new(output).init(device),
            shortcut,
        }
    }
}

impl ResNetConfig {
    /// Builds ResNet-8 with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> ResNet {
        ResNet {
            stem: conv3x3([self.in_channels, 16], 1, device),
            stem_norm: BatchNormConfig::new(16).init(device),
            stages: vec![
                BasicBlock::new(16, 16, 1, device),
                BasicBlock::new(16, 32, 2, device),
                BasicBlock::new(32, 64, 2, device),
            ],
            classifier: LinearConfig::new(64, self.classes).init(device),
            global_pool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            relu: Relu::new(),
            input_shape: [self.in_channels, self.image_size, self.image_size],
        }
    }
}

const STAGE_NAMES: [[&str; 3]; 3] = [
    ["stage1.conv1", "stage1.conv2", "stage1.out"],
    ["stage2.conv1", "stage2.conv2", "stage2.out"],
    ["stage3.conv1", "stage3.conv2", "stage3.out"],
];

impl ImageClassifier for ResNet {
    fn first_filters(&self) -> (&str, Tensor<4>) {
        ("stem", self.stem.weight.val())
    }

    fn input_shape(&self) -> [usize; 3] {
        self.input_shape
    }

    /// # Shapes
    /// - input: `[batch, in_channels, s, s]`
    /// - output: `[batch, 64]`, the features the classifying layer reads
    fn features_recorded(&self, x: Tensor<4>, rec: &mut Recorder) -> Tensor<2> {
        let x = rec.map("stem", self.stem.forward(x)); // [batch, 16, s, s]
        let mut x = self.relu.forward(self.stem_norm.forward(x));
        for (block, names) in self.stages.iter().zip(STAGE_NAMES.iter().cycle()) {
            let y = rec.map(names[0], block.conv1.forward(x.clone())); // stride 2 in stages 2, 3
            let y = self.relu.forward(block.norm1.forward(y));
            let y = rec.map(names[1], block.conv2.forward(y));
            let y = block.norm2.forward(y);
            let shortcut = match &block.shortcut {
                Some(s) => s.norm.forward(s.conv.forward(x)),
                None => x,
            };
            x = rec.map(names[2], self.relu.forward(y + shortcut));
        }
        let x = rec.map("global_pool", self.global_pool.forward(x)); // [batch, 64, 1, 1]
        x.flatten::<2>(1, 3)
    }

    fn classify_features(&self, x: Tensor<2>) -> Tensor<2> {
        self.classifier.forward(x) // [batch, classes]
    }

    fn head(&self) -> (&str, &str) {
        ("classifier", "classifier")
    }

    fn layers(&self) -> Vec<LayerGeometry> {
        let mut layers = vec![LayerGeometry::conv("stem", &self.stem)];
        for (block, names) in self.stages.iter().zip(STAGE_NAMES.iter().cycle()) {
            layers.push(LayerGeometry::conv(names[0], &block.conv1));
            layers.push(LayerGeometry::conv(names[1], &block.conv2));
            layers.push(LayerGeometry::pointwise(names[2], LayerKind::Residual));
        }
        layers.push(LayerGeometry::whole(
            "global_pool",
            LayerKind::GlobalPooling,
        ));
        layers.push(LayerGeometry::whole("classifier", LayerKind::Dense));
        layers
    }

    fn last_conv(&self) -> &str {
        STAGE_NAMES[(self.stages.len().max(1) - 1) % STAGE_NAMES.len()][2]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_halve_the_resolution_and_widen() {
        let device = Device::flex();
        let model = ResNetConfig::new().init(&device);
        let acts = model.activations(Tensor::zeros([2, 1, 28, 28], &device));
        let shapes = acts.shapes();
        assert_eq!(shapes[0], ("stem", [2, 16, 28, 28]));
        assert_eq!(shapes[3], ("stage1.out", [2, 16, 28, 28]));
        assert_eq!(shapes[6], ("stage2.out", [2, 32, 14, 14]));
        assert_eq!(shapes[9], ("stage3.out", [2, 64, 7, 7]));
        assert_eq!(shapes[11], ("classifier", [2, 10, 1, 1]));
        let weighted = acts
            .layers
            .iter()
            .filter(|a| a.layer.contains("conv") || a.layer == "stem")
            .count();
        assert_eq!(
            weighted + 1,
            8,
            "ResNet-8: 7 convolutions on the main path + the classifier"
        );
    }

    #[test]
    fn rgb_32px_works() {
        let device = Device::flex();
        let model = ResNetConfig::new()
            .with_in_channels(3)
            .with_image_size(32)
            .init(&device);
        assert_eq!(
            model.logits(Tensor::zeros([1, 3, 32, 32], &device)).dims(),
            [1, 10]
        );
    }
}
