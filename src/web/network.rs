//! `Network`: a [`Classifier`] on one backend, as JS sees it. The hand-written JS API (`js/`)
//! wraps it; it serialises calls, but every method here is also safe when called concurrently:
//! none holds a borrow across an `await`, and a classifier being trained is checked out.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Float32Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{batch_shape, js_error, to_js};
use crate::api::BackendSummary;
use crate::device::{BackendKind, BackendRequest, SelectedBackend, select};
use crate::error::{Error, Result};
use crate::model::{Architecture, Preprocess};
use crate::session::Classifier;

/// How [`Network::create`] makes its classifier, beyond the architecture and the weights.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct CreateOptions {
    /// One label per output; without them, the labels the weights file carries (or ten
    /// numbered ones).
    labels: Option<Vec<String>>,
    /// The weights are a pretrained backbone: every one but the classifying layer's is loaded,
    /// and a fresh classifying layer gets one output per label (transfer learning).
    transfer: bool,
    /// How images become the input, instead of the architecture's way.
    preprocess: Option<Preprocess>,
}

/// How [`Network::from_model_file`] reads a file: a model file takes `preprocess` only; an ONNX
/// network also labels, its input normalisation and transfer learning.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct FileOptions {
    /// How images become the input.
    preprocess: Option<Preprocess>,
    /// An ONNX network's labels (with `transfer`: the new classes).
    labels: Option<Vec<String>>,
    /// How pixels in [0, 1] become what an ONNX network was trained on.
    input: Option<crate::model::graph::Normalise>,
    /// Transfer learning on an ONNX network: a fresh head of one output per label.
    transfer: bool,
    /// The node the fresh head replaces (default: the last dense node, or convolution).
    cut: Option<String>,
}

/// A JS value (undefined or null: `T::default()`) as `T`, or `BAD_INPUT` naming `what`.
pub(super) fn from_js<T: serde::de::DeserializeOwned + Default>(
    value: JsValue,
    what: &str,
) -> Result<T> {
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| Error::BadInput(format!("{what}: {e}")))
}

pub(super) struct Inner {
    pub(super) backend: SelectedBackend,
    architecture: &'static str,
    labels: Vec<String>,
    preprocess: Preprocess,
    parameters: usize,
    input_shape: [usize; 3],
    layers: Vec<crate::model::LayerGeometry>,
    /// `None` while `fit` has it checked out.
    pub(super) classifier: RefCell<Option<Classifier>>,
    disposed: Cell<bool>,
    /// Set by [`Network::stop`]; `fit` checks it before every step.
    pub(super) stop: Cell<bool>,
    /// Set by `Network::pause`; `fit` checks it before every step.
    #[cfg(feature = "train")]
    pub(super) pause: Cell<bool>,
    /// A paused `fit`, waiting for `Network::resume`.
    #[cfg(feature = "train")]
    pub(super) fitting: RefCell<Option<crate::session::Fitting>>,
}

impl Inner {
    /// A handle on the classifier for inference (cheap: tensors are shared).
    pub(super) fn classifier(&self) -> Result<Classifier> {
        if self.disposed.get() {
            return Err(Error::Disposed);
        }
        self.classifier.borrow().clone().ok_or_else(|| {
            Error::Busy("the model is training; wait for fit() to finish or stop it".into())
        })
    }

    /// [`Self::classifier`], preparing images as `preprocess` says (undefined or null: as the
    /// classifier does).
    pub(super) fn prepared(&self, preprocess: JsValue) -> Result<Classifier> {
        let preprocess: Option<Preprocess> = from_js(preprocess, "preprocess")?;
        let classifier = self.classifier()?;
        Ok(match preprocess {
            Some(p) => classifier.with_preprocess(p),
            None => classifier,
        })
    }

    /// Checks the classifier out for training.
    #[cfg(feature = "train")]
    pub(super) fn take(&self) -> Result<Classifier> {
        if self.disposed.get() {
            return Err(Error::Disposed);
        }
        self.classifier.borrow_mut().take().ok_or_else(|| {
            Error::Busy("fit() is already running on this model; await it or stop it first".into())
        })
    }

