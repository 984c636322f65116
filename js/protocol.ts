/** Messages between {@link loadInWorker}'s proxy and the worker script. */

import type { ErrorCode } from "./errors.js";

export type Method =
  | "load"
  | "classify"
  | "featureMaps"
  | "filters"
  | "fit"
  | "abort"
  | "evaluate"
  | "exportWeights"
  | "dispose";

export interface Request {
  id: number;
  method: Method;
  args: unknown[];
}

export type Reply =
  | { id: number; result: unknown }
  | { id: number; error: { code: ErrorCode; message: string } }
  | { id: number; event: unknown };
