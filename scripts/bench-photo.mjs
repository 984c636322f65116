// The photo model's speed in the browser: EfficientNet-Lite0 (the package's f16 ImageNet weights)
// in headless Chromium on each backend the package offers — WebGPU (--enable-unsafe-webgpu: on
// this machine SwiftShader, a CPU adapter), the CPU module on the main thread, and the threaded CPU
// module in worker mode on a cross-origin isolated page. Per backend: the weights' download, the
// time to the first result, and the median time of one image (classify of a 512×384 photo,
// prepared by the model) over `--runs` calls after a warm-up.
// Usage: node scripts/bench-photo.mjs [--runs 10] [--json FILE]
// Expects target/npm (scripts/package.sh) and target/page-data (scripts/page-data.sh).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { serve } from "./bench-common.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    json: { type: "string" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  },
});

const SESSIONS = [
  { name: "webgpu", flags: ["--enable-unsafe-webgpu"], isolate: false, options: { backend: "webgpu" } },
  { name: "cpu", flags: [], isolate: false, options: { backend: "cpu" } },
  { name: "cpu, threads (worker, isolated page)", flags: [], isolate: true, options: { backend: "cpu", worker: true } },
];

const servers = [serve(false), serve(true)];
const [plain, isolated] = await Promise.all(servers.map((s) => s.url));
const results = [];
try {
  for (const session of SESSIONS) {
    const browser = await chromium.launch({
      executablePath: opts.chromium,
      args: ["--headless=new", "--no-sandbox", "--disable-background-networking", ...session.flags],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${session.isolate ? isolated : plain}data/photos/coffee.png`);
      const out = await page.evaluate(
        async ({ options, runs }) => {
          const { Model } = await import("/convlens/index.js");
          const photo = await (await fetch("/data/photos/coffee.png")).blob();
          const t0 = performance.now();
          let bytes = 0;
          const model = await Model.load("efficientnet-lite0-imagenet", { ...options, onProgress: (p) => (bytes = p.loaded ?? bytes) });
          const top = await model.classify(photo, { topK: 1 });
          const first = performance.now() - t0;
          const times = [];
          for (let i = 0; i < runs; i++) {
            const s = performance.now();
            await model.classify(photo, { topK: 1 });
            times.push(performance.now() - s);
          }
          times.sort((a, b) => a - b);
          const backend = model.backend;
          model.dispose();
          return { backend: backend.name, threads: backend.threads, adapter: backend.adapter?.architecture ?? null, bytes, first, median: times[times.length >> 1], top: top[0].label };
        },
        { options: session.options, runs: Number(opts.runs) },
      );
      results.push({ session: session.name, ...out });
      console.log(
        `${session.name.padEnd(38)} ${out.backend}${out.adapter ? ` (${out.adapter})` : ""}, ${out.threads} thread(s): ` +
          `weights ${(out.bytes / 1e6).toFixed(2)} MB, first result ${out.first.toFixed(0)} ms, ` +
          `median ${out.median.toFixed(0)} ms per image (${out.top})`,
      );
    } finally {
      await browser.close();
    }
  }
} finally {
  for (const { server } of servers) server.kill();
}
if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 2));
