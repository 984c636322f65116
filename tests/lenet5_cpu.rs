//! LeNet-5 on the native CPU backend: training, inference, errors and weights.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use burn::prelude::{Device, Tensor, TensorData};
use convlens::data::{Batch, images_tensor, labels_tensor};
use convlens::device::{BackendKind, BackendRequest, select};
use convlens::infer::{feature_maps, feature_maps_per_image, probabilities};
use convlens::model::{ImageClassifier, LeNet5Config};
use convlens::readback::read;
use convlens::train::{adam, train_step};
use convlens::weights;
use futures_lite::future::block_on;
use support::rng_lock;

/// A fixed batch of 8 synthetic "images": class k has a bright bar in row band k.
fn fixed_batch(device: &Device) -> Batch {
    let mut pixels = vec![0.0f32; 8 * 784];
    let labels: Vec<u8> = (0..8).map(|i| (i % 4) as u8).collect();
    for (i, &label) in labels.iter().enumerate() {
        let band = usize::from(label) * 7;
        for y in band..band + 5 {
            for x in 4..24 {
                pixels[i * 784 + y * 28 + x] = 1.0;
            }
        }
    }
    Batch {
        images: images_tensor(&pixels, [1, 28, 28], device).unwrap(),
        labels: labels_tensor(&labels, 10, device).unwrap(),
    }
}

/// Trains `steps` Adam steps from seed 7 and returns the losses read after each step.
fn train(steps: usize) -> Vec<f32> {
    let device = Device::flex().autodiff();
    device.seed(7);
    let mut model = LeNet5Config::new().init(&device);
    let mut optim = adam();
    let batch = fixed_batch(&device);
    let mut losses = Vec::new();
    for _ in 0..steps {
        let (next, loss, _) = train_step(model, &mut optim, &batch, 1e-3);
        model = next;
        losses.push(block_on(read(loss)).unwrap()[0]);
    }
    losses
}

#[test]
fn seeded_training_steps_lower_the_loss_and_repeat_exactly() {
    let _rng = rng_lock();
    let first = train(20);
    assert!(
        first[19] < first[0] * 0.5,
        "loss did not fall enough: {first:?}"
    );
    assert_eq!(first, train(20), "same seed, same data: same losses");
}

#[test]
fn auto_backend_is_the_cpu_natively_and_webgpu_is_an_error() {
    let auto = block_on(select(BackendRequest::Auto)).unwrap();
    assert_eq!(auto.kind, BackendKind::Cpu);
    assert!(auto.fallback_reason.is_some());
    let err = block_on(select(BackendRequest::WebGpu)).unwrap_err();
    assert_eq!(err.code(), "NO_WEBGPU");
}

#[test]
fn wrongly_shaped_input_is_an_error_not_a_panic() {
    let _rng = rng_lock();
    let device = Device::flex();
    let model = LeNet5Config::new().init(&device);
    let wrong: Tensor<4> = Tensor::zeros([1, 3, 32, 32], &device);
    let err = model.try_logits(wrong.clone()).unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
    assert!(err.to_string().contains("[batch>0, 1, 28, 28]"), "{err}");
    assert!(block_on(probabilities(&model, wrong.clone())).is_err());
    assert!(block_on(feature_maps(&model, wrong)).is_err());
    let empty: Tensor<4> = Tensor::zeros([0, 1, 28, 28], &device);
    assert_eq!(
        model.try_activations(empty).unwrap_err().code(),
        "BAD_INPUT"
    );
}

#[test]
fn probabilities_sum_to_one_and_feature_maps_cover_every_layer() {
    let _rng = rng_lock();
    let device = Device::flex();
    device.seed(3);
    let model = LeNet5Config::new().init(&device);
    let images = fixed_batch(&device).images;
    let probs = block_on(probabilities(&model, images.clone())).unwrap();
    assert_eq!(probs.len(), 80);
    for row in probs.chunks(10) {
        let sum: f32 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "{sum}");
    }
    let maps = block_on(feature_maps(&model, images.clone())).unwrap();
    assert_eq!(maps.len(), 11);
    // One forward pass over the batch gives each image the maps it gets alone.
    let per_image = block_on(feature_maps_per_image(&model, images.clone(), None)).unwrap();
    assert_eq!(per_image.len(), 8);
    let third = block_on(feature_maps(&model, images.clone().narrow(0, 2, 1))).unwrap();
    for (batched, alone) in per_image[2].iter().zip(&third) {
        assert_eq!((&batched.layer, batched.shape), (&alone.layer, alone.shape));
        let diff = batched
            .data
            .iter()
            .zip(&alone.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-5, "{}: {diff}", alone.layer);
    }
    assert_eq!(maps[0].layer, "conv1");
    assert_eq!(maps[0].shape, [6, 28, 28]);
    for map in &maps {
        assert_eq!(map.data.len(), map.shape.iter().product::<usize>());
    }
    // Only the layers asked for are read, in forward order, with the same values.
    let wanted = ["fc3".to_string(), "conv2".to_string()];
    let some = block_on(feature_maps_per_image(
        &model,
        images.clone(),
        Some(&wanted),
    ))
    .unwrap();
    let layers: Vec<_> = some[2].iter().map(|m| m.layer.as_str()).collect();
    assert_eq!(layers, ["conv2", "fc3"]);
    assert_eq!(some[2][0].data, per_image[2][3].data);
    let unknown = ["conv9".to_string()];
    let err = block_on(feature_maps_per_image(&model, images, Some(&unknown))).unwrap_err();
    assert!(err.to_string().contains("no layer \"conv9\""), "{err}");
}

#[test]
fn weights_round_trip_through_bytes_and_bad_bytes_are_rejected() {
    let _rng = rng_lock();
    let device = Device::flex();
    device.seed(11);
    let model = LeNet5Config::new().init(&device);
    let input: Tensor<4> =
        Tensor::from_data(TensorData::new(vec![0.3f32; 784], [1, 1, 28, 28]), &device);
    let expected = block_on(read(model.logits(input.clone()))).unwrap();

    let bytes = weights::to_bytes(model).unwrap();
    device.seed(99);
    let fresh = LeNet5Config::new().init(&device);
    let loaded = weights::load(fresh, &bytes).unwrap();
    assert_eq!(block_on(read(loaded.logits(input))).unwrap(), expected);

    let corrupt = weights::load(LeNet5Config::new().init(&device), &bytes[..bytes.len() / 2]);
    assert_eq!(corrupt.unwrap_err().code(), "BAD_WEIGHTS");
    let other = LeNet5Config::new().with_classes(3).init(&device);
    assert_eq!(
        weights::load(other, &bytes).unwrap_err().code(),
        "BAD_WEIGHTS"
    );
}
