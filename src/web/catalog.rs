//! What JS can ask before creating a network: the architectures, the shipped weights, the
//! datasets, the error codes and the backends this browser offers. The values are serde types
//! (`crate::api`) whose TypeScript types tsify generated.

use wasm_bindgen::prelude::*;

use super::convert::{js_error, to_js};
use crate::api::{ArchitectureInfo, BackendSummary, ErrorCode, PretrainedInfo};
use crate::device::{BackendRequest, select};
use crate::model::{Architecture, DatasetInfo, Pretrained};

/// Every architecture of the zoo.
#[wasm_bindgen(unchecked_return_type = "ArchitectureInfo[]")]
pub fn architectures() -> Result<JsValue, JsValue> {
    let all: Vec<ArchitectureInfo> = Architecture::ALL.iter().map(|&a| a.into()).collect();
    to_js(&all)
}

/// Every shipped model.
#[wasm_bindgen(unchecked_return_type = "PretrainedInfo[]")]
pub fn pretrained() -> Result<JsValue, JsValue> {
    let all: Vec<PretrainedInfo> = Pretrained::ALL.iter().map(PretrainedInfo::from).collect();
    to_js(&all)
}

/// Every dataset the page offers and the CLI trains on.
#[wasm_bindgen(unchecked_return_type = "DatasetInfo[]")]
pub fn datasets() -> Result<JsValue, JsValue> {
    to_js(&DatasetInfo::ALL)
}

/// Every error code, as JS sees them.
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "ErrorCode[]")]
pub fn error_codes() -> Result<JsValue, JsValue> {
    to_js(&ErrorCode::ALL)
}

/// The WebGPU adapter, or `null` when there is none.
#[wasm_bindgen(js_name = webgpuAdapter, unchecked_return_type = "AdapterInfo | null")]
pub async fn webgpu_adapter() -> Result<JsValue, JsValue> {
    to_js(&crate::device::webgpu_adapter().await.ok())
}

/// What `backend` would give (`"auto"`, `"webgpu"`, `"cpu"`); rejects with `NO_WEBGPU` when
/// WebGPU is asked for and missing.
#[wasm_bindgen(js_name = probeBackend, unchecked_return_type = "BackendSummary")]
pub async fn probe_backend(request: String) -> Result<JsValue, JsValue> {
    let request = BackendRequest::parse(&request).map_err(js_error)?;
    let selected = select(request).await.map_err(js_error)?;
    to_js(&BackendSummary::from(&selected))
}
