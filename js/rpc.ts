/**
 * Comlink (bundled in the package as `vendor/comlink.js`) between the page's engine (js/worker-client.ts) and
 * the worker, with errors that keep their `code`: Comlink's own handler for thrown values sends an
 * `Error`'s name, message and stack only, so a `ConvlensError` would arrive as a plain `Error`.
 * Both sides import this module, so both register the same handler (a side effect: package.json
 * lists this module in `sideEffects`, or bundlers would drop the registration).
 */

import * as Comlink from "./vendor/comlink.js";
import { ConvlensError, fromWasm } from "./errors.js";

type Thrown = { value: unknown };
type WireError = { code: string; message: string };

const builtIn = Comlink.transferHandlers.get("throw")!;
Comlink.transferHandlers.set("throw", {
  canHandle: builtIn.canHandle,
  serialize({ value }: Thrown): [WireError, Transferable[]] {
    const err = value instanceof ConvlensError ? value : fromWasm(value);
    return [{ code: err.code, message: err.message }, []];
  },
  deserialize({ code, message }: WireError): never {
    throw fromWasm(Object.assign(new Error(message), { code }));
  },
} as Comlink.TransferHandler<Thrown, WireError>);

export { Comlink };
