// Small line charts on a canvas: no library, no network.

const COLORS = ["#3b82f6", "#ef4444", "#16a34a", "#a855f7"];

/**
 * Draws `series` ([{ name, points: [[x, y], …], dots? }]) with shared axes; `log` for a log-scaled
 * y axis. Records the number of points in `canvas.dataset.points` (tests read it).
 */
export function drawChart(canvas, series, { log = false, yMin, yMax } = {}) {
  const ctx = canvas.getContext("2d");
  const { width: w, height: h } = canvas;
  const pad = { l: 44, r: 8, t: 8, b: 20 };
  ctx.clearRect(0, 0, w, h);
  const all = series.flatMap((s) => s.points);
  canvas.dataset.points = String(all.length);
  // The first series' first and last values, for tests ("did the loss fall?").
  const first = series[0]?.points;
  canvas.dataset.first = first?.length ? String(first[0][1]) : "";
  canvas.dataset.last = first?.length ? String(first.at(-1)[1]) : "";
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#666";
  if (all.length === 0) {
    ctx.fillText("no data yet", w / 2 - 28, h / 2);
    return;
  }
  const f = (y) => (log ? Math.log10(Math.max(y, 1e-12)) : y);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => f(p[1]));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1e-9)];
  let [y0, y1] = [yMin ?? Math.min(...ys), yMax ?? Math.max(...ys)];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const X = (x) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (w - pad.l - pad.r);
  const Y = (y) => h - pad.b - ((f(y) - y0) / (y1 - y0)) * (h - pad.t - pad.b);
  ctx.strokeStyle = "#ccc";
  ctx.strokeRect(pad.l, pad.t, w - pad.l - pad.r, h - pad.t - pad.b);
  const label = (v) => (log ? `1e${Math.round(v)}` : Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(2));
  ctx.fillText(label(y1), 2, pad.t + 9);
  ctx.fillText(label(y0), 2, h - pad.b);
  ctx.fillText(String(Math.round(x1 * 100) / 100), w - pad.r - 24, h - 5);
  series.forEach((s, i) => {
    ctx.strokeStyle = ctx.fillStyle = COLORS[i % COLORS.length];
    ctx.beginPath();
    s.points.forEach(([x, y], j) => (j ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.stroke();
    if (s.dots) for (const [x, y] of s.points) ctx.fillRect(X(x) - 2, Y(y) - 2, 4, 4);
    ctx.fillText(s.name, pad.l + 6 + i * 90, pad.t + 12);
  });
}
