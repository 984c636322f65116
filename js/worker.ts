/**
 * The Web Worker behind `Model.load(…, { worker: true })`: it holds one model and runs the
 * proxy's calls on it, posting progress events back. Not meant to be imported directly.
 */

import { ConvlensError } from "./errors.js";
import { browserPlatform } from "./browser.js";
import { Model, type ConvlensModel } from "./model.js";
import { setPlatform, setThreads } from "./runtime.js";
import type { Reply, Request } from "./protocol.js";
import type { Dataset, FitOptions, LoadOptions, ModelSource, PixelBatch, Pixels } from "./types.js";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: Reply, transfer?: Transferable[]): void;
};

setPlatform(browserPlatform);

let model: ConvlensModel | undefined;
const fits = new Map<number, AbortController>();

function need(): ConvlensModel {
  if (!model) throw new ConvlensError("DISPOSED", "the worker has no model");
  return model;
}

async function handle({ id, method, args }: Request): Promise<unknown> {
  switch (method) {
    case "load": {
      const [source, options] = args as [ModelSource, LoadOptions];
      setThreads(options.threads);
      model = await Model.load(source, {
        backend: options.backend,
        onProgress: (event) => scope.postMessage({ id, event }),
      });
      return { backend: model.backend, info: model.info };
    }
    case "classify":
      return need().classify(args[0] as Pixels | PixelBatch, args[1] as { topK?: number });
    case "featureMaps":
      return need().featureMaps(args[0] as Pixels | PixelBatch);
    case "filters":
      return need().filters();
    case "fit": {
      const [dataset, options] = args as [Dataset, FitOptions & { wantSteps: boolean }];
      const controller = new AbortController();
      fits.set(id, controller);
      const { wantSteps, ...rest } = options;
      try {
        return await need().fit(dataset, {
          ...rest,
          signal: controller.signal,
          onStep: wantSteps ? (event) => scope.postMessage({ id, event }) : undefined,
          onEpoch: (event) => scope.postMessage({ id, event }),
        });
      } finally {
        fits.delete(id);
      }
    }
    case "abort":
      fits.get(args[0] as number)?.abort();
      return undefined;
    case "evaluate":
      return need().evaluate(args[0] as Dataset);
    case "exportWeights":
      return need().exportWeights();
    case "dispose":
      model?.dispose();
      model = undefined;
      return undefined;
  }
}

scope.onmessage = (e) => {
  const request = e.data;
  handle(request).then(
    (result) => scope.postMessage({ id: request.id, result }),
    (err) => {
      const code = err instanceof ConvlensError ? err.code : "INTERNAL";
      const message = err instanceof Error ? err.message : String(err);
      scope.postMessage({ id: request.id, error: { code, message } });
    },
  );
};
