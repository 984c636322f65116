//! A network as data: named values, and nodes that read and write them. What an imported ONNX
//! file becomes, and what a model file keeps of it (the tensors live in the module's layers).

use serde::{Deserialize, Serialize};

/// A whole network: one input, the nodes in an order in which each reads only values already
/// written, and one output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphSpec {
    /// The input value's name.
    pub input: String,
    /// One input's shape, without the batch dimension (e.g. `[3, 224, 224]`).
    pub input_shape: Vec<usize>,
    /// The batch size the file fixes (`None`: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    /// The nodes, in an order in which each reads only the input and earlier nodes' outputs.
    pub nodes: Vec<NodeSpec>,
    /// The output value's name.
    pub output: String,
}

/// One node: an operator, the values it reads (`None`: an optional input left out) and those
/// it writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSpec {
    /// Its name (the ONNX node's, or one made from its index).
    pub name: String,
    /// What it computes.
    pub op: Op,
    /// The values it reads.
    pub inputs: Vec<Option<String>>,
    /// The values it writes.
    pub outputs: Vec<String>,
}

/// How `Pad` fills.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PadKind {
    /// A constant value.
    Constant,
    /// The edge's mirror, without the edge.
    Reflect,
    /// The edge value repeated.
    Edge,
}

/// How `Resize` samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResizeKind {
    /// Nearest neighbour, as PyTorch's `nearest` (asymmetric coordinates, rounded down).
    Nearest,
    /// Bilinear with half-pixel coordinates (PyTorch's `align_corners=False`).
    Linear,
    /// Bilinear with the corners aligned.
    LinearAlignCorners,
}

/// An operator with its settings (ONNX's semantics; axes may be negative, counted from the
/// end). `layer` is an index into the graph module's layers, where the node's tensors live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
pub enum Op {
    /// A float tensor of this shape, held as a layer (an initializer or a `Constant`).
    Const {
        layer: usize,
        shape: Vec<usize>,
    },
    /// An integer tensor (shapes, axes, indices), computed on the host.
    Ints {
        values: Vec<i64>,
        shape: Vec<usize>,
    },
    /// 2-D convolution (`[n, c, h, w]`), pads `[top, left, bottom, right]`.
    Conv {
        layer: usize,
        stride: [usize; 2],
        pads: [usize; 4],
        dilation: [usize; 2],
        groups: usize,
    },
    /// Batch normalisation over axis 1.
    BatchNorm {
        layer: usize,
    },
    /// `x · W + b` on the last axis (Gemm, or MatMul by a constant).
    Dense {
        layer: usize,
    },
    Relu,
    LeakyRelu {
        alpha: f32,
    },
    /// `x` where positive, `slope · x` elsewhere (the slope is the second input).
    PRelu,
    Clip {
        min: f32,
        max: f32,
    },
    Sigmoid,
    HardSigmoid {
        alpha: f32,
        beta: f32,
    },
    HardSwish,
    Tanh,
    Erf,
    Gelu {
        tanh: bool,
    },
    Softmax {
        axis: i64,
    },
    MaxPool {
        kernel: [usize; 2],
        stride: [usize; 2],
        pads: [usize; 4],
        dilation: [usize; 2],
        ceil: bool,
    },
    AvgPool {
        kernel: [usize; 2],
        stride: [usize; 2],
        pads: [usize; 4],
        count_include_pad: bool,
        ceil: bool,
    },
    GlobalAvgPool,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Sqrt,
    /// Matrix product of two computed values (numpy's `matmul`).
    MatMul,
    Concat {
        axis: i64,
    },
    Split {
        axis: i64,
        sizes: Vec<usize>,
    },
    Flatten {
        axis: i64,
    },
    /// To the shape its second input holds (0 copies a dimension unless `allowzero`, −1 is
    /// inferred).
    Reshape {
        allowzero: bool,
    },
    Squeeze {
        axes: Option<Vec<i64>>,
    },
    Unsqueeze {
        axes: Vec<i64>,
    },
    Transpose {
        perm: Option<Vec<usize>>,
    },
    /// `pads`: every axis's before, then every axis's after (ONNX's order).
    Pad {
        pads: Vec<i64>,
        kind: PadKind,
        value: f32,
    },
    ReduceMean {
        axes: Option<Vec<i64>>,
        keepdims: bool,
    },
    /// To `sizes` of the last two axes (`[n, c, h, w]`).
    Resize {
        kind: ResizeKind,
        sizes: Option<[usize; 2]>,
        scales: Option<[f32; 2]>,
    },
    Identity,
    /// The input's shape (`start`..`end` of it), as integers.
    Shape {
        start: i64,
        end: Option<i64>,
    },
    /// Integers picked along `axis` by the indices (the second input).
    Gather {
        axis: i64,
    },
    /// Along `axes`, from `starts` to `ends` in `steps` (ONNX's clamping).
    Slice {
        starts: Vec<i64>,
        ends: Vec<i64>,
        axes: Vec<i64>,
        steps: Vec<i64>,
    },
    /// Integers to floats (`float`), or unchanged.
    Cast {
        float: bool,
    },
}

