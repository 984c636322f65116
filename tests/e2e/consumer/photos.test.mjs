// Runs inside a fresh project where the packed tarball was installed (tests/e2e/npm-node.test.mjs
// put the numpy reference of the photos in reference.safetensors): the photo model on Node's CPU
// backend.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as convlens from "convlens";
import { EXPECTED, PHOTOS, checkPhotos, photoRun } from "./photos.mjs";

test("EfficientNet-Lite0: the numpy reference's logits, the top 5, and teaching it three classes", async () => {
  const file = readFileSync("reference.safetensors");
  const out = await photoRun(convlens, file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength));
  console.log(JSON.stringify({ worst: out.worst, top5: out.top5, history: out.teach.history.map((e) => e.validation) }));
  checkPhotos(out, assert);
});

test("image files: PNG and JPEG bytes, Blobs, and what is not an image", async () => {
  const { Model, ConvlensError } = convlens;
  const model = await Model.load("efficientnet-lite0-imagenet");
  const [cat, , rocket] = PHOTOS.map((p) => readFileSync(`photos/${p}`));
  // The PNG's bytes as they are, the JPEG as a Blob, and both in one batch.
  const fromPng = await model.classify(new Uint8Array(cat), { topK: 5 });
  const fromJpeg = await model.classify(new Blob([rocket]), { topK: 5 });
  const labels = (top) => top.map((p) => p.label);
  assert.ok(EXPECTED[0].some((n) => labels(fromPng).includes(n)), labels(fromPng).join(" / "));
  assert.ok(EXPECTED[2].some((n) => labels(fromJpeg).includes(n)), labels(fromJpeg).join(" / "));
  // A batch (images of one size): the file's bytes as an ArrayBuffer and as a Blob.
  const buffer = cat.buffer.slice(cat.byteOffset, cat.byteOffset + cat.byteLength);
  const both = await model.classify([buffer, new Blob([cat])], { topK: 1 });
  assert.deepEqual(both.map((r) => r[0].label), [fromPng[0].label, fromPng[0].label]);
  // Files of other sizes in one batch: the error says so.
  await assert.rejects(model.classify([cat, rocket]), (err) => err.code === "BAD_INPUT" && /share a shape/.test(err.message));
  // Not an image, a cut file, a format Node does not decode: typed errors; the model keeps working.
  for (const bad of [new Uint8Array([1, 2, 3]), new Uint8Array(cat.subarray(0, 200)), new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61])]) {
    await assert.rejects(model.classify(bad), (err) => err instanceof ConvlensError && err.code === "BAD_INPUT");
  }
  assert.equal((await model.classify(new Uint8Array(cat), { topK: 1 }))[0].label, fromPng[0].label);
  model.dispose();
});
