//! Any network as a Burn module: a [`GraphSpec`] (named values and the nodes between them) with
//! its tensors in a `Vec` of [`Layer`]s — burn-nn's `Conv2d`, `BatchNorm`, `Linear` and constant
//! tensors — so that autodiff, Adam, `freeze` and model files treat it as they treat the
//! built-in networks. What an ONNX file becomes (`crate::onnx`).
//!
//! Every value is held as a rank-6 tensor whose leading axes are 1 (numpy's broadcasting is
//! unchanged by leading ones), with its own shape beside it. The shapes and the integer values
//! (shapes, axes) are worked out by [`shapes::infer`] before any tensor operation runs, with
//! every condition an operation would panic on checked there.

mod shapes;
pub mod spec;

use std::sync::Arc;

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear};
use burn::prelude::{Device, Int, Tensor};
use burn::tensor::TensorData;
use burn::tensor::activation as act;
use burn::tensor::module::{avg_pool2d, conv2d, interpolate, max_pool2d};
use burn::tensor::ops::{
    AvgPoolOptions, ConvOptions, InterpolateMode, InterpolateOptions, MaxPoolOptions, PadMode,
};

pub use shapes::{
    LayerDims, MAX_ELEMENTS, MAX_RANK, Meta, NOT_SUPPORTED, axis as axis_of, infer as spec_infer,
};
pub use spec::{GraphFile, GraphSpec, LayerSpec, NodeSpec, Op, PadKind, ResizeKind};

use crate::error::{Error, Result};
use crate::model::{ImageClassifier, LayerGeometry, LayerKind, NodeInfo, ReceptiveField, Recorder};

/// Where one node's tensors live.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Layer {
    /// A convolution's kernels and bias.
    Conv(Conv2d),
    /// Batch normalisation's scale, shift and running statistics.
    Norm(BatchNorm),
    /// A dense layer's `[in, out]` weights and bias.
    Dense(Linear),
    /// A constant (an initializer read as data), held with rank 6.
    Tensor(Param<Tensor<6>>),
}

impl Layer {
    fn dims(&self) -> LayerDims {
        match self {
            Layer::Conv(c) => LayerDims::Conv(c.weight.dims()),
            Layer::Norm(n) => LayerDims::Norm(n.gamma.dims()[0]),
            Layer::Dense(d) => LayerDims::Dense(d.weight.dims()),
            Layer::Tensor(_) => LayerDims::Tensor,
        }
    }

    /// What the shape rules need to know of it.
    pub fn layer_dims(&self) -> LayerDims {
        self.dims()
    }
}

/// A value during a run: floats on the device (rank 6) with their shape, or integers.
// A tensor handle is a few hundred bytes and lives as long as the run: boxing it buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Val {
    /// A float tensor and its shape.
    F(Tensor<6>, Vec<usize>),
    /// Integers and their shape.
    I(Vec<i64>, Vec<usize>),
}

impl Val {
    fn meta(&self) -> Meta {
        match self {
            Val::F(_, s) => Meta::F(s.clone()),
            Val::I(v, s) => Meta::I(v.clone(), s.clone()),
        }
    }

    /// A float value's tensor as `[batch, channels, height, width]` (rank 4, or `[batch, n]`
    /// read as `[batch, n, 1, 1]`), for feature maps.
    fn as_map(&self) -> Option<Tensor<4>> {
        match self {
            Val::F(t, s) if s.len() == 4 => Some(t.clone().reshape([s[0], s[1], s[2], s[3]])),
            Val::F(t, s) if s.len() == 2 => Some(t.clone().reshape([s[0], s[1], 1, 1])),
            _ => None,
        }
    }
}

/// `shape` with leading ones to rank 6: the rank of every value inside a graph (numpy's
/// broadcasting then needs no reshapes), and of the tensor [`Graph::run`] takes.
pub fn pad6(shape: &[usize]) -> [usize; 6] {
    let mut out = [1; 6];
    out[6 - shape.len()..].copy_from_slice(shape);
    out
}

fn lift<const D: usize>(t: &Tensor<6>, shape: &[usize]) -> Tensor<D> {
    let mut dims = [1; D];
    dims[D - shape.len()..].copy_from_slice(shape);
    t.clone().reshape(dims)
}

fn to6<const D: usize>(t: Tensor<D>) -> Tensor<6> {
    let dims = t.dims();
    t.reshape(pad6(&dims))
}

/// The spec compiled: value indices instead of names, and what every value is for a batch of
/// one and of two.
#[derive(Debug)]
pub struct Plan {
    spec: GraphSpec,
    steps: Vec<Step>,
    values: usize,
    output: usize,
    /// Every value for the file's batch size (or 1).
    metas: Vec<Meta>,
    /// Whether a batch of more than one runs (else images go one at a time).
    dynamic_batch: bool,
    /// The node whose output holds the class scores' layer (transfer learning's cut, what
    /// `train: "head"` trains), and its module path.
    head: Option<(usize, String)>,
    /// Nodes after the head, which read only the head's output, their own and constants.
    tail_is_local: bool,
    /// Whether each value depends on the input.
    dynamic: Vec<bool>,
}

#[derive(Debug, Clone)]
struct Step {
    inputs: Vec<Option<usize>>,
    outputs: Vec<usize>,
}

/// The error for node `index` of `spec`.
fn at(spec: &GraphSpec, index: usize, msg: impl std::fmt::Display) -> Error {
    let node = &spec.nodes[index];
    Error::BadInput(format!(
        "node {index} {:?} ({}): {msg}",
        node.name,
        node.op.name()
    ))
}

