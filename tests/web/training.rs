//! Browser tests on real data: LeNet-5 learns MNIST digits on WebGPU, and the shipped weights
//! classify held-out digits on WebGPU as they do on the CPU backend.
//!
//! The digits are the small IDX subsets `scripts/fetch-data.sh` writes to
//! `$CONVLENS_DATA/assets` (set by scripts/env.sh), compiled into this test binary.

use burn::module::Module;
use burn::prelude::Device;
use convlens::data::{Dataset, parse_idx};
use convlens::device::{BackendKind, BackendRequest, select};
use convlens::model::LeNet5Config;
use convlens::train::{FitConfig, FitEvent, evaluate, fit};
use convlens::weights;
use wasm_bindgen_test::wasm_bindgen_test;

macro_rules! asset {
    ($name:literal) => {
        include_bytes!(concat!(env!("CONVLENS_DATA"), "/assets/", $name))
    };
}

fn digits(images: &[u8], labels: &[u8]) -> Dataset {
    Dataset::from_idx(parse_idx(images).unwrap(), parse_idx(labels).unwrap()).unwrap()
}

fn train_digits() -> Dataset {
    digits(
        asset!("mnist-train-images.idx"),
        asset!("mnist-train-labels.idx"),
    )
}

fn held_out_digits() -> Dataset {
    digits(
        asset!("mnist-test-images.idx"),
        asset!("mnist-test-labels.idx"),
    )
}

async fn webgpu() -> Device {
    let selected = select(BackendRequest::WebGpu)
        .await
        .unwrap_or_else(|e| panic!("WebGPU must be available in this test browser: {e}"));
    assert_eq!(selected.kind, BackendKind::WebGpu);
    selected.device
}

fn log(message: String) {
    web_sys::console::log_1(&message.into());
}

#[wasm_bindgen_test]
async fn webgpu_lenet5_learns_real_digits_from_scratch_in_the_browser() {
    let device = webgpu().await.autodiff();
    device.seed(11);
    let model = LeNet5Config::new().init(&device);
    let train = train_digits();
    let held_out = held_out_digits();
    assert_eq!((train.len(), held_out.len()), (2000, 500));
    let config = FitConfig::new().with_epochs(2).with_batch_size(16);
    let mut step_lrs = Vec::new();
    let mut epochs = Vec::new();
    let outcome = fit(
        model,
        &train,
        &held_out,
        &config,
        &device,
        |event, _| match event {
            FitEvent::Step(s) => step_lrs.push(s.lr),
            FitEvent::Epoch(e) => {
                log(format!("WebGPU epoch {}: {e:?}", e.epoch));
                epochs.push(e.clone());
            }
        },
        || false,
    )
    .await
    .unwrap();
    assert!(!outcome.stopped);
    assert_eq!(step_lrs.len(), 2 * 125);
    assert!(
        step_lrs.iter().all(|&lr| lr == 1e-3),
        "the scheduler's lr is in every step event"
    );
    assert_eq!(epochs.len(), 2);
    assert!(epochs.iter().all(|e| e.lr == 1e-3 && e.next_lr == 1e-3));
    // Measured on SwiftShader (the first 2,000 official training digits, the first 500 test
    // digits): 83.0 % after epoch 1, 88.6 % after epoch 2, 279 s. Batch 32 reached only 81.2 %;
    // batch 8 (natively 89.7 % on all 10,000 test digits) took 563 s, too slow for CI.
    let accuracy = epochs[1].validation.accuracy;
    assert!(
        accuracy >= 0.85,
        "LeNet-5 trained on 2,000 digits for 2 epochs on WebGPU: {:.1} % on 500 held-out digits",
        accuracy * 100.0
    );
}

#[wasm_bindgen_test]
async fn webgpu_shipped_lenet5_classifies_held_out_digits_as_the_cpu_backend_does() {
    let bytes = include_bytes!("../../weights/lenet5-mnist.bpk");
    let held_out = held_out_digits();
    let gpu = webgpu().await;
    let on_gpu = weights::load(LeNet5Config::new().init(&gpu), bytes).unwrap();
    let gpu_eval = evaluate(&on_gpu.valid(), &held_out, 100, &gpu)
        .await
        .unwrap();
    let cpu = Device::flex();
    let on_cpu = weights::load(LeNet5Config::new().init(&cpu), bytes).unwrap();
    let cpu_eval = evaluate(&on_cpu, &held_out, 100, &cpu).await.unwrap();
    log(format!(
        "shipped LeNet-5 on 500 held-out digits: WebGPU {gpu_eval:?}, CPU {cpu_eval:?}"
    ));
    assert_eq!(gpu_eval.accuracy, cpu_eval.accuracy);
    assert!((gpu_eval.loss - cpu_eval.loss).abs() < 1e-4);
    assert!(gpu_eval.accuracy >= 0.97, "{gpu_eval:?}");
}
