// The demo page: pick a model and a backend, draw / upload / pick an image, see the classes and
// every layer's feature maps, train a network in a Web Worker and keep it — all on the same JS
// API npm users get.
import { Model, architectures, datasets, pretrained } from "../convlens/index.js";
import { fetchDataset, paint, SIZE } from "./images.js";
import { drawField, drawZoom, renderFilters, renderMaps } from "./maps.js";
import { setupExplain, setupMistakes } from "./why.js";
import { setupPad } from "./pad.js";
import { forgetTrained, lastTrained, keepTrained } from "./store.js";
import { setupTraining } from "./training.js";
import { setupPhotos } from "./photos.js";
import { setupTeacher } from "./teach.js";

const $ = (id) => document.getElementById(id);
// Architectures' and datasets' names people read, from the registry (architectures(), datasets()).
const NAMES = { graph: "Your network" };
const DATA = {};

const state = { model: null, choice: null, choices: new Map(), input: null, parameters: {}, maps: null, prepared: null };
let explain = { follow() {}, classes() {} };
let mistakes = { evaluate() {}, reset() {} };

function requestedBackend() {
  const value = new URLSearchParams(location.search).get("backend");
  return value === "cpu" || value === "webgpu" ? value : "auto";
}

function showBackend(backend) {
  $("backend-status").className = "";
  $("backend-status").textContent = backend.name === "webgpu" ? "WebGPU is running the network." : "The CPU backend is running the network.";
  $("backend-name").textContent = backend.name === "webgpu" ? "WebGPU" : "CPU (Burn flex, wasm)";
  const a = backend.adapter;
  $("backend-adapter").textContent = a ? [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(" · ") || "(unnamed)" : "—";
  $("backend-fallback").textContent = a ? (a.isFallbackAdapter ? "yes (software rendering)" : "no") : "—";
  $("backend-reason").textContent = backend.fallbackReason ?? "—";
  $("backend-details").hidden = false;
  document.body.dataset.backend = backend.name;
}

function showError(err, where = "backend-status") {
  const p = $(where);
  p.textContent = `${err.code ? err.code + ": " : ""}${err.message ?? err}`;
  p.className = "error";
  if (where === "backend-status") document.body.dataset.backend = "error";
  console.warn(err);
}

function zoom(caption, values, h, w, span) {
  drawZoom($("zoom-canvas"), values, h, w, span);
  $("zoom-caption").textContent = caption;
  $("zoom").showModal();
}

function showScores(predictions, ms) {
  const byIndex = [...predictions].sort((a, b) => a.index - b.index);
  const best = predictions[0].index;
  $("scores").replaceChildren(
    ...byIndex.map((p) => {
      const li = document.createElement("li");
      li.className = p.index === best ? "top" : "";
      li.dataset.index = String(p.index);
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = p.label;
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = `${(p.score * 100).toFixed(1)}%`;
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = p.score.toFixed(3);
      li.append(label, bar, value);
      return li;
    }),
  );
  document.body.dataset.top = predictions[0].label;
  $("timing").textContent = `inference: ${ms.toFixed(1)} ms · top: ${predictions[0].label}`;
}

// One classification at a time; while one runs, only the newest input waits. An input is the
// pad itself (a canvas: the model prepares the drawing its own way, e.g. MNIST's centring) or a
// held-out image's exact pixels.
let running = false;
let pending = null;
async function look(input) {
  state.input = input;
  pending = input;
  if (running || !state.model) return;
  running = true;
  document.body.dataset.busy = "1";
  while (pending) {
    const input = pending;
    pending = null;
    const model = state.model;
    try {
      const t0 = performance.now();
      const seen = await model.prepare(input);
      // What the network receives, from the model's own preparation.
      paint($("preview"), seen.data.subarray(0, SIZE * SIZE));
      state.prepared = seen;
      drawField($("field"), seen.data, seen.shape.slice(1), null);
      const predictions = await model.classify(input);
      showScores(predictions, performance.now() - t0);
      state.maps = await model.featureMaps(input);
      showMaps();
      document.body.dataset.maps = "ready";
      explain.follow();
    } catch (err) {
      // The model was swapped (and the old one disposed) while it worked: read the same input
      // again with the new one, unless a newer input is already waiting.
      if (err?.code === "DISPOSED" && state.model && state.model !== model) pending ??= input;
      else if (err?.code === "INTERNAL" && state.model === model) {
        // The WebAssembly instance crashed and was restarted without the model: load it again
        // and read the same input with it.
        showError(err, "model-status");
        state.model = null;
        model.dispose();
        pending = null;
        reloadAfterCrash();
        break;
      } else showError(err, "model-status");
    }
  }
  running = false;
  delete document.body.dataset.busy;
}

/** The last feature maps, on the colour scale chosen. */
function showMaps() {
  if (!state.maps || !state.model) return;
  renderMaps($("maps"), state.maps, zoom, { layers: state.model.info.layers, scale: $("map-scale").value, onInspect: inspect });
}

/** A pointed-at feature-map pixel: its value, and its receptive field outlined on the input. */
function inspect({ layer, channel, y, x, value, field, size }) {
  if (!state.prepared) return;
  const [h, w] = state.prepared.shape.slice(1);
  const box = drawField($("field"), state.prepared.data, [h, w], field, y, x);
  const where = size[0] === 1 && size[1] === 1 ? `unit ${channel}` : `channel ${channel}, row ${y + 1}, column ${x + 1}`;
  const sees = !box
    ? ""
    : box[2] - box[0] >= w && box[3] - box[1] >= h
      ? "; it sees the whole input"
      : `; it sees rows ${Math.floor(box[1]) + 1}–${Math.ceil(box[3])}, columns ${Math.floor(box[0]) + 1}–${Math.ceil(box[2])} of the input (outlined)`;
  $("inspect").textContent = `${layer} ${where}: ${value.toPrecision(3)}${sees}`;
  $("field").setAttribute("aria-label", `the network's input with the part ${layer} ${where} sees outlined`);
  document.body.dataset.inspected = `${layer}:${channel}:${y}:${x}`;
}

/** After a crash inside WebAssembly: the current choice loaded again (which reads the last input). */
async function reloadAfterCrash() {
  const status = $("model-status").textContent;
  await loadChoice(state.choice);
  if (state.model) $("model-status").textContent = `${status} — the model was loaded again`;
}

/** How a preparation reads, for people. */
export function preparation(preprocess) {
  if (preprocess.kind === "centreDigit") return "a digit centred as MNIST's were (light ink on dark, scaled into 20×20, centred by its mass)";
  if (preprocess.kind === "centreCrop") return `a centred square of ${Math.round(preprocess.fraction * 1000) / 10} % of the shorter side, resized`;
  return "resized";
}

function describe(model, note) {
  const { architecture, inputShape, classes, parameters, preprocess, training } = model.info;
  // What its own training says (a model file keeps every fit's epochs).
  const epochs = training.flatMap((t) => t.epochs);
  const trained = epochs.length
    ? `; validation accuracy ${(100 * epochs.at(-1).validation.accuracy).toFixed(1)} % after ${epochs.length} epoch${epochs.length === 1 ? "" : "s"}`
    : "";
  $("model-info").textContent = `${NAMES[architecture] ?? architecture}: ${parameters.toLocaleString("en")} parameters, ` +
    `input ${inputShape.join("×")}, ${classes.length} classes (${classes.slice(0, 4).join(", ")}…)${note ? ` — ${note}` : ""}${trained}`;
  $("preview-note").textContent = `what the network gets (${inputShape.slice(1).join("×")}): ${preparation(preprocess)}`;
  showNodes(model.info);
}

/** An imported network's nodes: name, operator, output shape and parameters. */
function showNodes({ architecture, layers }) {
  const details = $("network-nodes");
  details.hidden = architecture !== "graph";
  const body = $("node-table").tBodies[0];
  body.replaceChildren();
  if (details.hidden) return;
  layers.forEach((layer, i) => {
    const row = body.insertRow();
    const cells = [String(i + 1), layer.layer, layer.node?.operator ?? layer.kind, (layer.node?.output ?? []).join("×"), (layer.node?.parameters ?? 0).toLocaleString("en")];
    for (const text of cells) row.insertCell().textContent = text;
  });
}

async function use(model, note) {
  const old = state.model;
  state.model = model;
  if (old && old !== model) old.dispose();
  showBackend(model.backend);
  describe(model, note);
  explain.classes(model.info.classes);
  mistakes.reset();
  renderFilters($("filters"), await model.filters(), zoom);
  if (state.input) await look(state.input);
}

async function loadChoice(id) {
  const choice = state.choices.get(id);
  state.choice = id;
  $("model-status").className = "hint";
  $("model-status").textContent = `loading ${choice.label}…`;
  document.body.dataset.model = "loading";
  try {
    const model = await Model.load(choice.source, {
      backend: $("backend-select").value,
      worker: true,
      onProgress: (p) => {
        if (p.phase === "weights" && p.total) $("model-status").textContent = `weights: ${Math.round((100 * p.loaded) / p.total)} %`;
      },
    });
    await use(model, choice.note);
    showGallery(choice.dataset);
    $("model-status").textContent = `${choice.label} ready`;
    document.body.dataset.model = id;
  } catch (err) {
    showError(err, "model-status");
    if (id === "saved") {
      // A saved model that cannot load (damaged, or from another version) is offered for
      // removal, and the page goes on with the shipped digit model meanwhile.
      $("remove-saved").hidden = false;
      if (!state.model) {
        $("model-select").value = "lenet5-mnist";
        await loadChoice("lenet5-mnist");
        showError(err, "model-status");
      }
      return;
    }
    if (!state.model) showError(err);
  }
}

async function forgetSaved() {
  try {
    await forgetTrained();
    state.choices.delete("saved");
    [...$("model-select").options].find((o) => o.value === "saved")?.remove();
    $("remove-saved").hidden = true;
    $("model-status").className = "hint";
    $("model-status").textContent = "the saved model was removed";
    if (state.choice === "saved") {
      $("model-select").value = "lenet5-mnist";
      await loadChoice("lenet5-mnist");
    }
  } catch (err) {
    showError(err, "model-status");
  }
}

/** A model of the picker; `dataset` (when known) is what its gallery shows. */
function addChoice(id, label, source, note, dataset) {
  state.choices.set(id, { label, source, note, dataset });
  let option = [...$("model-select").options].find((o) => o.value === id);
  if (!option) $("model-select").append((option = new Option(label, id)));
  option.textContent = label;
}

/** The gallery shows the chosen model's dataset (every dataset for an untrained network). */
function showGallery(dataset) {
  for (const tile of $("gallery").children) tile.hidden = Boolean(dataset) && tile.dataset.dataset !== dataset;
  $("gallery").dataset.showing = dataset ?? "all";
}

async function setupGallery(pad, sets) {
  const tiles = [];
  for (const { name } of sets) {
    const set = await fetchDataset(name, "test");
    for (let i = 0; i < 10; i++) {
      const pixels = Float32Array.from(set.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = SIZE;
      paint(canvas, pixels);
      canvas.title = `${name} held-out #${i} (label ${set.labels[i]})`;
      canvas.setAttribute("role", "button");
      canvas.setAttribute("aria-label", `sample: ${name} held-out image ${i}, labelled ${set.labels[i]}; Enter classifies it`);
      canvas.dataset.dataset = name;
      canvas.dataset.label = String(set.labels[i]);
      canvas.tabIndex = 0;
      const pick = () => {
        pad.show(canvas, SIZE, SIZE);
        look({ data: pixels, shape: [1, SIZE, SIZE] }); // exactly the held-out image
      };
      canvas.addEventListener("click", pick);
      canvas.addEventListener("keydown", (e) => e.key === "Enter" && pick());
      tiles.push(canvas);
    }
  }
  $("gallery").replaceChildren(...tiles);
  showGallery(state.choices.get(state.choice)?.dataset);
}

function setupFiles(pad) {
  const showImage = async (file) => {
    try {
      if (!file.type.startsWith("image/")) throw new Error(`${file.name} is not an image`);
      const bitmap = await createImageBitmap(file);
      try {
        pad.show(bitmap, bitmap.width, bitmap.height);
      } finally {
        bitmap.close(); // drawn onto the pad: its memory is not needed any more
      }
      look(pad.read());
    } catch (err) {
      showError(err, "model-status");
    }
  };
  $("upload").addEventListener("change", (e) => e.target.files[0] && showImage(e.target.files[0]));
  $("pad").addEventListener("dragover", (e) => e.preventDefault());
  $("pad").addEventListener("drop", (e) => {
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    if (file) showImage(file);
  });
  if (navigator.mediaDevices?.getUserMedia) {
    $("webcam").hidden = false;
    let stream = null;
    $("webcam").addEventListener("click", async () => {
      const video = $("camera");
      try {
        if (!stream) {
          stream = await navigator.mediaDevices.getUserMedia({ video: true });
          video.srcObject = stream;
          video.hidden = false;
          await video.play();
          $("webcam").textContent = "Snapshot";
          return;
        }
        pad.show(video, video.videoWidth, video.videoHeight);
        look(pad.read());
      } catch (err) {
        showError(new Error(`no camera: ${err.message}`), "model-status");
      }
    });
    // The camera is released when the page is hidden or left, and reopened by the next click.
    const release = () => {
      if (!stream) return;
      for (const track of stream.getTracks()) track.stop();
      stream = null;
      $("camera").srcObject = null;
      $("camera").hidden = true;
      $("webcam").textContent = "Webcam";
    };
    document.addEventListener("visibilitychange", () => document.hidden && release());
    addEventListener("pagehide", release);
  }
  // A model file (the package's: architecture, labels, preparation and training inside).
  $("download-weights").addEventListener("click", async () => {
    try {
      await state.model.save(`download://${state.model.info.architecture}`);
    } catch (err) {
      showError(err, "model-status");
    }
  });
  /** A model file, bare weights of the current architecture, or an ONNX network (told apart by Model.load). */
  const openFile = async (bytes, name) => {
    const { architecture, classes } = state.model.info;
    // A model file or an ONNX network loads by itself; bare weights (an older download) with
    // the current model's architecture and labels.
    let source = bytes;
    let opened = architecture;
    try {
      const probe = await Model.load(bytes, { backend: "cpu" });
      opened = probe.info.architecture;
      probe.dispose();
    } catch (err) {
      if (!(err?.code === "BAD_WEIGHTS" && /bare weights/.test(err.message))) throw err;
      source = { architecture, classes, weights: bytes };
    }
    const network = opened === "graph";
    addChoice("file", `${network ? "Your network" : NAMES[opened]} · ${name}`, source, network ? `read from ${name}` : `weights from ${name}`);
    $("model-select").value = "file";
    await loadChoice("file");
  };
  $("weights-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file || !state.model) return;
    try {
      await openFile(new Uint8Array(await file.arrayBuffer()), file.name);
    } catch (err) {
      showError(err, "model-status");
    }
  });
  $("network-url-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const url = $("network-url").value.trim();
    if (!url || !state.model) return;
    try {
      $("model-status").className = "hint";
      $("model-status").textContent = `fetching ${url}…`;
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      await openFile(new Uint8Array(await response.arrayBuffer()), url.split("/").at(-1) || url);
    } catch (err) {
      showError(err, "model-status");
    }
  });
}

