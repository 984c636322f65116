// One library, one backend, one net per fresh page (scripts/bench.mjs opens each in a new
// browser context): time to the first result, inference of 1 and 64 images, one Adam step at
// batch 64, and the 64 images' probabilities (the driver checks both libraries agree).
// Query: ?lib=convlens|tfjs&backend=webgpu|cpu|wasm&net=lenet5|vin&steps=N[&threads=1]
// (threads=1, on a cross-origin isolated page: both libraries on all logical processors —
// convlens in worker mode, where it gets its threads; TF.js wasm with setThreadsCount, since its
// default is half of them).
// Both libraries read the same shipped burnpack weights and the same held-out images.
const q = new URLSearchParams(location.search);
const LIB = q.get("lib");
const BACKEND = q.get("backend");
const NET = q.get("net");
const STEPS = Number(q.get("steps") ?? 3);
const THREADS = q.get("threads") === "1";
const SHIPPED = { lenet5: "lenet5-mnist", vin: "vin-fashion" };
const DATA = { lenet5: "mnist", vin: "fashion" };
const BATCH = 64;

// WebGPU work per call, counted by wrapping the API both libraries call: compute dispatches,
// queue submissions and buffer maps (each map is a read back to the CPU that waits for the GPU).
const gpu = { dispatches: 0, submits: 0, reads: 0 };
if (globalThis.GPUComputePassEncoder) {
  // Each wrapped call is counted under `key` and, while `trace` is an array, stamped as `kind`
  // (a map also when it completes; see `breakdown`).
  const wrap = (proto, method, key, kind) => {
    const original = proto[method];
    proto[method] = function (...args) {
      gpu[key]++;
      if (kind) trace?.push([kind, performance.now()]);
      const out = original.apply(this, args);
      if (kind === "map") out.then(() => trace?.push(["mapped", performance.now()]), () => {});
      return out;
    };
  };
  wrap(GPUComputePassEncoder.prototype, "dispatchWorkgroups", "dispatches");
  wrap(GPUComputePassEncoder.prototype, "dispatchWorkgroupsIndirect", "dispatches");
  wrap(GPUQueue.prototype, "submit", "submits", "submit");
  wrap(GPUBuffer.prototype, "mapAsync", "reads", "map");
}
/** While an array: `[kind, ms]` for every submit, map request and completed map. */
let trace = null;

/**
 * Where one call of `fn` spends its time, from the timestamps of its WebGPU calls (medians of
 * `runs` calls after a warm-up, ms): until its first queue submit (input conversion, uploads,
 * building and encoding kernels on the CPU), from there until it asks to read a result (more
 * encoding and submits), waiting for that read (the GPU finishing the work, then the copy), and
 * after the read (copying out of the mapped buffer, post-processing in JS).
 */
