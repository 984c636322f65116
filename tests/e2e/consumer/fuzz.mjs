// The fuzz cases (fuzz-cases.mjs) in Node, through the packed package, with the small ONNX CNN. FUZZ_SEED and FUZZ_CASES
// pick others. Prints one JSON line: { seed, cases, outcomes, failures }.
import { readFileSync } from "node:fs";
import * as api from "convlens";
import { digits } from "./digits.mjs";
import { fuzz } from "./fuzz-cases.mjs";

const result = await fuzz({
  api,
  digits: digits("test", 64),
  onnx: new Uint8Array(readFileSync("tiny-cnn.onnx")),
  seed: Number(process.env.FUZZ_SEED ?? 20261129),
  cases: Number(process.env.FUZZ_CASES ?? 2000),
});
console.log(JSON.stringify(result));
