//! `Network`: one model of the zoo on one backend, as JS sees it. The hand-written JS API
//! (`js/`) wraps it; it serialises calls, but every method here is also safe when called
//! concurrently: none holds a borrow across an `await`, and a model being trained is checked out.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::module::Module;
use js_sys::{Float32Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{backend, batch_shape, evaluation, feature_maps_per_image, filters, js_error};
use crate::data::{Dataset, check_labels, fit_images, images_tensor};
use crate::device::{BackendKind, BackendRequest, SelectedBackend, select};
use crate::error::{Error, Result};
use crate::model::{AnyModel, Architecture, trainable_parameters};
use crate::train::evaluate;
use crate::{infer, weights, with_any_model};

pub(super) struct Inner {
    pub(super) backend: SelectedBackend,
    /// `backend.device` with autodiff, where the model's parameters live so it can train (a
    /// build without the `train` feature keeps them on `backend.device`).
    #[cfg(feature = "train")]
    pub(super) train_device: burn::prelude::Device,
    pub(super) architecture: Architecture,
    pub(super) classes: usize,
    /// Trainable parameters of this network (its class count included).
    pub(super) parameters: usize,
    /// `None` while `fit` has the model checked out.
    pub(super) model: RefCell<Option<AnyModel>>,
    pub(super) disposed: Cell<bool>,
    /// Set by [`Network::stop`]; `fit` checks it before every step.
    pub(super) stop: Cell<bool>,
}

impl Inner {
    /// A handle on the model for inference (cheap: tensors are shared).
    pub(super) fn model(&self) -> Result<AnyModel> {
        if self.disposed.get() {
            return Err(Error::Disposed);
        }
        self.model.borrow().clone().ok_or_else(|| {
            Error::Busy("the model is training; wait for fit() to finish or stop it".into())
        })
    }

    /// Checks the model out for training.
    #[cfg(feature = "train")]
    pub(super) fn take_model(&self) -> Result<AnyModel> {
        if self.disposed.get() {
            return Err(Error::Disposed);
        }
        self.model.borrow_mut().take().ok_or_else(|| {
            Error::Busy("fit() is already running on this model; await it or stop it first".into())
        })
    }

    /// Returns a checked-out model (dropped if the network was disposed meanwhile).
    #[cfg(feature = "train")]
    pub(super) fn put_model(&self, model: AnyModel) {
        if !self.disposed.get() {
            *self.model.borrow_mut() = Some(model);
        }
    }

    /// One image (`shape` `[c, h, w]`) or several of one size (`[n, c, h, w]`), any size and
    /// 1, 3 or 4 channels, each fitted to the model's input: a `[n, …input]` tensor.
    pub(super) fn images(&self, pixels: &[f32], shape: &[u32]) -> Result<burn::prelude::Tensor<4>> {
        let input = self.architecture.input_shape();
        let fitted = fit_images(pixels, batch_shape(shape)?, input)?;
        images_tensor(&fitted, input, &self.backend.device)
    }
}

/// The seed of a freshly initialised network's weights.
const FRESH_WEIGHTS_SEED: u64 = 42;

/// A network on a chosen backend.
#[wasm_bindgen]
pub struct Network {
    pub(super) inner: Rc<Inner>,
}

#[wasm_bindgen]
impl Network {
    /// Creates `architecture` (`"lenet5"`, `"vin"`, `"resnet8"`, `"alexnet"`) with `classes`
    /// outputs on `backend` (`"auto"`, `"webgpu"` or `"cpu"`), with `weights` (bytes from
    /// `exportWeights` or the shipped files) or freshly initialised (from a fixed seed, so
    /// repeatable).
    pub async fn create(
        architecture: String,
        backend: String,
        classes: u32,
        weights: Option<Uint8Array>,
    ) -> std::result::Result<Network, JsValue> {
        let architecture = Architecture::parse(&architecture).map_err(js_error)?;
        if !(2..=10_000).contains(&classes) {
            return Err(js_error(Error::BadInput(format!(
                "a classifier needs between 2 and 10000 classes, got {classes}"
            ))));
        }
        let request = BackendRequest::parse(&backend).map_err(js_error)?;
        let selected = select(request).await.map_err(js_error)?;
        #[cfg(feature = "train")]
        let model_device = selected.device.clone().autodiff();
        #[cfg(not(feature = "train"))]
        let model_device = selected.device.clone();
        if weights.is_none() {
            // Fresh weights are repeatable: the same architecture starts from the same values.
            model_device.seed(FRESH_WEIGHTS_SEED);
        }
        let model = architecture.init_with_classes(classes as usize, &model_device);
        let model = match weights {
            Some(bytes) => {
                let bytes = bytes.to_vec();
                with_any_model!(model, |m| weights::load(m, &bytes).map_err(js_error)? => wrap)
            }
            None => model,
        };
        if selected.kind == BackendKind::WebGpu {
            // Compile the forward pass's shaders now, not in the first classify() (measured in
            // the README: "Where one WebGPU call's time goes").
            let device = selected.device.clone();
            with_any_model!(&model, |m| infer::warm_up(&m.valid(), &device).await)
                .map_err(js_error)?;
        }
        let parameters = with_any_model!(&model, |m| trainable_parameters(m));
        Ok(Network {
            inner: Rc::new(Inner {
                backend: selected,
                #[cfg(feature = "train")]
                train_device: model_device,
                architecture,
                classes: classes as usize,
                parameters,
                model: RefCell::new(Some(model)),
                disposed: Cell::new(false),
                stop: Cell::new(false),
            }),
        })
    }

    /// `{ name: "webgpu" | "cpu", adapter, fallbackReason }`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> JsValue {
        backend(&self.inner.backend)
    }

    /// The architecture's name.
    #[wasm_bindgen(getter)]
    pub fn architecture(&self) -> String {
        self.inner.architecture.name().to_string()
    }

    /// `[channels, height, width]` of one input image.
    #[wasm_bindgen(getter, js_name = inputShape)]
    pub fn input_shape(&self) -> Vec<u32> {
        self.inner
            .architecture
            .input_shape()
            .map(|d| d as u32)
            .to_vec()
    }

    /// Number of classes.
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> u32 {
        self.inner.classes as u32
    }

    /// Trainable parameters.
    #[wasm_bindgen(getter)]
    pub fn parameters(&self) -> u32 {
        self.inner.parameters as u32
    }

    /// Softmax probabilities (`classes` values per image, image after image) for one image
    /// given as `pixels` in `[0, 1]` laid out `[c, h, w]` (channel-major), or several of one
    /// size laid out `[n, c, h, w]`, read in one forward pass; any size, 1, 3 or 4 channels.
    pub fn classify(&self, pixels: Float32Array, shape: Vec<u32>) -> Promise {
        let inner = Rc::clone(&self.inner);
        let pixels = pixels.to_vec();
        future_to_promise(async move {
            let run = async {
                let images = inner.images(&pixels, &shape)?;
                let model = inner.model()?;
                with_any_model!(model, |m| infer::probabilities(&m.valid(), images).await)
            };
            let probs = run.await.map_err(js_error)?;
            Ok(Float32Array::from(probs.as_slice()).into())
        })
    }

    /// Every layer's output for each image (as for `classify`), from one forward pass:
    /// `[[{ layer, shape: [c, h, w], data }, …], …]`, one array per image.
    #[wasm_bindgen(js_name = featureMaps)]
    pub fn feature_maps(&self, pixels: Float32Array, shape: Vec<u32>) -> Promise {
        let inner = Rc::clone(&self.inner);
        let pixels = pixels.to_vec();
        future_to_promise(async move {
            let run = async {
                let images = inner.images(&pixels, &shape)?;
                let model = inner.model()?;
                with_any_model!(model, |m| infer::feature_maps_per_image(&m.valid(), images)
                    .await)
            };
            Ok(feature_maps_per_image(run.await.map_err(js_error)?))
        })
    }

    /// The first convolution's kernels: `{ layer, shape: [out, in, kh, kw], data }`.
    pub fn filters(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let run = async {
                let model = inner.model()?;
                with_any_model!(model, |m| infer::first_filters(&m.valid()).await)
            };
            let (layer, shape, data) = run.await.map_err(js_error)?;
            Ok(filters(layer, shape, &data))
        })
    }

    /// Mean cross-entropy loss and accuracy on `images` (bytes, image after image, each of
    /// the model's input shape) and their `labels`: `{ loss, accuracy, images }`.
    pub fn evaluate(&self, images: Uint8Array, labels: Uint8Array) -> Promise {
        let inner = Rc::clone(&self.inner);
        let (images, labels) = (images.to_vec(), labels.to_vec());
        future_to_promise(async move {
            let run = async {
                let data = inner.dataset(images, labels)?;
                let model = inner.model()?;
                let device = inner.backend.device.clone();
                with_any_model!(model, |m| evaluate(&m.valid(), &data, 64, &device).await)
            };
            Ok(evaluation(&run.await.map_err(js_error)?))
        })
    }

    /// The weights as bytes that `create` accepts (read asynchronously from the GPU).
    #[wasm_bindgen(js_name = exportWeights)]
    pub fn export_weights(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let run = async {
                let model = inner.model()?;
                with_any_model!(model, |m| {
                    let cpu = weights::to_cpu(m.valid()).await?;
                    weights::to_bytes(cpu)
                })
            };
            let bytes = run.await.map_err(js_error)?;
            Ok(Uint8Array::from(bytes.as_slice()).into())
        })
    }

    /// Asks a running `fit` to stop before its next step.
    pub fn stop(&self) {
        self.inner.stop.set(true);
    }

    /// Releases the model's memory; every later call fails with `DISPOSED`.
    pub fn dispose(&self) {
        self.inner.disposed.set(true);
        self.inner.stop.set(true);
        self.inner.model.borrow_mut().take();
    }
}

impl Inner {
    /// Checks bytes and labels against the model and builds a dataset.
    pub(super) fn dataset(&self, images: Vec<u8>, labels: Vec<u8>) -> Result<Dataset> {
        check_labels(&labels, self.classes)?;
        Dataset::new(images, labels, self.architecture.input_shape())
    }
}
