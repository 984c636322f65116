//! Module weights ⇄ bytes (Burn's burnpack format), and PyTorch `state_dict`s in safetensors.
//! JS fetches and caches the bytes; Rust parses.

mod host;
#[cfg(feature = "pytorch")]
mod pytorch;

pub use host::to_cpu;
#[cfg(feature = "pytorch")]
pub use pytorch::{
    NamedTensor, load_pytorch_checkpoint, load_pytorch_safetensors, parse_safetensors,
    to_pytorch_safetensors,
};

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, DType};
use burn_pack::{Reader, Tensor as PackTensor, Writer};

use crate::error::{Error, Result};
use crate::limits::{MAX_CLASSES, MAX_LABEL_LENGTH};

/// Serialises a module's parameters.
///
/// Reads every parameter synchronously, so in a browser call it on a module that lives on the
/// CPU backend ([`to_cpu`] brings one there).
///
/// # Errors
/// [`Error::Backend`] when serialisation fails.
pub fn to_bytes<M: Module>(module: M) -> Result<Vec<u8>> {
    let bytes = module
        .into_record()
        .into_bytes()
        .map_err(|e| Error::Backend(format!("could not serialise the weights: {e}")))?;
    Ok(bytes.to_vec())
}

/// The metadata key under which a weights file carries its class labels (a JSON array of
/// strings, by output index).
const LABELS_KEY: &str = "convlens.labels";

/// [`Error::BadWeights`] for a file over [`MAX_WEIGHTS_BYTES`].
fn check_size(bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_WEIGHTS_BYTES {
        return Err(Error::BadWeights(format!(
            "the weights file is {} bytes; the limit is {MAX_WEIGHTS_BYTES}",
            bytes.len()
        )));
    }
    Ok(())
}

fn not_weights(e: &dyn core::fmt::Display) -> Error {
    Error::BadWeights(format!("not a convlens weights file: {e}"))
}

/// `bytes` (a weights file) read and written again, its tensors passed through `tensors` and
/// its metadata through `metadata` (which sees the file as it was read).
fn rewrite(
    bytes: Vec<u8>,
    tensors: impl FnOnce(Vec<PackTensor>) -> Result<Vec<PackTensor>>,
    metadata: impl FnOnce(&Reader, &mut std::collections::BTreeMap<String, String>) -> Result<()>,
) -> Result<Vec<u8>> {
    let reader = Reader::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| not_weights(&e))?;
    let mut meta = reader.metadata().clone();
    metadata(&reader, &mut meta)?;
    let tensors = tensors(reader.into_tensors().map_err(|e| not_weights(&e))?)?;
    let mut writer = Writer::new(tensors);
    for (key, value) in &meta {
        writer = writer.with_metadata(key, value);
    }
    Ok(writer.into_bytes().map_err(|e| not_weights(&e))?.to_vec())
}

/// `bytes` (a weights file) with `labels` written into its metadata, so that the file says what
/// its outputs mean.
///
/// # Errors
/// [`Error::BadWeights`] when `bytes` is not a weights file.
pub fn with_labels(bytes: Vec<u8>, labels: &[String]) -> Result<Vec<u8>> {
    let json = serde_json::to_string(labels)
        .map_err(|e| Error::Backend(format!("could not write the labels: {e}")))?;
    rewrite(bytes, Ok, |_, meta| {
        meta.insert(LABELS_KEY.to_string(), json);
        Ok(())
    })
}

/// The metadata key of a model file's description: a JSON object the session writes and reads
/// (`session::ModelDescription`: architecture, labels, input shape, preparation, training).
const MODEL_KEY: &str = "convlens.model";
/// The metadata key of a model file's format version.
const FORMAT_KEY: &str = "convlens.format";
/// The metadata key of the SHA-256 of a model file's tensors (names and bytes, in file order).
const CHECKSUM_KEY: &str = "convlens.checksum";
/// The model file format this build writes, and the newest it reads.
pub const MODEL_FORMAT: u32 = 1;

