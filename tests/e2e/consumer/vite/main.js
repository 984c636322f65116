// A Vite app using the installed convlens package the way its README says. The test calls
// window.convlensTest with real digits and checks what comes back.
import * as convlens from "convlens";
import { fuzz } from "./fuzz-cases.mjs";
import { photoRun } from "./photos.mjs";
import { explainRun, trainingRun } from "./training.mjs";

const { Model, backends, ConvlensError, classifyLive } = convlens;

/** A 28×28 canvas showing one digit (greyscale bytes). */
function canvasOf(pixels) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 28;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(28, 28);
  pixels.forEach((v, i) => image.data.set([v, v, v, 255], 4 * i));
  ctx.putImageData(image, 0, 0);
  return canvas;
}

window.convlensTest = async ({ test, train }) => {
  const out = { backends: await backends() };
  const auto = await Model.load("lenet5-mnist");
  out.auto = auto.backend;
  auto.dispose();

  const model = await Model.load("lenet5-mnist", { backend: "webgpu" });
  out.backend = model.backend;
  out.tops = [];
  for (let i = 0; i < test.labels.length; i++) {
    const [top] = await model.classify(canvasOf(test.images.slice(i * 784, (i + 1) * 784)), { topK: 1 });
    out.tops.push(top.index);
  }
  const first = canvasOf(test.images.slice(0, 784));
  out.scores = (await model.classify(first)).map((p) => p.score);
  const top = async (input) => (await model.classify(input, { topK: 1 }))[0].index;
  const offscreen = new OffscreenCanvas(28, 28);
  offscreen.getContext("2d").drawImage(first, 0, 0);
  const img = new Image();
  img.src = first.toDataURL();
  await img.decode();
  out.inputs = {
    imageData: await top(first.getContext("2d").getImageData(0, 0, 28, 28)),
    imageBitmap: await top(await createImageBitmap(first)),
    offscreenCanvas: await top(offscreen),
    image: await top(img),
  };
  // Several canvases in one call on WebGPU (one forward pass): one result list per image.
  const pair = [first, canvasOf(test.images.slice(784, 2 * 784))];
  out.batch = { webgpu: (await model.classify(pair, { topK: 1 })).map((r) => r[0].index) };
  out.maps = (await model.featureMaps(first)).map((m) => ({ layer: m.layer, shape: m.shape, length: m.data.length }));

  // The wasm modules fetched so far (Vite names them <name>-<hash>.wasm).
  const wasmFetched = () =>
    performance.getEntriesByType("resource").map((e) => e.name.split("/").pop().replace(/(-[\w-]+)?\.wasm$/, "")).filter((n) => n.endsWith("_bg"));
  const fresh = await Model.load({ architecture: "lenet5" }, { backend: "webgpu" });
  out.wasmBeforeFit = wasmFetched();
  const data = { images: Uint8Array.from(train.images), labels: Uint8Array.from(train.labels), shape: [1, 28, 28] };
  let steps = 0;
  out.history = await fresh.fit(data, { epochs: 1, batchSize: 32, onStep: () => steps++ });
  out.steps = steps;
  out.wasmAfterFit = wasmFetched();
  try {
    await fresh.classify({ data: new Float32Array(3), shape: [1, 28, 28] });
  } catch (e) {
    out.error = { isConvlensError: e instanceof ConvlensError, code: e.code };
  }
  fresh.dispose();
  model.dispose();

  const phases = [];
  const worker = await Model.load("lenet5-mnist", { worker: true, backend: "cpu", onProgress: (p) => phases.push(p.phase) });
  out.worker = { backend: worker.backend.name, top: (await worker.classify(first, { topK: 1 }))[0].index };
  // Several canvases in one call through the worker: one result list per image.
  out.batch.worker = (await worker.classify(pair, { topK: 1 })).map((r) => r[0].index);
  // An abort right after fit() is called reaches the worker before training starts.
  const early = new AbortController();
  let earlySteps = 0;
  const earlyFit = worker.fit(data, { epochs: 1, onStep: () => earlySteps++, signal: early.signal });
  early.abort();
  try {
    await earlyFit;
    out.workerEarlyAbort = "trained";
  } catch (e) {
    out.workerEarlyAbort = { code: e.code, steps: earlySteps };
  }
  let workerSteps = 0;
  const workerEpochs = [];
  const workerFit = await worker.fit(data, { epochs: 1, batchSize: 64, onStep: () => workerSteps++, onEpoch: (e) => workerEpochs.push(e) });
  out.worker.epochs = workerFit.length;
  out.worker.callbacks = { phases: [...new Set(phases)], steps: workerSteps, epochs: workerEpochs.length };
  // An abort during training stops the worker within one step; a throwing onStep stops it too,
  // with the exception as the cause; the model still classifies.
  const during = new AbortController();
  let duringSteps = 0;
  const stopped = await worker
    .fit(data, { epochs: 3, batchSize: 16, signal: during.signal, onStep: () => { if (++duringSteps === 2) during.abort(); } })
    .then(() => "trained", (e) => e.code);
  let thrown = 0;
  const callback = await worker
    .fit(data, { epochs: 3, batchSize: 16, onStep: () => { thrown++; throw new RangeError("mine"); } })
    .then(() => "trained", (e) => ({ code: e.code, cause: e.cause?.message }));
  out.workerStops = { stopped, duringSteps, callback, thrown, top: (await worker.classify(first, { topK: 1 }))[0].index };
  // A call in flight when the model is disposed settles (with its result or DISPOSED).
  const inflight = worker.evaluate(data);
  worker.dispose();
  out.workerDisposeInFlight = await Promise.race([
    inflight.then(() => "resolved", (e) => e.code),
    new Promise((ok) => setTimeout(() => ok("never settled"), 30_000)),
  ]);
  document.getElementById("status").textContent = "done";
  return out;
};

