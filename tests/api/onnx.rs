//! An ONNX network through the same session API as the built-in ones: classify against
//! onnxruntime's outputs (tests/fixtures, scripts/onnx_fixtures.py), feature maps named by its
//! nodes, explanations, head training, transfer learning, model files; and every kind of bad
//! file refused with a typed error that names what is wrong.

use burn::prelude::Device;
use convlens::data::Dataset;
use convlens::explain::{ExplainMethod, ExplainOptions};
use convlens::onnx::import;
use convlens::session::{Classifier, FitOptions, OnnxOptions, Train, Validation, burnpack};
use futures_lite::future::block_on;
use onnx_ir::{Message, ModelProto};

const TINY: &[u8] = include_bytes!("../fixtures/tiny-cnn.onnx");

#[derive(serde::Deserialize)]
struct Expected {
    shape: [usize; 4],
    input: Vec<f32>,
    probabilities: Vec<Vec<f32>>,
}

fn expected() -> Expected {
    serde_json::from_str(include_str!("../fixtures/tiny-cnn.expected.json")).unwrap()
}

fn tiny(device: &Device) -> Classifier {
    Classifier::from_onnx(device, TINY, OnnxOptions::default()).unwrap()
}

#[test]
fn an_onnx_network_classifies_as_onnxruntime_does() {
    let device = Device::flex();
    let c = tiny(&device);
    assert_eq!(
        c.labels(),
        ["circle", "square", "triangle"],
        "labels from metadata_props"
    );
    assert_eq!(c.input_shape(), [1, 28, 28]);
    assert_eq!(c.architecture_name(), "graph");
    let e = expected();
    let got = block_on(c.classify(&e.input, e.shape)).unwrap();
    let want: Vec<f32> = e.probabilities.concat();
    let worst = got
        .iter()
        .zip(&want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, f32::max);
    println!("tiny-cnn against onnxruntime: largest difference {worst:e}");
    assert!(worst < 1e-5, "largest difference {worst}");
    // Labels given at load win over the file's; a wrong count is named.
    let named = Classifier::from_onnx(
        &device,
        TINY,
        OnnxOptions {
            labels: Some(vec!["a".into(), "b".into(), "c".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(named.labels(), ["a", "b", "c"]);
    let err = Classifier::from_onnx(
        &device,
        TINY,
        OnnxOptions {
            labels: Some(vec!["a".into()]),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("1 labels for a network of 3 outputs"),
        "{err}"
    );
}

#[test]
fn feature_maps_layers_and_explanations_name_the_onnx_nodes() {
    let device = Device::flex();
    let c = tiny(&device);
    let e = expected();
    let one = &e.input[..784];
    let maps = block_on(c.feature_maps(one, [1, 1, 28, 28], None)).unwrap();
    let names: Vec<&str> = maps[0].iter().map(|m| m.layer.as_str()).collect();
    for node in [
        "conv1",
        "bn1",
        "relu1",
        "pool1",
        "depthwise",
        "pointwise",
        "residual",
        "relu6",
        "gap",
        "flatten",
        "fc",
    ] {
        assert!(names.contains(&node), "{node} missing from {names:?}");
    }
    let conv1 = maps[0].iter().find(|m| m.layer == "conv1").unwrap();
    assert_eq!(conv1.shape, [8, 28, 28]);
    let layers = c.layers();
    let depthwise = layers.iter().find(|l| l.layer == "depthwise").unwrap();
    // conv 3×3 (3), pool 2 (4), depthwise 3×3 at stride 2 (4 + 2·2 = 8).
    assert_eq!(depthwise.receptive_field.size, 8.0);
    for (method, layer) in [
        (ExplainMethod::GradCam, Some("depthwise")),
        (ExplainMethod::GradCam, None),
        (ExplainMethod::Saliency, None),
    ] {
        let options = ExplainOptions {
            method: Some(method),
            layer: layer.map(String::from),
            ..Default::default()
        };
        let x = block_on(c.explain(one, [1, 1, 28, 28], &options)).unwrap();
        assert!(x.heat.iter().all(|h| h.is_finite()));
        assert!(
            x.heat.iter().any(|&h| h > 0.0),
            "{method:?} at {layer:?} is all 0"
        );
    }
    let embedding = block_on(c.embed(one, [1, 1, 28, 28])).unwrap();
    assert_eq!(embedding.len(), 8, "the features the Gemm reads");
}

/// `n` 28×28 images labelled 0 to 2 in turn.
fn shapes(n: usize) -> Dataset {
    let images = (0..n * 784)
        .map(|i| ((i / 784 % 3) * 100 + i % 28) as u8)
        .collect();
    let labels = (0..n).map(|i| (i % 3) as u8).collect();
    Dataset::new(images, labels, [1, 28, 28]).unwrap()
}

fn weights(c: &Classifier) -> Vec<(String, Vec<u8>)> {
    let bytes = burnpack(&c.model()).unwrap();
    let reader = burn_pack::Reader::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes)).unwrap();
    let names: Vec<String> = reader
        .tensor_names()
        .into_iter()
        .map(String::from)
        .collect();
    names
        .into_iter()
        .map(|n| {
            let d = reader.tensor_data(&n).unwrap().to_vec();
            (n, d)
        })
        .collect()
}

#[test]
fn training_the_head_of_an_onnx_network_changes_only_its_gemm_and_the_model_file_keeps_the_graph() {
    let device = Device::flex();
    let mut c = tiny(&device);
    let before = weights(&c);
    let options = FitOptions {
        epochs: Some(1.0),
        batch_size: Some(4.0),
        train: Some(Train::Head),
        ..FitOptions::default()
    };
    block_on(c.fit(
        shapes(12),
        Validation::Split(0.0),
        &options,
        |_, _| {},
        || false,
    ))
    .unwrap();
    let after = weights(&c);
    let changed: Vec<&str> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b.1 != a.1)
        .map(|(b, _)| b.0.as_str())
        .collect();
    assert!(!changed.is_empty());
    assert!(
        changed.iter().all(|n| n.contains(".Dense.")),
        "changed: {changed:?}"
    );
    // The model file loads without the .onnx and gives the same outputs.
    let file = block_on(c.export_model()).unwrap();
    let back = Classifier::from_model_file(&device, &file).unwrap();
    assert_eq!(back.labels(), c.labels());
    assert_eq!(back.training().len(), 1);
    let e = expected();
    assert_eq!(
        block_on(back.classify(&e.input, e.shape)).unwrap(),
        block_on(c.classify(&e.input, e.shape)).unwrap()
    );
    // Training everything moves the convolutions too.
    let options = FitOptions {
        train: Some(Train::All),
        ..options
    };
    block_on(c.fit(
        shapes(12),
        Validation::Split(0.0),
        &options,
        |_, _| {},
        || false,
    ))
    .unwrap();
    let all = weights(&c);
    assert!(
        after
            .iter()
            .zip(&all)
            .any(|(a, b)| a.0.contains(".Conv.") && a.1 != b.1)
    );
}

#[test]
fn transfer_learning_puts_a_fresh_head_at_the_cut() {
    let device = Device::flex();
    let two = OnnxOptions {
        labels: Some(vec!["yes".into(), "no".into()]),
        transfer: true,
        ..Default::default()
    };
    let c = Classifier::from_onnx(&device, TINY, two.clone()).unwrap();
    assert_eq!(c.classes(), 2);
    let e = expected();
    let p = block_on(c.classify(&e.input, e.shape)).unwrap();
    assert_eq!(p.len(), 8);
    // The backbone is the file's: the feature maps before the head are unchanged.
    let original = tiny(&device);
    let one = &e.input[..784];
    let a =
        block_on(original.feature_maps(one, [1, 1, 28, 28], Some(&["gap".to_string()]))).unwrap();
    let b = block_on(c.feature_maps(one, [1, 1, 28, 28], Some(&["gap".to_string()]))).unwrap();
    assert_eq!(a[0][0].data, b[0][0].data);
    // A cut that is no dense or convolution node is named, with the possible ones.
    let err = Classifier::from_onnx(
        &device,
        TINY,
        OnnxOptions {
            cut: Some("relu1".into()),
            ..two.clone()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("conv1, depthwise, pointwise, fc"),
        "{err}"
    );
    // Cutting at a convolution whose output is not [batch, classes] is refused.
    let err = Classifier::from_onnx(
        &device,
        TINY,
        OnnxOptions {
            cut: Some("pointwise".into()),
            ..two
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT", "{err}");
}

/// The fixture's protobuf, changed by `f`.
fn changed(f: impl FnOnce(&mut ModelProto)) -> Vec<u8> {
    let mut m = ModelProto::parse_from_bytes(TINY).unwrap();
    f(&mut m);
    m.write_to_bytes().unwrap()
}

fn refused(bytes: &[u8]) -> convlens::Error {
    import(bytes, &Device::flex(), true).unwrap_err()
}

#[test]
fn bad_onnx_files_are_refused_naming_what_is_wrong() {
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "garbage",
            b"\x08\x07not a model at all \xff\xff\xff".to_vec(),
            "BAD_WEIGHTS",
            "not readable protobuf",
        ),
        (
            "truncated",
            TINY[..TINY.len() / 2].to_vec(),
            "BAD_WEIGHTS",
            "the ONNX file",
        ),
        (
            "protobuf that is not a model",
            {
                let mut t = onnx_ir::TensorProto::new();
                t.dims = vec![3];
                t.write_to_bytes().unwrap()
            },
            "BAD_WEIGHTS",
            "not an ONNX model",
        ),
        (
            "a cycle",
            changed(|m| {
                let g = m.graph.mut_or_insert_default();
                g.node[0].input[0] = "r1".into();
            }),
            "BAD_WEIGHTS",
            "\"r1\"",
        ),
        (
            "a dangling input",
            changed(|m| {
                m.graph.mut_or_insert_default().node[2].input[0] = "nowhere".into();
            }),
            "BAD_WEIGHTS",
            "\"nowhere\"",
        ),
        (
            "a missing initializer",
            changed(|m| {
                m.graph
                    .mut_or_insert_default()
                    .initializer
                    .retain(|t| t.name != "bn1.var");
            }),
            "BAD_WEIGHTS",
            "\"bn1.var\"",
        ),
        (
            "bytes that do not fit the shape",
            changed(|m| {
                let t = m
                    .graph
                    .mut_or_insert_default()
                    .initializer
                    .iter_mut()
                    .find(|t| t.name == "fc.w")
                    .unwrap();
                let raw = if t.raw_data.is_empty() {
                    t.float_data
                        .iter()
                        .flat_map(|f| f.to_le_bytes())
                        .collect::<Vec<u8>>()
                } else {
                    t.raw_data.to_vec()
                };
                t.float_data.clear();
                t.raw_data = raw[..raw.len() - 4].to_vec().into();
            }),
            "BAD_WEIGHTS",
            "fc.w",
        ),
        (
            "external data",
            include_bytes!("../fixtures/external-data.onnx").to_vec(),
            "UNSUPPORTED",
            "\"fc.w\" (index 9) keeps its data in an external file",
        ),
        (
            "dimensions over the limits",
            changed(|m| {
                let t = m
                    .graph
                    .mut_or_insert_default()
                    .initializer
                    .iter_mut()
                    .find(|t| t.name == "fc.w")
                    .unwrap();
                t.dims = vec![1 << 20, 1 << 20];
            }),
            "BAD_WEIGHTS",
            "elements",
        ),
        (
            "a 0-size dimension",
            changed(|m| {
                let t = m
                    .graph
                    .mut_or_insert_default()
                    .initializer
                    .iter_mut()
                    .find(|t| t.name == "fc.w")
                    .unwrap();
                t.dims = vec![0, 8];
            }),
            "UNSUPPORTED",
            "0-size",
        ),
        (
            "a negative dimension",
            changed(|m| {
                let t = m
                    .graph
                    .mut_or_insert_default()
                    .initializer
                    .iter_mut()
                    .find(|t| t.name == "fc.w")
                    .unwrap();
                t.dims = vec![-3, 8];
            }),
            "BAD_WEIGHTS",
            "-3",
        ),
        (
            "an opset newer than supported",
            changed(|m| {
                m.opset_import[0].version = 99;
            }),
            "UNSUPPORTED",
            "opset 99",
        ),
        (
            "a node of another operator set (declaring one is fine: tf2onnx declares ai.onnx.ml)",
            changed(|m| {
                let mut ml = m.opset_import[0].clone();
                ml.domain = "ai.onnx.ml".into();
                ml.version = 3;
                m.opset_import.push(ml);
                m.graph.mut_or_insert_default().node[2].domain = "ai.onnx.ml".into();
            }),
            "UNSUPPORTED",
            "operator domain \"ai.onnx.ml\"",
        ),
        (
            "an unsupported operator",
            changed(|m| {
                m.graph.mut_or_insert_default().node[2].op_type = "Selu".into();
            }),
            "UNSUPPORTED",
            "Selu node \"relu1\" (index 2)",
        ),
        (
            "an unsupported attribute",
            changed(|m| {
                let mut a = onnx_ir::AttributeProto::new();
                a.name = "wobble".into();
                a.i = 1;
                m.graph.mut_or_insert_default().node[0].attribute.push(a);
            }),
            "UNSUPPORTED",
            "attribute \"wobble\"",
        ),
    ];
    for (what, bytes, code, named) in cases {
        let err = refused(&bytes);
        assert_eq!(err.code(), code, "{what}: {err}");
        assert!(
            err.to_string().contains(named),
            "{what}: {err} does not name {named:?}"
        );
    }
    // After all that, the same device loads the good file.
    assert!(import(TINY, &Device::flex(), true).is_ok());
}

#[test]
fn an_onnx_file_is_recognised_by_its_content() {
    assert!(convlens::onnx::looks_like_onnx(TINY));
    let device = Device::flex();
    let file = block_on(tiny(&device).export_model()).unwrap();
    assert!(
        !convlens::onnx::looks_like_onnx(&file),
        "a model file is not ONNX"
    );
}

#[test]
fn the_head_alone_on_the_features_gives_the_whole_networks_logits() {
    // What training the head alone runs: the features up to the head, then the head and the
    // nodes after it on those features only (the constants they read worked out again).
    use burn::prelude::{Tensor, TensorData};
    use convlens::model::{ImageClassifier, Recorder};
    let device = Device::flex();
    let graph = import(TINY, &device, true).unwrap().graph;
    let e = expected();
    let x = Tensor::<4>::from_data(TensorData::new(e.input.clone(), e.shape), &device);
    let whole = graph
        .logits(x.clone())
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let features = graph.features_recorded(x, &mut Recorder::off());
    let parts = graph
        .classify_features(features)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(whole.len(), e.shape[0] * 3);
    for (a, b) in whole.iter().zip(&parts) {
        assert!((a - b).abs() < 1e-5, "{whole:?} vs {parts:?}");
    }
}
