// Feature maps: one row per layer with a sentence on what the layer does and a legend of its
// colour scale; a tile per channel (dense layers: one strip of units). The scale is one per
// layer by default (a weak channel looks weak), or one per channel, or one for the whole
// network. Pointing at a pixel (mouse, touch or the arrow keys) shows its value and outlines
// the part of the input it sees (its receptive field).
import { legend, mapColour, short } from "./heat.js";

/** One sentence per kind of layer (`model.info.layers[i].kind`). */
export const KINDS = {
  convolution: "Convolution: slides small learned filters over its input; each channel is one filter's response at every position.",
  relu: "ReLU: keeps positive values and sets negative ones to zero, so only features that are present pass on.",
  pooling: "Max pooling: keeps the largest value of each small window, halving the size and keeping what was found, not exactly where.",
  batchNorm: "Batch normalisation: shifts and rescales each channel with statistics learned in training.",
  residual: "Residual sum: the block's input added back to its output, then ReLU, so the block learns a correction.",
  block: "Inverted bottleneck block: widens the channels, filters each channel alone, narrows them again.",
  globalPooling: "Global pooling: averages each channel over the whole image into one number.",
  operation: "An operation of your network's file: computed value by value, or its values rearranged.",
  dense: "Dense layer: every unit is a weighted sum of every value of the layer before.",
};

/** The scales to use: `span(layer, channel)` for a value's colour, and each layer's legend range. */
function scales(maps, mode) {
  const channelMax = maps.map(({ shape: [c, h, w], data }) =>
    Array.from({ length: c }, (_, ch) => {
      let m = 0;
      for (let i = ch * h * w; i < (ch + 1) * h * w; i++) m = Math.max(m, Math.abs(data[i]));
      return m;
    }),
  );
  const layerMax = channelMax.map((ms) => Math.max(0, ...ms));
  const globalMax = Math.max(0, ...layerMax);
  return (l, ch) => (mode === "channel" ? channelMax[l][ch] : mode === "global" ? globalMax : layerMax[l]);
}

function canvasOf(values, h, w, span) {
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [w, h];
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  values.forEach((v, i) => image.data.set([...mapColour(v, span), 255], 4 * i));
  ctx.putImageData(image, 0, 0);
  return canvas;
}

function range(values) {
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return [lo, hi];
}

/**
 * Makes `tile` (a canvas of `h`×`w` values) answer pointing: the pixel under the pointer, or a
 * cursor moved with the arrow keys while it has focus, is reported to `inspect(y, x, value)`.
 */
function pointable(tile, values, h, w, inspect) {
  let cursor = [Math.floor(h / 2), Math.floor(w / 2)];
  const report = ([y, x]) => inspect(y, x, values[y * w + x]);
  const at = (e) => {
    const r = tile.getBoundingClientRect();
    const y = Math.min(h - 1, Math.max(0, Math.floor(((e.clientY - r.top) / r.height) * h)));
    const x = Math.min(w - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * w)));
    cursor = [y, x];
    report(cursor);
  };
  tile.addEventListener("pointermove", at);
  tile.addEventListener("pointerdown", at);
  tile.addEventListener("focus", () => report(cursor));
  tile.addEventListener("keydown", (e) => {
    const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
    if (!step) return;
    e.preventDefault();
    cursor = [Math.min(h - 1, Math.max(0, cursor[0] + step[0])), Math.min(w - 1, Math.max(0, cursor[1] + step[1]))];
    report(cursor);
  });
}

/**
 * Renders `maps` ([{ layer, shape: [c, h, w], data }]) into `root`. Options: `layers` (the
 * model's `info.layers`, for each layer's sentence and receptive field), `scale` ("layer",
 * "channel" or "global"), `onInspect({ layer, channel, y, x, value, field })` when a pixel is
 * pointed at, `maxChannels` (draw only the first channels of each layer). A click or Enter
 * enlarges a channel (`onZoom`).
 */
