//! A PyTorch `state_dict` saved as safetensors ⇄ a Burn module, and a PyTorch checkpoint file
//! (`.pth`) → a Burn module, through burn-store (its safetensors and PyTorch stores, its PyTorch
//! adapters and its key remapping).
//!
//! burn-store's adapters handle what differs for every architecture — `nn.Linear.weight` is
//! `[out, in]` (Burn: `[in, out]`), `BatchNorm`'s `weight`/`bias` are Burn's `gamma`/`beta`.
//! Module names are the architecture's business: it passes a function from a Burn module path
//! to the PyTorch module name, from which the key remapping is made here.

use std::collections::HashMap;

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::Tensor;
use burn::store::{
    ApplyResult, BurnToPyTorchAdapter, KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter,
    PytorchStore, SafetensorsStore,
};
use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};

/// One tensor of a safetensors file, as `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub data: Vec<f32>,
}

/// The float tensors of a safetensors file (`F32`, or `F64` rounded), by name; integer tensors
/// (PyTorch's `num_batches_tracked`) are left out.
///
/// # Errors
/// [`Error::BadWeights`] when the bytes are not a well-formed safetensors file or a tensor has
/// another dtype.
pub fn parse_safetensors(bytes: &[u8]) -> Result<HashMap<String, NamedTensor>> {
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| Error::BadWeights(format!("not a safetensors file: {e}")))?;
    let mut out = HashMap::new();
    for (name, view) in file.tensors() {
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F64 => view
                .data()
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f32)
                .collect(),
            Dtype::I64 | Dtype::I32 => continue,
            other => {
                return Err(Error::BadWeights(format!(
                    "{name} is {other:?}; convlens reads F32 and F64 tensors"
                )));
            }
        };
        out.insert(
            name,
            NamedTensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok(out)
}

/// Loads `bytes` (a PyTorch `state_dict` in safetensors) into `module`. `pytorch_key` maps a
/// Burn module path (e.g. `complexity_layers.0.conv`) to the PyTorch module name
/// (`complexity_layers.0`); the parameter's own name is translated by burn-store's adapter.
///
/// # Errors
/// [`Error::BadWeights`] when the file is malformed, a parameter is missing or has another
/// shape, or the file holds tensors the module does not have.
pub fn load_pytorch_safetensors<M: Module>(
    mut module: M,
    bytes: &[u8],
    pytorch_key: impl Fn(&str) -> Option<String>,
) -> Result<M> {
    // Checked first (dtypes included), so that a malformed file is BAD_WEIGHTS.
    parse_safetensors(bytes)?;
    let remap = remapper(&module_paths(&module), &pytorch_key, Direction::Load)?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes.to_vec()))
        .with_from_adapter(PyTorchToBurnAdapter)
        .remap(remap)
        .allow_partial(true)
        .validate(true);
    let result = module
        .load_from(&mut store)
        .map_err(|e| Error::BadWeights(format!("could not read the state_dict: {e}")))?;
    checked(module, result)
}

/// Loads a PyTorch checkpoint file (`.pt`/`.pth`, whichever format `torch.save` wrote: the ZIP
/// of PyTorch ≥ 1.6 or the older pickle stream) holding a `state_dict` into `module`, through
/// burn-store's `PytorchStore` (PyTorch adapters applied), with the module names of
/// `pytorch_key` as for [`load_pytorch_safetensors`].
///
/// # Errors
/// As for [`load_pytorch_safetensors`].
pub fn load_pytorch_checkpoint<M: Module>(
    mut module: M,
    path: &std::path::Path,
    pytorch_key: impl Fn(&str) -> Option<String>,
) -> Result<M> {
    let remap = remapper(&module_paths(&module), &pytorch_key, Direction::Load)?;
    // The remapped keys carry the module's full path, enum variants included (as for
    // safetensors): matched exactly.
    let mut store = PytorchStore::from_file(path)
        .skip_enum_variants(false)
        .remap(remap)
        .allow_partial(true)
        .validate(true);
    let result = module.load_from(&mut store).map_err(|e| {
        Error::BadWeights(format!(
            "could not read {} as a PyTorch state_dict: {e}",
            path.display()
        ))
    })?;
    checked(module, result)
}

