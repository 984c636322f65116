/** What can be asked before loading a model: backends, shipped models, architectures. */

import { anyRuntime } from "./runtime.js";
import type { AdapterInfo, ArchitectureInfo, AvailableBackend, DatasetInfo, PretrainedInfo } from "./types.js";

/**
 * The backends this environment offers.
 *
 * @example
 * await backends(); // [{ name: "webgpu", adapter: { vendor: "google", architecture: "swiftshader", isFallbackAdapter: true, … } }, { name: "cpu" }]
 */
export async function backends(): Promise<AvailableBackend[]> {
  const adapter: AdapterInfo | null = await (await anyRuntime()).webgpuAdapter();
  return adapter ? [{ name: "webgpu", adapter }, { name: "cpu" }] : [{ name: "cpu" }];
}

/**
 * The shipped models.
 *
 * @example
 * (await pretrained()).map((p) => p.name); // ["lenet5-mnist", "vin-fashion"]
 */
export async function pretrained(): Promise<PretrainedInfo[]> {
  return (await anyRuntime()).pretrained();
}

/**
 * The architectures of the zoo.
 *
 * @example
 * await architectures(); // [{ name: "lenet5", title: "LeNet-5", inputShape: [1, 28, 28], parameters: 61706 }, …]
 */
export async function architectures(): Promise<ArchitectureInfo[]> {
  return (await anyRuntime()).architectures();
}

/**
 * The datasets the shipped models were trained on (the demo page's data).
 *
 * @example
 * (await datasets()).map((d) => d.title); // ["MNIST", "Fashion-MNIST"]
 */
export async function datasets(): Promise<DatasetInfo[]> {
  return (await anyRuntime()).datasets();
}

