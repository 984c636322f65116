// The photo model through the packed package, shared by the Node consumer test and the Vite app
// (WebGPU): the shipped EfficientNet-Lite0 (f16 ImageNet weights, fetched on demand) against an
// independent numpy forward pass on the same photos (scripts/efficientnet_reference.py --half),
// its top 5, and transfer learning: a fresh head with three classes of our own, trained alone,
// saved with its labels and loaded again.

/** The reference's photos (scripts/fetch-photos.sh) and classes ImageNet would call them. */
export const PHOTOS = ["chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"];
export const EXPECTED = [
  ["tabby", "tiger cat", "Egyptian cat"],
  ["espresso", "coffee mug", "cup"],
  ["missile", "projectile", "space shuttle"],
  ["moped", "motor scooter", "crash helmet"],
];

/** The tensors of a safetensors file (F32 only), by name: `{ shape, data }`. */
export function parseSafetensors(buffer) {
  const length = Number(new DataView(buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, length)));
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [from, to] = t.data_offsets;
    tensors[name] = { shape: t.shape, data: new Float32Array(buffer.slice(8 + length + from, 8 + length + to)) };
  }
  return tensors;
}

/** `size`×`size` crops of a `[3, s, s]` image at a few offsets, some mirrored: a class's examples. */
function variants(image, s, size, count) {
  const out = [];
  const step = s - size;
  for (let k = 0; k < count; k++) {
    const [dy, dx] = [Math.round(((k * 5) % 7) / 6 * step), Math.round(((k * 3) % 7) / 6 * step)];
    const mirror = k % 2 === 1;
    const data = new Float32Array(3 * size * size);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const sx = mirror ? dx + size - 1 - x : dx + x;
          data[(c * size + y) * size + x] = image[(c * s + (dy + y)) * s + sx];
        }
    out.push({ data, shape: [3, size, size] });
  }
  return out;
}

/**
 * Runs the checks with `convlens` (the package's exports) on `backend`, the reference file's
 * bytes in `buffer`; `transfer` adds the transfer-learning flow. Returns what the tests assert.
 */
export async function photoRun(convlens, buffer, { backend = "cpu", transfer = true } = {}) {
  const { Model } = convlens;
  const reference = parseSafetensors(buffer);
  const [n, c, h, w] = reference.inputs.shape;
  const per = c * h * w;
  // The reference's inputs are normalised, (p − 127) / 128; the package reads pixels in [0, 1].
  const pixels = Float32Array.from(reference.inputs.data, (x) => Math.min(1, Math.max(0, (x * 128 + 127) / 255)));
  const image = (i) => ({ data: pixels.slice(i * per, (i + 1) * per), shape: [c, h, w] });
  const out = { progress: [] };

  const model = await Model.load("efficientnet-lite0-imagenet", { backend, onProgress: (p) => out.progress.push(p) });
  out.backend = model.backend.name;
  out.info = { ...model.info, classes: model.info.classes.length, firstClasses: model.info.classes.slice(0, 2) };
  out.worst = 0;
  out.top5 = [];
  // The inputs are the reference's own 224×224 crops: a plain resize (the identity) keeps them.
  const asIs = { preprocess: { kind: "resize" } };
  for (let i = 0; i < n; i++) {
    const maps = await model.featureMaps(image(i), asIs);
    const logits = maps.find((m) => m.layer === "classifier").data;
    const expected = reference.logits.data.subarray(i * 1000, (i + 1) * 1000);
    for (let k = 0; k < 1000; k++) out.worst = Math.max(out.worst, Math.abs(logits[k] - expected[k]));
    out.top5.push((await model.classify(image(i), { topK: 5, ...asIs })).map((p) => p.label));
    if (i === 0) out.mapLayers = maps.map((m) => m.layer);
  }
  // Why: Grad-CAM of the coffee photo given wider than it is tall (grey bands either side); the
  // model crops its centre, and the heat comes back onto the wide image, nothing outside the crop.
  const W = 320;
  const wide = new Float32Array(c * h * W).fill(0.5);
  const coffee = image(1).data;
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++) wide.set(coffee.subarray((ch * h + y) * w, (ch * h + y + 1) * w), (ch * h + y) * W + (W - w) / 2);
  const e = await model.explain({ data: wide, shape: [c, h, W] });
  // The crop: 87.5 % of the shorter side (196 of 224), centred: columns 62–257, rows 14–209.
  let [inside, outside] = [0, 0];
  e.original.forEach((v, i) => {
    const [y, x] = [Math.floor(i / W), i % W];
    if (x >= 62 && x < 258 && y >= 14 && y < 210) inside = Math.max(inside, v);
    else outside = Math.max(outside, v);
  });
  out.why = { label: e.label, layer: e.layer, rawShape: e.rawShape, shape: e.shape, originalShape: e.originalShape, inside, outside };
  model.dispose();
  if (!transfer) return out;

  // Teach three classes of our own: crops of the cat, the coffee and the rocket photos, any size
  // (prepared by the model's own centre crop and resize).
  const classes = ["cat", "coffee", "rocket"];
  const teach = await Model.load("efficientnet-lite0-imagenet", { backend, classes });
  out.teach = { info: { ...teach.info }, parameters: teach.info.parameters };
  const train = { images: [], labels: [] };
  const held = { images: [], labels: [] };
  for (let k = 0; k < 3; k++) {
    const examples = variants(pixels.subarray(k * per, (k + 1) * per), h, 160, 8);
    for (const [i, example] of examples.entries()) {
      const set = i < 6 ? train : held;
      set.images.push(example);
      set.labels.push(k);
    }
  }
  const before = await teach.embed(held.images[0]);
  out.teach.embedShape = before.shape;
  out.teach.history = await teach.fit(train, {
    epochs: 6,
    batchSize: 6,
    learningRate: 0.01,
    train: "head",
    validationData: held,
  });
  const after = await teach.embed(held.images[0]);
  out.teach.backboneKept = before.data.every((v, i) => v === after.data[i]);
  out.teach.tops = (await teach.classify(held.images, { topK: 1 })).map((r) => r[0].label);
  out.teach.truth = held.labels.map((k) => classes[k]);

  // Saved and loaded again, the labels come with the weights.
  const bytes = await teach.exportWeights();
  teach.dispose();
  const again = await Model.load({ architecture: "efficientnet-lite0", weights: bytes }, { backend });
  out.teach.reloaded = {
    classes: again.info.classes,
    tops: (await again.classify(held.images, { topK: 1 })).map((r) => r[0].label),
  };
  again.dispose();
  return out;
}

