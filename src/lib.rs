//! # convlens
//!
//! Convolutional networks written once with Burn that run — and train — natively on the CPU and
//! in the browser on WebGPU, with the output of every layer available for inspection.
//!
//! - [`model`]: the architectures (LeNet-5, …), each a `Config` + module, and their activations.
//! - [`device`]: the one place that chooses WebGPU or the CPU backend.
//! - [`data`]: caller-supplied pixels and labels → validated tensors; datasets (IDX), batches.
//! - [`clock`]: milliseconds, natively and in a browser.
//! - [`api`]: the values that cross to JS (catalogue entries, backend info, error codes), with
//!   their TypeScript types generated in the wasm build.
//! - [`train`]: Adam steps, ReduceLROnPlateau, evaluation and the one training loop.
//! - [`infer`]: probabilities and feature maps read back to the host.
//! - [`explain`]: Grad-CAM, saliency and integrated gradients with Burn's autodiff.
//! - [`pause`]: yielding to the browser's event loop during long work.
//! - [`readback`]: asynchronous, batched reads from the device.
//! - [`weights`]: module parameters ⇄ bytes.
//! - [`session`]: a [`session::Classifier`] — the one API the wasm facade, the CLI and the tests
//!   use: a network with its labels, device, image preparation, validation and training options.
//! - `web` (wasm32 only): the `#[wasm_bindgen]` facade the JS API wraps.

pub mod api;
pub mod clock;
pub mod data;
pub mod device;
pub mod error;
pub mod explain;
pub mod infer;
pub mod limits;
pub mod model;
pub mod onnx;
pub mod pause;
pub mod readback;
pub mod session;
pub mod train;
pub mod typed;
pub mod weights;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};
