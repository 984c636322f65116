//! Module weights ⇄ bytes (Burn's burnpack format), and PyTorch `state_dict`s in safetensors.
//! JS fetches and caches the bytes; Rust parses.

mod host;
mod safetensors;

pub use host::to_cpu;
pub use safetensors::{
    NamedTensor, load_pytorch_safetensors, parse_safetensors, to_pytorch_safetensors,
};

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;

use crate::error::{Error, Result};

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

/// Loads parameters from `bytes` into `module`, which must have the same architecture.
///
/// # Errors
/// [`Error::BadWeights`] when the bytes are not a weights file, or name or shape parameters
/// that this architecture does not have.
pub fn load<M: Module>(module: M, bytes: &[u8]) -> Result<M> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| Error::BadWeights(format!("not a convlens weights file: {e}")))?;
    module
        .try_load_record(record)
        .map_err(|e| Error::BadWeights(format!("the weights do not fit this architecture: {e}")))
}
