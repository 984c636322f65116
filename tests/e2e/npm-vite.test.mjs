// The packed npm package in a fresh Vite app, built and opened in Debian's Chromium with
// WebGPU: load the shipped LeNet-5, classify real digits drawn on canvases, feature maps, one
// epoch of fit on WebGPU, and the same model in a Web Worker; then the fuzz cases of the Node test
// (consumer/fuzz-cases.mjs) on the main thread and in worker mode.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { consumerProject, imagenetCache, photoReference, run } from "./consumer.mjs";
import { EXPECTED, PHOTOS, checkPhotos } from "./consumer/photos.mjs";
import { checkExplain, checkTraining, heatDifference } from "./consumer/training.mjs";
import { digits } from "./consumer/digits.mjs";
import { ARTIFACTS, ROOT, launch } from "./helpers.mjs";

const VITE = "vite@8.3.8";

let server;
let browser;
let url;

before(async () => {
  const dir = await consumerProject(
    {
      "vite/index.html": "index.html",
      "vite/main.js": "main.js",
      "vite/vite.config.js": "vite.config.js",
      "fuzz-cases.mjs": "fuzz-cases.mjs",
      "photos.mjs": "photos.mjs",
      "training.mjs": "training.mjs",
    },
    [VITE],
  );
  mkdirSync(join(dir, "public/photos"), { recursive: true });
  await photoReference(join(dir, "public/reference.safetensors"));
  for (const photo of PHOTOS) copyFileSync(join(imagenetCache(), "photos", photo), join(dir, "public/photos", photo));
  const build = await run("npx", ["vite", "build"], { cwd: dir });
  assert.equal(build.code, 0, build.output);
  const port = 41000 + Math.floor(Math.random() * 2000);
  server = spawn("npx", ["vite", "preview", "--host", "127.0.0.1", "--port", String(port), "--strictPort"], {
    cwd: dir,
    stdio: "ignore",
    detached: true,
  });
  url = `http://127.0.0.1:${port}/`;
  // Chromium's fake camera (a moving test pattern) answers getUserMedia without a prompt.
  browser = await launch({ webgpu: true, args: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] });
});

after(async () => {
  await browser?.close();
  try { process.kill(-server.pid, "SIGTERM"); } catch { /* gone */ }
});

/** A new page of the built app, ready; `logs` collects its console and errors, `errors` the uncaught ones. */
async function openApp() {
  const page = await browser.newPage();
  const logs = [];
  const errors = [];
  page.on("console", (m) => logs.push(m.text()));
  page.on("pageerror", (e) => {
    logs.push(String(e));
    errors.push(String(e));
  });
  for (let i = 0; ; i++) {
    try {
      await page.goto(url);
      break;
    } catch (e) {
      if (i > 60) throw e;
      await new Promise((ok) => setTimeout(ok, 500));
    }
  }
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "ready");
  page.setDefaultTimeout(15 * 60_000);
  return { page, logs, errors };
}

const plain = (set) => ({ images: Array.from(set.images), labels: Array.from(set.labels) });

