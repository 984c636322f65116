//! Browser tests: `cargo test --target wasm32-unknown-unknown --test web` runs them in headless
//! Chromium with WebGPU on (see webdriver.json); training on real digits is in `training`. One
//! test binary, because each is a whole optimised link of Burn. Every test that needs WebGPU has `webgpu` in
//! its name and fails — never falls back — when the adapter is missing.
#![cfg(target_arch = "wasm32")]

use burn::prelude::Device;
use convlens::data::{Batch, images_tensor, labels_tensor};
use convlens::device::{BackendKind, BackendRequest, SelectedBackend, select};
use convlens::infer::{feature_maps, probabilities};
use convlens::model::LeNet5Config;
use convlens::pause::yield_to_event_loop;
use convlens::readback::read;
use convlens::train::{adam, train_step};
use convlens::weights;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

mod training;

/// WebGPU, or a failed test: a silent CPU fallback must not pass.
async fn webgpu() -> SelectedBackend {
    let selected = select(BackendRequest::WebGpu)
        .await
        .unwrap_or_else(|e| panic!("WebGPU must be available in this test browser: {e}"));
    assert_eq!(selected.kind, BackendKind::WebGpu);
    selected
}

/// Deterministic, digit-like inputs: a different diagonal stroke per image.
fn strokes(batch: usize) -> Vec<f32> {
    let mut pixels = vec![0.0f32; batch * 784];
    for i in 0..batch {
        for t in 4..24 {
            let x = (t + i * 3) % 24 + 2;
            pixels[i * 784 + t * 28 + x] = 1.0;
            pixels[i * 784 + t * 28 + x + 1] = 0.6;
        }
    }
    pixels
}

#[wasm_bindgen_test]
async fn webgpu_adapter_is_present_and_described() {
    let selected = webgpu().await;
    let adapter = selected.adapter.expect("adapter info");
    assert!(
        !(adapter.vendor.is_empty() && adapter.architecture.is_empty()),
        "the adapter should describe itself: {adapter:?}"
    );
    web_sys::console::log_1(&format!("WebGPU adapter: {adapter:?}").into());
    let auto = select(BackendRequest::Auto).await.unwrap();
    if adapter.is_fallback_adapter {
        // SwiftShader: measured far slower than the CPU backend, so auto passes it by.
        assert_eq!(auto.kind, BackendKind::Cpu);
        let reason = auto.fallback_reason.unwrap_or_default();
        assert!(reason.contains("software fallback"), "{reason}");
    } else {
        assert_eq!(
            auto.kind,
            BackendKind::WebGpu,
            "auto picks a hardware adapter"
        );
    }
}

#[wasm_bindgen_test]
async fn webgpu_lenet5_logits_and_every_activation_match_the_cpu_backend() {
    let gpu = webgpu().await.device;
    let cpu = Device::flex();
    cpu.seed(5);
    let reference = LeNet5Config::new().init(&cpu);
    let bytes = weights::to_bytes(reference.clone()).unwrap();
    let on_gpu = weights::load(LeNet5Config::new().init(&gpu), &bytes).unwrap();

    let pixels = strokes(1);
    let want = feature_maps(
        &reference,
        images_tensor(&pixels, [1, 28, 28], &cpu).unwrap(),
    )
    .await
    .unwrap();
    let got = feature_maps(&on_gpu, images_tensor(&pixels, [1, 28, 28], &gpu).unwrap())
        .await
        .unwrap();
    assert_eq!(got.len(), 11);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((&g.layer, g.shape), (&w.layer, w.shape));
        let diff = max_abs_diff(&g.data, &w.data);
        assert!(diff <= 1e-4, "{}: max |webgpu - cpu| = {diff}", g.layer);
    }
    let want = probabilities(
        &reference,
        images_tensor(&strokes(4), [1, 28, 28], &cpu).unwrap(),
    );
    let got = probabilities(
        &on_gpu,
        images_tensor(&strokes(4), [1, 28, 28], &gpu).unwrap(),
    );
    let diff = max_abs_diff(&got.await.unwrap(), &want.await.unwrap());
    assert!(diff <= 1e-4, "probabilities: max |webgpu - cpu| = {diff}");
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[wasm_bindgen_test]
async fn webgpu_twenty_adam_steps_lower_the_loss() {
    let device = webgpu().await.device.autodiff();
    device.seed(1);
    let mut model = LeNet5Config::new().init(&device);
    let mut optim = adam();
    let labels: Vec<u8> = (0..8).map(|i| i % 4).collect();
    let batch = Batch {
        images: images_tensor(&strokes(8), [1, 28, 28], &device).unwrap(),
        labels: labels_tensor(&labels, 10, &device).unwrap(),
    };
    let mut first = None;
    let mut last = None;
    for step in 0..20 {
        let (next, loss, _) = train_step(model, &mut optim, &batch, 1e-3);
        model = next;
        // Let the page breathe between steps, as the training loop does.
        yield_to_event_loop().await;
        // Read only the first and the last loss: each read waits for the GPU.
        if step == 0 {
            first = Some(read(loss).await.unwrap()[0]);
        } else if step == 19 {
            last = Some(read(loss).await.unwrap()[0]);
        }
    }
    let (first, last) = (first.unwrap(), last.unwrap());
    web_sys::console::log_1(&format!("WebGPU loss: step 1 {first}, step 20 {last}").into());
    assert!(last < first * 0.8, "loss on WebGPU went {first} -> {last}");
}

