// "Teach it your own classes", for any panel: two to five named classes, each with examples
// (from the sources the panel offers — the webcam, the drawing pad, the photo on show — or image
// files), and Train: the panel's network with a fresh last layer of your classes (`load`), that
// layer trained alone on the examples (`fit` with `train: "head"`), handed to `onTrained`.

const MAX_CLASSES = 5;

/**
 * Builds the class rows in `classes` and wires `train` and `status` (elements).
 * `sources`: `{ [key]: { label, take: () => Promise<ImageBitmap | HTMLCanvasElement> } }`, a button each per row.
 * `load(labels)`: the network with a fresh head of these labels (a Model). `what`: how the
 * status line names it while loading. `onTrained(model, labels)`; `onError(err)`.
 */
export function setupTeacher({ classes, train, status, sources, load, what, onTrained, onError }) {
  const rows = [];

  function row(i) {
    const el = document.createElement("div");
    el.className = "row wrap teach-class";
    el.dataset.index = String(i);
    const name = document.createElement("input");
    name.type = "text";
    name.placeholder = `class ${i + 1}${i < 2 ? "" : " (optional)"}`;
    name.setAttribute("aria-label", `name of class ${i + 1}`);
    name.maxLength = 40;
    const count = document.createElement("span");
    count.className = "hint count";
    const buttons = Object.entries(sources).map(([key, { label, take }]) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.source = key;
      b.addEventListener("click", async () => {
        try {
          rows[i].examples.push(await take());
          update();
        } catch (err) {
          onError(err);
        }
      });
      return b;
    });
    const file = document.createElement("input");
    file.type = "file";
    file.accept = "image/*";
    file.multiple = true;
    file.hidden = true;
    file.addEventListener("change", () => {
      for (const f of file.files) rows[i].examples.push(f);
      update();
    });
    const fileLabel = document.createElement("label");
    fileLabel.className = "button";
    fileLabel.append("files…", file);
    el.append(name, ...buttons, fileLabel, count);
    rows[i] = { name, count, examples: [] };
    name.addEventListener("input", () => update());
    return el;
  }

  /** The named classes with examples. */
  const named = () => rows.filter((c) => c.name.value.trim() && c.examples.length);

  /** Counts, the Train button and (unless `keepStatus`) the status line follow the examples. */
  function update(keepStatus = false) {
    for (const c of rows) c.count.textContent = `${c.examples.length} example${c.examples.length === 1 ? "" : "s"}`;
    const ready = named();
    train.disabled = ready.length < 2;
    if (keepStatus) return;
    status.className = "hint";
    status.textContent = ready.length < 2 ? "name at least two classes and give each an example" : `${ready.length} classes ready`;
  }

  train.addEventListener("click", async () => {
    const chosen = named();
    train.disabled = true;
    try {
      const labels = chosen.map((c) => c.name.value.trim());
      status.className = "hint";
      status.textContent = `a fresh last layer on ${what()}…`;
      const next = await load(labels);
      const images = chosen.flatMap((c) => c.examples);
      const targets = chosen.flatMap((c, k) => c.examples.map(() => k));
      const t0 = performance.now();
      let history;
      try {
        history = await next.fit(
          { images, labels: targets },
          {
            epochs: 8,
            batchSize: 8,
            learningRate: 0.01,
            train: "head",
            validationSplit: 0,
            onEpoch: (e) => (status.textContent = `epoch ${e.epoch}/8: loss ${e.trainLoss.toFixed(3)}, ${(100 * e.trainAccuracy).toFixed(0)} % right`),
          },
        );
      } catch (err) {
        next.dispose();
        throw err;
      }
      const seconds = (performance.now() - t0) / 1000;
      const last = history.at(-1);
      status.className = "hint";
      status.textContent = `trained on ${images.length} examples in ${seconds.toFixed(1)} s: ${(100 * last.trainAccuracy).toFixed(0)} % right in the last epoch`;
      await onTrained(next, labels);
    } catch (err) {
      onError(err);
    } finally {
      update(true);
    }
  });

  classes.replaceChildren(...Array.from({ length: MAX_CLASSES }, (_, i) => row(i)));
  update();
}
