// The demo page, served by the README's demo command, in headless Chromium with and without
// WebGPU: the backend shown, real digits drawn with the mouse, every layer's feature maps,
// training in the page, IndexedDB, phone width. Screenshots of each state go to artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { digits } from "./consumer/digits.mjs";
import { ARTIFACTS, ROOT, launch, startDemo } from "./helpers.mjs";

let demo;
before(async () => { demo = await startDemo(); });
after(() => demo?.stop());

async function openPage(browser, query = "", viewport = { width: 1100, height: 800 }) {
  const page = await browser.newPage({ viewport, deviceScaleFactor: viewport.width < 500 ? 2 : 1 });
  const errors = [];
  // The wasm modules requested, by the page and its worker (convlens_<backend>[_train]_bg).
  const wasm = new Set();
  page.on("request", (r) => { const m = r.url().match(/(convlens_\w+_bg)\.wasm$/); if (m) wasm.add(m[1]); });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(demo.url + query);
  await page.waitForFunction(() => document.body.dataset.backend, null, { timeout: 300_000 });
  return { page, errors, wasm };
}

async function drawSeven(page) {
  await page.locator("#pad").scrollIntoViewIfNeeded(); // as a reader would, on a small screen
  const box = await page.locator("#pad").boundingBox();
  const at = (x, y) => [box.x + (x / 28) * box.width, box.y + (y / 28) * box.height];
  await page.mouse.move(...at(6, 6));
  await page.mouse.down();
  for (const [x, y] of [[14, 6], [22, 6], [18, 14], [14, 22]]) await page.mouse.move(...at(x, y), { steps: 8 });
  await page.mouse.up();
}

/** Waits until the page has classified the last input (it classifies while drawing). */
async function settled(page) {
  await page.waitForFunction(() => !document.body.dataset.busy && document.body.dataset.top !== undefined, null, { timeout: 300_000 });
}

async function scores(page) {
  await settled(page);
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
    // The switch moves the model to the CPU backend.
    await page.selectOption("#backend-select", "cpu");
    await page.waitForFunction(() => document.body.dataset.backend === "cpu");
    assert.equal(await page.textContent("#backend-name"), "CPU (Burn flex, wasm)");
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

/** Draws a 28×28 digit on the pad with mouse strokes: one stroke per run of ink in each row. */
async function drawDigit(page, pixels) {
  const box = await page.locator("#pad").boundingBox();
  const at = (x, y) => [box.x + ((x + 0.5) / 28) * box.width, box.y + ((y + 0.5) / 28) * box.height];
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      if (pixels[y * 28 + x] < 128) continue;
      let end = x;
      while (end + 1 < 28 && pixels[y * 28 + end + 1] >= 128) end++;
      await page.mouse.move(...at(x, y));
      await page.mouse.down();
      await page.mouse.move(...at(end + 0.01, y), { steps: 2 });
      await page.mouse.up();
      x = end;
    }
  }
}

