//! `Network.fit`: [`crate::session::Classifier::fit`] driven from JS, with events as plain
//! objects.

use std::rc::Rc;

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{js_error, to_js};
use super::network::{Network, from_js};
use crate::session::{FitOptions, Validation};
use crate::train::FitEvent;

#[wasm_bindgen]
impl Network {
    /// Trains on `images`/`labels` (bytes as for `evaluate`) with Adam and ReduceLROnPlateau on
    /// the validation loss (`valImages`/`valLabels`, or the last `validationSplit` of the
    /// training data). `options`: `{ epochs, batchSize, learningRate, patience, augment,
    /// validationSplit, seed, readLossEvery }`, all optional; any other key is `BAD_INPUT`.
    /// `onEvent` receives `{ type: "step", … }` and `{ type: "epoch", … }` objects. Resolves to
    /// the epoch events; rejects with `ABORTED` after `stop()` (the model keeps the last
    /// completed step) and with `BUSY` while another `fit` runs.
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
            let run = async {
                let options: FitOptions = from_js(options, "fit options")?;
                let mut classifier = inner.classifier()?;
                let train = classifier.dataset(images, labels)?;
                let validation = match validation {
                    Some((i, l)) => Validation::Data(classifier.dataset(i, l)?),
                    None => options.validation(),
                };
                drop(classifier);
                classifier = inner.take()?;
                inner.stop.set(false);
                let emit = |event: &FitEvent, _: &_| {
                    if let Some(f) = &on_event {
                        // What the callback throws is the JS layer's business (js/model.ts
                        // catches it there, stops training and rejects with it).
                        if let Ok(event) = to_js(event) {
                            let _ = f.call1(&JsValue::NULL, &event);
                        }
                    }
                };
                let trained = classifier
                    .fit(train, validation, &options, emit, || inner.stop.get())
                    .await;
                inner.put(classifier);
                trained
            };
            let epochs = run.await.map_err(js_error)?;
            let history = Array::new();
            for e in epochs {
                history.push(&to_js(&FitEvent::Epoch(e))?);
            }
            Ok(JsValue::from(history))
        })
    }
}