/** What both tests assert of {@link photoRun}'s result (`assert`: node:assert/strict). */
export function checkPhotos(out, assert, { transfer = true } = {}) {
  // The weights came on demand, with byte progress, and carry ImageNet's labels.
  const bytes = out.progress.filter((p) => p.phase === "weights" && p.loaded !== undefined);
  assert.ok(bytes.length >= 1, JSON.stringify(out.progress));
  assert.ok(bytes.at(-1).loaded > 9_000_000 && bytes.at(-1).loaded < 10_000_000, `${bytes.at(-1).loaded} bytes (f16)`);
  assert.equal(out.info.architecture, "efficientnet-lite0");
  assert.deepEqual(out.info.inputShape, [3, 224, 224]);
  assert.equal(out.info.classes, 1000);
  assert.deepEqual(out.info.firstClasses, ["tench, Tinca tinca", "goldfish, Carassius auratus"]);
  assert.equal(out.info.parameters, 4_652_008);
  assert.deepEqual(out.info.preprocess, { kind: "centreCrop", fraction: 0.875 });
  assert.deepEqual(out.mapLayers.slice(0, 2), ["stem", "block1"]);
  assert.equal(out.mapLayers.at(-1), "classifier");
  assert.ok(out.worst < 1e-3, `largest logit difference from numpy: ${out.worst}`);
  out.top5.forEach((top, i) => {
    assert.ok(EXPECTED[i].some((name) => top.includes(name)), `${PHOTOS[i]}: none of ${EXPECTED[i]} in ${top}`);
  });
  const why = out.why;
  assert.ok(EXPECTED[1].includes(why.label), `Grad-CAM explains ${why.label}`);
  assert.deepEqual([why.layer, why.rawShape, why.shape, why.originalShape], ["head", [7, 7], [224, 224], [224, 320]]);
  assert.deepEqual([why.inside, why.outside], [1, 0], "the heat lies on the crop the network saw, nothing outside it");
  if (!transfer) return;
  const teach = out.teach;
  assert.deepEqual(teach.info.classes, ["cat", "coffee", "rocket"]);
  // A new head of 1,280 × 3 + 3 on the backbone (4,652,008 − 1,281,000 of the ImageNet head).
  assert.equal(teach.parameters, 4_652_008 - 1_281_000 + 3 * 1280 + 3);
  assert.deepEqual(teach.embedShape, [1, 1280]);
  assert.equal(teach.backboneKept, true, "train: head leaves the backbone as it was");
  assert.equal(teach.history.length, 6);
  assert.deepEqual(teach.tops, teach.truth, "held-out crops of the three photos");
  assert.deepEqual(teach.reloaded.classes, ["cat", "coffee", "rocket"]);
  assert.deepEqual(teach.reloaded.tops, teach.tops);
}
