//! The VisualIntelligenceNetwork: our reading of a reference PyTorch design.
//!
//! ```text
//! feature_extractor = Sequential(Conv2d(in, 64, 3), ReLU, MaxPool2d(2))
//! complexity_layers = Sequential(level × [Conv2d(c, 128, 3), BatchNorm2d(128), ReLU])
//! classifier        = Sequential(AdaptiveAvgPool2d(1), Flatten, Linear(128, classes))
//! ```
//!
//! The reference code gives every complexity block 64 input channels, which crashes for a level
//! above 1 (the second block receives 128). Here the first block takes 64 and the others 128.
//! Convolutions have no padding, as in PyTorch's default: a 28×28 input becomes 26 → 13 after
//! the feature extractor and loses 2 pixels per block, so level ≤ 5 for 28×28 inputs.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, Relu};
use burn::prelude::{Device, Tensor};

use super::{ImageClassifier, Recorder};
use super::{LayerGeometry, LayerKind};

/// The network's hyperparameters.
#[derive(Config, Debug)]
pub struct VinConfig {
    /// Input channels: 1 (greyscale) or 3 (RGB).
    #[config(default = 1)]
    pub in_channels: usize,
    /// Number of output classes.
    #[config(default = 10)]
    pub classes: usize,
    /// Number of `Conv2d(→128, k3) + BatchNorm + ReLU` blocks.
    #[config(default = 3)]
    pub complexity_level: usize,
    /// Input height and width.
    #[config(default = 28)]
    pub image_size: usize,
}

/// One `Conv2d(→128, k3) → BatchNorm2d(128) → ReLU` block.
#[derive(Module, Debug)]
pub struct ComplexityBlock {
    conv: Conv2d,
    norm: BatchNorm,
}

/// See the module documentation.
#[derive(Module, Debug)]
pub struct VisualIntelligenceNetwork {
    feature_extractor: Conv2d,
    complexity_layers: Vec<ComplexityBlock>,
    classifier: Linear,
    pool: MaxPool2d,
    global_pool: AdaptiveAvgPool2d,
    relu: Relu,
    #[module(skip)]
    input_shape: [usize; 3],
}

impl VinConfig {
    /// Builds the module with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> VisualIntelligenceNetwork {
        let complexity_layers = (0..self.complexity_level)
            .map(|i| ComplexityBlock {
                conv: Conv2dConfig::new([if i == 0 { 64 } else { 128 }, 128], [3, 3]).init(device),
                norm: BatchNormConfig::new(128).init(device),
            })
            .collect();
        VisualIntelligenceNetwork {
            feature_extractor: Conv2dConfig::new([self.in_channels, 64], [3, 3]).init(device),
            complexity_layers,
            classifier: LinearConfig::new(128, self.classes).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            global_pool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            relu: Relu::new(),
            input_shape: [self.in_channels, self.image_size, self.image_size],
        }
    }
}

/// Layer names, in forward order, for activations (`block{i}.conv` etc. are numbered from 1).
const BLOCK_NAMES: [[&str; 3]; 8] = [
    ["block1.conv", "block1.norm", "block1.relu"],
    ["block2.conv", "block2.norm", "block2.relu"],
    ["block3.conv", "block3.norm", "block3.relu"],
    ["block4.conv", "block4.norm", "block4.relu"],
    ["block5.conv", "block5.norm", "block5.relu"],
    ["block6.conv", "block6.norm", "block6.relu"],
    ["block7.conv", "block7.norm", "block7.relu"],
    ["block8.conv", "block8.norm", "block8.relu"],
];

impl ImageClassifier for VisualIntelligenceNetwork {
    fn first_filters(&self) -> (&str, Tensor<4>) {
        ("feature_extractor", self.feature_extractor.weight.val())
    }

    /// The PyTorch module name for one of this module's Burn module paths, so that a
    /// `state_dict` of the reference class loads (see [`crate::weights::load_pytorch_safetensors`]):
    /// `feature_extractor` → `feature_extractor.0`, `complexity_layers.{i}.conv` →
    /// `complexity_layers.{3i}`, `complexity_layers.{i}.norm` → `complexity_layers.{3i+1}`,
    /// `classifier` → `classifier.2`.
    fn pytorch_key(burn_path: &str) -> Option<String> {
        let parts: Vec<&str> = burn_path.split('.').collect();
        match parts.as_slice() {
            ["feature_extractor"] => Some("feature_extractor.0".into()),
            ["complexity_layers", i, layer] => {
                let i: usize = i.parse().ok()?;
                let offset = match *layer {
                    "conv" => 0,
                    "norm" => 1,
                    _ => return None,
                };
                Some(format!("complexity_layers.{}", 3 * i + offset))
            }
            ["classifier"] => Some("classifier.2".into()),
            _ => None,
        }
    }

