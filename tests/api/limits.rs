//! The limits and option ranges are written once, in `src/limits.rs`; the JS API applies them
//! from `js/limits.ts`, which `convlens::limits::typescript()` writes. This test fails when that
//! file is stale; `CONVLENS_BLESS=1 cargo test --test api limits` rewrites it.

use convlens::limits;

const GENERATED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/js/limits.ts");

#[test]
fn js_limits_are_generated_from_the_rust_module() {
    let want = limits::typescript();
    if std::env::var_os("CONVLENS_BLESS").is_some() {
        std::fs::write(GENERATED, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(GENERATED).unwrap_or_default();
    assert!(
        have == want,
        "js/limits.ts is stale: run `CONVLENS_BLESS=1 cargo test --test api limits` and commit it"
    );
}

#[test]
fn the_generated_file_holds_every_limit_the_core_applies() {
    let ts = limits::typescript();
    for (name, value) in [
        ("MAX_BATCH", convlens::data::MAX_BATCH),
        ("MAX_SIDE", convlens::data::MAX_SIDE),
        ("MAX_WEIGHTS_BYTES", convlens::weights::MAX_WEIGHTS_BYTES),
        ("MIN_CLASSES", *convlens::session::CLASSES.start()),
        ("MAX_CLASSES", *convlens::session::CLASSES.end()),
    ] {
        assert!(
            ts.contains(&format!("export const {name} = {value};\n")),
            "{name}: {ts}"
        );
    }
    assert!(ts.contains(
        "export const SEED: Range = { min: 0, max: 9007199254740991, minOpen: false, maxOpen: false, whole: true };"
    ));
}

#[test]
fn ranges_accept_what_they_describe() {
    use limits::{LEARNING_RATE, SEED, STEPS};
    assert!(SEED.contains(9_007_199_254_740_991.0));
    assert!(!SEED.contains(9_007_199_254_740_992.0));
    assert!(!SEED.contains(-1.0) && !SEED.contains(0.5) && !SEED.contains(f64::NAN));
    assert!(
        !LEARNING_RATE.contains(0.0)
            && LEARNING_RATE.contains(1e-9)
            && !LEARNING_RATE.contains(10.0)
    );
    assert_eq!(
        STEPS.whole_number::<usize>("steps", Some(256.0)),
        Ok(Some(256))
    );
    let err = STEPS
        .whole_number::<usize>("steps", Some(257.0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad input: steps must be a whole number from 1 to 256, got 257"
    );
    let err = LEARNING_RATE.check("learningRate", Some(10.0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad input: learningRate must be a number above 0 and below 10, got 10"
    );
}
