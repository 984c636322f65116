// Pausing and streaming through the packed package, the same in Node and in Chromium (main thread
// and worker mode): returns plain values that the tests assert (checkTraining, given Node's
// assert by the caller: this module is bundled into the Vite app too).

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** The first `n` images of `set` from image `at`. */
function slice(set, at, n) {
  return { images: set.images.slice(at * 784, (at + n) * 784), labels: set.labels.slice(at, at + n), shape: [1, 28, 28] };
}

/** The epochs without their timings (which differ from run to run). */
const untimed = (epochs) => JSON.stringify(epochs.map(({ seconds, imagesPerSecond, ...rest }) => rest));

function same(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

async function codeOf(promise) {
  try {
    await promise;
    return "resolved";
  } catch (e) {
    return { code: e.code, message: e.message, cause: e.cause?.message ?? null };
  }
}

/**
 * Trains `model` with `options`, pausing after each step number in `pauseAt` (as counted by
 * onStep), and checks that it waits while paused and answers other calls; returns the epochs.
 */
async function trainWithPauses(model, data, options, pauseAt, probe, log) {
  let steps = 0;
  const asked = [];
  const training = model.fit(data, {
    ...options,
    onStep: () => {
      steps += 1;
      if (pauseAt.includes(steps)) asked.push(model.pause());
    },
  });
  // A run that fails before its next pause ends the wait (rather than waiting for ever).
  let failed;
  training.catch((err) => (failed = err ?? new Error("fit rejected")));
  for (let i = 0; i < pauseAt.length; i++) {
    while (asked.length <= i) {
      if (failed) throw failed;
      await sleep(2);
    }
    log.paused.push(await asked[i]);
    log.flag.push(model.paused);
    // Asking again while paused changes nothing (and does not pause the resumed run).
    log.again.push(await model.pause());
    // Events already on their way (worker mode) arrive; then no step runs while paused.
    await sleep(100);
    const at = steps;
    log.classified.push((await model.classify(probe)).length);
    await sleep(200);
    log.stepsWhilePaused += steps - at;
    log.resumed.push(model.resume());
  }
  return training;
}

export async function trainingRun({ Model }, { train, val, load = {} }) {
  const out = {};
  const probe = { data: val.images.slice(0, 784), shape: [1, 28, 28] };
  const first = await Model.load({ architecture: "lenet5" }, load);
  const file = await first.exportModel();
  // Augmentation, the plateau scheduler with patience 1 and a tail batch: every part of the state.
  const options = { epochs: 3, batchSize: 32, seed: 7, augment: 2, patience: 1, validationData: val };
  const straight = await first.fit(train, options);

  const paused = await Model.load(file, load);
  out.noFit = await paused.pause();
  const log = { paused: [], flag: [], again: [], classified: [], stepsWhilePaused: 0, resumed: [] };
  const resumed = await trainWithPauses(paused, train, options, [3, 10, 22], probe, log);
  out.pausing = {
    ...log,
    sameWeights: same(await paused.exportWeights(), await first.exportWeights()),
    sameEpochs: untimed(resumed) === untimed(straight),
    records: paused.info.training.length,
    pausedAfter: paused.paused,
    resumeWithoutPause: paused.resume(),
  };

  // Aborted while paused: ABORTED, the model usable; disposed while paused: DISPOSED.
  const controller = new AbortController();
  let n = 0;
  const aborted = paused.fit(train, { ...options, signal: controller.signal, onStep: () => ++n === 2 && paused.pause() });
  while (!paused.paused) await sleep(2);
  controller.abort();
  out.abortedWhilePaused = (await codeOf(aborted)).code;
  out.afterAbort = { paused: paused.paused, classifies: (await paused.classify(probe)).length };
  let m = 0;
  const disposed = paused.fit(train, { ...options, onStep: () => ++m === 2 && paused.pause() });
  while (!paused.paused) await sleep(2);
  paused.dispose();
  out.disposedWhilePaused = (await codeOf(disposed)).code;
  first.dispose();

  // A streamed dataset: an async iterable read anew every epoch, in 64-image shards.
  const shards = (count) => {
    const source = { passes: 0 };
    source[Symbol.asyncIterator] = async function* () {
      source.passes += 1;
      for (let at = 0; at < count; at += 64) {
        await sleep(1);
        yield slice(train, at, Math.min(64, count - at));
      }
    };
    return source;
  };
  const streamed = await Model.load(file, load);
  const counts = [];
  const source = shards(train.labels.length);
  const streamOptions = { epochs: 3, learningRate: 0.003, validationData: val, seed: 7 };
  const history = await streamed.fit(source, { ...streamOptions, onStep: (e) => counts.push([e.epoch, e.stepsPerEpoch]) });
  const again = await Model.load(file, load);
  const log2 = { paused: [], flag: [], again: [], classified: [], stepsWhilePaused: 0, resumed: [] };
  await trainWithPauses(again, shards(train.labels.length), streamOptions, [2, 6], probe, log2);
  out.stream = {
    passes: source.passes,
    epochs: history.length,
    counts,
    firstLoss: history[0].trainLoss,
    lastLoss: history.at(-1).trainLoss,
    accuracy: history.at(-1).validation.accuracy,
    pausedSame: same(await again.exportWeights(), await streamed.exportWeights()),
    pauses: log2.paused,
  };
  // An array of batches (a plain iterable) trains too.
  out.stream.array = (await streamed.fit([slice(train, 0, 32), slice(train, 32, 32)], { epochs: 2, validationData: val })).length;
  // What a stream can do wrong.
  async function* once() {
    yield slice(train, 0, 32);
  }
  const badLabels = slice(train, 32, 32);
  badLabels.labels = Uint8Array.from(badLabels.labels, (l, i) => (i === 5 ? 12 : l));
  out.streamErrors = {
    noValidation: await codeOf(streamed.fit(shards(64), { epochs: 1 })),
    generatorObject: await codeOf(streamed.fit(once(), { epochs: 2, validationData: val })),
    badLabel: await codeOf(streamed.fit([slice(train, 0, 32), badLabels], { epochs: 1, validationData: val })),
    threw: await codeOf(
      streamed.fit(
        {
          async *[Symbol.asyncIterator]() {
            yield slice(train, 0, 32);
            throw new Error("shard 2 is missing");
          },
        },
        { epochs: 1, validationData: val },
      ),
    ),
    stillUsable: (await streamed.classify(probe)).length,
  };
  streamed.dispose();
  again.dispose();
  return out;
}

/** The assertions on what `trainingRun` returned. */
export function checkTraining(out, assert, where) {
  assert.equal(out.noFit, false, `${where}: pause() with no fit running`);
  const p = out.pausing;
  assert.deepEqual(p.paused, [true, true, true], where);
  assert.deepEqual(p.flag, [true, true, true], where);
  assert.deepEqual(p.again, [true, true, true], where);
  assert.deepEqual(p.classified, [10, 10, 10], `${where}: the model answered while paused`);
  assert.equal(p.stepsWhilePaused, 0, `${where}: no step ran while paused`);
  assert.deepEqual(p.resumed, [true, true, true], where);
  assert.ok(p.sameWeights, `${where}: paused three times and resumed, the weights equal training never paused`);
  assert.ok(p.sameEpochs, `${where}: ... and so do the epochs' losses, accuracies and learning rates`);
  assert.equal(p.records, 1, `${where}: one training record for the paused run`);
  assert.equal(p.pausedAfter, false, where);
  assert.equal(p.resumeWithoutPause, false, where);
  assert.equal(out.abortedWhilePaused, "ABORTED", where);
  assert.deepEqual(out.afterAbort, { paused: false, classifies: 10 }, where);
  assert.equal(out.disposedWhilePaused, "DISPOSED", where);
  const s = out.stream;
  assert.equal(s.passes, 3, `${where}: the stream was read once per epoch`);
  assert.equal(s.epochs, 3, where);
  const perEpoch = Math.ceil(s.counts.length / 3);
  assert.ok(s.counts.slice(0, perEpoch).every(([e, n]) => e === 1 && n === null), `${where}: steps per epoch unknown in the first pass: ${JSON.stringify(s.counts)}`);
  assert.ok(s.counts.slice(perEpoch).every(([e, n]) => e > 1 && n === perEpoch), `${where}: ${JSON.stringify(s.counts)}`);
  assert.ok(s.lastLoss < s.firstLoss, `${where}: streamed training learns: ${s.firstLoss} → ${s.lastLoss}`);
  assert.ok(s.accuracy > 0.5, `${where}: validation accuracy ${s.accuracy} after streamed training`);
  assert.ok(s.pausedSame, `${where}: a paused and resumed stream ends with the same weights`);
  assert.deepEqual(s.pauses, [true, true], where);
  assert.equal(s.array, 2, where);
  const e = out.streamErrors;
  assert.equal(e.noValidation.code, "BAD_INPUT", where);
  assert.match(e.noValidation.message, /validationData/, where);
  assert.equal(e.generatorObject.code, "BAD_INPUT", where);
  assert.match(e.generatorObject.message, /no batch in epoch 2/, where);
  assert.equal(e.badLabel.code, "BAD_INPUT", where);
  assert.match(e.badLabel.message, /dataset batch 2.*12/, where);
  assert.equal(e.threw.code, "BAD_INPUT", where);
  assert.equal(e.threw.cause, "shard 2 is missing", where);
  assert.equal(e.stillUsable, 10, where);
}

/**
 * `explain` through the package on the shipped LeNet-5: each method on held-out digits, and
 * bad options. The heat maps come back as plain arrays, to compare backends.
 */
export async function explainRun({ Model }, { digits, heldOut, load = {} }) {
  const model = await Model.load("lenet5-mnist", load);
  const out = { methods: {}, backend: model.backend.name };
  // evaluate's confusion matrix and mistakes, each mistake classified again as it is.
  const report = await model.evaluate({ ...heldOut, shape: [1, 28, 28] });
  const counts = Array.from(report.confusion.counts);
  const again = [];
  for (const m of report.mistakes) {
    const pixels = { data: heldOut.images.slice(m.index * 784, (m.index + 1) * 784), shape: [1, 28, 28] };
    const [top] = await model.classify(pixels, { topK: 1, preprocess: { kind: "resize" } });
    again.push({ index: top.index, score: top.score, label: heldOut.labels[m.index] });
  }
  out.report = {
    images: report.images,
    accuracy: report.accuracy,
    classes: report.confusion.classes,
    typed: report.confusion.counts instanceof Uint32Array,
    total: counts.reduce((a, b) => a + b, 0),
    diagonal: counts.filter((_, i) => i % 11 === 0).reduce((a, b) => a + b, 0),
    rows: Array.from({ length: 10 }, (_, k) => counts.slice(k * 10, k * 10 + 10).reduce((a, b) => a + b, 0)),
    truth: Array.from({ length: 10 }, (_, k) => Array.from(heldOut.labels).filter((l) => l === k).length),
    mistakes: report.mistakes,
    again,
  };
  const image = (i) => ({ data: digits.images.slice(i * 784, (i + 1) * 784), shape: [1, 28, 28] });
  for (const method of ["gradcam", "saliency", "integrated-gradients"]) {
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const e = await model.explain(image(i), { method });
      const [top] = await model.classify(image(i), { topK: 1 });
      runs.push({
        label: e.label,
        top: top.label,
        truth: String(digits.labels[i]),
        classIndex: e.classIndex,
        score: e.score,
        layer: e.layer,
        shape: e.shape,
        rawShape: e.rawShape,
        heat: Array.from(e.heat),
        raw: e.raw.length,
        completeness: e.completeness,
        originalShape: e.originalShape,
        originalMax: Math.max(...e.original),
        originalLength: e.original.length,
      });
    }
    out.methods[method] = runs;
  }
  const other = await model.explain(image(0), { method: "saliency", classIndex: 3 });
  out.otherClass = { classIndex: other.classIndex, label: other.label };
  out.errors = {
    method: await codeOf(model.explain(image(0), { method: "lime" })),
    classIndex: await codeOf(model.explain(image(0), { classIndex: 10 })),
    layer: await codeOf(model.explain(image(0), { layer: "fc1" })),
    stepsForGradcam: await codeOf(model.explain(image(0), { steps: 8 })),
    batch: await codeOf(model.explain([image(0), image(1)])),
    unknownKey: await codeOf(model.explain(image(0), { colour: "red" })),
  };
  out.stillClassifies = (await model.classify(image(0))).length;
  model.dispose();
  return out;
}

