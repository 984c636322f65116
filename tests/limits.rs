//! The limits the wasm module applies are defined in Rust; the JS API repeats them in
//! `js/guard.ts` so that it can refuse a call before copying or posting anything. This test reads
//! that file and fails when a value there differs from the Rust definition.

use std::collections::HashMap;

/// `export const NAME = a * b * …;` lines of `js/guard.ts`, evaluated.
fn guard_constants() -> HashMap<String, usize> {
    let source = include_str!("../js/guard.ts");
    source
        .lines()
        .filter_map(|line| line.strip_prefix("export const "))
        .filter_map(|rest| {
            let (name, value) = rest.split_once(" = ")?;
            let value = value.strip_suffix(';')?;
            let product = value
                .split('*')
                .map(|factor| factor.trim().replace('_', "").parse::<usize>().ok())
                .product::<Option<usize>>()?;
            Some((name.to_string(), product))
        })
        .collect()
}

#[test]
fn the_js_guard_applies_the_limits_rust_defines() {
    let js = guard_constants();
    for (name, rust) in [
        ("MAX_BATCH", convlens::data::MAX_BATCH),
        ("MAX_SIDE", convlens::data::MAX_SIDE),
        ("MAX_WEIGHTS_BYTES", convlens::weights::MAX_WEIGHTS_BYTES),
        ("MIN_CLASSES", *convlens::session::CLASSES.start()),
        ("MAX_CLASSES", *convlens::session::CLASSES.end()),
    ] {
        assert_eq!(js.get(name), Some(&rust), "{name} in js/guard.ts: {js:?}");
    }
}