impl Plan {
    /// Compiles `spec` for `layers` (the shapes its nodes' tensors have).
    ///
    /// # Errors
    /// [`Error::BadInput`] naming the node for a value read before it is written (a cycle, a
    /// dangling input), a value written twice, a layer index out of range or of another kind, or
    /// shapes that do not fit.
    pub fn new(spec: GraphSpec, layers: &[LayerDims]) -> Result<Self> {
        let mut names = std::collections::HashMap::new();
        names.insert(spec.input.clone(), 0usize);
        let mut steps = Vec::with_capacity(spec.nodes.len());
        let mut values = 1;
        for (i, node) in spec.nodes.iter().enumerate() {
            let mut inputs = Vec::new();
            for input in &node.inputs {
                inputs.push(match input {
                    None => None,
                    Some(name) => Some(*names.get(name).ok_or_else(|| {
                        at(&spec, i, format!("reads {name:?}, which no earlier node writes (a dangling input or a cycle)"))
                    })?),
                });
            }
            let mut outputs = Vec::new();
            for name in &node.outputs {
                if names.insert(name.clone(), values).is_some() {
                    return Err(at(
                        &spec,
                        i,
                        format!("writes {name:?}, which is already written"),
                    ));
                }
                outputs.push(values);
                values += 1;
            }
            if let Some(l) = node.op.layer() {
                let ok = matches!(
                    (layers.get(l), &node.op),
                    (Some(LayerDims::Conv(_)), Op::Conv { .. })
                        | (Some(LayerDims::Norm(_)), Op::BatchNorm { .. })
                        | (Some(LayerDims::Dense(_)), Op::Dense { .. })
                        | (Some(LayerDims::Tensor), Op::Const { .. })
                );
                if !ok {
                    return Err(at(
                        &spec,
                        i,
                        format!("layer {l} is missing or of another kind"),
                    ));
                }
            }
            steps.push(Step { inputs, outputs });
        }
        let output = *names.get(&spec.output).ok_or_else(|| {
            Error::BadInput(format!("no node writes the output {:?}", spec.output))
        })?;
        let base = spec.batch.unwrap_or(1);
        let metas = infer_all(&spec, &steps, values, layers, base)?;
        let dynamic_batch = infer_all(&spec, &steps, values, layers, base + 1).is_ok();
        let mut dynamic = vec![false; values];
        dynamic[0] = true;
        for step in &steps {
            let d = step.inputs.iter().flatten().any(|&v| dynamic[v]);
            for &o in &step.outputs {
                dynamic[o] = d;
            }
        }
        let mut plan = Self {
            spec,
            steps,
            values,
            output,
            metas,
            dynamic_batch,
            head: None,
            tail_is_local: false,
            dynamic,
        };
        plan.head = plan.find_head(layers);
        plan.tail_is_local = plan.head.as_ref().is_some_and(|(h, _)| plan.local_tail(*h));
        Ok(plan)
    }

    /// The last dense node, or else the last convolution, that the output depends on.
    fn find_head(&self, layers: &[LayerDims]) -> Option<(usize, String)> {
        let pick = |want: fn(&Op) -> bool| {
            (0..self.steps.len())
                .rev()
                .find(|&i| want(&self.spec.nodes[i].op))
        };
        let i = pick(|op| matches!(op, Op::Dense { .. }))
            .or_else(|| pick(|op| matches!(op, Op::Conv { .. })))?;
        let layer = self.spec.nodes[i].op.layer()?;
        let variant = match layers.get(layer)? {
            LayerDims::Conv(_) => "Conv",
            LayerDims::Dense(_) => "Dense",
            _ => return None,
        };
        Some((i, format!("layers.{layer}.{variant}")))
    }

    /// Whether every node after `head` reads only values written by `head` or later, or values
    /// that do not depend on the input.
    fn local_tail(&self, head: usize) -> bool {
        let first_tail_value = self.steps[head].outputs[0];
        self.steps[head + 1..].iter().all(|s| {
            s.inputs
                .iter()
                .flatten()
                .all(|&v| v >= first_tail_value || !self.dynamic[v])
        })
    }

    /// The output's last dimension (the class count of a classifier).
    pub fn classes(&self) -> usize {
        self.metas[self.output].shape().last().copied().unwrap_or(1)
    }

    /// The spec.
    pub fn spec(&self) -> &GraphSpec {
        &self.spec
    }

    /// Each node's name, operator and output shape (batch 1).
    pub fn nodes(&self) -> impl Iterator<Item = (&NodeSpec, &Meta)> {
        self.spec
            .nodes
            .iter()
            .zip(&self.steps)
            .map(|(n, s)| (n, &self.metas[s.outputs[0]]))
    }
}

/// Every value's meta for a batch of `batch`.
fn infer_all(
    spec: &GraphSpec,
    steps: &[Step],
    values: usize,
    layers: &[LayerDims],
    batch: usize,
) -> Result<Vec<Meta>> {
    let mut shape = vec![batch];
    shape.extend(&spec.input_shape);
    if spec.input_shape.len() + 1 > MAX_RANK || spec.input_shape.contains(&0) {
        return Err(Error::BadInput(format!(
            "the input's shape {:?} is not 1 to {} non-zero dimensions",
            spec.input_shape,
            MAX_RANK - 1
        )));
    }
    let mut metas: Vec<Option<Meta>> = vec![None; values];
    metas[0] = Some(Meta::F(shape));
    for (i, (node, step)) in spec.nodes.iter().zip(steps).enumerate() {
        let inputs: Vec<Option<&Meta>> = step
            .inputs
            .iter()
            .map(|v| v.and_then(|v| metas[v].as_ref()))
            .collect();
        let layer = node.op.layer().and_then(|l| layers.get(l)).copied();
        let out = shapes::infer(&node.op, &inputs, layer).map_err(|e| at(spec, i, e))?;
        if out.len() != step.outputs.len() {
            return Err(at(
                spec,
                i,
                format!(
                    "gives {} outputs, the graph names {}",
                    out.len(),
                    step.outputs.len()
                ),
            ));
        }
        for (&o, m) in step.outputs.iter().zip(out) {
            metas[o] = Some(m);
        }
    }
    Ok(metas
        .into_iter()
        .map(|m| m.unwrap_or(Meta::F(vec![1])))
        .collect())
}

/// See the module documentation.
#[derive(Module, Debug)]
pub struct Graph {
    layers: Vec<Layer>,
    #[module(skip)]
    plan: Arc<Plan>,
}

