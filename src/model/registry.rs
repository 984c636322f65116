//! The architectures the CLI and JS can name.

use crate::error::{Error, Result};

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
