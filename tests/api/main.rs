//! The public API's integration suite, one test binary (one link): the limits the JS API is
//! generated from, and transfer learning and model files through the session API.

#![cfg(not(target_arch = "wasm32"))]

mod generated;
mod onnx;
mod transfer;
