// Hostile calls through the packed package, as a fuzzer would make them (run by
// tests/e2e/npm-node.test.mjs): every method and option of the API gets values drawn from pools of
// bad ones — wrong types, NaN, sizes past 2^32, BigInt and Symbol, Proxies whose traps throw,
// getters that throw, detached and subclassed typed arrays, circular arrays, damaged weights files,
// damaged ONNX networks and bad ONNX options — mixed with good ones, from a fixed seed. After each case the result must be what the case
// expects (a success, or a ConvlensError with one of the expected codes; never an untyped error,
// never INTERNAL), and the shipped model must still read a known digit.
// No Node APIs: tests/e2e/consumer/fuzz.mjs runs it in Node, the Vite consumer in Chromium, on the
// main thread and in worker mode.
// mulberry32: a small seeded generator, so a failure can be replayed with the same seed.
let state = 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (xs) => xs[Math.floor(random() * xs.length)];

class CallerError extends Error {}
const thrower = (what) => () => { throw new CallerError(what); };

// Bad values, each made fresh (some are consumed or detached by use).
const SCALARS = [
  () => undefined, () => null, () => NaN, () => Infinity, () => -Infinity, () => -1, () => 0, () => -0, () => 0.5,
  () => 1.5, () => 2 ** 31, () => 2 ** 32, () => 2 ** 32 + 28, () => 2 ** 53, () => 1e308, () => "", () => "28",
  () => "lenet5", () => true, () => 10n, () => Symbol("s"), () => ({}), () => [], () => () => {}, () => new Date(0),
];
function detached(n) {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}
class EvilFloats extends Float32Array {
  get length() { throw new CallerError("length getter"); }
}
function throwingProxy(target) {
  const p = new Proxy(target, { get: thrower("Proxy get"), has: thrower("Proxy has"), ownKeys: thrower("Proxy ownKeys") });
  proxies.add(p);
  return p;
}
function lyingProxy(target, length) {
  return new Proxy(target, { get: (t, k) => (k === "length" ? length : Reflect.get(t, k)) });
}
function circular() {
  const c = [1, 28];
  c.push(c);
  return c;
}
function withThrowingGetter(base, key) {
  const o = { ...base };
  Object.defineProperty(o, key, { get: thrower(`${key} getter`), enumerable: true });
  return o;
}

// Set by fuzz() for each run: the API under test, the digits, and the load options every good
// load gets (e.g. { worker: true }).
let Model, ConvlensError, backends, pretrained, architectures;
let test, known, knownLabel, base;
const image = (set, i) => ({ data: set.images.slice(i * 784, (i + 1) * 784), shape: [1, 28, 28] });
const pixels = (n) => Float32Array.from(test.images.subarray(0, n * 784), (v) => v / 255);
/** Good load options merged with the run's base ones; anything else (a bad value) as it is. */
const withBase = (options) => (options && Object.getPrototypeOf(options) === Object.prototype && !isProxy(options) ? { ...base, ...options } : options);
const proxies = new WeakSet();
const isProxy = (o) => proxies.has(o);

function badData() {
  return pick([
    () => detached(784), () => lyingProxy(new Float32Array(4), 2 ** 29),
    () => throwingProxy(new Float32Array(784)), () => new Float64Array(784), () => new Int32Array(784),
    () => Array.from({ length: 784 }, () => 0.5), () => new Float32Array(783), () => Float32Array.from(pixels(1), (v, i) => (i === 7 ? NaN : v)),
    () => Float32Array.from(pixels(1), (v, i) => (i === 9 ? 2 : v)), () => new Uint16Array(784), () => new DataView(new ArrayBuffer(3136)),
    ...SCALARS,
  ])();
}
function badShape() {
  return pick([
    () => [1, 4294967324, 28], () => [1, 28, 4294967324], () => [0, 28, 28], () => [-1, 28, 28], () => [1.5, 28, 28],
    () => [1n, 28n, 28n], () => circular(), () => throwingProxy([1, 28, 28]), () => ["1", "28", "28"], () => [1, 2 ** 31, 2 ** 31],
    () => [4, 8192, 8192], () => [1, 28], () => [1, 28, 28, 1, 1], () => [2000, 1, 28, 28], () => [1, 1, 28, 28, 28], () => [3, 17, 17],
    ...SCALARS,
  ])();
}

