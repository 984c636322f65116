//! The values that cross to JavaScript and are made for it, defined once: serde gives their JS form (camelCase) and,
//! in the wasm build, tsify their TypeScript types, which the JS API (`js/types.ts`) re-exports
//! instead of declaring them again. The training events, evaluation and fit options, the adapter
//! info and the datasets are defined where they are made (`train`, `session`, `device`, `model`)
//! with the same derives.

use serde::Serialize;

use crate::device::{AdapterInfo, BackendKind, SelectedBackend};
pub use crate::error::ErrorCode;
use crate::model::{Architecture, Preprocess, Pretrained};

/// The backend a model runs on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct BackendSummary {
    /// `"webgpu"` or `"cpu"`.
    pub name: BackendKind,
    /// The WebGPU adapter, when `name` is `"webgpu"`.
    pub adapter: Option<AdapterInfo>,
    /// Why `"auto"` chose the CPU backend, when it did.
    pub fallback_reason: Option<String>,
    /// How many threads the CPU backend's kernels run on: 1, or the size of the Web Worker pool
    /// of the threaded module (worker mode on a cross-origin isolated page; README, "Threads").
    pub threads: u32,
}

impl From<&SelectedBackend> for BackendSummary {
    fn from(selected: &SelectedBackend) -> Self {
        Self {
            name: selected.kind,
            adapter: selected.adapter.clone(),
            fallback_reason: selected.fallback_reason.clone(),
            threads: crate::device::cpu_threads() as u32,
        }
    }
}

/// An architecture of the zoo.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct ArchitectureInfo {
    /// The name the API uses, e.g. `"lenet5"`.
    pub name: &'static str,
    /// The name people read, e.g. `"LeNet-5"`.
    pub title: &'static str,
    /// `[channels, height, width]` of one input image.
    pub input_shape: [usize; 3],
    /// Trainable parameters with 10 classes.
    pub parameters: usize,
    /// How `classify` and `featureMaps` make an image of any size its input.
    pub preprocess: Preprocess,
}

impl From<Architecture> for ArchitectureInfo {
    fn from(a: Architecture) -> Self {
        Self {
            name: a.name(),
            title: a.title(),
            input_shape: a.input_shape(),
            parameters: a.parameters(),
            preprocess: a.preprocess(),
        }
    }
}

/// A shipped model: its architecture, labels and weights file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct PretrainedInfo {
    /// The name to load it by, e.g. `"lenet5-mnist"`.
    pub name: &'static str,
    /// Its architecture's name.
    pub architecture: &'static str,
    /// The dataset it was trained on, e.g. `"mnist"`.
    pub dataset: &'static str,
    /// Class labels by output index; null when they travel in the weights file (ImageNet's
    /// 1,000: the loaded model's `info.classes` has them).
    pub labels: Option<&'static [&'static str]>,
    /// Its weights file in the package's `weights/`.
    pub file: &'static str,
    /// How an image becomes its input.
    pub preprocess: Preprocess,
    /// Accuracy on its dataset's official held-out test set (`convlens eval`), null where not
    /// measured.
    pub test_accuracy: Option<f32>,
}

impl From<&Pretrained> for PretrainedInfo {
    fn from(p: &Pretrained) -> Self {
        Self {
            name: p.name,
            architecture: p.architecture.name(),
            dataset: p.dataset.name,
            labels: (!p.dataset.labels.is_empty()).then_some(p.dataset.labels),
            file: p.file,
            preprocess: p.preprocess,
            test_accuracy: p.test_accuracy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_entries_are_camel_case() {
        let lenet = serde_json::to_value(ArchitectureInfo::from(Architecture::LeNet5)).unwrap();
        assert_eq!(lenet["inputShape"], serde_json::json!([1, 28, 28]));
        assert_eq!(lenet["title"], "LeNet-5");
        let shipped = serde_json::to_value(PretrainedInfo::from(&Pretrained::ALL[1])).unwrap();
        assert_eq!(shipped["dataset"], "fashion");
        assert_eq!(shipped["labels"][9], "Ankle boot");
    }
}