impl Graph {
    /// `spec` over `layers`.
    ///
    /// # Errors
    /// As for [`Plan::new`]; [`Error::BadInput`] for an input that is not one image
    /// `[channels, height, width]` or an output that is not `[batch, classes]`.
    pub fn new(spec: GraphSpec, layers: Vec<Layer>) -> Result<Self> {
        let dims: Vec<LayerDims> = layers.iter().map(Layer::dims).collect();
        let plan = Plan::new(spec, &dims)?;
        Ok(Self {
            layers,
            plan: Arc::new(plan),
        })
    }

    /// The compiled spec.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The layers, in spec order.
    pub fn layers_ref(&self) -> &[Layer] {
        &self.layers
    }

    /// Takes the graph apart into its spec and layers.
    pub fn into_parts(self) -> (GraphSpec, Vec<Layer>) {
        let spec = self.plan.spec.clone();
        (spec, self.layers)
    }

    /// Runs every node on `input` (`[batch, ...input_shape]`), calling `seen` with each node's
    /// index and first output, and gives every value (`None`: not computed).
    ///
    /// `from` and `to` limit the run to nodes `from..to`, with `start` holding values computed
    /// before (by index).
    fn run_nodes(
        &self,
        mut vals: Vec<Option<Val>>,
        nodes: impl IntoIterator<Item = usize>,
        device: &Device,
        seen: &mut dyn FnMut(usize, Val) -> Val,
    ) -> Vec<Option<Val>> {
        let plan = &self.plan;
        for i in nodes {
            let node = &plan.spec.nodes[i];
            let step = &plan.steps[i];
            let inputs: Vec<Option<&Val>> = step
                .inputs
                .iter()
                .map(|v| v.and_then(|v| vals[v].as_ref()))
                .collect();
            let metas: Vec<Meta> = inputs
                .iter()
                .map(|v| v.map_or(Meta::F(vec![1]), Val::meta))
                .collect();
            let meta_refs: Vec<Option<&Meta>> = inputs
                .iter()
                .zip(&metas)
                .map(|(v, m)| v.map(|_| m))
                .collect();
            let layer = node.op.layer().and_then(|l| self.layers.get(l));
            let out = shapes::infer(&node.op, &meta_refs, layer.map(Layer::dims))
                .unwrap_or_else(|e| panic!("node {i} {:?} ({}): {e}", node.name, node.op.name()));
            let outs = run_op(&node.op, layer, &inputs, out, device);
            for (k, (&o, v)) in step.outputs.iter().zip(outs).enumerate() {
                vals[o] = Some(if k == 0 { seen(i, v) } else { v });
            }
        }
        vals
    }

    fn start(&self, input: Tensor<4>) -> (Vec<Option<Val>>, Device) {
        let device = input.device();
        let dims = input.dims();
        let mut shape = vec![dims[0]];
        shape.extend(&self.plan.spec.input_shape);
        let mut vals = vec![None; self.plan.values];
        vals[0] = Some(Val::F(input.reshape(pad6(&shape)), shape));
        (vals, device)
    }

    /// The output for `input` (`[batch, c, h, w]`), every node reported to `seen`.
    fn forward_all(&self, input: Tensor<4>, seen: &mut dyn FnMut(usize, Val) -> Val) -> Val {
        let batch = input.dims()[0];
        if !self.plan.dynamic_batch && batch > 1 && self.plan.spec.batch.unwrap_or(1) == 1 {
            let outs: Vec<Tensor<6>> = (0..batch)
                .map(|b| {
                    let one = input.clone().narrow(0, b, 1);
                    match self.forward_all(one, seen) {
                        Val::F(t, _) => t,
                        Val::I(..) => unreachable!("the output is floats"),
                    }
                })
                .collect();
            let mut shape = self.plan.metas[self.plan.output].shape().to_vec();
            shape[0] = batch;
            return Val::F(Tensor::cat(outs, 6 - shape.len()), shape);
        }
        let (vals, device) = self.start(input);
        let mut vals = self.run_nodes(vals, 0..self.plan.steps.len(), &device, seen);
        vals[self.plan.output]
            .take()
            .expect("the output was computed")
    }

    fn record(&self, rec: &mut Recorder) -> impl FnMut(usize, Val) -> Val {
        move |i, v| {
            let node = &self.plan.spec.nodes[i];
            if matches!(node.op, Op::Const { .. } | Op::Ints { .. }) {
                return v;
            }
            match (&v, v.as_map()) {
                (Val::F(_, s), Some(map)) if s.len() == 4 => {
                    let out = rec.map(&node.name, map);
                    Val::F(to6(out), s.clone())
                }
                (_, Some(map)) => {
                    let [b, n, _, _] = map.dims();
                    rec.dense(&node.name, &map.reshape([b, n]));
                    v
                }
                _ => v,
            }
        }
    }

    /// The output for `input`, a value of `shape` (`[batch, ...input_shape]`), on the device
    /// `input` is on.
    ///
    /// # Errors
    /// [`Error::BadInput`] for a shape other than `[batch, ...input_shape]`, or one whose batch the
    /// graph's nodes do not fit (named).
    pub fn run(&self, input: Tensor<6>, shape: Vec<usize>) -> Result<(Tensor<6>, Vec<usize>)> {
        if shape.len() != self.plan.spec.input_shape.len() + 1
            || shape[1..] != self.plan.spec.input_shape[..]
            || shape[0] == 0
        {
            return Err(Error::BadInput(format!(
                "expected an input of shape [batch>0, {:?}], got {shape:?}",
                self.plan.spec.input_shape
            )));
        }
        let dims: Vec<LayerDims> = self.layers.iter().map(Layer::dims).collect();
        infer_all(
            &self.plan.spec,
            &self.plan.steps,
            self.plan.values,
            &dims,
            shape[0],
        )?;
        let device = input.device();
        let mut vals = vec![None; self.plan.values];
        vals[0] = Some(Val::F(input.reshape(pad6(&shape)), shape));
        let mut vals = self.run_nodes(vals, 0..self.plan.steps.len(), &device, &mut |_, v| v);
        match vals[self.plan.output].take() {
            Some(Val::F(t, s)) => Ok((t, s)),
            Some(Val::I(v, s)) => Ok((
                Tensor::from_data(
                    TensorData::new(v.iter().map(|&i| i as f32).collect::<Vec<_>>(), pad6(&s)),
                    &device,
                ),
                s,
            )),
            None => Err(Error::BadInput("the output was not computed".into())),
        }
    }