/// The hex SHA-256 of every tensor's name and bytes, in the file's order.
fn checksum(reader: &Reader) -> Result<String> {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for name in reader.tensor_names() {
        hash.update((name.len() as u64).to_le_bytes());
        hash.update(name.as_bytes());
        let data = reader.tensor_data(name).map_err(|e| not_weights(&e))?;
        hash.update((data.len() as u64).to_le_bytes());
        hash.update(&data);
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// `bytes` (a weights file) made a model file: `description` (JSON) in its metadata with the
/// format version and the checksum of its tensors. The weights are not changed, so the file
/// still loads as bare weights.
///
/// # Errors
/// [`Error::BadWeights`] when `bytes` is not a weights file.
pub fn with_description(bytes: Vec<u8>, description: &str) -> Result<Vec<u8>> {
    rewrite(bytes, Ok, |reader, meta| {
        meta.insert(MODEL_KEY.to_string(), description.to_string());
        meta.insert(FORMAT_KEY.to_string(), MODEL_FORMAT.to_string());
        meta.insert(CHECKSUM_KEY.to_string(), checksum(reader)?);
        Ok(())
    })
}

/// The description of a model file ([`with_description`]), `None` for a bare weights file,
/// after checking its format version and its checksum.
///
/// # Errors
/// [`Error::BadWeights`] when the bytes are not a weights file, the file is of a newer format,
/// or its tensors do not match its checksum (a damaged file).
pub fn description(bytes: &[u8]) -> Result<Option<String>> {
    check_size(bytes)?;
    let reader =
        Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec())).map_err(|e| not_weights(&e))?;
    let meta = reader.metadata();
    let Some(description) = meta.get(MODEL_KEY) else {
        return Ok(None);
    };
    let format = meta.get(FORMAT_KEY).map(String::as_str).unwrap_or("");
    match format.parse::<u32>() {
        Ok(v) if (1..=MODEL_FORMAT).contains(&v) => {}
        _ => {
            return Err(Error::BadWeights(format!(
                "the model file is of format {format:?}; this convlens reads formats 1 to \
                 {MODEL_FORMAT}: load it with a newer convlens"
            )));
        }
    }
    if meta.get(CHECKSUM_KEY) != Some(&checksum(&reader)?) {
        return Err(Error::BadWeights(
            "the model file is damaged: its weights do not match its checksum".into(),
        ));
    }
    Ok(Some(description.clone()))
}

/// `bytes` (a weights file) with every f32 tensor stored as f16: half the size, read back as
/// f32 by [`load`] (rounded to f16's 11 significant bits; README, "EfficientNet-Lite0", has
/// what that changes).
///
/// # Errors
/// [`Error::BadWeights`] when `bytes` is not a weights file or a value does not fit f16.
pub fn to_half(bytes: Vec<u8>) -> Result<Vec<u8>> {
    let halve = |tensors: Vec<PackTensor>| {
        tensors
            .into_iter()
            .map(|tensor| {
                let (name, dtype, shape, param_id, data) =
                    tensor.into_parts().map_err(|e| not_weights(&e))?;
                let values = floats(&name, dtype, shape.num_elements(), &data)?;
                if let Some(v) = values.iter().find(|v| v.abs() > f32::from(half::f16::MAX)) {
                    return Err(Error::BadWeights(format!(
                        "{name} holds {v}, beyond f16's range"
                    )));
                }
                let data: Vec<half::f16> = values.iter().map(|&v| half::f16::from_f32(v)).collect();
                Ok(PackTensor::new(
                    name,
                    DType::F16,
                    shape,
                    param_id,
                    Bytes::from_elems(data),
                ))
            })
            .collect()
    };
    // A model file's checksum covers its tensors: its description is kept to seal it again.
    let mut json = None;
    let halved = rewrite(bytes, halve, |_, meta| {
        json = meta.get(MODEL_KEY).cloned();
        Ok(())
    })?;
    match json {
        Some(json) => with_description(halved, &json),
        None => Ok(halved),
    }
}

/// The class labels a weights file carries ([`with_labels`]), if it carries any.
///
/// # Errors
/// [`Error::BadWeights`] when the bytes are not a weights file or the labels are not a JSON
/// array of at most 4,096 strings of at most 256 characters.
pub fn labels(bytes: &[u8]) -> Result<Option<Vec<String>>> {
    check_size(bytes)?;
    let reader =
        Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec())).map_err(|e| not_weights(&e))?;
    let Some(json) = reader.metadata().get(LABELS_KEY) else {
        return Ok(None);
    };
    let labels: Vec<String> = serde_json::from_str(json).map_err(|e| {
        Error::BadWeights(format!("the file's labels are not a list of names: {e}"))
    })?;
    if labels.len() > MAX_CLASSES || labels.iter().any(|l| l.chars().count() > MAX_LABEL_LENGTH) {
        return Err(Error::BadWeights(format!(
            "the file's labels are too many or too long (at most {MAX_CLASSES} of {MAX_LABEL_LENGTH} characters)"
        )));
    }
    Ok(Some(labels))
}

/// The largest weights file read (see [`crate::limits`]). The file is copied into memory about
/// twice while it is checked.
pub use crate::limits::MAX_WEIGHTS_BYTES;