/** The assertions on what `explainRun` returned. */
export function checkExplain(out, assert, where) {
  const r = out.report;
  assert.equal(r.classes, 10, where);
  assert.ok(r.typed, `${where}: the counts are a Uint32Array`);
  assert.equal(r.total, r.images, `${where}: every image is counted once`);
  assert.deepEqual(r.rows, r.truth, `${where}: row k holds the images labelled k`);
  assert.equal(r.diagonal + r.mistakes.length, r.images, where);
  assert.ok(Math.abs(r.diagonal / r.images - r.accuracy) < 1e-6, where);
  assert.ok(r.mistakes.length > 0 && r.mistakes.length < 10, `${where}: ${r.mistakes.length} mistakes`);
  r.mistakes.forEach((m, i) => {
    assert.equal(m.label, r.again[i].label, where);
    assert.notEqual(m.predicted, m.label, where);
    assert.equal(r.again[i].index, m.predicted, `${where}: classified alone, mistake ${m.index} gets the same class`);
    assert.ok(Math.abs(r.again[i].score - m.score) < 1e-5 && m.score > m.labelScore, where);
  });
  for (const [method, runs] of Object.entries(out.methods)) {
    for (const r of runs) {
      assert.equal(r.label, r.top, `${where} ${method}: explains the predicted class`);
      assert.equal(r.label, r.truth, `${where} ${method}`);
      assert.deepEqual(r.shape, [28, 28], where);
      assert.equal(r.heat.length, 784, where);
      assert.deepEqual([r.originalShape, r.originalLength, r.originalMax], [[28, 28], 784, 1], `${where}: the heat on the image as given`);
      assert.ok(r.heat.every((v) => v >= 0 && v <= 1) && Math.max(...r.heat) === 1, `${where} ${method}: heat in [0, 1], max 1`);
      if (method === "gradcam") assert.deepEqual([r.layer, r.rawShape, r.raw], ["relu2", [10, 10], 100], where);
      else assert.deepEqual([r.layer, r.rawShape, r.raw], [null, [28, 28], 784], where);
      if (method === "integrated-gradients") {
        const { attributions, scoreChange } = r.completeness;
        assert.ok(Math.abs(attributions - scoreChange) <= 0.03 * Math.abs(scoreChange) + 1e-3, `${where}: ${attributions} vs ${scoreChange}`);
      } else {
        assert.equal(r.completeness, null, where);
      }
    }
  }
  assert.deepEqual(out.otherClass, { classIndex: 3, label: "3" }, where);
  for (const [what, e] of Object.entries(out.errors)) assert.equal(e.code, "BAD_INPUT", `${where}: ${what}: ${e.message}`);
  assert.match(out.errors.layer.message, /relu2/, `${where}: names the layers it could use`);
  assert.match(out.errors.unknownKey.message, /colour/, where);
  assert.equal(out.stillClassifies, 10, where);
}

/** The largest difference between two runs' heat maps, over every method and digit. */
export function heatDifference(a, b) {
  let max = 0;
  for (const method of Object.keys(a.methods)) {
    a.methods[method].forEach((r, i) => {
      r.heat.forEach((v, j) => (max = Math.max(max, Math.abs(v - b.methods[method][i].heat[j]))));
    });
  }
  return max;
}
