// Unit tests of the JS API's checks — guard, options, input, sources — and of `Model` over a
// stubbed engine, with no wasm module: scripts/js-unit.sh compiles js/ into CONVLENS_JS and runs
// these with Node's test runner before the package is built. The hostile values are the kinds
// the fuzz (tests/e2e/consumer/fuzz-cases.mjs) found before: Proxies, detached buffers, Symbols,
// getters that throw.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const dist = process.env.CONVLENS_JS;
if (!dist) throw new Error("CONVLENS_JS: the compiled js/ (scripts/js-unit.sh sets it)");
const load = (name) => import(pathToFileURL(join(dist, name)).href);
const guard = await load("guard.js");
const options = await load("options.js");
const input = await load("input.js");
const sources = await load("sources.js");
const limits = await load("limits.js");
const { ConvlensError } = await load("errors.js");

class CallerError extends Error {}
const thrower = (what) => () => {
  throw new CallerError(what);
};
const detached = (n) => {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
};
const throwingProxy = (target) => new Proxy(target, { get: thrower("get"), has: thrower("has"), ownKeys: thrower("ownKeys") });
const lyingProxy = (target, length) => new Proxy(target, { get: (t, k) => (k === "length" ? length : Reflect.get(t, k)) });
const withThrowingGetter = (base, key) => {
  const o = { ...base };
  Object.defineProperty(o, key, { get: thrower(`${key} getter`), enumerable: true });
  return o;
};

