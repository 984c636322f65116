// Runs inside a fresh project where the packed convlens tarball was installed: the package as
// Node users get it (CPU backend), imported by its name.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Model, ConvlensError, backends, pretrained, architectures, datasets } from "convlens";
import { digits, image } from "./digits.mjs";
import { checkExplain, checkTraining, explainRun, trainingRun } from "./training.mjs";

const heldOut = digits("test", 200);

async function expectCode(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ConvlensError, `expected a ConvlensError, got ${err}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.length > 10, "the message says what to do");
    return true;
  });
}

test("backends and the catalogue", async () => {
  assert.deepEqual(await backends(), [{ name: "cpu" }]);
  const shipped = await pretrained();
  assert.deepEqual(shipped.map((p) => p.name), ["lenet5-mnist", "vin-fashion", "efficientnet-lite0-imagenet"]);
  // ImageNet's 1,000 labels travel in the weights file, not the catalogue.
  assert.equal(shipped[2].labels, null);
  assert.deepEqual(shipped[2].preprocess, { kind: "centreCrop", fraction: 0.875 });
  assert.equal(shipped[0].labels[7], "7");
  const all = await architectures();
  const lenet = all.find((a) => a.name === "lenet5");
  assert.deepEqual(lenet, { name: "lenet5", title: "LeNet-5", inputShape: [1, 28, 28], parameters: 61706, preprocess: { kind: "resize" } });
  // The photo model's row says how an image becomes its input: TF's evaluation crop, 224 of 256.
  const photo = all.find((a) => a.name === "efficientnet-lite0");
  assert.deepEqual(photo.inputShape, [3, 224, 224]);
  assert.deepEqual(photo.preprocess, { kind: "centreCrop", fraction: 0.875 });
  // The datasets, from the registry, with the shipped models' labels.
  const sets = await datasets();
  assert.deepEqual(sets.map((d) => [d.name, d.title]), [["mnist", "MNIST"], ["fashion", "Fashion-MNIST"]]);
  assert.equal(sets[1].labels[9], "Ankle boot");
});

test("the shipped LeNet-5 classifies held-out digits; feature maps of every layer", async () => {
  const progress = [];
  const model = await Model.load("lenet5-mnist", { onProgress: (p) => progress.push(p.phase) });
  assert.ok(progress.includes("weights") && progress.includes("backend"), progress.join());
  assert.equal(model.backend.name, "cpu");
  assert.match(model.backend.fallbackReason, /WebGPU|navigator/);
  assert.deepEqual(model.info.inputShape, [1, 28, 28]);
  assert.equal(model.info.parameters, 61706);
  assert.deepEqual(model.info.classes, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);

  let correct = 0;
  for (let i = 0; i < 100; i++) {
    const [top] = await model.classify(image(heldOut, i), { topK: 1 });
    if (top.index === heldOut.labels[i]) correct++;
  }
  assert.ok(correct >= 95, `${correct}/100 held-out digits right`);

  const all = await model.classify(image(heldOut, 0));
  assert.equal(all.length, 10);
  assert.ok(Math.abs(all.reduce((s, p) => s + p.score, 0) - 1) < 1e-4);
  assert.ok(all.every((p, i) => i === 0 || all[i - 1].score >= p.score), "sorted by score");
  const top3 = await model.classify(image(heldOut, 0), { topK: 3 });
  assert.deepEqual(top3, all.slice(0, 3));

  // Another size and RGB: the digit doubled to 56×56 in three channels gives the same class.
  const small = image(heldOut, 0).data;
  const big = new Uint8Array(3 * 56 * 56);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < 56; y++)
      for (let x = 0; x < 56; x++) big[c * 3136 + y * 56 + x] = small[(y >> 1) * 28 + (x >> 1)];
  const [resized] = await model.classify({ data: big, shape: [3, 56, 56] }, { topK: 1 });
  assert.equal(resized.index, all[0].index);

  const maps = await model.featureMaps(image(heldOut, 0));
  assert.deepEqual(
    maps.map((m) => `${m.layer}:${m.shape.join("x")}`),
    ["conv1:6x28x28", "relu1:6x28x28", "pool1:6x14x14", "conv2:16x10x10", "relu2:16x10x10",
      "pool2:16x5x5", "fc1:120x1x1", "relu3:120x1x1", "fc2:84x1x1", "relu4:84x1x1", "fc3:10x1x1"],
  );
  for (const m of maps) assert.equal(m.data.length, m.shape[0] * m.shape[1] * m.shape[2]);
  const filters = await model.filters();
  assert.deepEqual([filters.layer, filters.shape, filters.data.length], ["conv1", [6, 1, 5, 5], 150]);
  model.dispose();
});

test("batches: several images in one classify / featureMaps call give what one at a time gives", async () => {
  const model = await Model.load("lenet5-mnist");
  const n = 16;
  const singles = [];
  for (let i = 0; i < n; i++) singles.push(await model.classify(image(heldOut, i), { topK: 3 }));
  // An array of images, and one { data, shape: [n, c, h, w] } block: one result per image.
  const fromArray = await model.classify(Array.from({ length: n }, (_, i) => image(heldOut, i)), { topK: 3 });
  const block = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) block.set(image(heldOut, i).data, i * 784);
  const fromBlock = await model.classify({ data: block, shape: [n, 1, 28, 28] }, { topK: 3 });
  for (const batch of [fromArray, fromBlock]) {
    assert.equal(batch.length, n);
    batch.forEach((top, i) => {
      assert.deepEqual(top.map((p) => p.index), singles[i].map((p) => p.index), `image ${i}`);
      top.forEach((p, k) => assert.ok(Math.abs(p.score - singles[i][k].score) < 1e-5, `image ${i}`));
    });
  }
  // A batch of one is still a batch (an array of results); other sizes are resized per image.
  const one = await model.classify([image(heldOut, 0)], { topK: 1 });
  assert.equal(one.length, 1);
  assert.equal(one[0][0].index, singles[0][0].index);
  const maps = await model.featureMaps({ data: block.subarray(0, 2 * 784), shape: [2, 1, 28, 28] });
  assert.equal(maps.length, 2);
  assert.deepEqual(maps[1], await model.featureMaps(image(heldOut, 1)));
  // Mixed sizes, empty arrays and shapes that do not match the data are BAD_INPUT.
  await expectCode(model.classify([image(heldOut, 0), { data: new Uint8Array(3 * 56 * 56), shape: [3, 56, 56] }]), "BAD_INPUT");
  await expectCode(model.classify([]), "BAD_INPUT");
  await expectCode(model.classify({ data: block, shape: [n + 1, 1, 28, 28] }), "BAD_INPUT");
  await expectCode(model.classify({ data: block, shape: [n, 1, 28, 0] }), "BAD_INPUT");
  await expectCode(model.classify({ data: new Float32Array(1025 * 4), shape: [1025, 1, 2, 2] }), "BAD_INPUT");
  assert.equal((await model.classify(image(heldOut, 0), { topK: 1 }))[0].index, singles[0][0].index);
  model.dispose();
});

test("each shipped model prepares images its own way: the digit model centres a small dark digit on paper", async () => {
  const shipped = await pretrained();
  assert.deepEqual(shipped.map((p) => p.preprocess.kind), ["centreDigit", "resize", "centreCrop"]);
  const model = await Model.load("lenet5-mnist");
  assert.deepEqual(model.info.preprocess, { kind: "centreDigit" });
  // Held-out digits as a phone photo of paper would show them: dark ink on white, shrunk to
  // 14×14 (2×2 averages) in the top-left corner of a 64×48 page.
  const page = (i) => {
    const [w, h] = [64, 48];
    const data = new Uint8Array(w * h).fill(255);
    const digit = heldOut.images.subarray(i * 784, (i + 1) * 784);
    for (let y = 0; y < 14; y++)
      for (let x = 0; x < 14; x++) {
        const ink = (digit[2 * y * 28 + 2 * x] + digit[2 * y * 28 + 2 * x + 1] + digit[(2 * y + 1) * 28 + 2 * x] + digit[(2 * y + 1) * 28 + 2 * x + 1]) / 4;
        data[(y + 3) * w + x + 4] = 255 - ink;
      }
    return { data, shape: [1, h, w] };
  };
  let centred = 0;
  let resized = 0;
  for (let i = 0; i < 40; i++) {
    const truth = heldOut.labels[i];
    if ((await model.classify(page(i), { topK: 1 }))[0].index === truth) centred++;
    if ((await model.classify(page(i), { topK: 1, preprocess: { kind: "resize" } }))[0].index === truth) resized++;
  }
  console.log(`small dark digits on paper: ${centred}/40 right centred, ${resized}/40 resized`);
  // What the network gets: a light digit centred in 28×28.
  const seen = await model.prepare(page(0));
  assert.deepEqual(seen.shape, [1, 28, 28]);
  assert.ok(seen.data[0] === 0 && seen.data.some((v) => v > 0.5), "light ink on black");
  assert.ok(centred >= 36, `${centred}/40 right with the model's centring`);
  assert.ok(resized <= 10, `${resized}/40 right when the page is only resized`);
  model.dispose();
});

