//! What each node gives, known before any tensor is touched: the shape of every float value and
//! the values of the integer ones (shapes, axes). Every condition a tensor operation would panic
//! on is checked here, so that a graph that passes runs without panicking.

use super::spec::Op;

/// What a value is, short of its floats.
#[derive(Debug, Clone, PartialEq)]
pub enum Meta {
    /// A float tensor of this shape.
    F(Vec<usize>),
    /// Integers of this shape (`[]`: a scalar), known on the host.
    I(Vec<i64>, Vec<usize>),
}

impl Meta {
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Meta::F(s) | Meta::I(_, s) => s,
        }
    }
}

/// The shapes of a layer's tensors, as far as the shape rules need them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LayerDims {
    /// `[out, in / groups, kh, kw]`.
    Conv([usize; 4]),
    /// Channels.
    Norm(usize),
    /// `[in, out]`.
    Dense([usize; 2]),
    /// A constant.
    Tensor,
}

/// The most dimensions a value may have (the tensors are held with this rank).
pub const MAX_RANK: usize = 6;
/// The most elements one value may have (2^28 floats: 1 GiB).
pub const MAX_ELEMENTS: usize = 1 << 28;

type R<T> = std::result::Result<T, String>;

/// How a shape rule's message starts when the graph is valid but needs what convlens does not
/// do (a 0-size value, a rank-1 matrix product): the importer makes it `UNSUPPORTED`.
pub const NOT_SUPPORTED: &str = "not supported: ";

fn unsupported<T>(msg: impl std::fmt::Display) -> R<T> {
    Err(format!("{NOT_SUPPORTED}{msg}"))
}

/// `axis` (negative: from the end) among `rank` axes.
pub fn axis(a: i64, rank: usize) -> R<usize> {
    let r = rank as i64;
    if a < -r || a >= r.max(1) {
        return Err(format!("axis {a} is outside a rank-{rank} value"));
    }
    Ok(if a < 0 { (a + r) as usize } else { a as usize })
}

fn elements(shape: &[usize]) -> R<usize> {
    let mut n: usize = 1;
    for &d in shape {
        n = n
            .checked_mul(d)
            .filter(|&n| n <= MAX_ELEMENTS)
            .ok_or_else(|| format!("a value of shape {shape:?} is over {MAX_ELEMENTS} elements"))?;
    }
    Ok(n)
}

fn checked(shape: Vec<usize>) -> R<Vec<usize>> {
    if shape.len() > MAX_RANK {
        return Err(format!(
            "a value of rank {} (shape {shape:?}); at most {MAX_RANK} dimensions",
            shape.len()
        ));
    }
    if shape.contains(&0) {
        return unsupported(format!(
            "a value of shape {shape:?} has a 0-size dimension (convlens holds no empty tensors)"
        ));
    }
    elements(&shape)?;
    Ok(shape)
}

/// Numpy's broadcast of two shapes.
pub fn broadcast(a: &[usize], b: &[usize]) -> R<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            a[i + a.len() - rank]
        } else {
            1
        };
        let db = if i + b.len() >= rank {
            b[i + b.len() - rank]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return Err(format!("shapes {a:?} and {b:?} do not broadcast")),
        };
    }
    Ok(out)
}

fn float(m: &Meta, what: &str) -> R<Vec<usize>> {
    match m {
        Meta::F(s) => Ok(s.clone()),
        Meta::I(..) => Err(format!("{what} must be floats, got integers")),
    }
}

fn ints(m: &Meta, what: &str) -> R<Vec<i64>> {
    match m {
        Meta::I(v, _) => Ok(v.clone()),
        Meta::F(_) => Err(format!(
            "{what} must be integers known before the run (a constant or a shape), got floats"
        )),
    }
}

