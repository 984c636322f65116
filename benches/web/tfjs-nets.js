// LeNet-5 and the VisualIntelligenceNetwork (level 3, 1×28×28) written with TensorFlow.js ops,
// for the side-by-side benchmark only: the same layers, padding and weights as convlens's
// src/model/lenet5.rs and src/model/vin.rs. TF.js convolves NHWC, so kernels are transposed from
// Burn's [out, in, kh, kw] to [kh, kw, in, out] and LeNet-5's fc1 rows are permuted from
// Burn's channel-major flatten (c, h, w) to NHWC's (h, w, c) once, at load.
/* global tf */

/** Weights from a burnpack file: `index` is { dataStart, tensors: { name: { shape, begin, end } } }. */
export function readWeights(bytes, index) {
  const out = {};
  for (const [name, t] of Object.entries(index.tensors)) {
    const start = index.dataStart + t.begin;
    const values = new Float32Array(bytes.slice(start, index.dataStart + t.end).buffer);
    out[name] = tf.tensor(values, t.shape);
  }
  return out;
}

const kernel = (w) => tf.transpose(w, [2, 3, 1, 0]);

export function lenet5(w) {
  const p = {
    conv1: [kernel(w["conv1.weight"]), w["conv1.bias"]],
    conv2: [kernel(w["conv2.weight"]), w["conv2.bias"]],
    // [400 = 16·5·5 (c, h, w), 120] → rows in (h, w, c) order.
    fc1: [tf.reshape(tf.transpose(tf.reshape(w["fc1.weight"], [16, 5, 5, 120]), [1, 2, 0, 3]), [400, 120]), w["fc1.bias"]],
    fc2: [w["fc2.weight"], w["fc2.bias"]],
    fc3: [w["fc3.weight"], w["fc3.bias"]],
  };
  const variables = Object.values(p).flat().map((t) => tf.variable(t));
  const [c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, f3w, f3b] = variables;
  /** [n, 28, 28, 1] → logits [n, 10]. */
  const logits = (x) => {
    let y = tf.relu(tf.add(tf.conv2d(x, c1w, 1, [[0, 0], [2, 2], [2, 2], [0, 0]]), c1b));
    y = tf.maxPool(y, 2, 2, "valid");
    y = tf.relu(tf.add(tf.conv2d(y, c2w, 1, "valid"), c2b));
    y = tf.reshape(tf.maxPool(y, 2, 2, "valid"), [-1, 400]);
    y = tf.relu(tf.add(tf.matMul(y, f1w), f1b));
    y = tf.relu(tf.add(tf.matMul(y, f2w), f2b));
    return tf.add(tf.matMul(y, f3w), f3b);
  };
  return { logits, trainingLogits: logits, variables };
}

export function vin(w, levels = 3) {
  const v = (t) => tf.variable(t);
  const conv1 = [v(kernel(w["feature_extractor.weight"])), v(w["feature_extractor.bias"])];
  const blocks = [];
  for (let i = 0; i < levels; i++) {
    const at = (k) => w[`complexity_layers.${i}.${k}`];
    blocks.push({
      w: v(kernel(at("conv.weight"))), b: v(at("conv.bias")),
      gamma: v(at("norm.gamma")), beta: v(at("norm.beta")),
      mean: at("norm.running_mean"), variance: at("norm.running_var"),
    });
  }
  const fc = [v(w["classifier.weight"]), v(w["classifier.bias"])];
  const EPS = 1e-5; // Burn's BatchNorm default, as in convlens
  const forward = (x, training) => {
    let y = tf.relu(tf.add(tf.conv2d(x, conv1[0], 1, "valid"), conv1[1]));
    y = tf.maxPool(y, 2, 2, "valid");
    for (const b of blocks) {
      y = tf.add(tf.conv2d(y, b.w, 1, "valid"), b.b);
      // Training normalises with the batch's statistics (as Burn and PyTorch do); inference
      // with the running ones. (The running statistics' update is left out here.)
      const { mean, variance } = training ? tf.moments(y, [0, 1, 2]) : b;
      y = tf.relu(tf.batchNorm(y, mean, variance, b.beta, b.gamma, EPS));
    }
    y = tf.mean(y, [1, 2]); // global average pool → [n, 128]
    return tf.add(tf.matMul(y, fc[0]), fc[1]);
  };
  const variables = [...conv1, ...blocks.flatMap((b) => [b.w, b.b, b.gamma, b.beta]), ...fc];
  return { logits: (x) => forward(x, false), trainingLogits: (x) => forward(x, true), variables };
}
