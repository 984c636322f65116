// A trap inside wasm (what a panic that got past the checks would be), made on purpose through
// the API's own path: the package's CPU bindings are patched so that one classify call runs on a
// forged network pointer, and the wasm module reads outside its memory. The package must reject
// with INTERNAL, restart the instance, and let new models work. Prints one JSON line.
import { Model } from "convlens";
import { digits, image } from "./digits.mjs";

const bindings = await import(new URL("./node_modules/convlens/dist/wasm/convlens_cpu.js", import.meta.url));
const test = digits("test", 8);
const outcome = async (promise) => {
  try {
    await promise;
    return "ok";
  } catch (err) {
    return `${err.code ?? err.name}: ${err.message}`;
  }
};

const a = await Model.load("lenet5-mnist");
const b = await Model.load("lenet5-mnist");
const original = bindings.Network.prototype.classify;
let armed = true;
bindings.Network.prototype.classify = function (...args) {
  if (!armed) return original.apply(this, args);
  armed = false;
  const forged = Object.create(bindings.Network.prototype);
  forged.__wbg_ptr = 0xfffffff0;
  return original.apply(forged, args);
};
const trapped = await outcome(a.classify(image(test, 0)));
const againA = await outcome(a.classify(image(test, 0)));
const otherB = await outcome(b.classify(image(test, 0)));
let disposed = "ok";
try {
  a.dispose();
  b.dispose();
} catch (err) {
  disposed = String(err);
}
const c = await Model.load("lenet5-mnist");
let correct = 0;
for (let i = 0; i < 8; i++) {
  const [top] = await c.classify(image(test, i), { topK: 1 });
  if (top.index === test.labels[i]) correct++;
}
const fresh = await Model.load({ architecture: "lenet5" });
const trained = await outcome(fresh.fit(digits("train", 64), { epochs: 1, batchSize: 32 }));
console.log(JSON.stringify({ trapped, againA, otherB, disposed, correct, trained }));
