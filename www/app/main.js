// The first page: which backend runs, a drawing pad, LeNet-5's ten scores — on the same JS API
// npm users get.
import { Model } from "../convlens/index.js";

const $ = (id) => document.getElementById(id);
const SIZE = 28;

/** `?backend=cpu` or `?backend=webgpu` forces a backend; the default lets convlens choose. */
function requestedBackend() {
  const value = new URLSearchParams(location.search).get("backend");
  return value === "cpu" || value === "webgpu" ? value : "auto";
}

function showBackend(backend) {
  $("backend-status").textContent = backend.name === "webgpu" ? "WebGPU is running the network." : "The CPU backend is running the network.";
  $("backend-name").textContent = backend.name === "webgpu" ? "WebGPU" : "CPU (Burn flex, wasm)";
  const a = backend.adapter;
  $("backend-adapter").textContent = a ? [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(" · ") || "(unnamed)" : "—";
  $("backend-fallback").textContent = a ? (a.isFallbackAdapter ? "yes (software rendering)" : "no") : "—";
  $("backend-reason").textContent = backend.fallbackReason ?? "—";
  $("backend-details").hidden = false;
  document.body.dataset.backend = backend.name;
}

function showError(err) {
  const p = $("backend-status");
  p.textContent = `${err.code ? err.code + ": " : ""}${err.message ?? err}`;
  p.className = "error";
  document.body.dataset.backend = "error";
}

/** A 280×280 pad scaled down to the 28×28 greyscale image the network reads. */
function setupPad(onChange) {
  const pad = $("pad");
  const ctx = pad.getContext("2d");
  const preview = $("preview").getContext("2d", { willReadFrequently: true });
  const clear = () => {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, pad.width, pad.height);
    refresh();
  };
  const refresh = () => {
    preview.imageSmoothingEnabled = true;
    preview.imageSmoothingQuality = "high";
    preview.drawImage(pad, 0, 0, SIZE, SIZE);
    const rgba = preview.getImageData(0, 0, SIZE, SIZE).data;
    const pixels = new Float32Array(SIZE * SIZE);
    for (let i = 0; i < pixels.length; i++) pixels[i] = rgba[i * 4] / 255;
    onChange(pixels);
  };
  let last = null;
  const point = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener("pointerdown", (e) => {
    pad.setPointerCapture(e.pointerId);
    last = point(e);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = point(e);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 22;
    ctx.lineCap = "round";
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
    refresh();
  });
  const end = () => { last = null; };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  $("clear").addEventListener("click", clear);
  clear();
}

function showScores(probs, ms) {
  const best = probs.indexOf(Math.max(...probs));
  $("scores").replaceChildren(...Array.from(probs, (p, digit) => {
    const li = document.createElement("li");
    li.className = digit === best ? "top" : "";
    li.dataset.digit = String(digit);
    const label = document.createElement("span");
    label.textContent = String(digit);
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${(p * 100).toFixed(1)}%`;
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = p.toFixed(3);
    li.append(label, bar, value);
    return li;
  }));
  $("timing").textContent = `inference: ${ms.toFixed(1)} ms`;
}

async function main() {
  const model = await Model.load("lenet5-mnist", { backend: requestedBackend() });
  showBackend(model.backend);
  // One classification at a time; while one runs, only the newest drawing waits.
  let running = false;
  let pending = null;
  const classify = async (pixels) => {
    pending = pixels;
    if (running) return;
    running = true;
    while (pending) {
      const input = pending;
      pending = null;
      const t0 = performance.now();
      try {
        const predictions = await model.classify({ data: input, shape: [1, SIZE, SIZE] });
        const probs = new Array(predictions.length);
        for (const p of predictions) probs[p.index] = p.score;
        showScores(probs, performance.now() - t0);
      } catch (err) {
        showError(err);
      }
    }
    running = false;
  };
  setupPad(classify);
}

main().catch(showError);
