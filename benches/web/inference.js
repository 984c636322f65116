// Per backend, through the JS API npm users get: LeNet-5 classify (one image) and evaluate
// (a batch of 64) times, and training throughput over one short epoch. The numbers behind
// `backend: "auto"` passing software WebGPU adapters by. Served by scripts/bench.mjs next to
// the demo's build (/convlens/index.js).
import { Model } from "/convlens/index.js";

const WARMUP = 3;
const RUNS = { classify: 30, evaluate: 10 };

function digits(n) {
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 10;
    for (let t = 4; t < 24; t++) images[i * 784 + t * 28 + ((t + i * 3) % 24) + 2] = 255;
  }
  return { images, labels, shape: [1, 28, 28] };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(runs, fn) {
  const t0 = performance.now();
  await fn();
  const first = performance.now() - t0;
  for (let i = 0; i < WARMUP; i++) await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return { firstMs: first, medianMs: median(times), minMs: Math.min(...times), runs };
}

async function measure(backend) {
  const model = await Model.load("lenet5-mnist", { backend });
  const result = { backend: model.backend, ops: {} };
  const one = { data: digits(1).images, shape: [1, 28, 28] };
  const batch = digits(64);
  result.ops["classify, 1 image"] = await time(RUNS.classify, () => model.classify(one));
  result.ops["evaluate, 64 images"] = await time(RUNS.evaluate, () => model.evaluate(batch));
  const [epoch] = await model.fit(digits(640), { epochs: 1, batchSize: 32, validationSplit: 0.1 });
  result.trainImagesPerSecond = epoch.imagesPerSecond;
  model.dispose();
  return result;
}

async function main() {
  const results = [];
  for (const backend of ["webgpu", "cpu"]) {
    try {
      results.push(await measure(backend));
    } catch (err) {
      results.push({ backend: { name: backend }, error: `${err.code ?? ""} ${err.message ?? err}` });
    }
  }
  window.benchResults = results;
  document.getElementById("out").textContent = JSON.stringify(results, null, 2);
}

main().catch((err) => {
  window.benchResults = { error: String(err) };
});
