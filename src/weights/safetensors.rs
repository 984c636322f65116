//! A PyTorch `state_dict` saved as safetensors ⇄ a Burn module.
//!
//! The file format: an 8-byte little-endian header length, a JSON header
//! `{name: {dtype, shape, data_offsets: [begin, end]}}`, then the tensor bytes. PyTorch's
//! conventions differ from Burn's in two places, handled here for every architecture:
//! `nn.Linear.weight` is `[out, in]` (Burn: `[in, out]`), and `BatchNorm`'s `weight`/`bias` are
//! Burn's `gamma`/`beta`. Module names are the architecture's business: it passes a function
//! from a Burn parameter path to the PyTorch key.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::{Tensor, TensorData};

use crate::error::{Error, Result};

/// One tensor of a safetensors file, as `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub data: Vec<f32>,
}

/// Parses a safetensors file of `F32`/`F64` tensors (other dtypes are rejected, except that
/// `I64` tensors — PyTorch's `num_batches_tracked` — are skipped).
///
/// # Errors
/// [`Error::BadWeights`] when the bytes are not a well-formed safetensors file.
pub fn parse_safetensors(bytes: &[u8]) -> Result<HashMap<String, NamedTensor>> {
    let bad = |msg: String| Error::BadWeights(format!("not a safetensors file: {msg}"));
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("shorter than its 8-byte header length".into()))?;
    let header_len = usize::try_from(u64::from_le_bytes(len_bytes))
        .map_err(|_| bad("header length overflows".into()))?;
    let header_end = 8usize
        .checked_add(header_len)
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| bad(format!("header of {header_len} bytes runs past the end")))?;
    let header: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..header_end]).map_err(|e| bad(format!("header: {e}")))?;
    let data = &bytes[header_end..];
    let mut out = HashMap::new();
    for (name, info) in header {
        if name == "__metadata__" {
            continue;
        }
        let dtype = info["dtype"].as_str().unwrap_or_default();
        let shape = usizes(&info["shape"]).ok_or_else(|| bad(format!("{name}: no shape")))?;
        let offsets = usizes(&info["data_offsets"]).unwrap_or_default();
        let [begin, end] = offsets[..] else {
            return Err(bad(format!("{name}: no data_offsets")));
        };
        let raw = data
            .get(begin..end)
            .ok_or_else(|| bad(format!("{name}: data_offsets {begin}..{end} out of range")))?;
        let count: usize = shape.iter().product();
        let values: Vec<f32> = match dtype {
            "F32" => raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            "F64" => raw
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32)
                .collect(),
            "I64" => continue,
            other => return Err(bad(format!("{name}: unsupported dtype {other}"))),
        };
        if values.len() != count {
            return Err(bad(format!(
                "{name}: {} values for shape {shape:?}",
                values.len()
            )));
        }
        out.insert(
            name,
            NamedTensor {
                shape,
                data: values,
            },
        );
    }
    Ok(out)
}

/// A JSON array of non-negative integers (a shape, offsets), or `None` when it is not one.
fn usizes(value: &serde_json::Value) -> Option<Vec<usize>> {
    value
        .as_array()?
        .iter()
        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
        .collect()
}

/// Loads `bytes` (a PyTorch `state_dict` in safetensors) into `module`. `pytorch_key` maps a
/// Burn module path (e.g. `complexity_layers.0.conv`) to the PyTorch module name
/// (`complexity_layers.0`); the parameter's own name is translated here.
///
/// # Errors
/// [`Error::BadWeights`] when the file is malformed, a parameter is missing or has another
/// shape, or the file holds tensors the module does not have.
pub fn load_pytorch_safetensors<M: Module>(
    module: M,
    bytes: &[u8],
    pytorch_key: impl Fn(&str) -> Option<String>,
) -> Result<M> {
    let mut mapper = PyTorchMapper {
        tensors: parse_safetensors(bytes)?,
        names: PyTorchNames::new(&pytorch_key),
        errors: Vec::new(),
    };
    let module = module.map(&mut mapper);
    if let Some(unused) = mapper.tensors.keys().next() {
        mapper.errors.push(format!(
            "{} tensor(s) the model does not have, e.g. {unused:?}",
            mapper.tensors.len()
        ));
    }
    if mapper.errors.is_empty() {
        Ok(module)
    } else {
        Err(Error::BadWeights(mapper.errors.join("; ")))
    }
}

/// Where a module traversal is, and the PyTorch name of the parameter it is at.
struct PyTorchNames<'a, F> {
    path: Vec<String>,
    /// `containers[k]` is the type of the module that holds `path[k]`.
    containers: Vec<String>,
    pytorch_key: &'a F,
}

impl<'a, F: Fn(&str) -> Option<String>> PyTorchNames<'a, F> {
    fn new(pytorch_key: &'a F) -> Self {
        Self {
            path: Vec::new(),
            containers: Vec::new(),
            pytorch_key,
        }
    }

    fn enter(&mut self, name: &str, container_type: &str) {
        self.path.push(name.to_string());
        self.containers.push(container_type.to_string());
    }

