// webpack 5 turns the package's `new URL("…", import.meta.url)` (its wasm, weights and worker)
// into emitted assets and its dynamic imports into chunks by itself; the page is copied as it is.
import { fileURLToPath } from "node:url";
import CopyPlugin from "copy-webpack-plugin";

export default {
  mode: "production",
  entry: "./src/index.js",
  output: { path: fileURLToPath(new URL("dist", import.meta.url)), filename: "main.js", clean: true },
  experiments: { topLevelAwait: true, outputModule: true },
  plugins: [new CopyPlugin({ patterns: ["index.html"] })],
  performance: { hints: false },
};
