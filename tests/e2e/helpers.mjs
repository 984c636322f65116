// Shared by the end-to-end tests: start the README's demo command, drive Debian's Chromium.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const ROOT = new URL("../..", import.meta.url).pathname;
export const ARTIFACTS = join(ROOT, "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

const BASE_ARGS = ["--headless=new", "--no-sandbox", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

async function freePort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/** Runs `scripts/demo.sh` on a free port and resolves once the page answers. */
export async function startDemo() {
  const port = await freePort();
  const child = spawn(join(ROOT, "scripts/demo.sh"), [], {
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (d) => { output += d; });
  child.stderr.on("data", (d) => { output += d; });
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 30 * 60_000; // a cold release build of Burn for wasm is slow
  for (;;) {
    if (child.exitCode !== null) throw new Error(`demo command exited ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(url);
      if (res.ok && (await res.text()).includes("convlens")) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`demo did not come up:\n${output}`);
    await new Promise((ok) => setTimeout(ok, 1000));
  }
  if (!output.includes(url)) throw new Error(`demo command did not print its URL ${url}:\n${output}`);
  return {
    url,
    stop: () => { try { process.kill(-child.pid, "SIGTERM"); } catch { /* gone */ } },
  };
}

/** Debian's Chromium, with WebGPU on or off. Never a downloaded browser. */
export async function launch({ webgpu, args = [] }) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [...BASE_ARGS, ...(webgpu ? ["--enable-unsafe-webgpu"] : []), ...args],
  });
}
