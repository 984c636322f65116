// The photo panel: EfficientNet-Lite0 with its ImageNet weights (fetched when asked for, with
// byte progress), photos from the gallery, a file or the webcam (live: the latest frame wins),
// the top 5, the input as the model prepares it, feature maps of chosen blocks (only those are
// read back), and "teach it your own classes": a new head trained on your examples.
import { Model, classifyLive } from "../convlens/index.js";
import { renderMaps } from "./maps.js";
import { drawHeat } from "./heat.js";
import { whereHeat } from "./why.js";
import { setupTeacher } from "./teach.js";

const $ = (id) => document.getElementById(id);
const SHIPPED = "efficientnet-lite0-imagenet";
/** The gallery: scikit-image's photos (scripts/fetch-photos.sh, served under /data/photos/). */
const PHOTOS = ["chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "astronaut.png"];
/** The blocks whose maps are shown at first (a 224-pixel network has 19 layers of maps). */
const FIRST_LAYERS = ["stem", "block1", "block6", "block16"];

const panel = {
  imagenet: null, // the ImageNet model
  taught: null, // the model with your classes
  input: null, // what is shown (a canvas, a bitmap, the <video>)
  layers: new Set(FIRST_LAYERS),
  running: false,
  pending: null,
  live: null, // AbortController of the webcam loop
};

const model = () => ($("photo-model").value === "taught" && panel.taught) || panel.imagenet;

function status(text, error = false) {
  $("photo-status").textContent = text;
  $("photo-status").className = error ? "error" : "hint";
}

function fail(err, where = "photo-status") {
  $(where).textContent = `${err.code ? err.code + ": " : ""}${err.message ?? err}`;
  $(where).className = "error";
  console.warn(err);
}

function describePreparation(info) {
  const p = info.preprocess;
  const crop = p.kind === "centreCrop" ? `a centred square of ${Math.round(p.fraction * 1000) / 10} % of the shorter side` : "the whole image";
  $("photo-prep").textContent = `what the network gets: ${crop}, resized to ${info.inputShape[1]}×${info.inputShape[2]}; ` +
    "the network then maps each value x to (255·x − 127) / 128, the normalisation its weights were trained with";
}

/** Draws `pixels` (`[3, h, w]` in [0, 1]) on the input canvas. */
function paintRgb(canvas, { data, shape: [, h, w] }) {
  [canvas.width, canvas.height] = [w, h];
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  const plane = w * h;
  for (let i = 0; i < plane; i++) image.data.set([data[i] * 255, data[plane + i] * 255, data[2 * plane + i] * 255, 255], 4 * i);
  ctx.putImageData(image, 0, 0);
}

/** A video frame on the input canvas, cut as the model's centre crop cuts it (a cheap draw). */
function showFrame(video, info) {
  const canvas = $("photo-input");
  const fraction = info.preprocess.kind === "centreCrop" ? info.preprocess.fraction : 1;
  const side = Math.min(video.videoWidth, video.videoHeight) * fraction;
  [canvas.width, canvas.height] = [info.inputShape[2], info.inputShape[1]];
  canvas.getContext("2d").drawImage(video, (video.videoWidth - side) / 2, (video.videoHeight - side) / 2, side, side, 0, 0, canvas.width, canvas.height);
}

function showTop(predictions, ms) {
  $("photo-top5").replaceChildren(
    ...predictions.map((p) => {
      const li = document.createElement("li");
      li.textContent = `${p.label} — ${(100 * p.score).toFixed(1)} %`;
      li.dataset.label = p.label;
      return li;
    }),
  );
  document.body.dataset.photoTop = predictions[0].label;
  if (ms !== undefined) $("photo-timing").textContent = `inference: ${ms.toFixed(0)} ms on ${model().backend.name === "webgpu" ? "WebGPU" : "the CPU"}`;
}

/** Classifies `input` (one at a time; while one runs only the newest waits), with its maps. */
async function look(input) {
  panel.input = input;
  panel.pending = input;
  if (panel.running || !model()) return;
  panel.running = true;
  document.body.dataset.photoBusy = "1";
  while (panel.pending) {
    const current = panel.pending;
    panel.pending = null;
    const m = model();
    panel.current = current;
    try {
      paintRgb($("photo-input"), await m.prepare(current));
      const t0 = performance.now();
      const top = await m.classify(current, { topK: 5 });
      showTop(top, performance.now() - t0);
      const layers = [...panel.layers];
      const maps = layers.length ? await m.featureMaps(current, { layers }) : [];
      renderMaps($("photo-maps"), maps, () => {}, { maxChannels: 24, layers: m.info.layers });
      document.body.dataset.photoMaps = maps.map((map) => map.layer).join(",");
    } catch (err) {
      fail(err);
    }
  }
  panel.running = false;
  delete document.body.dataset.photoBusy;
}

async function loadImageNet() {
  $("photo-load").disabled = true;
  status("fetching the weights…");
  try {
    panel.imagenet = await Model.load(SHIPPED, {
      worker: true,
      backend: $("backend-select").value,
      onProgress: (p) => {
        if (p.phase === "weights" && p.loaded !== undefined) {
          status(`weights: ${(p.loaded / 1e6).toFixed(1)}${p.total ? ` of ${(p.total / 1e6).toFixed(1)}` : ""} MB`);
        }
      },
    });
    const { info } = panel.imagenet;
    status(`EfficientNet-Lite0 ready: ${info.parameters.toLocaleString("en")} parameters, ${info.classes.length} classes, on ${panel.imagenet.backend.name}`);
    describePreparation(info);
    $("photo-load").hidden = true;
    $("photo-model").hidden = false;
    $("photo-work").hidden = false;
    document.body.dataset.photoModel = "ready";
    setupLayers();
    await pickPhoto(PHOTOS[0]);
  } catch (err) {
    $("photo-load").disabled = false;
    fail(err);
  }
}

/** EfficientNet-Lite0's layers with maps, in forward order (src/model/efficientnet.rs). */
const LAYERS = ["stem", ...Array.from({ length: 16 }, (_, i) => `block${i + 1}`), "head"];

/** A checkbox per layer; the checked ones are read back. */
function setupLayers() {
  $("photo-layers").replaceChildren(
    $("photo-layers").querySelector("legend"),
    ...LAYERS.map((name) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = name;
      box.checked = panel.layers.has(name);
      box.addEventListener("change", () => {
        if (box.checked) panel.layers.add(name);
        else panel.layers.delete(name);
        if (panel.input) look(panel.input);
      });
      label.append(box, ` ${name}`);
      return label;
    }),
  );
}

