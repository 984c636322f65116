import { Model } from "convlens";

// A "1" drawn on a canvas: a light stroke on black, as MNIST's digits are.
const canvas = document.getElementById("digit");
const ctx = canvas.getContext("2d");
ctx.fillStyle = "#000";
ctx.fillRect(0, 0, canvas.width, canvas.height);
ctx.strokeStyle = "#fff";
ctx.lineWidth = 12;
ctx.beginPath();
ctx.moveTo(70, 25);
ctx.lineTo(70, 115);
ctx.stroke();

const model = await Model.load("lenet5-mnist");
const [top] = await model.classify(canvas, { topK: 1 });
document.getElementById("result").textContent = `${top.label} (${(100 * top.score).toFixed(1)} %) on ${model.backend.name}`;
document.body.dataset.top = top.label;
