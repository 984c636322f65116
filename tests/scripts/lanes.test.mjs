// scripts/lanes.sh's parallel on made-up lanes: when a lane inside a nested set of lanes fails,
// the lanes beside it are stopped — one whose process ignores SIGTERM too — and the failure
// reaches the outermost caller, which carries on (a lane that failed once hung CI instead).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

function run(script) {
  const dir = mkdtempSync(join(tmpdir(), "lanes-"));
  try {
    const result = spawnSync("bash", ["-c", `set -euo pipefail
RUN_DIR=${dir}; LANE=main; log() { echo "$*" >&2; }
source ${join(ROOT, "scripts/lanes.sh")}
${script}`], { encoding: "utf8", timeout: 120_000 });
    let failed = "";
    try { failed = readFileSync(join(dir, "failed"), "utf8"); } catch { /* none failed */ }
    return { ...result, failed: failed.trim().split("\n").filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a failing lane nested in another stops its neighbours, even one ignoring SIGTERM, and fails the caller", () => {
  const r = run(`
stubborn() { bash -c 'trap "" TERM; sleep 90'; }
bad() { sleep 1; false; }
slow() { sleep 90; }
inner() { parallel stubborn bad; }
if parallel slow inner; then echo "outer passed"; else echo "outer failed"; fi`);
  assert.equal(r.signal, null, `the lanes were not stopped: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^outer failed$/m);
  assert.deepEqual(r.failed, ["bad", "inner"]);
  assert.match(r.stderr, /\[inner\] lane bad failed; stopped the others/);
  assert.match(r.stderr, /lane inner failed; stopped the others/);
});

test("lanes that pass, ending at the same moment: each lane's lines are prefixed with its name, and stages are recorded", () => {
  // Several times: `wait -n` once lost lanes that ended together ("no such job").
  for (let i = 0; i < 5; i++) passing();
});

function passing() {
  const r = run(`
one() { stage "first" echo hello; }
two() { stage "second" echo world; }
parallel one two && echo "all passed"; cat "$RUN_DIR/stages"`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /all passed/);
  assert.match(r.stderr, /\[one\] hello/);
  assert.match(r.stderr, /\[two\] world/);
  assert.match(r.stdout, /^end\|first\|one\|\d+$/m);
  assert.match(r.stdout, /^end\|second\|two\|\d+$/m);
  assert.deepEqual(r.failed, []);
}