async function pickPhoto(name) {
  const blob = await (await fetch(`data/photos/${name}`)).blob();
  stopLive();
  await look(new File([blob], name, { type: blob.type }));
}

function setupGallery() {
  $("photo-gallery").replaceChildren(
    ...PHOTOS.map((name) => {
      const img = document.createElement("img");
      img.src = `data/photos/${name}`;
      img.alt = name.replace(/[._].*/, "");
      img.title = name;
      img.tabIndex = 0;
      img.dataset.photo = name;
      const pick = () => pickPhoto(name).catch((err) => fail(err));
      img.addEventListener("click", pick);
      img.addEventListener("keydown", (e) => e.key === "Enter" && pick());
      return img;
    }),
  );
}

async function camera() {
  const video = $("photo-camera");
  if (!video.srcObject) {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    video.hidden = false;
    await video.play();
  }
  return video;
}

function stopLive() {
  panel.live?.abort();
  panel.live = null;
  $("photo-webcam").textContent = "Webcam, live";
}

function releaseCamera() {
  stopLive();
  const video = $("photo-camera");
  for (const track of video.srcObject?.getTracks() ?? []) track.stop();
  video.srcObject = null;
  video.hidden = true;
}

/** The webcam classified live: the latest frame wins; the frame rate is shown. */
async function toggleLive() {
  if (panel.live) return stopLive();
  try {
    const video = await camera();
    panel.live = new AbortController();
    $("photo-webcam").textContent = "Stop";
    const m = model();
    const stats = await classifyLive(m, video, {
      topK: 5,
      signal: panel.live.signal,
      onResult: (top, s) => {
        showFrame(video, m.info);
        showTop(top, s.latencyMs);
        $("photo-fps").textContent = `${s.fps.toFixed(1)} frames/s classified, ${s.skipped} skipped (the latest frame wins)`;
        document.body.dataset.photoFrames = String(s.frames);
      },
    });
    $("photo-fps").textContent = `${stats.frames} frames at ${stats.fps.toFixed(1)} frames/s`;
  } catch (err) {
    stopLive();
    fail(err);
  }
}

