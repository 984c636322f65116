//! Rust values → JS values: the serde types of the core through tsify (their TypeScript types
//! come with them; typed arrays through [`crate::typed`]).

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::error::Error;

/// A JS `Error` with the message and a `code` property (`BAD_INPUT`, `NO_WEBGPU`, …).
pub(crate) fn js_error(err: Error) -> JsValue {
    let js = js_sys::Error::new(&err.to_string());
    set(&js, "code", &JsValue::from_str(err.code()));
    js.into()
}

/// A serde value (one whose TypeScript type tsify generated, or a list of them) as a JS value;
/// `None` becomes `null`, as the generated types say, and a struct with a flattened field a
/// plain object (serde writes it as a map).
pub(crate) fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    let serializer = serde_wasm_bindgen::Serializer::new()
        .serialize_missing_as_null(true)
        .serialize_maps_as_objects(true);
    value
        .serialize(&serializer)
        .map_err(|e| js_error(Error::Backend(format!("could not convert a result: {e}"))))
}

/// Sets `target[key] = value` on an object we created (which cannot fail).
pub(crate) fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a plain object we just created cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `[n, c, h, w]` from a JS array of four dimensions, or `[1, c, h, w]` from three.
pub(crate) fn batch_shape(shape: &[u32]) -> Result<[usize; 4], Error> {
    match shape {
        [c, h, w] => Ok([1, *c as usize, *h as usize, *w as usize]),
        [n, c, h, w] => Ok([*n as usize, *c as usize, *h as usize, *w as usize]),
        other => Err(Error::BadInput(format!(
            "shape is [channels, height, width] for one image or [images, channels, height, width] for several, got {other:?}"
        ))),
    }
}
