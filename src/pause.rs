//! Giving the browser its turn. Long work in a page (training, the first WebGPU run that
//! compiles every kernel) must return to the event loop now and then, or the page — and a
//! WebDriver talking to it — stops responding. Natively this is a no-op.

/// Resolves on the next turn of the event loop (a `setTimeout(0)`), in a page or a worker.
#[cfg(target_arch = "wasm32")]
pub async fn yield_to_event_loop() {
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    let global = js_sys::global();
    let Some(set_timeout) = Reflect::get(&global, &JsValue::from_str("setTimeout"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return;
    };
    let tick = Promise::new(&mut |resolve, _reject| {
        // setTimeout cannot fail for a function argument; if it did, the await below would
        // simply never resolve, so fall back to resolving at once.
        if set_timeout
            .call2(&global, &resolve, &JsValue::from(0))
            .is_err()
        {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(tick).await;
}

/// Resolves at once: native callers have no event loop to feed.
#[cfg(not(target_arch = "wasm32"))]
pub async fn yield_to_event_loop() {}