test("model files: everything travels in one file, loaded from bytes, a Blob, an http URL or a file URL; damage refused", async () => {
  const { createServer } = await import("node:http");
  const { writeFileSync, mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { pathToFileURL } = await import("node:url");
  const names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
  const model = await Model.load({ architecture: "lenet5", classes: names }, { preprocess: { kind: "centreDigit" } });
  await model.fit(digits("train", 256), { epochs: 2, batchSize: 32 });
  assert.equal(model.info.training.length, 1);
  assert.equal(model.info.training[0].epochs.length, 2);
  assert.equal(model.info.training[0].options.batchSize, 32);
  const file = await model.exportModel();
  const expected = await model.classify(image(heldOut, 0));
  // Numbers of the training record come back as JSON parsing gives them (within 1e-12).
  const close = (a, b) => (typeof a === "number" && typeof b === "number" ? Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)) : undefined);
  const same = (a, b, path = "info") => {
    if (close(a, b) !== undefined) return assert.ok(close(a, b), `${path}: ${a} vs ${b}`);
    if (typeof a !== "object" || a === null) return assert.equal(a, b, path);
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), path);
    for (const k of Object.keys(a)) same(a[k], b[k], `${path}.${k}`);
  };
  const check = async (loaded, how) => {
    same(loaded.info, model.info, how);
    assert.deepEqual(await loaded.classify(image(heldOut, 0)), expected, how);
    loaded.dispose();
  };
  await check(await Model.load(file), "bytes");
  await check(await Model.load(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength)), "an ArrayBuffer");
  await check(await Model.load(new Blob([file])), "a Blob");
  const server = createServer((req, res) => {
    if (req.url !== "/my-digits.bpk") return res.writeHead(404).end();
    res.writeHead(200, { "content-length": String(file.length) }).end(Buffer.from(file));
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  const progress = [];
  await check(await Model.load(`${base}/my-digits.bpk`, { onProgress: (p) => progress.push(p) }), "an http URL");
  const bytes = progress.filter((p) => p.phase === "weights");
  assert.equal(bytes.at(-1).loaded, file.length, "byte progress to the end");
  assert.equal(bytes.at(-1).total, file.length);
  await expectCode(Model.load(`${base}/missing.bpk`), "NOT_FOUND");
  server.close();
  const path = join(mkdtempSync(join(tmpdir(), "convlens-model-")), "my-digits.bpk");
  writeFileSync(path, file);
  await check(await Model.load(pathToFileURL(path)), "a file URL");
  // Bare weights need their architecture; a changed byte breaks the checksum.
  await assert.rejects(Model.load(await model.exportWeights()), (e) => e.code === "BAD_WEIGHTS" && /bare weights/.test(e.message));
  const damaged = file.slice();
  damaged[damaged.length - 200] ^= 0x10;
  await assert.rejects(Model.load(damaged), (e) => e.code === "BAD_WEIGHTS" && /checksum/.test(e.message));
  await expectCode(Model.load(file, { classes: ["a", "b"] }), "BAD_INPUT");
  // The file still loads as bare weights with its architecture (and its labels).
  const bare = await Model.load({ architecture: "lenet5", weights: file });
  assert.deepEqual(bare.info.classes, names);
  bare.dispose();
  // Node has no IndexedDB: saving there says what to do instead.
  await assert.rejects(model.save("indexeddb://x"), (e) => e.code === "BAD_INPUT" && /exportModel/.test(e.message));
  await expectCode(model.save("s3://bucket/x"), "BAD_INPUT");
  model.dispose();
});