/** Asserts that `run` throws (or rejects with) a ConvlensError of `code` whose message matches `message`. */
async function rejects(run, code, message) {
  await assert.rejects(
    async () => run(),
    (err) => {
      assert.ok(err instanceof ConvlensError, `not a ConvlensError: ${err}`);
      assert.equal(err.code, code, err.message);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

test("guard: typed arrays are brand-checked; Proxies, subclasses' getters, detached buffers and Symbols are BAD_INPUT", async () => {
  const good = guard.typedArray(new Float32Array(4), ["Float32Array"], "data", 10);
  assert.equal(good.length, 4);
  // A Proxy has no typed array brand, whatever `length` it claims.
  await rejects(() => guard.typedArray(lyingProxy(new Float32Array(4), 2 ** 29), ["Float32Array"], "data", 10), "BAD_INPUT", /^data must be a Float32Array/);
  await rejects(() => guard.typedArray(throwingProxy(new Float32Array(4)), ["Float32Array"], "data", 10), "BAD_INPUT", /data/);
  // A subclass whose `length` getter throws is read through the engine's own getters.
  class Evil extends Float32Array {
    get length() {
      throw new CallerError("length getter");
    }
  }
  assert.equal(guard.typedArray(new Evil(3), ["Float32Array"], "data", 10).length, 3);
  await rejects(() => guard.typedArray(detached(8), ["Float32Array"], "data", 10), "BAD_INPUT", /detached/);
  await rejects(() => guard.typedArray(Symbol("s"), ["Float32Array"], "data", 10), "BAD_INPUT", /got a Symbol/);
  await rejects(() => guard.typedArray(new Float32Array(11), ["Float32Array"], "data", 10), "BAD_INPUT", /limit is 10/);
  await rejects(() => guard.typedArray(new Float64Array(4), ["Float32Array"], "data", 10), "BAD_INPUT", /Float64Array\(4\)/);
  assert.equal(guard.describe(throwingProxy({})), "an object");
  assert.equal(guard.describe(10n), "10n");
});

test("guard: a caller's exception becomes BAD_INPUT with it as the cause", async () => {
  const err = await (async () => {
    try {
      guard.reading("the input", thrower("boom"));
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof ConvlensError);
  assert.equal(err.code, "BAD_INPUT");
  assert.ok(err.cause instanceof CallerError);
  await rejects(() => guard.dims(throwingProxy([1, 28, 28]), [3], 8192, "shape", "c, h, w"), "BAD_INPUT", /reading shape threw/);
  await rejects(() => guard.dims([1, 2 ** 32 + 28, 28], [3], 8192, "shape", "c, h, w"), "BAD_INPUT", /whole numbers from 1 to 8192/);
  await rejects(() => guard.bytes(detached(2), "weights", 100), "BAD_INPUT", /weights/);
});

test("options: each range is the generated limit, and an unknown or unreadable key is named", async () => {
  const fit = (o) => options.fitOptions(o).wasm;
  assert.equal(fit({ seed: limits.SEED.max }).seed, Number.MAX_SAFE_INTEGER);
  await rejects(() => fit({ seed: limits.SEED.max + 1 }), "BAD_INPUT", /^seed must be/);
  assert.equal(fit({ learningRate: 9.99 }).learningRate, 9.99);
  await rejects(() => fit({ learningRate: limits.LEARNING_RATE.max }), "BAD_INPUT", /^learningRate/);
  await rejects(() => fit({ learningRate: 0 }), "BAD_INPUT", /^learningRate/);
  await rejects(() => fit({ batchSize: limits.MAX_BATCH + 1 }), "BAD_INPUT", /^batchSize/);
  await rejects(() => fit({ epochs: limits.EPOCHS.max + 1 }), "BAD_INPUT", /^epochs/);
  await rejects(() => fit({ validationSplit: 1 }), "BAD_INPUT", /^validationSplit/);
  assert.equal(fit({ validationSplit: 0 }).validationSplit, 0);
  await rejects(() => fit({ augment: limits.AUGMENT.max + 1 }), "BAD_INPUT", /^augment/);
  await rejects(() => fit({ epoch: 2 }), "BAD_INPUT", /has no option "epoch"/);
  await rejects(() => fit({ epochs: Symbol("e") }), "BAD_INPUT", /got a Symbol/);
  await rejects(() => fit(withThrowingGetter({}, "epochs")), "BAD_INPUT", /reading fit options threw: epochs getter/);
  await rejects(() => fit(throwingProxy({})), "BAD_INPUT", /reading fit options threw/);
  await rejects(() => fit({ signal: {} }), "BAD_INPUT", /^signal must be an AbortSignal/);
  await rejects(() => options.explainOptions({ steps: limits.STEPS.max + 1 }, 10), "BAD_INPUT", /^steps/);
  await rejects(() => options.explainOptions({ classIndex: 10 }, 10), "BAD_INPUT", /^classIndex must be a whole number from 0 to 9/);
  await rejects(() => options.loadOptions({ threads: limits.THREADS.max + 1 }), "BAD_INPUT", /^threads/);
  await rejects(() => options.loadOptions({ classes: ["a"] }), "BAD_INPUT", /^classes must be 2 to 4096 labels/);
  await rejects(() => options.loadOptions({ classes: ["a", "b".repeat(limits.MAX_LABEL_LENGTH + 1)] }), "BAD_INPUT", /^classes\[1\]/);
  await rejects(() => options.preprocessOption({ kind: "centreCrop", fraction: 0 }), "BAD_INPUT", /preprocess.fraction/);
  await rejects(() => options.classifyOptions({ topK: 0 }, 10), "BAD_INPUT", /^topK/);
});

test("input: images and batches are checked before anything is copied", async () => {
  const one = input.toImages({ data: new Uint8Array(4), shape: [1, 2, 2] });
  assert.deepEqual(one.shape, [1, 1, 2, 2]);
  assert.equal(one.batch, false);
  assert.ok(one.data instanceof Float32Array);
  await rejects(() => input.toImages({ data: new Float32Array(4).fill(2), shape: [1, 2, 2] }), "BAD_INPUT", /must lie in \[0, 1\]/);
  await rejects(() => input.toImages({ data: detached(4), shape: [1, 2, 2] }), "BAD_INPUT", /detached/);
  await rejects(() => input.toImages({ data: new Float32Array(3), shape: [1, 2, 2] }), "BAD_INPUT", /needs 4 values, data holds 3/);
  await rejects(() => input.toImages(withThrowingGetter({ data: new Float32Array(4) }, "shape")), "BAD_INPUT", /shape getter/);
  await rejects(() => input.toImages(throwingProxy([])), "BAD_INPUT", /the array of images/);
  await rejects(() => input.toImages([]), "BAD_INPUT", /empty/);
  await rejects(
    () => input.toImages([{ data: new Uint8Array(4), shape: [1, 2, 2] }, { data: new Uint8Array(9), shape: [1, 3, 3] }]),
    "BAD_INPUT",
    /image 1 is \[1,3,3\] but image 0 is \[1,2,2\]/,
  );
  await rejects(() => input.toImages({ data: new Uint8Array(4), shape: [limits.MAX_BATCH + 1, 1, 2, 2] }), "BAD_INPUT", /at most 1024 images/);
  await rejects(() => input.toImages(Symbol("s")), "BAD_INPUT", /got a Symbol/);
});

test("input: a list of images of several sizes is prepared in one call per size, and keeps its order", async () => {
  const calls = [];
  // A stand-in for the network's `prepare` into [1, 2, 2]: every value is the image's first.
  const prepare = async (data, shape) => {
    calls.push(Array.from(shape));
    const [n, c, h, w] = shape;
    return Float32Array.from({ length: n * 4 }, (_, i) => data[Math.floor(i / 4) * c * h * w]);
  };
  const image = (side, value) => ({ data: new Uint8Array(side * side).fill(value), shape: [1, side, side] });
  const dataset = { images: [image(2, 51), image(3, 102), image(2, 153), image(3, 204)], labels: [0, 1, 2, 3] };
  const out = await input.toDataset(dataset, [1, 2, 2], "dataset", prepare);
  assert.deepEqual(calls, [[2, 1, 2, 2], [2, 1, 3, 3]]);
  assert.deepEqual(Array.from(out.images), [51, 51, 51, 51, 102, 102, 102, 102, 153, 153, 153, 153, 204, 204, 204, 204]);
  assert.deepEqual(Array.from(out.labels), [0, 1, 2, 3]);
  await rejects(() => input.toDataset({ images: [image(2, 1)], labels: [0, 1] }, [1, 2, 2], "dataset", prepare), "BAD_INPUT", /1 images and 2 labels/);
  await rejects(() => input.toDataset({ images: [image(2, 1)], labels: [256] }, [1, 2, 2], "dataset", prepare), "BAD_INPUT", /dataset.labels\[0\]/);
  await rejects(
    () => input.toDataset({ images: new Uint8Array(8), labels: [0, 1], shape: [1, 3, 3] }, [1, 2, 2], "validationData", prepare),
    "BAD_INPUT",
    /validationData images are \[1,3,3\] but the model reads \[1,2,2\]/,
  );
  await rejects(() => input.toDataset({ images: throwingProxy([]), labels: [] }, [1, 2, 2], "dataset", prepare), "BAD_INPUT", /dataset.images/);
  await rejects(() => input.toDataset({ images: new Uint8Array(8), labels: detached(2), shape: [1, 2, 2] }, [1, 2, 2], "dataset", prepare), "BAD_INPUT", /labels/);
});

test("sources: what is a model file, and its bytes within the limit", async () => {
  assert.equal(sources.isFileSource("lenet5-mnist"), false);
  assert.equal(sources.isFileSource("./model.bpk"), true);
  assert.equal(sources.isFileSource("indexeddb://mine"), true);
  assert.equal(sources.isFileSource(new Uint8Array(1)), true);
  assert.equal(sources.isFileSource({ architecture: "lenet5" }), false);
  const progress = [];
  const bytes = await sources.fileBytes(new Blob([new Uint8Array([1, 2, 3])]), (loaded, total) => progress.push([loaded, total]));
  assert.deepEqual(Array.from(bytes), [1, 2, 3]);
  assert.deepEqual(progress, [[3, 3]]);
  assert.equal((await sources.fileBytes(new Uint8Array([4]).buffer, () => {})).length, 1);
  await rejects(() => sources.fileBytes(lyingProxy(new Uint8Array(2), 2 ** 40), () => {}), "BAD_INPUT", /source/);
  await rejects(() => sources.fileBytes(detached(2), () => {}), "BAD_INPUT", /source/);
  await rejects(() => sources.saveModel({ info: { architecture: "x", classes: [] }, exportModel: async () => new Uint8Array() }, "ftp://x"), "BAD_INPUT", /^target/);
});

test("the generated limits are the ones the guard applies", () => {
  assert.equal(guard.MAX_BATCH, limits.MAX_BATCH);
  assert.equal(guard.MAX_VALUES, limits.MAX_VALUES);
  assert.equal(guard.MAX_WEIGHTS_BYTES, limits.MAX_WEIGHTS_BYTES);
  assert.equal(limits.SEED.max, Number.MAX_SAFE_INTEGER);
});

test("the heat colour scale is the generated one: its stops at 0, ¼, ½, ¾, 1, brighter as it grows", async () => {
  const { heatColour, HEAT_STOPS } = await load("colours.js");
  HEAT_STOPS.forEach((stop, i) => assert.deepEqual(heatColour(i / 4), Array.from(stop)));
  assert.deepEqual(heatColour(NaN), [0, 0, 0]);
  assert.deepEqual(heatColour(-1), [0, 0, 0]);
  assert.deepEqual(heatColour(9), [1, 1, 1]);
  const brightness = (t) => heatColour(t).reduce((a, b) => a + b, 0);
  for (let i = 0; i < 100; i++) assert.ok(brightness(i / 100) < brightness((i + 1) / 100), `at ${i / 100}`);
});