async function breakdown(fn, runs = 5) {
  await fn();
  const parts = { encode: [], more: [], wait: [], after: [], total: [] };
  for (let i = 0; i < runs; i++) {
    trace = [];
    const t0 = performance.now();
    await fn();
    const t1 = performance.now();
    const at = (kind, last = false) => { const xs = trace.filter(([k]) => k === kind).map(([, t]) => t); return last ? xs.at(-1) : xs[0]; };
    const [submit, map, mapped] = [at("submit"), at("map", true), at("mapped", true)];
    trace = null;
    if (submit === undefined || map === undefined || mapped === undefined) return undefined;
    parts.encode.push(submit - t0);
    parts.more.push(map - submit);
    parts.wait.push(mapped - map);
    parts.after.push(t1 - mapped);
    parts.total.push(t1 - t0);
  }
  return Object.fromEntries(Object.entries(parts).map(([k, xs]) => [k, median(xs)]));
}
/** GPU work done by one call of `fn` (after a warm-up call unless `warm`). */
async function gpuWork(fn, warm = false) {
  if (!warm) await fn();
  const before = { ...gpu };
  await fn();
  return Object.fromEntries(Object.entries(gpu).map(([k, v]) => [k, v - before[k]]));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs `fn` once (warm-up), then again until `minRuns` runs and `budgetMs` have passed (at most `maxRuns`). */
async function time(fn, { minRuns = 3, maxRuns = 30, budgetMs = 3000 } = {}) {
  await fn();
  const times = [];
  const start = performance.now();
  while (times.length < maxRuns && (times.length < minRuns || performance.now() - start < budgetMs)) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return { medianMs: median(times), minMs: Math.min(...times), runs: times.length };
}

/** The first `n` images (floats 0–1) and labels of a held-out IDX subset (the page's reader). */
async function heldOut(n) {
  const { fetchIdx } = await import("/app/images.js");
  const [pixels, labels] = await Promise.all(
    ["images", "labels"].map((name) => fetchIdx(`/data/${DATA[NET]}-test-${name}.idx`)),
  );
  const images = Float32Array.from(pixels.data.subarray(0, n * 784), (v) => v / 255);
  return { images, labels: labels.data.slice(0, n) };
}

/** `k` batches of 64 training-shaped images (repeats of the held-out ones) with their labels. */
function batches(data, k) {
  const images = new Float32Array(k * BATCH * 784);
  const labels = new Uint8Array(k * BATCH);
  for (let i = 0; i < k; i++) {
    images.set(data.images, i * BATCH * 784);
    labels.set(data.labels, i * BATCH);
  }
  return { images, labels, shape: [1, 28, 28] };
}

async function convlens() {
  const { Model } = await import("/convlens/index.js");
  const data = await heldOut(BATCH);
  // The held-out images are already the networks' 28×28 inputs, and the TF.js page reads them
  // as they are: a plain resize (the identity here) instead of LeNet-5's MNIST centring, so that
  // both libraries get the same input and do the same work.
  const model = await Model.load(SHIPPED[NET], { backend: BACKEND, worker: THREADS, preprocess: { kind: "resize" } });
  const one = { data: data.images.subarray(0, 784), shape: [1, 28, 28] };
  const loadedMs = performance.now();
  await model.classify(one);
  const firstResultMs = performance.now();
  const firstCallMs = firstResultMs - loadedMs;
  const batch = { data: data.images, shape: [BATCH, 1, 28, 28] };
  const probabilities = (await model.classify(batch)).map((p) => [...p].sort((a, b) => a.index - b.index).map((c) => c.score));
  const result = {
    backend: model.backend,
    firstResultMs,
    firstCallMs,
    infer1: await time(() => model.classify(one)),
    infer64: await time(() => model.classify(batch)),
    probabilities,
  };
  if (BACKEND === "webgpu") {
    result.gpuWork = { infer1: await gpuWork(() => model.classify(one)), infer64: await gpuWork(() => model.classify(batch)) };
    result.breakdown = { infer1: await breakdown(() => model.classify(one)), infer64: await breakdown(() => model.classify(batch)) };
  }
  // Adam steps at batch 64, the loss read after every step (as TF.js's minimize below).
  const stepsAt = [];
  const gpuAt = [];
  await model.fit(batches(data, STEPS), {
    epochs: 1, batchSize: BATCH, readLossEvery: 1, validationData: batches(data, 1),
    onStep: () => { stepsAt.push(performance.now()); gpuAt.push({ ...gpu }); },
  });
  if (BACKEND === "webgpu" && gpuAt.length >= 2) {
    const [a, b] = gpuAt.slice(-2);
    result.gpuWork.step64 = Object.fromEntries(Object.keys(gpu).map((k) => [k, b[k] - a[k]]));
  }
  const intervals = stepsAt.slice(1).map((t, i) => t - stepsAt[i]);
  result.step64 = { medianMs: median(intervals), minMs: Math.min(...intervals), runs: intervals.length };
  return result;
}

function loadScript(src) {
  return new Promise((ok, fail) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = ok;
    s.onerror = () => fail(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

async function tfjs() {
  // The @tensorflow/tfjs bundle (core with its gradients, the cpu and webgl backends, layers),
  // as a <script> user loads it, plus the backend package for webgpu and wasm.
  await loadScript("/tfjs/tfjs/dist/tf.min.js");
  const backendScript = { webgpu: "tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js", wasm: "tfjs-backend-wasm/dist/tf-backend-wasm.min.js" }[BACKEND];
  if (backendScript) await loadScript(`/tfjs/${backendScript}`);
  const tf = window.tf;
  if (BACKEND === "wasm") tf.wasm.setWasmPaths("/tfjs/tfjs-backend-wasm/dist/");
  if (BACKEND === "wasm" && THREADS) tf.wasm.setThreadsCount(navigator.hardwareConcurrency);
  if (!(await tf.setBackend(BACKEND))) throw new Error(`TF.js backend ${BACKEND} is not available`);
  await tf.ready();
  const nets = await import("./tfjs-nets.js");
  const [bytes, index, data] = await Promise.all([
    fetch(`/weights/${SHIPPED[NET]}.bpk`).then((r) => r.arrayBuffer()).then((b) => new Uint8Array(b)),
    fetch(`/bench-weights/${SHIPPED[NET]}.json`).then((r) => r.json()),
    heldOut(BATCH),
  ]);
  const net = nets[NET](nets.readWeights(bytes, index));
  const predict = async (pixels, n) => {
    const probs = tf.tidy(() => tf.softmax(net.logits(tf.tensor4d(pixels, [n, 28, 28, 1]))));
    const values = await probs.data();
    probs.dispose();
    return values;
  };
  const one = data.images.subarray(0, 784);
  const loadedMs = performance.now();
  await predict(one, 1);
  const firstResultMs = performance.now();
  const firstCallMs = firstResultMs - loadedMs;
  const flat = await predict(data.images, BATCH);
  const probabilities = Array.from({ length: BATCH }, (_, i) => Array.from(flat.subarray(i * 10, i * 10 + 10)));
  const result = {
    backend: { name: tf.getBackend(), threads: BACKEND === "wasm" ? tf.wasm.getThreadsCount?.() ?? 1 : undefined },
    firstResultMs,
    firstCallMs,
    infer1: await time(() => predict(one, 1)),
    infer64: await time(() => predict(data.images, BATCH)),
    probabilities,
  };
  if (BACKEND === "webgpu") {
    result.gpuWork = { infer1: await gpuWork(() => predict(one, 1)), infer64: await gpuWork(() => predict(data.images, BATCH)) };
    result.breakdown = { infer1: await breakdown(() => predict(one, 1)), infer64: await breakdown(() => predict(data.images, BATCH)) };
  }
  if (BACKEND !== "wasm") {
    // One Adam step (lr 1e-3) on mean cross-entropy at batch 64, the loss read after each.
    const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    const x = tf.tensor4d(data.images, [BATCH, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(data.labels, "int32"), 10);
    const step = async () => {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, net.trainingLogits(x)), true, net.variables);
      await loss.data();
      loss.dispose();
    };
    result.step64 = await time(step, { minRuns: Math.max(1, STEPS - 1), maxRuns: STEPS, budgetMs: 0 });
    if (BACKEND === "webgpu") result.gpuWork.step64 = await gpuWork(step, true);
  }
  return result;
}

(LIB === "convlens" ? convlens() : tfjs())
  .then((result) => { window.benchResult = result; })
  .catch((err) => { window.benchResult = { error: `${err.code ?? ""} ${err.message ?? err}`.trim() }; })
  .finally(() => { document.getElementById("out").textContent = JSON.stringify(window.benchResult, null, 1); });
