/** Bytes from a URL with byte progress, and the shipped weights kept in Cache Storage. */

import { ConvlensError } from "./errors.js";

/** Fetches `url`'s bytes, reporting `(loaded, total?)` as they arrive. */
export async function fetchBytes(url: URL | string, onProgress?: (loaded: number, total?: number) => void): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new ConvlensError("NOT_FOUND", `could not fetch ${url}: ${String(err)}`, { cause: err });
  }
  if (!response.ok) throw new ConvlensError("NOT_FOUND", `could not fetch ${url}: HTTP ${response.status}`);
  return readBody(response, onProgress);
}

/** A response's body, with progress. */
async function readBody(response: Response, onProgress?: (loaded: number, total?: number) => void): Promise<Uint8Array> {
  const total = Number(response.headers.get("content-length")) || undefined;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress?.(bytes.length, bytes.length);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress?.(loaded, total);
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** The Cache Storage cache of the shipped weights (their URLs carry the package's files). */
const CACHE = "convlens-weights";

/**
 * A shipped weights file: from Cache Storage when an earlier visit fetched it (so a second visit
 * loads offline), else fetched and kept there. Without Cache Storage (an insecure page, a
 * private window that refuses it) it is simply fetched.
 */
export async function cachedBytes(url: URL, onProgress?: (loaded: number, total?: number) => void): Promise<Uint8Array> {
  let cache: Cache | undefined;
  try {
    cache = typeof caches === "undefined" ? undefined : await caches.open(CACHE);
  } catch {
    cache = undefined;
  }
  const hit = await cache?.match(url).catch(() => undefined);
  if (hit) return readBody(hit, onProgress);
  const bytes = await fetchBytes(url, onProgress);
  await cache
    ?.put(url, new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { "content-length": String(bytes.length) } }))
    .catch(() => {});
  return bytes;
}
