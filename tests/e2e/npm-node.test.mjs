// The packed npm package in a fresh Node project: `npm install <tarball>`, then the consumer's
// own `node --test` (tests/e2e/consumer/node.test.mjs) imports "convlens" by name.
import assert from "node:assert/strict";
import { test } from "node:test";
import { consumerProject, run } from "./consumer.mjs";

test("Node ≥ 20 consumer of the packed tarball (CPU backend)", async () => {
  const dir = await consumerProject(["node.test.mjs", "digits.mjs"]);
  const { code, output } = await run("node", ["--test", "--test-concurrency=1", "node.test.mjs"], { cwd: dir });
  console.log(output);
  assert.equal(code, 0, "the consumer's tests failed (output above)");
  assert.match(output, /# pass [1-9]/, "the consumer's tests ran");
  assert.match(output, /# fail 0/);
});
