//! `Network.explain`: [`crate::session::Classifier::explain`] with the maps as `Float32Array`s.

use std::rc::Rc;

use js_sys::{Float32Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{batch_shape, js_error, to_js};
use super::network::{Network, from_js};
use crate::explain::ExplainOptions;

#[wasm_bindgen]
impl Network {
    /// Why the network gives one image (as for `classify`) its class. `options`: `{ method:
    /// "gradcam" | "saliency" | "integrated-gradients", classIndex, layer, steps }`, all
    /// optional; `preprocess` as for `classify`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Explanation>")]
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
                classifier
                    .explain(&pixels, batch_shape(&shape)?, &options)
                    .await
            };
            to_js(&run.await.map_err(js_error)?)
        })
    }
}