/// Output side of a convolution or pooling window.
fn window(
    size: usize,
    pad: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    ceil: bool,
) -> R<usize> {
    let span = dilation
        .checked_mul(kernel.saturating_sub(1))
        .and_then(|s| s.checked_add(1))
        .filter(|&s| s <= MAX_ELEMENTS && stride > 0 && kernel > 0)
        .ok_or_else(|| {
            format!("a window of kernel {kernel}, stride {stride}, dilation {dilation}")
        })?;
    let padded = size
        .checked_add(pad)
        .filter(|&p| p <= MAX_ELEMENTS)
        .ok_or_else(|| format!("pads of {pad}"))?;
    if padded < span {
        return Err(format!(
            "a window of {span} does not fit {size} pixels padded by {pad}"
        ));
    }
    let n = padded - span;
    Ok(if ceil { n.div_ceil(stride) } else { n / stride } + 1)
}

fn pool_shape(
    x: &[usize],
    kernel: [usize; 2],
    stride: [usize; 2],
    pads: [usize; 4],
    dilation: [usize; 2],
    ceil: bool,
) -> R<Vec<usize>> {
    let [n, c, h, w] = rank4(x)?;
    let mut out = [0; 2];
    for i in 0..2 {
        let size = [h, w][i];
        let mut o = window(
            size,
            pads[i] + pads[i + 2],
            kernel[i],
            stride[i],
            dilation[i],
            ceil,
        )?;
        // A last window that would start in the padding after the input is dropped.
        if ceil && (o - 1) * stride[i] >= size + pads[i] {
            o -= 1;
        }
        out[i] = o;
    }
    if pads[0] >= kernel[0] || pads[2] >= kernel[0] || pads[1] >= kernel[1] || pads[3] >= kernel[1]
    {
        return Err(format!("pads {pads:?} as large as the kernel {kernel:?}"));
    }
    Ok(vec![n, c, out[0], out[1]])
}

fn rank4(x: &[usize]) -> R<[usize; 4]> {
    <[usize; 4]>::try_from(x).map_err(|_| format!("needs a rank-4 [n, c, h, w] input, got {x:?}"))
}

fn int_binary(op: &Op, a: &Meta, b: &Meta) -> R<Meta> {
    let (Meta::I(va, sa), Meta::I(vb, sb)) = (a, b) else {
        return Err("mixes integers and floats".into());
    };
    let shape = broadcast(sa, sb)?;
    let n: usize = shape.iter().product();
    if va.len() != n && va.len() != 1 || vb.len() != n && vb.len() != 1 {
        return Err(format!(
            "integer broadcasting of {sa:?} and {sb:?} is not supported"
        ));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (x, y) = (va[i % va.len()], vb[i % vb.len()]);
        out.push(
            match op {
                Op::Add => x.checked_add(y),
                Op::Sub => x.checked_sub(y),
                Op::Mul => x.checked_mul(y),
                Op::Div => x.checked_div(y),
                _ => None,
            }
            .ok_or_else(|| format!("integer {} of {x} and {y} overflows", op.name()))?,
        );
    }
    Ok(Meta::I(out, shape))
}

/// ONNX's clamping of one axis's slice: the indices it keeps.
fn slice_range(dim: usize, start: i64, end: i64, step: i64) -> Vec<usize> {
    let d = dim as i64;
    let clamp = |v: i64, lo: i64, hi: i64| v.max(lo).min(hi);
    let norm = |v: i64| if v < 0 { v + d } else { v };
    let mut out = Vec::new();
    if step > 0 {
        let (s, e) = (clamp(norm(start), 0, d), clamp(norm(end), 0, d));
        let mut i = s;
        while i < e {
            out.push(i as usize);
            match i.checked_add(step) {
                Some(next) => i = next,
                None => break,
            }
        }
    } else {
        let (s, e) = (clamp(norm(start), -1, d - 1), clamp(norm(end), -1, d - 1));
        let mut i = s;
        while i > e {
            out.push(i as usize);
            match i.checked_add(step) {
                Some(next) => i = next,
                None => break,
            }
        }
    }
    out
}

