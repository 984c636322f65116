// What the benchmark drivers (scripts/bench.mjs, bench-onnx.mjs, bench-photo.mjs) share: the
// demo server on a free port, headless Chromium's flags, a page's first visit with its downloads,
// and the tables' ratios.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const ROOT = new URL("..", import.meta.url).pathname;

/** Flags every benchmark's headless Chromium gets (each session adds its own, e.g. WebGPU's). */
export const CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run", "--disable-quic"];

/**
 * scripts/serve.mjs on a free port with `args` (e.g. `--no-csp`, `--mount /url/=dir`), cross-origin
 * isolated when `isolate`: `{ server, url }`, the URL a promise of its base.
 */
export function serve(isolate, args = []) {
  const server = spawn(process.execPath, [join(ROOT, "scripts/serve.mjs"), "--port", "0", ...(isolate ? ["--isolate"] : []), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = new Promise((ok, fail) => {
    server.stdout.on("data", (d) => { const m = /http:\/\/[\d.:]+\//.exec(String(d)); if (m) ok(m[0]); });
    server.on("exit", (code) => fail(new Error(`scripts/serve.mjs exited ${code}`)));
  });
  return { server, url };
}

/**
 * Opens `url` in a fresh browser context (a first visit), waits for the page's
 * `window.benchResult` and gives it with `downloads`: every response the page and its workers
 * got from `from`, fetched again here (a streamed wasm body is not kept by the browser) and
 * gzipped at -9. `label` names the page in its console errors and the progress line.
 */
export async function firstVisit(browser, from, url, label) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const urls = new Set();
  context.on("response", (r) => { if (r.status() === 200 && r.url().startsWith(from)) urls.add(r.url()); });
  page.on("console", (m) => m.type() === "error" && console.error(`[${label}]`, m.text()));
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => window.benchResult, null, { timeout: 60 * 60_000 });
  const result = await page.evaluate(() => window.benchResult);
  await context.close();
  result.downloads = [];
  for (const u of urls) result.downloads.push({ url: u, gz: gzipSync(Buffer.from(await (await fetch(u)).arrayBuffer()), { level: 9 }).length });
  console.error(`${label}: ${result.error ?? "done"} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return result;
}

/** `v` with `d` decimals, or a dash. */
export const fmt = (v, d = 1) => (v === undefined ? "—" : v.toFixed(d));

/** "a / b = **a÷b×**" for a table cell (a dash when either is missing). */
export const ratio = (a, b) => (a === undefined || b === undefined ? "—" : `${fmt(a, a < 10 ? 2 : 0)} / ${fmt(b, b < 10 ? 2 : 0)} = **${a / b < 0.01 ? (a / b).toPrecision(1) : (a / b).toFixed(2)}×**`);

/** The largest difference between two results' `probabilities` (rows of class probabilities). */
export function maxDiff(a, b) {
  if (!a?.probabilities || !b?.probabilities) return undefined;
  let m = 0;
  a.probabilities.forEach((row, i) => row.forEach((p, j) => { m = Math.max(m, Math.abs(p - b.probabilities[i][j])); }));
  return m;
}