// ---- teach it your own classes (app/teach.js) ------------------------------------------------

async function taught(next, labels) {
  panel.taught?.dispose();
  panel.taught = next;
  showTaught(labels);
  document.body.dataset.taught = labels.join(",");
  if (panel.input) look(panel.input);
}

function showTaught(labels) {
  let option = [...$("photo-model").options].find((o) => o.value === "taught");
  if (!option) $("photo-model").append((option = new Option("", "taught")));
  option.textContent = `your classes: ${labels.join(", ")}`;
  $("photo-model").value = "taught";
  $("teach-download").disabled = false;
}

async function download() {
  try {
    // A model file: its labels, preparation and training record inside.
    await panel.taught.save("download://my-classes");
  } catch (err) {
    fail(err, "teach-status");
  }
}

/** A model file saved by "Download your model": its labels are inside. */
async function loadFile(file) {
  try {
    const weights = new Uint8Array(await file.arrayBuffer());
    const next = await Model.load({ architecture: "efficientnet-lite0", weights }, { worker: true, backend: $("backend-select").value });
    panel.taught?.dispose();
    panel.taught = next;
    showTaught(next.info.classes);
    $("teach-status").textContent = `loaded ${file.name}: ${next.info.classes.join(", ")}`;
    document.body.dataset.taught = next.info.classes.join(",");
    if (panel.input) look(panel.input);
  } catch (err) {
    fail(err, "teach-status");
  }
}

/** Grad-CAM of the top class of the photo on show, over the photo as the network got it. */
async function why() {
  const m = model();
  const current = panel.current;
  if (!m || !current) return;
  $("photo-why").disabled = true;
  $("photo-why-caption").textContent = "computing the gradients…";
  $("photo-why-figure").hidden = false;
  try {
    const t0 = performance.now();
    const [e, prepared] = await Promise.all([m.explain(current, { method: "gradcam" }), m.prepare(current)]);
    drawHeat($("photo-why-canvas"), prepared.data, e.shape, e.heat);
    const where = whereHeat(e.heat, e.shape);
    $("photo-why-caption").textContent = `Grad-CAM at ${e.layer} (${e.rawShape.join("×")}, enlarged) for “${e.label}” (${(100 * e.score).toFixed(1)} %): ${where}. ${Math.round(performance.now() - t0)} ms.`;
    $("photo-why-canvas").setAttribute("aria-label", `heat map of Grad-CAM for “${e.label}”: ${where}`);
    document.body.dataset.photoWhy = e.label;
  } catch (err) {
    fail(err);
  } finally {
    $("photo-why").disabled = false;
  }
}

export function setupPhotos() {
  $("photo-why").addEventListener("click", why);
  $("photo-load").addEventListener("click", loadImageNet);
  $("photo-model").addEventListener("change", () => panel.input && look(panel.input));
  $("photo-upload").addEventListener("change", (e) => e.target.files[0] && (stopLive(), look(e.target.files[0])));
  const drop = $("photo-input");
  drop.addEventListener("dragover", (e) => e.preventDefault());
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    if (file) (stopLive(), look(file));
  });
  if (navigator.mediaDevices?.getUserMedia) $("photo-webcam").addEventListener("click", toggleLive);
  else $("photo-webcam").hidden = true;
  document.addEventListener("visibilitychange", () => document.hidden && releaseCamera());
  addEventListener("pagehide", releaseCamera);
  setupGallery();
  setupTeacher({
    classes: $("teach-classes"),
    train: $("teach-train"),
    status: $("teach-status"),
    sources: {
      webcam: { label: "+ webcam", take: async () => createImageBitmap(await camera()) },
      pad: { label: "+ pad", take: () => createImageBitmap($("pad")) },
      photo: {
        label: "+ this photo",
        take: async () => {
          if (!panel.input) throw new Error("no photo yet: pick one from the gallery");
          return panel.input instanceof HTMLVideoElement ? createImageBitmap(panel.input) : panel.input;
        },
      },
    },
    load: (labels) => Model.load(SHIPPED, { classes: labels, worker: true, backend: $("backend-select").value }),
    what: () => "the ImageNet network",
    onTrained: taught,
    onError: (err) => fail(err, "teach-status"),
  });
  $("teach-download").addEventListener("click", download);
  $("teach-file").addEventListener("change", (e) => e.target.files[0] && loadFile(e.target.files[0]));
}
