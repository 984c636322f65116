// `Model` over a stubbed engine (no wasm): what it checks before a call reaches the engine, the
// order of calls, ranking, fit's events, pause, resume, abort and dispose. Run by
// scripts/js-unit.sh, which compiles js/ into CONVLENS_JS.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const dist = process.env.CONVLENS_JS;
if (!dist) throw new Error("CONVLENS_JS: the compiled js/ (scripts/js-unit.sh sets it)");
const load = (name) => import(pathToFileURL(join(dist, name)).href);
const { Model } = await load("model.js");
const { setPlatform } = await load("runtime.js");
const { ConvlensError } = await load("errors.js");

/** An engine whose calls are answered by `handlers`, recording every call and signal. */
class StubEngine {
  calls = [];
  signals = [];
  disposed = 0;
  backend = { name: "cpu", adapter: null, fallbackReason: null, threads: 1 };
  info = { architecture: "stub", inputShape: [1, 2, 2], classes: ["a", "b", "c"], parameters: 1, preprocess: { kind: "resize" }, training: [], layers: [] };
  constructor(handlers) {
    this.handlers = handlers;
  }
  async call(method, ...args) {
    this.calls.push(method);
    const handler = this.handlers[method];
    if (!handler) throw new ConvlensError("INTERNAL", `the stub has no ${method}`);
    return handler(...args);
  }
  signal(name) {
    this.signals.push(name);
    this.handlers.onSignal?.(name);
  }
  dispose() {
    this.disposed += 1;
  }
}

/** `Model.load` with the stub as the platform's worker engine. */
async function stubbed(handlers, loadOptions = {}) {
  const engine = new StubEngine(handlers);
  const opened = [];
  setPlatform({
    wasm: async () => new Uint8Array(),
    weights: async () => new Uint8Array(),
    fetch: async () => new Uint8Array(),
    worker: async (source, options, onProgress) => {
      opened.push({ source, options });
      onProgress({ phase: "weights", loaded: 1, total: 1 });
      onProgress({ phase: "backend" });
      return engine;
    },
  });
  const model = await Model.load("stub-model", { worker: true, ...loadOptions });
  return { model, engine, opened };
}