/** A case: what to call, and which outcomes are right ("ok" or error codes). */
function makeCase() {
  const kind = pick(["classify", "classify", "featureMaps", "explain", "evaluate", "fit", "load", "load", "weights", "misc", ...(onnxBytes ? ["onnx", "onnx"] : [])]);
  switch (kind) {
    case "onnx": {
      // An ONNX network (the small committed CNN): damaged bytes, options of every kind, and
      // calls on it once loaded.
      const roll = random();
      let source = onnxBytes.slice();
      let options = {};
      let expect = ["ok"];
      let call = null;
      if (roll < 0.35) {
        source = damaged(onnxBytes);
        expect = ["ok", "BAD_WEIGHTS", "UNSUPPORTED"];
      } else if (roll < 0.75) {
        const value = pick(SCALARS)();
        [options, expect] = pick([
          () => [{ transfer: true, classes: ["a", "b"] }, ["ok"]],
          () => [{ transfer: true, classes: ["a", "b"], cut: "fc" }, ["ok"]],
          () => [{ transfer: true }, ["BAD_INPUT"]],
          () => [{ transfer: true, classes: ["a", "b"], cut: pick(["nope", "relu1", "conv1", ""]) }, ["BAD_INPUT"]],
          () => [{ transfer: true, classes: ["a", "b"], cut: value }, value === undefined ? ["ok"] : ["BAD_INPUT"]],
          () => [{ cut: "fc" }, ["BAD_INPUT"]],
          () => [{ classes: ["a", "b", "c"] }, ["ok"]],
          () => [{ classes: pick([() => ["a", "b"], () => [1, 2, 3], () => throwingProxy(["a", "b", "c"]), ...SCALARS])() }, null],
          () => [{ transfer: value }, value === undefined || value === false ? ["ok"] : ["BAD_INPUT"]],
          () => [{ input: { mean: [0.5], std: [0.25] } }, ["ok"]],
          () => [{ input: pick([() => ({ mean: [0.5, 0.5, 0.5], std: [1] }), () => ({ mean: [0.5], std: [0] }), () => ({ mean: [NaN], std: [1] }),
            () => ({ mean: [0.5], std: [1], gamma: 2 }), () => throwingProxy({ mean: [0.5] }), () => 7, () => "rgb"])() }, ["BAD_INPUT"]],
        ])();
        if (expect === null) expect = options.classes === undefined ? ["ok"] : ["BAD_INPUT"];
      } else {
        [call, expect] = pick([
          () => [(m) => m.classify(known), ["ok"]],
          () => [(m) => m.featureMaps(known, { layers: ["conv1", "fc"] }), ["ok"]],
          () => [(m) => m.featureMaps(known, { layers: ["nope"] }), ["BAD_INPUT"]],
          () => [(m) => m.explain(known, { layer: pick(["depthwise", "relu1"]) }), ["ok"]],
          () => [(m) => m.explain(known, { layer: pick(["fc", "nope"]) }), ["BAD_INPUT"]],
          () => [(m) => m.classify({ data: pixels(1), shape: badShape() }), ["BAD_INPUT"]],
        ])();
      }
      return {
        kind,
        expect,
        run: async () => {
          const m = await Model.load(source, withBase(options));
          try {
            if (call) await call(m);
          } finally {
            m.dispose();
          }
        },
      };
    }
    case "explain": {
      // explain: one image (not a batch, not junk) and options each checked by name.
      const roll = random();
      let input = known;
      let expect = ["ok"];
      if (roll < 0.2) input = { data: badData(), shape: [1, 28, 28] };
      else if (roll < 0.3) input = [known, known];
      else if (roll < 0.4) input = pick(SCALARS)();
      if (roll < 0.4) expect = ["BAD_INPUT"];
      const value = random() < 0.5 ? undefined : pick(SCALARS)();
      const [options, good] = pick([
        () => [undefined, true],
        () => [{ method: "saliency" }, true],
        () => [{ method: "integrated-gradients", steps: 4 }, true],
        () => [{ method: "integrated-gradients", steps: value }, value === undefined],
        () => [{ method: value }, value === undefined],
        () => [{ layer: pick(["conv1", "conv2", "relu1", "fc1", "nope", ""]) }, null],
        () => [{ classIndex: value }, value === undefined || (Number.isInteger(value) && value >= 0 && value < 10)],
        () => [{ classIndex: 9, method: "gradcam", layer: "pool1" }, true],
        () => [{ method: "saliency", layer: "conv1" }, false],
        () => [{ colour: "red" }, false],
        () => [throwingProxy({}), false],
        // An object without keys ({}, [], a Date) is no options at all.
        () => [value, value === undefined || (typeof value === "object" && value !== null && Object.keys(value).length === 0)],
      ])();
      const layerOk = (l) => ["conv1", "conv2", "relu1"].includes(l);
      const fine = good === null ? layerOk(options.layer) : good;
      if (!fine) expect = ["BAD_INPUT"];
      return { kind, expect, run: (m) => m.explain(input, options) };
    }
    case "classify":
    case "featureMaps": {
      const roll = random();
      let input;
      let expect = ["BAD_INPUT"];
      if (roll < 0.15) { input = known; expect = ["ok"]; }
      else if (roll < 0.3) input = { data: badData(), shape: [1, 28, 28] };
      else if (roll < 0.45) input = { data: pixels(1), shape: badShape() };
      else if (roll < 0.55) input = { data: badData(), shape: badShape() };
      else if (roll < 0.65) input = withThrowingGetter({ data: pixels(1), shape: [1, 28, 28] }, pick(["data", "shape"]));
      else if (roll < 0.72) {
        input = { data: new Uint8ClampedArray(4 * 20 * 30), width: pick([20, 2 ** 32 + 20, -20, 1e9, NaN, "20"]), height: 30 };
        if (input.width === 20) expect = ["ok"];
      }
      else if (roll < 0.8) {
        const second = pick([() => known, () => ({ data: pixels(1), shape: [1, 14, 56] }), badData, () => null])();
        input = [known, second];
        if (second === known) expect = ["ok"];
      }
      else if (roll < 0.85) {
        // Image files that are not: junk behind a PNG or JPEG signature, a cut header, junk in a
        // Blob (the decoders must refuse them with BAD_INPUT, never crash).
        const junk = Uint8Array.from({ length: 16 + Math.floor(random() * 200) }, () => Math.floor(random() * 256));
        input = pick([
          () => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...junk]),
          () => Uint8Array.from([0xff, 0xd8, 0xff, ...junk]),
          () => new Uint8Array([0x89, 0x50]),
          () => new Blob([junk]),
          () => throwingProxy([known]),
        ])();
      }
      else if (roll < 0.9) {
        // Good pixels in forms the checks must not be fooled by, nor refuse: a Uint8Array of
        // another size and channel count, and a Float32Array subclass whose own `length` getter
        // throws (its real length is read, as the engine knows it).
        input = pick([
          () => ({ data: new Uint8Array(3 * 9 * 13).fill(200), shape: [3, 9, 13] }),
          () => ({ data: Object.setPrototypeOf(pixels(1), EvilFloats.prototype), shape: [1, 28, 28] }),
        ])();
        expect = ["ok"];
      }
      else input = pick(SCALARS)();
      const preprocess = () =>
        pick([
          () => ({ kind: "resize" }), () => ({ kind: "centreDigit" }), () => ({ kind: "centreCrop", fraction: pick([() => 0.5, () => 1, () => 0, () => -1, () => 2, () => NaN, ...SCALARS])() }),
          () => ({ kind: "resize", fraction: 0.5 }), () => ({ kind: "warp" }), () => throwingProxy({ kind: "resize" }), ...SCALARS,
        ])();
      const roll2 = random();
      let options;
      if (kind === "classify" && roll2 < 0.3) options = pick([() => ({ topK: pick(SCALARS)() }), () => ({ topk: 3 }), () => throwingProxy({}), () => ({ topK: 3 })])();
      else if (roll2 < 0.45) options = { preprocess: preprocess() };
      else if (kind === "featureMaps" && roll2 < 0.6) options = { layers: pick([() => ["conv1", "fc3"], () => ["nope"], () => [1], () => "conv1", () => [], () => throwingProxy(["conv1"]), ...SCALARS])() };
      const goodPreprocess = (p) => {
        if (p === undefined) return true;
        if (typeof p !== "object" || p === null || isProxy(p)) return false;
        const keys = Object.keys(p);
        if (p.kind === "resize" || p.kind === "centreDigit") return keys.length === 1;
        return p.kind === "centreCrop" && keys.length === 2 && typeof p.fraction === "number" && p.fraction > 0 && p.fraction <= 1;
      };
      const goodOptions = options === undefined || (() => {
        try {
          if (isProxy(options)) return false;
          const keys = Object.keys(options);
          if (!keys.every((k) => ["topK", "preprocess", "layers"].includes(k))) return false;
          if (keys.includes("topK") && !(options.topK === undefined || (Number.isInteger(options.topK) && options.topK >= 1 && options.topK <= 4096))) return false;
          if (keys.includes("layers") && !(options.layers === undefined || (Array.isArray(options.layers) && !isProxy(options.layers) && options.layers.every((l) => ["conv1", "fc3"].includes(l))))) return false;
          return goodPreprocess(options.preprocess);
        } catch {
          return false;
        }
      })();
      if (!goodOptions) expect = ["BAD_INPUT"];
      return { kind, expect, run: (m) => (kind === "classify" ? m.classify(input, options) : m.featureMaps(input, options)) };
    }
    case "evaluate":
    case "fit": {
      const roll = random();
      const good = () => ({ images: test.images.slice(0, 32 * 784), labels: test.labels.slice(0, 32), shape: [1, 28, 28] });
      let dataset = good();
      let expect = ["ok"];
      if (roll < 0.15) dataset = { ...good(), images: badData() };
      else if (roll < 0.3) dataset = { ...good(), labels: pick([() => [1, 2, 300], () => [0.5], () => new Float32Array(32), () => [NaN], () => throwingProxy([1]), () => lyingProxy([1], 2 ** 40), () => "01234", ...SCALARS])() };
      else if (roll < 0.45) dataset = { ...good(), shape: badShape() };
      else if (roll < 0.55) dataset = withThrowingGetter(good(), pick(["images", "labels", "shape"]));
      else if (roll < 0.6) dataset = pick(SCALARS)();
      if (roll < 0.6) expect = ["BAD_INPUT"];
      if (kind === "evaluate") return { kind, expect, run: (m) => m.evaluate(dataset) };
      let options = { epochs: 1, batchSize: 16, validationData: good() };
      const o = random();
      if (o < 0.5) {
        const key = pick(["epochs", "batchSize", "learningRate", "patience", "augment", "elastic", "validationSplit", "seed", "readLossEvery", "signal", "onStep", "onEpoch", "validationData", "epoch", "lr"]);
        options = { ...options, [key]: pick(SCALARS)() };
        if (expect[0] === "ok") expect = ["BAD_INPUT", "ok"]; // undefined or a fitting value is fine
      } else if (o < 0.6) {
        options = { ...options, onStep: thrower("onStep") };
        if (expect[0] === "ok") expect = ["ABORTED"];
      } else if (o < 0.7) {
        const controller = new AbortController();
        controller.abort();
        options = { ...options, signal: controller.signal };
        expect = expect[0] === "ok" ? ["ABORTED"] : ["BAD_INPUT", "ABORTED"];
      } else if (o < 0.75) {
        options = throwingProxy({});
        expect = ["BAD_INPUT"];
      }
      return { kind, expect, run: (_m, trainee) => trainee.fit(dataset, options) };
    }
    case "load": {
      const roll = random();
      let source = "lenet5-mnist";
      let options = { backend: "cpu" };
      let expect = ["ok"];
      if (roll < 0.2) { source = pick(SCALARS)(); expect = ["BAD_INPUT", "NOT_FOUND"]; }
      else if (roll < 0.35) {
        source = { architecture: pick(SCALARS)() };
        expect = source.architecture === "lenet5" ? ["ok"] : ["BAD_INPUT", "NOT_FOUND"];
      }
      else if (roll < 0.5) { source = { architecture: "lenet5", classes: pick([() => [], () => [1, 2], circular, () => throwingProxy(["a"]), () => Array(5000).fill("x"), () => ["x".repeat(300)], ...SCALARS])() }; expect = source.classes === undefined ? ["ok"] : ["BAD_INPUT"]; }
      else if (roll < 0.6) {
        source = { architecture: "lenet5", weights: pick([() => detached(8), () => new Float32Array(8), () => lyingProxy(new Uint8Array(8), 2 ** 40), () => new Uint8Array(0), ...SCALARS])() };
        expect = source.weights === undefined ? ["ok"] : ["BAD_INPUT", "BAD_WEIGHTS"];
      }
      else if (roll < 0.75) { options = { backend: pick(SCALARS)() }; expect = options.backend === undefined ? ["ok"] : ["BAD_INPUT"]; }
      else if (roll < 0.85) { options = pick([() => ({ worker: 1 }), () => ({ threads: 0 }), () => ({ threads: 2.5 }), () => ({ backnd: "cpu" }), () => ({ onProgress: 7 }), () => throwingProxy({})])(); expect = ["BAD_INPUT"]; }
      else if (roll < 0.9) { options = { onProgress: thrower("onProgress") }; expect = ["BAD_INPUT"]; }
      else if (roll < 0.95) {
        // Transfer learning's new labels for a shipped model (good ones: a fresh head on it).
        options = { classes: pick([() => ["a", "b"], () => ["x", "y", "z"], () => ["a"], () => [1, 2], () => throwingProxy(["a", "b"]), () => Array(5000).fill("x"), ...SCALARS])() };
        const c = options.classes;
        expect = c === undefined || (Array.isArray(c) && !isProxy(c) && c.length >= 2 && c.length <= 4096 && c.every((l) => typeof l === "string")) ? ["ok"] : ["BAD_INPUT"];
        if (random() < 0.3) { source = { architecture: "lenet5" }; if (c !== undefined) expect = ["BAD_INPUT"]; }
      }
      const what = (() => { try { return `options ${Object.entries(options).map(([k, v]) => `${k}: ${typeof v === "function" ? "function" : String(v)}`).join(", ")}`; } catch { return "options that throw"; } })();
      return { kind, expect, what, run: async () => (await Model.load(source, withBase(options))).dispose() };
    }
    case "weights":
      return { kind, expect: ["ok", "BAD_WEIGHTS"], run: async () => (await Model.load({ architecture: "lenet5", weights: damaged() }, base)).dispose() };
    default: {
      const which = pick(["filters", "exportWeights", "catalogue", "disposed"]);
      if (which === "filters") return { kind: which, expect: ["ok"], run: (m) => m.filters() };
      if (which === "exportWeights") return { kind: which, expect: ["ok"], run: (m) => m.exportWeights() };
      if (which === "catalogue") return { kind: which, expect: ["ok"], run: () => Promise.all([backends(), pretrained(), architectures()]) };
      return {
        kind: which,
        expect: ["DISPOSED"],
        run: async () => {
          const m = await Model.load({ architecture: "lenet5" }, base);
          m.dispose();
          m.dispose();
          return m.classify(known);
        },
      };
    }
  }
}

