//! The whole-network fixtures' weights and images, as scripts/onnx_networks.py makes them (bit for
//! bit): the committed graphs of tests/fixtures/networks filled from a counter-based generator,
//! so that onnxruntime's logits (NAME.expected.json, written by that script) can be committed and
//! the networks made here, natively and in the browser, with no Python.

use onnx_ir::{Message, ModelProto};

/// `n` values in [0, 1): splitmix64 of (stream, index), its top 24 bits over 2^24.
pub fn uniform(stream: u64, n: usize) -> Vec<f64> {
    (0..n as u64)
        .map(|i| {
            let mut z = stream
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(i.wrapping_mul(0xBF58_476D_1CE4_E5B9))
                .wrapping_add(0x94D0_49BB_1331_11EB);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 40) as f64 / (1u64 << 24) as f64
        })
        .collect()
}

/// The two images the expected logits are of: `n` values of stream 0, as f32.
pub fn images(n: usize) -> Vec<f32> {
    uniform(0, n).into_iter().map(|v| v as f32).collect()
}

/// The graph `graph` (an ONNX file whose float initializers have no values) with its weights.
pub fn filled(graph: &[u8]) -> Vec<u8> {
    let mut model = ModelProto::parse_from_bytes(graph).expect("an ONNX graph");
    let g = model.graph.mut_or_insert_default();
    // Which node reads each value first, and as which input.
    let mut role: std::collections::HashMap<String, (String, usize, usize)> = Default::default();
    for (n, node) in g.node.iter().enumerate() {
        for (k, name) in node.input.iter().enumerate() {
            role.entry(name.clone())
                .or_insert((node.op_type.clone(), k, n));
        }
    }
    let nodes = g.node.clone();
    for (index, t) in g.initializer.iter_mut().enumerate() {
        if t.data_type != 1 {
            continue;
        }
        let dims: Vec<usize> = t.dims.iter().map(|&d| d as usize).collect();
        let n: usize = dims.iter().product();
        let mut r = role.get(&t.name).cloned();
        if let Some((op, _, node)) = &r
            && op == "Identity"
        {
            r = role.get(&nodes[*node].output[0]).cloned();
        }
        let u = uniform(index as u64 + 1, n);
        let values: Vec<f32> = match r {
            Some((op, 1, _)) if op == "Conv" => {
                let bound = (6.0 / dims[1..].iter().product::<usize>() as f64).sqrt();
                u.iter().map(|u| ((2.0 * u - 1.0) * bound) as f32).collect()
            }
            Some((op, 1, node)) if op == "Gemm" => {
                let trans_b = nodes[node]
                    .attribute
                    .iter()
                    .any(|a| a.name == "transB" && a.i != 0);
                let fan_in = if trans_b { dims[1] } else { dims[0] };
                let bound = (3.0 / fan_in as f64).sqrt();
                u.iter().map(|u| ((2.0 * u - 1.0) * bound) as f32).collect()
            }
            // tf2onnx's dense layers: [in, out].
            Some((op, 1, _)) if op == "MatMul" => {
                let bound = (3.0 / dims[0] as f64).sqrt();
                u.iter().map(|u| ((2.0 * u - 1.0) * bound) as f32).collect()
            }
            // Scales (tf2onnx's batch norms are a Mul).
            Some((op, 1 | 4, _)) if op == "BatchNormalization" || op == "Mul" => {
                u.iter().map(|u| (0.5 + u) as f32).collect()
            }
            _ => u.iter().map(|u| ((2.0 * u - 1.0) * 0.1) as f32).collect(),
        };
        t.float_data.clear();
        t.raw_data = values
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>()
            .into();
    }
    model.write_to_bytes().expect("serialisable")
}

/// What onnxruntime gave (scripts/onnx_networks.py --expected).
#[derive(serde::Deserialize)]
pub struct Expected {
    /// `[2, c, h, w]`.
    pub shape: Vec<usize>,
    /// Both images' logits.
    pub logits: Vec<f32>,
}
