// Serves the demo page on 127.0.0.1 straight from the checkout (no copying, no bundler): the
// page (index.html at the repository's top and app/), the npm package's build (target/npm: its dist/ as /convlens/, its weights as
// /weights/) and the datasets' browser subsets (target/page-data as /data/). The benchmarks add
// their own folders with --mount URL=DIR. --isolate sends every response cross-origin isolated
// (COOP same-origin, COEP require-corp), as a page that wants wasm threads must be. Every response
// carries the page's Content-Security-Policy as a header (CSP below), which — unlike the page's
// <meta> copy — also governs its Web Workers and can forbid framing; --no-csp leaves it out
// (the benchmark's TF.js pages). --package DIR serves another build of the package than target/npm
// (the threads test: the files of the packed tarball).
// Usage: node scripts/serve.mjs [--port N] [--isolate] [--no-csp] [--package DIR] [--mount /url/=dir …]
// (prints the URL)
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import sirv from "sirv";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "8080" },
    mount: { type: "string", multiple: true, default: [] },
    isolate: { type: "boolean", default: false },
    "no-csp": { type: "boolean", default: false },
    package: { type: "string", default: join(ROOT, "target/npm") },
  },
});

/**
 * What the page may load: its own scripts and wasm (compiling wasm needs 'wasm-unsafe-eval'),
 * its workers (blob: for wasm-bindgen-rayon's thread pool), camera frames, nothing from another
 * origin; it may not be framed, change its base URL or post forms. README: "Robustness".
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/** URL prefix → folder; the longest matching prefix wins. */
const mounts = [
  ["/convlens/", join(values.package, "dist")],
  ["/weights/", join(values.package, "weights")],
  ["/data/", join(ROOT, "target/page-data")],
  ["/app/", join(ROOT, "app")],
  ...values.mount.map((m) => {
    const at = m.indexOf("=");
    if (at < 1) throw new Error(`--mount wants /url/=dir, got ${m}`);
    return [m.slice(0, at), m.slice(at + 1)];
  }),
]
  .sort((a, b) => b[0].length - a[0].length)
  .map(([prefix, dir]) => [prefix, sirv(dir, { dev: true, dotfiles: false })]);

const isolate = values.isolate;
const server = createServer((req, res) => {
  if (!values["no-csp"]) res.setHeader("Content-Security-Policy", CSP);
  if (isolate) {
    res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
  }
  const path = new URL(req.url, "http://x").pathname;
  if (path === "/" || path === "/index.html") {
    // The page itself: the one file served from the repository's top.
    return readFile(join(ROOT, "index.html")).then(
      (html) => res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" }).end(html),
      () => res.writeHead(404).end(),
    );
  }
  const [prefix, serve] = mounts.find(([p]) => path.startsWith(p)) ?? [];
  if (!serve) return res.writeHead(404).end();
  const original = req.url;
  req.url = "/" + original.slice(prefix.length);
  serve(req, res, () => {
    res.writeHead(404).end(`not found: ${original}`);
  });
});
server.listen(Number(values.port), "127.0.0.1", () => {
  console.log(`convlens: serving on http://127.0.0.1:${server.address().port}/`);
});