impl Op {
    /// The ONNX operator this is (for messages and the node list).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Const { .. } | Op::Ints { .. } => "Constant",
            Op::Conv { .. } => "Conv",
            Op::BatchNorm { .. } => "BatchNormalization",
            Op::Dense { .. } => "Gemm",
            Op::Relu => "Relu",
            Op::LeakyRelu { .. } => "LeakyRelu",
            Op::PRelu => "PRelu",
            Op::Clip { .. } => "Clip",
            Op::Sigmoid => "Sigmoid",
            Op::HardSigmoid { .. } => "HardSigmoid",
            Op::HardSwish => "HardSwish",
            Op::Tanh => "Tanh",
            Op::Erf => "Erf",
            Op::Gelu { .. } => "Gelu",
            Op::Softmax { .. } => "Softmax",
            Op::MaxPool { .. } => "MaxPool",
            Op::AvgPool { .. } => "AveragePool",
            Op::GlobalAvgPool => "GlobalAveragePool",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::Div => "Div",
            Op::Pow => "Pow",
            Op::Sqrt => "Sqrt",
            Op::MatMul => "MatMul",
            Op::Concat { .. } => "Concat",
            Op::Split { .. } => "Split",
            Op::Flatten { .. } => "Flatten",
            Op::Reshape { .. } => "Reshape",
            Op::Squeeze { .. } => "Squeeze",
            Op::Unsqueeze { .. } => "Unsqueeze",
            Op::Transpose { .. } => "Transpose",
            Op::Pad { .. } => "Pad",
            Op::ReduceMean { .. } => "ReduceMean",
            Op::Resize { .. } => "Resize",
            Op::Identity => "Identity",
            Op::Shape { .. } => "Shape",
            Op::Gather { .. } => "Gather",
            Op::Slice { .. } => "Slice",
            Op::Cast { .. } => "Cast",
        }
    }

    /// The layer holding this node's tensors, if it has any.
    pub fn layer(&self) -> Option<usize> {
        match self {
            Op::Const { layer, .. }
            | Op::Conv { layer, .. }
            | Op::BatchNorm { layer }
            | Op::Dense { layer } => Some(*layer),
            _ => None,
        }
    }
}

/// The shape and settings of one layer: what rebuilds the module before a model file's tensors
/// are loaded into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum LayerSpec {
    /// Kernels `[out, in / groups, kh, kw]`.
    Conv {
        kernels: [usize; 4],
        groups: usize,
        bias: bool,
    },
    /// Batch normalisation of `features` channels (`momentum`: the weight of a new batch).
    Norm {
        features: usize,
        epsilon: f64,
        momentum: f64,
    },
    /// `[in, out]` weights.
    Dense { shape: [usize; 2], bias: bool },
    /// A constant of this shape.
    Tensor { shape: Vec<usize> },
}

/// A graph and its layers' shapes: what a model file keeps of an imported network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphFile {
    /// The graph.
    pub graph: GraphSpec,
    /// Its layers, by index.
    pub layers: Vec<LayerSpec>,
}
