/** What can be asked before loading a model: backends, shipped models, architectures. */

import { anyRuntime } from "./runtime.js";
import type { AdapterInfo, AvailableBackend } from "./types.js";

/**
 * The backends this environment offers.
 *
 * @example
 * await backends(); // [{ name: "webgpu", adapter: { vendor: "google", architecture: "swiftshader", isFallbackAdapter: true, … } }, { name: "cpu" }]
 */
export async function backends(): Promise<AvailableBackend[]> {
  const adapter = (await (await anyRuntime()).webgpuAdapter()) as AdapterInfo | null;
  return adapter ? [{ name: "webgpu", adapter }, { name: "cpu" }] : [{ name: "cpu" }];
}

/** A shipped model: its architecture, labels and weights file. */
export interface PretrainedInfo {
  name: string;
  architecture: string;
  dataset: string;
  labels: string[];
  file: string;
}

/**
 * The shipped models.
 *
 * @example
 * (await pretrained()).map((p) => p.name); // ["lenet5-mnist", "vin-fashion"]
 */
export async function pretrained(): Promise<PretrainedInfo[]> {
  return (await anyRuntime()).pretrained() as PretrainedInfo[];
}

/**
 * The architectures of the zoo.
 *
 * @example
 * await architectures(); // [{ name: "lenet5", inputShape: [1, 28, 28], parameters: 61706 }, …]
 */
export async function architectures(): Promise<
  { name: string; inputShape: [number, number, number]; parameters: number }[]
> {
  return (await anyRuntime()).architectures();
}

