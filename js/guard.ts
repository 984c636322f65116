/**
 * Reading values a caller passed, as a hostile caller might pass them: every check here runs
 * before anything reaches wasm or allocates by a size the caller chose. Typed arrays are recognised
 * by the engine's own getters (not `instanceof` or `length`, which a Proxy or a subclass can fake),
 * sizes must be safe integers under documented limits, and an exception thrown by the caller's own
 * code (a getter, a Proxy trap) becomes a `BAD_INPUT` whose `cause` is that exception.
 */

import { ConvlensError } from "./errors.js";

// The limits are defined once, in src/limits.rs; js/limits.ts is generated from it.
export { MAX_VALUES, MAX_BATCH, MAX_SIDE, MAX_DATASET_BYTES, MAX_WEIGHTS_BYTES, MIN_CLASSES, MAX_CLASSES, MAX_LABEL_LENGTH } from "./limits.js";
import type { Range } from "./limits.js";

const TypedArray = Object.getPrototypeOf(Uint8Array) as { prototype: object };
const getter = (key: PropertyKey) =>
  Object.getOwnPropertyDescriptor(TypedArray.prototype, key)?.get as (this: unknown) => unknown;
const TAG = getter(Symbol.toStringTag);
const LENGTH = getter("length");
const BUFFER = getter("buffer");
const BYTE_OFFSET = getter("byteOffset");
const ARRAY_BUFFER_BYTES = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength")?.get as (
  this: unknown,
) => number;

export type TypedKind = "Float32Array" | "Uint8Array" | "Uint8ClampedArray";

/** A short, never-throwing description of any value for an error message. */
export function describe(value: unknown): string {
  try {
    switch (typeof value) {
      case "string":
        return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
      case "bigint":
        return `${value}n`;
      case "symbol":
        return "a Symbol";
      case "function":
        return "a function";
      case "undefined":
        return "undefined";
      case "number":
      case "boolean":
        return String(value);
    }
    if (value === null) return "null";
    const tag = TAG.call(value);
    if (typeof tag === "string") return `a ${tag}(${LENGTH.call(value)})`;
    if (Array.isArray(value)) return `an array of ${value.length}`;
    return "an object";
  } catch {
    return "a value that cannot be read";
  }
}

/** Runs `read` (which touches the caller's values); an exception of theirs becomes BAD_INPUT with it as `cause`. */
export function reading<T>(field: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ConvlensError) throw err;
    throw new ConvlensError("BAD_INPUT", `reading ${field} threw: ${err instanceof Error ? err.message : describe(err)}`, {
      cause: err,
    });
  }
}

export function bad(field: string, wants: string, got: unknown): ConvlensError {
  return new ConvlensError("BAD_INPUT", `${field} must be ${wants}, got ${describe(got)}`);
}

/** The kind of a real typed array (the engine's brand check), or undefined for anything else. */
export function typedKind(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const tag = TAG.call(value);
  return typeof tag === "string" ? tag : undefined;
}

/**
 * `value` as a plain typed array of one of `kinds` over the same memory (a fresh view: no Proxy,
 * no subclass, no overridden getters). Rejects other values, detached buffers, and more than
 * `max` elements.
 */
export function typedArray(value: unknown, kinds: readonly TypedKind[], field: string, max: number): Float32Array | Uint8Array {
  const kind = typedKind(value);
  if (!kind || !(kinds as readonly string[]).includes(kind)) {
    throw bad(field, `a ${kinds.join(" or a ")}`, value);
  }
  const length = LENGTH.call(value) as number;
  const buffer = BUFFER.call(value) as ArrayBuffer;
  const offset = BYTE_OFFSET.call(value) as number;
  if (length === 0 && ARRAY_BUFFER_BYTES.call(buffer) === 0 && offset === 0) {
    // Detached (transferred) buffers read as empty: say so rather than "0 values".
    if (isDetached(buffer)) throw new ConvlensError("BAD_INPUT", `${field}'s buffer was detached (transferred); pass a copy`);
  }
  if (length > max) throw new ConvlensError("BAD_INPUT", `${field} holds ${length} values; the limit is ${max}`);
  return kind === "Float32Array" ? new Float32Array(buffer, offset, length) : new Uint8Array(buffer, offset, length);
}

function isDetached(buffer: ArrayBuffer): boolean {
  const detached = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "detached")?.get;
  if (detached) return detached.call(buffer) === true;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** Bytes from a Uint8Array or an ArrayBuffer (brand-checked), at most `max`. */
export function bytes(value: unknown, field: string, max: number): Uint8Array {
  let length: number | undefined;
  try {
    length = ARRAY_BUFFER_BYTES.call(value);
  } catch {
    length = undefined; // not an ArrayBuffer
  }
  if (length !== undefined) {
    if (length > max) throw new ConvlensError("BAD_INPUT", `${field} holds ${length} bytes; the limit is ${max}`);
    return new Uint8Array(value as ArrayBuffer);
  }
  return typedArray(value, ["Uint8Array"], field, max) as Uint8Array;
}

/**
 * A caller's array of `count` dimensions, each an integer from 1 to `max` (a copy: what is checked
 * is what is used). `count` may be a list of accepted lengths.
 */
export function dims(value: unknown, counts: readonly number[], max: number, field: string, names: string): number[] {
  const copy = reading(field, () => {
    if (!Array.isArray(value)) return undefined;
    const length = value.length;
    if (!counts.includes(length)) return undefined;
    return Array.from({ length }, (_, i) => value[i] as unknown);
  });
  if (!copy || !copy.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 1 && d <= max)) {
    const what = copy ? `[${copy.map(describe).join(", ")}]` : describe(value);
    throw new ConvlensError(
      "BAD_INPUT",
      `${field} must be [${names}] of whole numbers from 1 to ${max}, got ${what}`,
    );
  }
  return copy as number[];
}

/** An optional numeric option within `range` (src/limits.rs). */
export function ranged(value: unknown, field: string, range: Range): number | undefined {
  if (range.whole && !range.minOpen && !range.maxOpen) return integer(value, field, range.min, range.max);
  return number(value, field, range.min, range.max, { min: range.minOpen, max: range.maxOpen });
}

/** An optional integer option within [min, max]. */
export function integer(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw bad(field, `a whole number from ${min} to ${max}`, value);
  }
  return value;
}

/** An optional finite number option from `min` to `max`; `open` excludes the bounds it names. */
export function number(
  value: unknown,
  field: string,
  min: number,
  max: number,
  open: { min?: boolean; max?: boolean } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const inside = (v: number) => (open.min ? v > min : v >= min) && (open.max ? v < max : v <= max);
  if (typeof value !== "number" || !Number.isFinite(value) || !inside(value)) {
    const range = `${open.min ? "above" : "from"} ${min} ${open.max ? "and below" : "to"} ${max}`;
    throw bad(field, `a number ${range}`, value);
  }
  return value;
}

/** An optional function option. */
export function callback<T>(value: unknown, field: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function") throw bad(field, "a function", value);
  return value as T;
}

/**
 * The caller's options object as a plain copy of the keys it may have; any other key is an error
 * naming it (a typo such as `epoch` would otherwise be ignored).
 */
export function options(value: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null) throw bad(field, "an object", value);
  return reading(field, () => {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) {
        throw new ConvlensError("BAD_INPUT", `${field} has no option ${describe(key)}; it has ${keys.join(", ")}`);
      }
      copy[key] = (value as Record<string, unknown>)[key];
    }
    return copy;
  });
}
