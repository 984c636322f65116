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
