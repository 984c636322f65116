//! `Network.fit`: the crate's training loop, driven from JS, with events as plain objects.

use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{fit_event, js_error};
use super::network::Network;
use crate::error::{Error, Result};
use crate::model::AnyModel;
use crate::train::{FitConfig, fit};
use crate::with_any_model;

#[wasm_bindgen]
impl Network {
    /// Trains on `images`/`labels` (bytes as for `evaluate`) with Adam and ReduceLROnPlateau on
    /// the validation loss (`valImages`/`valLabels`, or the last `validationSplit` of the
    /// training data). `options`: `{ epochs, batchSize, learningRate, patience, augment,
    /// validationSplit, seed, readLossEvery }`, all optional. `onEvent` receives
    /// `{ type: "step", … }` and `{ type: "epoch", … }` objects. Resolves to the epoch events;
    /// rejects with `ABORTED` after `stop()` (the model keeps the last completed step) and
    /// with `BUSY` while another `fit` runs.
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
                let config = fit_config(&options)?;
                let split = number(&options, "validationSplit")?.unwrap_or(0.1);
                if !(0.0..1.0).contains(&split) {
                    return Err(Error::BadInput(format!(
                        "validationSplit must be in [0, 1), got {split}"
                    )));
                }
                let all = inner.dataset(images, labels)?;
                let (train, validation) = match validation {
                    Some((i, l)) => (all, inner.dataset(i, l)?),
                    None => {
                        let held = ((all.len() as f64 * split).round() as usize).min(all.len() - 1);
                        if held == 0 {
                            // No validation set: the scheduler watches the training loss.
                            (all.clone(), all)
                        } else {
                            all.split_at(all.len() - held)
                        }
                    }
                };
                let model = inner.take_model()?;
                inner.stop.set(false);
                let emit = |event: &crate::train::FitEvent| {
                    if let Some(f) = &on_event {
                        // What the callback throws is the JS layer's business (js/model.ts
                        // catches it there, stops training and rejects with it).
                        let _ = f.call1(&JsValue::NULL, &fit_event(event));
                    }
                };
                let device = inner.train_device.clone();
                let outcome = with_any_model!(model, |m| {
                    let trained = fit(
                        m.clone(),
                        &train,
                        &validation,
                        &config,
                        &device,
                        |e, _| emit(e),
                        || inner.stop.get(),
                    )
                    .await;
                    match trained {
                        Ok(o) => Ok((AnyModel::from(o.model), o.epochs, o.stopped)),
                        // Give the untouched model back before failing.
                        Err(e) => Err((AnyModel::from(m), e)),
                    }
                });
                let (model, epochs, stopped) = match outcome {
                    Ok(done) => done,
                    Err((model, e)) => {
                        inner.put_model(model);
                        return Err(e);
                    }
                };
                inner.put_model(model);
                if stopped {
                    return Err(Error::Aborted(format!(
                        "training stopped during epoch {}; the model keeps the weights of the \
                         last completed step",
                        epochs.len() + 1
                    )));
                }
                let history = Array::new();
                for e in &epochs {
                    history.push(&fit_event(&crate::train::FitEvent::Epoch(e.clone())));
                }
                Ok(JsValue::from(history))
            };
            run.await.map_err(js_error)
        })
    }
}

/// `FitConfig` from the JS options object (absent keys keep the defaults).
fn fit_config(options: &JsValue) -> Result<FitConfig> {
    let mut config = FitConfig::new();
    let count = |key: &str, value: &mut usize| -> Result<()> {
        if let Some(v) = number(options, key)? {
            if v < 1.0 || v.fract() != 0.0 || v > 1e9 {
                return Err(Error::BadInput(format!(
                    "{key} must be a whole number ≥ 1, got {v}"
                )));
            }
            *value = v as usize;
        }
        Ok(())
    };
    count("epochs", &mut config.epochs)?;
    count("batchSize", &mut config.batch_size)?;
    count("patience", &mut config.patience)?;
    count("readLossEvery", &mut config.read_loss_every)?;
    if let Some(lr) = number(options, "learningRate")? {
        if !(lr > 0.0 && lr < 10.0) {
            return Err(Error::BadInput(format!(
                "learningRate must be in (0, 10), got {lr}"
            )));
        }
        config.learning_rate = lr;
    }
    if let Some(shift) = number(options, "augment")? {
        if !(0.0..=8.0).contains(&shift) || shift.fract() != 0.0 {
            return Err(Error::BadInput(format!(
                "augment is the largest shift in pixels (0 to 8), got {shift}"
            )));
        }
        config.max_shift = shift as usize;
    }
    if let Some(seed) = number(options, "seed")? {
        config.seed = seed as u64;
    }
    Ok(config)
}

/// `options[key]` as a number, `None` when absent.
fn number(options: &JsValue, key: &str) -> Result<Option<f64>> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    let value = Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(Error::BadInput(format!("{key} must be a finite number"))),
    }
}
