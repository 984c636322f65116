/**
 * convlens for browsers (and bundlers): convolutional networks in Rust/Burn on WebGPU or the
 * CPU, with every layer's activations and in-browser training.
 *
 * @example
 * import { Model } from "convlens";
 * const model = await Model.load("lenet5-mnist");
 * await model.classify(canvas, { topK: 3 }); // [{ label: "7", index: 7, score: 0.98 }, …]
 */

import { browserPlatform } from "./browser.js";
import { setPlatform } from "./runtime.js";
import { openInWorker } from "./worker-client.js";

setPlatform({ ...browserPlatform, worker: openInWorker });

export { Model } from "./model.js";
export type { ConvlensModel } from "./model.js";
export { backends, pretrained, architectures, datasets } from "./catalog.js";
export { ConvlensError } from "./errors.js";
export { classifyLive } from "./live.js";
export { HEAT_STOPS, heatColour } from "./colours.js";
export type { LiveOptions, LiveStats } from "./live.js";
export type { ErrorCode } from "./errors.js";
export type * from "./types.js";
