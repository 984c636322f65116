//! Numbers that cross to JS as typed arrays: `#[serde(serialize_with = "crate::typed::f32s")]` on
//! a `Vec<f32>` gives a `Float32Array` (and [`u32s`] a `Uint32Array`) through the wasm facade's
//! serialiser, with `#[tsify(type = "Float32Array")]` for the generated type. Natively (JSON,
//! the CLI) the values serialise as a plain list. Depends on nothing else of the crate.

use serde::Serializer;

/// `values` as a `Float32Array` in the wasm build, a list of numbers elsewhere.
///
/// # Errors
/// The serialiser's, e.g. one other than the facade's in the wasm build.
pub fn f32s<S: Serializer>(values: &[f32], serializer: S) -> Result<S::Ok, S::Error> {
    #[cfg(target_arch = "wasm32")]
    {
        serde_wasm_bindgen::preserve::serialize(&js_sys::Float32Array::from(values), serializer)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        serializer.collect_seq(values)
    }
}

/// `values` as a `Uint32Array` in the wasm build, a list of numbers elsewhere.
///
/// # Errors
/// The serialiser's, e.g. one other than the facade's in the wasm build.
pub fn u32s<S: Serializer>(values: &[u32], serializer: S) -> Result<S::Ok, S::Error> {
    #[cfg(target_arch = "wasm32")]
    {
        serde_wasm_bindgen::preserve::serialize(&js_sys::Uint32Array::from(values), serializer)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        serializer.collect_seq(values)
    }
}
