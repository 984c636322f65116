// The ONNX benchmark: convlens and ONNX Runtime Web (onnxruntime-web, a devDependency used only
// here) on the same ONNX files, images and browser. The networks are the whole CNNs torch.onnx
// exported (tests/fixtures/networks) with the weights scripts/onnx_networks.py gives them. One
// headless Chromium session per backend (WebGPU with --enable-unsafe-webgpu; the CPU path:
// convlens's CPU module and ORT's wasm execution provider, each on one thread), a fresh browser
// context per page, so each page's time to first result and downloaded bytes are a first visit's.
// efficientnet_lite0 is the photo model's real ImageNet weights as ONNX (scripts/efficientnet_onnx.py),
// also against convlens's built-in EfficientNet-Lite0 (the shipped model, same weights in f16).
// The "threads" session: a cross-origin isolated page, ORT's wasm on every logical processor and
// convlens in worker mode (its threaded CPU module).
// Usage: node scripts/bench-onnx.mjs [--nets squeezenet1_1,mobilenet_v3_small,resnet18,efficientnet_lite0]
//                                    [--sessions webgpu,cpu,threads] [--batch 32] [--runs 3] [--json FILE]
// Expects target/npm (scripts/package.sh) and the venv's python (scripts/setup.sh).
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, firstVisit, fmt, maxDiff, ratio, serve } from "./bench-common.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const { values: opts } = parseArgs({
  options: {
    nets: { type: "string", default: "squeezenet1_1,mobilenet_v3_small,resnet18,efficientnet_lite0" },
    sessions: { type: "string", default: "webgpu,cpu,threads" },
    batch: { type: "string", default: "32" },
    runs: { type: "string", default: "3" },
    json: { type: "string" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  },
});
const NETS = opts.nets.split(",");

// The networks with their weights, as the tests make them.
const nets = mkdtempSync(join(tmpdir(), "convlens-bench-onnx-"));
const python = join(process.env.CONVLENS_CACHE ?? join(process.env.HOME, ".cache/convlens"), "venv/bin/python");
const made = spawnSync(python, [join(ROOT, "scripts/onnx_networks.py"), nets], { stdio: "inherit" });
if (made.status !== 0) throw new Error(`scripts/onnx_networks.py exited ${made.status}`);
if (NETS.includes("efficientnet_lite0")) {
  const imagenet = join(process.env.CONVLENS_CACHE ?? join(process.env.HOME, ".cache/convlens"), "imagenet");
  const lite = spawnSync(python, [join(ROOT, "scripts/efficientnet_onnx.py"), join(imagenet, "efficientnet-lite0.pth"),
    join(imagenet, "imagenet-labels.json"), join(nets, "efficientnet_lite0.onnx")], { stdio: "inherit" });
  if (lite.status !== 0) throw new Error(`scripts/efficientnet_onnx.py exited ${lite.status}`);
}

const MOUNTS = ["--no-csp", "--mount", `/bench/=${join(ROOT, "benches/web")}`,
  "--mount", `/ort/=${join(ROOT, "node_modules/onnxruntime-web/dist")}`, "--mount", `/bench-onnx/=${nets}`];
const servers = [serve(false, MOUNTS), serve(true, MOUNTS)];
const [base, isolatedBase] = await Promise.all(servers.map((s) => s.url));

// The libraries' code: JS and wasm, not the benchmark's own page nor the network's file.
const isCode = (url) => /\.(m?js|wasm)$/.test(url) && !url.includes("/bench/");
// convlens's training modules are not fetched by inference; counted if they ever are.
const isTraining = (url) => /convlens_\w+_train(_bg\.wasm|\.js)$/.test(url);

async function run(browser, session, lib, backend, net) {
  const threads = session.name === "threads";
  const from = threads ? isolatedBase : base;
  const result = await firstVisit(browser, from,
    `${from}bench/onnx.html?lib=${lib}&backend=${backend}&net=${net}&batch=${opts.batch}&runs=${opts.runs}${threads ? "&threads=1" : ""}`,
    `${lib}/${backend}/${net}`);
  const { downloads } = result;
  result.codeGzipBytes = downloads.filter((d) => isCode(d.url) && !isTraining(d.url)).reduce((s, d) => s + d.gz, 0);
  return { ...result, backendInfo: result.backend, lib, backend: threads ? `${backend}-threads` : backend, net };
}

