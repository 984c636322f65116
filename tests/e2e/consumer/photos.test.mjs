// Runs inside a fresh project where the packed tarball was installed (tests/e2e/npm-node.test.mjs
// put the numpy reference of the photos in reference.safetensors): the photo model on Node's CPU
// backend.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as convlens from "convlens";
import { checkPhotos, photoRun } from "./photos.mjs";

test("EfficientNet-Lite0: the numpy reference's logits, the top 5, and teaching it three classes", async () => {
  const file = readFileSync("reference.safetensors");
  const out = await photoRun(convlens, file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength));
  console.log(JSON.stringify({ worst: out.worst, top5: out.top5, history: out.teach.history.map((e) => e.validation) }));
  checkPhotos(out, assert);
});