    /// Returns a checked-out classifier (dropped if the network was disposed meanwhile).
    #[cfg(feature = "train")]
    pub(super) fn put(&self, classifier: Classifier) {
        if !self.disposed.get() {
            *self.classifier.borrow_mut() = Some(classifier);
        }
    }
}

/// A network on a chosen backend.
#[wasm_bindgen]
pub struct Network {
    pub(super) inner: Rc<Inner>,
}

#[wasm_bindgen]
impl Network {
    /// Creates `architecture` (a name of `architectures()`) on `backend` (`"auto"`, `"webgpu"`
    /// or `"cpu"`), with `weights` (bytes from `exportWeights` or the shipped files) or freshly
    /// initialised (from a fixed seed, so repeatable). `options`: `{ labels?, transfer?,
    /// preprocess? }` (see `CreateOptions`); any other key is `BAD_INPUT`.
    pub async fn create(
        architecture: String,
        backend: String,
        weights: Option<Uint8Array>,
        options: JsValue,
    ) -> std::result::Result<Network, JsValue> {
        let architecture = Architecture::parse(&architecture).map_err(js_error)?;
        let options: CreateOptions = from_js(options, "Network options").map_err(js_error)?;
        let request = BackendRequest::parse(&backend).map_err(js_error)?;
        let selected = select(request).await.map_err(js_error)?;
        let weights = weights.map(|w| w.to_vec());
        let classifier = Classifier::open(
            architecture,
            &selected.device,
            weights.as_deref(),
            options.labels,
            options.transfer,
        )
        .map_err(js_error)?;
        drop(weights);
        Network::ready(classifier, selected, options.preprocess).await
    }

    /// Creates the network a file holds on `backend`: a model file (bytes from `exportModel`:
    /// its architecture, labels, preparation and training record travel with the weights) or an
    /// ONNX network, told apart by their content. `options`: `{ preprocess?, labels?, input?,
    /// transfer?, cut? }` (see `FileOptions`; all but `preprocess` for ONNX only); bare weights
    /// are `BAD_WEIGHTS` saying to give their architecture.
    #[wasm_bindgen(js_name = fromModelFile)]
    pub async fn from_model_file(
        backend: String,
        bytes: Uint8Array,
        options: JsValue,
    ) -> std::result::Result<Network, JsValue> {
        let options: FileOptions = from_js(options, "Network options").map_err(js_error)?;
        let bytes = bytes.to_vec();
        let onnx = crate::onnx::looks_like_onnx(&bytes);
        if !onnx
            && (options.labels.is_some()
                || options.transfer
                || options.input.is_some()
                || options.cut.is_some())
        {
            return Err(js_error(Error::BadInput(
                "a model file brings its own labels and input; transfer learning starts from a shipped model or an ONNX network"
                    .into(),
            )));
        }
        let request = BackendRequest::parse(&backend).map_err(js_error)?;
        let selected = select(request).await.map_err(js_error)?;
        let classifier = if onnx {
            let onnx_options = crate::session::OnnxOptions {
                labels: options.labels,
                input: options.input,
                transfer: options.transfer,
                cut: options.cut,
            };
            Classifier::from_onnx(&selected.device, &bytes, onnx_options)
        } else {
            Classifier::from_model_file(&selected.device, &bytes)
        }
        .map_err(js_error)?;
        drop(bytes);
        Network::ready(classifier, selected, options.preprocess).await
    }