    /// The head's input, flattened per image.
    fn head_input(&self) -> Option<(usize, usize)> {
        let (h, _) = self.plan.head.as_ref()?;
        let v = self.plan.steps[*h].inputs.first().copied().flatten()?;
        Some((*h, v))
    }
}

fn float_of(v: Option<&Val>) -> (&Tensor<6>, &[usize]) {
    match v {
        Some(Val::F(t, s)) => (t, s),
        _ => unreachable!("checked by the shape rules"),
    }
}

/// One operator on tensors, with the outputs' metas already known.
fn run_op(
    op: &Op,
    layer: Option<&Layer>,
    inputs: &[Option<&Val>],
    out: Vec<Meta>,
    device: &Device,
) -> Vec<Val> {
    let x = || float_of(inputs.first().copied().flatten());
    let y = || float_of(inputs.get(1).copied().flatten());
    let shape0 = out[0].shape().to_vec();
    if let Meta::I(v, s) = &out[0] {
        return vec![Val::I(v.clone(), s.clone())];
    }
    let reshape = |t: &Tensor<6>| t.clone().reshape(pad6(&shape0));
    let off = |rank: usize, a: i64| 6 - rank + shapes::axis(a, rank).unwrap_or(0);
    let t: Tensor<6> = match op {
        Op::Const { .. } => match layer {
            Some(Layer::Tensor(p)) => p.val(),
            _ => unreachable!("checked by the plan"),
        },
        Op::Conv {
            stride,
            pads,
            dilation,
            groups,
            ..
        } => {
            let Some(Layer::Conv(c)) = layer else {
                unreachable!()
            };
            let (t, s) = x();
            let options = ConvOptions::new_with_padding(
                *stride,
                [(pads[0], pads[2]), (pads[1], pads[3])],
                *dilation,
                *groups,
            );
            to6(conv2d(
                lift::<4>(t, s),
                c.weight.val(),
                c.bias.as_ref().map(Param::val),
                options,
            ))
        }
        Op::BatchNorm { .. } => {
            let Some(Layer::Norm(n)) = layer else {
                unreachable!()
            };
            let (t, s) = x();
            match s.len() {
                2 => to6(n.forward(lift::<2>(t, s))),
                3 => to6(n.forward(lift::<3>(t, s))),
                4 => to6(n.forward(lift::<4>(t, s))),
                _ => to6(n.forward(lift::<5>(t, s))),
            }
        }
        Op::Dense { .. } => {
            let Some(Layer::Dense(d)) = layer else {
                unreachable!()
            };
            let (t, s) = x();
            let k = s[s.len() - 1];
            let rows = s[..s.len() - 1].iter().product::<usize>();
            reshape(&to6(d.forward(t.clone().reshape([rows, k]))))
        }
        Op::Relu => act::relu(x().0.clone()),
        Op::LeakyRelu { alpha } => act::leaky_relu(x().0.clone(), f64::from(*alpha)),
        Op::PRelu => {
            let t = x().0.clone();
            let pos = act::relu(t.clone());
            pos.clone() + (t - pos) * y().0.clone()
        }
        // As numpy's clip: with min above max, every value is max.
        Op::Clip { min, max } => x().0.clone().clamp_min(*min).clamp_max(*max),
        Op::Sigmoid => act::sigmoid(x().0.clone()),
        Op::HardSigmoid { alpha, beta } => {
            act::hard_sigmoid(x().0.clone(), f64::from(*alpha), f64::from(*beta))
        }
        Op::HardSwish => act::hard_swish(x().0.clone()),
        Op::Tanh => act::tanh(x().0.clone()),
        Op::Erf => x().0.clone().erf(),
        Op::Gelu { tanh: false } => act::gelu(x().0.clone()),
        Op::Gelu { tanh: true } => act::gelu_approximate(x().0.clone()),
        Op::Sqrt => x().0.clone().sqrt(),
        Op::Softmax { axis } => {
            let (t, s) = x();
            act::softmax(t.clone(), off(s.len(), *axis))
        }
        Op::MaxPool {
            kernel,
            stride,
            pads,
            dilation,
            ceil,
        } => {
            let (t, s) = x();
            let options = MaxPoolOptions {
                kernel_size: *kernel,
                stride: *stride,
                padding: [(pads[0], pads[2]), (pads[1], pads[3])],
                dilation: *dilation,
                ceil_mode: *ceil,
            };
            to6(max_pool2d(lift::<4>(t, s), options))
        }
        Op::AvgPool {
            kernel,
            stride,
            pads,
            count_include_pad,
            ceil,
        } => {
            let (t, s) = x();
            let options = AvgPoolOptions {
                kernel_size: *kernel,
                stride: *stride,
                padding: [(pads[0], pads[2]), (pads[1], pads[3])],
                count_include_pad: *count_include_pad,
                ceil_mode: *ceil,
            };
            to6(avg_pool2d(lift::<4>(t, s), options))
        }
        Op::GlobalAvgPool => {
            let (t, s) = x();
            let [n, c, h, w] = [s[0], s[1], s[2], s[3]];
            to6(lift::<4>(t, s)
                .reshape([n, c, h * w])
                .mean_dim(2)
                .reshape([n, c, 1, 1]))
        }
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow => {
            let a = x().0.clone();
            let b = match inputs.get(1).copied().flatten() {
                Some(Val::I(v, s)) => Tensor::from_data(
                    TensorData::new(v.iter().map(|&i| i as f32).collect::<Vec<_>>(), pad6(s)),
                    device,
                ),
                _ => y().0.clone(),
            };
            match op {
                Op::Add => a + b,
                Op::Sub => a - b,
                Op::Mul => a * b,
                Op::Div => a / b,
                _ => a.powf(b),
            }
        }
        Op::MatMul => {
            let (a, b) = (x().0.clone(), y().0.clone());
            let dims = |t: &Tensor<6>, s: &[usize]| {
                let mut d = pad6(s);
                let target = pad6(&shape0);
                d[..4].copy_from_slice(&target[..4]);
                t.clone().expand(d)
            };
            dims(&a, x().1).matmul(dims(&b, y().1))
        }
        Op::Concat { axis } => {
            let tensors: Vec<Tensor<6>> = inputs
                .iter()
                .flatten()
                .map(|v| float_of(Some(v)).0.clone())
                .collect();
            Tensor::cat(tensors, off(shape0.len(), *axis))
        }
        Op::Split { axis, sizes } => {
            let (t, s) = x();
            let parts = t
                .clone()
                .split_with_sizes(sizes.clone(), off(s.len(), *axis));
            return parts
                .into_iter()
                .zip(out)
                .map(|(p, m)| Val::F(p, m.shape().to_vec()))
                .collect();
        }
        Op::Flatten { .. }
        | Op::Reshape { .. }
        | Op::Squeeze { .. }
        | Op::Unsqueeze { .. }
        | Op::Identity => reshape(x().0),
        Op::Transpose { perm } => {
            let (t, s) = x();
            let p = shapes::perm_of(perm.as_deref(), s.len()).unwrap_or_default();
            let lead = 6 - s.len();
            let mut full = [0usize; 6];
            for (i, f) in full.iter_mut().enumerate() {
                *f = if i < lead { i } else { lead + p[i - lead] };
            }
            t.clone().permute(full)
        }
        Op::Pad { pads, kind, value } => {
            let (t, s) = x();
            let r = s.len();
            let mut pairs = [(0usize, 0usize); 6];
            for i in 0..r {
                pairs[6 - r + i] = (pads[i] as usize, pads[i + r] as usize);
            }
            let mode = match kind {
                PadKind::Constant => PadMode::Constant(*value),
                PadKind::Reflect => PadMode::Reflect,
                PadKind::Edge => PadMode::Edge,
            };
            t.clone().pad(pairs, mode)
        }
        Op::ReduceMean { axes, .. } => {
            let (t, s) = x();
            let all: Vec<usize> = match axes {
                Some(a) => a.iter().map(|&a| off(s.len(), a)).collect(),
                None => (6 - s.len()..6).collect(),
            };
            let mut t = t.clone();
            for a in all {
                t = t.mean_dim(a);
            }
            reshape(&t)
        }
        Op::Resize { kind, .. } => {
            let (t, s) = x();
            let (mode, align_corners) = match kind {
                ResizeKind::Nearest => (InterpolateMode::Nearest, false),
                ResizeKind::Linear => (InterpolateMode::Bilinear, false),
                ResizeKind::LinearAlignCorners => (InterpolateMode::Bilinear, true),
            };
            let options = InterpolateOptions {
                mode,
                align_corners,
                output_size: Some([shape0[2], shape0[3]]),
                scale_factor: None,
            };
            to6(interpolate(lift::<4>(t, s), options))
        }
        Op::Gather { axis } => {
            let (t, s) = x();
            let Some(Val::I(idx, _)) = inputs.get(1).copied().flatten() else {
                unreachable!()
            };
            let ax = shapes::axis(*axis, s.len()).unwrap_or(0);
            let n = s[ax] as i64;
            let idx: Vec<i64> = idx.iter().map(|&i| if i < 0 { i + n } else { i }).collect();
            let len = idx.len();
            let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [len]), device);
            t.clone()
                .select(6 - s.len() + ax, idx)
                .reshape(pad6(&shape0))
        }
        Op::Slice {
            starts,
            ends,
            axes,
            steps,
        } => {
            let (t, s) = x();
            let plan = shapes::slice_plan(s, starts, ends, axes, steps).unwrap_or_default();
            let lead = 6 - s.len();
            if steps.iter().any(|&st| st != 1) {
                let mut t = t.clone();
                for (i, keep) in plan.iter().enumerate() {
                    if let Some(keep) = keep {
                        let idx: Vec<i64> = keep.iter().map(|&k| k as i64).collect();
                        let len = idx.len();
                        let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [len]), device);
                        t = t.select(lead + i, idx);
                    }
                }
                return vec![Val::F(t, shape0)];
            }
            let ranges: [std::ops::Range<usize>; 6] = std::array::from_fn(|i| {
                if i < lead {
                    0..1
                } else {
                    match &plan[i - lead] {
                        Some(keep) => keep[0]..keep[keep.len() - 1] + 1,
                        None => 0..s[i - lead],
                    }
                }
            });
            t.clone().slice(ranges)
        }
        Op::Cast { .. } => match inputs.first().copied().flatten() {
            Some(Val::I(v, s)) => Tensor::from_data(
                TensorData::new(v.iter().map(|&i| i as f32).collect::<Vec<_>>(), pad6(s)),
                device,
            ),
            Some(Val::F(t, _)) => t.clone(),
            None => unreachable!(),
        },
        Op::Ints { .. } | Op::Shape { .. } => unreachable!("integers"),
    };
    vec![Val::F(t, shape0)]
}