test("training options: onEpoch returning false ends training there; cosine and flat schedules; early stopping", async () => {
  const model = await Model.load({ architecture: "lenet5" });
  const train = digits("train", 256);
  const stopped = await model.fit(train, { epochs: 5, batchSize: 64, onEpoch: (e) => e.epoch < 2 });
  assert.equal(stopped.length, 2, "resolved with the two epochs, not rejected");
  assert.deepEqual(model.info.training.at(-1).epochs.length, 2);
  assert.equal(model.info.training.at(-1).stopped, true);
  const cosine = await model.fit(train, { epochs: 4, batchSize: 64, schedule: "cosine", learningRate: 0.002 });
  assert.deepEqual(cosine.map((e) => Number(e.lr.toFixed(7))), [0.002, 0.0017071, 0.001, 0.0002929]);
  const flat = await model.fit(train, { epochs: 2, batchSize: 64, schedule: "none" });
  assert.ok(flat.every((e) => e.lr === 0.001 && e.nextLr === 0.001));
  await expectCode(model.fit(train, { schedule: "step" }), "BAD_INPUT");
  await expectCode(model.fit(train, { earlyStopping: { patience: 0 } }), "BAD_INPUT");
  await expectCode(model.fit(train, { earlyStopping: { patience: 2, best: true } }), "BAD_INPUT");
  const early = await model.fit(train, { epochs: 3, batchSize: 64, earlyStopping: { patience: 1, restoreBest: true } });
  assert.ok(early.length >= 1 && early.length <= 3);
  assert.equal(model.info.training.length, 4, "every fit is in the record");
  model.dispose();
});