const pixels = () => ({ data: new Float32Array([0, 0.5, 1, 0.25]), shape: [1, 2, 2] });
const deferred = () => {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
};
const rejectsWith = (promise, code) =>
  assert.rejects(promise, (err) => {
    assert.ok(err instanceof ConvlensError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });

test("load: the source and options reach the engine checked; a throwing onProgress stops the load", async () => {
  const { model, opened } = await stubbed({}, { backend: "cpu", classes: ["x", "y"] });
  assert.deepEqual(opened[0].source, { kind: "shipped", name: "stub-model", classes: ["x", "y"] });
  assert.equal(opened[0].options.backend, "cpu");
  assert.equal(model.info.architecture, "stub");
  await rejectsWith(Model.load("stub-model", { worker: true, backend: "gpu" }), "BAD_INPUT");
  const phases = [];
  await stubbed({}, { onProgress: (p) => phases.push(p.phase) });
  assert.deepEqual(phases, ["runtime", "weights", "backend"]);
  const engine = new StubEngine({});
  setPlatform({ wasm: async () => new Uint8Array(), weights: async () => new Uint8Array(), fetch: async () => new Uint8Array(), worker: async (s, o, onProgress) => (onProgress({ phase: "backend" }), engine) });
  await rejectsWith(
    Model.load("stub-model", { worker: true, onProgress: (p) => { if (p.phase === "backend") throw new Error("no"); } }),
    "BAD_INPUT",
  );
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(engine.disposed, 1, "the engine opened for a stopped load is disposed");
});

test("classify: checked before the engine is called, ranked once, one result per image of a batch", async () => {
  const { model, engine } = await stubbed({
    classify: async (data, shape) => {
      assert.ok(data instanceof Float32Array);
      return Float32Array.from({ length: shape[0] * 3 }, (_, i) => [0.2, 0.7, 0.1, 0.5, 0.1, 0.4][i]);
    },
  });
  await rejectsWith(model.classify(pixels(), { topK: 0 }), "BAD_INPUT");
  await rejectsWith(model.classify({ data: new Float32Array(3), shape: [1, 2, 2] }), "BAD_INPUT");
  assert.deepEqual(engine.calls, []);
  const top = await model.classify(pixels(), { topK: 2 });
  assert.deepEqual(top.map((p) => [p.label, p.index]), [["b", 1], ["a", 0]]);
  const batch = await model.classify([pixels(), pixels()], { topK: 1 });
  assert.deepEqual(batch.map((r) => r[0].label), ["b", "a"]);
});

test("calls never overlap: a call made while another runs waits for it", async () => {
  const gate = deferred();
  const started = deferred();
  const order = [];
  const { model } = await stubbed({
    classify: async () => {
      order.push("classify starts");
      started.resolve();
      await gate.promise;
      order.push("classify ends");
      return new Float32Array(3);
    },
    exportWeights: async () => {
      order.push("exportWeights");
      return new Uint8Array(1);
    },
  });
  const a = model.classify(pixels());
  await started.promise;
  const b = model.exportWeights();
  const c = model.classify(pixels());
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(order, ["classify starts"]);
  gate.resolve();
  await Promise.all([a, b, c]);
  assert.deepEqual(order, ["classify starts", "classify ends", "exportWeights", "classify starts", "classify ends"]);
});

test("fit: a list of images is prepared through the engine, events reach the callbacks, and false from onEpoch stops it", async () => {
  const epoch = (n) => ({ type: "epoch", epoch: n, trainLoss: 1, validation: { loss: 1, accuracy: 0.5, images: 1 }, lr: 1e-3, nextLr: 1e-3 });
  const { model, engine } = await stubbed({
    prepare: async (data, shape) => new Float32Array(shape[0] * 4).fill(1),
    fit: async (images, labels, vi, vl, options, onEvent) => {
      assert.deepEqual(Array.from(images), [255, 255, 255, 255, 255, 255, 255, 255]);
      assert.deepEqual(Array.from(labels), [0, 2]);
      assert.equal(options.epochs, 3);
      onEvent({ type: "step", step: 1, loss: 1 });
      onEvent(epoch(1));
      assert.deepEqual(engine.signals, ["stop"], "onEpoch returned false: the engine is told to stop");
      throw new ConvlensError("ABORTED", "stopped");
    },
    description: () => ({ training: [{ epochs: 1 }] }),
  });
  const steps = [];
  const history = await model.fit(
    { images: [pixels(), { data: new Uint8Array(9), shape: [1, 3, 3] }], labels: [0, 2] },
    { epochs: 3, onStep: (s) => steps.push(s.step), onEpoch: () => false },
  );
  assert.deepEqual(history.map((e) => e.epoch), [1]);
  assert.deepEqual(steps, [1]);
  assert.deepEqual(engine.calls, ["prepare", "prepare", "fit", "description"]);
  assert.deepEqual(model.info.training, [{ epochs: 1 }], "the training record is read back after fit");
  await rejectsWith(model.fit({ images: [pixels()], labels: [0] }, { epoch: 3 }), "BAD_INPUT");
});

test("pause and resume: the engine is signalled, other calls run while paused, and a second fit is BUSY", async () => {
  const running = deferred();
  const paused = deferred();
  const epoch = { type: "epoch", epoch: 1, trainLoss: 1, validation: { loss: 1, accuracy: 1, images: 1 }, lr: 1e-3, nextLr: 1e-3 };
  const { model, engine } = await stubbed({
    fit: async () => {
      running.resolve();
      await paused.promise;
      return null;
    },
    onSignal: (name) => name === "pause" && paused.resolve(),
    classify: async () => new Float32Array(3),
    resume: async () => [epoch],
    description: () => ({ training: [] }),
  });
  const data = { images: new Uint8Array(8), labels: [0, 1], shape: [1, 2, 2] };
  const training = model.fit(data, { epochs: 1 });
  await running.promise;
  await rejectsWith(model.fit(data), "BUSY");
  assert.equal(await model.pause(), true);
  assert.equal(model.paused, true);
  assert.equal((await model.classify(pixels())).length, 3);
  assert.equal(model.resume(), true);
  assert.deepEqual(await training, [epoch]);
  assert.deepEqual(engine.signals, ["pause"]);
  assert.deepEqual(engine.calls, ["fit", "classify", "resume", "description"]);
  assert.equal(await model.pause(), false, "no fit runs");
});

test("abort stops the run through the engine; dispose frees it once, and later calls are DISPOSED", async () => {
  const running = deferred();
  let stop;
  const stopped = new Promise((r) => (stop = r));
  const { model, engine } = await stubbed({
    fit: async () => {
      running.resolve();
      await stopped;
      throw new ConvlensError("ABORTED", "stopped");
    },
    onSignal: (name) => name === "stop" && stop(),
    description: () => ({ training: [] }),
    exportModel: async () => new Uint8Array(2),
  });
  const controller = new AbortController();
  const training = model.fit({ images: new Uint8Array(8), labels: [0, 1], shape: [1, 2, 2] }, { signal: controller.signal });
  await running.promise;
  controller.abort();
  await rejectsWith(training, "ABORTED");
  assert.deepEqual(engine.signals, ["stop"]);
  await rejectsWith(model.fit({ images: new Uint8Array(8), labels: [0, 1], shape: [1, 2, 2] }, { signal: controller.signal }), "ABORTED");
  model.dispose();
  model.dispose();
  assert.equal(engine.disposed, 1);
  await rejectsWith(model.exportModel(), "DISPOSED");
  await rejectsWith(model.classify(pixels()), "DISPOSED");
});

test("dispose while a fit is paused ends it with DISPOSED", async () => {
  const { model } = await stubbed({ fit: async () => null, description: () => ({ training: [] }) });
  const training = model.fit({ images: new Uint8Array(8), labels: [0, 1], shape: [1, 2, 2] });
  const pausing = model.pause();
  await pausing;
  model.dispose();
  await rejectsWith(training, "DISPOSED");
});