    /// `classifier` as a network on `selected`, its kernels compiled on WebGPU.
    async fn ready(
        classifier: Classifier,
        selected: SelectedBackend,
        preprocess: Option<Preprocess>,
    ) -> std::result::Result<Network, JsValue> {
        let classifier = match preprocess {
            Some(preprocess) => classifier.with_preprocess(preprocess),
            None => classifier,
        };
        if selected.kind == BackendKind::WebGpu {
            classifier.warm_up().await.map_err(js_error)?;
        }
        Ok(Network {
            inner: Rc::new(Inner {
                backend: selected,
                architecture: classifier.architecture_name(),
                labels: classifier.labels().to_vec(),
                preprocess: classifier.preprocess(),
                parameters: classifier.parameters(),
                input_shape: classifier.input_shape(),
                layers: classifier.layers(),
                classifier: RefCell::new(Some(classifier)),
                disposed: Cell::new(false),
                stop: Cell::new(false),
                #[cfg(feature = "train")]
                pause: Cell::new(false),
                #[cfg(feature = "train")]
                fitting: RefCell::new(None),
            }),
        })
    }

    /// The backend it runs on.
    #[wasm_bindgen(getter, unchecked_return_type = "BackendSummary")]
    pub fn backend(&self) -> std::result::Result<JsValue, JsValue> {
        to_js(&BackendSummary::from(&self.inner.backend))
    }

    /// The architecture's name.
    #[wasm_bindgen(getter)]
    pub fn architecture(&self) -> String {
        self.inner.architecture.to_string()
    }

    /// `[channels, height, width]` of one input image.
    #[wasm_bindgen(getter, js_name = inputShape)]
    pub fn input_shape(&self) -> Vec<u32> {
        self.inner.input_shape.map(|d| d as u32).to_vec()
    }

    /// Every layer among the feature maps, in order: `[{ layer, kind, kernel, stride, padding,
    /// receptiveField: { size, jump, start } }]`.
    #[wasm_bindgen(getter, unchecked_return_type = "LayerGeometry[]")]
    pub fn layers(&self) -> std::result::Result<JsValue, JsValue> {
        to_js(&self.inner.layers)
    }

    /// The class labels, by output index.
    #[wasm_bindgen(getter)]
    pub fn labels(&self) -> Vec<String> {
        self.inner.labels.clone()
    }

    /// How `classify`, `featureMaps` and `embed` prepare an image (unless told otherwise).
    #[wasm_bindgen(getter, unchecked_return_type = "Preprocess")]
    pub fn preprocess(&self) -> std::result::Result<JsValue, JsValue> {
        to_js(&self.inner.preprocess)
    }

    /// Trainable parameters.
    #[wasm_bindgen(getter)]
    pub fn parameters(&self) -> u32 {
        self.inner.parameters as u32
    }

    /// Softmax probabilities (`classes` values per image, image after image) for one image
    /// given as `pixels` in `[0, 1]` laid out `[c, h, w]` (channel-major), or several of one
    /// size laid out `[n, c, h, w]`, read in one forward pass; any size, 1, 3 or 4 channels.
    /// `preprocess` replaces the network's for this call (undefined: the network's).
    pub fn classify(&self, pixels: Float32Array, shape: Vec<u32>, preprocess: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        let pixels = pixels.to_vec();
        future_to_promise(async move {
            let run = async {
                let classifier = inner.prepared(preprocess)?;
                classifier.classify(&pixels, batch_shape(&shape)?).await
            };
            let probs = run.await.map_err(js_error)?;
            Ok(Float32Array::from(probs.as_slice()).into())
        })
    }

    /// Every layer's output for each image (as for `classify`), from one forward pass: one
    /// array of maps per image. `layers`: only these layers' maps are read back (undefined:
    /// every layer's).
    #[wasm_bindgen(js_name = featureMaps, unchecked_return_type = "Promise<FeatureMap[][]>")]
    pub fn feature_maps(
        &self,
        pixels: Float32Array,
        shape: Vec<u32>,
        preprocess: JsValue,
        layers: Option<Vec<String>>,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        let pixels = pixels.to_vec();
        future_to_promise(async move {
            let run = async {
                let classifier = inner.prepared(preprocess)?;
                let shape = batch_shape(&shape)?;
                classifier
                    .feature_maps(&pixels, shape, layers.as_deref())
                    .await
            };
            to_js(&run.await.map_err(js_error)?)
        })
    }

