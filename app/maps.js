// Feature maps: one grid per layer, a tile per channel; the first convolution's kernels.

/** A tile for one channel (`h`×`w` values), scaled to its own range; negative values blue. */
function tile(values, h, w, size) {
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [w, h];
  canvas.style.width = canvas.style.height = `${size}px`;
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const span = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  values.forEach((v, i) => {
    const t = Math.abs(v) / span;
    image.data.set(v >= 0 ? [255 * t, 255 * t, 255 * t, 255] : [40 * t, 90 * t, 255 * t, 255], 4 * i);
  });
  ctx.putImageData(image, 0, 0);
  return canvas;
}

function grid(title, tiles) {
  const block = document.createElement("div");
  block.className = "layer";
  const heading = document.createElement("h3");
  heading.textContent = title;
  const cells = document.createElement("div");
  cells.className = "cells";
  cells.append(...tiles);
  block.append(heading, cells);
  return block;
}

/**
 * Renders `maps` ([{ layer, shape: [c, h, w], data }]) into `root`; a click enlarges a channel.
 * `maxChannels` draws only the first channels of each layer.
 */
export function renderMaps(root, maps, onZoom, { maxChannels = Infinity } = {}) {
  root.replaceChildren(
    ...maps.map(({ layer, shape: [c, h, w], data }) => {
      const size = h === 1 ? 10 : Math.max(28, Math.min(64, 4 * h));
      const tiles = [];
      for (let ch = 0; ch < Math.min(c, maxChannels); ch++) {
        const values = data.subarray(ch * h * w, (ch + 1) * h * w);
        const t = tile(values, h, w, size);
        t.title = `${layer} channel ${ch}`;
        t.dataset.channel = String(ch);
        t.addEventListener("click", () => onZoom(`${layer}, channel ${ch} (${h}×${w})`, values, h, w));
        tiles.push(t);
      }
      const shown = c > maxChannels ? ` (the first ${maxChannels} channels)` : "";
      const block = grid(`${layer} — ${c}×${h}×${w}${shown}`, tiles);
      block.dataset.layer = layer;
      block.dataset.channels = String(c);
      return block;
    }),
  );
}

/** Renders the first convolution's kernels (`[out, in, kh, kw]`, input channels averaged). */
export function renderFilters(root, { layer, shape: [out, inputs, kh, kw], data }, onZoom) {
  const tiles = [];
  for (let o = 0; o < out; o++) {
    const values = new Float32Array(kh * kw);
    for (let i = 0; i < inputs; i++)
      for (let k = 0; k < kh * kw; k++) values[k] += data[(o * inputs + i) * kh * kw + k] / inputs;
    const t = tile(values, kh, kw, 40);
    t.title = `${layer} kernel ${o}`;
    t.addEventListener("click", () => onZoom(`${layer} kernel ${o} (${kh}×${kw})`, values, kh, kw));
    tiles.push(t);
  }
  const block = grid(`${layer} kernels — ${out}×${inputs}×${kh}×${kw} (what the first layer looks for)`, tiles);
  block.id = "filter-grid";
  root.replaceChildren(block);
}

/** Draws one channel large on `canvas`. */
export function drawZoom(canvas, values, h, w) {
  const ctx = canvas.getContext("2d");
  const t = tile(values, h, w, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(t, 0, 0, canvas.width, canvas.height);
}
