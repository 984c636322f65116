/**
 * Classifying a live `<video>` (a webcam stream): the latest frame wins — each classification
 * starts on the newest frame once the previous one has finished, frames shown meanwhile are
 * skipped, so the results never lag behind a slow backend.
 */

import { ConvlensError } from "./errors.js";
import { bad, callback, integer, options as plainOptions } from "./guard.js";
import { preprocessOption } from "./options.js";
import type { Model } from "./model.js";
import type { Prediction } from "./types.js";

/** What {@link classifyLive} reports with each result, and resolves to when stopped. */
export interface LiveStats {
  /** Frames classified so far. */
  frames: number;
  /** Frames the video showed while one was being classified (skipped: the latest wins). */
  skipped: number;
  /** Classified frames per second since the start. */
  fps: number;
  /** How long the last classification took, in milliseconds. */
  latencyMs: number;
}

/** Options of {@link classifyLive}. */
export interface LiveOptions {
  /** Gets each frame's predictions, most likely first, with the running statistics. */
  onResult: (predictions: Prediction[], stats: LiveStats) => void;
  /** How many classes per frame (default 5). */
  topK?: number;
  /** Stops the loop; the promise then resolves to the statistics. */
  signal?: AbortSignal;
}

/** Resolves when the video has a frame newer than the last one classified (or is stopped). */
function nextFrame(video: HTMLVideoElement): Promise<number> {
  return new Promise((resolve) => {
    const v = video as HTMLVideoElement & {
      requestVideoFrameCallback?: (cb: (now: number, meta: { presentedFrames: number }) => void) => number;
    };
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback((_, meta) => resolve(meta.presentedFrames));
    else requestAnimationFrame(() => resolve(-1));
  });
}

/**
 * Classifies `video`'s frames until `signal` aborts: one at a time, always the newest.
 *
 * @example
 * const video = document.querySelector("video"); // playing a getUserMedia stream
 * const stop = new AbortController();
 * const stats = classifyLive(model, video, { onResult: (top) => show(top[0].label), signal: stop.signal });
 * // later: stop.abort(); (await stats).fps
 */
export async function classifyLive(model: Model, video: HTMLVideoElement, rawOptions: LiveOptions): Promise<LiveStats> {
  if (typeof HTMLVideoElement === "undefined" || !(video instanceof HTMLVideoElement)) throw bad("video", "an HTMLVideoElement", video);
  const o = plainOptions(rawOptions, "classifyLive options", ["onResult", "topK", "signal", "preprocess"]);
  const onResult = callback<LiveOptions["onResult"]>(o.onResult, "onResult");
  if (!onResult) throw bad("onResult", "a function", o.onResult);
  const topK = integer(o.topK, "topK", 1, 4096) ?? 5;
  const preprocess = preprocessOption(o.preprocess);
  const signal = o.signal as AbortSignal | undefined;
  const stats: LiveStats = { frames: 0, skipped: 0, fps: 0, latencyMs: 0 };
  const started = performance.now();
  let lastPresented = -1;
  const aborted = new Promise<number>((resolve) => signal?.addEventListener("abort", () => resolve(-2), { once: true }));
  while (!signal?.aborted) {
    const presented = await Promise.race([nextFrame(video), aborted]);
    if (signal?.aborted || presented === -2) break;
    if (video.readyState < 2) continue;
    if (presented >= 0 && lastPresented >= 0) stats.skipped += Math.max(0, presented - lastPresented - 1);
    lastPresented = presented;
    const t0 = performance.now();
    let predictions: Prediction[];
    try {
      predictions = await model.classify(video, { topK, preprocess });
    } catch (err) {
      if (err instanceof ConvlensError && err.code === "DISPOSED") break;
      throw err;
    }
    const now = performance.now();
    stats.frames++;
    stats.latencyMs = now - t0;
    stats.fps = (stats.frames * 1000) / Math.max(1, now - started);
    onResult(predictions, { ...stats });
  }
  return stats;
}
