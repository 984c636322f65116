// scripts/cargo-artifact.mjs on cargo's JSON messages: it names each asked-for artefact with its
// freshness, file and unit, passes other lines on to stderr, and fails when the build failed or
// an artefact is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/cargo-artifact.mjs");
const run = (args, lines) => spawnSync(process.execPath, [SCRIPT, ...args], { input: lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n", encoding: "utf8" });

const lib = {
  reason: "compiler-artifact", fresh: true, executable: null,
  target: { name: "convlens", kind: ["cdylib", "rlib"] },
  filenames: ["/t/wasm-small/convlens.wasm", "/t/wasm-small/deps/libconvlens-0123abcd.rlib"],
};
const web = {
  reason: "compiler-artifact", fresh: false, executable: "/t/wasm-small/deps/web-77aa.wasm",
  target: { name: "web", kind: ["test"] }, filenames: ["/t/wasm-small/deps/web-77aa.wasm"],
};
const dep = { reason: "compiler-artifact", fresh: false, target: { name: "burn", kind: ["lib"] }, filenames: ["/t/libburn-1.rlib"] };
const done = (success) => ({ reason: "build-finished", success });

test("names each artefact asked for, in the order asked", () => {
  const r = run(["web:test", "convlens:cdylib"], [dep, lib, "warning: not JSON", web, done(true)]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "false /t/wasm-small/deps/web-77aa.wasm -\ntrue /t/wasm-small/convlens.wasm libconvlens-0123abcd.rlib\n");
  assert.match(r.stderr, /warning: not JSON/);
});

test("fails when the build failed, even with the artefact named", () => {
  const r = run(["convlens:cdylib"], [lib, done(false)]);
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, "");
});

test("fails when cargo stopped before saying how the build went", () => {
  assert.notEqual(run(["convlens:cdylib"], [lib]).status, 0);
});

test("fails when an artefact asked for is missing, or of another kind", () => {
  const r = run(["convlens:cdylib", "web_training:test"], [lib, web, done(true)]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /no test artefact of web_training/);
  assert.notEqual(run(["web:cdylib"], [web, done(true)]).status, 0);
});
