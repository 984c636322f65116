// The first page, served by the README's demo command, in headless Chromium with and without
// WebGPU: it shows the backend and adapter, and classifies what is drawn on the pad.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ARTIFACTS, launch, startDemo } from "./helpers.mjs";

let demo;
before(async () => { demo = await startDemo(); });
after(() => demo?.stop());

async function openPage(browser, query = "") {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(demo.url + query);
  await page.waitForFunction(() => document.body.dataset.backend, null, { timeout: 300_000 });
  return { page, errors };
}

async function drawSeven(page) {
  const box = await page.locator("#pad").boundingBox();
  const at = (x, y) => [box.x + (x / 28) * box.width, box.y + (y / 28) * box.height];
  await page.mouse.move(...at(6, 6));
  await page.mouse.down();
  for (const [x, y] of [[14, 6], [22, 6], [18, 14], [14, 22]]) await page.mouse.move(...at(x, y), { steps: 8 });
  await page.mouse.up();
}

async function scores(page) {
  await page.waitForFunction(() => document.querySelectorAll("#scores li").length === 10, null, { timeout: 300_000 });
  return page.$$eval("#scores .value", (els) => els.map((e) => Number(e.textContent)));
}

test("with --enable-unsafe-webgpu the page runs on WebGPU and names the adapter", { timeout: 2_400_000 }, async () => {
  const browser = await launch({ webgpu: true });
  try {
    // By default SwiftShader, a software adapter, is passed by for the faster CPU backend.
    const auto = await openPage(browser);
    assert.equal(await auto.page.locator("body").getAttribute("data-backend"), "cpu");
    assert.match(await auto.page.textContent("#backend-reason"), /software fallback/);
    await auto.page.close();
    const { page, errors } = await openPage(browser, "?backend=webgpu");
    assert.equal(await page.locator("body").getAttribute("data-backend"), "webgpu");
    assert.equal(await page.textContent("#backend-name"), "WebGPU");
    const adapter = await page.textContent("#backend-adapter");
    assert.match(adapter, /\w/, "adapter vendor/architecture shown");
    assert.match(await page.textContent("#backend-fallback"), /^(yes|no)/);
    await drawSeven(page);
    const probs = await scores(page);
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 0.01, `scores sum to 1: ${probs}`);
    assert.equal(probs.indexOf(Math.max(...probs)), 7, `the drawn 7 is read as 7: ${probs}`);
    assert.match(await page.textContent("#timing"), /inference: [\d.]+ ms/);
    await page.screenshot({ path: join(ARTIFACTS, "page-webgpu.png"), fullPage: true });
    assert.deepEqual(errors, []);
    console.log(`webgpu adapter shown: ${adapter}`);
  } finally {
    await browser.close();
  }
});

test("without the WebGPU flag the page falls back to the CPU backend and says why", { timeout: 600_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const { page, errors } = await openPage(browser);
    assert.equal(await page.locator("body").getAttribute("data-backend"), "cpu");
    assert.match(await page.textContent("#backend-name"), /CPU/);
    assert.match(await page.textContent("#backend-reason"), /adapter|navigator\.gpu/);
    await drawSeven(page);
    assert.equal((await scores(page)).length, 10);
    await page.screenshot({ path: join(ARTIFACTS, "page-cpu.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
