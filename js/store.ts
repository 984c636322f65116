/** Models saved in the browser's IndexedDB (`model.save("indexeddb://name")`, `Model.list()`, `Model.remove()`). */

import { ConvlensError, badInput } from "./errors.js";
import type { SavedModel } from "./types.js";

// Its own database: a page of the same origin may use "convlens" for itself (the demo page did).
const DB = "convlens-models";
const STORE = "models";

interface Entry extends SavedModel {
  bytes: Uint8Array;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((ok, fail) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
}

async function open(): Promise<IDBDatabase> {
  if (typeof indexedDB === "undefined") throw badInput("IndexedDB is not available here (Node, or a browser that refuses it): use exportModel() and keep the bytes yourself");
  const r = indexedDB.open(DB, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: "name" });
  try {
    return await request(r);
  } catch (err) {
    throw new ConvlensError("BACKEND", `could not open IndexedDB: ${String(err)}`, { cause: err });
  }
}

async function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    const tx = db.transaction(STORE, mode);
    const result = await request(work(tx.objectStore(STORE)));
    await new Promise<void>((ok, fail) => {
      tx.oncomplete = () => ok();
      tx.onerror = () => fail(tx.error);
      tx.onabort = () => fail(tx.error ?? new Error("the transaction was aborted"));
    });
    return result;
  } catch (err) {
    if (err instanceof ConvlensError) throw err;
    throw new ConvlensError("BACKEND", `IndexedDB failed: ${String(err)}`, { cause: err });
  } finally {
    db.close();
  }
}

export function putModel(entry: Entry): Promise<unknown> {
  return run("readwrite", (s) => s.put(entry));
}

export async function getModel(name: string): Promise<Uint8Array> {
  const entry = (await run("readonly", (s) => s.get(name))) as Entry | undefined;
  if (!entry) throw new ConvlensError("NOT_FOUND", `no model saved as ${JSON.stringify(name)} in IndexedDB`);
  return entry.bytes;
}

export async function listModels(): Promise<SavedModel[]> {
  const all = (await run("readonly", (s) => s.getAll())) as Entry[];
  return all.map(({ bytes: _, ...rest }) => rest);
}

export async function removeModel(name: string): Promise<void> {
  await run("readwrite", (s) => s.delete(name));
}
