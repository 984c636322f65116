// Serves dist/ (the build of the page) and benches/web/ on 127.0.0.1, opens the
// inference benchmark in headless Chromium with WebGPU on, and prints the timings.
// Usage: node scripts/bench.mjs <dist-dir> <chromium-path>
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const [dist, browserPath] = process.argv.slice(2);
const root = new URL("..", import.meta.url).pathname;
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
  const file = path.startsWith("/bench/") ? join(root, "benches/web", path.slice(7)) : join(dist, path);
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const url = `http://127.0.0.1:${server.address().port}/bench/inference.html`;

const browser = await chromium.launch({
  executablePath: browserPath,
  args: ["--headless=new", "--no-sandbox", "--enable-unsafe-webgpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
try {
  const page = await browser.newPage();
  page.on("console", (m) => m.type() === "error" && console.error("[page]", m.text()));
  await page.goto(url);
  await page.waitForFunction(() => window.benchResults, null, { timeout: 600_000 });
  const results = await page.evaluate(() => window.benchResults);
  console.log(JSON.stringify(results, null, 2));
  for (const r of [].concat(results)) {
    if (r.error) { console.log(`${r.backend?.name}: ${r.error}`); continue; }
    const a = r.backend.adapter;
    const name = r.backend.name + (a ? ` (${a.vendor} ${a.architecture}${a.isFallbackAdapter ? ", fallback adapter" : ""})` : "");
    for (const [op, t] of Object.entries(r.ops)) {
      console.log(`${name.padEnd(40)} ${op.padEnd(20)}: median ${t.medianMs.toFixed(2)} ms, min ${t.minMs.toFixed(2)} ms, first call ${t.firstMs.toFixed(1)} ms (${t.runs} runs)`);
    }
    console.log(`${name.padEnd(40)} training (batch 32)  : ${r.trainImagesPerSecond.toFixed(1)} images/s`);
  }
} finally {
  await browser.close();
  server.close();
}
