//! Milliseconds from a monotonic clock, natively and in a browser (where `Instant` panics).

/// Milliseconds since an arbitrary, fixed origin.
#[cfg(target_arch = "wasm32")]
pub fn now_ms() -> f64 {
    use js_sys::{Function, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    // `performance.now()` in pages and workers; `Date.now()` where it is missing.
    let performance = Reflect::get(&js_sys::global(), &JsValue::from_str("performance")).ok();
    performance
        .and_then(|p| {
            let now = Reflect::get(&p, &JsValue::from_str("now")).ok()?;
            now.dyn_into::<Function>().ok()?.call0(&p).ok()?.as_f64()
        })
        .unwrap_or_else(js_sys::Date::now)
}

/// Milliseconds since the first call.
#[cfg(not(target_arch = "wasm32"))]
pub fn now_ms() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}
