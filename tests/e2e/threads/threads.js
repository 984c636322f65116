// The package with no bundler on a cross-origin isolated page (tests/e2e/npm-threads.test.mjs):
// worker mode gets the threaded CPU module, whose results equal one thread's, and trains.
import * as convlens from "/convlens/index.js";
import { fetchIdx } from "/app/images.js";
import { fuzz } from "/fuzz/fuzz-cases.mjs";

const { Model } = convlens;

async function codeOf(promise) {
  try {
    await promise;
    return "resolved";
  } catch (err) {
    return err.code ?? String(err);
  }
}

async function run() {
  const [pixels, labels] = await Promise.all(["images", "labels"].map((n) => fetchIdx(`/data/mnist-test-${n}.idx`)));
  const n = 64;
  const batch = { data: Float32Array.from(pixels.data.subarray(0, n * 784), (v) => v / 255), shape: [n, 1, 28, 28] };
  const scores = async (model) =>
    (await model.classify(batch)).map((top) => [...top].sort((a, b) => a.index - b.index).map((c) => c.score));
  const threaded = await Model.load("lenet5-mnist", { backend: "cpu", worker: true });
  const single = await Model.load("lenet5-mnist", { backend: "cpu", worker: true, threads: 1 });
  const main = await Model.load("lenet5-mnist", { backend: "cpu" });
  const [a, b, c] = [await scores(threaded), await scores(single), await scores(main)];
  let diff = 0;
  let diffMain = 0;
  a.forEach((row, i) => row.forEach((p, j) => {
    diff = Math.max(diff, Math.abs(p - b[i][j]));
    diffMain = Math.max(diffMain, Math.abs(p - c[i][j]));
  }));
  const top = a.map((row) => row.indexOf(Math.max(...row)));
  const correct = top.filter((t, i) => t === labels.data[i]).length;

  // Training on the pool: a fresh LeNet-5 on 1,000 held-out digits (trained and tested on the
  // same images: this checks that it learns, not how well it generalises).
  const fresh = await Model.load({ architecture: "lenet5" }, { backend: "cpu", worker: true });
  const data = { images: pixels.data.slice(0, 1000 * 784), labels: labels.data.slice(0, 1000), shape: [1, 28, 28] };
  const before = await fresh.evaluate(data);
  const history = await fresh.fit(data, { epochs: 3, batchSize: 32, learningRate: 3e-3 });
  const after = await fresh.evaluate(data);

  const bad = [await codeOf(Model.load("lenet5-mnist", { worker: true, threads: 0 })),
    await codeOf(Model.load("lenet5-mnist", { threads: 1.5 }))];
  const result = {
    isolated: crossOriginIsolated,
    cores: navigator.hardwareConcurrency,
    threads: [threaded.backend.threads, single.backend.threads, main.backend.threads, fresh.backend.threads],
    diff,
    diffMain,
    correct,
    trainLoss: history.map((e) => e.trainLoss),
    before: before.accuracy,
    after: after.accuracy,
    bad,
  };
  for (const m of [threaded, single, main, fresh]) m.dispose();
  // The fuzz cases of the Node test on the threaded module (a panic there would abort the pool).
  result.fuzz = await fuzz({
    api: convlens,
    digits: { images: pixels.data.slice(0, 64 * 784), labels: labels.data.slice(0, 64) },
    seed: 20261129,
    cases: 500,
    loadOptions: { backend: "cpu", worker: true },
  });
  return result;
}

run()
  .then((result) => { window.result = result; })
  .catch((err) => { window.result = { error: `${err.code ?? ""} ${err.message ?? err}`.trim() }; })
  .finally(() => { document.getElementById("out").textContent = JSON.stringify(window.result, null, 1); });
