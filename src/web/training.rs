//! `Network.fit`, `fitStream`, `pause` and `resume`: [`crate::session::Classifier::start_fit`]
//! and [`crate::session::Classifier::advance`] driven from JS, with events as plain objects.

use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use super::convert::{js_error, to_js};
use super::network::{Inner, Network, from_js};
use crate::data::{Dataset, check_labels};
use crate::error::{Error, Result};
use crate::session::{FitOptions, Fitting, Validation};
use crate::train::{BatchStream, FitEvent, StreamFuture, TrainData};

#[wasm_bindgen]
impl Network {
    /// Trains on `images`/`labels` (bytes as for `evaluate`) with Adam and ReduceLROnPlateau on
    /// the validation loss (`valImages`/`valLabels`, or the last `validationSplit` of the
    /// training data). `options`: `{ epochs, batchSize, learningRate, patience, augment,
    /// validationSplit, seed, readLossEvery, … }`, all optional; any other key is `BAD_INPUT`.
    /// `onEvent` receives `{ type: "step", … }` and `{ type: "epoch", … }` objects. Resolves to
    /// the epoch events, or to null when `pause()` paused it (`resume()` continues); rejects
    /// with `ABORTED` after `stop()` (the model keeps the last completed step) and with `BUSY`
    /// while another `fit` runs.
    pub fn fit(
        &self,
        images: Uint8Array,
        labels: Uint8Array,
        val_images: Option<Uint8Array>,
        val_labels: Option<Uint8Array>,
        options: JsValue,
        on_event: Option<Function>,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        let (images, labels) = (images.to_vec(), labels.to_vec());
        let validation = val_images
            .zip(val_labels)
            .map(|(i, l)| (i.to_vec(), l.to_vec()));
        future_to_promise(async move {
            let start = || -> Result<Fitting> {
                let options: FitOptions = from_js(options, "fit options")?;
                let classifier = inner.classifier()?;
                let train = classifier.dataset(images, labels)?;
                let validation = match validation {
                    Some((i, l)) => Validation::Data(classifier.dataset(i, l)?),
                    None => options.validation(),
                };
                classifier.start_fit(train, validation, &options)
            };
            let fitting = start().map_err(js_error)?;
            // A new run replaces one left paused (its epochs join the record as stopped).
            inner.abandon_paused();
            inner.stop.set(false);
            drive(&inner, fitting, on_event).await.map_err(js_error)
        })
    }

    /// As `fit`, on batches that `pull(restart)` gives one at a time: a promise of `{ images,
    /// labels }` (bytes, each a whole batch of the model's input shape) or of null at the end of
    /// a pass; `restart` is true for the first batch of every epoch. The validation set is
    /// required.
    #[wasm_bindgen(js_name = fitStream)]
    pub fn fit_stream(
        &self,
        pull: Function,
        val_images: Uint8Array,
        val_labels: Uint8Array,
        options: JsValue,
        on_event: Option<Function>,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        let validation = (val_images.to_vec(), val_labels.to_vec());
        future_to_promise(async move {
            let start = || -> Result<Fitting> {
                let options: FitOptions = from_js(options, "fit options")?;
                let classifier = inner.classifier()?;
                let validation = classifier.dataset(validation.0, validation.1)?;
                let stream = JsStream {
                    pull,
                    fresh: false,
                    epoch: 0,
                    batch: 0,
                    classes: classifier.classes(),
                    shape: classifier.input_shape(),
                };
                let train = TrainData::Stream(Box::new(stream));
                classifier.start_fit(train, Validation::Data(validation), &options)
            };
            let fitting = start().map_err(js_error)?;
            // A new run replaces one left paused (its epochs join the record as stopped).
            inner.abandon_paused();
            inner.stop.set(false);
            drive(&inner, fitting, on_event).await.map_err(js_error)
        })
    }

    /// Asks a running `fit` to pause before its next step: its promise then resolves to null,
    /// the model answers with the weights of the last step, and `resume()` continues with the
    /// optimiser's moments, the schedule and the position in the data as they were.
    pub fn pause(&self) {
        self.inner.pause.set(true);
    }

    /// Whether a paused `fit` waits for `resume()`.
    #[wasm_bindgen(getter)]
    pub fn paused(&self) -> bool {
        self.inner.fitting.borrow().is_some()
    }

