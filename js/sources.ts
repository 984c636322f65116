/**
 * Where a model comes from besides the shipped names and `{ architecture, weights }` — a model
 * file as bytes, a `Blob`/`File`, a URL, or `"indexeddb://name"` — and where `save` puts one.
 */

import { ConvlensError, badInput } from "./errors.js";
import { MAX_WEIGHTS_BYTES, bad, bytes as checkedBytes, describe } from "./guard.js";
import { currentPlatform } from "./runtime.js";
import { getModel, listModels, putModel, removeModel } from "./store.js";
import type { ModelFileSource, SavedModel } from "./types.js";

export const INDEXEDDB = "indexeddb://";
export const DOWNLOAD = "download://";

/** Whether a string names a URL (scheme://…, or a path: /…, ./…, ../…) rather than a shipped model. */
function isUrl(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^\.{0,2}\//.test(source);
}

/** The absolute URL of a URL source (relative ones against the page). */
function absolute(source: string | URL): URL {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(source, base);
  } catch {
    throw bad("source", "a valid URL", source);
  }
}

/** Whether `source` is a model file source (not a shipped name or `{ architecture, … }`). */
export function isFileSource(source: unknown): source is ModelFileSource {
  if (typeof source === "string") return source.startsWith(INDEXEDDB) || isUrl(source);
  return (
    source instanceof URL ||
    (typeof Blob !== "undefined" && source instanceof Blob) ||
    source instanceof ArrayBuffer ||
    ArrayBuffer.isView(source)
  );
}

/** A file source as a worker can be sent it: URLs absolute (a worker's base is not the page's). */
export function portable(source: ModelFileSource): ModelFileSource {
  if (source instanceof URL) return source.href;
  if (typeof source === "string" && !source.startsWith(INDEXEDDB)) return absolute(source).href;
  return source;
}

/** A model file's bytes from `source`, with byte progress. */
export async function fileBytes(source: ModelFileSource, onProgress: (loaded: number, total?: number) => void): Promise<Uint8Array> {
  if (typeof source === "string" && source.startsWith(INDEXEDDB)) {
    const bytes = await getModel(savedName(source.slice(INDEXEDDB.length)));
    onProgress(bytes.length, bytes.length);
    return bytes;
  }
  if (typeof source === "string" || source instanceof URL) {
    const bytes = await currentPlatform().fetch(absolute(source), onProgress);
    if (bytes.length > MAX_WEIGHTS_BYTES) throw badInput(`the model file is ${bytes.length} bytes; the limit is ${MAX_WEIGHTS_BYTES}`);
    return bytes;
  }
  if (typeof Blob !== "undefined" && source instanceof Blob) {
    if (source.size > MAX_WEIGHTS_BYTES) throw badInput(`the model file is ${source.size} bytes; the limit is ${MAX_WEIGHTS_BYTES}`);
    const bytes = new Uint8Array(await source.arrayBuffer());
    onProgress(bytes.length, bytes.length);
    return bytes;
  }
  const bytes = checkedBytes(source, "source", MAX_WEIGHTS_BYTES);
  onProgress(bytes.length, bytes.length);
  return bytes;
}

/** A saved model's name, checked: 1 to 200 characters. */
function savedName(name: unknown): string {
  if (typeof name !== "string" || name.length < 1 || name.length > 200) throw bad("name", "a name of 1 to 200 characters", name);
  return name;
}

/** What `save` needs of a model. */
interface Saveable {
  readonly info: { architecture: string; classes: string[] };
  exportModel(): Promise<Uint8Array>;
}

/** `model.save(target)`: its model file into IndexedDB or downloaded; what was saved. */
export async function saveModel(model: Saveable, target: unknown): Promise<SavedModel> {
  if (typeof target !== "string" || !(target.startsWith(INDEXEDDB) || target.startsWith(DOWNLOAD))) {
    throw bad("target", '"indexeddb://name" or "download://name"', target);
  }
  const toDb = target.startsWith(INDEXEDDB);
  const name = savedName(target.slice((toDb ? INDEXEDDB : DOWNLOAD).length));
  if (!toDb && typeof document === "undefined") throw badInput("download:// needs a page (a document to download from)");
  const bytes = await model.exportModel();
  const saved: SavedModel = {
    name,
    architecture: model.info.architecture,
    classes: [...model.info.classes],
    size: bytes.length,
    savedAt: Date.now(),
  };
  if (toDb) {
    await putModel({ ...saved, bytes });
  } else {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }));
    a.download = /\.[a-z0-9]+$/i.test(name) ? name : `${name}.bpk`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
  }
  return saved;
}

/** The models saved in IndexedDB. */
export function savedModels(): Promise<SavedModel[]> {
  return listModels();
}

/** Removes a saved model (`"name"` or `"indexeddb://name"`); `NOT_FOUND` when there is none. */
export async function removeSaved(target: unknown): Promise<void> {
  const raw = typeof target === "string" && target.startsWith(INDEXEDDB) ? target.slice(INDEXEDDB.length) : target;
  const name = savedName(raw);
  if (!(await listModels()).some((m) => m.name === name)) {
    throw new ConvlensError("NOT_FOUND", `no model saved as ${describe(name)} in IndexedDB`);
  }
  await removeModel(name);
}
