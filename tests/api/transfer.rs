//! Transfer learning, model files and training through the public session API only: a new
//! head on a pretrained backbone, what a model file carries, head-only training, schedules and
//! early stopping, streamed datasets.

use burn::prelude::{Device, Tensor};
use convlens::data::Dataset;
use convlens::model::{AnyModel, Architecture, ImageClassifier, Preprocess};
use convlens::session::{Classifier, EarlyStopping, FitOptions, Init, Train, Validation, burnpack};
use convlens::weights;
use futures_lite::future::block_on;

/// `n` 28×28 images of a fixed pattern, labelled 0 to 9 in turn.
fn digits(n: usize) -> Dataset {
    let images = (0..n * 784).map(|i| (i * 7 % 256) as u8).collect();
    let labels = (0..n).map(|i| (i % 10) as u8).collect();
    Dataset::new(images, labels, [1, 28, 28]).unwrap()
}

/// Every weight of `classifier` by name (read on the CPU backend).
fn tensors(classifier: &Classifier) -> std::collections::BTreeMap<String, Vec<f32>> {
    let bytes = burnpack(&classifier.model()).unwrap();
    burn_pack::Reader::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
        .unwrap()
        .into_tensors()
        .unwrap()
        .into_iter()
        .map(|t| {
            let (name, _, _, _, data) = t.into_parts().unwrap();
            let values = data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (name, values)
        })
        .collect()
}

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn transfer_keeps_the_backbone_and_puts_a_fresh_head_of_the_new_size_on_it() {
    let device = Device::flex();
    let pretrained =
        Classifier::with_classes(Architecture::Vin, 10, &device, Init::Seed(7)).unwrap();
    let bytes = block_on(pretrained.export()).unwrap();
    let new = Classifier::new(
        Architecture::Vin,
        labels(&["cat", "dog", "car"]),
        &device,
        Init::Backbone(&bytes),
    )
    .unwrap();
    let (before, after) = (tensors(&pretrained), tensors(&new));
    assert_eq!(after["classifier.weight"].len(), 128 * 3);
    assert_eq!(before.len(), after.len());
    for (name, values) in &before {
        if !name.starts_with("classifier.") {
            assert_eq!(values, &after[name], "{name} changed");
        }
    }
    // Another architecture's file is refused, naming what it lacks.
    let lenet = Classifier::with_classes(Architecture::LeNet5, 10, &device, Init::Seed(1)).unwrap();
    let err = Classifier::new(
        Architecture::Vin,
        labels(&["a", "b"]),
        &device,
        Init::Backbone(&block_on(lenet.export()).unwrap()),
    )
    .unwrap_err();
    assert_eq!(err.code(), "BAD_WEIGHTS", "{err}");
    assert!(err.to_string().contains("have no"), "{err}");
}

#[test]
fn embed_gives_the_features_the_head_reads() {
    let device = Device::flex();
    let c = Classifier::with_classes(Architecture::LeNet5, 10, &device, Init::Seed(3)).unwrap();
    let pixels: Vec<f32> = (0..2 * 784).map(|i| (i % 255) as f32 / 255.0).collect();
    let features = block_on(c.embed(&pixels, [2, 1, 28, 28])).unwrap();
    assert_eq!(features.len(), 2 * 84);
    let logits = c
        .model()
        .classify_features(Tensor::<2>::from_data(
            burn::prelude::TensorData::new(features, [2, 84]),
            &device,
        ))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let probs: Vec<f32> = block_on(c.classify(&pixels, [2, 1, 28, 28])).unwrap();
    for image in 0..2 {
        let row = &logits[image * 10..(image + 1) * 10];
        let max = row.iter().copied().fold(f32::MIN, f32::max);
        let sum: f32 = row.iter().map(|l| (l - max).exp()).sum();
        for (k, l) in row.iter().enumerate() {
            let p = (l - max).exp() / sum;
            assert!((p - probs[image * 10 + k]).abs() < 1e-5);
        }
    }
}

