// Preloaded with `node --import` to make Node behave as an engine without WebAssembly SIMD
// (Safari before 16.4): every module is first read by wabt (a WebAssembly toolkit) with the SIMD
// proposal off, and one that uses SIMD anywhere — an instruction or a v128 local — fails to
// validate and to compile, as it would there. Records the size of every module compiled in
// `globalThis.compiledWasmBytes`.
import initWabt from "wabt";

const wabt = await initWabt();
const FEATURES = {
  simd: false,
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  bulk_memory: true,
  multi_value: true,
  reference_types: true,
};

function bytesOf(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
}

function usesSimd(source) {
  let module;
  try {
    module = wabt.readWasm(bytesOf(source), FEATURES);
    module.validate();
    return false;
  } catch {
    return true;
  } finally {
    module?.destroy();
  }
}

const original = { validate: WebAssembly.validate, compile: WebAssembly.compile, instantiate: WebAssembly.instantiate };
const refuse = () => new WebAssembly.CompileError("WebAssembly SIMD is not supported by this engine (emulated)");
globalThis.compiledWasmBytes = [];

WebAssembly.validate = (source) => !usesSimd(source) && original.validate(source);
WebAssembly.compile = async (source) => {
  if (usesSimd(source)) throw refuse();
  globalThis.compiledWasmBytes.push(bytesOf(source).byteLength);
  return original.compile(source);
};
WebAssembly.instantiate = async (source, imports) => {
  if (!(source instanceof WebAssembly.Module)) {
    if (usesSimd(source)) throw refuse();
    globalThis.compiledWasmBytes.push(bytesOf(source).byteLength);
  }
  return original.instantiate(source, imports);
};
