// What the package README asks of a Vite project: leave the package unbundled in dev (its wasm
// and weights are fetched relative to its modules) and emit module workers. `build.target`:
// the example uses top-level await.
export default {
  optimizeDeps: { exclude: ["convlens"] },
  worker: { format: "es" },
  build: { target: "es2022" },
};
