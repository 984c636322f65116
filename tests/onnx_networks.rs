//! Whole CNNs exported by torch.onnx — ResNet-18, MobileNet V3 small, EfficientNet-B0,
//! SqueezeNet 1.1 and a VGG-style net — against onnxruntime on the same inputs: the largest
//! difference of the logits is within 1e-4 of the largest logit. The networks are the committed
//! graphs (tests/fixtures/networks) with seeded weights, written with onnxruntime's outputs by
//! scripts/onnx_networks.py (`CONVLENS_ONNX_NETWORKS` names a folder already written).

#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use burn::prelude::{Device, Tensor};
use burn::tensor::TensorData;
use convlens::onnx::import;
use convlens::session::{Classifier, OnnxOptions};
use futures_lite::future::block_on;

fn networks() -> PathBuf {
    if let Ok(dir) = std::env::var("CONVLENS_ONNX_NETWORKS") {
        return dir.into();
    }
    let out = std::env::temp_dir().join(format!("convlens-onnx-networks-{}", std::process::id()));
    let status = std::process::Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/onnx_networks.py"
        ))
        .arg(&out)
        .status()
        .expect("python from scripts/setup.sh's venv runs");
    assert!(
        status.success(),
        "scripts/onnx_networks.py failed (pip install -r scripts/requirements.txt)"
    );
    out
}

#[derive(serde::Deserialize)]
struct Expected {
    shape: Vec<usize>,
    input: Vec<f32>,
    logits: Vec<f32>,
}

fn pad6(shape: &[usize]) -> [usize; 6] {
    let mut out = [1; 6];
    out[6 - shape.len()..].copy_from_slice(shape);
    out
}

fn check(name: &str) {
    let dir = networks();
    let bytes = std::fs::read(dir.join(format!("{name}.onnx"))).unwrap();
    let e: Expected =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap()).unwrap();
    let device = Device::flex();
    let imported = import(&bytes, &device, true).unwrap_or_else(|err| panic!("{name}: {err}"));
    let x = Tensor::<6>::from_data(TensorData::new(e.input.clone(), pad6(&e.shape)), &device);
    let (out, shape) = imported.graph.run(x, e.shape.clone()).unwrap();
    assert_eq!(shape, [2, e.logits.len() / 2], "{name}");
    let got: Vec<f32> = out
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    let largest = e.logits.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = got
        .iter()
        .zip(&e.logits)
        .map(|(g, w)| (g - w).abs())
        .fold(0f32, f32::max);
    println!(
        "{name}: largest difference from onnxruntime {worst:.3e}, largest logit {largest:.3e} ({:.2e} of it)",
        worst / largest
    );
    assert!(
        worst <= 1e-4 * largest,
        "{name}: {worst} against a largest logit of {largest}"
    );
    // The same through the classifier: one image at a time gives the batch's scores.
    let c = Classifier::from_onnx(&device, &bytes, OnnxOptions::default()).unwrap();
    let per = e.input.len() / 2;
    let [_, ch, h, w] = [e.shape[0], e.shape[1], e.shape[2], e.shape[3]];
    let one = block_on(c.classify(&e.input[per..], [1, ch, h, w])).unwrap();
    let classes = e.logits.len() / 2;
    let logits = &e.logits[classes..];
    let max = logits.iter().fold(f32::MIN, |m, &v| m.max(v));
    let sum: f32 = logits.iter().map(|v| (v - max).exp()).sum();
    for (p, l) in one.iter().zip(logits) {
        assert!(
            (p - (l - max).exp() / sum).abs() < 1e-4,
            "{name}: softmax differs"
        );
    }
}

#[test]
fn resnet18_agrees_with_onnxruntime() {
    check("resnet18");
}

#[test]
fn mobilenet_v3_small_agrees_with_onnxruntime() {
    check("mobilenet_v3_small");
}

#[test]
fn efficientnet_b0_agrees_with_onnxruntime() {
    check("efficientnet_b0");
}

#[test]
fn squeezenet1_1_agrees_with_onnxruntime() {
    check("squeezenet1_1");
}

#[test]
fn a_vgg_style_net_agrees_with_onnxruntime() {
    check("vgg_small");
}

/// The venv scripts/setup.sh makes (numpy, onnx, onnxruntime).
fn python() -> PathBuf {
    let cache = std::env::var_os("CONVLENS_CACHE").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/convlens"),
        PathBuf::from,
    );
    cache.join("venv/bin/python")
}