    fn input_shape(&self) -> [usize; 3] {
        self.input_shape
    }

    /// # Shapes
    /// - input: `[batch, in_channels, size, size]`
    /// - output: `[batch, 128]`, the features the classifying layer reads
    fn features_recorded(&self, x: Tensor<4>, rec: &mut Recorder) -> Tensor<2> {
        let x = rec.map("conv1", self.feature_extractor.forward(x)); // [batch, 64, size-2, size-2]
        let x = rec.map("relu1", self.relu.forward(x));
        let mut x = rec.map("pool1", self.pool.forward(x)); // [batch, 64, (size-2)/2, …]
        for (block, names) in self
            .complexity_layers
            .iter()
            .zip(BLOCK_NAMES.iter().cycle())
        {
            x = rec.map(names[0], block.conv.forward(x)); // [batch, 128, h-2, w-2]
            x = rec.map(names[1], block.norm.forward(x));
            x = rec.map(names[2], self.relu.forward(x));
        }
        let x = rec.map("global_pool", self.global_pool.forward(x)); // [batch, 128, 1, 1]
        x.flatten::<2>(1, 3)
    }

    fn classify_features(&self, x: Tensor<2>) -> Tensor<2> {
        self.classifier.forward(x) // [batch, classes]
    }

    fn head(&self) -> (&str, &str) {
        ("classifier", "classifier")
    }

    fn layers(&self) -> Vec<LayerGeometry> {
        let mut layers = vec![
            LayerGeometry::conv("conv1", &self.feature_extractor),
            LayerGeometry::pointwise("relu1", LayerKind::Relu),
            LayerGeometry::pool("pool1", &self.pool),
        ];
        for (block, names) in self
            .complexity_layers
            .iter()
            .zip(BLOCK_NAMES.iter().cycle())
        {
            layers.push(LayerGeometry::conv(names[0], &block.conv));
            layers.push(LayerGeometry::pointwise(names[1], LayerKind::BatchNorm));
            layers.push(LayerGeometry::pointwise(names[2], LayerKind::Relu));
        }
        layers.push(LayerGeometry::whole(
            "global_pool",
            LayerKind::GlobalPooling,
        ));
        layers.push(LayerGeometry::whole("classifier", LayerKind::Dense));
        layers
    }

    fn last_conv(&self) -> &str {
        BLOCK_NAMES[(self.complexity_layers.len().max(1) - 1) % BLOCK_NAMES.len()][2]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_three_on_fashion_mnist_has_the_documented_shapes() {
        let device = Device::flex();
        let model = VinConfig::new().init(&device);
        let acts = model.activations(Tensor::zeros([2, 1, 28, 28], &device));
        let shapes = acts.shapes();
        assert_eq!(shapes[0], ("conv1", [2, 64, 26, 26]));
        assert_eq!(shapes[2], ("pool1", [2, 64, 13, 13]));
        assert_eq!(shapes[3], ("block1.conv", [2, 128, 11, 11]));
        assert_eq!(shapes[9], ("block3.conv", [2, 128, 7, 7]));
        assert_eq!(shapes[12], ("global_pool", [2, 128, 1, 1]));
        assert_eq!(shapes[13], ("classifier", [2, 10, 1, 1]));
        assert_eq!(acts.logits.dims(), [2, 10]);
    }

    #[test]
    fn levels_above_one_work_with_rgb_input() {
        // The reference code crashes here: its second block expects 64 channels.
        let device = Device::flex();
        let model = VinConfig::new()
            .with_in_channels(3)
            .with_complexity_level(4)
            .with_image_size(32)
            .init(&device);
        let logits = model.logits(Tensor::zeros([1, 3, 32, 32], &device));
        assert_eq!(logits.dims(), [1, 10]);
        // conv1 1,792 + block1 73,856 + 3 × 147,584 + 4 × 256 (BN γ, β) + classifier 1,290 is
        // PyTorch's 520,714; Burn also counts BatchNorm's running mean and variance (4 × 256).
        let pytorch = 1_792 + 73_856 + 3 * 147_584 + 4 * 256 + 1_290;
        assert_eq!(model.num_params(), pytorch + 4 * 256);
    }
}
