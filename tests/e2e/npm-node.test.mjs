// The packed npm package in a fresh Node project: `npm install <tarball>`, then the consumer's
// own `node --test` (tests/e2e/consumer/node.test.mjs) imports "convlens" by name.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { consumerProject, imagenetCache, photoReference, run } from "./consumer.mjs";
import { PHOTOS } from "./consumer/photos.mjs";
import { ROOT } from "./helpers.mjs";

test("Node ≥ 20 consumer of the packed tarball (CPU backend)", async () => {
  const dir = await consumerProject(["node.test.mjs", "digits.mjs", "training.mjs"]);
  const { code, output } = await run("node", ["--test", "--test-concurrency=1", "node.test.mjs"], { cwd: dir });
  console.log(output);
  assert.equal(code, 0, "the consumer's tests failed (output above)");
  assert.match(output, /# pass [1-9]/, "the consumer's tests ran");
  assert.match(output, /# fail 0/);
});

test("the photo model in Node: EfficientNet-Lite0 against numpy, its top 5, transfer learning", async () => {
  const dir = await consumerProject(["photos.mjs", "photos.test.mjs"]);
  await photoReference(join(dir, "reference.safetensors"));
  mkdirSync(join(dir, "photos"));
  for (const photo of PHOTOS) copyFileSync(join(imagenetCache(), "photos", photo), join(dir, "photos", photo));
  const { code, output } = await run("node", ["--test", "photos.test.mjs"], { cwd: dir });
  console.log(output);
  assert.equal(code, 0, "the consumer's photo test failed (output above)");
  assert.match(output, /# pass 2/);
});

test("ONNX networks in Node: a small CNN through every call, and five torch.onnx exports against onnxruntime", async () => {
  const dir = await consumerProject(["onnx.test.mjs"]);
  for (const f of ["tiny-cnn.onnx", "tiny-cnn.expected.json"]) copyFileSync(join(ROOT, "tests/fixtures", f), join(dir, f));
  // The whole networks: the committed graphs with their generated weights, and onnxruntime's logits.
  const python = join(process.env.CONVLENS_CACHE ?? join(process.env.HOME, ".cache/convlens"), "venv/bin/python");
  const made = await run(python, [join(ROOT, "scripts/onnx_networks.py"), join(dir, "networks")]);
  assert.equal(made.code, 0, made.output);
  const { code, output } = await run("node", ["--test", "--test-concurrency=1", "onnx.test.mjs"], { cwd: dir });
  console.log(output);
  assert.equal(code, 0, "the consumer's ONNX tests failed (output above)");
  assert.match(output, /# pass 2/);
});

test("an engine without WebAssembly SIMD gets a typed error naming the engines, not a crash", async () => {
  const dir = await consumerProject(["no-simd.mjs"]);
  const preload = ["--import", join(ROOT, "tests/e2e/no-simd.mjs")];
  // The emulation refuses what such an engine refuses: the package's modules (all use SIMD).
  const module = join(dir, "node_modules/convlens/dist/wasm/convlens_cpu_bg.wasm");
  assert.equal(WebAssembly.validate(readFileSync(module)), true);
  const refused = await run("node", [...preload, "-e",
    `WebAssembly.compile(require("fs").readFileSync(${JSON.stringify(module)})).then(() => console.log("compiled"), (e) => console.log(e.name))`]);
  assert.match(refused.output, /^CompileError$/m);

  const { code, output } = await run("node", [...preload, "no-simd.mjs"], { cwd: dir });
  assert.equal(code, 0, output);
  const { outcomes, compiled } = JSON.parse(output.trim().split("\n").at(-1));
  assert.deepEqual(compiled, [], "nothing was compiled");
  for (const outcome of outcomes) {
    assert.equal(outcome.typed, true, JSON.stringify(outcome));
    assert.equal(outcome.code, "BACKEND");
    assert.match(outcome.message, /WebAssembly SIMD.*Safari 16\.4\+/);
  }
});

test("fuzz: hostile calls through the packed package get typed errors, and the model keeps working", async () => {
  const dir = await consumerProject(["fuzz.mjs", "fuzz-cases.mjs", "digits.mjs"]);
  copyFileSync(join(ROOT, "tests/fixtures/tiny-cnn.onnx"), join(dir, "tiny-cnn.onnx"));
  // A fixed seed and number of cases (FUZZ_SEED, FUZZ_CASES to explore others).
  const { code, output } = await run("node", ["fuzz.mjs"], { cwd: dir, env: { ...process.env, FUZZ_SEED: process.env.FUZZ_SEED ?? "20261129", FUZZ_CASES: process.env.FUZZ_CASES ?? "2000" } });
  assert.equal(code, 0, output);
  const result = JSON.parse(output.trim().split("\n").at(-1));
  console.log(JSON.stringify(result.outcomes));
  assert.deepEqual(result.failures, [], JSON.stringify(result.failures, null, 1));
  assert.equal(Object.values(result.outcomes).reduce((a, b) => a + b, 0), result.cases);
  // Every kind of call was made, and both successes and rejections happened.
  for (const kind of ["classify", "featureMaps", "evaluate", "fit", "load", "weights", "onnx"]) {
    assert.ok(Object.keys(result.outcomes).some((k) => k.startsWith(`${kind} ok`)), `${kind} never succeeded`);
    assert.ok(Object.keys(result.outcomes).some((k) => k.startsWith(kind) && !k.endsWith(" ok")), `${kind} never failed`);
  }
});

test("a trap inside wasm rejects with INTERNAL, restarts the instance, and new models work", async () => {
  const dir = await consumerProject(["trap.mjs", "digits.mjs"]);
  const { code, output } = await run("node", ["trap.mjs"], { cwd: dir });
  assert.equal(code, 0, output);
  const r = JSON.parse(output.trim().split("\n").at(-1));
  assert.match(r.trapped, /^INTERNAL: .*stopped \(.*\); it was restarted, so load your models again/);
  assert.match(r.againA, /^INTERNAL: .*load it again/);
  assert.match(r.otherB, /^INTERNAL: .*load it again/);
  assert.equal(r.disposed, "ok");
  assert.ok(r.correct >= 7, `the new model read ${r.correct} of 8`);
  assert.equal(r.trained, "ok");
});

test("memory stays flat over 1,000 loads and 100,000 classifications; a large batch's memory is reused", async () => {
  const dir = await consumerProject(["memory.mjs", "digits.mjs"]);
  const { code, output } = await run("node", ["--expose-gc", "memory.mjs"], { cwd: dir });
  assert.equal(code, 0, output);
  const r = JSON.parse(output.trim().split("\n").at(-1));
  console.log(JSON.stringify(r));
  assert.equal(r.correct, r.calls);
  // Fixed bounds in MiB, far below what a leak would cost: 1 KiB per call would be 98 MiB.
  assert.ok(r.afterLoads.wasm - r.start.wasm <= 4, `wasm memory grew by ${r.afterLoads.wasm - r.start.wasm} MiB over the loads`);
  assert.ok(r.afterCalls.wasm - r.afterLoads.wasm <= 1, `wasm memory grew by ${r.afterCalls.wasm - r.afterLoads.wasm} MiB over the calls`);
  assert.ok(r.afterCalls.rss - r.start.rss <= 64, `the process grew by ${r.afterCalls.rss - r.start.rss} MiB`);
  assert.ok(r.afterBigs.wasm - r.afterTwo.wasm <= 1, "batches of the same size reuse the memory the first two grew");
});

test("the README's quick start, pasted into a fresh project, works as written", async () => {
  const dir = await consumerProject([]);
  const readme = readFileSync(join(dir, "node_modules/convlens/README.md"), "utf8");
  const block = readme.match(/<!-- quick-start -->\s*```js\n([\s\S]*?)```/);
  assert.ok(block, "the package README has a quick start");
  assert.ok(block[1].trim().split("\n").length <= 10, "ten lines");
  writeFileSync(join(dir, "quickstart.mjs"), block[1]);
  const { code, output } = await run("node", ["quickstart.mjs"], { cwd: dir });
  assert.equal(code, 0, output);
  assert.match(output, /^cpu 61706$/m);
  assert.match(output, /label: '1', index: 1, score: 0\.99/);
});
