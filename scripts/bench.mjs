// The side-by-side benchmark: convlens and TensorFlow.js (4.22, a devDependency used only here)
// on the same nets, weights, images and browser. One headless Chromium session per backend
// (WebGPU with --enable-unsafe-webgpu; the CPU path), a fresh browser context per page, so each
// page's time to first result and downloaded bytes are those of a first visit.
// Usage: node scripts/bench.mjs [--nets lenet5,vin] [--libs convlens,tfjs] [--sessions webgpu,cpu,threads]
//                               [--steps 3] [--json FILE]
// Expects target/npm (scripts/package.sh) and target/page-data (scripts/page-data.sh).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decode } from "cborg";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, firstVisit, fmt, maxDiff, ratio, serve } from "./bench-common.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const { values: opts } = parseArgs({
  options: {
    nets: { type: "string", default: "lenet5,vin" },
    libs: { type: "string", default: "convlens,tfjs" },
    sessions: { type: "string", default: "webgpu,cpu,threads" },
    steps: { type: "string", default: "3" },
    json: { type: "string" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  },
});
const NETS = opts.nets.split(",");
const SHIPPED = { lenet5: "lenet5-mnist", vin: "vin-fashion" };

// Where each shipped burnpack's tensors lie, for the TF.js page (convlens parses the file itself).
const indexDir = mkdtempSync(join(tmpdir(), "convlens-bench-"));
for (const file of Object.values(SHIPPED)) {
  const bytes = readFileSync(join(ROOT, "target/npm/weights", `${file}.bpk`));
  const metadataSize = bytes.readUInt32LE(6);
  const { tensors } = decode(bytes.subarray(10, 10 + metadataSize), { useMaps: false });
  const index = { dataStart: Math.ceil((10 + metadataSize) / 256) * 256, tensors: {} };
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== "F32") throw new Error(`${file}: ${name} is ${t.dtype}, expected F32`);
    index.tensors[name] = { shape: t.shape, begin: Number(t.data_offsets[0]), end: Number(t.data_offsets[1]) };
  }
  writeFileSync(join(indexDir, `${file}.json`), JSON.stringify(index));
}

// Two servers: a plain one (no cross-origin isolation: neither library gets threads, as on most
// sites) and a cross-origin isolated one (COOP/COEP) for the "threads" session, where TF.js wasm
// runs its threaded build and convlens, in worker mode, its threaded CPU module.
const MOUNTS = ["--no-csp", "--mount", `/bench/=${join(ROOT, "benches/web")}`,
  "--mount", `/tfjs/=${join(ROOT, "node_modules/@tensorflow")}`, "--mount", `/bench-weights/=${indexDir}`];
const servers = [serve(false, MOUNTS), serve(true, MOUNTS)];
const [base, isolatedBase] = await Promise.all(servers.map((s) => s.url));

// The libraries' code (the benchmark's own side-by-side.js and the page's IDX reader it borrows
// are not counted; tfjs-nets.js, TF.js's model definition, is — convlens's is inside its wasm).
const isCode = (url) => /\.(m?js|wasm)$/.test(url) && !url.endsWith("/side-by-side.js") && !url.includes("/app/");
// convlens's training modules (bindings and wasm), which its page fetches on the first fit():
// counted apart from the first download. TF.js's gradients are inside tf.min.js.
const isTraining = (url) => /convlens_\w+_train(_bg\.wasm|\.js)$/.test(url);

/**
 * Opens one page in a fresh context; its result plus the gzip -9 bytes it downloaded. In the
 * "threads" session the page is cross-origin isolated and convlens runs in worker mode; its
 * results are filed under the backend `cpu-threads` / `wasm-threads`.
 */
async function run(browser, session, lib, backend, net) {
  const threads = session.name === "threads";
  const from = threads ? isolatedBase : base;
  // Requests of the page and of its workers (convlens's worker and its thread pool).
  const result = await firstVisit(browser, from,
    `${from}bench/side-by-side.html?lib=${lib}&backend=${backend}&net=${net}&steps=${opts.steps}${threads ? "&threads=1" : ""}`,
    `${lib}/${backend}/${net}`);
  const { downloads } = result;
  result.codeGzipBytes = downloads.filter((d) => isCode(d.url) && !isTraining(d.url)).reduce((s, d) => s + d.gz, 0);
  result.trainingGzipBytes = downloads.filter((d) => isCode(d.url) && isTraining(d.url)).reduce((s, d) => s + d.gz, 0);
  result.allGzipBytes = downloads.reduce((s, d) => s + d.gz, 0);
  return { ...result, backendInfo: result.backend, lib, backend: threads ? `${backend}-threads` : backend, net };
}

