// Run by tests/e2e/npm-node.test.mjs under tests/e2e/no-simd.mjs (an engine without WebAssembly
// SIMD): loading rejects with a typed error that names the engines convlens needs, every time,
// and nothing is compiled. Prints one JSON line.
import { Model, ConvlensError } from "convlens";

const outcomes = [];
for (const attempt of [() => Model.load("lenet5-mnist"), () => Model.load({ architecture: "lenet5" }, { backend: "cpu" })]) {
  try {
    await attempt();
    outcomes.push({ loaded: true });
  } catch (err) {
    outcomes.push({ typed: err instanceof ConvlensError, code: err.code, message: err.message });
  }
}
console.log(JSON.stringify({ outcomes, compiled: globalThis.compiledWasmBytes }));