#[test]
fn preprocess_is_the_shipped_models_and_can_be_replaced() {
    let device = Device::flex();
    let c = Classifier::with_classes(Architecture::EfficientNetLite0, 2, &device, Init::Seed(1))
        .unwrap();
    assert_eq!(
        c.preprocess(),
        Preprocess::CentreCrop {
            fraction: 224.0 / 256.0
        }
    );
    // A 256-pixel image whose centre 224 is one colour and border another: the crop sees
    // only the centre; a plain resize sees both.
    let mut pixels = vec![0.0f32; 3 * 256 * 256];
    for (i, p) in pixels.iter_mut().enumerate() {
        let (y, x) = ((i / 256) % 256, i % 256);
        *p = if (16..240).contains(&y) && (16..240).contains(&x) {
            1.0
        } else {
            0.0
        };
    }
    let cropped = c.images(&pixels, [1, 3, 256, 256]).unwrap();
    let resized = c
        .clone()
        .with_preprocess(Preprocess::Resize)
        .images(&pixels, [1, 3, 256, 256])
        .unwrap();
    let mean = |t: Tensor<4>| t.mean().into_scalar::<f32>();
    assert!((mean(cropped) - 1.0).abs() < 1e-6);
    assert!(mean(resized) < 0.9);
    let bad = c
        .with_preprocess(Preprocess::CentreCrop { fraction: 0.0 })
        .images(&pixels, [1, 3, 256, 256])
        .unwrap_err();
    assert_eq!(bad.code(), "BAD_INPUT");
}

#[cfg(feature = "train")]
#[test]
fn a_model_file_carries_everything_to_load_it_and_refuses_damage() {
    let device = Device::flex();
    let mut c = Classifier::new(
        Architecture::LeNet5,
        labels(&["a", "b", "c"]),
        &device,
        Init::Seed(5),
    )
    .unwrap()
    .with_preprocess(Preprocess::CentreDigit);
    let options = FitOptions {
        epochs: Some(2.0),
        batch_size: Some(8.0),
        ..FitOptions::default()
    };
    let data = Dataset::new(
        (0..24 * 784).map(|i| (i * 7 % 256) as u8).collect(),
        (0..24).map(|i| (i % 3) as u8).collect(),
        [1, 28, 28],
    )
    .unwrap();
    block_on(c.fit(data, Validation::Split(0.0), &options, |_, _| {}, || false)).unwrap();
    let file = block_on(c.export_model()).unwrap();
    let back = Classifier::from_model_file(&device, &file).unwrap();
    // serde_json reads some f64s back one unit in the last place off (its exact parser is a
    // feature that would rebuild Burn): the training record's timings are compared within
    // 1e-12, everything else exactly.
    fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
        use serde_json::Value;
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                (x - y).abs() <= 1e-12 * x.abs().max(1.0)
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
            }
            _ => a == b,
        }
    }
    let json = |c: &Classifier| serde_json::to_value(c.description()).unwrap();
    assert!(
        close(&json(&back), &json(&c)),
        "{:?}\n{:?}",
        back.description(),
        c.description()
    );
    assert_eq!(back.labels(), ["a", "b", "c"]);
    assert_eq!(back.preprocess(), Preprocess::CentreDigit);
    let record = &back.training()[0];
    assert_eq!((record.epochs.len(), record.stopped), (2, false));
    assert_eq!(record.options.batch_size, Some(8.0));
    assert_eq!(tensors(&back), tensors(&c));
    // It still loads as bare weights, with its labels; bare weights are not a model file.
    let bare = Classifier::from_weights(Architecture::LeNet5, &device, &file).unwrap();
    assert_eq!(bare.labels(), ["a", "b", "c"]);
    let weights_only = block_on(c.export()).unwrap();
    let err = Classifier::from_model_file(&device, &weights_only).unwrap_err();
    assert!(err.to_string().contains("bare weights"), "{err}");
    // A changed byte in the weights is caught by the checksum.
    let mut damaged = file.clone();
    let at = damaged.len() - 100;
    damaged[at] ^= 0x40;
    let err = Classifier::from_model_file(&device, &damaged).unwrap_err();
    assert!(err.to_string().contains("checksum"), "{err}");
    // Stored as f16, it is sealed again and still loads.
    let half = weights::to_half(file).unwrap();
    let halved = Classifier::from_model_file(&device, &half).unwrap();
    assert_eq!(halved.labels(), ["a", "b", "c"]);
}