/// `module` when every parameter was loaded and nothing in the file was left over.
fn checked<M>(module: M, result: ApplyResult) -> Result<M> {
    let mut errors: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
    if !result.missing.is_empty() {
        let missing: Vec<_> = result
            .missing
            .iter()
            .map(|(path, _)| path.as_str())
            .collect();
        errors.push(format!("missing {}", missing.join(", ")));
    }
    // PyTorch's BatchNorm step counters (integers) have no Burn counterpart.
    let unused: Vec<_> = result
        .unused
        .iter()
        .filter(|name| !name.ends_with("num_batches_tracked"))
        .collect();
    if let Some(first) = unused.first() {
        errors.push(format!(
            "{} tensor(s) the model does not have, e.g. {first:?}",
            unused.len()
        ));
    }
    if errors.is_empty() {
        Ok(module)
    } else {
        Err(Error::BadWeights(errors.join("; ")))
    }
}

/// Writes `module`'s parameters as a PyTorch `state_dict` in safetensors (`F32`), the inverse
/// of [`load_pytorch_safetensors`] with the same `pytorch_key`.
///
/// Reads every parameter synchronously: call it on a module on the CPU backend.
///
/// # Errors
/// [`Error::BadWeights`] when a module has no PyTorch name; [`Error::Backend`] when a
/// parameter cannot be read or the file cannot be written.
pub fn to_pytorch_safetensors<M: Module>(
    module: &M,
    pytorch_key: impl Fn(&str) -> Option<String>,
) -> Result<Vec<u8>> {
    let remap = remapper(&module_paths(module), &pytorch_key, Direction::Save)?;
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .remap(remap)
        .clear_metadata();
    module
        .save_into(&mut store)
        .map_err(|e| Error::Backend(format!("could not write the state_dict: {e}")))?;
    store
        .get_bytes()
        .map_err(|e| Error::Backend(format!("could not write the state_dict: {e}")))
}

/// Marks a key already renamed, so that no later rule renames it again (burn-store applies
/// every rule in turn); the last rule takes it off.
const SENTINEL: &str = "\u{1}";

enum Direction {
    Load,
    Save,
}

/// One rule per module holding parameters: its PyTorch name ⇄ its Burn path (exact, the
/// parameter's own name kept).
fn remapper(
    modules: &[String],
    pytorch_key: &impl Fn(&str) -> Option<String>,
    direction: Direction,
) -> Result<KeyRemapper> {
    let mut rules = Vec::new();
    for burn in modules {
        let torch = pytorch_key(burn)
            .ok_or_else(|| Error::BadWeights(format!("no PyTorch name for module {burn}")))?;
        let (from, to) = match direction {
            Direction::Load => (torch, burn.clone()),
            Direction::Save => (burn.clone(), torch),
        };
        rules.push((
            format!(r"^{}\.([^.]+)$", regex::escape(&from)),
            format!("{SENTINEL}{to}.$1"),
        ));
    }
    rules.push((format!("^{SENTINEL}"), String::new()));
    KeyRemapper::from_patterns(rules)
        .map_err(|e| Error::Backend(format!("could not build the key remapping: {e}")))
}

/// The Burn paths of the modules that hold parameters, e.g. `conv1`, `complexity_layers.0.norm`.
fn module_paths<M: Module>(module: &M) -> Vec<String> {
    #[derive(Default)]
    struct Paths {
        path: Vec<String>,
        found: Vec<String>,
    }
    impl ModuleVisitor for Paths {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, _param: &Param<Tensor<D>>) {
            if let Some((_, parents)) = self.path.split_last() {
                let module = parents.join(".");
                if self.found.last() != Some(&module) {
                    self.found.push(module);
                }
            }
        }
    }
    let mut paths = Paths::default();
    module.visit(&mut paths);
    paths.found.dedup();
    paths.found
}
