//! `Network`: one model on one backend, as JS sees it.

use std::rc::Rc;

use js_sys::{Float32Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{backend, feature_maps, js_error};
use crate::data::images_tensor;
use crate::device::{BackendRequest, SelectedBackend, select};
use crate::error::Error;
use crate::infer::{self};
use crate::model::{ImageClassifier, LeNet5, LeNet5Config};

struct Inner {
    backend: SelectedBackend,
    model: LeNet5,
}

/// A network on a chosen backend. Methods return Promises and never hold a borrow across an
/// `await`, so overlapping calls from JS are safe.
#[wasm_bindgen]
pub struct Network {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl Network {
    /// Creates `architecture` (`"lenet5"`) with fresh weights on `backend` (`"auto"`,
    /// `"webgpu"` or `"cpu"`).
    pub async fn create(architecture: String, backend: String) -> Result<Network, JsValue> {
        if architecture != "lenet5" {
            return Err(js_error(Error::BadInput(format!(
                "unknown architecture {architecture:?}; available: \"lenet5\""
            ))));
        }
        let request = BackendRequest::parse(&backend).map_err(js_error)?;
        let selected = select(request).await.map_err(js_error)?;
        let model = LeNet5Config::new().init(&selected.device);
        Ok(Network {
            inner: Rc::new(Inner {
                backend: selected,
                model,
            }),
        })
    }

    /// `{ name: "webgpu" | "cpu", adapter, fallbackReason }`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> JsValue {
        backend(&self.inner.backend)
    }

    /// `[channels, height, width]` of one input image.
    #[wasm_bindgen(getter, js_name = inputShape)]
    pub fn input_shape(&self) -> Vec<u32> {
        self.inner.model.input_shape().map(|d| d as u32).to_vec()
    }

    /// Softmax probabilities for a batch of images given as one flat `Float32Array`
    /// (image after image); resolves to a `Float32Array` of `classes` values per image.
    pub fn classify(&self, pixels: Float32Array) -> Promise {
        let inner = Rc::clone(&self.inner);
        let pixels = pixels.to_vec();
        future_to_promise(async move {
            let images = images_tensor(&pixels, inner.model.input_shape(), &inner.backend.device)
                .map_err(js_error)?;
            let probs = infer::probabilities(&inner.model, images)
                .await
                .map_err(js_error)?;
            Ok(Float32Array::from(probs.as_slice()).into())
        })
    }

    /// Every layer's output for the first image: `[{ layer, shape: [c, h, w], data }]`.
    #[wasm_bindgen(js_name = featureMaps)]
    pub fn feature_maps(&self, pixels: Float32Array) -> Promise {
        let inner = Rc::clone(&self.inner);
        let pixels = pixels.to_vec();
        future_to_promise(async move {
            let images = images_tensor(&pixels, inner.model.input_shape(), &inner.backend.device)
                .map_err(js_error)?;
            let maps = infer::feature_maps(&inner.model, images)
                .await
                .map_err(js_error)?;
            Ok(feature_maps(maps))
        })
    }
}