// The fuzz cases of the Node test (fuzz-cases.mjs), here in Chromium: on the main thread and in
// worker mode, where the proxy must refuse what cannot be posted before it posts anything.
window.convlensFuzz = ({ test, onnx, seed, cases, worker }) =>
  fuzz({
    api: convlens,
    digits: { images: Uint8Array.from(test.images), labels: Uint8Array.from(test.labels) },
    onnx: Uint8Array.from(onnx),
    seed,
    cases,
    loadOptions: worker ? { backend: "cpu", worker: true } : { backend: "cpu" },
  });
// Saving and loading anywhere: IndexedDB (save, list, load, remove), a download, a File, and the
// shipped weights in Cache Storage (a second load reads them from there).
window.convlensStorage = async () => {
  const out = {};
  const model = await Model.load({ architecture: "lenet5", classes: ["a", "b", "c"] }, { backend: "cpu" });
  const blank = { data: new Float32Array(784), shape: [1, 28, 28] };
  const before = await model.classify(blank);
  out.saved = await model.save("indexeddb://my model");
  out.list = (await Model.list()).map((m) => [m.name, m.architecture, m.classes.length, m.size > 0]);
  const progress = [];
  const again = await Model.load("indexeddb://my model", { backend: "cpu", onProgress: (p) => progress.push(p.phase) });
  out.loaded = { classes: again.info.classes, same: JSON.stringify(await again.classify(blank)) === JSON.stringify(before), progress };
  const worker = await Model.load("indexeddb://my model", { backend: "cpu", worker: true });
  out.worker = { classes: worker.info.classes, same: JSON.stringify(await worker.classify(blank)) === JSON.stringify(before) };
  const file = new File([await worker.exportModel()], "mine.bpk");
  out.file = (await Model.load(file, { backend: "cpu" })).info.classes;
  worker.dispose();
  await Model.remove("indexeddb://my model");
  out.afterRemove = (await Model.list()).length;
  try {
    await Model.load("indexeddb://my model");
  } catch (e) {
    out.missing = e.code;
  }
  await model.save("download://my-model");
  model.dispose();
  const photo = await Model.load("efficientnet-lite0-imagenet", { backend: "cpu" });
  photo.dispose();
  const cache = await caches.open("convlens-weights");
  out.cached = (await cache.keys()).map((r) => r.url.split("/").pop());
  return out;
};

