// Why the model says what it says: explanations of the current input (Grad-CAM, saliency,
// integrated gradients), and its mistakes on held-out images — the confusion matrix, and each
// cell's images with what the model looked at.
import { drawHeat, heatColour, legend } from "./heat.js";
import { fetchDataset, SIZE } from "./images.js";

const $ = (id) => document.getElementById(id);
const METHODS = { gradcam: "Grad-CAM", saliency: "saliency", "integrated-gradients": "integrated gradients" };

/** Where in an `h`×`w` heat map the evidence is, in words (for people who cannot see it). */
export function whereHeat(heat, [h, w]) {
  let [total, cy, cx, max, at] = [0, 0, 0, -1, 0];
  heat.forEach((v, i) => {
    total += v;
    cy += v * Math.floor(i / w);
    cx += v * (i % w);
    if (v > max) [max, at] = [v, i];
  });
  if (total === 0) return "no evidence anywhere (the map is empty)";
  const part = (v, n, names) => names[Math.min(2, Math.floor((3 * v) / n))];
  const vertical = part(cy / total, h, ["top", "middle", "bottom"]);
  const horizontal = part(cx / total, w, ["left", "centre", "right"]);
  const hot = heat.filter((v) => v > 0.5).length;
  return `mostly in the ${vertical === "middle" && horizontal === "centre" ? "centre" : `${vertical} ${horizontal}`}, ` +
    `strongest at row ${Math.floor(at / w) + 1}, column ${(at % w) + 1} of ${h}×${w}; ` +
    `${Math.round((100 * hot) / (h * w))} % of the image is above half the strongest`;
}

/**
 * Wires the explanation panel. `model()` is the current model, `input()` the current input.
 * Returns `follow(input)`, called for every new input: once Explain was pressed, each new
 * input is explained.
 */
export function setupExplain({ model, input, onError }) {
  let on = false;
  let running = false;
  let again = false;
  $("explain-legend").replaceChildren(legend((t) => heatColour(t), ["0", "0.5", "1"], "evidence for the class (0: none, 1: the strongest)"));
  const run = async () => {
    const m = model();
    const current = input();
    if (!m || !current) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    document.body.dataset.explain = "running";
    try {
      do {
        again = false;
        const method = $("explain-method").value;
        const classIndex = $("explain-class").value === "" ? undefined : Number($("explain-class").value);
        const [e, prepared] = await Promise.all([m.explain(current, { method, classIndex }), m.prepare(current)]);
        drawHeat($("explain-canvas"), prepared.data, e.shape, e.heat);
        const what = `${METHODS[e.method]}${e.layer ? ` at ${e.layer} (${e.rawShape.join("×")}, enlarged)` : ""} for “${e.label}” (${(100 * e.score).toFixed(1)} %)`;
        const where = whereHeat(e.heat, e.shape);
        const sums = e.completeness
          ? `; the attributions add up to ${e.completeness.attributions.toFixed(2)}, the score rose by ${e.completeness.scoreChange.toFixed(2)} from a black image`
          : "";
        $("explain-caption").textContent = `${what}: ${where}${sums}.`;
        $("explain-canvas").setAttribute("aria-label", `heat map of ${what}, ${where}`);
        document.body.dataset.explain = e.method;
        document.body.dataset.explainClass = e.label;
      } while (again);
    } catch (err) {
      delete document.body.dataset.explain;
      onError(err);
    }
    running = false;
  };
  $("explain-go").addEventListener("click", () => {
    on = true;
    run();
  });
  $("explain-method").addEventListener("change", () => on && run());
  $("explain-class").addEventListener("change", () => on && run());
  return {
    follow: () => on && run(),
    /** The class picker's choices, for a new model's labels. */
    classes(labels) {
      $("explain-class").replaceChildren(new Option("the predicted one", ""), ...labels.map((l, i) => new Option(l, String(i))));
    },
  };
}

/**
 * Wires the mistakes panel: Evaluate runs `model().evaluate` on the held-out images of
 * `dataset()`; the confusion matrix is a table of buttons; a cell lists its images with
 * Grad-CAM of the class the model gave them; an image can be sent to the pad (`onPick`).
 */
