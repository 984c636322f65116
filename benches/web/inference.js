// LeNet-5 inference time per backend and batch size, in the page's own clock.
// Served by scripts/bench.mjs next to the demo's build (/convlens.js, /convlens_bg.wasm).
import init, { Network } from "/convlens.js";

const BATCHES = [1, 64];
const WARMUP = 3;
const RUNS = { 1: 30, 64: 10 };

function digits(batch) {
  const pixels = new Float32Array(batch * 784);
  for (let i = 0; i < batch; i++) {
    for (let t = 4; t < 24; t++) pixels[i * 784 + t * 28 + ((t + i * 3) % 24) + 2] = 1;
  }
  return pixels;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(backend) {
  const network = await Network.create("lenet5", backend);
  const result = { backend: network.backend, batches: {} };
  if (network.backend.name !== backend) return result;
  for (const batch of BATCHES) {
    const input = digits(batch);
    const t0 = performance.now();
    await network.classify(input);
    const first = performance.now() - t0;
    for (let i = 0; i < WARMUP; i++) await network.classify(input);
    const times = [];
    for (let i = 0; i < RUNS[batch]; i++) {
      const t = performance.now();
      await network.classify(input);
      times.push(performance.now() - t);
    }
    result.batches[batch] = { firstMs: first, medianMs: median(times), minMs: Math.min(...times), runs: times.length };
  }
  return result;
}

async function main() {
  await init();
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
