//! ONNX's own backend node tests (what `onnx/backend/test/data/node/*` holds in ONNX's sources,
//! written by the installed `onnx` package's generators: scripts/onnx_node_tests.py) for every operator convlens reads: each case's model is loaded
//! with its first input as the network's input and the others as initializers (convlens reads
//! weights, axes and shapes from the file), run on the CPU backend, and compared with the
//! expected outputs the case ships.
//!
//! A case passes, or is refused with `UNSUPPORTED` naming what it needs (an attribute value, a
//! data type, a computed weight); wrong values, panics and any other error fail the test. The
//! counts are printed (`cargo test --test api onnx_nodes:: -- --nocapture`).

use std::path::{Path, PathBuf};

use burn::prelude::{Device, Tensor};
use burn::tensor::TensorData;
use convlens::Error;
use convlens::model::graph::pad6;
use convlens::onnx::{OPERATORS, import};
use onnx_ir::{Message, ModelProto, TensorProto};

/// The node tests, written by scripts/onnx_node_tests.py from the installed `onnx` package's
/// generators (`CONVLENS_ONNX_NODE_TESTS` names a folder already written).
fn node_tests() -> PathBuf {
    if let Ok(dir) = std::env::var("CONVLENS_ONNX_NODE_TESTS") {
        return PathBuf::from(dir).join("node");
    }
    let out = std::env::temp_dir().join(format!("convlens-onnx-node-tests-{}", std::process::id()));
    let status = std::process::Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/onnx_node_tests.py"
        ))
        .arg(&out)
        .args(OPERATORS)
        .status()
        .expect("python from scripts/setup.sh's venv runs");
    assert!(
        status.success(),
        "writing the ONNX node tests failed (is the onnx package installed? pip install -r scripts/requirements.txt)"
    );
    out.join("node")
}

fn read_tensor(path: &Path) -> TensorProto {
    TensorProto::parse_from_bytes(&std::fs::read(path).expect("readable")).expect("a TensorProto")
}

/// A tensor's floats (float, double or int64 cases; others are `None`).
fn floats(t: &TensorProto) -> Option<Vec<f32>> {
    let raw = &t.raw_data;
    match t.data_type {
        1 if !raw.is_empty() => Some(
            raw.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        1 => Some(t.float_data.clone()),
        7 if !raw.is_empty() => Some(
            raw.chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f32)
                .collect(),
        ),
        7 => Some(t.int64_data.iter().map(|&v| v as f32).collect()),
        _ => None,
    }
}

enum Outcome {
    Pass,
    Refused(String),
    Fail(String),
}

fn run_case(dir: &Path, device: &Device) -> Outcome {
    let mut model =
        ModelProto::parse_from_bytes(&std::fs::read(dir.join("model.onnx")).unwrap()).unwrap();
    let data = dir.join("test_data_set_0");
    let mut inputs: Vec<TensorProto> = Vec::new();
    let mut outputs: Vec<TensorProto> = Vec::new();
    for k in 0.. {
        let p = data.join(format!("input_{k}.pb"));
        if !p.exists() {
            break;
        }
        inputs.push(read_tensor(&p));
    }
    for k in 0.. {
        let p = data.join(format!("output_{k}.pb"));
        if !p.exists() {
            break;
        }
        outputs.push(read_tensor(&p));
    }
    if inputs.is_empty() || outputs.is_empty() {
        return Outcome::Refused("a case without inputs or outputs".into());
    }
    // Inputs after the first become initializers, under the names the graph gives them.
    let graph = model.graph.mut_or_insert_default();
    let names: Vec<String> = graph.input.iter().map(|i| i.name.clone()).collect();
    for (k, t) in inputs.iter().enumerate().skip(1) {
        let mut t = t.clone();
        t.name = names[k].clone();
        graph.initializer.push(t);
    }
    let Some(x) = floats(&inputs[0]).filter(|_| inputs[0].data_type == 1) else {
        return Outcome::Refused(format!("input of ONNX type {}", inputs[0].data_type));
    };
    let shape: Vec<usize> = inputs[0].dims.iter().map(|&d| d as usize).collect();
    if shape.is_empty() {
        return Outcome::Refused("a scalar input (a batch first is needed)".into());
    }
    let all_outputs = graph.output.clone();
    for (k, expected) in outputs.iter().enumerate() {
        let graph = model.graph.mut_or_insert_default();
        graph.output = vec![all_outputs[k].clone()];
        let bytes = model.write_to_bytes().unwrap();
        let imported = match import(&bytes, device, false) {
            Ok(i) => i,
            Err(Error::Unsupported(m)) => return Outcome::Refused(m),
            Err(e) => return Outcome::Fail(format!("load: {e}")),
        };
        let t = Tensor::<6>::from_data(TensorData::new(x.clone(), pad6(&shape)), device);
        let (out, out_shape) = match imported.graph.run(t, shape.clone()) {
            Ok(o) => o,
            Err(e) => return Outcome::Fail(format!("run: {e}")),
        };
        let want_shape: Vec<usize> = expected.dims.iter().map(|&d| d as usize).collect();
        if out_shape != want_shape && !(want_shape.is_empty() && out_shape == [1]) {
            return Outcome::Fail(format!(
                "output {k}: shape {out_shape:?}, expected {want_shape:?}"
            ));
        }
        let Some(want) = floats(expected) else {
            return Outcome::Refused(format!("output of ONNX type {}", expected.data_type));
        };
        let got: Vec<f32> = out
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let ok = (g - w).abs() <= 1e-4 + 1e-3 * w.abs() || (g.is_nan() && w.is_nan()) || g == w;
            if !ok {
                return Outcome::Fail(format!("output {k}[{i}] = {g}, expected {w}"));
            }
        }
    }
    Outcome::Pass
}

#[test]
fn every_supported_operator_passes_onnx_node_tests() {
    let root = node_tests();
    let device = Device::flex();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    let (mut passed, mut refused, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for dir in cases {
        let Ok(bytes) = std::fs::read(dir.join("model.onnx")) else {
            continue;
        };
        let Ok(model) = ModelProto::parse_from_bytes(&bytes) else {
            continue;
        };
        // Cases of one node of a supported operator.
        let [node] = model.graph.node.as_slice() else {
            continue;
        };
        if !OPERATORS.contains(&node.op_type.as_str()) || !node.domain.is_empty() {
            continue;
        }
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let outcome = std::panic::catch_unwind(|| run_case(&dir, &device))
            .unwrap_or_else(|_| Outcome::Fail("panicked".into()));
        match outcome {
            Outcome::Pass => passed.push(case),
            Outcome::Refused(why) => refused.push(format!("{case}: {why}")),
            Outcome::Fail(why) => failed.push(format!("{case}: {why}")),
        }
    }
    println!(
        "ONNX node tests of the supported operators: {} passed, {} refused as unsupported, {} failed",
        passed.len(),
        refused.len(),
        failed.len()
    );
    for r in &refused {
        println!("  refused {r}");
    }
    for f in &failed {
        println!("  FAILED {f}");
    }
    assert!(passed.len() > 100, "only {} cases passed", passed.len());
    assert!(
        failed.is_empty(),
        "{} cases failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// The venv scripts/setup.sh makes (numpy, onnx, onnxruntime).
fn python() -> PathBuf {
    let cache = std::env::var_os("CONVLENS_CACHE").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/convlens"),
        PathBuf::from,
    );
    cache.join("venv/bin/python")
}