export function setupMistakes({ model, dataset, onPick, onError }) {
  let current = null; // { data, report, model }
  const show = async (label, predicted) => {
    const { data, report, model: m } = current;
    const picked = [];
    for (let i = 0; i < data.labels.length && picked.length < 16; i++) {
      if (data.labels[i] !== label) continue;
      const miss = report.mistakes.find((x) => x.index === i);
      if ((predicted === label && !miss) || miss?.predicted === predicted) picked.push(miss ?? { index: i, label, predicted, score: null });
    }
    const labels = m.info.classes;
    const heading = document.createElement("h3");
    const count = report.confusion.counts[label * report.confusion.classes + predicted];
    heading.textContent = label === predicted
      ? `${count} “${labels[label]}” read right${count > picked.length ? ` (the first ${picked.length})` : ""}`
      : `${count} “${labels[label]}” read as “${labels[predicted]}”${count > picked.length ? ` (the first ${picked.length})` : ""} — the heat shows what made the model say “${labels[predicted]}”`;
    const list = document.createElement("div");
    list.className = "mistake-tiles";
    $("mistake-list").replaceChildren(heading, list);
    for (const item of picked) {
      const pixels = Float32Array.from(data.images.subarray(item.index * SIZE * SIZE, (item.index + 1) * SIZE * SIZE), (v) => v / 255);
      const image = { data: pixels, shape: [1, SIZE, SIZE] };
      const figure = document.createElement("figure");
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 84;
      canvas.tabIndex = 0;
      canvas.setAttribute("role", "button");
      const caption = document.createElement("figcaption");
      const said = item.score == null ? "" : ` (${(100 * item.score).toFixed(0)} %; “${labels[label]}” ${(100 * item.labelScore).toFixed(0)} %)`;
      caption.textContent = `#${item.index}: “${labels[label]}” read as “${labels[predicted]}”${said}`;
      figure.append(canvas, caption);
      list.append(figure);
      const pick = () => onPick(image);
      canvas.addEventListener("click", pick);
      canvas.addEventListener("keydown", (e) => e.key === "Enter" && pick());
      try {
        // Datasets are evaluated as they are (not prepared): explained the same way.
        const e = await m.explain(image, { classIndex: predicted, preprocess: { kind: "resize" } });
        drawHeat(canvas, pixels, e.shape, e.heat);
        canvas.setAttribute("aria-label", `held-out image ${item.index}, a “${labels[label]}” the model read as “${labels[predicted]}”; Grad-CAM ${whereHeat(e.heat, e.shape)}; Enter puts it on the pad`);
      } catch (err) {
        onError(err);
        return;
      }
    }
    document.body.dataset.mistakes = `${label}-${predicted}`;
  };
  const table = (report, labels) => {
    const { classes, counts } = report.confusion;
    const t = document.createElement("table");
    t.id = "confusion";
    const caption = document.createElement("caption");
    caption.textContent = `Rows: the true class; columns: what the model said. ${report.images} held-out images, ${(100 * report.accuracy).toFixed(1)} % right, ${report.mistakes.length} mistakes. Press a cell to see its images.`;
    t.append(caption);
    const head = t.createTHead().insertRow();
    head.append(Object.assign(document.createElement("th"), { textContent: "true \\ said", scope: "col" }));
    for (let p = 0; p < classes; p++) head.append(Object.assign(document.createElement("th"), { textContent: labels[p], scope: "col" }));
    const body = t.createTBody();
    for (let l = 0; l < classes; l++) {
      const row = body.insertRow();
      row.append(Object.assign(document.createElement("th"), { textContent: labels[l], scope: "row" }));
      let total = 0;
      for (let p = 0; p < classes; p++) total += counts[l * classes + p];
      for (let p = 0; p < classes; p++) {
        const n = counts[l * classes + p];
        const cell = row.insertCell();
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = String(n);
        button.className = l === p ? "right" : n ? "wrong" : "none";
        button.disabled = n === 0;
        button.setAttribute("aria-label", `${n} “${labels[l]}” read as “${labels[p]}”`);
        // Shaded by the share of the true class's images (wrong cells on a square-root scale, so
        // that one mistake in fifty still shows).
        const share = total ? n / total : 0;
        if (n) button.style.setProperty("--share", (l === p ? 0.6 * share : Math.max(0.3, 0.6 * Math.sqrt(share))).toFixed(3));
        button.dataset.cell = `${l}-${p}`;
        button.addEventListener("click", () => show(l, p).catch(onError));
        cell.append(button);
      }
    }
    return t;
  };
  const evaluate = async () => {
    const m = model();
    const name = dataset();
    if (!m || !name) return;
    $("evaluate").disabled = true;
    $("evaluate-status").textContent = `evaluating on the held-out ${name} images…`;
    try {
      const data = await fetchDataset(name, "test");
      const report = await m.evaluate(data);
      current = { data, report, model: m };
      $("confusion-box").replaceChildren(table(report, m.info.classes));
      $("mistake-list").replaceChildren();
      $("evaluate-status").textContent = `${report.images} held-out ${name} images: ${(100 * report.accuracy).toFixed(1)} % right, ${report.mistakes.length} mistakes.`;
      document.body.dataset.confusion = String(report.mistakes.length);
    } catch (err) {
      onError(err);
    } finally {
      $("evaluate").disabled = false;
    }
  };
  $("evaluate").addEventListener("click", evaluate);
  return {
    evaluate,
    /** A new model: its old matrix no longer applies. */
    reset() {
      current = null;
      $("confusion-box").replaceChildren();
      $("mistake-list").replaceChildren();
      delete document.body.dataset.confusion;
    },
  };
}
