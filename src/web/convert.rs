//! Rust values → JS values.

use js_sys::{Array, Float32Array, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::device::SelectedBackend;
use crate::error::Error;
use crate::infer::FeatureMap;

/// A JS `Error` with the message and a `code` property (`BAD_INPUT`, `NO_WEBGPU`, …).
pub(crate) fn js_error(err: Error) -> JsValue {
    let js = js_sys::Error::new(&err.to_string());
    set(&js, "code", &JsValue::from_str(err.code()));
    js.into()
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a plain object we just created cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `{ name, adapter: { vendor, architecture, device, description, isFallbackAdapter } | null,
/// fallbackReason: string | null }`.
pub(crate) fn backend(selected: &SelectedBackend) -> JsValue {
    let out: JsValue = Object::new().into();
    set(&out, "name", &selected.kind.name().into());
    let adapter = match &selected.adapter {
        Some(a) => {
            let info: JsValue = Object::new().into();
            set(&info, "vendor", &a.vendor.as_str().into());
            set(&info, "architecture", &a.architecture.as_str().into());
            set(&info, "device", &a.device.as_str().into());
            set(&info, "description", &a.description.as_str().into());
            set(&info, "isFallbackAdapter", &a.is_fallback_adapter.into());
            info
        }
        None => JsValue::NULL,
    };
    set(&out, "adapter", &adapter);
    let reason = selected
        .fallback_reason
        .as_deref()
        .map_or(JsValue::NULL, JsValue::from_str);
    set(&out, "fallbackReason", &reason);
    out
}

/// `[{ layer, shape: [c, h, w], data: Float32Array }, …]`.
pub(crate) fn feature_maps(maps: Vec<FeatureMap>) -> JsValue {
    let out = Array::new();
    for map in maps {
        let item: JsValue = Object::new().into();
        set(&item, "layer", &map.layer.into());
        let shape = Array::new();
        for d in map.shape {
            shape.push(&JsValue::from(d as u32));
        }
        set(&item, "shape", &shape.into());
        set(
            &item,
            "data",
            &Float32Array::from(map.data.as_slice()).into(),
        );
        out.push(&item);
    }
    out.into()
}
