// The last trained model, kept in IndexedDB so that a reload does not lose it.

const DB = "convlens";
const STORE = "models";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Runs one request in its own transaction; resolves once the transaction has committed. */
async function run(mode, action) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onabort = tx.onerror = () => reject(tx.error ?? request.error);
    });
  } finally {
    db.close();
  }
}

/** `{ architecture, classes, weights: Uint8Array, dataset, accuracy, savedAt }` or undefined. */
export const loadSaved = () => run("readonly", (s) => s.get("last"));
export const save = (entry) => run("readwrite", (s) => s.put(entry, "last"));
export const removeSaved = () => run("readwrite", (s) => s.delete("last"));
