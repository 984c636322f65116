// The training panel: a fresh network trained in a Web Worker with live charts.
import { Model, ConvlensError } from "../convlens/index.js";
import { drawChart } from "./charts.js";
import { fetchDataset } from "./images.js";

const $ = (id) => document.getElementById(id);

/**
 * Wires the panel. `architectures` and `datasets` are the registry's (architectures(),
 * datasets()); `preprocess(dataset)` is how that dataset's shipped model prepares an image;
 * `backend()` gives the backend to train on; `onTrained(model, summary)` receives the trained
 * model when training ends (completed or stopped).
 */
export function setupTraining({ architectures, datasets, preprocess, backend, onTrained, onError }) {
  // The training subsets are 28×28 greyscale: the architectures that read such images.
  const trainable = architectures.filter((a) => a.inputShape.join() === "1,28,28");
  $("train-model").replaceChildren(
    ...trainable.map((a) => new Option(`${a.title} (${a.parameters.toLocaleString("en")} parameters)`, a.name)),
  );
  // The page's training subsets (scripts/fetch-data.sh): 2,000 images of each dataset.
  $("train-data").replaceChildren(...datasets.map((d) => new Option(`${d.title} (2,000)`, d.name)));
  const labels = Object.fromEntries(datasets.map((d) => [d.name, d.labels]));
  let run = null; // { model, controller, epochsDone, history, steps, … }
  const charts = () => {
    const h = run?.history ?? [];
    drawChart($("chart-loss"), [
      { name: "step", points: run?.steps ?? [] },
      { name: "train", points: h.map((e) => [e.epoch, e.trainLoss]), dots: true },
      { name: "validation", points: h.map((e) => [e.epoch, e.validation.loss]), dots: true },
    ]);
    drawChart($("chart-accuracy"), [
      { name: "validation", points: h.map((e) => [e.epoch, e.validation.accuracy]), dots: true },
      { name: "train", points: h.map((e) => [e.epoch, e.trainAccuracy]), dots: true },
    ], { yMax: 1 });
    drawChart($("chart-lr"), [{ name: "lr", points: h.flatMap((e) => [[e.epoch - 1, e.lr], [e.epoch, e.nextLr]]), dots: true }], { log: true });
  };
  const buttons = (state) => {
    $("train-start").disabled = state === "running";
    $("train-start").textContent = state === "paused" ? "Resume" : "Start";
    $("train-pause").disabled = state !== "running";
    $("train-stop").disabled = state === "idle";
    document.body.dataset.training = state;
  };
  charts();
  buttons("idle");

  // One fit() for the whole run: Pause and Resume suspend it exactly (Adam's moments, the
  // learning-rate schedule and the position in the data are kept); Stop aborts it.
  async function train() {
    const { model, total } = run;
    run.controller = new AbortController();
    buttons("running");
    try {
      await model.fit(run.train, {
        epochs: total,
        batchSize: run.batchSize,
        learningRate: run.lr,
        validationData: run.validation,
        readLossEvery: 5,
        signal: run.controller.signal,
        onStep: (e) => {
          const progress = (e.epoch - 1 + e.step / e.stepsPerEpoch) / total;
          $("train-progress").value = progress;
          if (e.loss !== null) {
            run.steps.push([e.epoch - 1 + e.step / e.stepsPerEpoch, e.loss]);
            charts();
          }
          $("train-stats").textContent =
            `epoch ${e.epoch}/${total} · step ${e.step}/${e.stepsPerEpoch} · ${e.imagesPerSecond.toFixed(0)} images/s · lr ${e.lr.toExponential(0)}`;
        },
        onEpoch: (e) => {
          run.history.push(e);
          run.epochsDone = e.epoch;
          charts();
        },
      });
      finish("done");
    } catch (err) {
      if (err instanceof ConvlensError && err.code === "ABORTED") {
        finish("stopped");
      } else {
        buttons("idle");
        onError(err);
        run.model.dispose(); // the failed run's model is not used again
        run = null;
      }
    }
  }

  function finish(how) {
    const last = run.history.at(-1);
    const summary = {
      architecture: run.model.info.architecture,
      dataset: run.dataset,
      preprocess: run.model.info.preprocess,
      epochs: run.epochsDone,
      accuracy: last?.validation.accuracy ?? null,
      how,
    };
    $("train-stats").textContent = `${how}: ${summary.epochs} epoch(s)` +
      (last ? `, validation accuracy ${(100 * last.validation.accuracy).toFixed(1)} %` : "");
    if (how === "done") $("train-progress").value = 1;
    buttons("idle");
    const model = run.model;
    run = null;
    onTrained(model, summary);
  }

  $("train-start").addEventListener("click", async () => {
    if (run) {
      if (run.model.resume()) buttons("running");
      return;
    }
    const dataset = $("train-data").value;
    const num = (id, lo, hi) => {
      const v = Number($(id).value);
      if (!(v >= lo && v <= hi)) throw new Error(`${$(id).labels[0]?.textContent.trim() ?? id} must be between ${lo} and ${hi}`);
      return v;
    };
    try {
      const total = Math.round(num("train-epochs", 1, 50));
      const batchSize = Math.round(num("train-batch", 1, 512));
      const lr = num("train-lr", 1e-5, 1);
      buttons("running");
      $("train-stats").textContent = "loading the data and a fresh network…";
      const [trainSet, validationSet] = await Promise.all([fetchDataset(dataset, "train"), fetchDataset(dataset, "test")]);
      const model = await Model.load(
        { architecture: $("train-model").value, classes: labels[dataset] },
        // Drawings are prepared as the shipped model of this dataset prepares them.
        { backend: backend(), worker: true, preprocess: preprocess(dataset) },
      );
      run = { model, dataset, train: trainSet, validation: validationSet, total, batchSize, lr, epochsDone: 0, history: [], steps: [] };
      $("train-progress").value = 0;
      charts();
      await train();
    } catch (err) {
      buttons("idle");
      onError(err);
    }
  });
  $("train-pause").addEventListener("click", async () => {
    if (!run) return;
    $("train-pause").disabled = true;
    if (await run?.model.pause()) buttons("paused");
  });
  $("train-stop").addEventListener("click", () => run?.controller?.abort());
}
