// Generated from src/explain.rs by tests/api/generated.rs (`CONVLENS_BLESS=1 cargo test --test
// api generated` rewrites it); do not edit. The CLI draws its heat maps with the same scale.

/** The explanations' colour scale, RGB in [0, 1] at heat 0, ¼, ½, ¾ and 1: black, dark red, orange, yellow, white. */
export const HEAT_STOPS: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [0.55, 0, 0.05],
  [0.95, 0.35, 0],
  [1, 0.85, 0.1],
  [1, 1, 1],
];

/**
 * The colour of heat `t` in [0, 1] (an explanation's `heat`) as RGB in [0, 1], linearly between
 * {@link HEAT_STOPS}: brightness grows with the value, so it reads in grey too. Not finite is 0.
 *
 * @example
 * heatColour(0.5); // [0.95, 0.35, 0]: orange
 */
export function heatColour(t: number): [number, number, number] {
  const x = (Number.isFinite(t) ? Math.min(Math.max(t, 0), 1) : 0) * 4;
  const i = Math.min(Math.floor(x), 3);
  const f = x - i;
  const [a, b] = [HEAT_STOPS[i], HEAT_STOPS[i + 1]];
  return [0, 1, 2].map((k) => a[k] + (b[k] - a[k]) * f) as [number, number, number];
}
