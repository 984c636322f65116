//! The architectures the CLI and JS can name, their class labels, parameter counts, and the
//! trained weights shipped with convlens.

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::{Device, Tensor};

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

/// A named architecture of the zoo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// [`super::LeNet5`], 1×28×28, 10 classes.
    LeNet5,
    /// [`super::VisualIntelligenceNetwork`] at level 3, 1×28×28, 10 classes.
    Vin,
    /// [`super::ResNet`] (ResNet-8), 1×28×28, 10 classes.
    ResNet8,
    /// [`super::AlexNet`] scaled to 1×28×28, 10 classes.
    AlexNet,
}

impl Architecture {
    /// Every architecture, in the order they are listed.
    pub const ALL: [Architecture; 4] = [
        Architecture::LeNet5,
        Architecture::Vin,
        Architecture::ResNet8,
        Architecture::AlexNet,
    ];

    /// Parses a name such as `"lenet5"`.
    ///
    /// # Errors
    /// [`Error::BadInput`] naming the known architectures.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|a| a.name()).collect();
                Error::BadInput(format!(
                    "unknown architecture {name:?}; known: {}",
                    known.join(", ")
                ))
            })
    }

    /// The name the CLI and JS use.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::LeNet5 => "lenet5",
            Architecture::Vin => "vin",
            Architecture::ResNet8 => "resnet8",
            Architecture::AlexNet => "alexnet",
        }
    }

    /// Trainable parameters (weights and biases; BatchNorm's running statistics are not
    /// counted, as in PyTorch's `sum(p.numel() for p in model.parameters())`).
    pub fn parameters(self) -> usize {
        crate::with_any_model!(self.init(&Device::flex()), |m| trainable_parameters(&m))
    }

    /// `[channels, height, width]` of one input image.
    pub fn input_shape(self) -> [usize; 3] {
        match self {
            Architecture::LeNet5
            | Architecture::Vin
            | Architecture::ResNet8
            | Architecture::AlexNet => [1, 28, 28],
        }
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

/// Trained weights that ship with convlens (in `weights/`), with the command that made them in
/// the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pretrained {
    /// The name the CLI and JS use, e.g. `"lenet5-mnist"`.
    pub name: &'static str,
    /// The network.
    pub architecture: Architecture,
    /// The dataset it was trained on (`"mnist"` or `"fashion"`).
    pub dataset: &'static str,
    /// Class labels, by output index.
    pub labels: &'static [&'static str],
    /// The weights' file name in `weights/`.
    pub file: &'static str,
}

impl Pretrained {
    /// Every shipped model.
    pub const ALL: [Pretrained; 2] = [
        Pretrained {
            name: "lenet5-mnist",
            architecture: Architecture::LeNet5,
            dataset: "mnist",
            labels: &DIGITS,
            file: "lenet5-mnist.bpk",
        },
        Pretrained {
            name: "vin-fashion",
            architecture: Architecture::Vin,
            dataset: "fashion",
            labels: &FASHION,
            file: "vin-fashion.bpk",
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
        for arch in Architecture::ALL {
            assert_eq!(Architecture::parse(arch.name()).ok(), Some(arch));
        }
        let err = Architecture::parse("vgg16").unwrap_err().to_string();
        assert!(err.contains("lenet5, vin, resnet8, alexnet"), "{err}");
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
}
