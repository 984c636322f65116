//! Network architectures: one per file, each a `Config` plus a module. No I/O, no device choice.

mod activations;
pub mod alexnet;
pub mod efficientnet;
mod geometry;
pub mod graph;
pub mod lenet5;
mod registry;
pub mod resnet;
pub mod vin;

pub use activations::{Activations, LayerActivation, Recorder};
pub use alexnet::{AlexNet, AlexNetConfig};
pub use efficientnet::{EfficientNet, EfficientNetConfig};
pub use geometry::{LayerGeometry, LayerKind, NodeInfo, ReceptiveField, with_receptive_fields};
pub use lenet5::{LeNet5, LeNet5Config};
pub use registry::{
    AnyModel, Architecture, DIGITS, DatasetInfo, FASHION, MapModel, Preprocess, Pretrained,
    WithModel, trainable_parameters,
};
pub use resnet::{ResNet, ResNetConfig};
pub use vin::{VinConfig, VisualIntelligenceNetwork};

use burn::module::Module;
use burn::prelude::Tensor;

use crate::error::{Error, Result};

/// What every image classifier in the zoo offers, so the training loop and the web layer serve
/// them all with one piece of code.
pub trait ImageClassifier: Module {
    /// The input one image must have: `[channels, height, width]`.
    fn input_shape(&self) -> [usize; 3];

    /// Every layer before the classifying one, reporting each layer's output to `rec`: the
    /// features the classifying layer reads (what `embed` gives, and what a new head learns
    /// from in transfer learning).
    ///
    /// # Shapes
    /// - input: `[batch, channels, height, width]` as [`Self::input_shape`] says
    /// - output: `[batch, features]`
    fn features_recorded(&self, input: Tensor<4>, rec: &mut Recorder) -> Tensor<2>;

    /// The classifying layer (with the dropout before it, if any) on features from
    /// [`Self::features_recorded`]: `[batch, features]` → `[batch, classes]`.
    fn classify_features(&self, features: Tensor<2>) -> Tensor<2>;

    /// The classifying layer's name among the feature maps (e.g. `"fc3"`) and its module's
    /// path among the parameters (e.g. `"fc3"`): the part whose size is the class count, which
    /// transfer learning replaces and `train: "head"` trains alone.
    fn head(&self) -> (&str, &str);

    /// The last convolutional layer's output (after its activation) among the feature maps:
    /// where Grad-CAM looks by default.
    fn last_conv(&self) -> &str;

    /// Every recorded layer's kind and geometry, in forward order (the head included).
    fn layers(&self) -> Vec<LayerGeometry>;

    /// The forward pass, reporting each layer's output to `rec`.
    ///
    /// # Shapes
    /// - input: `[batch, channels, height, width]` as [`Self::input_shape`] says
    /// - output: `[batch, classes]`, class scores before softmax
    fn forward_recorded(&self, input: Tensor<4>, rec: &mut Recorder) -> Tensor<2> {
        let features = self.features_recorded(input, rec);
        let logits = self.classify_features(features);
        rec.dense(self.head().0, &logits);
        logits
    }

    /// Class scores before softmax (shapes as for [`Self::forward_recorded`]).
    fn logits(&self, input: Tensor<4>) -> Tensor<2> {
        self.forward_recorded(input, &mut Recorder::off())
    }

    /// The PyTorch `state_dict` module name for one of this module's Burn module paths (e.g.
    /// `conv1` → `conv1`), for [`crate::weights::load_pytorch_safetensors`] and
    /// [`crate::weights::to_pytorch_safetensors`]. The default keeps Burn's path.
    fn pytorch_key(burn_path: &str) -> Option<String>
    where
        Self: Sized,
    {
        Some(burn_path.to_string())
    }

    /// The first convolution's name and kernels, `[out_channels, in_channels, kh, kw]`: what
    /// the network looks for in the raw pixels.
    fn first_filters(&self) -> (&str, Tensor<4>);

    /// Class scores plus the output of every layer, in order.
    fn activations(&self, input: Tensor<4>) -> Activations {
        let mut rec = Recorder::on();
        let logits = self.forward_recorded(input, &mut rec);
        rec.finish(logits)
    }

    /// [`Self::logits`], after checking the input's shape.
    ///
    /// # Errors
    /// [`Error::BadInput`] when the input is not `[batch, ...input_shape]` with `batch > 0`.
    fn try_logits(&self, input: Tensor<4>) -> Result<Tensor<2>> {
        check_input(self.input_shape(), input.dims())?;
        Ok(self.logits(input))
    }

    /// [`Self::activations`], after checking the input's shape.
    ///
    /// # Errors
    /// [`Error::BadInput`] as for [`Self::try_logits`].
    fn try_activations(&self, input: Tensor<4>) -> Result<Activations> {
        check_input(self.input_shape(), input.dims())?;
        Ok(self.activations(input))
    }
}

/// Checks that `dims` is `[batch, ...expected]` with a non-empty batch.
///
/// # Errors
/// [`Error::BadInput`] naming the expected and the received shape.
pub fn check_input(expected: [usize; 3], dims: [usize; 4]) -> Result<()> {
    let [batch, c, h, w] = dims;
    if batch == 0 || [c, h, w] != expected {
        return Err(Error::BadInput(format!(
            "expected images of shape [batch>0, {}, {}, {}], got {dims:?}",
            expected[0], expected[1], expected[2]
        )));
    }
    Ok(())
}
