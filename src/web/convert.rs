//! Rust values → JS values: the serde types of [`crate::api`], `train` and `session` through
//! tsify (their TypeScript types come with them), and by hand only what holds typed arrays.

use js_sys::{Array, Float32Array, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::error::Error;
use crate::infer::FeatureMap;

/// A JS `Error` with the message and a `code` property (`BAD_INPUT`, `NO_WEBGPU`, …).
pub(crate) fn js_error(err: Error) -> JsValue {
    let js = js_sys::Error::new(&err.to_string());
    set(&js, "code", &JsValue::from_str(err.code()));
    js.into()
}

/// A serde value (one whose TypeScript type tsify generated, or a list of them) as a JS value;
/// `None` becomes `null`, as the generated types say.
pub(crate) fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true))
        .map_err(|e| js_error(Error::Backend(format!("could not convert a result: {e}"))))
}

/// Sets `target[key] = value` on an object we created (which cannot fail).
pub(crate) fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a plain object we just created cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
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

/// One array per image of [`feature_maps`].
pub(crate) fn feature_maps_per_image(images: Vec<Vec<FeatureMap>>) -> JsValue {
    images
        .into_iter()
        .map(feature_maps)
        .collect::<Array>()
        .into()
}

/// `{ layer, shape: [out, in, kh, kw], data: Float32Array }`.
pub(crate) fn filters(layer: &str, shape: [usize; 4], data: &[f32]) -> JsValue {
    let out: JsValue = Object::new().into();
    set(&out, "layer", &layer.into());
    let dims: Array = shape.iter().map(|&d| JsValue::from(d as u32)).collect();
    set(&out, "shape", &dims.into());
    set(&out, "data", &Float32Array::from(data).into());
    out
}