impl ImageClassifier for Graph {
    fn input_shape(&self) -> [usize; 3] {
        let s = &self.plan.spec.input_shape;
        [s[0], s[1], s[2]]
    }

    fn features_recorded(&self, input: Tensor<4>, rec: &mut Recorder) -> Tensor<2> {
        let batch = input.dims()[0];
        let Some((head, v)) = self.head_input() else {
            unreachable!("checked when the classifier was made")
        };
        let (vals, device) = self.start(input);
        let mut seen = self.record(rec);
        let mut vals = self.run_nodes(vals, 0..head, &device, &mut seen);
        let (t, s) = match vals[v].take() {
            Some(Val::F(t, s)) => (t, s),
            _ => unreachable!("the head reads floats"),
        };
        let n = s[1..].iter().product::<usize>();
        t.reshape([batch, n])
    }

    fn classify_features(&self, features: Tensor<2>) -> Tensor<2> {
        let Some((head, v)) = self.head_input() else {
            unreachable!("checked when the classifier was made")
        };
        let device = features.device();
        let [batch, _] = features.dims();
        let mut shape = self.plan.metas[v].shape().to_vec();
        shape[0] = batch;
        // The values before the head that do not depend on the input (constants the tail may
        // read), then the head and the tail on `features`.
        let plan = &self.plan;
        let constant = |i: &usize| plan.steps[*i].outputs.iter().all(|&o| !plan.dynamic[o]);
        let vals = vec![None; plan.values];
        let mut vals = self.run_nodes(vals, (0..head).filter(constant), &device, &mut |_, v| v);
        vals[v] = Some(Val::F(features.reshape(pad6(&shape)), shape));
        let mut vals = self.run_nodes(vals, head..self.plan.steps.len(), &device, &mut |_, v| v);
        match vals[self.plan.output].take() {
            Some(Val::F(t, s)) => t.reshape([s[0], s[1]]),
            _ => unreachable!("the output is [batch, classes]"),
        }
    }

