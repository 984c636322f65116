//! Property tests of the parsers that read what callers pass (issue 11): any shape and any
//! values given to the image fitting, and any bytes given to the IDX reader, give a result or a
//! `BadInput` error — never a panic, never an allocation sized by a bogus header — and a result
//! has exactly the size it promises. proptest runs a fixed number of cases from a fixed seed
//! (`PROPTEST_CASES`, `PROPTEST_RNG_SEED` to explore others). Native only (proptest is a native
//! dev-dependency).
#![cfg(not(target_arch = "wasm32"))]

use convlens::Error;
use convlens::data::{fit_images, parse_idx};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let seed: u64 = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261129);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// A dimension: mostly small, sometimes 0, at or past a limit, or absurd.
fn dimension() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => 1usize..40,
        1 => Just(0usize),
        1 => prop::sample::select(vec![1024usize, 1025, 8192, 8193, 1 << 31, 1 << 32, usize::MAX / 2, usize::MAX]),
    ]
}

/// A pixel: mostly in [0, 1], sometimes out of range or not finite.
fn pixel() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => 0f32..=1.0,
        1 => prop::sample::select(vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -1.0, 2.0, f32::MAX]),
    ]
}

#[test]
fn fitting_any_shape_and_values_gives_the_promised_size_or_bad_input() {
    let strategy = (
        [dimension(), dimension(), dimension(), dimension()],
        prop::collection::vec(pixel(), 0..5000),
        (
            prop::sample::select(vec![1usize, 3]),
            1usize..48,
            1usize..48,
        ),
        any::<bool>(),
    );
    runner()
        .run(&strategy, |(from, mut pixels, (c, h, w), exact)| {
            // Half the time, as many values as the shape needs (when that is small enough).
            let needed = from
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .filter(|&n| n <= 20_000);
            if let (true, Some(n)) = (exact, needed) {
                pixels.resize(n, 0.5);
            }
            match fit_images(&pixels, from, [c, h, w]) {
                Ok(out) => {
                    prop_assert_eq!(out.len(), from[0] * c * h * w);
                    prop_assert!(out.iter().all(|v| v.is_finite()));
                }
                Err(Error::BadInput(message)) => prop_assert!(!message.is_empty()),
                Err(other) => prop_assert!(false, "not BadInput: {other:?}"),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_bytes_read_as_idx_give_the_promised_size_or_bad_input() {
    // Mostly a plausible header (magic, u8, a rank, dimensions) followed by some bytes.
    let header = (
        0u8..5,
        prop::collection::vec(prop_oneof![4 => 0u32..64, 1 => any::<u32>()], 0..5),
    );
    let strategy = prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..64),
        3 => (header, prop::collection::vec(any::<u8>(), 0..4096), any::<u8>()).prop_map(|((rank, dims), data, kind)| {
            let mut bytes = vec![0, 0, if kind < 230 { 0x08 } else { kind }, rank];
            for d in dims.iter().take(usize::from(rank)) {
                bytes.extend(d.to_be_bytes());
            }
            bytes.extend(data);
            bytes
        }),
    ];
    runner()
        .run(&strategy, |bytes| {
            match parse_idx(&bytes) {
                Ok(idx) => {
                    prop_assert_eq!(idx.data.len(), idx.dims.iter().product::<usize>());
                    prop_assert!(idx.data.len() <= bytes.len());
                }
                Err(Error::BadInput(message)) => prop_assert!(!message.is_empty()),
                Err(other) => prop_assert!(false, "not BadInput: {other:?}"),
            }
            Ok(())
        })
        .unwrap();
}

/// Mutations of real ONNX files — bytes flipped, runs overwritten, the file cut short or
/// grown — and the mutated graph, when it still loads, run on an image: a network or a typed
/// error, never a panic. The files: the small CNN the API tests use and the graph of
/// SqueezeNet 1.1 as torch.onnx wrote it (its weights left out).
#[test]
fn mutated_onnx_files_load_or_give_a_typed_error_and_never_panic() {
    use burn::prelude::{Device, Tensor};
    let files: [&[u8]; 2] = [
        include_bytes!("fixtures/tiny-cnn.onnx"),
        include_bytes!("fixtures/networks/squeezenet1_1.graph.onnx"),
    ];
    let strategy = (
        0usize..2,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 1usize..4), 1..8),
        prop::option::of(any::<prop::sample::Index>()),
    );
    let device = Device::flex();
    let mut cases = runner();
    cases
        .run(&strategy, |(which, edits, cut)| {
            let mut bytes = files[which].to_vec();
            for (at, value, run) in edits {
                let i = at.index(bytes.len());
                for b in bytes.iter_mut().skip(i).take(run) {
                    *b = value;
                }
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            match convlens::onnx::import(&bytes, &device, false) {
                Ok(imported) => {
                    let spec = imported.graph.plan().spec();
                    let mut shape = vec![1];
                    shape.extend(&spec.input_shape);
                    if shape.iter().product::<usize>() <= 1 << 16 {
                        let x = Tensor::<6>::zeros(
                            {
                                let mut d = [1; 6];
                                d[6 - shape.len()..].copy_from_slice(&shape);
                                d
                            },
                            &device,
                        );
                        let _ = imported.graph.run(x, shape);
                    }
                }
                Err(Error::BadWeights(m) | Error::Unsupported(m) | Error::BadInput(m)) => {
                    prop_assert!(!m.is_empty())
                }
                Err(other) => prop_assert!(false, "unexpected error: {other:?}"),
            }
            Ok(())
        })
        .unwrap();
}

/// Structured mutations of the small CNN: an attribute's integers, an initializer's dimensions,
/// a node's inputs or its operator changed to odd values — the graph then loads and runs, or
/// gives a typed error; never a panic.
#[test]
fn onnx_graphs_with_odd_attributes_and_shapes_load_or_give_a_typed_error() {
    use burn::prelude::{Device, Tensor};
    use onnx_ir::{Message, ModelProto};
    let original = ModelProto::parse_from_bytes(include_bytes!("fixtures/tiny-cnn.onnx")).unwrap();
    let odd = prop::sample::select(vec![-3i64, -1, 0, 1, 2, 3, 7, 28, 1 << 20, i64::MAX]);
    let ops = prop::sample::select(convlens::onnx::OPERATORS.to_vec());
    let strategy = prop::collection::vec(
        (
            0usize..4,
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            odd,
            ops,
        ),
        1..4,
    );
    let device = Device::flex();
    let (loaded, refused) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    runner()
        .run(&strategy, |edits| {
            let mut m = original.clone();
            let g = m.graph.mut_or_insert_default();
            for (kind, a, b, value, op) in edits {
                match kind {
                    0 => {
                        let n = a.index(g.node.len());
                        let node = &mut g.node[n];
                        if !node.attribute.is_empty() {
                            let i = b.index(node.attribute.len());
                            let attr = &mut node.attribute[i];
                            attr.i = value;
                            for v in attr.ints.iter_mut() {
                                *v = value;
                            }
                        }
                    }
                    1 => {
                        let n = a.index(g.initializer.len());
                        let t = &mut g.initializer[n];
                        if !t.dims.is_empty() {
                            let i = b.index(t.dims.len());
                            t.dims[i] = value;
                        }
                    }
                    2 => {
                        let n = g.node.len();
                        let from = g.node[b.index(n)].output[0].clone();
                        let node = &mut g.node[a.index(n)];
                        let i = b.index(node.input.len().max(1));
                        if i < node.input.len() {
                            node.input[i] = from;
                        }
                    }
                    _ => {
                        let n = g.node.len();
                        g.node[a.index(n)].op_type = op.to_string();
                    }
                }
            }
            let bytes = m.write_to_bytes().unwrap();
            match convlens::onnx::import(&bytes, &device, false) {
                Ok(imported) => {
                    loaded.set(loaded.get() + 1);
                    let x = Tensor::<6>::zeros([1, 1, 2, 1, 28, 28], &device);
                    let _ = imported.graph.run(x, vec![2, 1, 28, 28]);
                }
                Err(Error::BadWeights(msg) | Error::Unsupported(msg) | Error::BadInput(msg)) => {
                    refused.set(refused.get() + 1);
                    prop_assert!(!msg.is_empty())
                }
                Err(other) => prop_assert!(false, "unexpected error: {other:?}"),
            }
            Ok(())
        })
        .unwrap();
    let (loaded, refused) = (loaded.get(), refused.get());
    println!("odd graphs: {loaded} loaded and ran, {refused} refused");
    assert!(loaded > 0 && refused > 0);
}
