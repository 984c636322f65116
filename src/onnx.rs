//! ONNX files in: the protobuf read by `onnx-ir`'s bindings, each node turned into a
//! [`crate::model::graph`] node with ONNX's semantics, its tensors into burn-nn layers. Whatever the file
//! holds that convlens does not run is [`Error::Unsupported`], naming the operator, the node and
//! its index; nothing is half-loaded.

use std::collections::{HashMap, HashSet};

use burn::module::{Param, RunningState};
use burn::nn::conv::Conv2dConfig;
use burn::nn::{BatchNormConfig, LinearConfig};
use burn::prelude::{Device, Tensor};
use burn::tensor::TensorData;
use onnx_ir::{AttributeProto, Message, ModelProto, NodeProto, TensorProto};

use crate::error::{Error, Result};
use crate::model::graph::{Graph, GraphSpec, Layer, Meta, NodeSpec, Op, PadKind, ResizeKind, pad6};

/// The newest default-domain opset convlens reads (that of the `onnx` package whose node tests
/// it passes).
pub const MAX_OPSET: i64 = 28;
/// The oldest.
pub const MIN_OPSET: i64 = 7;
/// The largest kernel, stride, dilation or pad read.
const MAX_WINDOW: i64 = 1 << 16;
/// The largest ONNX file read (1 GiB).
pub const MAX_ONNX_BYTES: usize = 1 << 30;

/// Every operator convlens reads, for the docs and messages.
pub const OPERATORS: &[&str] = &[
    "Add",
    "AveragePool",
    "BatchNormalization",
    "Cast",
    "Clip",
    "Concat",
    "Constant",
    "Conv",
    "Div",
    "Dropout",
    "Erf",
    "Flatten",
    "Gather",
    "Gelu",
    "Gemm",
    "GlobalAveragePool",
    "HardSigmoid",
    "HardSwish",
    "Identity",
    "LeakyRelu",
    "MatMul",
    "MaxPool",
    "Mul",
    "PRelu",
    "Pad",
    "Pow",
    "ReduceMean",
    "Relu",
    "Reshape",
    "Resize",
    "Shape",
    "Sigmoid",
    "Slice",
    "Softmax",
    "Split",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Tanh",
    "Transpose",
    "Unsqueeze",
];

/// Whether `bytes` look like an ONNX model (a protobuf `ModelProto` starting with its
/// `ir_version`), not a convlens model file.
pub fn looks_like_onnx(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x08) && bytes.get(1).is_some_and(|&v| (1..=20).contains(&v))
}

/// What an ONNX file holds besides the graph.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnnxInfo {
    /// Class labels from `metadata_props` (`labels`: a JSON array, or one per line).
    pub labels: Option<Vec<String>>,
    /// The default domain's opset.
    pub opset: i64,
    /// Who wrote the file, e.g. `"pytorch 2.15"`.
    pub producer: String,
    /// Whether a final Softmax was dropped (convlens's networks give scores before softmax).
    pub softmax_dropped: bool,
}

/// A network read from an ONNX file.
#[derive(Debug)]
pub struct Imported {
    /// The network.
    pub graph: Graph,
    /// What else the file says.
    pub info: OnnxInfo,
}

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::BadWeights(format!("the ONNX file {msg}"))
}

/// Reads an ONNX file onto `device`. With `classifier`, a final Softmax is dropped and the graph
/// must be an image classifier ([`Graph::check_classifier`]).
///
/// # Errors
/// [`Error::BadWeights`] for bytes that are not an ONNX model, a graph that does not hold
/// together (a dangling input, a cycle, a missing initializer, a tensor whose bytes do not fit
/// its shape, shapes that do not fit) or is over the limits; [`Error::Unsupported`] for an
/// operator, attribute, data type, external data or opset convlens does not read.
pub fn import(bytes: &[u8], device: &Device, classifier: bool) -> Result<Imported> {
    if bytes.len() > MAX_ONNX_BYTES {
        return Err(bad(format!(
            "is {} bytes; the limit is {MAX_ONNX_BYTES}",
            bytes.len()
        )));
    }
    let model = ModelProto::parse_from_bytes(bytes)
        .map_err(|e| bad(format!("is not readable protobuf: {e}")))?;
    if model.ir_version <= 0 || !model.graph.is_some() || model.graph.node.is_empty() {
        return Err(bad(
            "is protobuf but not an ONNX model (no IR version, or no graph nodes)",
        ));
    }
    // Other operator sets may be declared (tf2onnx declares ai.onnx.ml): a node of one is
    // refused by name when it is read.
    let opset = model
        .opset_import
        .iter()
        .filter(|o| matches!(o.domain.as_str(), "" | "ai.onnx"))
        .map(|o| o.version)
        .last();
    let opset = opset.ok_or_else(|| bad("declares no opset for ONNX's default operators"))?;
    if !(MIN_OPSET..=MAX_OPSET).contains(&opset) {
        return Err(Error::Unsupported(format!(
            "opset {opset}: convlens reads opsets {MIN_OPSET} to {MAX_OPSET}"
        )));
    }
    let labels = model
        .metadata_props
        .iter()
        .find(|p| p.key == "labels" || p.key == "convlens.labels")
        .map(|p| parse_labels(&p.value));
    let mut b = Builder::new(device, opset);
    let (spec, layers) = b.graph(&model)?;
    let mut spec = spec;
    let mut softmax_dropped = false;
    if classifier
        && let Some(last) = spec.nodes.last()
        && matches!(last.op, Op::Softmax { .. })
        && last.outputs.first() == Some(&spec.output)
        && let Some(Some(input)) = last.inputs.first()
    {
        spec.output = input.clone();
        spec.nodes.pop();
        softmax_dropped = true;
    }
    let graph = Graph::new(spec, layers).map_err(|e| match e {
        Error::BadInput(m) => bad(format!("does not hold together: {m}")),
        e => e,
    })?;
    if classifier {
        graph.check_classifier()?;
    }
    Ok(Imported {
        graph,
        info: OnnxInfo {
            labels,
            opset,
            producer: format!("{} {}", model.producer_name, model.producer_version)
                .trim()
                .to_string(),
            softmax_dropped,
        },
    })
}

