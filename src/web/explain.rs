//! `Network.explain`: [`crate::session::Classifier::explain`] with the maps as `Float32Array`s.

use std::rc::Rc;

use js_sys::{Float32Array, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{batch_shape, js_error, set, to_js};
use super::network::{Network, from_js};
use crate::explain::ExplainOptions;

#[wasm_bindgen]
impl Network {
    /// Why the network gives one image (as for `classify`) its class. `options`: `{ method:
    /// "gradcam" | "saliency" | "integrated-gradients", classIndex, layer, steps }`, all
    /// optional; `preprocess` as for `classify`. Resolves to `{ method, classIndex, label,
    /// score, layer, shape: [h, w], heat: Float32Array, rawShape, raw: Float32Array,
    /// completeness, originalShape, original: Float32Array }`.
    pub fn explain(
        &self,
        pixels: Float32Array,
        shape: Vec<u32>,
        options: JsValue,
        preprocess: JsValue,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        let pixels = pixels.to_vec();
        future_to_promise(async move {
            let run = async {
                let options: ExplainOptions = from_js(options, "explain options")?;
                let classifier = inner.prepared(preprocess)?;
                let e = classifier
                    .explain(&pixels, batch_shape(&shape)?, &options)
                    .await?;
                Ok((e, classifier.labels().to_vec()))
            };
            let (e, labels) = run.await.map_err(js_error)?;
            let out: JsValue = Object::new().into();
            set(&out, "method", &to_js(&e.method)?);
            set(&out, "classIndex", &JsValue::from(e.class_index as u32));
            let label = labels.get(e.class_index).cloned().unwrap_or_default();
            set(&out, "label", &JsValue::from(label));
            set(&out, "score", &JsValue::from(e.score));
            set(&out, "layer", &to_js(&e.layer)?);
            set(&out, "shape", &to_js(&e.shape)?);
            set(&out, "heat", &Float32Array::from(e.heat.as_slice()));
            set(&out, "rawShape", &to_js(&e.raw_shape)?);
            set(&out, "raw", &Float32Array::from(e.raw.as_slice()));
            set(&out, "completeness", &to_js(&e.completeness)?);
            set(&out, "originalShape", &to_js(&e.original_shape)?);
            set(&out, "original", &Float32Array::from(e.original.as_slice()));
            Ok(out)
        })
    }
}