    fn forward_recorded(&self, input: Tensor<4>, rec: &mut Recorder) -> Tensor<2> {
        let mut seen = self.record(rec);
        match self.forward_all(input, &mut seen) {
            Val::F(t, s) => t.reshape([s[0], s[1]]),
            Val::I(..) => unreachable!("the output is floats"),
        }
    }

    fn head(&self) -> (&str, &str) {
        match &self.plan.head {
            Some((i, path)) => (&self.plan.spec.nodes[*i].name, path),
            None => ("", ""),
        }
    }

    fn last_conv(&self) -> &str {
        let convs = self
            .plan
            .spec
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.op, Op::Conv { .. }));
        let mut convs = convs;
        let last = convs.next_back().map(|(i, _)| i).unwrap_or(0);
        // The convolution's activation, when one follows it directly.
        let out = self.plan.steps.get(last).map(|s| s.outputs[0]);
        let next = (last + 1..self.plan.steps.len()).find(|&j| {
            self.plan.steps[j].inputs.first().copied().flatten() == out
                && matches!(
                    self.plan.spec.nodes[j].op,
                    Op::Relu
                        | Op::Clip { .. }
                        | Op::LeakyRelu { .. }
                        | Op::HardSwish
                        | Op::BatchNorm { .. }
                )
        });
        self.plan
            .spec
            .nodes
            .get(next.unwrap_or(last))
            .map_or("", |n| &n.name)
    }

    fn layers(&self) -> Vec<LayerGeometry> {
        let mut out = Vec::new();
        for (node, meta) in self.plan.nodes() {
            let s = meta.shape();
            if matches!(node.op, Op::Const { .. } | Op::Ints { .. })
                || !(s.len() == 4 || s.len() == 2)
                || matches!(meta, Meta::I(..))
            {
                continue;
            }
            let (kind, kernel, stride, padding) = match &node.op {
                Op::Conv { stride, pads, .. } => {
                    let k = node.op.layer().and_then(|l| match self.layers.get(l) {
                        Some(Layer::Conv(c)) => Some(c.weight.dims()[2]),
                        _ => None,
                    });
                    (LayerKind::Convolution, k.unwrap_or(1), stride[0], pads[0])
                }
                Op::MaxPool {
                    kernel,
                    stride,
                    pads,
                    ..
                }
                | Op::AvgPool {
                    kernel,
                    stride,
                    pads,
                    ..
                } => (LayerKind::Pooling, kernel[0], stride[0], pads[0]),
                Op::BatchNorm { .. } => (LayerKind::BatchNorm, 1, 1, 0),
                Op::Relu | Op::Clip { .. } | Op::LeakyRelu { .. } | Op::PRelu => {
                    (LayerKind::Relu, 1, 1, 0)
                }
                Op::GlobalAvgPool | Op::ReduceMean { .. } => (LayerKind::GlobalPooling, 0, 0, 0),
                Op::Dense { .. } | Op::MatMul => (LayerKind::Dense, 0, 0, 0),
                Op::Add => (LayerKind::Residual, 1, 1, 0),
                _ if s.len() == 2 => (LayerKind::Operation, 0, 0, 0),
                _ => (LayerKind::Operation, 1, 1, 0),
            };
            out.push(LayerGeometry {
                layer: node.name.clone(),
                kind,
                kernel,
                stride,
                padding,
                receptive_field: ReceptiveField {
                    size: 0.0,
                    jump: 0.0,
                    start: 0.0,
                },
                node: Some(NodeInfo {
                    operator: node.op.name().to_string(),
                    output: {
                        let mut o = s.to_vec();
                        o[0] = 1;
                        o
                    },
                    parameters: node
                        .op
                        .layer()
                        .and_then(|l| self.layers.get(l))
                        .map_or(0, crate::model::trainable_parameters),
                }),
            });
        }
        crate::model::with_receptive_fields(out)
    }

    fn pytorch_key(_burn_path: &str) -> Option<String> {
        None
    }

    fn first_filters(&self) -> (&str, Tensor<4>) {
        for node in &self.plan.spec.nodes {
            if let (Op::Conv { layer, .. }, true) = (&node.op, true)
                && let Some(Layer::Conv(c)) = self.layers.get(*layer)
            {
                return (&node.name, c.weight.val());
            }
        }
        unreachable!("checked when the classifier was made")
    }
}

impl Layer {
    /// Its shape and settings.
    pub fn spec(&self) -> LayerSpec {
        match self {
            Layer::Conv(c) => LayerSpec::Conv {
                kernels: c.weight.dims(),
                groups: c.groups,
                bias: c.bias.is_some(),
            },
            Layer::Norm(n) => LayerSpec::Norm {
                features: n.gamma.dims()[0],
                epsilon: n.epsilon,
                momentum: n.momentum,
            },
            Layer::Dense(d) => LayerSpec::Dense {
                shape: d.weight.dims(),
                bias: d.bias.is_some(),
            },
            Layer::Tensor(t) => LayerSpec::Tensor {
                shape: t.dims().to_vec(),
            },
        }
    }