#[wasm_bindgen_test]
async fn webgpu_bad_input_is_an_error_and_the_model_still_works() {
    let gpu = webgpu().await.device;
    let model = LeNet5Config::new().init(&gpu);
    let err = images_tensor(&[0.0; 100], [1, 28, 28], &gpu).unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
    let probs = probabilities(
        &model,
        images_tensor(&strokes(1), [1, 28, 28], &gpu).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(probs.len(), 10);
}

#[path = "../support/onnx_fill.rs"]
mod onnx_fill;

/// A whole torch.onnx export (the committed graph, filled as natively) on WebGPU against the
/// logits onnxruntime gave for the same weights and images: within 1e-4 of the largest logit.
async fn onnx_network_on_webgpu(name: &str, graph: &[u8], expected: &str) {
    use burn::prelude::Tensor;
    use burn::tensor::TensorData;
    let gpu = webgpu().await.device;
    let e: onnx_fill::Expected = serde_json::from_str(expected).unwrap();
    let bytes = onnx_fill::filled(graph);
    let imported =
        convlens::onnx::import(&bytes, &gpu, true).unwrap_or_else(|err| panic!("{name}: {err}"));
    let x = Tensor::<6>::from_data(
        TensorData::new(
            onnx_fill::images(e.shape.iter().product()),
            convlens::model::graph::pad6(&e.shape),
        ),
        &gpu,
    );
    let (out, shape) = imported.graph.run(x, e.shape.clone()).unwrap();
    assert_eq!(shape, [2, e.logits.len() / 2]);
    let got = read(out).await.unwrap();
    let largest = e.logits.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = max_abs_diff(&got, &e.logits);
    web_sys::console::log_1(&format!("{name} on WebGPU: largest difference from onnxruntime {worst:.3e} ({:.2e} of the largest logit)", worst / largest).into());
    assert!(
        worst <= 1e-4 * largest,
        "{name}: {worst} against a largest logit of {largest}"
    );
}

#[wasm_bindgen_test]
async fn webgpu_onnx_squeezenet_agrees_with_onnxruntime() {
    onnx_network_on_webgpu(
        "squeezenet1_1",
        include_bytes!("../fixtures/networks/squeezenet1_1.graph.onnx"),
        include_str!("../fixtures/networks/squeezenet1_1.expected.json"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn webgpu_onnx_mobilenet_v3_small_agrees_with_onnxruntime() {
    onnx_network_on_webgpu(
        "mobilenet_v3_small",
        include_bytes!("../fixtures/networks/mobilenet_v3_small.graph.onnx"),
        include_str!("../fixtures/networks/mobilenet_v3_small.expected.json"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn webgpu_onnx_efficientnet_b0_agrees_with_onnxruntime() {
    onnx_network_on_webgpu(
        "efficientnet_b0",
        include_bytes!("../fixtures/networks/efficientnet_b0.graph.onnx"),
        include_str!("../fixtures/networks/efficientnet_b0.expected.json"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn webgpu_onnx_resnet18_agrees_with_onnxruntime() {
    onnx_network_on_webgpu(
        "resnet18",
        include_bytes!("../fixtures/networks/resnet18.graph.onnx"),
        include_str!("../fixtures/networks/resnet18.expected.json"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn webgpu_onnx_vgg_style_agrees_with_onnxruntime() {
    onnx_network_on_webgpu(
        "vgg_small",
        include_bytes!("../fixtures/networks/vgg_small.graph.onnx"),
        include_str!("../fixtures/networks/vgg_small.expected.json"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn webgpu_onnx_keras_mobilenet_v2_by_tf2onnx_agrees_with_onnxruntime() {
    onnx_network_on_webgpu(
        "tf_mobilenet_v2",
        include_bytes!("../fixtures/networks/tf_mobilenet_v2.graph.onnx"),
        include_str!("../fixtures/networks/tf_mobilenet_v2.expected.json"),
    )
    .await;
}