let weightsBytes, onnxBytes;
/** A file (by default the shipped weights) with a few bytes changed, cut, or grown. */
function damaged(file = weightsBytes) {
  const bytes = file.slice();
  const roll = random();
  if (roll < 0.3) return bytes.subarray(0, Math.floor(random() * bytes.length));
  if (roll < 0.4) {
    const grown = new Uint8Array(bytes.length + 1 + Math.floor(random() * 64));
    grown.set(bytes, random() < 0.5 ? 0 : 1);
    return grown;
  }
  const n = 1 + Math.floor(random() * 8);
  // Mostly in the header and metadata, where offsets, dtypes and shapes are.
  for (let i = 0; i < n; i++) bytes[Math.floor(random() * (random() < 0.8 ? 600 : bytes.length))] = Math.floor(random() * 256);
  return bytes;
}

/**
 * Runs `cases` hostile calls from `seed` against `api` (the convlens module), with `digits`
 * (`{ images, labels }`, 784 bytes an image, at least 64) and `loadOptions` added to every good
 * load (e.g. `{ backend: "cpu", worker: true }`); `onnx`, an ONNX network's bytes (a 1×28×28 CNN
 * with nodes conv1, relu1, depthwise and fc: tests/fixtures/tiny-cnn.onnx), adds the ONNX cases.
 * Returns `{ seed, cases, outcomes, failures }`.
 */