test("real held-out digits drawn with mouse strokes are read correctly; every layer's feature maps render", { timeout: 900_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const { page, errors } = await openPage(browser);
    const foreign = [];
    page.on("request", (r) => { if (!r.url().startsWith(demo.url) && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) foreign.push(r.url()); });
    await page.waitForFunction(() => document.body.dataset.model === "lenet5-mnist", null, { timeout: 300_000 });
    const heldOut = digits("test", 8);
    const read = [];
    for (let i = 0; i < 8; i++) {
      await page.click("#clear");
      await drawDigit(page, heldOut.images.subarray(i * 784, (i + 1) * 784));
      await settled(page);
      read.push(Number(await page.locator("body").getAttribute("data-top")));
      if (i === 0) await page.screenshot({ path: join(ARTIFACTS, "page-drawn-digit.png"), fullPage: true });
    }
    const right = read.filter((d, i) => d === heldOut.labels[i]).length;
    console.log(`drawn digits ${Array.from(heldOut.labels).join("")} read as ${read.join("")}`);
    assert.ok(right >= 7, `${right}/8 drawn held-out digits read correctly: labels ${Array.from(heldOut.labels)} read ${read}`);

    await page.waitForFunction(() => document.body.dataset.maps === "ready");
    const layers = await page.$$eval("#maps .layer", (els) =>
      els.map((e) => [e.dataset.layer, Number(e.dataset.channels), e.querySelectorAll(".cells canvas").length, e.querySelector("canvas.units")?.width ?? 0]));
    assert.deepEqual(layers.map(([l]) => l),
      ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "fc1", "relu3", "fc2", "relu4", "fc3"]);
    assert.deepEqual(layers.map(([, c]) => c), [6, 6, 6, 16, 16, 16, 120, 120, 84, 84, 10]);
    for (const [layer, channels, tiles, units] of layers) {
      // A tile per channel; a dense layer is one strip with a pixel per unit.
      if (layer.startsWith("fc") || layer === "relu3" || layer === "relu4") assert.deepEqual([tiles, units], [1, channels], layer);
      else assert.equal(tiles, channels, `${layer}: one tile per channel`);
    }
    assert.equal(await page.locator("#filter-grid .cells canvas").count(), 6, "conv1's six 5×5 kernels");
    await page.locator('#maps .layer[data-layer="conv2"] .cells canvas').nth(3).click();
    assert.match(await page.textContent("#zoom-caption"), /conv2, channel 3 \(10×10\)/);
    await page.screenshot({ path: join(ARTIFACTS, "page-feature-maps.png"), fullPage: true });
    await page.keyboard.press("Escape");

    // The gallery follows the model: digits for the digit model; the model's data and accuracy
    // (the registry's, which tests/cli.rs holds to `convlens eval`) are stated.
    assert.equal(await page.locator("#gallery canvas:visible").count(), 10);
    assert.equal(await page.locator('#gallery canvas[data-dataset="mnist"]:visible').count(), 10);
    assert.match(await page.textContent("#model-info"), /trained on MNIST; 99\.39 % right on its official held-out test set/);
    // A gallery sample is classified as it is.
    const sample = page.locator('#gallery canvas[data-dataset="mnist"]').nth(2);
    const sampleLabel = await sample.getAttribute("data-label");
    await sample.click();
    await settled(page);
    assert.equal(await page.locator("body").getAttribute("data-top"), sampleLabel);

    // The same digit as a PNG file, uploaded and then dropped on the pad, 4× larger.
    const png = await sample.evaluate((c) => {
      const big = document.createElement("canvas");
      big.width = big.height = 112;
      const ctx = big.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(c, 0, 0, 112, 112);
      return big.toDataURL("image/png");
    });
    const buffer = Buffer.from(png.split(",")[1], "base64");
    await page.click("#clear");
    await page.setInputFiles("#upload", { name: "digit.png", mimeType: "image/png", buffer });
    await settled(page);
    assert.equal(await page.locator("body").getAttribute("data-top"), sampleLabel, "uploaded");
    await page.click("#clear");
    await page.evaluate((base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], "digit.png", { type: "image/png" }));
      document.getElementById("pad").dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, png.split(",")[1]);
    await settled(page);
    assert.equal(await page.locator("body").getAttribute("data-top"), sampleLabel, "dropped");

    // The model picker: every shipped model and architecture with its parameter count.
    const options = await page.$$eval("#model-select option", (os) => os.map((o) => o.textContent));
    assert.ok(options.includes("LeNet-5 · MNIST (61,706 parameters)"), options.join(" | "));
    assert.ok(options.includes("VisualIntelligenceNetwork · Fashion-MNIST (371,722 parameters)"), options.join(" | "));
    for (const name of ["ResNet-8", "AlexNet"]) assert.ok(options.some((o) => o.startsWith(`${name} · untrained (`)), name);
    await page.selectOption("#model-select", "vin-fashion");
    await page.waitForFunction(() => document.body.dataset.model === "vin-fashion", null, { timeout: 300_000 });
    // Clothes for the clothes model.
    assert.equal(await page.locator('#gallery canvas[data-dataset="fashion"]:visible').count(), 10);
    assert.equal(await page.locator('#gallery canvas[data-dataset="mnist"]:visible').count(), 0);
    assert.match(await page.textContent("#model-info"), /91\.75 % right/);
    const item = page.locator('#gallery canvas[data-dataset="fashion"]').first();
    assert.equal(await item.getAttribute("data-label"), "9", "Fashion-MNIST label 9 is an ankle boot");
    await item.click();
    await settled(page);
    assert.equal(await page.locator("body").getAttribute("data-top"), "Ankle boot", "held-out Fashion item 0");
    assert.equal(await page.locator("#maps .layer").count(), 14, "VIN's 14 layers");
    assert.deepEqual(foreign, [], "no request outside the page's origin");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

/** The largest red value of each canvas matched by `selector` (how bright its brightest pixel is). */
async function brightest(page, selector) {
  return page.$$eval(selector, (canvases) =>
    canvases.map((c) => {
      const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let max = 0;
      for (let i = 0; i < data.length; i += 4) max = Math.max(max, data[i]);
      return max;
    }),
  );
}

