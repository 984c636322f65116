//! What is written once in Rust and generated for the JS API: the limits and option ranges
//! (`src/limits.rs` → `js/limits.ts`) and the explanations' colour scale (`src/explain.rs` →
//! `js/colours.ts`). These tests fail when a generated file is stale;
//! `CONVLENS_BLESS=1 cargo test --test api generated` rewrites them.

use convlens::{explain, limits};

/// Compares `js/<name>` with `want`, or writes it when `CONVLENS_BLESS` is set.
fn generated(name: &str, want: &str) {
    let path = format!("{}/js/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("CONVLENS_BLESS").is_some() {
        std::fs::write(&path, want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "js/{name} is stale: run `CONVLENS_BLESS=1 cargo test --test api generated` and commit it"
    );
}

#[test]
fn js_limits_are_generated_from_the_rust_module() {
    generated("limits.ts", &limits::typescript());
}

#[test]
fn js_colours_are_generated_from_the_rust_scale() {
    generated("colours.ts", &explain::colours_typescript());
}

#[test]
fn the_heat_scale_runs_through_its_stops() {
    assert_eq!(explain::heat_colour(0.0), [0.0, 0.0, 0.0]);
    assert_eq!(explain::heat_colour(0.5), explain::HEAT_STOPS[2]);
    assert_eq!(explain::heat_colour(1.0), [1.0, 1.0, 1.0]);
    assert_eq!(explain::heat_colour(f32::NAN), [0.0, 0.0, 0.0]);
    assert_eq!(explain::heat_colour(7.0), [1.0, 1.0, 1.0]);
    let brightness = |t: f32| explain::heat_colour(t).iter().sum::<f32>();
    assert!((0..100).all(|i| brightness(i as f32 / 100.0) < brightness((i + 1) as f32 / 100.0)));
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