/// Loads parameters from `bytes` into `module`, which must have the same architecture.
///
/// Every tensor is checked before Burn sees it: a float dtype (F32; F16, BF16 and F64 are
/// converted to f32, which is exact for the first two and rounds the last), a byte length that
/// matches its shape, and finite values (also after the conversion). The checked values are
/// written out again as an aligned F32 burnpack, so no stored offset or dtype reaches a kernel.
///
/// # Errors
/// [`Error::BadWeights`] when the bytes are not a weights file, hold a tensor that fails a check
/// above (naming it), or name or shape parameters that this architecture does not have.
pub fn load<M: Module>(module: M, bytes: &[u8]) -> Result<M> {
    let (clean, _) = checked(bytes, |_| true)?;
    let record = ModuleRecord::from_bytes(clean).map_err(|e| not_weights(&e))?;
    module
        .try_load_record(record)
        .map_err(|e| Error::BadWeights(format!("the weights do not fit this architecture: {e}")))
}

/// Loads every parameter from `bytes` into `module` except those under `head` (a module path,
/// e.g. `fc3`), which keep their values: transfer learning's pretrained backbone under a new
/// head of another size. The file must hold every other parameter of `module`, checked as by
/// [`load`]; its own head is ignored.
///
/// # Errors
/// As for [`load`]; [`Error::BadWeights`] naming a parameter the file lacks.
pub fn load_backbone<M: Module>(module: M, bytes: &[u8], head: &str) -> Result<M> {
    let prefix = format!("{head}.");
    let outside_head = |name: &str| !name.starts_with(&prefix);
    let (clean, in_file) = checked(bytes, outside_head)?;
    if let Some(missing) = tensor_paths(&module)
        .into_iter()
        .find(|p| outside_head(p) && !in_file.contains(p))
    {
        return Err(Error::BadWeights(format!(
            "the weights do not fit this architecture: they have no {missing}"
        )));
    }
    let record = ModuleRecord::from_bytes(clean)
        .map_err(|e| not_weights(&e))?
        .allow_partial(true);
    module
        .try_load_record(record)
        .map_err(|e| Error::BadWeights(format!("the weights do not fit this architecture: {e}")))
}

/// The paths of `module`'s float tensors, as weights files name them (`conv1.weight`,
/// `blocks.0.bn1.running_mean`, …).
pub fn tensor_paths<M: Module>(module: &M) -> Vec<String> {
    #[derive(Default)]
    struct Paths {
        stack: Vec<String>,
        paths: Vec<String>,
    }
    impl burn::module::ModuleVisitor for Paths {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.stack.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.stack.pop();
        }
        fn visit_float<const D: usize>(
            &mut self,
            _param: &burn::module::Param<burn::prelude::Tensor<D>>,
        ) {
            self.paths.push(self.stack.join("."));
        }
    }
    let mut paths = Paths::default();
    module.visit(&mut paths);
    paths.paths
}

/// The tensors of a weights file whose names `keep` accepts, each checked (see [`load`]) and
/// written out again as an aligned F32 burnpack, and their names.
fn checked(
    bytes: &[u8],
    keep: impl Fn(&str) -> bool,
) -> Result<(Bytes, std::collections::BTreeSet<String>)> {
    check_size(bytes)?;
    let tensors = Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .and_then(Reader::into_tensors)
        .map_err(|e| not_weights(&e))?;
    let mut checked = Vec::with_capacity(tensors.len());
    let mut names = std::collections::BTreeSet::new();
    for tensor in tensors {
        let (name, dtype, shape, param_id, data) =
            tensor.into_parts().map_err(|e| not_weights(&e))?;
        let values = floats(&name, dtype, shape.num_elements(), &data)?;
        if keep(&name) {
            names.insert(name.clone());
            checked.push(PackTensor::new(
                name,
                DType::F32,
                shape,
                param_id,
                Bytes::from_elems(values),
            ));
        }
    }
    let clean = Writer::new(checked)
        .into_bytes()
        .map_err(|e| not_weights(&e))?;
    Ok((clean, names))
}