    /// A fresh layer of `spec` on `device`.
    ///
    /// # Errors
    /// [`Error::BadWeights`] for sizes a layer cannot have.
    pub fn init(spec: &LayerSpec, device: &Device) -> Result<Self> {
        let bad = |what: String| Error::BadWeights(format!("the model file's graph: {what}"));
        Ok(match spec {
            LayerSpec::Conv {
                kernels,
                groups,
                bias,
            } => {
                let [o, i, kh, kw] = *kernels;
                if kernels.contains(&0)
                    || *groups == 0
                    || o % groups != 0
                    || elements(kernels) > MAX_ELEMENTS
                {
                    return Err(bad(format!(
                        "a convolution of kernels {kernels:?} in {groups} groups"
                    )));
                }
                Layer::Conv(
                    burn::nn::conv::Conv2dConfig::new([i * groups, o], [kh, kw])
                        .with_groups(*groups)
                        .with_bias(*bias)
                        .init(device),
                )
            }
            LayerSpec::Norm {
                features,
                epsilon,
                momentum,
            } => {
                if *features == 0
                    || *features > MAX_ELEMENTS
                    || !(epsilon.is_finite() && *epsilon > 0.0)
                    || !(0.0..=1.0).contains(momentum)
                {
                    return Err(bad(format!(
                        "a batch normalisation of {features} features, epsilon {epsilon}, momentum {momentum}"
                    )));
                }
                Layer::Norm(
                    burn::nn::BatchNormConfig::new(*features)
                        .with_epsilon(*epsilon)
                        .with_momentum(*momentum)
                        .init(device),
                )
            }
            LayerSpec::Dense { shape, bias } => {
                if shape.contains(&0) || elements(shape) > MAX_ELEMENTS {
                    return Err(bad(format!("a dense layer of {shape:?}")));
                }
                Layer::Dense(
                    burn::nn::LinearConfig::new(shape[0], shape[1])
                        .with_bias(*bias)
                        .init(device),
                )
            }
            LayerSpec::Tensor { shape } => {
                let dims: [usize; 6] = shape
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad(format!("a constant of shape {shape:?} (rank 6 expected)")))?;
                if dims.contains(&0) || elements(&dims) > MAX_ELEMENTS {
                    return Err(bad(format!("a constant of shape {shape:?}")));
                }
                Layer::Tensor(Param::from_tensor(Tensor::zeros(dims, device)))
            }
        })
    }
}

fn elements(dims: &[usize]) -> usize {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .unwrap_or(usize::MAX)
}

/// How pixels in [0, 1] become what an imported network was trained on: `(pixel · scale −
/// mean[c]) / std[c]`, the channels first reversed for `bgr`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Normalise {
    /// Per channel (one value: every channel).
    #[serde(default)]
    pub mean: Vec<f32>,
    /// Per channel (one value: every channel).
    #[serde(default)]
    pub std: Vec<f32>,
    /// What a pixel of 1 becomes before the mean is taken away (1, or 255 for networks trained
    /// on bytes).
    #[serde(default = "one")]
    pub scale: f32,
    /// Whether the network reads blue, green, red.
    #[serde(default)]
    pub bgr: bool,
}

fn one() -> f32 {
    1.0
}

impl Graph {
    /// The graph and its layers' shapes, for a model file.
    pub fn file(&self) -> GraphFile {
        GraphFile {
            graph: self.plan.spec.clone(),
            layers: self.layers.iter().map(Layer::spec).collect(),
        }
    }

    /// The graph `file` describes with fresh layers on `device` (a model file's tensors are then
    /// loaded into it).
    ///
    /// # Errors
    /// [`Error::BadWeights`] for layers that cannot be made or a graph that does not hold
    /// together.
    pub fn skeleton(file: &GraphFile, device: &Device) -> Result<Self> {
        let layers = file
            .layers
            .iter()
            .map(|l| Layer::init(l, device))
            .collect::<Result<Vec<_>>>()?;
        Graph::new(file.graph.clone(), layers).map_err(|e| match e {
            Error::BadInput(m) => Error::BadWeights(format!("the model file's graph: {m}")),
            e => e,
        })
    }

    /// The same network reading pixels in [0, 1]: `normalise`'s nodes go first.
    ///
    /// # Errors
    /// [`Error::BadInput`] for a mean or std of another length than the channels, a std of 0 or
    /// values that are not finite.
    pub fn with_normalise(self, normalise: &Normalise, device: &Device) -> Result<Self> {
        let (mut spec, mut layers) = self.into_parts();
        let c = spec.input_shape.first().copied().unwrap_or(1);
        let per = |v: &[f32], default: f32, what: &str| -> Result<Vec<f32>> {
            match v.len() {
                0 => Ok(vec![default; c]),
                1 => Ok(vec![v[0]; c]),
                n if n == c => Ok(v.to_vec()),
                n => Err(Error::BadInput(format!(
                    "input.{what}: {n} values for {c} channels"
                ))),
            }
        };
        let mean = per(&normalise.mean, 0.0, "mean")?;
        let std = per(&normalise.std, 1.0, "std")?;
        if std.iter().any(|&s| s == 0.0 || !s.is_finite())
            || mean.iter().any(|m| !m.is_finite())
            || !normalise.scale.is_finite()
            || normalise.scale == 0.0
        {
            return Err(Error::BadInput(
                "input: mean, std and scale must be finite, std and scale not 0".into(),
            ));
        }
        let raw = format!("{}.pixels", spec.input);
        let mut nodes = Vec::new();
        let mut shape = vec![c];
        shape.extend(std::iter::repeat_n(
            1,
            spec.input_shape.len().saturating_sub(1),
        ));
        let konst = |values: Vec<f32>, layers: &mut Vec<Layer>| {
            let t = Tensor::<6>::from_data(TensorData::new(values, pad6(&shape)), device);
            layers.push(Layer::Tensor(Param::from_tensor(t).set_require_grad(false)));
            layers.len() - 1
        };
        let mut current = raw.clone();
        if normalise.bgr && c > 1 {
            let parts: Vec<String> = (0..c).map(|i| format!("{raw}.channel{i}")).collect();
            nodes.push(NodeSpec {
                name: "convlens.channels".into(),
                op: Op::Split {
                    axis: 1,
                    sizes: vec![1; c],
                },
                inputs: vec![Some(current.clone())],
                outputs: parts.clone(),
            });
            current = format!("{raw}.bgr");
            nodes.push(NodeSpec {
                name: "convlens.bgr".into(),
                op: Op::Concat { axis: 1 },
                inputs: parts.into_iter().rev().map(Some).collect(),
                outputs: vec![current.clone()],
            });
        }
        let scale: Vec<f32> = std.iter().map(|s| normalise.scale / s).collect();
        let shift: Vec<f32> = mean.iter().zip(&std).map(|(m, s)| m / s).collect();
        for (name, values, op) in [("scale", scale, Op::Mul), ("shift", shift, Op::Sub)] {
            let layer = konst(values, &mut layers);
            let k = format!("convlens.{name}");
            nodes.push(NodeSpec {
                name: k.clone(),
                op: Op::Const {
                    layer,
                    shape: shape.clone(),
                },
                inputs: vec![],
                outputs: vec![k.clone()],
            });
            let out = format!("{raw}.{name}d");
            nodes.push(NodeSpec {
                name: format!("convlens.{name}d"),
                op,
                inputs: vec![Some(current.clone()), Some(k)],
                outputs: vec![out.clone()],
            });
            current = out;
        }
        // The network's own input is now the last normalising node's output.
        for node in &mut spec.nodes {
            for input in node.inputs.iter_mut().flatten() {
                if *input == spec.input {
                    *input = current.clone();
                }
            }
        }
        if spec.output == spec.input {
            spec.output = current.clone();
        }
        let mut all = nodes;
        all.append(&mut spec.nodes);
        spec.nodes = all;
        spec.input = raw;
        Graph::new(spec, layers)
    }