test("Vite consumer of the packed tarball, in Chromium on WebGPU", async () => {
  const { page, logs } = await openApp();
  const test_ = digits("test", 20);
  const train = digits("train", 256);
  const out = await page.evaluate((data) => window.convlensTest(data), { test: plain(test_), train: plain(train) });
  await page.screenshot({ path: join(ARTIFACTS, "npm-vite.png") });
  console.log(JSON.stringify({ ...out, maps: out.maps.length }, null, 1), logs.join("\n"));

  assert.equal(out.backends[0].name, "webgpu");
  assert.equal(out.backends[0].adapter.isFallbackAdapter, true);
  assert.equal(out.auto.name, "cpu", "auto passes SwiftShader by");
  assert.match(out.auto.fallbackReason, /software fallback/);
  assert.equal(out.backend.name, "webgpu");
  const right = out.tops.filter((t, i) => t === test_.labels[i]).length;
  assert.ok(right >= 19, `${right}/20 digits drawn on canvases right`);
  assert.ok(Math.abs(out.scores.reduce((a, b) => a + b, 0) - 1) < 1e-4);
  const label = test_.labels[0];
  assert.deepEqual(out.inputs, { imageData: label, imageBitmap: label, offscreenCanvas: label, image: label });
  assert.equal(out.maps.length, 11);
  assert.deepEqual(out.maps[0], { layer: "conv1", shape: [6, 28, 28], length: 6 * 28 * 28 });
  // Inference modules first (the CPU one for "auto" on SwiftShader, the WebGPU one asked for);
  // the WebGPU training module only once fit() starts (the worker's fetches are not listed here).
  assert.deepEqual([...out.wasmBeforeFit].sort(), ["convlens_cpu_bg", "convlens_webgpu_bg"]);
  assert.deepEqual([...out.wasmAfterFit].sort(), ["convlens_cpu_bg", "convlens_webgpu_bg", "convlens_webgpu_train_bg"]);
  assert.equal(out.history.length, 1);
  assert.equal(out.steps, Math.ceil(230 / 32), "256 digits, 10 % validate");
  assert.ok(Number.isFinite(out.history[0].trainLoss) && out.history[0].validation.images === 26);
  assert.deepEqual(out.error, { isConvlensError: true, code: "BAD_INPUT" });
  assert.equal(out.worker.backend, "cpu");
  assert.equal(out.worker.top, test_.labels[0]);
  assert.deepEqual(out.batch.worker, [test_.labels[0], test_.labels[1]]);
  assert.deepEqual(out.batch.webgpu, [test_.labels[0], test_.labels[1]]);
  assert.equal(out.worker.epochs, 1);
  assert.deepEqual(out.workerEarlyAbort, { code: "ABORTED", steps: 0 }, "an abort right after fit() trains nothing");
  // Progress from the worker arrives as callbacks.
  assert.deepEqual(out.worker.callbacks, { phases: ["runtime", "weights", "backend"], steps: Math.ceil(230 / 64), epochs: 1 });
  // Aborts and callback errors stop the worker's training within one step (a step event
  // already posted may still arrive), and the model keeps working.
  assert.equal(out.workerStops.stopped, "ABORTED");
  assert.ok(out.workerStops.duringSteps <= 4, `${out.workerStops.duringSteps} steps after an abort at the 2nd`);
  assert.deepEqual(out.workerStops.callback, { code: "ABORTED", cause: "mine" });
  assert.ok(out.workerStops.thrown <= 3, `onStep ran ${out.workerStops.thrown} times after it threw`);
  assert.equal(out.workerStops.top, test_.labels[0]);
  assert.ok(["resolved", "DISPOSED"].includes(out.workerDisposeInFlight), out.workerDisposeInFlight);
  await page.close();
});

test("pause/resume exactly and streamed datasets in Chromium, on the main thread and in worker mode (CPU module)", async () => {
  const { page } = await openApp();
  const data = { train: plain(digits("train", 320)), val: plain(digits("test", 64)) };
  const out = await page.evaluate((d) => window.convlensTraining(d), data);
  checkTraining(out.main, assert, "Chromium main thread");
  checkTraining(out.worker, assert, "Chromium worker mode");
});

test("explain and evaluate's mistakes in Chromium: WebGPU, the CPU module and worker mode give the same heat maps", async () => {
  const { page } = await openApp();
  const out = await page.evaluate((d) => window.convlensExplain(d), { test: plain(digits("test", 3)), held: plain(digits("test", 300)) });
  assert.equal(out.webgpu.backend, "webgpu");
  for (const where of ["webgpu", "cpu", "worker"]) checkExplain(out[where], assert, `Chromium ${where}`);
  const gpu = heatDifference(out.webgpu, out.cpu);
  console.log(`largest heat difference, WebGPU vs CPU: ${gpu}`);
  assert.ok(gpu < 1e-3, `WebGPU and CPU heat maps agree within 1e-3 (of a 0–1 scale): ${gpu}`);
  assert.equal(heatDifference(out.worker, out.cpu), 0, "the worker runs the same CPU module");
});

test("the photo model in Chromium: EfficientNet-Lite0 on WebGPU and in a worker against numpy, its top 5", async () => {
  const { page, logs } = await openApp();
  const out = await page.evaluate(() => window.convlensPhotos());
  console.log(JSON.stringify({ webgpu: [out.webgpu.backend, out.webgpu.worst, out.webgpu.top5], worker: [out.worker.backend, out.worker.worst] }), logs.join("\n"));
  assert.equal(out.webgpu.backend, "webgpu");
  checkPhotos(out.webgpu, assert, { transfer: false });
  checkPhotos(out.worker, assert, { transfer: false });
  await page.close();
});

