//! The public API's integration suite, one test binary (one link): the limits the JS API is
//! generated from, transfer learning and model files through the session API, and ONNX networks
//! (files in, ONNX's own node tests, whole exported CNNs against onnxruntime).

#![cfg(not(target_arch = "wasm32"))]

mod generated;
mod onnx;
mod onnx_networks;
mod onnx_nodes;
mod transfer;

#[path = "../support/onnx_fill.rs"]
mod onnx_fill;
