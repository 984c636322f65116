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

async function run(mode, action) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const request = action(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

/** `{ architecture, classes, weights: Uint8Array, dataset, accuracy, savedAt }` or undefined. */
export const loadSaved = () => run("readonly", (s) => s.get("last"));
export const save = (entry) => run("readwrite", (s) => s.put(entry, "last"));