fn parse_labels(value: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(value).unwrap_or_else(|_| {
        value
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    })
}

/// A value known when the file is read.
#[derive(Debug, Clone)]
enum Known {
    F(Vec<f32>, Vec<usize>),
    I(Vec<i64>, Vec<usize>),
}

/// Reads a tensor's values.
fn tensor_values(t: &TensorProto, what: &str) -> Result<Known> {
    if t.data_location.value() == 1 || !t.external_data.is_empty() {
        return Err(Error::Unsupported(format!(
            "{what} keeps its data in an external file; save the model with its weights inside \
             (onnx.save(model, path, save_as_external_data=False))"
        )));
    }
    let mut shape = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        if d < 0 {
            return Err(bad(format!(
                "{what} has a dimension of {d} (shape {:?})",
                t.dims
            )));
        }
        shape.push(d as usize);
    }
    let integers = matches!(t.data_type, 6 | 7);
    if shape.contains(&0) && !(integers && shape.len() == 1) {
        return Err(Error::Unsupported(format!(
            "{what} has a 0-size dimension (shape {:?}); convlens holds no empty tensors",
            t.dims
        )));
    }
    if shape.len() > crate::model::graph::MAX_RANK {
        return Err(bad(format!(
            "{what} has {} dimensions; at most {}",
            shape.len(),
            crate::model::graph::MAX_RANK
        )));
    }
    let mut n: usize = 1;
    for &d in &shape {
        n = n
            .checked_mul(d)
            .filter(|&n| n <= crate::model::graph::MAX_ELEMENTS)
            .ok_or_else(|| {
                bad(format!(
                    "{what} of shape {shape:?} is over {} elements",
                    crate::model::graph::MAX_ELEMENTS
                ))
            })?;
    }
    let raw = &t.raw_data;
    let fits = |size: usize, listed: usize| -> Result<bool> {
        if !raw.is_empty() {
            if raw.len() != n * size {
                return Err(bad(format!(
                    "{what}: {} bytes for shape {shape:?} of {size}-byte values (expected {})",
                    raw.len(),
                    n * size
                )));
            }
            return Ok(true);
        }
        if listed != n {
            return Err(bad(format!(
                "{what}: {listed} values for shape {shape:?} (expected {n})"
            )));
        }
        Ok(false)
    };
    let chunks = |size: usize| raw.chunks_exact(size);
    Ok(match t.data_type {
        1 => Known::F(
            if fits(4, t.float_data.len())? {
                chunks(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            } else {
                t.float_data.clone()
            },
            shape,
        ),
        11 => Known::F(
            if fits(8, t.double_data.len())? {
                chunks(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32)
                    .collect()
            } else {
                t.double_data.iter().map(|&v| v as f32).collect()
            },
            shape,
        ),
        10 => Known::F(
            if fits(2, t.int32_data.len())? {
                chunks(2)
                    .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                    .collect()
            } else {
                t.int32_data
                    .iter()
                    .map(|&v| half::f16::from_bits(v as u16).to_f32())
                    .collect()
            },
            shape,
        ),
        7 => Known::I(
            if fits(8, t.int64_data.len())? {
                chunks(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                    .collect()
            } else {
                t.int64_data.clone()
            },
            shape,
        ),
        6 => Known::I(
            if fits(4, t.int32_data.len())? {
                chunks(4)
                    .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                    .collect()
            } else {
                t.int32_data.iter().map(|&v| i64::from(v)).collect()
            },
            shape,
        ),
        other => {
            return Err(Error::Unsupported(format!(
                "{what} holds values of ONNX type {other} (float, float16, double, int32 and int64 are read)"
            )));
        }
    })
}

/// One node's attributes, each marked when read, so that any left unread is refused by name.
struct Attrs<'a> {
    all: HashMap<&'a str, &'a AttributeProto>,
    read: HashSet<&'a str>,
}

impl<'a> Attrs<'a> {
    fn new(node: &'a NodeProto) -> Self {
        Self {
            all: node
                .attribute
                .iter()
                .map(|a| (a.name.as_str(), a))
                .collect(),
            read: HashSet::new(),
        }
    }
    fn get(&mut self, name: &'a str) -> Option<&'a AttributeProto> {
        let a = self.all.get(name).copied();
        if a.is_some() {
            self.read.insert(name);
        }
        a
    }
    fn int(&mut self, name: &'a str, default: i64) -> i64 {
        self.get(name).map_or(default, |a| a.i)
    }
    fn float(&mut self, name: &'a str, default: f32) -> f32 {
        self.get(name).map_or(default, |a| a.f)
    }
    fn ints(&mut self, name: &'a str) -> Option<Vec<i64>> {
        self.get(name).map(|a| a.ints.clone())
    }
    fn string(&mut self, name: &'a str, default: &str) -> String {
        self.get(name).map_or(default.to_string(), |a| {
            String::from_utf8_lossy(&a.s).into_owned()
        })
    }
    /// Marks attributes that do not change what convlens computes.
    fn ignore(&mut self, names: &[&'a str]) {
        for n in names {
            self.get(n);
        }
    }
    fn unread(&self) -> Option<&'a str> {
        let mut left: Vec<&&str> = self
            .all
            .keys()
            .filter(|k| !self.read.contains(**k))
            .collect();
        left.sort();
        left.first().map(|s| **s)
    }
}

struct Builder<'d> {
    device: &'d Device,
    opset: i64,
    known: HashMap<String, Known>,
    /// Values the graph computes, with what they are for a batch of 1.
    metas: HashMap<String, Meta>,
    /// Known float values already emitted as Const nodes.
    emitted: HashSet<String>,
    nodes: Vec<NodeSpec>,
    layers: Vec<Layer>,
}

/// The error for ONNX node `index`.
fn unsupported(node: &NodeProto, index: usize, msg: impl std::fmt::Display) -> Error {
    Error::Unsupported(format!(
        "{} node {:?} (index {index}): {msg}",
        node.op_type, node.name
    ))
}

fn node_bad(node: &NodeProto, index: usize, msg: impl std::fmt::Display) -> Error {
    bad(format!(
        "{} node {:?} (index {index}): {msg}",
        node.op_type, node.name
    ))
}

