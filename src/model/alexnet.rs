//! AlexNet (Krizhevsky et al., 2012) scaled down to 28–32 px images: five convolutions (3×3,
//! padded) with ReLU and three max-pools, then three dense layers with dropout.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::{Device, Tensor};

use super::{ImageClassifier, Recorder};
use super::{LayerGeometry, LayerKind};

/// The scaled AlexNet's hyperparameters.
#[derive(Config, Debug)]
pub struct AlexNetConfig {
    /// Input channels: 1 (greyscale) or 3 (RGB).
    #[config(default = 1)]
    pub in_channels: usize,
    /// Number of output classes.
    #[config(default = 10)]
    pub classes: usize,
    /// Input height and width (at least 8).
    #[config(default = 28)]
    pub image_size: usize,
    /// Dropout probability before the first two dense layers.
    #[config(default = 0.5)]
    pub dropout: f64,
}

/// See the module documentation.
#[derive(Module, Debug)]
pub struct AlexNet {
    convs: Vec<Conv2d>,
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
    pool: MaxPool2d,
    dropout: Dropout,
    relu: Relu,
    #[module(skip)]
    input_shape: [usize; 3],
}

/// Output channels of the five convolutions (AlexNet's 96-256-384-384-256, divided by 4).
const CHANNELS: [usize; 5] = [24, 64, 96, 96, 64];
/// A max-pool follows convolutions 1, 2 and 5, as in AlexNet.
const POOL_AFTER: [bool; 5] = [true, true, false, false, true];
const CONV_NAMES: [&str; 5] = ["conv1", "conv2", "conv3", "conv4", "conv5"];
const POOL_NAMES: [&str; 5] = ["pool1", "pool2", "", "", "pool3"];

impl AlexNetConfig {
    /// Builds the module with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> AlexNet {
        let mut input = self.in_channels;
        let convs = CHANNELS
            .iter()
            .map(|&output| {
                let conv = Conv2dConfig::new([input, output], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device);
                input = output;
                conv
            })
            .collect();
        let side = self.image_size / 8; // three 2×2 pools
        AlexNet {
            convs,
            fc1: LinearConfig::new(CHANNELS[4] * side * side, 256).init(device),
            fc2: LinearConfig::new(256, 128).init(device),
            fc3: LinearConfig::new(128, self.classes).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            dropout: DropoutConfig::new(self.dropout).init(),
            relu: Relu::new(),
            input_shape: [self.in_channels, self.image_size, self.image_size],
        }
    }
}

impl ImageClassifier for AlexNet {
    fn first_filters(&self) -> (&str, Tensor<4>) {
        ("conv1", self.convs[0].weight.val())
    }

    fn input_shape(&self) -> [usize; 3] {
        self.input_shape
    }

    /// # Shapes
    /// - input: `[batch, in_channels, s, s]`
    /// - output: `[batch, 128]`, the features the classifying layer reads
    fn features_recorded(&self, x: Tensor<4>, rec: &mut Recorder) -> Tensor<2> {
        let mut x = x;
        for (i, conv) in self.convs.iter().enumerate() {
            x = rec.map(CONV_NAMES[i], self.relu.forward(conv.forward(x))); // [batch, CHANNELS[i], …]
            if POOL_AFTER[i] {
                x = rec.map(POOL_NAMES[i], self.pool.forward(x)); // halves the resolution
            }
        }
        let x = x.flatten::<2>(1, 3); // [batch, 64 · (s/8)²]
        let x = self.relu.forward(self.fc1.forward(self.dropout.forward(x))); // [batch, 256]
        rec.dense("fc1", &x);
        let x = self.relu.forward(self.fc2.forward(self.dropout.forward(x))); // [batch, 128]
        rec.dense("fc2", &x);
        x
    }

    fn classify_features(&self, x: Tensor<2>) -> Tensor<2> {
        self.fc3.forward(x) // [batch, classes]
    }

    fn head(&self) -> (&str, &str) {
        ("fc3", "fc3")
    }

    fn last_conv(&self) -> &str {
        CONV_NAMES[CONV_NAMES.len() - 1]
    }

    fn layers(&self) -> Vec<LayerGeometry> {
        let mut layers = Vec::new();
        for (i, conv) in self.convs.iter().enumerate() {
            // Each convolution's output is recorded after its ReLU.
            layers.push(LayerGeometry::conv(CONV_NAMES[i], conv));
            if POOL_AFTER[i] {
                layers.push(LayerGeometry::pool(POOL_NAMES[i], &self.pool));
            }
        }
        for name in ["fc1", "fc2", "fc3"] {
            layers.push(LayerGeometry::whole(name, LayerKind::Dense));
        }
        layers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_convolutions_three_pools_three_dense_layers() {
        let device = Device::flex();
        let model = AlexNetConfig::new().init(&device);
        let activations = model.activations(Tensor::zeros([2, 1, 28, 28], &device));
        let shapes = activations.shapes();
        let names: Vec<&str> = shapes.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool3", "fc1",
                "fc2", "fc3"
            ]
        );
        assert_eq!(shapes[7].1, [2, 64, 3, 3]);
        assert_eq!(shapes[10].1, [2, 10, 1, 1]);
    }

    #[test]
    fn rgb_32px_works() {
        let device = Device::flex();
        let model = AlexNetConfig::new()
            .with_in_channels(3)
            .with_image_size(32)
            .init(&device);
        assert_eq!(
            model.logits(Tensor::zeros([1, 3, 32, 32], &device)).dims(),
            [1, 10]
        );
    }
}
