// Memory stays bounded (run by tests/e2e/npm-node.test.mjs): 1,000 loads and disposals and
// 100,000 classifications, measured by the size of the CPU module's wasm memory (which can only
// grow) and the process's resident memory after a warm-up; then how much one large batch leaves
// the wasm memory grown by. Prints one JSON line.
import { Model } from "convlens";
import { digits, image } from "./digits.mjs";

const bindings = await import(new URL("./node_modules/convlens/dist/wasm/convlens_cpu.js", import.meta.url));
const LOADS = Number(process.env.MEMORY_LOADS ?? 1000);
const CALLS = Number(process.env.MEMORY_CALLS ?? 100000);
const MiB = 1024 * 1024;

const test = digits("test", 16);
const one = image(test, 0);
const wasmBytes = async () => (await bindings.default()).memory.buffer.byteLength;
const rss = () => process.memoryUsage().rss;
const settle = async () => {
  globalThis.gc?.();
  await new Promise((ok) => setTimeout(ok, 10));
};

// Warm-up: what one load, one disposal and some calls allocate for good (caches, the allocator's
// first pages) is not a leak.
for (let i = 0; i < 20; i++) (await Model.load("lenet5-mnist")).dispose();
const model = await Model.load("lenet5-mnist");
for (let i = 0; i < 2000; i++) await model.classify(one, { topK: 1 });
await settle();
const start = { wasm: await wasmBytes(), rss: rss() };

for (let i = 0; i < LOADS; i++) {
  const m = await Model.load("lenet5-mnist");
  await m.classify(one, { topK: 1 });
  m.dispose();
}
await settle();
const afterLoads = { wasm: await wasmBytes(), rss: rss() };

let correct = 0;
for (let i = 0; i < CALLS; i++) {
  const [top] = await model.classify(one, { topK: 1 });
  if (top.index === test.labels[0]) correct++;
}
await settle();
const afterCalls = { wasm: await wasmBytes(), rss: rss() };

// One batch of 1,024 images of 64×64 (4 Mi values, 16 MiB as f32) grows the wasm memory, which
// WebAssembly cannot shrink: measured, and written in the README.
const big = { data: new Float32Array(1024 * 64 * 64).fill(0.5), shape: [1024, 1, 64, 64] };
await model.classify(big, { topK: 1 });
await settle();
const afterBig = { wasm: await wasmBytes(), rss: rss() };
await model.classify(big, { topK: 1 }); // the allocator settles after a second one
await settle();
const afterTwo = { wasm: await wasmBytes(), rss: rss() };
// The memory is reused: more batches of that size grow it no further.
for (let i = 0; i < 5; i++) await model.classify(big, { topK: 1 });
await settle();
const afterBigs = { wasm: await wasmBytes(), rss: rss() };
model.dispose();
const mib = (x) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, +(v / MiB).toFixed(1)]));
console.log(JSON.stringify({ loads: LOADS, calls: CALLS, correct, start: mib(start), afterLoads: mib(afterLoads), afterCalls: mib(afterCalls), afterBig: mib(afterBig), afterTwo: mib(afterTwo), afterBigs: mib(afterBigs) }));
