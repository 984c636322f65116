// Runs inside a fresh project where the packed tarball was installed (tests/e2e/npm-node.test.mjs
// copied the ONNX fixtures beside it): ONNX networks loaded by Model.load from their bytes,
// recognised by their content, on Node's CPU backend.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";
import { ConvlensError, Model } from "convlens";

const bytes = (path) => new Uint8Array(readFileSync(path));

/** Softmax of each row of `logits` (`classes` per row). */
function softmax(logits, classes) {
  const out = [];
  for (let r = 0; r < logits.length / classes; r++) {
    const row = logits.slice(r * classes, (r + 1) * classes);
    const max = Math.max(...row);
    const exp = row.map((v) => Math.exp(v - max));
    const sum = exp.reduce((a, b) => a + b, 0);
    out.push(exp.map((v) => v / sum));
  }
  return out;
}

/** Every class's probability for each image, by index. */
async function probabilities(model, input, shape) {
  const classes = model.info.classes.length;
  const results = await model.classify({ data: Float32Array.from(input), shape }, { topK: classes });
  return results.map((top) => {
    const p = new Array(classes).fill(0);
    for (const { index, score } of top) p[index] = score;
    return p;
  });
}

test("a small ONNX CNN: onnxruntime's outputs, its nodes' feature maps, Grad-CAM, head training, a model file", async () => {
  const expected = JSON.parse(readFileSync("tiny-cnn.expected.json", "utf8"));
  const model = await Model.load(bytes("tiny-cnn.onnx"));
  assert.equal(model.info.architecture, "graph");
  assert.deepEqual(model.info.classes, ["circle", "square", "triangle"]);
  const got = await probabilities(model, expected.input, expected.shape);
  const worst = Math.max(...got.flatMap((row, r) => row.map((p, i) => Math.abs(p - expected.probabilities[r][i]))));
  console.log(JSON.stringify({ tinyCnnWorst: worst }));
  assert.ok(worst < 1e-5, `largest difference from onnxruntime ${worst}`);
  const one = { data: Float32Array.from(expected.input.slice(0, 784)), shape: [1, 28, 28] };
  const maps = await model.featureMaps(one, { layers: ["conv1", "residual", "fc"] });
  assert.deepEqual(maps.map((m) => m.layer), ["conv1", "residual", "fc"]);
  assert.deepEqual(maps[0].shape, [8, 28, 28]);
  const explanation = await model.explain(one, { layer: "depthwise" });
  assert.equal(explanation.layer, "depthwise");
  assert.ok(explanation.heat.some((h) => h > 0));
  // Head training on three made-up classes, then the model file without the .onnx.
  const images = new Uint8Array(12 * 784).map((_, i) => (Math.floor(i / 784) % 3) * 100 + (i % 28));
  const labels = Uint8Array.from({ length: 12 }, (_, i) => i % 3);
  const history = await model.fit({ images, labels, shape: [1, 28, 28] }, { epochs: 1, batchSize: 4, train: "head", validationSplit: 0 });
  assert.equal(history.length, 1);
  const file = await model.exportModel();
  const again = await Model.load(file);
  assert.deepEqual(await probabilities(again, expected.input, expected.shape), await probabilities(model, expected.input, expected.shape));
  // Transfer learning: two new classes on a fresh head at the Gemm.
  const two = await Model.load(bytes("tiny-cnn.onnx"), { classes: ["yes", "no"], transfer: true });
  assert.deepEqual(two.info.classes, ["yes", "no"]);
  // A model file takes no ONNX options; an unsupported operator is UNSUPPORTED naming its node.
  await assert.rejects(Model.load(file, { cut: "fc" }), (e) => e instanceof ConvlensError && e.code === "BAD_INPUT");
  const selu = bytes("tiny-cnn.onnx");
  const at = Buffer.from(selu).indexOf("Relu");
  selu.set(Buffer.from("Selu"), at);
  await assert.rejects(Model.load(selu), (e) => e instanceof ConvlensError && e.code === "UNSUPPORTED" && /Selu node "relu1" \(index 2\)/.test(e.message));
  // Nothing was half-loaded: the first model still works.
  assert.equal((await model.classify(one)).length, 3);
  for (const m of [model, again, two]) m.dispose();
});

test("whole CNNs exported by torch.onnx agree with onnxruntime through the package", async () => {
  const names = readdirSync("networks").filter((f) => f.endsWith(".onnx")).map((f) => f.slice(0, -5)).sort();
  assert.ok(names.length >= 5, names.join(" "));
  for (const name of names) {
    const e = JSON.parse(readFileSync(`networks/${name}.json`, "utf8"));
    const model = await Model.load(bytes(`networks/${name}.onnx`));
    const [n, c, h, w] = e.shape;
    const classes = e.logits.length / n;
    assert.equal(model.info.classes.length, classes);
    const got = await probabilities(model, e.input, [n, c, h, w]);
    const want = softmax(e.logits, classes);
    const worst = Math.max(...got.flatMap((row, r) => row.map((p, i) => Math.abs(p - want[r][i]))));
    console.log(JSON.stringify({ network: name, worstProbabilityDifference: worst }));
    assert.ok(worst < 1e-4, `${name}: ${worst}`);
    model.dispose();
  }
});