impl<'d> Builder<'d> {
    fn new(device: &'d Device, opset: i64) -> Self {
        Self {
            device,
            opset,
            known: HashMap::new(),
            metas: HashMap::new(),
            emitted: HashSet::new(),
            nodes: Vec::new(),
            layers: Vec::new(),
        }
    }

    fn graph(&mut self, model: &ModelProto) -> Result<(GraphSpec, Vec<Layer>)> {
        let g = &model.graph;
        for (i, t) in g.initializer.iter().enumerate() {
            let what = format!("initializer {:?} (index {i})", t.name);
            let v = tensor_values(t, &what)?;
            self.known.insert(t.name.clone(), v);
        }
        if !g.sparse_initializer.is_empty() {
            return Err(Error::Unsupported("sparse initializers".into()));
        }
        let inputs: Vec<_> = g
            .input
            .iter()
            .filter(|i| !self.known.contains_key(&i.name))
            .collect();
        let [input] = inputs.as_slice() else {
            return Err(Error::Unsupported(format!(
                "{} graph inputs besides the initializers ({}); convlens reads networks of one input",
                inputs.len(),
                inputs
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let tt = input.type_.tensor_type();
        if tt.elem_type != 1 {
            return Err(Error::Unsupported(format!(
                "input {:?} of ONNX type {} (float inputs are read)",
                input.name, tt.elem_type
            )));
        }
        let dims = &tt.shape.dim;
        if dims.is_empty() || dims.len() > crate::model::graph::MAX_RANK {
            return Err(bad(format!(
                "input {:?} has {} dimensions; 1 to {} are read (a batch first)",
                input.name,
                dims.len(),
                crate::model::graph::MAX_RANK
            )));
        }
        let mut input_shape = Vec::new();
        for (k, d) in dims.iter().enumerate().skip(1) {
            if d.has_dim_value() && d.dim_value() == 0 {
                return Err(Error::Unsupported(format!(
                    "input {:?}: dimension {k} is 0 (convlens holds no empty tensors)",
                    input.name
                )));
            }
            if !d.has_dim_value() || d.dim_value() < 0 {
                return Err(bad(format!(
                    "input {:?}: dimension {k} is {} (only the batch, dimension 0, may be unknown)",
                    input.name,
                    if d.has_dim_value() {
                        d.dim_value().to_string()
                    } else {
                        format!("{:?}", d.dim_param())
                    }
                )));
            }
            input_shape.push(d.dim_value() as usize);
        }
        let batch = dims[0]
            .has_dim_value()
            .then(|| dims[0].dim_value())
            .filter(|&b| b > 0)
            .map(|b| b as usize);
        if dims[0].has_dim_value() && dims[0].dim_value() < 0 {
            return Err(bad(format!(
                "input {:?}: the batch dimension is {}",
                input.name,
                dims[0].dim_value()
            )));
        }
        if dims[0].has_dim_value() && dims[0].dim_value() == 0 {
            return Err(Error::Unsupported(format!(
                "input {:?}: a batch of 0 (convlens holds no empty tensors)",
                input.name
            )));
        }
        let mut shape = vec![batch.unwrap_or(1)];
        shape.extend(&input_shape);
        self.metas.insert(input.name.clone(), Meta::F(shape));
        for (i, node) in g.node.iter().enumerate() {
            self.node(node, i)?;
        }
        let output = g
            .output
            .first()
            .ok_or_else(|| bad("declares no output"))?
            .name
            .clone();
        if !self.metas.contains_key(&output) {
            // An output that is a constant, or that no node writes.
            return Err(bad(format!(
                "output {output:?} is not computed by any node"
            )));
        }
        Ok((
            GraphSpec {
                input: input.name.clone(),
                input_shape,
                batch,
                nodes: std::mem::take(&mut self.nodes),
                output,
            },
            std::mem::take(&mut self.layers),
        ))
    }

    fn add_layer(&mut self, layer: Layer) -> usize {
        self.layers.push(layer);
        self.layers.len() - 1
    }

    /// Adds a node, working out what it gives.
    fn push(
        &mut self,
        name: String,
        op: Op,
        inputs: Vec<Option<String>>,
        outputs: Vec<String>,
    ) -> Result<()> {
        let metas: Vec<Option<&Meta>> = inputs
            .iter()
            .map(|i| i.as_ref().and_then(|n| self.metas.get(n)))
            .collect();
        let layer = op.layer().map(|l| self.layers[l].layer_dims());
        let out = crate::model::graph::spec_infer(&op, &metas, layer).map_err(|e| {
            match e.strip_prefix(crate::model::graph::NOT_SUPPORTED) {
                Some(m) => Error::Unsupported(format!("{} node {name:?}: {m}", op.name())),
                None => bad(format!("{} node {name:?}: {e}", op.name())),
            }
        })?;
        for (o, m) in outputs.iter().zip(out) {
            self.metas.insert(o.clone(), m);
        }
        self.nodes.push(NodeSpec {
            name,
            op,
            inputs,
            outputs,
        });
        Ok(())
    }

    /// A value as a node input: computed, or a known value emitted as a constant node once.
    fn value(&mut self, name: &str) -> Result<Option<String>> {
        if name.is_empty() {
            return Ok(None);
        }
        if self.metas.contains_key(name) {
            return Ok(Some(name.to_string()));
        }
        let Some(k) = self.known.get(name).cloned() else {
            return Err(bad(format!(
                "reads {name:?}, which is neither an input, an initializer nor an earlier node's output (a missing initializer, a dangling input or a cycle)"
            )));
        };
        if self.emitted.insert(name.to_string()) {
            let op = match k {
                Known::F(values, shape) => {
                    let tensor =
                        Tensor::<6>::from_data(TensorData::new(values, pad6(&shape)), self.device);
                    let layer = self.add_layer(Layer::Tensor(Param::from_tensor(tensor)));
                    Op::Const { layer, shape }
                }
                Known::I(values, shape) => Op::Ints { values, shape },
            };
            self.push(name.to_string(), op, vec![], vec![name.to_string()])?;
        }
        Ok(Some(name.to_string()))
    }

    fn known_ints(&self, name: &str) -> Option<Vec<i64>> {
        match self.known.get(name)? {
            Known::I(v, _) => Some(v.clone()),
            Known::F(v, _) => Some(v.iter().map(|&f| f as i64).collect()),
        }
    }

    fn known_floats(&self, name: &str) -> Option<(Vec<f32>, Vec<usize>)> {
        match self.known.get(name)? {
            Known::F(v, s) => Some((v.clone(), s.clone())),
            Known::I(v, s) => Some((v.iter().map(|&i| i as f32).collect(), s.clone())),
        }
    }

    fn shape_of(&self, name: &str) -> Option<Vec<usize>> {
        self.metas.get(name).map(|m| m.shape().to_vec())
    }

    fn node(&mut self, node: &NodeProto, index: usize) -> Result<()> {
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(unsupported(
                node,
                index,
                format!("operator domain {:?}", node.domain),
            ));
        }
        let name = if node.name.is_empty() {
            format!("{}_{index}", node.op_type)
        } else {
            node.name.clone()
        };
        if let Some(missing) = node
            .input
            .iter()
            .find(|i| !i.is_empty() && !self.known.contains_key(*i) && !self.metas.contains_key(*i))
        {
            return Err(node_bad(
                node,
                index,
                format!(
                    "reads {missing:?}, which is neither the input, an initializer nor an earlier node's output (a missing initializer, a dangling input or a cycle)"
                ),
            ));
        }
        let mut a = Attrs::new(node);
        let input = |k: usize| node.input.get(k).map(String::as_str).unwrap_or("");
        let outputs: Vec<String> = node
            .output
            .iter()
            .filter(|o| !o.is_empty())
            .cloned()
            .collect();
        let first_output = || node.output.first().cloned().unwrap_or_default();
        let opset = self.opset;
        let unsup = |msg: String| unsupported(node, index, msg);
        // Inputs 0.. as values.
        let values = |b: &mut Self, n: usize| -> Result<Vec<Option<String>>> {
            (0..n.min(node.input.len()))
                .map(|k| b.value(input(k)))
                .collect()
        };
        let op = node.op_type.as_str();
        // An Identity of a known value (PyTorch's exporter shares initializers so) is that value.
        if op == "Identity"
            && let Some(k) = self.known.get(input(0)).cloned()
        {
            self.known.insert(first_output(), k);
            return Ok(());
        }
        // Constant-valued nodes become known values.
        if op == "Constant" {
            let k = if let Some(t) = a.get("value") {
                tensor_values(&t.t, &format!("Constant node {name:?}"))?
            } else if let Some(f) = a.get("value_float") {
                Known::F(vec![f.f], vec![])
            } else if let Some(f) = a.get("value_floats") {
                Known::F(f.floats.clone(), vec![f.floats.len()])
            } else if let Some(i) = a.get("value_int") {
                Known::I(vec![i.i], vec![])
            } else if let Some(i) = a.get("value_ints") {
                Known::I(i.ints.clone(), vec![i.ints.len()])
            } else {
                return Err(unsup(format!(
                    "attribute {:?}",
                    a.unread().unwrap_or("(none)")
                )));
            };
            if let Some(left) = a.unread() {
                return Err(unsup(format!("attribute {left:?}")));
            }
            self.known.insert(first_output(), k);
            return Ok(());
        }
        let pads_of = |a: &mut Attrs<'_>,
                       b: &Self,
                       kernel: [usize; 2],
                       stride: [usize; 2],
                       dilation: [usize; 2]|
         -> Result<[usize; 4]> {
            let auto = a.string("auto_pad", "NOTSET");
            let explicit = a.ints("pads");
            match auto.as_str() {
                "NOTSET" => {
                    let p = explicit.unwrap_or(vec![0; 4]);
                    if p.len() != 4 || p.iter().any(|&v| !(0..=MAX_WINDOW).contains(&v)) {
                        return Err(unsupported(
                            node,
                            index,
                            format!("pads {p:?} (4 non-negative values for 2-D)"),
                        ));
                    }
                    Ok([p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize])
                }
                "VALID" => Ok([0; 4]),
                "SAME_UPPER" | "SAME_LOWER" => {
                    let s = b.shape_of(input(0)).unwrap_or_default();
                    if s.len() != 4 {
                        return Err(unsupported(
                            node,
                            index,
                            "auto_pad SAME on an input that is not [n, c, h, w]",
                        ));
                    }
                    let mut p = [0; 4];
                    for i in 0..2 {
                        let size = s[2 + i];
                        let out = size.div_ceil(stride[i]);
                        let total = ((out - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1)
                            .saturating_sub(size);
                        let (small, big) = (total / 2, total - total / 2);
                        let (before, after) = if auto == "SAME_UPPER" {
                            (small, big)
                        } else {
                            (big, small)
                        };
                        p[i] = before;
                        p[i + 2] = after;
                    }
                    Ok(p)
                }
                other => Err(unsupported(node, index, format!("auto_pad {other:?}"))),
            }
        };
        let pair = |v: Option<Vec<i64>>, default: usize, what: &str| -> Result<[usize; 2]> {
            match v {
                None => Ok([default; 2]),
                Some(v) if v.len() == 2 && v.iter().all(|&x| x > 0) => {
                    Ok([v[0] as usize, v[1] as usize])
                }
                Some(v) => Err(unsupported(
                    node,
                    index,
                    format!("{what} {v:?} (two positive values: 2-D only)"),
                )),
            }
        };
        let spec_op: Op;
        let inputs: Vec<Option<String>>;
        match op {
            "Conv" => {
                let (w, ws) = self.known_floats(input(1)).ok_or_else(|| {
                    unsup("kernels computed by the graph (they must be an initializer)".into())
                })?;
                if ws.len() != 4 {
                    return Err(unsup(format!(
                        "a kernel of shape {ws:?} (2-D convolutions only)"
                    )));
                }
                let kernel = [ws[2], ws[3]];
                if let Some(k) = a.ints("kernel_shape")
                    && k != [ws[2] as i64, ws[3] as i64]
                {
                    return Err(node_bad(
                        node,
                        index,
                        format!("kernel_shape {k:?} differs from the kernels' {ws:?}"),
                    ));
                }
                let stride = pair(a.ints("strides"), 1, "strides")?;
                let dilation = pair(a.ints("dilations"), 1, "dilations")?;
                let groups = a.int("group", 1);
                if groups < 1 || ws[0] % groups as usize != 0 {
                    return Err(node_bad(
                        node,
                        index,
                        format!("group {groups} does not divide {} kernels", ws[0]),
                    ));
                }
                let groups = groups as usize;
                let pads = pads_of(&mut a, self, kernel, stride, dilation)?;
                let bias = match input(2) {
                    "" => None,
                    b => Some(
                        self.known_floats(b)
                            .ok_or_else(|| unsup("a bias computed by the graph".into()))?,
                    ),
                };
                if let Some((b, _)) = &bias
                    && b.len() != ws[0]
                {
                    return Err(node_bad(
                        node,
                        index,
                        format!("{} biases for {} kernels", b.len(), ws[0]),
                    ));
                }
                let mut conv = Conv2dConfig::new([ws[1] * groups, ws[0]], kernel)
                    .with_groups(groups)
                    .with_bias(bias.is_some())
                    .init(self.device);
                conv.weight = Param::from_tensor(Tensor::from_data(
                    TensorData::new(w, [ws[0], ws[1], ws[2], ws[3]]),
                    self.device,
                ));
                if let Some((b, _)) = bias {
                    let n = b.len();
                    conv.bias = Some(Param::from_tensor(Tensor::from_data(
                        TensorData::new(b, [n]),
                        self.device,
                    )));
                }
                let layer = self.add_layer(Layer::Conv(conv));
                spec_op = Op::Conv {
                    layer,
                    stride,
                    pads,
                    dilation,
                    groups,
                };
                inputs = vec![self.value(input(0))?];
            }
            "BatchNormalization" => {
                let eps = a.float("epsilon", 1e-5);
                let momentum = a.float("momentum", 0.9);
                if a.int("training_mode", 0) != 0 {
                    return Err(unsup("training_mode 1".into()));
                }
                if a.int("spatial", 1) != 1 {
                    return Err(unsup("spatial 0".into()));
                }
                a.ignore(&["is_test", "consumed_inputs"]);
                if node.output.iter().skip(1).any(|o| !o.is_empty()) {
                    return Err(unsup("outputs besides Y (the training statistics)".into()));
                }
                let mut parts = Vec::new();
                for k in 1..5 {
                    let (v, _) = self.known_floats(input(k)).ok_or_else(|| {
                        unsup(format!(
                            "input {k} computed by the graph (it must be an initializer)"
                        ))
                    })?;
                    parts.push(v);
                }
                let c = parts[0].len();
                if parts.iter().any(|p| p.len() != c) || c == 0 {
                    return Err(node_bad(
                        node,
                        index,
                        "scale, bias, mean and variance differ in length",
                    ));
                }
                if !(eps.is_finite() && eps > 0.0 && (0.0..=1.0).contains(&momentum)) {
                    return Err(node_bad(
                        node,
                        index,
                        format!("epsilon {eps} or momentum {momentum} out of range"),
                    ));
                }
                let mut bn = BatchNormConfig::new(c)
                    .with_epsilon(f64::from(eps))
                    .with_momentum(1.0 - f64::from(momentum))
                    .init(self.device);
                let t = |v: &Vec<f32>| {
                    Tensor::<1>::from_data(TensorData::new(v.clone(), [c]), self.device)
                };
                bn.gamma = Param::from_tensor(t(&parts[0]));
                bn.beta = Param::from_tensor(t(&parts[1]));
                bn.running_mean = RunningState::new(t(&parts[2]));
                bn.running_var = RunningState::new(t(&parts[3]));
                let layer = self.add_layer(Layer::Norm(bn));
                spec_op = Op::BatchNorm { layer };
                inputs = vec![self.value(input(0))?];
            }
            "Gemm" | "MatMul" => {
                let gemm = op == "Gemm";
                let (alpha, beta, trans_a, trans_b) = if gemm {
                    (
                        a.float("alpha", 1.0),
                        a.float("beta", 1.0),
                        a.int("transA", 0),
                        a.int("transB", 0),
                    )
                } else {
                    (1.0, 1.0, 0, 0)
                };
                a.ignore(&["broadcast"]);
                let Some((bv, bs)) = self.known_floats(input(1)).filter(|(_, s)| s.len() == 2)
                else {
                    if gemm {
                        return Err(unsup(
                            "B computed by the graph (it must be an initializer of rank 2)".into(),
                        ));
                    }
                    inputs = values(self, 2)?;
                    self.finish(node, index, &a, name, Op::MatMul, inputs, outputs)?;
                    return Ok(());
                };
                let (k, n) = if trans_b != 0 {
                    (bs[1], bs[0])
                } else {
                    (bs[0], bs[1])
                };
                let mut w = vec![0f32; k * n];
                for r in 0..bs[0] {
                    for c in 0..bs[1] {
                        let v = bv[r * bs[1] + c] * alpha;
                        if trans_b != 0 {
                            w[c * n + r] = v
                        } else {
                            w[r * n + c] = v
                        }
                    }
                }
                let c_in = if gemm { input(2) } else { "" };
                let bias: Option<Vec<f32>> = match c_in {
                    "" => None,
                    c => match self.known_floats(c) {
                        Some((v, s)) if v.len() == n && s.iter().rev().skip(1).all(|&d| d == 1) => {
                            Some(v.iter().map(|x| x * beta).collect())
                        }
                        Some((v, _)) if v.len() == 1 => Some(vec![v[0] * beta; n]),
                        _ => {
                            return Err(unsup(format!(
                                "C {c:?} that is not a constant bias of {n} values"
                            )));
                        }
                    },
                };
                let mut dense = LinearConfig::new(k, n)
                    .with_bias(bias.is_some())
                    .init(self.device);
                dense.weight =
                    Param::from_tensor(Tensor::from_data(TensorData::new(w, [k, n]), self.device));
                if let Some(b) = bias {
                    dense.bias = Some(Param::from_tensor(Tensor::from_data(
                        TensorData::new(b, [n]),
                        self.device,
                    )));
                }
                let mut x = self.value(input(0))?;
                if trans_a != 0 {
                    let t = format!("{name}.transA");
                    self.push(
                        t.clone(),
                        Op::Transpose {
                            perm: Some(vec![1, 0]),
                        },
                        vec![x],
                        vec![t.clone()],
                    )?;
                    x = Some(t);
                }
                let layer = self.add_layer(Layer::Dense(dense));
                spec_op = Op::Dense { layer };
                inputs = vec![x];
            }
            "Relu" => (spec_op, inputs) = (Op::Relu, values(self, 1)?),
            "Sigmoid" => (spec_op, inputs) = (Op::Sigmoid, values(self, 1)?),
            "Tanh" => (spec_op, inputs) = (Op::Tanh, values(self, 1)?),
            "Erf" => (spec_op, inputs) = (Op::Erf, values(self, 1)?),
            "Sqrt" => (spec_op, inputs) = (Op::Sqrt, values(self, 1)?),
            "HardSwish" => (spec_op, inputs) = (Op::HardSwish, values(self, 1)?),
            "Identity" => (spec_op, inputs) = (Op::Identity, values(self, 1)?),
            "GlobalAveragePool" => (spec_op, inputs) = (Op::GlobalAvgPool, values(self, 1)?),
            "PRelu" => (spec_op, inputs) = (Op::PRelu, values(self, 2)?),
            "Add" | "Sub" | "Mul" | "Div" | "Pow" => {
                a.ignore(&["broadcast", "axis", "consumed_inputs"]);
                spec_op = match op {
                    "Add" => Op::Add,
                    "Sub" => Op::Sub,
                    "Mul" => Op::Mul,
                    "Div" => Op::Div,
                    _ => Op::Pow,
                };
                inputs = values(self, 2)?;
            }
            "LeakyRelu" => {
                (spec_op, inputs) = (
                    Op::LeakyRelu {
                        alpha: a.float("alpha", 0.01),
                    },
                    values(self, 1)?,
                )
            }
            "HardSigmoid" => {
                spec_op = Op::HardSigmoid {
                    alpha: a.float("alpha", 0.2),
                    beta: a.float("beta", 0.5),
                };
                inputs = values(self, 1)?;
            }
            "Gelu" => {
                let approx = a.string("approximate", "none");
                let tanh = match approx.as_str() {
                    "none" => false,
                    "tanh" => true,
                    other => return Err(unsup(format!("approximate {other:?}"))),
                };
                (spec_op, inputs) = (Op::Gelu { tanh }, values(self, 1)?);
            }
            "Clip" => {
                let (mut min, mut max) = (f32::NEG_INFINITY, f32::INFINITY);
                if opset < 11 {
                    min = a.float("min", min);
                    max = a.float("max", max);
                } else {
                    for (k, slot) in [(1, &mut min), (2, &mut max)] {
                        if !input(k).is_empty() {
                            let (v, _) = self
                                .known_floats(input(k))
                                .filter(|(v, _)| v.len() == 1)
                                .ok_or_else(|| {
                                    unsup(format!(
                                        "a bound (input {k}) that is not a constant scalar"
                                    ))
                                })?;
                            *slot = v[0];
                        }
                    }
                }
                (spec_op, inputs) = (Op::Clip { min, max }, values(self, 1)?);
            }
            "Softmax" => {
                let s = self.shape_of(input(0)).unwrap_or_default();
                let axis = a.int("axis", if opset < 13 { 1 } else { -1 });
                let r = s.len() as i64;
                if opset < 13 && (if axis < 0 { axis + r } else { axis }) != r - 1 {
                    return Err(unsup(format!(
                        "axis {axis} of a rank-{r} input before opset 13 (flattening softmax)"
                    )));
                }
                (spec_op, inputs) = (Op::Softmax { axis }, values(self, 1)?);
            }
            "MaxPool" | "AveragePool" => {
                let kernel = pair(a.ints("kernel_shape"), 0, "kernel_shape")?;
                if kernel.contains(&0) {
                    return Err(node_bad(node, index, "has no kernel_shape"));
                }
                let stride = pair(a.ints("strides"), 1, "strides")?;
                let dilation = pair(a.ints("dilations"), 1, "dilations")?;
                let ceil = a.int("ceil_mode", 0) != 0;
                let pads = pads_of(&mut a, self, kernel, stride, dilation)?;
                if op == "MaxPool" {
                    if a.int("storage_order", 0) != 0 {
                        return Err(unsup("storage_order 1".into()));
                    }
                    if node.output.iter().skip(1).any(|o| !o.is_empty()) {
                        return Err(unsup("the Indices output".into()));
                    }
                    spec_op = Op::MaxPool {
                        kernel,
                        stride,
                        pads,
                        dilation,
                        ceil,
                    };
                } else {
                    if dilation != [1, 1] {
                        return Err(unsup(format!("dilations {dilation:?}")));
                    }
                    let count_include_pad = a.int("count_include_pad", 0) != 0;
                    spec_op = Op::AvgPool {
                        kernel,
                        stride,
                        pads,
                        count_include_pad,
                        ceil,
                    };
                }
                inputs = values(self, 1)?;
            }
            "Concat" => {
                spec_op = Op::Concat {
                    axis: a.int("axis", 0),
                };
                inputs = values(self, node.input.len())?;
            }
            "Split" => {
                let s = self.shape_of(input(0)).unwrap_or_default();
                let axis = a.int("axis", 0);
                let ax = crate::model::graph::axis_of(axis, s.len())
                    .map_err(|e| node_bad(node, index, e))?;
                let n_out = node.output.len();
                let split = if opset < 13 {
                    a.ints("split")
                } else if input(1).is_empty() {
                    None
                } else {
                    Some(
                        self.known_ints(input(1))
                            .ok_or_else(|| unsup("split sizes computed by the graph".into()))?,
                    )
                };
                let num = a.int("num_outputs", n_out as i64).max(1) as usize;
                let sizes: Vec<usize> = match split {
                    Some(v) => v.iter().map(|&x| x.max(0) as usize).collect(),
                    None => {
                        let d = s[ax];
                        let each = d.div_ceil(num);
                        (0..num)
                            .map(|i| each.min(d.saturating_sub(i * each)))
                            .collect()
                    }
                };
                spec_op = Op::Split { axis, sizes };
                inputs = vec![self.value(input(0))?];
                let outs = node.output.clone();
                if outs.iter().any(String::is_empty) {
                    return Err(unsup("an output left out".into()));
                }
                self.finish(node, index, &a, name, spec_op, inputs, outs)?;
                return Ok(());
            }
            "Flatten" => {
                (spec_op, inputs) = (
                    Op::Flatten {
                        axis: a.int("axis", 1),
                    },
                    values(self, 1)?,
                )
            }
            "Reshape" => {
                let allowzero = a.int("allowzero", 0) != 0;
                if opset < 5 {
                    return Err(unsup("the shape attribute (opset < 5)".into()));
                }
                (spec_op, inputs) = (Op::Reshape { allowzero }, values(self, 2)?);
            }
            "Squeeze" | "Unsqueeze" => {
                let axes = if opset < 13 {
                    a.ints("axes")
                } else if input(1).is_empty() {
                    None
                } else {
                    Some(
                        self.known_ints(input(1))
                            .ok_or_else(|| unsup("axes computed by the graph".into()))?,
                    )
                };
                spec_op = if op == "Squeeze" {
                    Op::Squeeze { axes }
                } else {
                    Op::Unsqueeze {
                        axes: axes.ok_or_else(|| node_bad(node, index, "has no axes"))?,
                    }
                };
                inputs = vec![self.value(input(0))?];
            }
            "Transpose" => {
                let perm = a
                    .ints("perm")
                    .map(|p| p.iter().map(|&i| i.max(0) as usize).collect());
                (spec_op, inputs) = (Op::Transpose { perm }, values(self, 1)?);
            }
            "Pad" => {
                let mode = a.string("mode", "constant");
                let kind = match mode.as_str() {
                    "constant" => PadKind::Constant,
                    "reflect" => PadKind::Reflect,
                    "edge" => PadKind::Edge,
                    other => return Err(unsup(format!("mode {other:?}"))),
                };
                let rank = self.shape_of(input(0)).unwrap_or_default().len();
                let (mut pads, value) = if opset < 11 {
                    (a.ints("pads").unwrap_or_default(), a.float("value", 0.0))
                } else {
                    let p = self
                        .known_ints(input(1))
                        .ok_or_else(|| unsup("pads computed by the graph".into()))?;
                    let v = match input(2) {
                        "" => 0.0,
                        c => self
                            .known_floats(c)
                            .and_then(|(v, _)| v.first().copied())
                            .ok_or_else(|| {
                                unsup("a constant_value computed by the graph".into())
                            })?,
                    };
                    (p, v)
                };
                if !input(3).is_empty() {
                    let axes = self
                        .known_ints(input(3))
                        .ok_or_else(|| unsup("axes computed by the graph".into()))?;
                    if pads.len() != 2 * axes.len() {
                        return Err(node_bad(
                            node,
                            index,
                            format!("{} pads for {} axes", pads.len(), axes.len()),
                        ));
                    }
                    let mut full = vec![0; 2 * rank];
                    for (i, &ax) in axes.iter().enumerate() {
                        let ax = crate::model::graph::axis_of(ax, rank)
                            .map_err(|e| node_bad(node, index, e))?;
                        full[ax] = pads[i];
                        full[ax + rank] = pads[i + axes.len()];
                    }
                    pads = full;
                }
                spec_op = Op::Pad { pads, kind, value };
                inputs = vec![self.value(input(0))?];
            }
            "ReduceMean" => {
                let keepdims = a.int("keepdims", 1) != 0;
                let noop = a.int("noop_with_empty_axes", 0) != 0;
                let axes = if opset < 18 {
                    a.ints("axes")
                } else if input(1).is_empty() {
                    None
                } else {
                    Some(
                        self.known_ints(input(1))
                            .ok_or_else(|| unsup("axes computed by the graph".into()))?,
                    )
                };
                spec_op = match axes {
                    None if noop => Op::Identity,
                    Some(v) if v.is_empty() && noop => Op::Identity,
                    Some(v) if v.is_empty() => Op::ReduceMean {
                        axes: None,
                        keepdims,
                    },
                    axes => Op::ReduceMean { axes, keepdims },
                };
                inputs = vec![self.value(input(0))?];
            }
            "Resize" | "Upsample" => {
                let mode = a.string("mode", "nearest");
                let ctm = a.string(
                    "coordinate_transformation_mode",
                    if opset < 11 {
                        "asymmetric"
                    } else {
                        "half_pixel"
                    },
                );
                let nearest_mode = a.string("nearest_mode", "round_prefer_floor");
                a.ignore(&["cubic_coeff_a"]);
                if a.int("exclude_outside", 0) != 0 || a.int("antialias", 0) != 0 {
                    return Err(unsup("exclude_outside or antialias".into()));
                }
                if a.get("axes").is_some()
                    || a.string("keep_aspect_ratio_policy", "stretch") != "stretch"
                {
                    return Err(unsup("axes or keep_aspect_ratio_policy".into()));
                }
                a.ignore(&["extrapolation_value"]);
                let kind = match (mode.as_str(), ctm.as_str()) {
                    ("nearest", "asymmetric") if nearest_mode == "floor" || opset < 11 => {
                        ResizeKind::Nearest
                    }
                    ("linear" | "bilinear", "half_pixel" | "pytorch_half_pixel") => {
                        ResizeKind::Linear
                    }
                    ("linear" | "bilinear", "align_corners") => ResizeKind::LinearAlignCorners,
                    _ => {
                        return Err(unsup(format!(
                            "mode {mode:?} with coordinate_transformation_mode {ctm:?} and nearest_mode {nearest_mode:?} (nearest/asymmetric/floor and linear with half_pixel or align_corners are read)"
                        )));
                    }
                };
                let (scales_in, sizes_in) = if opset < 11 {
                    (input(1), "")
                } else {
                    (input(2), input(3))
                };
                let scales = self
                    .known_floats(scales_in)
                    .map(|(v, _)| v)
                    .filter(|v| !v.is_empty());
                let sizes = self.known_ints(sizes_in).filter(|v| !v.is_empty());
                let s = self.shape_of(input(0)).unwrap_or_default();
                let (scales, sizes) = match (scales, sizes) {
                    (Some(v), None) if v.len() == 4 && v[0] == 1.0 && v[1] == 1.0 => {
                        (Some([v[2], v[3]]), None)
                    }
                    (None, Some(v))
                        if v.len() == 4
                            && s.len() == 4
                            && v[0] as usize == s[0]
                            && v[1] as usize == s[1]
                            && v[2] > 0
                            && v[3] > 0 =>
                    {
                        (None, Some([v[2] as usize, v[3] as usize]))
                    }
                    _ if (scales_in.is_empty() || self.known.contains_key(scales_in))
                        && (sizes_in.is_empty() || self.known.contains_key(sizes_in)) =>
                    {
                        return Err(unsup(
                            "scales or sizes other than the last two axes of [n, c, h, w]".into(),
                        ));
                    }
                    _ => return Err(unsup("scales or sizes computed by the graph".into())),
                };
                if kind != ResizeKind::Nearest && s.len() == 4 {
                    let out = sizes.unwrap_or_else(|| {
                        let [sh, sw] = scales.unwrap_or([1.0, 1.0]);
                        [
                            (s[2] as f32 * sh).floor() as usize,
                            (s[3] as f32 * sw).floor() as usize,
                        ]
                    });
                    let exact = scales.is_none_or(|[sh, sw]| {
                        (s[2] as f32 * sh).fract() == 0.0 && (s[3] as f32 * sw).fract() == 0.0
                    });
                    if out[0] < s[2] || out[1] < s[3] || !exact {
                        return Err(unsup(format!(
                            "linear resizing from {:?} to {out:?} (linear upsampling to whole sizes is read)",
                            [s[2], s[3]]
                        )));
                    }
                }
                spec_op = Op::Resize {
                    kind,
                    sizes,
                    scales,
                };
                inputs = vec![self.value(input(0))?];
            }
            "Dropout" => {
                a.ignore(&["ratio", "seed", "is_test"]);
                if node.output.iter().skip(1).any(|o| !o.is_empty()) {
                    return Err(unsup("the mask output".into()));
                }
                if !input(2).is_empty()
                    && self
                        .known_ints(input(2))
                        .is_none_or(|v| v.iter().any(|&x| x != 0))
                {
                    return Err(unsup("training_mode".into()));
                }
                spec_op = Op::Identity;
                inputs = vec![self.value(input(0))?];
            }
            "Shape" => {
                let start = a.int("start", 0);
                let end = a.get("end").map(|e| e.i);
                (spec_op, inputs) = (Op::Shape { start, end }, values(self, 1)?);
            }
            "Gather" => {
                (spec_op, inputs) = (
                    Op::Gather {
                        axis: a.int("axis", 0),
                    },
                    values(self, 2)?,
                )
            }
            "Slice" => {
                let (starts, ends, axes, steps) = if opset < 10 {
                    (
                        a.ints("starts").unwrap_or_default(),
                        a.ints("ends").unwrap_or_default(),
                        a.ints("axes"),
                        None,
                    )
                } else {
                    let get = |b: &Self, k: usize| -> Result<Option<Vec<i64>>> {
                        match input(k) {
                            "" => Ok(None),
                            n => b.known_ints(n).map(Some).ok_or_else(|| {
                                unsupported(node, index, format!("input {k} computed by the graph"))
                            }),
                        }
                    };
                    (
                        get(self, 1)?.unwrap_or_default(),
                        get(self, 2)?.unwrap_or_default(),
                        get(self, 3)?,
                        get(self, 4)?,
                    )
                };
                let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
                let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
                if starts.len() != ends.len()
                    || axes.len() != starts.len()
                    || steps.len() != starts.len()
                {
                    return Err(node_bad(
                        node,
                        index,
                        "starts, ends, axes and steps differ in length",
                    ));
                }
                spec_op = Op::Slice {
                    starts,
                    ends,
                    axes,
                    steps,
                };
                inputs = vec![self.value(input(0))?];
            }
            "Cast" => {
                let to = a.int("to", 1);
                let float = match to {
                    1 | 10 | 11 => true,
                    6 | 7 => false,
                    other => return Err(unsup(format!("to {other}"))),
                };
                a.ignore(&["saturate", "round_mode"]);
                let is_float = matches!(self.metas.get(input(0)), Some(Meta::F(_)))
                    || matches!(self.known.get(input(0)), Some(Known::F(..)));
                if !float && is_float {
                    return Err(unsup("floats to integers".into()));
                }
                (spec_op, inputs) = (Op::Cast { float }, values(self, 1)?);
            }
            _ => {
                return Err(unsup(format!(
                    "operator {:?} is not supported (convlens reads {})",
                    node.op_type,
                    OPERATORS.join(", ")
                )));
            }
        }
        let outs = vec![first_output()];
        if outputs.len() > 1 && !matches!(op, "Split") {
            // Extra outputs were checked above to be left out.
        }
        self.finish(node, index, &a, name, spec_op, inputs, outs)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        node: &NodeProto,
        index: usize,
        a: &Attrs<'_>,
        name: String,
        op: Op,
        inputs: Vec<Option<String>>,
        outputs: Vec<String>,
    ) -> Result<()> {
        if let Some(left) = a.unread() {
            return Err(unsupported(node, index, format!("attribute {left:?}")));
        }
        if outputs.iter().any(|o| self.metas.contains_key(o)) {
            return Err(node_bad(node, index, "writes a value already written"));
        }
        // Shape-only chains on known values fold into known values.
        self.push(name, op, inputs, outputs).map_err(|e| match e {
            Error::BadWeights(m) => Error::BadWeights(format!("{m} (node index {index})")),
            Error::Unsupported(m) => Error::Unsupported(format!("{m} (node index {index})")),
            e => e,
        })
    }
}