const sessions = [
  { name: "webgpu", args: ["--enable-unsafe-webgpu"], backend: "webgpu" },
  { name: "cpu", args: [], backend: "cpu" },
  { name: "threads", args: [], backend: "cpu" },
];
const results = [];
let browserVersion = "?";
try {
  for (const session of sessions.filter((s) => opts.sessions.split(",").includes(s.name))) {
    const browser = await chromium.launch({ executablePath: opts.chromium, args: [...CHROMIUM_ARGS, ...session.args] });
    browserVersion = browser.version();
    try {
      for (const net of NETS) {
        const libs = net === "efficientnet_lite0" ? ["convlens", "ort", "builtin"] : ["convlens", "ort"];
        for (const lib of libs) results.push(await run(browser, session, lib, session.backend, net));
      }
    } finally {
      await browser.close();
    }
  }
} finally {
  for (const { server } of servers) server.kill();
}
if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 1));

// The table: convlens ÷ ONNX Runtime Web per phase.
const find = (lib, backend, net) => results.find((r) => r.lib === lib && r.backend === backend && r.net === net);
const ok = (r) => r && !r.error;
const lines = [];
const adapter = find("convlens", "webgpu", NETS[0])?.backendInfo?.adapter;
lines.push(`Chromium ${browserVersion}, WebGPU adapter: ${adapter ? `${adapter.vendor} ${adapter.architecture}${adapter.isFallbackAdapter ? " (fallback)" : ""}` : "none"}; times in ms (median of ${opts.runs} after a warm-up).`);
lines.push("");
lines.push("| net, phase | convlens WebGPU ÷ ORT Web webgpu | convlens CPU ÷ ORT Web wasm (1 thread) | isolated page: convlens CPU threads ÷ ORT Web wasm threads |");
lines.push("|---|---|---|---|");
for (const net of NETS) {
  const [gw, ow, cc, oc] = [find("convlens", "webgpu", net), find("ort", "webgpu", net), find("convlens", "cpu", net), find("ort", "cpu", net)];
  const [ct, ot] = [find("convlens", "cpu-threads", net), find("ort", "cpu-threads", net)];
  const at = (key) => (r) => (ok(r) ? (typeof r[key] === "number" ? r[key] : r[key]?.medianMs) : undefined);
  const row = (phase, get) => lines.push(`| ${net}, ${phase} | ${ratio(get(gw), get(ow))} | ${ratio(get(cc), get(oc))} | ${ratio(get(ct), get(ot))} |`);
  row("inference, 1 image", at("infer1"));
  row(`inference, ${opts.batch} images`, at("inferBatch"));
  row("time to first result (from navigation)", at("firstResultMs"));
  row("loading the network (bytes in memory → ready)", at("loadMs"));
  row("the first inference after loading", at("firstCallMs"));
  row("first download (JS + wasm), KiB gzip -9", (r) => (ok(r) ? r.codeGzipBytes / 1024 : undefined));
  const agree = [maxDiff(gw, ow), maxDiff(cc, oc), maxDiff(ct, ot)].map((d) => (d === undefined ? "—" : d.toExponential(1)));
  lines.push(`| ${net}, max \\|Δ probability\\| over ${opts.batch} images | ${agree[0]} | ${agree[1]} | ${agree[2]} |`);
  const threadsOf = (r) => r?.backendInfo?.threads ?? "?";
  lines.push(`| ${net}, threads | | | ${threadsOf(ct)} / ${threadsOf(ot)} |`);
}
if (NETS.includes("efficientnet_lite0")) {
  lines.push("");
  lines.push("EfficientNet-Lite0 (real ImageNet weights) imported from ONNX against convlens's built-in EfficientNet-Lite0:");
  lines.push("");
  lines.push("| phase | WebGPU: imported ÷ built-in | CPU: imported ÷ built-in |");
  lines.push("|---|---|---|");
  const net = "efficientnet_lite0";
  const [gi, gb, ci, cb] = [find("convlens", "webgpu", net), find("builtin", "webgpu", net), find("convlens", "cpu", net), find("builtin", "cpu", net)];
  const at = (key) => (r) => (ok(r) ? (typeof r[key] === "number" ? r[key] : r[key]?.medianMs) : undefined);
  for (const [phase, key] of [["inference, 1 image", "infer1"], [`inference, ${opts.batch} images`, "inferBatch"], ["loading the network", "loadMs"], ["time to first result", "firstResultMs"]]) {
    lines.push(`| ${phase} | ${ratio(at(key)(gi), at(key)(gb))} | ${ratio(at(key)(ci), at(key)(cb))} |`);
  }
  const agree = [maxDiff(gi, gb), maxDiff(ci, cb)].map((d) => (d === undefined ? "—" : d.toExponential(1)));
  lines.push(`| max \\|Δ probability\\| (the shipped weights are stored in f16) | ${agree[0]} | ${agree[1]} |`);
}
const errors = results.filter((r) => r.error).map((r) => `${r.lib}/${r.backend}/${r.net}: ${r.error}`);
console.log(lines.join("\n"));
if (errors.length) console.log(`\nerrors:\n${errors.join("\n")}`);