    /// Continues the paused `fit`; resolves as `fit` does. `BAD_INPUT` when nothing is paused.
    pub fn resume(&self, on_event: Option<Function>) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let fitting = inner.fitting.borrow_mut().take();
            let fitting = fitting.ok_or_else(|| {
                js_error(Error::BadInput("no fit() is paused on this model".into()))
            })?;
            drive(&inner, fitting, on_event).await.map_err(js_error)
        })
    }
}

impl Inner {
    /// Ends a paused `fit` for good (its completed epochs join the training record).
    pub(super) fn abandon_paused(&self) {
        let Some(fitting) = self.fitting.borrow_mut().take() else {
            return;
        };
        if let Some(classifier) = self.classifier.borrow_mut().as_mut() {
            classifier.abandon(fitting);
        }
    }
}

/// Advances `fitting` until it finishes (the epochs), pauses (null; `fitting` is kept for
/// `resume`) or stops (`ABORTED`).
async fn drive(inner: &Inner, mut fitting: Fitting, on_event: Option<Function>) -> Result<JsValue> {
    let mut classifier = inner.take()?;
    let emit = |event: &FitEvent, _: &_| {
        if let Some(f) = &on_event {
            // What the callback throws is the JS layer's business (js/model.ts catches it
            // there, stops training and rejects with it).
            if let Ok(event) = to_js(event) {
                let _ = f.call1(&JsValue::NULL, &event);
            }
        }
    };
    let halt = || inner.stop.get() || inner.pause.get();
    let advanced = classifier.advance(&mut fitting, emit, halt).await;
    let paused = inner.pause.replace(false) && !inner.stop.get();
    let result = match advanced {
        Ok(Some(epochs)) => {
            let history = Array::new();
            for e in epochs {
                history
                    .push(&to_js(&FitEvent::Epoch(e)).map_err(|_| {
                        Error::Backend("could not convert the epoch events".into())
                    })?);
            }
            Ok(JsValue::from(history))
        }
        Ok(None) if paused => {
            *inner.fitting.borrow_mut() = Some(fitting);
            Ok(JsValue::NULL)
        }
        Ok(None) => Err(classifier.abandon(fitting)),
        Err(e) => Err(e),
    };
    inner.put(classifier);
    result
}

/// The training stream of [`Network::fit_stream`]: batches pulled from JS, checked as any
/// dataset is.
struct JsStream {
    pull: Function,
    /// The next pull starts a pass.
    fresh: bool,
    epoch: usize,
    batch: usize,
    classes: usize,
    shape: [usize; 3],
}

impl BatchStream for JsStream {
    fn restart(&mut self) -> StreamFuture<'_, ()> {
        self.fresh = true;
        self.epoch += 1;
        self.batch = 0;
        Box::pin(async { Ok(()) })
    }

    fn next(&mut self) -> StreamFuture<'_, Option<Dataset>> {
        let fresh = std::mem::replace(&mut self.fresh, false);
        self.batch += 1;
        let what = format!("dataset batch {} of epoch {}", self.batch, self.epoch);
        let (classes, shape) = (self.classes, self.shape);
        let called = self.pull.call1(&JsValue::NULL, &JsValue::from_bool(fresh));
        Box::pin(async move {
            let failed = |e: JsValue| {
                let message = Reflect::get(&e, &JsValue::from_str("message"))
                    .ok()
                    .and_then(|m| m.as_string())
                    .unwrap_or_else(|| format!("{e:?}"));
                Error::BadInput(format!("{what}: the stream failed: {message}"))
            };
            let value = JsFuture::from(Promise::resolve(&called.map_err(failed)?))
                .await
                .map_err(failed)?;
            if value.is_null() || value.is_undefined() {
                return Ok(None);
            }
            let bytes = |key: &str| -> Result<Vec<u8>> {
                Reflect::get(&value, &JsValue::from_str(key))
                    .ok()
                    .and_then(|v| v.dyn_into::<Uint8Array>().ok())
                    .map(|a| a.to_vec())
                    .ok_or_else(|| Error::BadInput(format!("{what}: {key} must be a Uint8Array")))
            };
            let (images, labels) = (bytes("images")?, bytes("labels")?);
            let named = |e: Error| match e {
                Error::BadInput(m) => Error::BadInput(format!("{what}: {m}")),
                other => other,
            };
            check_labels(&labels, classes).map_err(named)?;
            Dataset::new(images, labels, shape).map(Some).map_err(named)
        })
    }
}