/// The indices a Slice keeps along each axis of `shape` (`None`: the whole axis).
pub fn slice_plan(
    shape: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: &[i64],
    steps: &[i64],
) -> R<Vec<Option<Vec<usize>>>> {
    let mut plan: Vec<Option<Vec<usize>>> = vec![None; shape.len()];
    for (i, &a) in axes.iter().enumerate() {
        let ax = axis(a, shape.len())?;
        if plan[ax].is_some() {
            return Err(format!("axis {a} is sliced twice"));
        }
        let step = steps.get(i).copied().unwrap_or(1);
        if step == 0 {
            return Err("a step of 0".into());
        }
        let keep = slice_range(shape[ax], starts[i], ends[i], step);
        if keep.is_empty() {
            return unsupported(format!("slicing axis {a} leaves nothing (an empty tensor)"));
        }
        plan[ax] = Some(keep);
    }
    Ok(plan)
}

/// What `op` gives for inputs described by `inputs` (`None`: an optional input left out).
/// `layer` tells the shapes of the node's layer.
///
/// # Errors
/// A sentence saying what does not fit.
pub fn infer(op: &Op, inputs: &[Option<&Meta>], layer: Option<LayerDims>) -> R<Vec<Meta>> {
    let get = |i: usize| -> R<&Meta> {
        inputs
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| format!("input {i} is missing"))
    };
    let x = || get(0);
    let same = |what: &str| -> R<Vec<Meta>> { Ok(vec![Meta::F(float(x()?, what)?)]) };
    let out = match op {
        Op::Const { shape, .. } => Meta::F(checked(shape.clone())?),
        Op::Ints { values, shape } => Meta::I(values.clone(), shape.clone()),
        Op::Conv {
            stride,
            pads,
            dilation,
            groups,
            ..
        } => {
            let [n, c, h, w] = rank4(&float(x()?, "the input")?)?;
            let Some(LayerDims::Conv([m, cg, kh, kw])) = layer else {
                return Err("has no kernel".into());
            };
            if c != cg * groups || m % groups != 0 {
                return Err(format!(
                    "{c} input channels do not fit kernels of {cg} channels in {groups} groups (out {m})"
                ));
            }
            let oh = window(h, pads[0] + pads[2], kh, stride[0], dilation[0], false)?;
            let ow = window(w, pads[1] + pads[3], kw, stride[1], dilation[1], false)?;
            Meta::F(checked(vec![n, m, oh, ow])?)
        }
        Op::BatchNorm { .. } => {
            let s = float(x()?, "the input")?;
            let Some(LayerDims::Norm(c)) = layer else {
                return Err("has no statistics".into());
            };
            if s.len() < 2 || s.len() > 5 || s[1] != c {
                return Err(format!("input {s:?} does not have {c} channels on axis 1"));
            }
            Meta::F(s)
        }
        Op::Dense { .. } => {
            let mut s = float(x()?, "the input")?;
            let Some(LayerDims::Dense([i, o])) = layer else {
                return Err("has no weights".into());
            };
            if s.last() != Some(&i) || s.len() < 2 {
                return Err(format!("input {s:?} does not end in {i} features"));
            }
            *s.last_mut().unwrap_or(&mut 0) = o;
            Meta::F(checked(s)?)
        }
        Op::Relu
        | Op::LeakyRelu { .. }
        | Op::Clip { .. }
        | Op::Sigmoid
        | Op::HardSigmoid { .. }
        | Op::HardSwish
        | Op::Tanh
        | Op::Erf
        | Op::Gelu { .. }
        | Op::Sqrt => return same("the input"),
        Op::PRelu => {
            let s = float(x()?, "the input")?;
            let slope = float(get(1)?, "the slope")?;
            if broadcast(&s, &slope)? != s {
                return Err(format!("slope {slope:?} does not broadcast to {s:?}"));
            }
            Meta::F(s)
        }
        Op::Softmax { axis: a } => {
            let s = float(x()?, "the input")?;
            axis(*a, s.len())?;
            Meta::F(s)
        }
        Op::MaxPool {
            kernel,
            stride,
            pads,
            dilation,
            ceil,
        } => Meta::F(pool_shape(
            &float(x()?, "the input")?,
            *kernel,
            *stride,
            *pads,
            *dilation,
            *ceil,
        )?),
        Op::AvgPool {
            kernel,
            stride,
            pads,
            ceil,
            ..
        } => Meta::F(pool_shape(
            &float(x()?, "the input")?,
            *kernel,
            *stride,
            *pads,
            [1, 1],
            *ceil,
        )?),
        Op::GlobalAvgPool => {
            let [n, c, _, _] = rank4(&float(x()?, "the input")?)?;
            Meta::F(vec![n, c, 1, 1])
        }
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow => {
            let (a, b) = (x()?, get(1)?);
            match (a, b) {
                (Meta::F(sa), Meta::F(sb)) => Meta::F(checked(broadcast(sa, sb)?)?),
                (Meta::F(sa), Meta::I(_, sb)) if matches!(op, Op::Pow) => {
                    Meta::F(checked(broadcast(sa, sb)?)?)
                }
                _ if matches!(op, Op::Pow) => return unsupported("integer bases of Pow"),
                _ => int_binary(op, a, b)?,
            }
        }
        Op::MatMul => {
            let a = float(x()?, "A")?;
            let b = float(get(1)?, "B")?;
            if a.len() < 2 || b.len() < 2 {
                return unsupported(format!(
                    "a matrix product of {a:?} and {b:?} (rank-1 operands)"
                ));
            }
            if a[a.len() - 1] != b[b.len() - 2] {
                return Err(format!(
                    "matrix product of {a:?} and {b:?}: inner sizes differ"
                ));
            }
            let mut s = broadcast(&a[..a.len() - 2], &b[..b.len() - 2])?;
            s.extend([a[a.len() - 2], b[b.len() - 1]]);
            Meta::F(checked(s)?)
        }
        Op::Concat { axis: a } => {
            let all: Vec<&Meta> = inputs.iter().flatten().copied().collect();
            let first = all.first().ok_or("has no inputs")?;
            let rank = first.shape().len();
            let ax = axis(*a, rank)?;
            match first {
                Meta::I(..) => {
                    let mut values = Vec::new();
                    for m in &all {
                        values.extend(ints(m, "every input")?);
                        if m.shape().len() != 1 {
                            return Err("integer concatenation needs 1-D inputs".into());
                        }
                    }
                    let n = values.len();
                    Meta::I(values, vec![n])
                }
                Meta::F(s0) => {
                    let mut s = s0.clone();
                    s[ax] = 0;
                    for m in &all {
                        let si = float(m, "every input")?;
                        if si.len() != rank
                            || si
                                .iter()
                                .zip(s0)
                                .enumerate()
                                .any(|(i, (p, q))| i != ax && p != q)
                        {
                            return Err(format!("inputs {s0:?} and {si:?} differ off axis {a}"));
                        }
                        s[ax] += si[ax];
                    }
                    Meta::F(checked(s)?)
                }
            }
        }
        Op::Split { axis: a, sizes } => {
            let s = float(x()?, "the input")?;
            let ax = axis(*a, s.len())?;
            if sizes.iter().sum::<usize>() != s[ax] || sizes.contains(&0) {
                return Err(format!(
                    "sizes {sizes:?} do not split {} on axis {a}",
                    s[ax]
                ));
            }
            return Ok(sizes
                .iter()
                .map(|&n| {
                    let mut o = s.clone();
                    o[ax] = n;
                    Meta::F(o)
                })
                .collect());
        }
        Op::Flatten { axis: a } => {
            let s = float(x()?, "the input")?;
            let r = s.len() as i64;
            if *a < -r || *a > r {
                return Err(format!("axis {a} is outside a rank-{r} value"));
            }
            let ax = if *a < 0 {
                (a + r) as usize
            } else {
                *a as usize
            };
            Meta::F(vec![s[..ax].iter().product(), s[ax..].iter().product()])
        }
        Op::Reshape { allowzero } => {
            let data = x()?;
            let target = ints(get(1)?, "the shape")?;
            let s = data.shape();
            let total = elements(s)?;
            let mut out = Vec::with_capacity(target.len());
            let mut infer_at = None;
            for (i, &t) in target.iter().enumerate() {
                out.push(match t {
                    0 if !allowzero => *s.get(i).ok_or("a 0 beyond the input's rank")?,
                    -1 if infer_at.is_none() => {
                        infer_at = Some(i);
                        1
                    }
                    t if t > 0 => t as usize,
                    0 => return unsupported(format!("shape {target:?} has a 0-size dimension")),
                    t => return Err(format!("shape {target:?} has {t}")),
                });
            }
            let known = elements(&out)?;
            if let Some(i) = infer_at {
                if known == 0 || total % known != 0 {
                    return Err(format!("{s:?} cannot be reshaped to {target:?}"));
                }
                out[i] = total / known;
            } else if known != total {
                return Err(format!("{s:?} cannot be reshaped to {target:?}"));
            }
            reshaped(data, checked(out)?)?
        }
        Op::Squeeze { axes } => {
            let data = x()?;
            let s = data.shape();
            let drop: Vec<usize> = match axes {
                Some(axes) => {
                    let mut d = Vec::new();
                    for &a in axes {
                        let ax = axis(a, s.len())?;
                        if s[ax] != 1 {
                            return Err(format!("axis {a} of {s:?} is not 1"));
                        }
                        d.push(ax);
                    }
                    d
                }
                None => (0..s.len()).filter(|&i| s[i] == 1).collect(),
            };
            let out = s
                .iter()
                .enumerate()
                .filter(|(i, _)| !drop.contains(i))
                .map(|(_, &d)| d)
                .collect();
            reshaped(data, out)?
        }
        Op::Unsqueeze { axes } => {
            let data = x()?;
            let s = data.shape();
            let rank = s.len() + axes.len();
            let mut at = Vec::new();
            for &a in axes {
                let ax = axis(a, rank)?;
                if at.contains(&ax) {
                    return Err(format!("axis {a} twice"));
                }
                at.push(ax);
            }
            let mut rest = s.iter();
            let out = (0..rank)
                .map(|i| {
                    if at.contains(&i) {
                        1
                    } else {
                        *rest.next().unwrap_or(&1)
                    }
                })
                .collect();
            reshaped(data, checked(out)?)?
        }
        Op::Transpose { perm } => {
            let s = float(x()?, "the input")?;
            let p = perm_of(perm.as_deref(), s.len())?;
            Meta::F(p.iter().map(|&i| s[i]).collect())
        }
        Op::Pad { pads, kind, .. } => {
            let s = float(x()?, "the input")?;
            let r = s.len();
            if pads.len() != 2 * r {
                return Err(format!("{} pads for a rank-{r} input", pads.len()));
            }
            let mut out = s.clone();
            for i in 0..r {
                let (b, a) = (pads[i], pads[i + r]);
                if b < 0 || a < 0 {
                    return Err(format!(
                        "negative pads {pads:?} (cropping) are not supported"
                    ));
                }
                if *kind == super::spec::PadKind::Reflect
                    && (b as usize >= s[i] || a as usize >= s[i])
                {
                    return Err(format!("reflect pads {pads:?} as large as the input {s:?}"));
                }
                out[i] = s[i]
                    .checked_add(b as usize)
                    .and_then(|v| v.checked_add(a as usize))
                    .filter(|&v| v <= MAX_ELEMENTS)
                    .ok_or_else(|| format!("pads {pads:?} are too large"))?;
            }
            Meta::F(checked(out)?)
        }
        Op::ReduceMean { axes, keepdims } => {
            let s = float(x()?, "the input")?;
            let all: Vec<usize> = match axes {
                Some(a) => a.iter().map(|&a| axis(a, s.len())).collect::<R<_>>()?,
                None => (0..s.len()).collect(),
            };
            let out: Vec<usize> = (0..s.len())
                .filter_map(|i| match (all.contains(&i), keepdims) {
                    (true, true) => Some(1),
                    (true, false) => None,
                    _ => Some(s[i]),
                })
                .collect();
            Meta::F(out)
        }
        Op::Resize { sizes, scales, .. } => {
            let [n, c, h, w] = rank4(&float(x()?, "the input")?)?;
            let [oh, ow] = match (sizes, scales) {
                (Some(s), _) => *s,
                (None, Some([sh, sw])) => [
                    (h as f32 * sh).floor() as usize,
                    (w as f32 * sw).floor() as usize,
                ],
                _ => return Err("needs scales or sizes".into()),
            };
            Meta::F(checked(vec![n, c, oh, ow])?)
        }
        Op::Identity => x()?.clone(),
        Op::Shape { start, end } => {
            let s = x()?.shape();
            let r = s.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let (a, b) = (clamp(*start), clamp(end.unwrap_or(r)));
            let v: Vec<i64> = s[a..b.max(a)].iter().map(|&d| d as i64).collect();
            let n = v.len();
            Meta::I(v, vec![n])
        }
        Op::Gather { axis: a } => {
            let ds = x()?.shape().to_vec();
            let (idx, is) = match get(1)? {
                Meta::I(v, s) => (v.clone(), s.clone()),
                Meta::F(_) => return Err("indices must be integers".into()),
            };
            if let Meta::F(_) = x()? {
                let ax = axis(*a, ds.len())?;
                let n = ds[ax] as i64;
                if let Some(i) = idx.iter().find(|&&i| i < -n || i >= n) {
                    return Err(format!("index {i} outside {n} values"));
                }
                let mut out = ds[..ax].to_vec();
                out.extend(&is);
                out.extend(&ds[ax + 1..]);
                return Ok(vec![Meta::F(checked(out)?)]);
            }
            let data = ints(x()?, "Gather's data")?;
            if ds.len() > 1 || axis(*a, 1)? != 0 {
                return unsupported("Gather on integers of rank 2 or more");
            }
            let n = data.len() as i64;
            let mut out = Vec::new();
            for i in idx {
                let j = if i < 0 { i + n } else { i };
                if j < 0 || j >= n {
                    return Err(format!("index {i} outside {n} values"));
                }
                out.push(data[j as usize]);
            }
            Meta::I(out, is)
        }
        Op::Slice {
            starts,
            ends,
            axes,
            steps,
        } => {
            let data = x()?;
            let s = data.shape().to_vec();
            let plan = slice_plan(&s, starts, ends, axes, steps)?;
            let out: Vec<usize> = plan
                .iter()
                .zip(&s)
                .map(|(p, &d)| p.as_ref().map_or(d, Vec::len))
                .collect();
            match data {
                Meta::I(v, _) => {
                    if s.len() != 1 {
                        return Err("integer Slice needs 1-D input".into());
                    }
                    let keep = plan[0].clone().unwrap_or_else(|| (0..s[0]).collect());
                    Meta::I(keep.iter().map(|&i| v[i]).collect(), out)
                }
                Meta::F(_) => Meta::F(out),
            }
        }
        Op::Cast { float } => match (x()?, float) {
            (Meta::I(_, s), true) => Meta::F(s.clone()),
            (m, _) => m.clone(),
        },
    };
    Ok(vec![out])
}

fn reshaped(data: &Meta, shape: Vec<usize>) -> R<Meta> {
    Ok(match data {
        Meta::F(_) => Meta::F(shape),
        Meta::I(v, _) => Meta::I(v.clone(), shape),
    })
}

/// A permutation of `rank` axes (`None`: reversed).
pub fn perm_of(perm: Option<&[usize]>, rank: usize) -> R<Vec<usize>> {
    match perm {
        None => Ok((0..rank).rev().collect()),
        Some(p) => {
            let mut seen = vec![false; rank];
            if p.len() != rank {
                return Err(format!("perm {p:?} for rank {rank}"));
            }
            for &i in p {
                if i >= rank || seen[i] {
                    return Err(format!("perm {p:?} is not a permutation of {rank} axes"));
                }
                seen[i] = true;
            }
            Ok(p.to_vec())
        }
    }
}
