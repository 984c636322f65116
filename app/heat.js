// Heat maps over an image, and the colour scales' legends: one scale for explanations (the
// package's `heatColour`, generated from src/explain.rs, whose `heat_colour` the CLI draws with)
// and one for feature maps.

import { heatColour as heatScale } from "../convlens/index.js";

/** Heat `t` in [0, 1] as RGB 0–255, on the scale of the package's `heatColour`. */
export function heatColour(t) {
  return heatScale(t).map((v) => 255 * v);
}

/** A feature-map value `v` on a scale reaching `span` (≥ 0): grey to white above 0, blue below. */
export function mapColour(v, span) {
  const t = span > 0 ? Math.min(Math.abs(v) / span, 1) : 0;
  return v >= 0 ? [255 * t, 255 * t, 255 * t] : [40 * t, 90 * t, 255 * t];
}

/**
 * Draws `image` (the prepared input: `[c, h, w]` values 0–1) in grey with `heat` (`h`×`w`,
 * 0–1) over it in colour, on `canvas`.
 */
export function drawHeat(canvas, image, [h, w], heat) {
  const channels = image.length / (h * w);
  const small = document.createElement("canvas");
  [small.width, small.height] = [w, h];
  const ctx = small.getContext("2d");
  const out = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    let grey = 0;
    for (let c = 0; c < channels; c++) grey += image[c * h * w + i] / channels;
    const colour = heatColour(heat[i]);
    const alpha = 0.75 * heat[i];
    out.data.set([...colour.map((v) => (1 - alpha) * grey * 0.8 * 255 + alpha * v), 255], 4 * i);
  }
  ctx.putImageData(out, 0, 0);
  const big = canvas.getContext("2d");
  big.imageSmoothingEnabled = false;
  big.clearRect(0, 0, canvas.width, canvas.height);
  big.drawImage(small, 0, 0, canvas.width, canvas.height);
}

/**
 * A legend: a bar of `colour(t)` for t from 0 to 1 with labels under its ends and middle.
 * `labels`: [left, middle, right] texts. The bar is decorative; the labels are the text.
 */
export function legend(colour, labels, title) {
  const box = document.createElement("div");
  box.className = "legend";
  const bar = document.createElement("canvas");
  [bar.width, bar.height] = [120, 1];
  bar.setAttribute("aria-hidden", "true");
  const ctx = bar.getContext("2d");
  const row = ctx.createImageData(120, 1);
  for (let x = 0; x < 120; x++) row.data.set([...colour(x / 119), 255], 4 * x);
  ctx.putImageData(row, 0, 0);
  const ticks = document.createElement("div");
  ticks.className = "ticks";
  for (const text of labels) {
    const span = document.createElement("span");
    span.textContent = text;
    ticks.append(span);
  }
  const caption = document.createElement("span");
  caption.className = "legend-title";
  caption.textContent = title;
  box.append(caption, bar, ticks);
  return box;
}

/** A number short enough for a legend or a tooltip. */
export function short(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 100 || a < 0.01 ? v.toExponential(1) : v.toFixed(a >= 10 ? 1 : 2);
}