#[cfg(feature = "train")]
#[test]
fn schedules_and_early_stopping() {
    let device = Device::flex();
    let images: Vec<u8> = (0..32 * 784).map(|i| (i * 13 % 256) as u8).collect();
    let train = Dataset::new(
        images.clone(),
        (0..32).map(|i| (i % 4) as u8).collect(),
        [1, 28, 28],
    )
    .unwrap();
    // The same images with other labels: fitting the training labels makes this worse.
    let contrary = Dataset::new(
        images,
        (0..32).map(|i| ((i + 1) % 4) as u8).collect(),
        [1, 28, 28],
    )
    .unwrap();
    let run = |options: FitOptions| {
        let mut c =
            Classifier::with_classes(Architecture::LeNet5, 4, &device, Init::Seed(9)).unwrap();
        let epochs = block_on(c.fit(
            train.clone(),
            Validation::Data(contrary.clone()),
            &options,
            |_, _| {},
            || false,
        ))
        .unwrap();
        (c, epochs)
    };
    let base = FitOptions {
        epochs: Some(6.0),
        batch_size: Some(8.0),
        learning_rate: Some(0.01),
        ..FitOptions::default()
    };
    // Cosine: lr₀·½(1 + cos(π(e − 1)/E)) for epoch e of E; none: lr₀ throughout.
    let (_, cosine) = run(FitOptions {
        schedule: Some(convlens::train::Schedule::Cosine),
        ..base.clone()
    });
    for e in &cosine {
        let t = (e.epoch - 1) as f64 / 6.0;
        assert!(
            (e.lr - 0.01 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())).abs() < 1e-12,
            "{e:?}"
        );
    }
    let (_, flat) = run(FitOptions {
        schedule: Some(convlens::train::Schedule::None),
        ..base.clone()
    });
    assert!(flat.iter().all(|e| e.lr == 0.01 && e.next_lr == 0.01));
    // Early stopping: it ends once the validation loss has not improved for 2 epochs, and
    // restoreBest leaves the best epoch's weights.
    let (c, stopped) = run(FitOptions {
        epochs: Some(30.0),
        early_stopping: Some(EarlyStopping {
            patience: 2.0,
            restore_best: Some(true),
        }),
        ..base.clone()
    });
    assert!(stopped.len() < 30, "{} epochs", stopped.len());
    let best = stopped
        .iter()
        .map(|e| e.validation.loss)
        .fold(f32::INFINITY, f32::min);
    let last = stopped.last().unwrap();
    assert!(last.validation.loss > best, "stopped on a worse epoch");
    let now = block_on(c.evaluate(&contrary)).unwrap().loss;
    assert!((now - best).abs() < 1e-4, "restored: {now} vs best {best}");
    let err = FitOptions {
        early_stopping: Some(EarlyStopping {
            patience: 0.0,
            restore_best: None,
        }),
        ..base
    }
    .config()
    .unwrap_err();
    assert!(err.to_string().contains("earlyStopping.patience"), "{err}");
}

