// scripts/prune.sh on a made-up cache: a unit Cargo has not read for days goes with every file of
// its hash; a unit read now stays, even its dep-info file that nothing reads; a build directory
// without a fingerprint goes; a consumer project left in $TMPDIR goes once it is hours old.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

test("prune.sh removes units unread for days and left-behind test projects, and keeps the rest", () => {
  const cache = mkdtempSync(join(tmpdir(), "prune-cache-"));
  const tmp = mkdtempSync(join(tmpdir(), "prune-tmp-"));
  try {
    const profile = join(cache, "target-wasm/wasm32-unknown-unknown/wasm-small");
    const file = (path, daysAgo = 0) => {
      const full = join(profile, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, "x");
      const when = new Date(Date.now() - daysAgo * 86400e3);
      utimesSync(full, when, when);
      return full;
    };
    const oldUnit = [file(".fingerprint/old-aaaa/lib-old", 5), file("build/old-aaaa/output", 5),
      file("deps/libold-aaaa.rlib", 5), file("deps/old-aaaa.d", 5)];
    const newUnit = [file(".fingerprint/new-bbbb/lib-new"), file("build/new-bbbb/output"),
      file("deps/libnew-bbbb.rlib"), file("deps/new-bbbb.d", 5)];
    const orphan = file("build/orphan-cccc/output");
    const oldIncremental = file("incremental/old-dddd/query-cache.bin", 5);
    const newIncremental = file("incremental/new-eeee/query-cache.bin");
    const project = join(tmp, "convlens-consumer-x");
    mkdirSync(join(project, "node_modules"), { recursive: true });
    const hoursAgo = new Date(Date.now() - 7 * 3600e3);
    utimesSync(project, hoursAgo, hoursAgo);
    const freshProject = join(tmp, "convlens-example-y");
    mkdirSync(freshProject);

    execFileSync("bash", [join(ROOT, "scripts/prune.sh")], {
      env: { ...process.env, CONVLENS_CACHE: cache, TMPDIR: tmp },
      stdio: "pipe",
    });

    for (const path of [...oldUnit, orphan, oldIncremental, project]) assert.ok(!existsSync(path), `${path} kept`);
    for (const path of [...newUnit, newIncremental, freshProject]) assert.ok(existsSync(path), `${path} removed`);
  } finally {
    rmSync(cache, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
});
