// examples/: each example copied into a fresh folder, the packed tarball installed there (with
// the example's own devDependencies: Vite, webpack), built, served as static files and opened in
// Debian's Chromium, where it must classify its drawn "1" with the shipped LeNet-5.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sirv from "sirv";
import { run, tarball } from "./consumer.mjs";
import { ARTIFACTS, ROOT, launch } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch({ webgpu: false }); });
after(() => browser?.close());

for (const [name, build] of [["plain", false], ["vite", true], ["webpack", true]]) {
  test(`examples/${name}: installed from the tarball${build ? ", built" : ""}, it classifies a drawn 1 in Chromium`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `convlens-example-${name}-`));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    cpSync(join(ROOT, "examples", name), dir, { recursive: true });
    const install = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball()], { cwd: dir });
    assert.equal(install.code, 0, install.output);
    if (build) {
      const built = await run("npm", ["run", "build"], { cwd: dir });
      assert.equal(built.code, 0, built.output);
    }
    const server = createServer(sirv(build ? join(dir, "dist") : dir, { dev: true }));
    await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${server.address().port}/`);
      await page.waitForFunction(() => document.body.dataset.top !== undefined, null, { timeout: 300_000 });
      const shown = await page.textContent("#result");
      await page.screenshot({ path: join(ARTIFACTS, `example-${name}.png`) });
      assert.equal(await page.evaluate(() => document.body.dataset.top), "1", shown);
      assert.match(shown, /^1 \([\d.]+ %\) on cpu$/);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      server.close();
    }
  });
}
