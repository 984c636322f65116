// The packed package's files served cross-origin isolated (scripts/serve.mjs --isolate), used
// with no bundler in Debian's Chromium: in worker mode the CPU backend runs on the threaded
// module's pool (as many threads as logical processors, or the `threads` option), gives the
// results one thread gives, and trains; the main thread and `threads: 1` stay on one thread; the
// fuzz cases of the Node test run in threaded workers.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { tarball } from "./consumer.mjs";
import { ROOT, launch } from "./helpers.mjs";

test("threads: worker mode on a cross-origin isolated page", async () => {
  // The tarball's own files, unpacked (package/dist, package/weights).
  const unpacked = mkdtempSync(join(tmpdir(), "convlens-consumer-threads-"));
  process.on("exit", () => rmSync(unpacked, { recursive: true, force: true }));
  execFileSync("tar", ["-xzf", tarball(), "-C", unpacked]);
  const server = spawn(process.execPath, [join(ROOT, "scripts/serve.mjs"), "--port", "0", "--isolate",
    "--package", join(unpacked, "package"),
    "--mount", `/threads/=${join(ROOT, "tests/e2e/threads")}`, "--mount", `/fuzz/=${join(ROOT, "tests/e2e/consumer")}`], { stdio: ["ignore", "pipe", "inherit"] });
  const base = await new Promise((ok, fail) => {
    server.stdout.on("data", (d) => { const m = /http:\/\/[\d.:]+\//.exec(String(d)); if (m) ok(m[0]); });
    server.on("exit", (code) => fail(new Error(`scripts/serve.mjs exited ${code}`)));
  });
  const browser = await launch({ webgpu: false });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const wasm = [];
    context.on("response", (r) => { if (r.url().endsWith(".wasm")) wasm.push(r.url().split("/").pop()); });
    page.on("console", (m) => console.log(`[page] ${m.text()}`));
    await page.goto(`${base}threads/index.html`);
    await page.waitForFunction(() => window.result, null, { timeout: 10 * 60_000 });
    const r = await page.evaluate(() => window.result);
    console.log(JSON.stringify(r));
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.isolated, true);
    const pool = Math.min(r.cores, 256);
    assert.ok(pool >= 2, `this check needs two logical processors; the browser reports ${r.cores}`);
    assert.deepEqual(r.threads, [pool, 1, 1, pool], "threaded worker, threads: 1, main thread, fresh worker");
    assert.ok(r.diff < 1e-5, `threaded and one-thread probabilities differ by ${r.diff}`);
    assert.ok(r.diffMain < 1e-5, `threaded and main-thread probabilities differ by ${r.diffMain}`);
    assert.ok(r.correct >= 60, `the shipped LeNet-5 read ${r.correct} of 64 digits`);
    assert.ok(r.trainLoss[2] < r.trainLoss[0], JSON.stringify(r.trainLoss));
    assert.ok(r.after > r.before + 0.5, JSON.stringify(r));
    assert.deepEqual(r.bad, ["BAD_INPUT", "BAD_INPUT"]);
    // The threaded workers fetched the threaded module (training included), the main thread and
    // the one-thread worker the plain CPU module; nothing else.
    assert.ok(wasm.includes("convlens_cpu_threads_bg.wasm"), wasm.join());
    assert.ok(wasm.includes("convlens_cpu_bg.wasm"), wasm.join());
    assert.deepEqual(wasm.filter((w) => !/^convlens_cpu(_threads)?_bg\.wasm$/.test(w)), [], wasm.join());
    // 500 fuzz cases (consumer/fuzz-cases.mjs) in threaded workers: typed errors, the model works.
    assert.deepEqual(r.fuzz.failures, [], JSON.stringify(r.fuzz.failures, null, 1));
    assert.equal(Object.values(r.fuzz.outcomes).reduce((a, b) => a + b, 0), 500);
  } finally {
    await browser.close();
    server.kill();
  }
});