    /// The features the classifying layer reads, for each image (as for `classify`): image
    /// after image, `features` values each (e.g. EfficientNet-Lite0's 1,280).
    pub fn embed(&self, pixels: Float32Array, shape: Vec<u32>, preprocess: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        let pixels = pixels.to_vec();
        future_to_promise(async move {
            let run = async {
                let classifier = inner.prepared(preprocess)?;
                classifier.embed(&pixels, batch_shape(&shape)?).await
            };
            let features = run.await.map_err(js_error)?;
            Ok(Float32Array::from(features.as_slice()).into())
        })
    }

    /// Images (as for `classify`) prepared as `preprocess` says (undefined: the network's way)
    /// into the network's input shape: what `classify` feeds the network, image after image.
    /// Needs no device, so it runs while the network trains.
    pub fn prepare(
        &self,
        pixels: Float32Array,
        shape: Vec<u32>,
        preprocess: JsValue,
    ) -> std::result::Result<Float32Array, JsValue> {
        let run = || -> Result<Vec<f32>> {
            let preprocess: Option<Preprocess> = from_js(preprocess, "preprocess")?;
            let preprocess = preprocess.unwrap_or(self.inner.preprocess);
            preprocess.apply(
                &pixels.to_vec(),
                batch_shape(&shape)?,
                self.inner.input_shape,
            )
        };
        Ok(Float32Array::from(run().map_err(js_error)?.as_slice()))
    }

    /// The first convolution's kernels.
    #[wasm_bindgen(unchecked_return_type = "Promise<Filters>")]
    pub fn filters(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let run = async { inner.classifier()?.filters().await };
            to_js(&run.await.map_err(js_error)?)
        })
    }

    /// Mean cross-entropy loss and accuracy on `images` (bytes, image after image, each of
    /// the model's input shape) and their `labels`, with what went wrong: the confusion matrix
    /// and every mistake.
    #[wasm_bindgen(unchecked_return_type = "Promise<EvaluationReport>")]
    pub fn evaluate(&self, images: Uint8Array, labels: Uint8Array) -> Promise {
        let inner = Rc::clone(&self.inner);
        let (images, labels) = (images.to_vec(), labels.to_vec());
        future_to_promise(async move {
            let run = async {
                let classifier = inner.classifier()?;
                let data = classifier.dataset(images, labels)?;
                classifier.assess(&data).await
            };
            to_js(&run.await.map_err(js_error)?)
        })
    }

    /// What a model file of this network says besides the weights: `{ architecture, labels,
    /// inputShape, preprocess, training }` (the training record as of the last `fit`).
    #[wasm_bindgen(unchecked_return_type = "ModelDescription")]
    pub fn description(&self) -> std::result::Result<JsValue, JsValue> {
        to_js(&self.inner.classifier().map_err(js_error)?.description())
    }

    /// A model file (`fromModelFile` reads it; it also loads as bare weights).
    #[wasm_bindgen(js_name = exportModel)]
    pub fn export_model(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let run = async { inner.classifier()?.export_model().await };
            let bytes = run.await.map_err(js_error)?;
            Ok(Uint8Array::from(bytes.as_slice()).into())
        })
    }

    /// The weights as bytes that `create` accepts (read asynchronously from the GPU).
    #[wasm_bindgen(js_name = exportWeights)]
    pub fn export_weights(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let run = async { inner.classifier()?.export().await };
            let bytes = run.await.map_err(js_error)?;
            Ok(Uint8Array::from(bytes.as_slice()).into())
        })
    }

    /// Asks a running `fit` to stop before its next step; ends a paused one.
    pub fn stop(&self) {
        self.inner.stop.set(true);
        #[cfg(feature = "train")]
        self.inner.abandon_paused();
    }

    /// Releases the model's memory; every later call fails with `DISPOSED`.
    pub fn dispose(&self) {
        self.inner.disposed.set(true);
        self.inner.stop.set(true);
        #[cfg(feature = "train")]
        self.inner.fitting.borrow_mut().take();
        self.inner.classifier.borrow_mut().take();
    }
}
