// The drawing pad: pen and eraser strokes with the mouse, a finger or a stylus.

/**
 * Sets up `#pad`; calls `onChange(pad)` with the pad itself after every stroke segment (the
 * model prepares the drawing its own way).
 */
export function setupPad(pad, { onChange, tool }) {
  const ctx = pad.getContext("2d", { willReadFrequently: true });
  const api = {
    clear() {
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, pad.width, pad.height);
      onChange(null);
    },
    /** Shows an image on the pad (scaled to fit) and classifies it. */
    show(source, width, height) {
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, pad.width, pad.height);
      const s = Math.min(pad.width / width, pad.height / height);
      ctx.imageSmoothingEnabled = width > 28;
      ctx.drawImage(source, (pad.width - width * s) / 2, (pad.height - height * s) / 2, width * s, height * s);
    },
    read: () => pad,
  };
  let last = null;
  const point = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener("pointerdown", (e) => {
    pad.setPointerCapture(e.pointerId);
    last = point(e);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = point(e);
    const erasing = tool() === "eraser";
    ctx.strokeStyle = erasing ? "#000" : "#fff";
    ctx.lineWidth = erasing ? 40 : 22;
    ctx.lineCap = "round";
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
    onChange(api.read());
  });
  const end = () => { last = null; };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  return api;
}
