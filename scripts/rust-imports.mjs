#!/usr/bin/env node
// Fails when the crate's top-level modules (src/<name>.rs or src/<name>/) import each other in a
// circle. An edge is a `crate::<module>` path on a line of code (comments, doc links included,
// are not imports). Prints the module graph with --print. (cargo-modules would do this too, but
// it builds rust-analyzer: minutes on a machine of this kind.)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, basename } from "node:path";

const src = new URL("../src/", import.meta.url).pathname;
const files = (path) =>
  statSync(path).isDirectory() ? readdirSync(path).flatMap((f) => files(join(path, f))) : path.endsWith(".rs") ? [path] : [];

const modules = readdirSync(src)
  .filter((f) => f !== "lib.rs" && f !== "bin" && (f.endsWith(".rs") || statSync(join(src, f)).isDirectory()))
  .map((f) => basename(f, ".rs"));
const graph = new Map(modules.map((m) => [m, new Set()]));
for (const m of modules) {
  const path = statSync(join(src, m), { throwIfNoEntry: false })?.isDirectory() ? join(src, m) : join(src, `${m}.rs`);
  for (const file of files(path)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const code = line.replace(/\/\/.*$/, "");
      for (const [, used] of code.matchAll(/\bcrate::([a-z_]+)/g)) {
        if (used !== m && graph.has(used)) graph.get(m).add(used);
      }
    }
  }
}
if (process.argv.includes("--print")) for (const [m, uses] of graph) console.log(`${m}: ${[...uses].sort().join(" ")}`);

// Depth-first search for a back edge; prints each circle once.
const state = new Map();
const circles = [];
const visit = (m, path) => {
  state.set(m, "open");
  for (const next of graph.get(m)) {
    if (state.get(next) === "open") circles.push([...path.slice(path.indexOf(next)), next].join(" → "));
    else if (!state.has(next)) visit(next, [...path, next]);
  }
  state.set(m, "done");
};
for (const m of modules) if (!state.has(m)) visit(m, [m]);
if (circles.length) {
  console.error(`import circles in src/:\n  ${circles.join("\n  ")}`);
  process.exit(1);
}
console.log(`src/: ${modules.length} modules, no import circle`);
