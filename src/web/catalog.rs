//! What JS can ask before creating a network: the architectures, the shipped weights and the
//! backends this browser offers.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use super::convert::{adapter_info, backend, js_error, set};
use crate::device::{BackendRequest, select};
use crate::model::{Architecture, Pretrained};

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> JsValue {
    items
        .into_iter()
        .map(JsValue::from_str)
        .collect::<Array>()
        .into()
}

/// `[{ name, inputShape, parameters }]` for every architecture.
#[wasm_bindgen]
pub fn architectures() -> JsValue {
    Architecture::ALL
        .iter()
        .map(|a| {
            let out: JsValue = Object::new().into();
            set(&out, "name", &a.name().into());
            let shape: Array = a
                .input_shape()
                .iter()
                .map(|&d| JsValue::from(d as u32))
                .collect();
            set(&out, "inputShape", &shape.into());
            set(&out, "parameters", &(a.parameters() as f64).into());
            out
        })
        .collect::<Array>()
        .into()
}

/// `[{ name, architecture, dataset, labels, file }]` for every shipped model.
#[wasm_bindgen]
pub fn pretrained() -> JsValue {
    Pretrained::ALL
        .iter()
        .map(|p| {
            let out: JsValue = Object::new().into();
            set(&out, "name", &p.name.into());
            set(&out, "architecture", &p.architecture.name().into());
            set(&out, "dataset", &p.dataset.into());
            set(&out, "labels", &strings(p.labels.iter().copied()));
            set(&out, "file", &p.file.into());
            out
        })
        .collect::<Array>()
        .into()
}

/// The WebGPU adapter (`{ vendor, architecture, device, description, isFallbackAdapter }`),
/// or `null` when there is none.
#[wasm_bindgen(js_name = webgpuAdapter)]
pub async fn webgpu_adapter() -> JsValue {
    match crate::device::webgpu_adapter().await {
        Ok(adapter) => adapter_info(&adapter),
        Err(_) => JsValue::NULL,
    }
}

/// What `backend` would give: `{ name, adapter, fallbackReason }` (`"auto"`, `"webgpu"`,
/// `"cpu"`); rejects with `NO_WEBGPU` when WebGPU is asked for and missing.
#[wasm_bindgen(js_name = probeBackend)]
pub async fn probe_backend(request: String) -> Result<JsValue, JsValue> {
    let request = BackendRequest::parse(&request).map_err(js_error)?;
    let selected = select(request).await.map_err(js_error)?;
    Ok(backend(&selected))
}