// Pausing and streaming (consumer/training.mjs) on the CPU module, in this thread and in a worker.
window.convlensTraining = async ({ train, val }) => {
  const set = (s) => ({ images: Uint8Array.from(s.images), labels: Uint8Array.from(s.labels), shape: [1, 28, 28] });
  const data = { train: set(train), val: set(val) };
  return {
    main: await trainingRun(convlens, { ...data, load: { backend: "cpu" } }),
    worker: await trainingRun(convlens, { ...data, load: { backend: "cpu", worker: true } }),
  };
};

// explain on WebGPU, on the CPU module and in a worker (consumer/training.mjs).
window.convlensExplain = async ({ test, held }) => {
  const digits = { images: Uint8Array.from(test.images), labels: Uint8Array.from(test.labels) };
  const heldOut = { images: Uint8Array.from(held.images), labels: Uint8Array.from(held.labels) };
  return {
    webgpu: await explainRun(convlens, { digits, heldOut, load: { backend: "webgpu" } }),
    cpu: await explainRun(convlens, { digits, heldOut, load: { backend: "cpu" } }),
    worker: await explainRun(convlens, { digits, heldOut, load: { backend: "cpu", worker: true } }),
  };
};

// Loads the photo model again (the test blocks the network for weights files first).
window.convlensOffline = async () => {
  const photo = await Model.load("efficientnet-lite0-imagenet", { backend: "cpu" });
  const classes = photo.info.classes.length;
  photo.dispose();
  return classes;
};

// The photo model on WebGPU against the numpy reference (public/reference.safetensors), worker
// mode too (the weights' byte progress crosses as callbacks).
window.convlensPhotos = async () => {
  const reference = await (await fetch("/reference.safetensors")).arrayBuffer();
  const webgpu = await photoRun(convlens, reference, { backend: "webgpu", transfer: false });
  const worker = await photoRun(
    { Model: { load: (source, options) => Model.load(source, { ...options, worker: true }) } },
    reference,
    { backend: "cpu", transfer: false },
  );
  return { webgpu, worker };
};
// Inputs a photo app meets: an image file as a File (the browser decodes it), Chromium's fake
// camera in a <video> classified live (the latest frame wins) for `seconds`, and a VideoFrame.
window.convlensInputs = async ({ seconds }) => {
  const out = {};
  const photo = await Model.load("efficientnet-lite0-imagenet", { backend: "cpu" });
  const blob = await (await fetch("/photos/coffee.png")).blob();
  const file = new File([blob], "coffee.png", { type: "image/png" });
  out.file = (await photo.classify(file, { topK: 5 })).map((p) => p.label);
  try {
    await photo.classify(new Blob(["not an image"]));
  } catch (e) {
    out.notAnImage = e.code;
  }
  photo.dispose();

  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  document.body.append(video);
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
  await video.play();
  await new Promise((ok) => (video.readyState >= 2 ? ok() : video.addEventListener("loadeddata", ok, { once: true })));
  const digits = await Model.load("lenet5-mnist", { backend: "cpu" });
  const stop = new AbortController();
  const results = [];
  setTimeout(() => stop.abort(), seconds * 1000);
  out.live = await classifyLive(digits, video, { topK: 3, signal: stop.signal, onResult: (top, stats) => results.push({ top: top.length, frames: stats.frames }) });
  out.liveResults = results.length;
  out.liveOrdered = results.every((r, i) => r.frames === i + 1 && r.top === 3);
  const frame = new VideoFrame(video);
  out.videoFrame = (await digits.classify(frame, { topK: 1 })).length;
  frame.close();
  out.videoElement = (await digits.classify(video, { topK: 2 })).length;
  video.srcObject.getTracks().forEach((t) => t.stop());
  digits.dispose();
  return out;
};
document.getElementById("status").textContent = "ready";
