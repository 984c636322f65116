// Reads cargo's JSON messages (`--message-format=json-render-diagnostics`) on stdin and, for each
// argument NAME:KIND (a target's name and kind: `convlens:cdylib`, `web:test`), prints one line
// "FRESH FILE UNIT": whether cargo reused that artefact without building it (`true`/`false`), its
// file (a test's executable, a cdylib's .wasm) and the name of its unit's rlib (`libNAME-HASH.rlib`,
// which tells two builds' units apart; `-` if none). Lines that are not JSON pass to stderr. Fails
// when the build failed or named no such artefact. scripts/package.sh and scripts/test.sh use it:
// the wasm modules share one output file name, and the browser tests run their executables.
import { createInterface } from "node:readline";

const wanted = process.argv.slice(2).map((arg) => arg.split(":"));
const found = new Map();
let success = null;
for await (const line of createInterface({ input: process.stdin })) {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    process.stderr.write(line + "\n");
    continue;
  }
  if (message.reason === "compiler-artifact") {
    for (const [name, kind] of wanted) {
      if (message.target.name !== name || !message.target.kind.includes(kind)) continue;
      const file = message.executable ?? message.filenames.find((f) => f.endsWith(".wasm")) ?? message.filenames[0];
      const rlib = message.filenames.find((f) => f.endsWith(".rlib"))?.split("/").pop() ?? "-";
      found.set(`${name}:${kind}`, `${message.fresh} ${file} ${rlib}`);
    }
  } else if (message.reason === "build-finished") {
    success = message.success;
  }
}
if (success !== true) {
  console.error("cargo-artifact: the build failed");
  process.exit(1);
}
const lines = [];
for (const [name, kind] of wanted) {
  const line = found.get(`${name}:${kind}`);
  if (line === undefined) {
    console.error(`cargo-artifact: cargo named no ${kind} artefact of ${name}`);
    process.exit(1);
  }
  lines.push(line);
}
console.log(lines.join("\n"));