test("pause() and resume() keep Adam, the schedule and the position exactly; streamed datasets (async iterables of batches)", async () => {
  const out = await trainingRun({ Model }, { train: digits("train", 320), val: digits("test", 64) });
  checkTraining(out, assert, "Node");
});

test("explain: Grad-CAM, saliency and integrated gradients of the shipped LeNet-5 through the package; evaluate's confusion matrix and mistakes", async () => {
  const out = await explainRun({ Model }, { digits: digits("test", 3), heldOut: digits("test", 300) });
  checkExplain(out, assert, "Node");
});

test("the shipped VisualIntelligenceNetwork reads held-out Fashion-MNIST", async () => {
  const model = await Model.load("vin-fashion");
  assert.equal(model.info.architecture, "vin");
  assert.equal(model.info.classes[9], "Ankle boot");
  const items = digits("test", 500, "fashion");
  const { accuracy } = await model.evaluate(items);
  assert.ok(accuracy > 0.88, `accuracy ${accuracy} on 500 held-out items`);
  const [top] = await model.classify(image(items, 0), { topK: 1 });
  assert.equal(top.label, model.info.classes[items.labels[0]]);
  model.dispose();
});

test("fit, evaluate, export and reload; abort; busy; queued calls", async () => {
  const train = digits("train", 1500);
  const model = await Model.load({ architecture: "lenet5" });
  const before = await model.evaluate(heldOut);
  let steps = 0;
  const epochs = [];
  const history = await model.fit(train, {
    epochs: 3, batchSize: 32, onStep: () => steps++, onEpoch: (e) => epochs.push(e),
  });
  assert.equal(history.length, 3);
  assert.deepEqual(history, epochs);
  assert.equal(steps, 3 * Math.ceil(1350 / 32), "one event per step (1,350 training, 150 validation)");
  assert.equal(history[0].lr, 1e-3);
  assert.ok(history[2].trainLoss < history[0].trainLoss, JSON.stringify(history));
  const after = await model.evaluate(heldOut);
  assert.ok(after.accuracy > 0.8 && after.accuracy > before.accuracy + 0.5, JSON.stringify({ before, after }));

  const bytes = await model.exportWeights();
  const copy = await Model.load({ architecture: "lenet5", weights: bytes });
  assert.deepEqual(await copy.classify(image(heldOut, 3)), await model.classify(image(heldOut, 3)));

  // Abort within one step; the model stays usable and keeps its weights.
  const controller = new AbortController();
  let seen = 0;
  const aborted = model.fit(train, { epochs: 3, onStep: () => { if (++seen === 2) controller.abort(); }, signal: controller.signal });
  // A second fit while one runs is BUSY; a classify queues behind the first fit.
  await expectCode(model.fit(train), "BUSY");
  const queued = model.classify(image(heldOut, 1));
  await expectCode(aborted, "ABORTED");
  assert.equal(seen, 2, "stopped before the next step");
  assert.equal((await queued).length, 10);
  const [a, b] = await Promise.all([model.classify(image(heldOut, 2)), model.classify(image(heldOut, 2))]);
  assert.deepEqual(a, b);
  model.dispose();
  copy.dispose();
});