export async function fuzz({ api, digits, onnx, seed = 20261129, cases = 2000, loadOptions = { backend: "cpu" } }) {
  onnxBytes = onnx ? Uint8Array.from(onnx) : undefined;
  ({ Model, ConvlensError, backends, pretrained, architectures } = api);
  state = seed >>> 0;
  test = digits;
  known = image(test, 0);
  knownLabel = test.labels[0];
  base = loadOptions;
  const model = await Model.load("lenet5-mnist", base);
  const trainee = await Model.load({ architecture: "lenet5" }, base);
  weightsBytes = await model.exportWeights();
  const outcomes = {};
  const failures = [];
  for (let i = 0; i < cases; i++) {
    const c = makeCase();
    let outcome;
    let detail = "";
    try {
      await c.run(model, trainee);
      outcome = "ok";
    } catch (err) {
      if (err instanceof ConvlensError) {
        outcome = err.code;
        detail = err.message;
        if (err.message.includes("threw") && !(err.cause instanceof CallerError)) outcome = "cause missing";
      } else {
        outcome = "untyped";
        detail = `${err?.name}: ${err?.message ?? String(err)}`;
      }
    }
    const key = `${c.kind} ${outcome}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (!c.expect.includes(outcome)) failures.push({ case: i, kind: c.kind, what: c.what, expected: c.expect, got: outcome, detail: detail.slice(0, 200) });
    let still;
    try {
      const [top] = await model.classify(known, { topK: 1 });
      still = top.index === knownLabel;
    } catch (err) {
      still = false;
      failures.push({ case: i, kind: c.kind, after: `the model no longer classifies: ${err?.code ?? ""} ${err?.message}` });
    }
    if (!still) {
      failures.push({ case: i, kind: c.kind, after: "the model misreads the known digit" });
      break;
    }
  }
  model.dispose();
  trainee.dispose();
  return { seed, cases, outcomes, failures };
}