/// A tensor's little-endian bytes as finite f32 values (read without assuming alignment).
fn floats(name: &str, dtype: DType, count: usize, data: &[u8]) -> Result<Vec<f32>> {
    let size = match dtype {
        DType::F32 => 4,
        DType::F64 => 8,
        DType::F16 | DType::BF16 => 2,
        other => {
            return Err(Error::BadWeights(format!(
                "{name} is stored as {other:?}; weights must be floats (F32, F16, BF16 or F64)"
            )));
        }
    };
    if count.checked_mul(size) != Some(data.len()) {
        return Err(Error::BadWeights(format!(
            "{name} holds {} bytes, but {count} {dtype:?} values take {}",
            data.len(),
            count.saturating_mul(size)
        )));
    }
    let values: Vec<f32> = match dtype {
        DType::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        DType::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
            .collect(),
        DType::F16 => data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        _ => data
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
    };
    if let Some(at) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::BadWeights(format!(
            "{name}[{at}] is {} (as f32); weights must be finite numbers",
            values[at]
        )));
    }
    Ok(values)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::{ImageClassifier, LeNet5Config};
    use burn::prelude::Device;

    fn lenet() -> crate::model::LeNet5 {
        LeNet5Config::new().init(&Device::flex())
    }

    /// The bytes of `model`'s weights with every tensor re-stored by `change`.
    fn rewritten(
        model: &crate::model::LeNet5,
        change: impl Fn(&str, Vec<f32>) -> (DType, Vec<u8>),
    ) -> Vec<u8> {
        let bytes = to_bytes(model.clone()).unwrap();
        let tensors = Reader::from_bytes(Bytes::from_bytes_vec(bytes))
            .unwrap()
            .into_tensors()
            .unwrap();
        let out: Vec<_> = tensors
            .into_iter()
            .map(|t| {
                let (name, _, shape, id, data) = t.into_parts().unwrap();
                let values = floats(&name, DType::F32, shape.num_elements(), &data).unwrap();
                let (dtype, data) = change(&name, values);
                PackTensor::new(name, dtype, shape, id, Bytes::from_bytes_vec(data))
            })
            .collect();
        Writer::new(out).into_bytes().unwrap().to_vec()
    }

    fn le(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn bad_weights(result: Result<crate::model::LeNet5>) -> String {
        match result {
            Err(Error::BadWeights(message)) => message,
            Err(other) => panic!("expected BadWeights, got {other:?}"),
            Ok(_) => panic!("expected BadWeights, the weights loaded"),
        }
    }

    #[test]
    fn half_and_double_precision_load_as_the_same_model() {
        let model = lenet();
        let x = burn::prelude::Tensor::<4>::ones([1, 1, 28, 28], &Device::flex());
        let expected = model.logits(x.clone()).into_data();
        let f64s = rewritten(&model, |_, v| {
            (
                DType::F64,
                v.iter().flat_map(|x| f64::from(*x).to_le_bytes()).collect(),
            )
        });
        let loaded = load(lenet(), &f64s).unwrap();
        assert_eq!(loaded.logits(x.clone()).into_data(), expected);
        let f16s = rewritten(&model, |_, v| {
            (
                DType::F16,
                v.iter()
                    .flat_map(|x| half::f16::from_f32(*x).to_le_bytes())
                    .collect(),
            )
        });
        let loaded = load(lenet(), &f16s).unwrap();
        loaded
            .logits(x)
            .into_data()
            .assert_approx_eq::<f32>(&expected, burn::tensor::Tolerance::absolute(1e-2));
    }

    #[test]
    fn integer_tensors_wrong_lengths_and_non_finite_values_are_named() {
        let model = lenet();
        let ints = rewritten(&model, |_, v| {
            (
                DType::I32,
                v.iter().flat_map(|x| (*x as i32).to_le_bytes()).collect(),
            )
        });
        assert!(bad_weights(load(lenet(), &ints)).contains("stored as I32"));
        let nan = rewritten(&model, |name, mut v| {
            if name.ends_with("conv1.weight") {
                v[3] = f32::NAN;
            }
            (DType::F32, le(&v))
        });
        let message = bad_weights(load(lenet(), &nan));
        assert!(message.contains("conv1.weight[3] is NaN"), "{message}");
        let overflow = rewritten(&model, |_, v| {
            (
                DType::F64,
                v.iter()
                    .map(|x| f64::from(*x) * 1e300)
                    .flat_map(|x| x.to_le_bytes())
                    .collect(),
            )
        });
        assert!(bad_weights(load(lenet(), &overflow)).contains("inf"));
    }

    #[test]
    fn model_files_of_a_newer_format_are_refused_by_name() {
        let file = with_description(to_bytes(lenet()).unwrap(), "{}").unwrap();
        assert_eq!(description(&file).unwrap().as_deref(), Some("{}"));
        let newer = rewrite(file, Ok, |_, meta| {
            meta.insert(FORMAT_KEY.to_string(), "2".to_string());
            Ok(())
        })
        .unwrap();
        let message = match description(&newer) {
            Err(Error::BadWeights(m)) => m,
            other => panic!("expected BadWeights, got {other:?}"),
        };
        assert!(message.contains("format \"2\""), "{message}");
        assert_eq!(description(&to_bytes(lenet()).unwrap()).unwrap(), None);
    }

    #[test]
    fn every_single_byte_change_or_cut_is_an_error_or_a_model_never_a_panic() {
        let bytes = to_bytes(lenet()).unwrap();
        let header = 512.min(bytes.len());
        for at in 0..header {
            for value in [0u8, 1, 0x7f, 0xff] {
                let mut changed = bytes.clone();
                changed[at] = value;
                let _ = load(lenet(), &changed);
            }
        }
        for len in (0..bytes.len()).step_by(97) {
            assert!(
                load(lenet(), &bytes[..len]).is_err(),
                "a file cut at {len} bytes loaded"
            );
        }
    }
}