async function main() {
  $("backend-select").value = requestedBackend();
  const [all, archs, sets] = await Promise.all([pretrained(), architectures(), datasets()]);
  // The pad's models read 28×28 greyscale; the photo model has its own panel.
  const shipped = all.filter((p) => p.dataset !== "imagenet");
  const preprocessOf = Object.fromEntries(shipped.map((p) => [p.dataset, p.preprocess]));
  for (const a of archs) {
    state.parameters[a.name] = a.parameters;
    NAMES[a.name] = a.title;
  }
  for (const d of sets) DATA[d.name] = d.title;
  for (const p of shipped) {
    const data = DATA[p.dataset];
    const accuracy = p.testAccuracy == null ? "" : `; ${(100 * p.testAccuracy).toFixed(2)} % right on its official held-out test set`;
    addChoice(p.name, `${NAMES[p.architecture]} · ${data} (${state.parameters[p.architecture].toLocaleString("en")} parameters)`, p.name, `trained on ${data}${accuracy}`, p.dataset);
  }
  for (const a of archs) {
    addChoice(`fresh-${a.name}`, `${NAMES[a.name]} · untrained (${a.parameters.toLocaleString("en")} parameters)`, { architecture: a.name }, "random weights");
  }
  const saved = await lastTrained().catch(() => undefined);
  if (saved) {
    const when = new Date(saved.savedAt).toLocaleString();
    // A model file: its labels and preparation come with it.
    addChoice("saved", `Your trained ${NAMES[saved.architecture]} (${saved.dataset}, saved ${when})`,
      saved.source, "your model, restored from this browser", saved.dataset);
  }
  const tool = () => document.querySelector("input[name=tool]:checked").value;
  const pad = setupPad($("pad"), { tool, onChange: (drawing) => (drawing ? look(drawing) : clearOutputs()) });
  pad.clear();
  setupFiles(pad);
  setupGallery(pad, sets).catch((err) => showError(err, "model-status"));
  setupPhotos();
  explain = setupExplain({ model: () => state.model, input: () => state.input, onError: (err) => showError(err, "model-status") });
  mistakes = setupMistakes({
    model: () => state.model,
    // The chosen model's data; an untrained network's ten classes are read as digits.
    dataset: () => state.choices.get(state.choice)?.dataset ?? "mnist",
    onPick: (image) => {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = SIZE;
      paint(canvas, image.data);
      pad.show(canvas, SIZE, SIZE);
      look(image);
      $("pad").scrollIntoView({ block: "nearest" });
    },
    onError: (err) => showError(err, "evaluate-status"),
  });
  setupTeacher({
    classes: $("own-teach-classes"),
    train: $("own-teach-train"),
    status: $("own-teach-status"),
    // The pad shows the drawing, an uploaded image or the webcam's snapshot.
    sources: { pad: { label: "+ what the pad shows", take: () => createImageBitmap($("pad")) } },
    load: (labels) => {
      const { source, teachFrom } = state.choices.get(state.choice);
      const base = teachFrom ?? source;
      const options = { backend: $("backend-select").value, worker: true };
      // A shipped model keeps its trained layers; a file must be an ONNX network (a model file
      // says so: transfer learning starts from a shipped model or an ONNX network).
      if (typeof base === "string") return Model.load(base, { ...options, classes: labels });
      if (base instanceof Uint8Array) return Model.load(base, { ...options, classes: labels, transfer: true });
      return Model.load({ ...base, classes: labels }, options);
    },
    what: () => state.choices.get(state.choice).label,
    onTrained: async (model, labels) => {
      const base = state.choices.get(state.choice);
      // Kept as a model file, so that a change of backend loads it again; taught again, from
      // the same network as this time.
      addChoice("taught", `${base.label.split(" · ")[0]} · your classes: ${labels.join(", ")}`, await model.exportModel(),
        "your classes, trained in this page", base.dataset);
      state.choices.get("taught").teachFrom = base.teachFrom ?? base.source;
      $("model-select").value = "taught";
      state.choice = "taught";
      await use(model, "your classes, trained in this page");
      document.body.dataset.model = "taught";
    },
    onError: (err) => showError(err, "own-teach-status"),
  });
  $("map-scale").addEventListener("change", showMaps);
  $("clear").addEventListener("click", () => pad.clear());
  $("model-select").addEventListener("change", (e) => loadChoice(e.target.value));
  $("remove-saved").addEventListener("click", forgetSaved);
  $("backend-select").addEventListener("change", () => loadChoice(state.choice));
  setupTraining({
    architectures: archs,
    datasets: sets,
    preprocess: (dataset) => preprocessOf[dataset],
    backend: () => $("backend-select").value,
    onError: (err) => showError(err, "train-stats"),
    onTrained: async (model, summary) => {
      const label = `Your trained ${NAMES[summary.architecture]} (${summary.dataset}, ${summary.epochs} epochs)`;
      try {
        const source = await keepTrained(model, summary.dataset);
        addChoice("saved", label, source, "your model, saved in this browser", summary.dataset);
        $("model-select").value = "saved";
        state.choice = "saved";
        await use(model, "your model, saved in this browser");
        $("model-status").textContent = `${label} is classifying now; it is kept in this browser`;
        document.body.dataset.model = "saved";
        // What it gets wrong, on the held-out images of its data.
        await mistakes.evaluate();
      } catch (err) {
        showError(err, "model-status");
      }
    },
  });
  const first = saved ? "saved" : "lenet5-mnist";
  $("model-select").value = first;
  await loadChoice(first);
}

function clearOutputs() {
  state.input = null;
  paint($("preview"), new Float32Array(SIZE * SIZE));
  $("scores").replaceChildren();
  $("maps").replaceChildren();
  state.maps = null;
  state.prepared = null;
  $("timing").textContent = "";
  delete document.body.dataset.top;
}

main().catch((err) => showError(err));
