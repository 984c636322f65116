//! LeNet-5 (LeCun et al., 1998) for 28×28 greyscale digits, with ReLU and max-pooling as it is
//! usually trained today.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::{Device, Tensor};

use super::{ImageClassifier, Recorder};
use super::{LayerGeometry, LayerKind};

/// LeNet-5's hyperparameters.
#[derive(Config, Debug)]
pub struct LeNet5Config {
    /// Number of output classes.
    #[config(default = 10)]
    pub classes: usize,
}

/// `1×28×28 → conv 6@5×5 (pad 2) → ReLU → maxpool 2 → conv 16@5×5 → ReLU → maxpool 2 →
/// dense 120 → ReLU → dense 84 → ReLU → dense classes`.
#[derive(Module, Debug)]
pub struct LeNet5 {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
    relu: Relu,
}

impl LeNet5Config {
    /// Builds the module with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> LeNet5 {
        LeNet5 {
            conv1: Conv2dConfig::new([1, 6], [5, 5])
                .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
                .init(device),
            conv2: Conv2dConfig::new([6, 16], [5, 5]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(16 * 5 * 5, 120).init(device),
            fc2: LinearConfig::new(120, 84).init(device),
            fc3: LinearConfig::new(84, self.classes).init(device),
            relu: Relu::new(),
        }
    }
}

impl ImageClassifier for LeNet5 {
    fn first_filters(&self) -> (&str, Tensor<4>) {
        ("conv1", self.conv1.weight.val())
    }

    fn input_shape(&self) -> [usize; 3] {
        [1, 28, 28]
    }

    /// Every layer before `fc3`; `rec` decides whether layer outputs are kept.
    ///
    /// # Shapes
    /// - input: `[batch, 1, 28, 28]`
    /// - output: `[batch, 84]`, the features the classifying layer reads
    fn features_recorded(&self, x: Tensor<4>, rec: &mut Recorder) -> Tensor<2> {
        let x = rec.map("conv1", self.conv1.forward(x)); // [batch, 6, 28, 28]
        let x = rec.map("relu1", self.relu.forward(x));
        let x = rec.map("pool1", self.pool.forward(x)); // [batch, 6, 14, 14]
        let x = rec.map("conv2", self.conv2.forward(x)); // [batch, 16, 10, 10]
        let x = rec.map("relu2", self.relu.forward(x));
        let x = rec.map("pool2", self.pool.forward(x)); // [batch, 16, 5, 5]
        let x = x.flatten::<2>(1, 3); // [batch, 400]
        let x = self.fc1.forward(x); // [batch, 120]
        rec.dense("fc1", &x);
        let x = self.relu.forward(x);
        rec.dense("relu3", &x);
        let x = self.fc2.forward(x); // [batch, 84]
        rec.dense("fc2", &x);
        let x = self.relu.forward(x);
        rec.dense("relu4", &x);
        x
    }

    fn classify_features(&self, x: Tensor<2>) -> Tensor<2> {
        self.fc3.forward(x) // [batch, classes]
    }

    fn head(&self) -> (&str, &str) {
        ("fc3", "fc3")
    }

    fn last_conv(&self) -> &str {
        "relu2"
    }

    fn layers(&self) -> Vec<LayerGeometry> {
        vec![
            LayerGeometry::conv("conv1", &self.conv1),
            LayerGeometry::pointwise("relu1", LayerKind::Relu),
            LayerGeometry::pool("pool1", &self.pool),
            LayerGeometry::conv("conv2", &self.conv2),
            LayerGeometry::pointwise("relu2", LayerKind::Relu),
            LayerGeometry::pool("pool2", &self.pool),
            LayerGeometry::whole("fc1", LayerKind::Dense),
            LayerGeometry::whole("relu3", LayerKind::Relu),
            LayerGeometry::whole("fc2", LayerKind::Dense),
            LayerGeometry::whole("relu4", LayerKind::Relu),
            LayerGeometry::whole("fc3", LayerKind::Dense),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::check_input;

    #[test]
    fn every_layer_has_the_documented_shape() {
        let device = Device::flex();
        let model = LeNet5Config::new().init(&device);
        let acts = model.activations(Tensor::zeros([2, 1, 28, 28], &device));
        let shapes = acts.shapes();
        assert_eq!(
            shapes,
            vec![
                ("conv1", [2, 6, 28, 28]),
                ("relu1", [2, 6, 28, 28]),
                ("pool1", [2, 6, 14, 14]),
                ("conv2", [2, 16, 10, 10]),
                ("relu2", [2, 16, 10, 10]),
                ("pool2", [2, 16, 5, 5]),
                ("fc1", [2, 120, 1, 1]),
                ("relu3", [2, 120, 1, 1]),
                ("fc2", [2, 84, 1, 1]),
                ("relu4", [2, 84, 1, 1]),
                ("fc3", [2, 10, 1, 1]),
            ]
        );
        assert_eq!(acts.logits.dims(), [2, 10]);
    }

    #[test]
    fn has_the_classic_parameter_count() {
        let model = LeNet5Config::new().init(&Device::flex());
        // 156 + 2416 + 48120 + 10164 + 850
        assert_eq!(model.num_params(), 61_706);
    }

    #[test]
    fn wrong_shapes_are_rejected() {
        assert!(check_input([1, 28, 28], [1, 1, 28, 28]).is_ok());
        assert!(check_input([1, 28, 28], [0, 1, 28, 28]).is_err());
        assert!(check_input([1, 28, 28], [1, 3, 28, 28]).is_err());
        assert!(check_input([1, 28, 28], [1, 1, 32, 32]).is_err());
    }
}
