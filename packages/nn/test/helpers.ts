/** Shared inputs of the nn tests. */
import { type Array as JArray, np } from "@webjax/core";

/** x[i] = sin(a·i + b) over the flat index (fixtures/make_layers.py builds the same). */
export function grid(shape: readonly number[], a: number, b: number, scale = 1, shift = 0): JArray {
  const n = shape.reduce((p, q) => p * q, 1);
  const v = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(a * i + b)) * scale + shift);
  return np.array(v).reshape([...shape]);
}
