/**
 * The transpose of `take_along_axis` (JAX's gather transpose, a scatter-add): the cotangent of
 * the operand is ct_x[…, i, …] = Σ_k ct[…, k, …] · [j[…, k, …] = i], with j the indices as the
 * gather normalised them (negative ones wrapped, then clamped into [0, n)).
 *
 * Our `scatter` primitive shares one index array across the other dims, so it cannot scatter a
 * different row of indices into each row. With the axis moved last and the other dims flattened
 * into B rows of m cotangents (and n operand elements), each group of rows is instead:
 *
 * - a one-hot contraction: onehot[b, k, i] = [j[b, k] = i], ct_x[b] = onehotᵀ[b] · ct[b]
 *   (a batched dot_general; O(B·m·n) work and memory), for groups of rows whose one-hot fits in
 *   ONE_HOT_LIMIT elements; or
 * - for a single row too long for that, a 1-D scatter-add (O(m·n) work, O(m + n) memory).
 *
 * Both are deterministic (no atomics) and linear in the cotangent, so they differentiate again.
 */
import type { Array } from "../array.js";
import type { Aval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { arange, onBackendOf, zeros } from "../numpy/creation.js";
import { add, clip, equal, less, where } from "../numpy/elementwise.js";
import { inversePerm } from "./shape.js";

/** The most one-hot elements one contraction may build (4 MiB in float32). */
export const ONE_HOT_LIMIT = 1 << 20;

const range = (n: number): number[] => globalThis.Array.from({ length: n }, (_, i) => i);

/** Rows [from, to) of a 2-D array. */
function rows(a: Array, from: number, to: number): Array {
  return bind1("slice", [a], { start: [from, 0], limit: [to, a.shape[1] as number], strides: [1, 1] });
}

/** ct_x for rows of indices `j` [c, m] (in [0, n)) and cotangents `ct` [c, m]: a one-hot contraction. */
function oneHotRows(ct: Array, j: Array, n: number): Array {
  const [c, m] = j.shape as [number, number];
  const shape = [c, m, n];
  const iota = arange(n, undefined, 1, { dtype: "int32", ...onBackendOf(ct) });
  const hit = equal(
    bind1("broadcast_in_dim", [j], { shape, broadcastDimensions: [0, 1] }),
    bind1("broadcast_in_dim", [iota], { shape, broadcastDimensions: [2] }),
  );
  const oneHot = bind1("convert_element_type", [hit], { newDtype: ct.dtype, weakType: false });
  return bind1("dot_general", [oneHot, ct], { contracting: [[1], [1]], batch: [[0], [0]] });
}

/** ct_x for one row of indices `j` [1, m] and cotangents `ct` [1, m]: a 1-D scatter-add into zeros. */
function scatterRow(ct: Array, j: Array, n: number): Array {
  const m = j.shape[1] as number;
  const flat = (a: Array) => bind1("reshape", [a], { newShape: [m] });
  const base = zeros([n], { dtype: ct.dtype, ...onBackendOf(ct) });
  const r = bind1("scatter", [base, flat(j), flat(ct)], { axis: 0, mode: "add" });
  return bind1("reshape", [r], { newShape: [1, n] });
}

/** The cotangent of take_along_axis' operand (of type `x`) from the output cotangent `ct`. */
export function takeAlongAxisTranspose(ct: Array, x: Aval, idx: Array, axis: number): Array {
  const n = x.shape[axis] as number;
  const m = idx.shape[axis] as number;
  if (ct.size === 0 || n === 0) return zeros(x.shape, { dtype: ct.dtype, ...onBackendOf(ct) });
  // The gather's own index normalisation: wrap negative indices once, then clamp.
  const j = clip(where(less(idx, 0), add(idx, n), idx), 0, n - 1);
  const others = range(x.shape.length).filter((d) => d !== axis);
  const perm = [...others, axis];
  const lead = others.map((d) => x.shape[d] as number);
  const b = lead.reduce((p, d) => p * d, 1);
  const flat = (a: Array) => bind1("reshape", [bind1("transpose", [a], { perm })], { newShape: [b, m] });
  const ct2 = flat(ct);
  const j2 = flat(j);
  const perGroup = Math.floor(ONE_HOT_LIMIT / (m * n));
  const parts: Array[] = [];
  if (perGroup >= 1) {
    for (let r = 0; r < b; r += perGroup) {
      const to = Math.min(b, r + perGroup);
      parts.push(b <= perGroup ? oneHotRows(ct2, j2, n) : oneHotRows(rows(ct2, r, to), rows(j2, r, to), n));
    }
  } else {
    for (let r = 0; r < b; r++)
      parts.push(b === 1 ? scatterRow(ct2, j2, n) : scatterRow(rows(ct2, r, r + 1), rows(j2, r, r + 1), n));
  }
  const joined = parts.length === 1 ? (parts[0] as Array) : bind1("concatenate", parts, { dimension: 0 });
  const unflat = bind1("reshape", [joined], { newShape: [...lead, n] });
  return bind1("transpose", [unflat], { perm: inversePerm(perm) });
}