export function renderMaps(root, maps, onZoom, { maxChannels = Infinity, layers = [], scale = "layer", onInspect = () => {} } = {}) {
  const span = scales(maps, scale);
  const geometry = new Map(layers.map((l) => [l.layer, l]));
  root.replaceChildren(
    ...maps.map(({ layer, shape: [c, h, w], data }, l) => {
      const info = geometry.get(layer);
      const block = document.createElement("div");
      block.className = "layer";
      block.dataset.layer = layer;
      block.dataset.channels = String(c);
      const heading = document.createElement("h3");
      const shown = c > maxChannels ? ` (the first ${maxChannels} channels)` : "";
      heading.textContent = `${layer} — ${c}×${h}×${w}${shown}`;
      const about = document.createElement("p");
      about.className = "hint about";
      about.textContent = info ? KINDS[info.kind] ?? "" : "";
      const [lo, hi] = range(data);
      const layerSpan = scale === "channel" ? null : span(l, 0);
      const key = legend(
        (t) => mapColour(2 * t - 1, 1),
        layerSpan === null ? ["−max", "0", "+max"] : [short(-layerSpan), "0", short(layerSpan)],
        scale === "channel" ? "each tile on its own scale" : scale === "global" ? "one scale for every layer" : "one scale for this layer",
      );
      key.dataset.span = layerSpan === null ? "" : String(layerSpan);
      const cells = document.createElement("div");
      cells.className = "cells";
      const inspect = (channel) => (y, x, value) => onInspect({ layer, channel, y, x, value, field: info?.receptiveField, size: [h, w] });
      if (h === 1 && w === 1) {
        // A dense layer (or a globally pooled one): its units in one strip, on the layer's scale.
        const values = data.subarray(0, c);
        const strip = canvasOf(values, 1, c, span(l, 0));
        strip.className = "units";
        strip.style.width = `${Math.min(640, Math.max(120, 5 * c))}px`;
        strip.tabIndex = 0;
        strip.setAttribute("role", "img");
        strip.setAttribute("aria-label", `${layer}: ${c} units, from ${short(lo)} to ${short(hi)}; arrow keys move between units`);
        pointable(strip, values, 1, c, (_, x, value) => onInspect({ layer, channel: x, y: 0, x: 0, value, field: info?.receptiveField, size: [1, 1] }));
        cells.append(strip);
      } else {
        const size = Math.max(28, Math.min(64, 4 * h));
        for (let ch = 0; ch < Math.min(c, maxChannels); ch++) {
          const values = data.subarray(ch * h * w, (ch + 1) * h * w);
          const t = canvasOf(values, h, w, span(l, ch));
          t.style.width = t.style.height = `${size}px`;
          t.dataset.channel = String(ch);
          t.tabIndex = 0;
          t.setAttribute("role", "img");
          const [a, b] = range(values);
          t.setAttribute("aria-label", `${layer} channel ${ch}: ${h}×${w}, from ${short(a)} to ${short(b)}; arrow keys move, Enter enlarges`);
          t.title = `${layer} channel ${ch}`;
          const zoom = () => onZoom(`${layer}, channel ${ch} (${h}×${w}), from ${short(a)} to ${short(b)}`, values, h, w, span(l, ch));
          t.addEventListener("click", zoom);
          t.addEventListener("keydown", (e) => e.key === "Enter" && zoom());
          pointable(t, values, h, w, inspect(ch));
          cells.append(t);
        }
      }
      const head = document.createElement("div");
      head.className = "layer-head";
      head.append(heading, key);
      block.append(head, about, cells);
      return block;
    }),
  );
}

/** Renders the first convolution's kernels (`[out, in, kh, kw]`, input channels averaged), on one scale. */
export function renderFilters(root, { layer, shape: [out, inputs, kh, kw], data }, onZoom) {
  const kernels = [];
  for (let o = 0; o < out; o++) {
    const values = new Float32Array(kh * kw);
    for (let i = 0; i < inputs; i++)
      for (let k = 0; k < kh * kw; k++) values[k] += data[(o * inputs + i) * kh * kw + k] / inputs;
    kernels.push(values);
  }
  const spanAll = Math.max(0, ...kernels.map((v) => Math.max(...v.map(Math.abs))));
  const tiles = kernels.map((values, o) => {
    const t = canvasOf(values, kh, kw, spanAll);
    t.style.width = t.style.height = "40px";
    t.tabIndex = 0;
    t.setAttribute("role", "img");
    const [a, b] = range(values);
    t.setAttribute("aria-label", `${layer} kernel ${o}: ${kh}×${kw} weights from ${short(a)} to ${short(b)}; Enter enlarges`);
    const zoom = () => onZoom(`${layer} kernel ${o} (${kh}×${kw})`, values, kh, kw, spanAll);
    t.addEventListener("click", zoom);
    t.addEventListener("keydown", (e) => e.key === "Enter" && zoom());
    return t;
  });
  const block = document.createElement("div");
  block.className = "layer";
  block.id = "filter-grid";
  const head = document.createElement("div");
  head.className = "layer-head";
  const heading = document.createElement("h3");
  heading.textContent = `${layer} kernels — ${out}×${inputs}×${kh}×${kw} (what the first layer looks for)`;
  head.append(heading, legend((t) => mapColour(2 * t - 1, 1), [short(-spanAll), "0", short(spanAll)], "one scale for every kernel"));
  const cells = document.createElement("div");
  cells.className = "cells";
  cells.append(...tiles);
  block.append(head, cells);
  root.replaceChildren(block);
}

/** Draws one channel large on `canvas`, on the scale it was shown with. */
export function drawZoom(canvas, values, h, w, span) {
  const ctx = canvas.getContext("2d");
  const t = canvasOf(values, h, w, span ?? Math.max(...values.map(Math.abs)));
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(t, 0, 0, canvas.width, canvas.height);
}

/**
 * Draws the prepared input (`[c, h, w]`, 0–1) on `canvas` with the receptive field of output
 * pixel (y, x) of a layer outlined (`field`: { size, jump, start }; size 0: the whole image).
 */
export function drawField(canvas, image, [h, w], field, y, x) {
  const ctx = canvas.getContext("2d");
  const small = document.createElement("canvas");
  [small.width, small.height] = [w, h];
  const channels = image.length / (h * w);
  const data = small.getContext("2d").createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    const rgb = channels >= 3 ? [0, 1, 2].map((c) => image[c * h * w + i] * 255) : [image[i] * 255, image[i] * 255, image[i] * 255];
    data.data.set([...rgb, 255], 4 * i);
  }
  small.getContext("2d").putImageData(data, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  if (!field) return null;
  const [sx, sy] = [canvas.width / w, canvas.height / h];
  let box;
  if (field.size === 0) box = [0, 0, w, h];
  else {
    const [cy, cx] = [field.start + y * field.jump, field.start + x * field.jump];
    const half = field.size / 2;
    box = [Math.max(0, cx - half), Math.max(0, cy - half), Math.min(w, cx + half), Math.min(h, cy + half)];
  }
  ctx.strokeStyle = "#f59e0b";
  ctx.lineWidth = 2;
  ctx.strokeRect(box[0] * sx + 1, box[1] * sy + 1, (box[2] - box[0]) * sx - 2, (box[3] - box[1]) * sy - 2);
  return box;
}
