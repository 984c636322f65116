// The last trained model, kept in IndexedDB through the package's own model files
// (model.save("indexeddb://…"), Model.list(), Model.remove()), so that a reload does not lose it.
// Its name says which dataset it was trained on: "trained-mnist".
import { Model } from "../convlens/index.js";

const PREFIX = "trained-";

/** `{ source: "indexeddb://trained-…", architecture, dataset, savedAt }` of the last one kept, or undefined. */
export async function lastTrained() {
  const kept = (await Model.list()).filter((m) => m.name.startsWith(PREFIX)).sort((a, b) => b.savedAt - a.savedAt);
  const last = kept[0];
  if (!last) return undefined;
  return { source: `indexeddb://${last.name}`, architecture: last.architecture, dataset: last.name.slice(PREFIX.length), savedAt: last.savedAt };
}

/** Keeps `model` (trained on `dataset`) as the only trained one; resolves to its source once committed. */
export async function keepTrained(model, dataset) {
  await forgetTrained();
  const saved = await model.save(`indexeddb://${PREFIX}${dataset}`);
  return `indexeddb://${saved.name}`;
}

/** Removes every kept trained model. */
export async function forgetTrained() {
  for (const m of await Model.list()) if (m.name.startsWith(PREFIX)) await Model.remove(m.name);
}