    /// The same network with a fresh classifying layer of `classes` outputs in place of the
    /// node `cut` (by default the head: the last dense node, or the last convolution), seeded
    /// from the device's generator; nodes after the cut that have layers are dropped.
    ///
    /// # Errors
    /// [`Error::BadInput`] for a cut that names no dense or convolution node, or one after which
    /// the output is not `[batch, classes]`.
    pub fn with_head(self, classes: usize, cut: Option<&str>, device: &Device) -> Result<Self> {
        let plan = self.plan.clone();
        let index = match cut {
            Some(name) => plan
                .spec
                .nodes
                .iter()
                .position(|n| n.name == name && matches!(n.op, Op::Dense { .. } | Op::Conv { .. }))
                .ok_or_else(|| {
                    let cuts: Vec<&str> = plan
                        .spec
                        .nodes
                        .iter()
                        .filter(|n| matches!(n.op, Op::Dense { .. } | Op::Conv { .. }))
                        .map(|n| n.name.as_str())
                        .collect();
                    Error::BadInput(format!(
                        "cut: no dense or convolution node {name:?}; one of {}",
                        cuts.join(", ")
                    ))
                })?,
            None => plan.head.as_ref().map(|(i, _)| *i).ok_or_else(|| {
                Error::BadInput("the network has no dense or convolution node to replace".into())
            })?,
        };
        let (mut spec, mut layers) = self.into_parts();
        let node = &spec.nodes[index];
        let old = node.op.layer().unwrap_or(0);
        let fresh = match &layers[old] {
            Layer::Dense(d) => {
                let [k, _] = d.weight.dims();
                Layer::Dense(burn::nn::LinearConfig::new(k, classes).init(device))
            }
            Layer::Conv(c) => {
                let [_, i, kh, kw] = c.weight.dims();
                if c.groups != 1 {
                    return Err(Error::BadInput(format!(
                        "cut: {:?} is a grouped convolution",
                        node.name
                    )));
                }
                Layer::Conv(
                    burn::nn::conv::Conv2dConfig::new([i, classes], [kh, kw])
                        .with_bias(true)
                        .init(device),
                )
            }
            _ => unreachable!("a dense or convolution node"),
        };
        layers[old] = fresh;
        // The nodes after the cut: kept when they have no layers of their own.
        let head_out = spec.nodes[index].outputs[0].clone();
        let tail: Vec<NodeSpec> = spec.nodes.split_off(index + 1);
        let keep = tail
            .iter()
            .all(|n| n.op.layer().is_none() || matches!(n.op, Op::Const { .. }));
        if keep {
            spec.nodes.extend(tail);
        } else {
            spec.output = head_out;
        }
        let graph = Graph::new(spec, layers)?;
        let out = graph.plan.metas[graph.plan.output].shape().to_vec();
        if out.len() != 2 || out[1] != classes {
            return Err(Error::BadInput(format!(
                "cut: after a new head at {:?} the output is {out:?}, not [batch, {classes}]",
                graph.plan.spec.nodes[index].name
            )));
        }
        Ok(graph)
    }

    /// Checks what the classifier's calls assume: one image `[c, h, w]` in, `[batch, classes]`
    /// out, a convolution and a head that can be cut.
    ///
    /// # Errors
    /// [`Error::Unsupported`] saying which does not hold.
    pub fn check_classifier(&self) -> Result<()> {
        let plan = &self.plan;
        if !plan.dynamic_batch && plan.spec.batch.unwrap_or(1) != 1 {
            return Err(Error::Unsupported(format!(
                "the network runs only batches of {} (its file fixes the batch)",
                plan.spec.batch.unwrap_or(1)
            )));
        }
        if plan.spec.input_shape.len() != 3 {
            return Err(Error::Unsupported(format!(
                "the input must be images [batch, channels, height, width]; this network reads {:?}",
                plan.spec.input_shape
            )));
        }
        let out = plan.metas[plan.output].shape();
        if out.len() != 2 || matches!(plan.metas[plan.output], Meta::I(..)) {
            return Err(Error::Unsupported(format!(
                "the output must be class scores [batch, classes]; this network gives {out:?}"
            )));
        }
        if !plan
            .spec
            .nodes
            .iter()
            .any(|n| matches!(n.op, Op::Conv { .. }))
        {
            return Err(Error::Unsupported("the network has no convolution".into()));
        }
        if plan.head.is_none() || !plan.tail_is_local {
            return Err(Error::Unsupported(
                "the network has no dense or convolution node whose output alone leads to the class scores".into(),
            ));
        }
        Ok(())
    }
}
