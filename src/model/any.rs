//! One value for "a network of the zoo", whichever architecture it is, so that code serving
//! every architecture (the web layer, the CLI) names it once.

use burn::prelude::Device;

use super::{
    AlexNet, AlexNetConfig, Architecture, LeNet5, LeNet5Config, ResNet, ResNetConfig, VinConfig,
    VisualIntelligenceNetwork,
};

/// A network of any architecture in the zoo.
// The variants hold layer handles (a few hundred bytes, the tensors are shared): boxing them
// would cost an allocation per clone for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum AnyModel {
    /// LeNet-5.
    LeNet5(LeNet5),
    /// The VisualIntelligenceNetwork.
    Vin(VisualIntelligenceNetwork),
    /// ResNet-8.
    ResNet8(ResNet),
    /// The scaled AlexNet.
    AlexNet(AlexNet),
}

/// Evaluates `$body` with `$m` bound to the concrete network inside `$model` (an [`AnyModel`]),
/// so that `$body` can call generic code (`fit`, `evaluate`, `weights::load`, …).
/// With `=> wrap`, `$body` must give a network of the same type, and the result is an
/// [`AnyModel`] again.
#[macro_export]
macro_rules! with_any_model {
    ($model:expr, |$m:ident| $body:expr) => {
        match $model {
            $crate::model::AnyModel::LeNet5($m) => $body,
            $crate::model::AnyModel::Vin($m) => $body,
            $crate::model::AnyModel::ResNet8($m) => $body,
            $crate::model::AnyModel::AlexNet($m) => $body,
        }
    };
    ($model:expr, |$m:ident| $body:expr => wrap) => {
        match $model {
            $crate::model::AnyModel::LeNet5($m) => $crate::model::AnyModel::LeNet5($body),
            $crate::model::AnyModel::Vin($m) => $crate::model::AnyModel::Vin($body),
            $crate::model::AnyModel::ResNet8($m) => $crate::model::AnyModel::ResNet8($body),
            $crate::model::AnyModel::AlexNet($m) => $crate::model::AnyModel::AlexNet($body),
        }
    };
}

impl Architecture {
    /// A freshly initialised network of this architecture (its default configuration) on
    /// `device`.
    pub fn init(self, device: &Device) -> AnyModel {
        self.init_with_classes(10, device)
    }

    /// As [`Self::init`], with `classes` outputs.
    pub fn init_with_classes(self, classes: usize, device: &Device) -> AnyModel {
        match self {
            Architecture::LeNet5 => {
                AnyModel::LeNet5(LeNet5Config::new().with_classes(classes).init(device))
            }
            Architecture::Vin => AnyModel::Vin(VinConfig::new().with_classes(classes).init(device)),
            Architecture::ResNet8 => {
                AnyModel::ResNet8(ResNetConfig::new().with_classes(classes).init(device))
            }
            Architecture::AlexNet => {
                AnyModel::AlexNet(AlexNetConfig::new().with_classes(classes).init(device))
            }
        }
    }
}

impl AnyModel {
    /// Which architecture this is.
    pub fn architecture(&self) -> Architecture {
        match self {
            AnyModel::LeNet5(_) => Architecture::LeNet5,
            AnyModel::Vin(_) => Architecture::Vin,
            AnyModel::ResNet8(_) => Architecture::ResNet8,
            AnyModel::AlexNet(_) => Architecture::AlexNet,
        }
    }
}

macro_rules! from_network {
    ($($variant:ident($ty:ty)),*) => {
        $(impl From<$ty> for AnyModel {
            fn from(model: $ty) -> Self {
                AnyModel::$variant(model)
            }
        })*
    };
}

from_network!(
    LeNet5(LeNet5),
    Vin(VisualIntelligenceNetwork),
    ResNet8(ResNet),
    AlexNet(AlexNet)
);
