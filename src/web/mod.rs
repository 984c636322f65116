//! The `#[wasm_bindgen]` facade: converts JS values in and out of the Rust API, nothing else.
//! Every error crosses as a JS `Error` whose `code` property is [`crate::Error::code`].

mod catalog;
mod convert;
#[cfg(feature = "train")]
mod explain;
mod network;
#[cfg(feature = "train")]
mod training;

pub use catalog::{
    architectures, datasets, error_codes, pretrained, probe_backend, webgpu_adapter,
};
pub use network::Network;
/// `initThreadPool(n)`: starts the CPU backend's thread pool (modules built with `threads`).
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

use wasm_bindgen::prelude::wasm_bindgen;

/// Runs the static constructors once ([`crate::device::run_static_constructors`]) and installs
/// a panic hook so that a bug (never bad input, which returns errors) is logged with its message
/// instead of as `unreachable`.
#[wasm_bindgen(start)]
pub fn start() {
    crate::device::run_static_constructors();
    console_error_panic_hook::set_once();
}
