// What the convlens README asks of a Vite project: leave the package unbundled in dev (its
// wasm and weights are fetched relative to its modules) and emit module workers.
export default {
  optimizeDeps: { exclude: ["convlens"] },
  worker: { format: "es" },
};