test("inputs in Chromium: an image File, a live <video> from the fake camera (latest frame wins), a VideoFrame", async () => {
  const { page, logs } = await openApp();
  const out = await page.evaluate(() => window.convlensInputs({ seconds: 3 }));
  console.log(JSON.stringify(out), logs.join("\n"));
  assert.ok(EXPECTED[1].some((n) => out.file.includes(n)), out.file.join(" / "));
  assert.equal(out.notAnImage, "BAD_INPUT");
  assert.ok(out.live.frames >= 3, `${out.live.frames} frames in 3 s`);
  assert.ok(out.live.fps > 0 && out.live.latencyMs > 0);
  assert.equal(out.liveResults, out.live.frames);
  assert.equal(out.liveOrdered, true, "one result per classified frame, in order, each of topK classes");
  assert.equal(out.videoFrame, 1);
  assert.equal(out.videoElement, 2);
  await page.close();
});

test("saving and loading anywhere: IndexedDB, a download, a File; the shipped weights from Cache Storage, offline", async () => {
  const { page, logs } = await openApp();
  const [download, out] = await Promise.all([page.waitForEvent("download"), page.evaluate(() => window.convlensStorage())]);
  console.log(JSON.stringify(out), logs.join("\n"));
  assert.equal(out.saved.name, "my model");
  assert.deepEqual(out.list, [["my model", "lenet5", 3, true]]);
  assert.deepEqual(out.loaded, { classes: ["a", "b", "c"], same: true, progress: ["runtime", "weights", "backend"] });
  assert.deepEqual(out.worker, { classes: ["a", "b", "c"], same: true });
  assert.deepEqual(out.file, ["a", "b", "c"]);
  assert.equal(out.afterRemove, 0);
  assert.equal(out.missing, "NOT_FOUND");
  assert.equal(download.suggestedFilename(), "my-model.bpk");
  // Vite names the file efficientnet-lite0-imagenet-<hash>.bpk.
  assert.ok(out.cached.some((name) => name.startsWith("efficientnet-lite0-imagenet")), out.cached.join());
  // A second visit with the weights files unreachable: they come from Cache Storage.
  let blocked = 0;
  await page.route(/\.bpk(\?|$)/, (route) => {
    blocked++;
    return route.abort();
  });
  assert.equal(await page.evaluate(() => window.convlensOffline()), 1000);
  assert.equal(blocked, 0, "no weights request reached the network");
  await page.close();
});

for (const worker of [false, true]) {
  test(`fuzz in Chromium${worker ? ", worker mode" : ", main thread"}: hostile calls get typed errors, and the model keeps working`, async () => {
    const { page, logs, errors } = await openApp();
    // The Node fuzz test's cases and seed (fuzz-cases.mjs), fewer of them in worker mode (a
    // worker is started for each load).
    const cases = worker ? 1000 : 2000;
    const result = await page.evaluate((args) => window.convlensFuzz(args), { test: plain(digits("test", 64)), onnx: [...readFileSync(join(ROOT, "tests/fixtures/tiny-cnn.onnx"))], seed: 20261129, cases, worker });
    console.log(JSON.stringify(result.outcomes), logs.join("\n"));
    assert.deepEqual(result.failures, [], JSON.stringify(result.failures, null, 1));
    assert.deepEqual(errors, [], "nothing uncaught (a throwing callback is the call's error, not the page's)");
    assert.equal(Object.values(result.outcomes).reduce((a, b) => a + b, 0), cases);
    for (const kind of ["classify", "featureMaps", "evaluate", "fit", "load", "weights", "onnx"]) {
      assert.ok(Object.keys(result.outcomes).some((k) => k.startsWith(`${kind} ok`)), `${kind} never succeeded`);
      assert.ok(Object.keys(result.outcomes).some((k) => k.startsWith(kind) && !k.endsWith(" ok")), `${kind} never failed`);
    }
    await page.close();
  });
}
