// One library, one backend, one ONNX network per fresh page (scripts/bench-onnx.mjs opens each
// in a new browser context): the time to the first result (from navigation: the library's code,
// the network's bytes, compiling, loading, one image classified), loading alone, the first call
// after loading, inference of 1 and of BATCH images, and every image's probabilities (the driver
// checks the two libraries agree).
// Query: ?lib=convlens|ort|builtin&backend=webgpu|cpu&net=NAME&batch=N&runs=N
// (builtin: convlens's own EfficientNet-Lite0 with the same ImageNet weights, shipped, for
// net=efficientnet_lite0: the imported network against the built-in one.)
// [&threads=1]. ONNX Runtime Web's CPU path is its wasm execution provider. Without threads=1 the
// page is not cross-origin isolated (as most sites are not) and both run on one thread; with it,
// on a cross-origin isolated page, ORT on every logical processor and convlens in worker mode,
// where it gets its threaded CPU module.
// Both libraries read the same file (/bench-onnx/NAME.onnx) and classify the same images.
const q = new URLSearchParams(location.search);
const LIB = q.get("lib");
const BACKEND = q.get("backend");
const NET = q.get("net");
const BATCH = Number(q.get("batch") ?? 32);
const RUNS = Number(q.get("runs") ?? 3);
const THREADS = q.get("threads") === "1";
/**
 * How pixels become a network's input, where it is not the identity: EfficientNet-Lite0's
 * (255·x − 127) / 128, which the built-in model does inside; convlens is told it at load, ONNX
 * Runtime gets inputs prepared so.
 */
const NORMALISE = { efficientnet_lite0: { mean: [127, 127, 127], std: [128, 128, 128], scale: 255 } };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs `fn` once (warm-up), then `runs` more times; the median and the fastest, in ms. */
async function time(fn, runs = RUNS) {
  await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return { medianMs: median(times), minMs: Math.min(...times), runs };
}

/** `n` values in [0, 1) from a fixed seed (xorshift32), the same on both pages. */
function images(n) {
  const out = new Float32Array(n);
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = (s >>> 8) / 16777216;
  }
  return out;
}

function softmax(row) {
  const max = Math.max(...row);
  const exp = row.map((v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((v) => v / sum);
}

async function convlens(bytes) {
  const { Model } = await import("/convlens/index.js");
  const t0 = performance.now();
  const model = LIB === "builtin"
    ? await Model.load("efficientnet-lite0-imagenet", { backend: BACKEND, worker: THREADS, preprocess: { kind: "resize" } })
    : await Model.load(bytes, { backend: BACKEND, worker: THREADS, ...(NORMALISE[NET] ? { input: NORMALISE[NET] } : {}) });
  const loadMs = performance.now() - t0;
  const [c, h, w] = model.info.inputShape;
  const size = c * h * w;
  const data = images(BATCH * size);
  const one = { data: data.subarray(0, size), shape: [1, c, h, w] };
  const batch = { data, shape: [BATCH, c, h, w] };
  const loadedAt = performance.now();
  await model.classify(one);
  const firstResultMs = performance.now();
  const classes = model.info.classes.length;
  const probabilities = (await model.classify(batch, { topK: classes })).map((top) => {
    const p = new Array(classes).fill(0);
    for (const { index, score } of top) p[index] = score;
    return p;
  });
  return {
    backend: model.backend,
    loadMs,
    firstResultMs,
    firstCallMs: firstResultMs - loadedAt,
    infer1: await time(() => model.classify(one)),
    inferBatch: await time(() => model.classify(batch)),
    probabilities,
  };
}

async function ort(bytes) {
  // The package's own entry points ("onnxruntime-web/webgpu", "onnxruntime-web/wasm"), which
  // fetch their wasm from beside themselves.
  const entry = BACKEND === "webgpu" ? "ort.webgpu.bundle.min.mjs" : "ort.wasm.bundle.min.mjs";
  const ort = await import(`/ort/${entry}`);
  ort.env.wasm.numThreads = THREADS ? navigator.hardwareConcurrency : 1;
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [BACKEND === "webgpu" ? "webgpu" : "wasm"] });
  const loadMs = performance.now() - t0;
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  const dims = session.inputMetadata?.[0]?.shape?.slice(1).map(Number);
  if (!dims || dims.some((d) => !Number.isFinite(d))) throw new Error(`${NET}: no fixed input shape in ${JSON.stringify(session.inputMetadata)}`);
  const [c, h, w] = dims;
  const size = c * h * w;
  const data = images(BATCH * size);
  const norm = NORMALISE[NET];
  if (norm) data.forEach((v, i) => { const k = Math.floor(i / (h * w)) % c; data[i] = (v * norm.scale - norm.mean[k]) / norm.std[k]; });
  const run = async (n) => {
    const results = await session.run({ [input]: new ort.Tensor("float32", data.subarray(0, n * size), [n, c, h, w]) });
    const values = await results[output].getData();
    for (const t of Object.values(results)) t.dispose?.();
    return values;
  };
  const loadedAt = performance.now();
  await run(1);
  const firstResultMs = performance.now();
  const flat = await run(BATCH);
  const classes = flat.length / BATCH;
  const probabilities = Array.from({ length: BATCH }, (_, i) => softmax(Array.from(flat.subarray(i * classes, (i + 1) * classes))));
  return {
    backend: { name: BACKEND === "webgpu" ? "webgpu" : "wasm", threads: ort.env.wasm.numThreads },
    loadMs,
    firstResultMs,
    firstCallMs: firstResultMs - loadedAt,
    infer1: await time(() => run(1)),
    inferBatch: await time(() => run(BATCH)),
    probabilities,
  };
}

(async () => {
  if (LIB === "builtin") return convlens();
  const bytes = new Uint8Array(await (await fetch(`/bench-onnx/${NET}.onnx`)).arrayBuffer());
  return LIB === "convlens" ? convlens(bytes) : ort(bytes);
})()
  .then((result) => { window.benchResult = result; })
  .catch((err) => { window.benchResult = { error: `${err.code ?? ""} ${err.message ?? err}`.trim() }; })
  .finally(() => { document.getElementById("out").textContent = JSON.stringify({ ...window.benchResult, probabilities: undefined }, null, 1); });