const sessions = [
  { name: "webgpu", args: ["--enable-unsafe-webgpu"], pages: [["convlens", "webgpu"], ["tfjs", "webgpu"]] },
  { name: "cpu", args: [], pages: [["convlens", "cpu"], ["tfjs", "wasm"], ["tfjs", "cpu"]] },
  { name: "threads", args: [], pages: [["convlens", "cpu"], ["tfjs", "wasm"]] },
];
const results = [];
let browserVersion = "?";
try {
  for (const session of sessions.filter((s) => opts.sessions.split(",").includes(s.name))) {
    const browser = await chromium.launch({ executablePath: opts.chromium, args: [...CHROMIUM_ARGS, ...session.args] });
    browserVersion = browser.version();
    try {
      for (const net of NETS) {
        for (const [lib, backend] of session.pages) {
          if (opts.libs.split(",").includes(lib)) results.push(await run(browser, session, lib, backend, net));
        }
      }
    } finally {
      await browser.close();
    }
  }
} finally {
  for (const { server } of servers) server.kill();
}
if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 1));

// The table: convlens ÷ TF.js per phase.
const find = (lib, backend, net) => results.find((r) => r.lib === lib && r.backend === backend && r.net === net);
const ms = (r, key) => (r && !r.error && r[key] ? r[key].medianMs : undefined);
const lines = [];
const adapter = find("convlens", "webgpu", NETS[0])?.backendInfo?.adapter;
lines.push(`Chromium ${browserVersion}, WebGPU adapter: ${adapter ? `${adapter.vendor} ${adapter.architecture}${adapter.isFallbackAdapter ? " (fallback)" : ""}` : "none"}; times in ms (median).`);
lines.push("");
lines.push("| net, phase | convlens WebGPU ÷ TF.js webgpu | convlens CPU ÷ TF.js wasm | convlens CPU ÷ TF.js cpu |");
lines.push("|---|---|---|---|");
for (const net of NETS) {
  const [gw, tw, cc, tm, tc] = [find("convlens", "webgpu", net), find("tfjs", "webgpu", net), find("convlens", "cpu", net), find("tfjs", "wasm", net), find("tfjs", "cpu", net)];
  for (const [phase, key] of [["inference, 1 image", "infer1"], ["inference, 64 images", "infer64"], ["Adam step, batch 64", "step64"]]) {
    lines.push(`| ${net}, ${phase} | ${ratio(ms(gw, key), ms(tw, key))} | ${key === "step64" ? "TF.js wasm cannot train" : ratio(ms(cc, key), ms(tm, key))} | ${ratio(ms(cc, key), ms(tc, key))} |`);
  }
  const first = (r) => (r && !r.error ? r.firstResultMs : undefined);
  lines.push(`| ${net}, time to first result | ${ratio(first(gw), first(tw))} | ${ratio(first(cc), first(tm))} | ${ratio(first(cc), first(tc))} |`);
  const call = (r) => (r && !r.error ? r.firstCallMs : undefined);
  lines.push(`| ${net}, the first inference after loading | ${ratio(call(gw), call(tw))} | ${ratio(call(cc), call(tm))} | ${ratio(call(cc), call(tc))} |`);
  const kib = (r) => (r && !r.error ? r.codeGzipBytes / 1024 : undefined);
  lines.push(`| ${net}, first download (JS + wasm), KiB gzip -9 | ${ratio(kib(gw), kib(tw))} | ${ratio(kib(cc), kib(tm))} | ${ratio(kib(cc), kib(tc))} |`);
  const more = (r) => (r && !r.error ? `${fmt(r.trainingGzipBytes / 1024, 0)}` : "—");
  lines.push(`| ${net}, + fetched on the first fit(), KiB gzip -9 | ${more(gw)} / 0 | — | ${more(cc)} / 0 |`);
  const agree = [maxDiff(gw, tw), maxDiff(cc, tm), maxDiff(cc, tc)].map((d) => (d === undefined ? "—" : d.toExponential(1)));
  lines.push(`| ${net}, max \\|Δ probability\\| over 64 images | ${agree[0]} | ${agree[1]} | ${agree[2]} |`);
}
if (results.some((r) => r.backend.endsWith("-threads"))) {
  lines.push("");
  lines.push("Cross-origin isolated page (wasm threads; convlens in worker mode):");
  lines.push("");
  lines.push("| net, phase | convlens CPU threads ÷ TF.js wasm threads | convlens CPU threads ÷ convlens CPU one thread |");
  lines.push("|---|---|---|");
  for (const net of NETS) {
    const [ct, tt, cc] = [find("convlens", "cpu-threads", net), find("tfjs", "wasm-threads", net), find("convlens", "cpu", net)];
    for (const [phase, key] of [["inference, 1 image", "infer1"], ["inference, 64 images", "infer64"], ["Adam step, batch 64", "step64"]]) {
      lines.push(`| ${net}, ${phase} | ${key === "step64" ? "TF.js wasm cannot train" : ratio(ms(ct, key), ms(tt, key))} | ${ratio(ms(ct, key), ms(cc, key))} |`);
    }
    const first = (r) => (r && !r.error ? r.firstResultMs : undefined);
    lines.push(`| ${net}, time to first result | ${ratio(first(ct), first(tt))} | ${ratio(first(ct), first(cc))} |`);
    const kib = (r) => (r && !r.error ? r.codeGzipBytes / 1024 : undefined);
    lines.push(`| ${net}, first download (JS + wasm), KiB gzip -9 | ${ratio(kib(ct), kib(tt))} | ${ratio(kib(ct), kib(cc))} |`);
    const threadsOf = (r) => r?.backendInfo?.threads ?? "?";
    lines.push(`| ${net}, threads | ${threadsOf(ct)} / ${threadsOf(tt)} | |`);
  }
}
lines.push("");
lines.push("WebGPU work per call (compute dispatches / queue submits / buffer maps = reads back):");
lines.push("");
lines.push("| net, phase | convlens | TF.js |");
lines.push("|---|---|---|");
const work = (r, key) => { const w = r?.gpuWork?.[key]; return w ? `${w.dispatches} / ${w.submits} / ${w.reads}` : "—"; };
for (const net of NETS) {
  for (const [phase, key] of [["inference, 1 image", "infer1"], ["inference, 64 images", "infer64"], ["Adam step, batch 64", "step64"]]) {
    lines.push(`| ${net}, ${phase} | ${work(find("convlens", "webgpu", net), key)} | ${work(find("tfjs", "webgpu", net), key)} |`);
  }
}
lines.push("");
lines.push("Where one WebGPU inference call's time goes (ms, medians of 5 calls; from the timestamps of its WebGPU calls):");
lines.push("until the first queue submit (input, uploads, building and encoding kernels) / then until it asks to read the result / waiting for that read (the GPU) / after the read = total");
lines.push("");
lines.push("| net, phase | convlens | TF.js |");
lines.push("|---|---|---|");
const split = (r, key) => {
  const b = r?.breakdown?.[key];
  return b ? `${fmt(b.encode, 2)} / ${fmt(b.more, 2)} / ${fmt(b.wait, 2)} / ${fmt(b.after, 2)} = ${fmt(b.total, 2)}` : "—";
};
for (const net of NETS) {
  for (const [phase, key] of [["inference, 1 image", "infer1"], ["inference, 64 images", "infer64"]]) {
    lines.push(`| ${net}, ${phase} | ${split(find("convlens", "webgpu", net), key)} | ${split(find("tfjs", "webgpu", net), key)} |`);
  }
}
const errors = results.filter((r) => r.error).map((r) => `${r.lib}/${r.backend}/${r.net}: ${r.error}`);
console.log(lines.join("\n"));
if (errors.length) console.log(`\nerrors:\n${errors.join("\n")}`);
