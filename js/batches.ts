/**
 * What `fit` needs beyond the wasm call: datasets streamed as (async) iterables of batches, and
 * the pause gate between `pause()`, `resume()` and the running `fit`.
 */

import { ConvlensError } from "./errors.js";
import { deliver } from "./options.js";
import type { Batches, Dataset, EpochEvent, StepEvent } from "./types.js";

/** `dataset` as an iterable of batches, or undefined for a dataset in memory. */
export function batchesOf(dataset: unknown): Batches | undefined {
  if (typeof dataset !== "object" || dataset === null) return undefined;
  const d = dataset as Partial<Record<symbol, unknown>>;
  if (typeof d[Symbol.asyncIterator] === "function" || typeof d[Symbol.iterator] === "function") {
    return dataset as Batches;
  }
  return undefined;
}

/**
 * `dataset` as batches to stream, or undefined for a dataset in memory; a streamed one needs
 * `validationData` (it cannot be split).
 */
export function streamedDataset(dataset: unknown, validationData: unknown): Batches | undefined {
  const streamed = batchesOf(dataset);
  if (streamed && validationData === undefined) {
    throw new ConvlensError("BAD_INPUT", "validationData is required when the dataset is an iterable of batches (it cannot be split)");
  }
  return streamed;
}

/**
 * One `fit`'s events and failures, as the main thread's and the worker client's `fit` both
 * handle them: each event goes to the caller's callbacks and epochs are kept; a callback that
 * throws, or `onEpoch` returning `false`, asks `stop` to end training; what a streamed dataset
 * throws is kept (`streamFailed`). After the run fails, `afterFailure` says what `fit` does.
 */
export class FitEvents {
  readonly epochs: EpochEvent[] = [];
  readonly onEvent: (event: StepEvent | EpochEvent) => void;
  #stopAsked = false;
  #callbackError: ConvlensError | undefined;
  #streamError: unknown;

  constructor(
    onStep: ((e: StepEvent) => void) | undefined,
    onEpoch: ((e: EpochEvent) => unknown) | undefined,
    stop: () => void,
  ) {
    this.onEvent = (event) => {
      if (event.type === "epoch") this.epochs.push(event as EpochEvent);
      const failed = deliver(event, onStep, onEpoch);
      // onEpoch returned false: training ends after that epoch, and fit resolves with the epochs.
      if (failed === "stop") {
        this.#stopAsked = true;
        stop();
      } else if (failed) {
        this.#callbackError ??= failed;
        stop();
      }
    };
  }

  /** What a streamed dataset threw (the first thing). */
  readonly streamFailed = (err: unknown): void => {
    this.#streamError ??= err;
  };

  /** A callback that threw: `fit` fails with it even if the run finished meanwhile. */
  get callbackError(): ConvlensError | undefined {
    return this.#callbackError;
  }

  /**
   * After the run failed with `err`: rejects with a callback's or the stream's error, resolves to
   * the epochs when `onEpoch` ended it (and the signal did not), or rejects with `err`.
   */
  afterFailure(err: unknown, aborted: boolean): EpochEvent[] {
    if (this.#callbackError !== undefined) throw this.#callbackError;
    if (this.#streamError !== undefined) throw streamFailure(this.#streamError);
    if (this.#stopAsked && !aborted && (err as { code?: string })?.code === "ABORTED") return this.epochs;
    throw err;
  }
}

/** One batch as the wasm layer takes it. */
export type WireBatch = { images: Uint8Array; labels: Uint8Array };

/**
 * The `pull(restart)` the wasm layer calls for every batch: `restart` starts a new pass over
 * `batches` (a new iterator); each batch is converted (checked and prepared) by `convert`; null
 * ends the pass. What throws is reported to `failed` first, so that `fit` rejects with it.
 */
export function pullBatches<T>(
  batches: Batches,
  convert: (batch: Dataset, name: string) => Promise<T>,
  failed: (err: unknown) => void,
): (restart: boolean) => Promise<T | null> {
  let iterator: AsyncIterator<Dataset> | Iterator<Dataset> | undefined;
  let n = 0;
  return async (restart) => {
    try {
      if (restart || !iterator) {
        const async = (batches as AsyncIterable<Dataset>)[Symbol.asyncIterator];
        iterator = typeof async === "function" ? async.call(batches) : (batches as Iterable<Dataset>)[Symbol.iterator]();
        n = 0;
      }
      const next = await iterator.next();
      if (next.done) return null;
      n += 1;
      return await convert(next.value, `dataset batch ${n}`);
    } catch (err) {
      failed(err);
      throw err;
    }
  };
}

/**
 * The batches a `pull(restart)` function gives (a worker's view of the page's stream): each
 * iteration starts a new pass.
 */
export function pulledBatches(pull: (restart: boolean) => Promise<Dataset | null>): Batches {
  return {
    [Symbol.asyncIterator]() {
      let restart = true;
      return {
        async next(): Promise<IteratorResult<Dataset>> {
          const batch = await pull(restart);
          restart = false;
          return batch === null ? { value: undefined, done: true } : { value: batch, done: false };
        },
      };
    },
  };
}

/** What a streamed dataset threw, as `fit` rejects with it. */
export function streamFailure(err: unknown): ConvlensError {
  if (err instanceof ConvlensError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ConvlensError("BAD_INPUT", `the dataset's iterator threw: ${message}`, { cause: err });
}

/**
 * Between `pause()`/`resume()` and a running `fit`: who asked to pause, whether it is paused,
 * and the wait for `resume()` (true) or the end of the `fit` (false: aborted or disposed).
 */
export class PauseGate {
  /** A pause was asked and not yet reached. */
  asked = false;
  #paused = false;
  #ended = false;
  #askers: Array<(paused: boolean) => void> = [];
  #wake: ((go: boolean) => void) | undefined;

  get isPaused(): boolean {
    return this.#paused;
  }

  /** Asks for a pause; resolves once it is paused (true) or the `fit` ended first (false). */
  ask(): Promise<boolean> {
    if (this.#ended) return Promise.resolve(false);
    if (this.#paused) return Promise.resolve(true);
    this.asked = true;
    return new Promise((resolve) => this.#askers.push(resolve));
  }

  /** The `fit` has paused: answers the askers, then waits for `resume()` or the end. */
  paused(): Promise<boolean> {
    if (this.#ended) return Promise.resolve(false);
    this.#paused = true;
    this.asked = false;
    this.#answer(true);
    return new Promise((resolve) => (this.#wake = resolve));
  }

  resume(): boolean {
    if (!this.#paused || this.#ended) return false;
    this.#paused = false;
    this.#wake?.(true);
    this.#wake = undefined;
    return true;
  }

  /** The `fit` ended (finished, failed, aborted or disposed). */
  end(): void {
    this.#ended = true;
    this.#paused = false;
    this.asked = false;
    this.#answer(false);
    this.#wake?.(false);
    this.#wake = undefined;
  }

  #answer(paused: boolean): void {
    for (const resolve of this.#askers.splice(0)) resolve(paused);
  }
}
