//! A state_dict of the reference PyTorch VisualIntelligenceNetwork, written as safetensors by
//! `scripts/vin_state_dict.py` (numpy + safetensors, from scripts/setup.sh's venv), loads under
//! its PyTorch names and gives the logits numpy computes.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::module::Module;
use burn::prelude::{Device, Tensor, TensorData};
use convlens::model::{ImageClassifier, VinConfig, VisualIntelligenceNetwork};
use convlens::readback::read;
use convlens::weights::{load_pytorch_safetensors, parse_safetensors, to_pytorch_safetensors};
use futures_lite::future::block_on;

fn python() -> PathBuf {
    let cache = std::env::var_os("CONVLENS_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/convlens")
        });
    cache.join("venv/bin/python")
}

/// Runs the script for `level` and returns (safetensors bytes, input, expected logits).
fn fixture(level: usize) -> (Vec<u8>, Vec<f32>, Vec<f32>) {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("convlens-vin-{}-{call}", std::process::id()));
    let status = Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/vin_state_dict.py"
        ))
        .arg(&dir)
        .arg(level.to_string())
        .status()
        .expect("python from scripts/setup.sh's venv (run scripts/setup.sh)");
    assert!(status.success(), "vin_state_dict.py failed");
    let bytes = std::fs::read(dir.join("vin.safetensors")).unwrap();
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("vin-expected.json")).unwrap()).unwrap();
    let floats = |key: &str| -> Vec<f32> {
        expected[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect()
    };
    let _ = std::fs::remove_dir_all(&dir);
    (bytes, floats("input"), floats("logits"))
}

fn model(level: usize, device: &Device) -> VisualIntelligenceNetwork {
    VinConfig::new()
        .with_complexity_level(level)
        .with_image_size(16)
        .init(device)
}

#[test]
fn a_pytorch_state_dict_loads_by_name_and_matches_numpy() {
    let device = Device::flex();
    let (bytes, input, want) = fixture(2);
    let loaded = load_pytorch_safetensors(
        model(2, &device),
        &bytes,
        VisualIntelligenceNetwork::pytorch_key,
    )
    .unwrap()
    .valid();
    let x: Tensor<4> = Tensor::from_data(TensorData::new(input, [2, 1, 16, 16]), &device);
    let got = block_on(read(loaded.logits(x))).unwrap();
    assert_eq!(got.len(), want.len());
    let diff = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        diff < 1e-4,
        "max |burn - numpy| = {diff}: {got:?} vs {want:?}"
    );
}

#[test]
fn a_state_dict_of_another_level_is_rejected_with_bad_weights() {
    let device = Device::flex();
    let (bytes, _, _) = fixture(2);
    // Level 3 wants complexity_layers.6 (missing); level 1 leaves .3/.4 unused.
    for level in [1, 3] {
        let err = load_pytorch_safetensors(
            model(level, &device),
            &bytes,
            VisualIntelligenceNetwork::pytorch_key,
        )
        .unwrap_err();
        assert_eq!(err.code(), "BAD_WEIGHTS", "{err}");
    }
    let err = load_pytorch_safetensors(
        model(2, &device),
        &bytes[..100],
        VisualIntelligenceNetwork::pytorch_key,
    )
    .unwrap_err();
    assert_eq!(err.code(), "BAD_WEIGHTS");
}

#[test]
fn exporting_writes_back_the_same_state_dict() {
    let device = Device::flex();
    let (bytes, _, _) = fixture(2);
    let loaded = load_pytorch_safetensors(
        model(2, &device),
        &bytes,
        VisualIntelligenceNetwork::pytorch_key,
    )
    .unwrap();
    let exported = to_pytorch_safetensors(&loaded, VisualIntelligenceNetwork::pytorch_key).unwrap();
    let (original, written) = (
        parse_safetensors(&bytes).unwrap(),
        parse_safetensors(&exported).unwrap(),
    );
    // Every float tensor comes back under its PyTorch name, with its shape and values
    // (the Linear weight transposed back to PyTorch's [out, in]).
    assert_eq!(written, original);
    assert!(written.contains_key("classifier.2.weight"));
    assert!(written.contains_key("complexity_layers.4.running_var"));
}
