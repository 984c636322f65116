// Fresh consumer projects for the packed npm package.
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers.mjs";
import { PHOTOS } from "./consumer/photos.mjs";

/** The tarball scripts/package.sh made (scripts/test.sh passes it in CONVLENS_TARBALL). */
export function tarball() {
  const path = process.env.CONVLENS_TARBALL;
  if (!path) throw new Error("set CONVLENS_TARBALL to the output of scripts/package.sh");
  return path;
}

/** Runs a command; resolves to its exit code and combined output. */
export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    // Without NODE_TEST_CONTEXT a child `node --test` runs its own tests instead of reporting
    // to ours (which would skip them).
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(cmd, args, { env, ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => { output += d; });
    child.stderr.on("data", (d) => { output += d; });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/**
 * A temporary project with the tarball (and `extra` packages, e.g. "vite@8.0.0") installed
 * from npm, and `files` copied from tests/e2e/consumer/ (`{ "vite/main.js": "main.js" }` or a
 * list of names kept as they are).
 */
export async function consumerProject(files, extra = []) {
  const copies = Array.isArray(files) ? Object.fromEntries(files.map((f) => [f, f])) : files;
  const dir = mkdtempSync(join(tmpdir(), "convlens-consumer-"));
  // Each project holds ~130 MB of node_modules: gone when the test process ends.
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  for (const [from, to] of Object.entries(copies)) copyFileSync(join(ROOT, "tests/e2e/consumer", from), join(dir, to));
  const install = await run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball(), ...extra],
    { cwd: dir },
  );
  if (install.code !== 0) throw new Error(`npm install failed:\n${install.output}`);
  return dir;
}

const CACHE = process.env.CONVLENS_CACHE ?? join(process.env.HOME, ".cache/convlens");

/** Where scripts/fetch-photos.sh put the photo model's files. */
export function imagenetCache() {
  return join(CACHE, "imagenet");
}

/** The numpy forward pass of the photos on the f16-rounded weights, written to `out`. */
export async function photoReference(out) {
  const imagenet = imagenetCache();
  const made = await run(join(CACHE, "venv/bin/python"), [
    join(ROOT, "scripts/efficientnet_reference.py"), "--half", join(imagenet, "efficientnet-lite0.pth"), out,
    ...PHOTOS.map((p) => join(imagenet, "photos", p)),
  ]);
  if (made.code !== 0) throw new Error(`efficientnet_reference.py failed:\n${made.output}`);
}
