//! The native build of the code the browser runs, on Burn's CPU backend (`flex`, one thread):
//! the shipped LeNet-5 and VIN, inference of 1 and 64 images (probabilities read back) and one
//! Adam step at batch 64 with its loss read back — the phases `scripts/bench.mjs` times in the
//! browser, so the browser's CPU path can be compared with its native limit.
//!
//! `cargo bench --features cli --bench native` (medians in ms). A benchmark, never a test.

use std::time::Instant;

use burn::prelude::{Device, Int, Tensor, TensorData};
use convlens::data::Batch;
use convlens::infer::probabilities;
use convlens::model::{ImageClassifier, Pretrained};
use convlens::readback::read;
use convlens::session::load_burnpack;
use convlens::train::{adam, train_step};
use futures_lite::future::block_on;

/// Median of `runs` timings after one warm-up call.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

/// Deterministic pixels in [0, 1]: timing does not depend on what the images show.
fn images(n: usize, device: &Device) -> Tensor<4> {
    let pixels = (0..n * 784).map(|i| ((i * 7919) % 256) as f32 / 255.0);
    Tensor::from_data(TensorData::new(pixels.collect(), [n, 1, 28, 28]), device)
}

fn bench<M: ImageClassifier>(name: &str, model: M, device: &Device) {
    let (one, batch) = (images(1, device), images(64, device));
    let infer = |x: &Tensor<4>| {
        block_on(probabilities(&model.valid(), x.clone())).expect("inference");
    };
    let b1 = median_ms(30, || infer(&one));
    let b64 = median_ms(10, || infer(&batch));
    let labels: Tensor<1, Int> = Tensor::from_data(
        TensorData::new((0..64).map(|i| i % 10).collect::<Vec<i64>>(), [64]),
        device,
    );
    let data = Batch {
        images: batch,
        labels,
    };
    let mut optim = adam();
    let mut model = Some(model);
    let step = median_ms(5, || {
        let (next, loss, _) = train_step(model.take().expect("model"), &mut optim, &data, 1e-3);
        block_on(read(loss)).expect("loss");
        model = Some(next);
    });
    println!(
        "{name:<8} native flex: inference 1 image {b1:.2} ms, 64 images {b64:.2} ms, Adam step at batch 64 {step:.2} ms"
    );
}

fn main() {
    let device = Device::flex().autodiff();
    let root = env!("CARGO_MANIFEST_DIR");
    for shipped in Pretrained::ALL {
        let bytes = std::fs::read(format!("{root}/weights/{}", shipped.file)).expect("weights");
        let model = load_burnpack(shipped.architecture.init(&device), &bytes).expect("load");
        bench(shipped.architecture.name(), model, &device);
    }
}
