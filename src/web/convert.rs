//! Rust values → JS values.

use js_sys::{Array, Float32Array, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::device::{AdapterInfo, SelectedBackend};
use crate::error::Error;
use crate::infer::FeatureMap;
use crate::train::Evaluation;
#[cfg(feature = "train")]
use crate::train::FitEvent;

/// A JS `Error` with the message and a `code` property (`BAD_INPUT`, `NO_WEBGPU`, …).
pub(crate) fn js_error(err: Error) -> JsValue {
    let js = js_sys::Error::new(&err.to_string());
    set(&js, "code", &JsValue::from_str(err.code()));
    js.into()
}

/// Sets `target[key] = value` on an object we created (which cannot fail).
pub(crate) fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a plain object we just created cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `{ name, adapter: { vendor, architecture, device, description, isFallbackAdapter } | null,
/// fallbackReason: string | null }`.
pub(crate) fn backend(selected: &SelectedBackend) -> JsValue {
    let out: JsValue = Object::new().into();
    set(&out, "name", &selected.kind.name().into());
    let adapter = selected
        .adapter
        .as_ref()
        .map_or(JsValue::NULL, adapter_info);
    set(&out, "adapter", &adapter);
    let reason = selected
        .fallback_reason
        .as_deref()
        .map_or(JsValue::NULL, JsValue::from_str);
    set(&out, "fallbackReason", &reason);
    set(
        &out,
        "threads",
        &(crate::device::cpu_threads() as u32).into(),
    );
    out
}

/// `{ vendor, architecture, device, description, isFallbackAdapter }`.
pub(crate) fn adapter_info(a: &AdapterInfo) -> JsValue {
    let info: JsValue = Object::new().into();
    set(&info, "vendor", &a.vendor.as_str().into());
    set(&info, "architecture", &a.architecture.as_str().into());
    set(&info, "device", &a.device.as_str().into());
    set(&info, "description", &a.description.as_str().into());
    set(&info, "isFallbackAdapter", &a.is_fallback_adapter.into());
    info
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

/// `{ loss, accuracy, images }`.
pub(crate) fn evaluation(e: &Evaluation) -> JsValue {
    let out: JsValue = Object::new().into();
    set(&out, "loss", &f64::from(e.loss).into());
    set(&out, "accuracy", &f64::from(e.accuracy).into());
    set(&out, "images", &(e.images as f64).into());
    out
}

/// `{ type: "step", epoch, step, stepsPerEpoch, loss, lr, imagesPerSecond }` or
/// `{ type: "epoch", epoch, trainLoss, trainAccuracy, validation: { loss, accuracy, images }, lr, nextLr,
/// seconds, imagesPerSecond }` (`loss` is `null` on steps where it was not read).
#[cfg(feature = "train")]
pub(crate) fn fit_event(event: &FitEvent) -> JsValue {
    let out: JsValue = Object::new().into();
    match event {
        FitEvent::Step(s) => {
            set(&out, "type", &"step".into());
            set(&out, "epoch", &(s.epoch as f64).into());
            set(&out, "step", &(s.step as f64).into());
            set(&out, "stepsPerEpoch", &(s.steps_per_epoch as f64).into());
            let loss = s.loss.map_or(JsValue::NULL, |l| f64::from(l).into());
            set(&out, "loss", &loss);
            set(&out, "lr", &s.lr.into());
            set(&out, "imagesPerSecond", &s.images_per_second.into());
        }
        FitEvent::Epoch(e) => {
            set(&out, "type", &"epoch".into());
            set(&out, "epoch", &(e.epoch as f64).into());
            set(&out, "trainLoss", &f64::from(e.train_loss).into());
            set(&out, "trainAccuracy", &f64::from(e.train_accuracy).into());
            set(&out, "validation", &evaluation(&e.validation));
            set(&out, "lr", &e.lr.into());
            set(&out, "nextLr", &e.next_lr.into());
            set(&out, "seconds", &e.seconds.into());
            set(&out, "imagesPerSecond", &e.images_per_second.into());
        }
    }
    out
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