#[cfg(feature = "train")]
#[test]
fn training_the_head_changes_only_the_head() {
    let device = Device::flex();
    let mut c = Classifier::with_classes(Architecture::Vin, 10, &device, Init::Seed(5)).unwrap();
    let before = tensors(&c);
    let options = FitOptions {
        epochs: Some(1.0),
        batch_size: Some(8.0),
        train: Some(Train::Head),
        ..FitOptions::default()
    };
    block_on(c.fit(
        digits(16),
        Validation::Split(0.0),
        &options,
        |_, _| {},
        || false,
    ))
    .unwrap();
    let after = tensors(&c);
    for (name, values) in &before {
        let same = values == &after[name];
        // BatchNorm's running statistics stay: the frozen backbone normalises with them.
        assert_eq!(same, !name.starts_with("classifier."), "{name}");
    }
    // Training everything afterwards changes the backbone too (nothing stays frozen).
    let options = FitOptions {
        train: Some(Train::All),
        ..options
    };
    block_on(c.fit(
        digits(16),
        Validation::Split(0.0),
        &options,
        |_, _| {},
        || false,
    ))
    .unwrap();
    let last = tensors(&c);
    assert_ne!(
        last["feature_extractor.weight"],
        after["feature_extractor.weight"]
    );
    assert_ne!(
        last["complexity_layers.0.norm.running_mean"],
        after["complexity_layers.0.norm.running_mean"]
    );
}

#[cfg(feature = "train")]
#[test]
fn a_fit_stopped_and_advanced_ends_as_one_never_stopped_also_head_only() {
    use std::cell::Cell;
    let device = Device::flex();
    // A new classifier from the same bytes for each run: Burn's clones of a module share its
    // BatchNorm running statistics (a clone of a classifier that trained would not start
    // where it did), and seeding is process-wide (tests running meanwhile draw from it).
    let weights = burnpack(
        &Classifier::with_classes(Architecture::Vin, 10, &device, Init::Seed(5))
            .unwrap()
            .model(),
    )
    .unwrap();
    let fresh = || {
        Classifier::with_classes(Architecture::Vin, 10, &device, Init::Weights(&weights)).unwrap()
    };
    for train in [Train::Head, Train::All] {
        let options = FitOptions {
            epochs: Some(2.0),
            batch_size: Some(4.0),
            train: Some(train),
            ..FitOptions::default()
        };
        let mut straight = fresh();
        let epochs = block_on(straight.fit(
            digits(16),
            Validation::Split(0.25),
            &options,
            |_, _| {},
            || false,
        ))
        .unwrap();
        let mut paused = fresh();
        let mut fitting = paused
            .start_fit(digits(16), Validation::Split(0.25), &options)
            .unwrap();
        let steps = Cell::new(0);
        let count = |event: &convlens::train::FitEvent, _: &AnyModel| {
            if let convlens::train::FitEvent::Step(_) = event {
                steps.set(steps.get() + 1);
            }
        };
        // 3 steps per epoch: stopped within epoch 1 and at the start of epoch 2.
        for stop in [2, 3] {
            let done = block_on(paused.advance(&mut fitting, count, || steps.get() == stop));
            assert!(done.unwrap().is_none());
            assert_eq!(fitting.position(), (stop / 3 + 1, stop % 3));
            // While stopped, the classifier answers with the weights of the last step.
            assert!(block_on(paused.evaluate(&digits(4))).is_ok());
        }
        let resumed = block_on(paused.advance(&mut fitting, count, || false))
            .unwrap()
            .unwrap();
        let (a, b) = (tensors(&paused), tensors(&straight));
        let differ: Vec<_> = a.keys().filter(|k| a[*k] != b[*k]).collect();
        assert!(differ.is_empty(), "{train:?}: {differ:?}");
        assert_eq!(resumed.len(), epochs.len());
        assert_eq!(paused.training().len(), 1, "one record for the whole run");
        for (a, b) in resumed.iter().zip(&epochs) {
            assert_eq!((a.train_loss, a.validation), (b.train_loss, b.validation));
        }
    }
    // A streamed dataset needs a validation set.
    let stream = convlens::train::TrainData::Stream(Box::new(NoBatches));
    let err = fresh()
        .start_fit(stream, Validation::Split(0.1), &FitOptions::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("validationData"), "{err}");
}

#[cfg(feature = "train")]
struct NoBatches;

#[cfg(feature = "train")]
impl convlens::train::BatchStream for NoBatches {
    fn restart(&mut self) -> convlens::train::StreamFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
    fn next(&mut self) -> convlens::train::StreamFuture<'_, Option<Dataset>> {
        Box::pin(async { Ok(None) })
    }
}
