/** The one error type of convlens. */

import type { ErrorCode } from "./wasm/convlens_cpu.js";

/** Stable error codes: one list, `ErrorCode` in `src/api.rs` (its TypeScript type is generated). */
export type { ErrorCode };

/** The codes, checked against the generated type by tsc (a code missing here, or extra, fails the build). */
const EVERY_CODE: Record<ErrorCode, true> = {
  BAD_INPUT: true,
  BAD_WEIGHTS: true,
  NO_WEBGPU: true,
  BACKEND: true,
  ABORTED: true,
  DISPOSED: true,
  BUSY: true,
  UNSUPPORTED: true,
  NOT_FOUND: true,
  INTERNAL: true,
};

/**
 * Every error convlens throws or rejects with.
 *
 * @example
 * try { await model.classify({ data: new Float32Array(3), shape: [1, 28, 28] }); }
 * catch (e) { if (e instanceof ConvlensError) console.log(e.code); }   // "BAD_INPUT"
 */
export class ConvlensError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConvlensError";
    this.code = code;
  }
}

const CODES = new Set<string>(Object.keys(EVERY_CODE));

/** An error from the wasm module (a JS Error with a `code`) as a ConvlensError. */
export function fromWasm(err: unknown): ConvlensError {
  if (err instanceof ConvlensError) return err;
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === "string" && CODES.has(code)) return new ConvlensError(code as ErrorCode, message);
  return new ConvlensError("INTERNAL", `convlens failed unexpectedly: ${message}`, { cause: err });
}

export const badInput = (message: string) => new ConvlensError("BAD_INPUT", message);