test("the first fit() moves the weights bit for bit into the training module; aborting while it loads or while queued trains nothing", async () => {
  const model = await Model.load("lenet5-mnist");
  const weights = await model.exportWeights();
  const scores = await model.classify(image(heldOut, 4));
  const controller = new AbortController();
  let stepped = false;
  const fit = model.fit(digits("train", 64), { signal: controller.signal, onStep: () => { stepped = true; } });
  controller.abort(); // the training module is still loading
  await expectCode(fit, "ABORTED");
  assert.equal(stepped, false, "no step ran");
  assert.deepEqual(await model.exportWeights(), weights, "the same bytes after the move");
  const moved = await model.classify(image(heldOut, 4));
  assert.deepEqual(moved.map((p) => p.index), scores.map((p) => p.index));
  moved.forEach((p, i) => assert.ok(Math.abs(p.score - scores[i].score) < 1e-6, `${p.score} vs ${scores[i].score}`));
  // Aborted while queued behind another call: nothing is trained either.
  const queuedController = new AbortController();
  const busy = model.evaluate(heldOut);
  const queued = model.fit(digits("train", 64), { signal: queuedController.signal, onStep: () => { stepped = true; } });
  queuedController.abort();
  await expectCode(queued, "ABORTED");
  assert.equal((await busy).images, 200);
  assert.equal(stepped, false, "no step ran");
  assert.deepEqual(await model.exportWeights(), weights);
  const history = await model.fit(digits("train", 64), { epochs: 1, batchSize: 16 });
  assert.equal(history.length, 1);
  assert.notDeepEqual(await model.exportWeights(), weights, "trained in the training module");
  model.dispose();
});

test("bad inputs each give their code, and the model stays usable", async () => {
  const model = await Model.load("lenet5-mnist");
  const ok = image(heldOut, 0);
  await expectCode(model.classify({ data: new Float32Array(10), shape: [1, 28, 28] }), "BAD_INPUT");
  await expectCode(model.classify({ data: new Float32Array(0), shape: [1, 0, 0] }), "BAD_INPUT");
  const nan = Float32Array.from(ok.data, (v) => v / 255);
  nan[5] = NaN;
  await expectCode(model.classify({ data: nan, shape: [1, 28, 28] }), "BAD_INPUT");
  await expectCode(model.classify({ data: new Float32Array(4), shape: [1, 100000, 100000] }), "BAD_INPUT");
  await expectCode(model.classify({ data: new Float32Array(8), shape: [2, 2, 2] }), "BAD_INPUT");
  await expectCode(model.classify("a string"), "BAD_INPUT");
  await expectCode(model.classify(ok, { topK: 0 }), "BAD_INPUT");
  await expectCode(model.evaluate({ images: new Uint8Array(784), labels: [12], shape: [1, 28, 28] }), "BAD_INPUT");
  await expectCode(model.fit({ images: new Uint8Array(784), labels: [1], shape: [3, 28, 28] }), "BAD_INPUT");
  await expectCode(model.fit(digits("train", 64), { batchSize: 0 }), "BAD_INPUT");
  await expectCode(model.fit(digits("train", 64), { learningRate: NaN }), "BAD_INPUT");
  await expectCode(Model.load({ architecture: "vgg16" }), "BAD_INPUT");
  await expectCode(Model.load("no-such-model"), "NOT_FOUND");
  await expectCode(Model.load({ architecture: "lenet5", weights: new Uint8Array([1, 2, 3]) }), "BAD_WEIGHTS");
  const lenetBytes = await model.exportWeights();
  const corrupt = lenetBytes.slice(0, lenetBytes.length >> 1);
  await expectCode(Model.load({ architecture: "lenet5", weights: corrupt }), "BAD_WEIGHTS");
  await expectCode(Model.load({ architecture: "vin", weights: lenetBytes }), "BAD_WEIGHTS");
  await expectCode(Model.load({ architecture: "lenet5", weights: lenetBytes, classes: ["a", "b"] }), "BAD_WEIGHTS");
  await expectCode(Model.load({ architecture: "lenet5" }, { backend: "webgpu" }), "NO_WEBGPU");
  await expectCode(Model.load({ architecture: "lenet5" }, { backend: "tpu" }), "BAD_INPUT");
  // Still fine after all that.
  assert.equal((await model.classify(ok, { topK: 1 }))[0].index, heldOut.labels[0]);
  model.dispose();
  await expectCode(model.classify(ok), "DISPOSED");
  await expectCode(model.exportWeights(), "DISPOSED");
});
