//! Whole CNNs exported by torch.onnx — ResNet-18, MobileNet V3 small, EfficientNet-B0,
//! SqueezeNet 1.1 and a VGG-style net — and by tf2onnx from Keras — MobileNetV2 and a small CNN
//! (batch norms folded into Mul, dense layers as MatMul, explicit Pad) — against onnxruntime on
//! the same inputs: the largest
//! difference of the logits is within 1e-4 of the largest logit. The networks are the committed
//! graphs (tests/fixtures/networks) with weights from tests/support/onnx_fill.rs, the logits
//! those scripts/onnx_networks.py recorded from onnxruntime for the same weights and images.

use crate::onnx_fill::{Expected, filled, images};
use burn::prelude::{Device, Tensor};
use burn::tensor::TensorData;
use convlens::model::graph::pad6;
use convlens::onnx::import;
use convlens::session::{Classifier, OnnxOptions};
use futures_lite::future::block_on;

fn check(name: &str, graph: &[u8], expected: &str) {
    let e: Expected = serde_json::from_str(expected).unwrap();
    let bytes = filled(graph);
    let input = images(e.shape.iter().product());
    let device = Device::flex();
    let imported = import(&bytes, &device, true).unwrap_or_else(|err| panic!("{name}: {err}"));
    let x = Tensor::<6>::from_data(TensorData::new(input.clone(), pad6(&e.shape)), &device);
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
    // The same through the classifier, one image: the softmax of onnxruntime's logits.
    let c = Classifier::from_onnx(&device, &bytes, OnnxOptions::default()).unwrap();
    let per = input.len() / 2;
    let one = block_on(c.classify(&input[per..], [1, e.shape[1], e.shape[2], e.shape[3]])).unwrap();
    let logits = &e.logits[e.logits.len() / 2..];
    let max = logits.iter().fold(f32::MIN, |m, &v| m.max(v));
    let sum: f32 = logits.iter().map(|v| (v - max).exp()).sum();
    for (p, l) in one.iter().zip(logits) {
        assert!(
            (p - (l - max).exp() / sum).abs() < 1e-4,
            "{name}: softmax differs"
        );
    }
}

macro_rules! network {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            check(
                $name,
                include_bytes!(concat!("../fixtures/networks/", $name, ".graph.onnx")),
                include_str!(concat!("../fixtures/networks/", $name, ".expected.json")),
            );
        }
    };
}

network!(resnet18_agrees_with_onnxruntime, "resnet18");
network!(
    mobilenet_v3_small_agrees_with_onnxruntime,
    "mobilenet_v3_small"
);
network!(efficientnet_b0_agrees_with_onnxruntime, "efficientnet_b0");
network!(squeezenet1_1_agrees_with_onnxruntime, "squeezenet1_1");
network!(a_vgg_style_net_agrees_with_onnxruntime, "vgg_small");
network!(
    keras_mobilenet_v2_by_tf2onnx_agrees_with_onnxruntime,
    "tf_mobilenet_v2"
);
network!(
    a_small_keras_cnn_by_tf2onnx_agrees_with_onnxruntime,
    "tf_small_cnn"
);