/** axe-core's audit of the page as it stands: the violations of impact serious or critical. */
async function audit(page) {
  const axe = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy allows.
  await page.evaluate(axe);
  const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join(", ")}`);
}

test("why: honest feature maps (scales, legends, receptive fields), explanations, the confusion matrix and its images; keyboard and an accessibility audit", { timeout: 900_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const { page, errors, wasm } = await openPage(browser, "", { width: 1100, height: 900 });
    await page.waitForFunction(() => document.body.dataset.model === "lenet5-mnist", null, { timeout: 300_000 });
    // Keyboard only: a held-out sample is picked with Tab and Enter.
    await page.focus("#gallery canvas");
    await page.keyboard.press("Enter");
    await scores(page);
    assert.equal(await page.locator("body").getAttribute("data-top"), "7", "held-out image 0 is a 7");

    // One colour scale per layer: some channel of relu1 reaches white, a weaker one does not.
    const relu1 = await brightest(page, '#maps .layer[data-layer="relu1"] .cells canvas');
    assert.equal(Math.max(...relu1), 255);
    assert.ok(Math.min(...relu1) < 200, `a weak channel looks weak: ${relu1}`);
    // Dense layers are one strip of units on their layer's scale, not a full-white tile each.
    const fc1 = await page.$eval('#maps .layer[data-layer="fc1"] canvas.units', (c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, 1).data;
      const reds = [];
      for (let i = 0; i < d.length; i += 4) reds.push(d[i]);
      return { width: c.width, distinct: new Set(reds).size };
    });
    assert.equal(fc1.width, 120, "fc1: 120 units");
    assert.ok(fc1.distinct > 10, `fc1's units have many shades: ${fc1.distinct}`);
    // A sentence on what each kind of layer does, and a legend with the layer's range.
    const about = await page.$$eval("#maps .layer", (ls) => ls.map((l) => [l.dataset.layer, l.querySelector(".about").textContent]));
    assert.equal(about.length, 11);
    for (const [layer, text] of about) assert.ok(text.length > 30, `${layer}: ${text}`);
    assert.match(Object.fromEntries(about).pool1, /Max pooling/);
    assert.match(Object.fromEntries(about).fc2, /Dense/);
    const spans = await page.$$eval("#maps .legend", (ls) => ls.map((l) => l.dataset.span));
    assert.ok(new Set(spans).size > 5, "each layer has its own range");
    // Per channel: every tile reaches white; one scale for the network: one range everywhere.
    await page.selectOption("#map-scale", "channel");
    const perChannel = await brightest(page, '#maps .layer[data-layer="relu1"] .cells canvas');
    assert.ok(perChannel.every((m) => m === 255 || m === 0), `${perChannel}`);
    await page.selectOption("#map-scale", "global");
    const global = await page.$$eval("#maps .legend", (ls) => ls.map((l) => l.dataset.span));
    assert.equal(new Set(global).size, 1);
    await page.selectOption("#map-scale", "layer");

    // Pointing at pool2's top-left pixel: its value, and the 16-pixel square it sees, clipped.
    const tile = page.locator('#maps .layer[data-layer="pool2"] .cells canvas').first();
    await tile.hover({ position: { x: 2, y: 2 } });
    await page.waitForFunction(() => document.body.dataset.inspected === "pool2:0:0:0");
    assert.match(await page.textContent("#inspect"), /^pool2 channel 0, row 1, column 1: -?[\d.e+-]+; it sees rows 1–14, columns 1–14 of the input/);
    // The same with the keyboard: conv1's tile, then one step right.
    await page.focus('#maps .layer[data-layer="conv1"] .cells canvas');
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction(() => document.body.dataset.inspected === "conv1:0:14:15");
    assert.match(await page.textContent("#inspect"), /rows 13–17, columns 14–18/, "a 5×5 kernel around row 15, column 16");
    assert.match(await page.locator('#maps .layer[data-layer="conv1"] .cells canvas').first().getAttribute("aria-label"), /^conv1 channel 0: 28×28, from -?[\d.]+ to [\d.]+/);

    // Explanations: nothing of the training module until asked.
    assert.deepEqual([...wasm], ["convlens_cpu_bg"]);
    await page.click("#explain-go");
    await page.waitForFunction(() => document.body.dataset.explain === "gradcam", null, { timeout: 300_000 });
    assert.match(await page.textContent("#explain-caption"), /^Grad-CAM at relu2 \(10×10, enlarged\) for “7” \(\d+\.\d %\): mostly in the /);
    assert.ok(wasm.has("convlens_cpu_train_bg"), "autodiff lives in the training module");
    const coloured = await page.$eval("#explain-canvas", (c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > d[i + 2] + 40) n++;
      return n / (d.length / 4);
    });
    assert.ok(coloured > 0.02 && coloured < 0.6, `the heat covers part of the image: ${coloured}`);
    await page.selectOption("#explain-method", "integrated-gradients");
    await page.waitForFunction(() => document.body.dataset.explain === "integrated-gradients", null, { timeout: 300_000 });
    assert.match(await page.textContent("#explain-caption"), /attributions add up to [\d.]+, the score rose by [\d.]+/);
    await page.selectOption("#explain-class", "1");
    await page.waitForFunction(() => document.body.dataset.explainClass === "1", null, { timeout: 300_000 });
    await page.selectOption("#explain-method", "gradcam");
    await page.selectOption("#explain-class", "");
    await page.waitForFunction(() => document.body.dataset.explain === "gradcam" && document.body.dataset.explainClass === "7", null, { timeout: 300_000 });
    await page.screenshot({ path: join(ARTIFACTS, "page-why.png"), fullPage: true });
    // The README's first picture: the classes, the explanation and the top of the feature maps
    // (with the receptive field of the pixel pointed at last).
    const top = await page.locator("#scores-panel").boundingBox();
    const scrolled = await page.evaluate(() => window.scrollY);
    await page.screenshot({ path: join(ARTIFACTS, "page-top.png"), fullPage: true, clip: { x: 0, y: top.y + scrolled - 8, width: 1100, height: 1150 } });

    // The confusion matrix on the 500 held-out digits, then one cell's images.
    await page.click("#evaluate");
    await page.waitForFunction(() => document.body.dataset.confusion !== undefined, null, { timeout: 300_000 });
    const cells = await page.$$eval("#confusion tbody button", (bs) => bs.map((b) => [b.dataset.cell, Number(b.textContent), b.className]));
    assert.equal(cells.length, 100);
    assert.equal(cells.reduce((a, [, n]) => a + n, 0), 500);
    const right = cells.filter(([cell]) => cell.split("-")[0] === cell.split("-")[1]).reduce((a, [, n]) => a + n, 0);
    const wrong = cells.filter(([, n, c]) => c === "wrong");
    assert.equal(500 - right, Number(await page.locator("body").getAttribute("data-confusion")));
    assert.ok(wrong.length > 0, "the shipped model makes a few mistakes on 500 digits");
    assert.match(await page.textContent("#evaluate-status"), /^500 held-out mnist images: 9\d\.\d % right, \d+ mistakes\.$/);
    const [cell, count] = wrong[0];
    await page.click(`#confusion button[data-cell="${cell}"]`);
    await page.waitForFunction((c) => document.body.dataset.mistakes === c, cell, { timeout: 300_000 });
    const tiles = await page.$$eval("#mistake-list canvas", (cs) => cs.map((c) => c.getAttribute("aria-label")));
    assert.equal(tiles.length, Math.min(count, 16));
    const [label, said] = cell.split("-");
    for (const t of tiles) assert.match(t, new RegExp(`a “${label}” the model read as “${said}”; Grad-CAM mostly in the `));
    await page.screenshot({ path: join(ARTIFACTS, "page-mistakes.png"), fullPage: true });
    // The README's picture: the explanation and the mistakes, side by side in one shot.
    await page.locator("#explain-panel").screenshot({ path: join(ARTIFACTS, "explain-panel.png") });
    await page.locator("#mistakes-panel").screenshot({ path: join(ARTIFACTS, "mistakes-panel.png") });
    // Enter on a mistake puts it on the pad.
    await page.focus("#mistake-list canvas");
    await page.keyboard.press("Enter");
    await settled(page);

    // Every control can take the keyboard's focus; the canvases have text alternatives; the
    // audit finds nothing serious.
    const unreachable = await page.$$eval("button, select, input, a[href], [role=button]", (els) =>
      els.filter((e) => e.offsetParent !== null && !e.disabled && e.tabIndex < 0 && e.type !== "file").map((e) => e.id || e.outerHTML.slice(0, 60)),
    );
    assert.deepEqual(unreachable, []);
    const unlabelled = await page.$$eval("canvas", (cs) =>
      cs.filter((c) => c.offsetParent !== null && !c.getAttribute("aria-label") && !c.getAttribute("aria-labelledby") && c.getAttribute("aria-hidden") !== "true").map((c) => c.id || c.className),
    );
    assert.deepEqual(unlabelled, []);
    const violations = await audit(page);
    assert.deepEqual(violations, [], violations.join("\n"));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("one short epoch of training moves the progress bar and the charts, the loss falls, and a reload restores the model", { timeout: 900_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const { page, errors, wasm } = await openPage(browser, "", { width: 1100, height: 900 });
    await page.waitForFunction(() => document.body.dataset.model === "lenet5-mnist", null, { timeout: 300_000 });
    // Without WebGPU the first download is the CPU inference module alone; training fetches the
    // CPU training module when it starts.
    assert.deepEqual([...wasm], ["convlens_cpu_bg"]);
    await page.fill("#train-epochs", "2");
    await page.fill("#train-batch", "32");
    await page.selectOption("#train-model", "lenet5");
    await page.selectOption("#train-data", "mnist");
    await page.click("#train-start");
    await page.waitForFunction(() => Number(document.getElementById("chart-loss").dataset.points) > 5);
    await page.screenshot({ path: join(ARTIFACTS, "page-training.png"), fullPage: true });
    // The page answers while the worker trains; pause stops it, resume goes on.
    assert.equal(await page.evaluate(() => 1 + 1), 2);
    await page.click("#train-pause");
    await page.waitForFunction(() => document.body.dataset.training === "paused");
    assert.equal(await page.textContent("#train-start"), "Resume");
    assert.deepEqual([...wasm].sort(), ["convlens_cpu_bg", "convlens_cpu_train_bg"]);
    const pausedAt = await page.locator("#train-progress").evaluate((p) => p.value);
    assert.ok(pausedAt > 0 && pausedAt < 1, `paused at ${pausedAt}`);
    // Paused, not stopped: nothing moves for a second, then Resume goes on from there.
    await page.waitForTimeout(1000);
    assert.equal(await page.locator("#train-progress").evaluate((p) => p.value), pausedAt);
    await page.click("#train-start");
    await page.waitForFunction((at) => document.getElementById("train-progress").value > at, pausedAt);
    await page.waitForFunction(() => document.body.dataset.training === "idle" && document.body.dataset.model === "saved", null, { timeout: 600_000 });
    assert.equal(await page.locator("#train-progress").evaluate((p) => p.value), 1);
    const loss = await page.locator("#chart-loss").evaluate((c) => ({ ...c.dataset }));
    assert.ok(Number(loss.last) < Number(loss.first), `the loss fell: ${loss.first} → ${loss.last}`);
    assert.equal(await page.locator("#chart-accuracy").getAttribute("data-points"), "4", "training and validation accuracy, 2 epochs");
    assert.equal(await page.locator("#chart-lr").getAttribute("data-points"), "4", "lr before and after each epoch");
    const stats = await page.textContent("#train-stats");
    const accuracy = Number(stats.match(/validation accuracy ([\d.]+) %/)?.[1]);
    assert.ok(accuracy > 60, `after one epoch on 2,000 digits: ${stats}`);
    // After training, what the new model gets wrong on the held-out digits.
    await page.waitForFunction(() => document.body.dataset.confusion !== undefined, null, { timeout: 300_000 });
    assert.equal(await page.locator("#confusion tbody button").count(), 100);
    assert.match(await page.textContent("#evaluate-status"), /^500 held-out mnist images: [\d.]+ % right, \d+ mistakes\.$/);
    await page.screenshot({ path: join(ARTIFACTS, "page-trained.png"), fullPage: true });

    // A reload right after the save (the page says "saved" once IndexedDB has committed it).
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.model === "saved", null, { timeout: 300_000 });
    assert.match(await page.textContent("#model-info"), /restored from this browser/);

    // Download the weights and load them back from the file.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-weights")]);
    assert.equal(download.suggestedFilename(), "lenet5.bpk");
    const weights = readFileSync(await download.path());
    assert.ok(weights.length > 60_000 * 4, `${weights.length} bytes`);
    await page.setInputFiles("#weights-file", { name: "lenet5.bpk", mimeType: "application/octet-stream", buffer: weights });
    await page.waitForFunction(() => document.body.dataset.model === "file");
    assert.match(await page.textContent("#model-info"), /weights from lenet5\.bpk/);
    await drawSeven(page);
    await settled(page);

    await page.reload();
    await page.waitForFunction(() => document.body.dataset.model === "saved", null, { timeout: 300_000 });
    assert.match(await page.textContent("#model-info"), /restored from this browser/);
    assert.match(await page.locator("#model-select option:checked").textContent(), /Your trained LeNet-5 \(mnist, saved/);
    await page.screenshot({ path: join(ARTIFACTS, "page-restored.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("your own network: an ONNX file opened in the page lists its nodes, classifies the drawing, shows its nodes' maps and Grad-CAM, is taught two classes, and downloads as a model file", { timeout: 900_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const { page, errors } = await openPage(browser);
    await page.waitForFunction(() => document.body.dataset.model === "lenet5-mnist", null, { timeout: 300_000 });
    const onnx = readFileSync(join(ROOT, "tests/fixtures/tiny-cnn.onnx"));
    await page.setInputFiles("#weights-file", { name: "tiny-cnn.onnx", mimeType: "application/octet-stream", buffer: onnx });
    await page.waitForFunction(() => document.body.dataset.model === "file", null, { timeout: 300_000 });
    assert.match(await page.textContent("#model-info"), /^Your network: [\d,]+ parameters, input 1×28×28, 3 classes \(circle, square, triangle/);
    assert.match(await page.locator("#model-select option:checked").textContent(), /Your network · tiny-cnn\.onnx/);
    // The node list: names as the file gives them, operators, output shapes, parameters.
    assert.equal(await page.locator("#network-nodes").isHidden(), false);
    const rows = await page.$$eval("#node-table tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.deepEqual(rows.find((r) => r[1] === "conv1"), ["1", "conv1", "Conv", "1×8×28×28", "80"]);
    assert.ok(rows.some((r) => r[1] === "fc" && r[2] === "Gemm" && r[3] === "1×3"), JSON.stringify(rows));
    // The drawing is classified into the file's classes; the maps are the nodes'.
    await drawSeven(page);
    await settled(page);
    const labels = await page.$$eval("#scores li .label", (els) => els.map((e) => e.textContent));
    assert.deepEqual([...labels].sort(), ["circle", "square", "triangle"]);
    await page.waitForSelector('#maps .layer[data-layer="depthwise"]');
    await page.waitForSelector('#maps .layer[data-layer="residual"]');
    await page.click("#explain-go");
    await page.waitForFunction(() => document.body.dataset.explain === "gradcam", null, { timeout: 300_000 });
    assert.match(await page.textContent("#explain-caption"), /Grad-CAM at \S+ \(/);
    // Taught two classes of its own from what the pad shows (a seven, a bar): a fresh head at its
    // last dense node, trained in the page, and the page classifies with it.
    await page.click("#own-teach summary");
    const teach = (i) => `#own-teach-classes .teach-class[data-index="${i}"]`;
    await page.fill(`${teach(0)} input[type=text]`, "seven");
    await page.fill(`${teach(1)} input[type=text]`, "bar");
    for (let i = 0; i < 3; i++) await page.click(`${teach(0)} button[data-source="pad"]`);
    await page.click("#clear");
    await page.locator("#pad").scrollIntoViewIfNeeded();
    const box = await page.locator("#pad").boundingBox();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 8 });
    await page.mouse.up();
    for (let i = 0; i < 3; i++) await page.click(`${teach(1)} button[data-source="pad"]`);
    assert.equal(await page.isDisabled("#own-teach-train"), false);
    await page.click("#own-teach-train");
    await page.waitForFunction(() => document.body.dataset.model === "taught", null, { timeout: 600_000 });
    assert.match(await page.textContent("#own-teach-status"), /trained on 6 examples in [\d.]+ s/);
    assert.match(await page.textContent("#model-info"), /^Your network: [\d,]+ parameters, input 1×28×28, 2 classes \(seven, bar/);
    assert.match(await page.locator("#model-select option:checked").textContent(), /Your network · your classes: seven, bar/);
    await settled(page);
    await page.waitForFunction(() => document.querySelectorAll("#scores li").length === 2, null, { timeout: 300_000 });
    assert.deepEqual((await page.$$eval("#scores li .label", (els) => els.map((e) => e.textContent))).sort(), ["bar", "seven"]);
    // Downloaded as a model file, which opens without the .onnx.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-weights")]);
    const file = readFileSync(await download.path());
    await page.setInputFiles("#weights-file", { name: "mine.bpk", mimeType: "application/octet-stream", buffer: file });
    await page.waitForFunction(() => /mine\.bpk/.test(document.getElementById("model-info").textContent), null, { timeout: 300_000 });
    assert.match(await page.textContent("#model-info"), /2 classes \(seven, bar/);
    // A file with an operator convlens does not read: UNSUPPORTED, naming the node, and the page goes on.
    const selu = Buffer.from(onnx);
    selu.write("Selu", selu.indexOf("Relu"));
    await page.setInputFiles("#weights-file", { name: "selu.onnx", mimeType: "application/octet-stream", buffer: selu });
    await page.waitForFunction(() => /Selu node "relu1" \(index 2\)/.test(document.getElementById("model-status").textContent), null, { timeout: 300_000 });
    await page.screenshot({ path: join(ARTIFACTS, "page-onnx.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("the demo server sends the Content-Security-Policy header to the page and its worker", async () => {
  for (const path of ["", "convlens/worker.js", "convlens/wasm/convlens_cpu.js"]) {
    const policy = (await fetch(demo.url + path)).headers.get("content-security-policy") ?? "";
    for (const directive of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]) {
      assert.ok(policy.includes(directive), `${path || "/"}: ${directive} missing from "${policy}"`);
    }
  }
});

test("a saved model that cannot load is offered for removal, and the page goes on with the digit model", { timeout: 600_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const { page, errors } = await openPage(browser);
    await page.waitForFunction(() => document.body.dataset.model === "lenet5-mnist", null, { timeout: 300_000 });
    // A damaged entry where the package keeps saved models (written as model.save writes it,
    // then the page reloaded at once: the write has committed when the promise resolves).
    await page.evaluate(() => new Promise((ok, fail) => {
      const open = indexedDB.open("convlens-models", 1);
      open.onupgradeneeded = () => open.result.createObjectStore("models", { keyPath: "name" });
      open.onsuccess = () => {
        const tx = open.result.transaction("models", "readwrite");
        tx.objectStore("models").put({ name: "trained-mnist", architecture: "lenet5", classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
          size: 3, bytes: new Uint8Array([1, 2, 3]), savedAt: Date.now() });
        tx.oncomplete = () => { open.result.close(); ok(); };
        tx.onerror = () => fail(tx.error);
      };
      open.onerror = () => fail(open.error);
    }));
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.model === "lenet5-mnist", null, { timeout: 300_000 });
    assert.equal(await page.isVisible("#remove-saved"), true);
    assert.match(await page.textContent("#model-status"), /BAD_WEIGHTS/);
    await drawSeven(page);
    await settled(page);
    assert.equal(await page.evaluate(() => document.body.dataset.top), "7", "the digit model works meanwhile");
    await page.click("#remove-saved");
    await page.waitForFunction(() => document.getElementById("remove-saved").hidden);
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.model === "lenet5-mnist", null, { timeout: 300_000 });
    assert.equal(await page.locator('#model-select option[value="saved"]').count(), 0, "the entry is gone");
    assert.equal(await page.isVisible("#remove-saved"), false);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("a crash inside WebAssembly in the worker: INTERNAL, and the page loads the model again", { timeout: 600_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    // The CPU bindings, served to the page and to the model's first worker (its first two
    // imports) with one classify call made on a forged network pointer: the wasm module reads
    // outside its memory and traps, as a panic would. Later workers get them as they are.
    let served = 0;
    await context.route("**/wasm/convlens_cpu.js", async (route) => {
      if (served++ >= 2) return route.continue();
      const response = await route.fetch();
      const patch = `
        const convlensTestClassify = Network.prototype.classify;
        let convlensTestArmed = true;
        Network.prototype.classify = function (...args) {
          if (!convlensTestArmed) return convlensTestClassify.apply(this, args);
          convlensTestArmed = false;
          const forged = Object.create(Network.prototype);
          forged.__wbg_ptr = 0xfffffff0;
          return convlensTestClassify.apply(forged, args);
        };`;
      await route.fulfill({ response, body: (await response.text()) + patch });
    });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(demo.url);
    await page.waitForFunction(() => document.body.dataset.model === "lenet5-mnist", null, { timeout: 300_000 });
    await drawSeven(page);
    await page.waitForFunction(() => /INTERNAL/.test(document.getElementById("model-status").textContent), null, { timeout: 120_000 });
    await page.waitForFunction(() => /loaded again/.test(document.getElementById("model-status").textContent), null, { timeout: 300_000 });
    await settled(page);
    assert.equal(await page.evaluate(() => document.body.dataset.top), "7", "the reloaded model reads the same drawing");
    assert.match(await page.textContent("#model-status"), /stopped \(.*\); it was restarted/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("a training run that fails says why, and the page goes on classifying", { timeout: 600_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const { page, errors } = await openPage(browser);
    await page.waitForFunction(() => document.body.dataset.model === "lenet5-mnist", null, { timeout: 300_000 });
    // The training module cannot be fetched (a network failure while the worker loads it).
    await page.context().route("**/convlens_cpu_train_bg.wasm", (route) => route.abort());
    await page.fill("#train-epochs", "1");
    await page.selectOption("#train-model", "lenet5");
    await page.selectOption("#train-data", "mnist");
    await page.click("#train-start");
    await page.waitForFunction(() => document.getElementById("train-stats").className === "error", null, { timeout: 300_000 });
    assert.match(await page.textContent("#train-stats"), /^BACKEND: could not load convlens's WebAssembly module "cpu_train"/);
    assert.equal(await page.isEnabled("#train-start"), true, "training can be started again");
    await page.screenshot({ path: join(ARTIFACTS, "page-train-failed.png"), fullPage: true });
    await page.locator("#pad").scrollIntoViewIfNeeded(); // the training panel is below it
    await drawSeven(page);
    await settled(page);
    assert.equal(await page.evaluate(() => document.body.dataset.top), "7");
    assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test("usable at phone width, with a webcam snapshot as input", { timeout: 600_000 }, async () => {
  // Chromium's fake camera (a synthetic test pattern) stands in for a real one.
  const browser = await launch({ webgpu: false, args: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] });
  try {
    const { page, errors } = await openPage(browser, "", { width: 390, height: 844 });
    await page.waitForFunction(() => document.body.dataset.model === "lenet5-mnist", null, { timeout: 300_000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px too wide)`);
    await drawSeven(page);
    await page.waitForFunction(() => document.body.dataset.top !== undefined);
    await page.screenshot({ path: join(ARTIFACTS, "page-phone.png"), fullPage: true });

    await page.click("#clear");
    assert.equal(await page.isVisible("#webcam"), true, "a camera exists, so the button shows");
    await page.click("#webcam");
    await page.waitForFunction(() => document.getElementById("camera").videoWidth > 0);
    assert.equal(await page.textContent("#webcam"), "Snapshot");
    await page.click("#webcam");
    await settled(page);
    assert.equal(await page.locator("#scores li").count(), 10, "the snapshot was classified");
    await page.screenshot({ path: join(ARTIFACTS, "page-webcam.png"), fullPage: true });
    // The camera is released when the page is hidden.
    const released = await page.evaluate(() => {
      const tracks = document.getElementById("camera").srcObject.getTracks();
      Object.defineProperty(document, "hidden", { value: true, configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
      return { ended: tracks.every((t) => t.readyState === "ended"), source: document.getElementById("camera").srcObject, label: document.getElementById("webcam").textContent };
    });
    assert.deepEqual(released, { ended: true, source: null, label: "Webcam" });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("the photo model: fetched on demand, a gallery photo's top 5 and preparation, chosen blocks' maps, the webcam live, and teaching it two classes", { timeout: 1_800_000 }, async () => {
  const browser = await launch({ webgpu: false, args: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] });
  try {
    const { page, errors } = await openPage(browser, "?backend=cpu");
    const photoSettled = () =>
      page.waitForFunction(() => document.body.dataset.photoTop && !document.body.dataset.photoBusy, null, { timeout: 600_000 });
    const top5 = () => page.$$eval("#photo-top5 li", (els) => els.map((e) => e.dataset.label));
    assert.equal(await page.isVisible("#photo-work"), false, "nothing fetched before it is asked for");
    await page.click("#photo-load");
    await page.waitForFunction(() => document.body.dataset.photoModel === "ready", null, { timeout: 600_000 });
    await photoSettled();
    assert.match(await page.textContent("#photo-status"), /4,652,008 parameters, 1000 classes/);
    // The first gallery photo (chelsea, a tabby) is shown as the network gets it, with its top 5.
    assert.ok((await top5()).some((l) => /tabby|tiger cat|Egyptian cat/.test(l)), (await top5()).join(" / "));
    assert.match(await page.textContent("#photo-prep"), /87\.5 % of the shorter side, resized to 224×224/);
    // Only the chosen blocks are read back and drawn.
    assert.equal(await page.evaluate(() => document.body.dataset.photoMaps), "stem,block1,block6,block16");
    assert.equal(await page.locator("#photo-maps .layer").count(), 4);
    await page.click('#photo-gallery img[data-photo="coffee.png"]');
    await page.waitForFunction(() => /espresso|cup/.test(document.body.dataset.photoTop ?? ""), null, { timeout: 600_000 });
    await page.check('#photo-layers input[value="block9"]');
    await page.waitForFunction(() => document.body.dataset.photoMaps === "stem,block1,block6,block9,block16", null, { timeout: 600_000 });
    // Why the top class: Grad-CAM at the photo model's head (7×7), on the CPU module.
    await page.click("#photo-why");
    await page.waitForFunction(() => /espresso|cup/.test(document.body.dataset.photoWhy ?? ""), null, { timeout: 600_000 });
    assert.match(await page.textContent("#photo-why-caption"), /^Grad-CAM at head \(7×7, enlarged\) for “[^”]+” \([\d.]+ %\): mostly in the /);
    await page.screenshot({ path: join(ARTIFACTS, "page-photos.png"), fullPage: true });

    // The webcam, live: frames are classified one after another (the latest wins).
    await page.click("#photo-webcam");
    await page.waitForFunction(() => Number(document.body.dataset.photoFrames) >= 3, null, { timeout: 600_000 });
    await page.click("#photo-webcam");
    await page.waitForFunction(() => /frames at [\d.]+ frames\/s/.test(document.getElementById("photo-fps").textContent));

    // Teach two classes: the camera's test pattern, and the cat photo.
    await page.fill('#teach-classes .teach-class[data-index="0"] input[type=text]', "pattern");
    await page.fill('#teach-classes .teach-class[data-index="1"] input[type=text]', "cat");
    for (let i = 0; i < 3; i++) await page.click('#teach-classes .teach-class[data-index="0"] button[data-source="webcam"]');
    await page.click('#photo-gallery img[data-photo="chelsea.png"]');
    await photoSettled();
    for (let i = 0; i < 3; i++) await page.click('#teach-classes .teach-class[data-index="1"] button[data-source="photo"]');
    assert.equal(await page.isDisabled("#teach-train"), false);
    await page.click("#teach-train");
    await page.waitForFunction(() => document.body.dataset.taught === "pattern,cat", null, { timeout: 900_000 });
    assert.match(await page.textContent("#teach-status"), /trained on 6 examples in [\d.]+ s/);
    await page.waitForFunction(() => document.body.dataset.photoTop === "cat" && !document.body.dataset.photoBusy, null, { timeout: 600_000 });
    await page.click("#photo-webcam");
    await page.waitForFunction(() => document.body.dataset.photoTop === "pattern", null, { timeout: 600_000 });
    await page.click("#photo-webcam");
    await page.screenshot({ path: join(ARTIFACTS, "page-teach.png"), fullPage: true });

    // Saved as a file with its labels inside, and loaded again.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#teach-download")]);
    const saved = join(ARTIFACTS, "my-classes.bpk");
    await download.saveAs(saved);
    await page.evaluate(() => delete document.body.dataset.taught);
    await page.setInputFiles("#teach-file", saved);
    await page.waitForFunction(() => document.body.dataset.taught === "pattern,cat", null, { timeout: 600_000 });
    assert.match(await page.textContent("#teach-status"), /loaded my-classes\.bpk: pattern, cat/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