    fn exit(&mut self) {
        self.path.pop();
        self.containers.pop();
    }

    /// `(PyTorch key, stored transposed?, Burn path)` of the current parameter.
    fn current(&self) -> std::result::Result<(String, bool, String), String> {
        let burn_path = self.path.join(".");
        let (leaf, parents) = self
            .path
            .split_last()
            .ok_or_else(|| "a parameter outside any module".to_string())?;
        let parent = self.containers.last().map_or("", String::as_str);
        let module_key = (self.pytorch_key)(&parents.join("."))
            .ok_or_else(|| format!("no PyTorch name for parameter {burn_path}"))?;
        let (leaf, transpose) = pytorch_leaf(parent, leaf);
        Ok((format!("{module_key}.{leaf}"), transpose, burn_path))
    }
}

struct PyTorchMapper<'a, F> {
    tensors: HashMap<String, NamedTensor>,
    names: PyTorchNames<'a, F>,
    errors: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> ModuleMapper for PyTorchMapper<'_, F> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.names.enter(name, container_type);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.names.exit();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (key, transpose, burn_path) = match self.names.current() {
            Ok(found) => found,
            Err(e) => {
                self.errors.push(e);
                return param;
            }
        };
        let Some(tensor) = self.tensors.remove(&key) else {
            self.errors.push(format!("missing {key} (for {burn_path})"));
            return param;
        };
        let want = param.lazy_shape().dims::<D>().to_vec();
        let given: Vec<usize> = if transpose {
            tensor.shape.iter().rev().copied().collect()
        } else {
            tensor.shape.clone()
        };
        if given != want {
            self.errors.push(format!(
                "{key} has shape {:?}, {burn_path} needs {want:?}{}",
                tensor.shape,
                if transpose { " transposed" } else { "" }
            ));
            return param;
        }
        let device = param.lazy_device();
        let mut value: Tensor<D> =
            Tensor::from_data(TensorData::new(tensor.data, tensor.shape), &device);
        if transpose {
            value = value.transpose();
        }
        let id = param.id;
        param.transform_for_load(value, id)
    }
}

/// PyTorch's name for a parameter `leaf` of a module of type `parent` (a Burn container type
/// such as `Struct:BatchNorm`), and whether PyTorch stores it transposed.
fn pytorch_leaf<'a>(parent: &str, leaf: &'a str) -> (&'a str, bool) {
    match (parent, leaf) {
        ("Struct:BatchNorm", "gamma") => ("weight", false),
        ("Struct:BatchNorm", "beta") => ("bias", false),
        ("Struct:Linear", "weight") => ("weight", true),
        (_, other) => (other, false),
    }
}

/// Writes `module`'s parameters as a PyTorch `state_dict` in safetensors (`F32`, keys sorted),
/// the inverse of [`load_pytorch_safetensors`] with the same `pytorch_key`.
///
/// Reads every parameter synchronously: call it on a module on the CPU backend.
///
/// # Errors
/// [`Error::BadWeights`] when a parameter has no PyTorch name; [`Error::Backend`] when a
/// parameter cannot be read.
pub fn to_pytorch_safetensors<M: Module>(
    module: &M,
    pytorch_key: impl Fn(&str) -> Option<String>,
) -> Result<Vec<u8>> {
    let mut visitor = PyTorchExporter {
        tensors: Vec::new(),
        names: PyTorchNames::new(&pytorch_key),
        errors: Vec::new(),
    };
    module.visit(&mut visitor);
    if !visitor.errors.is_empty() {
        return Err(Error::BadWeights(visitor.errors.join("; ")));
    }
    let mut tensors = visitor.tensors;
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (key, tensor) in &tensors {
        let begin = data.len();
        data.extend(tensor.data.iter().flat_map(|v| v.to_le_bytes()));
        header.insert(
            key.clone(),
            serde_json::json!({
                "dtype": "F32",
                "shape": tensor.shape,
                "data_offsets": [begin, data.len()],
            }),
        );
    }
    let mut header = serde_json::to_vec(&header)
        .map_err(|e| Error::Backend(format!("could not write the header: {e}")))?;
    // The format pads the header with spaces to a multiple of 8 bytes.
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + header.len() + data.len());
    out.extend((header.len() as u64).to_le_bytes());
    out.extend(header);
    out.extend(data);
    Ok(out)
}

struct PyTorchExporter<'a, F> {
    tensors: Vec<(String, NamedTensor)>,
    names: PyTorchNames<'a, F>,
    errors: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> ModuleVisitor for PyTorchExporter<'_, F> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.names.enter(name, container_type);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.names.exit();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let (key, transpose, _) = match self.names.current() {
            Ok(found) => found,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        let mut value = param.val();
        if transpose {
            value = value.transpose();
        }
        let data = value.into_data();
        let shape = data.shape().to_vec();
        match data.try_into_vec::<f32>() {
            Ok(data) => self.tensors.push((key, NamedTensor { shape, data })),
            Err(e) => self.errors.push(format!("{key}: {e:?}")),
        }
    }
}
