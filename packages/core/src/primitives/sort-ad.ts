/**
 * The transpose of `take_along_axis` (JAX's gather transpose, a scatter-add): the cotangent of
 * the operand is ct_x[…, i, …] = Σ_k ct[…, k, …] · [j[…, k, …] = i], with j the indices as the
 * gather normalised them (negative ones wrapped, then clamped into [0, n)).
 *
 * That is ONE scatter_general whose every dim but `axis` is a batching dim (each row scatters
 * its own indices into its own row), with window rank 0: O(size of ct) work, deterministic, and
 * linear in the cotangent, so it differentiates again.
 */
import type { Array } from "../array.js";
import type { Aval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { onBackendOf, zeros } from "../numpy/creation.js";
import { add, clip, less, where } from "../numpy/elementwise.js";

const range = (n: number): number[] => globalThis.Array.from({ length: n }, (_, i) => i);

/** The cotangent of take_along_axis' operand (of type `x`) from the output cotangent `ct`. */
export function takeAlongAxisTranspose(ct: Array, x: Aval, idx: Array, axis: number): Array {
  const n = x.shape[axis] as number;
  if (ct.size === 0 || n === 0) return zeros(x.shape, { dtype: ct.dtype, ...onBackendOf(ct) });
  // The gather's own index normalisation: wrap negative indices once, then clamp.
  const j = clip(where(less(idx, 0), add(idx, n), idx), 0, n - 1);
  const others = range(x.shape.length).filter((d) => d !== axis);
  const starts = bind1("reshape", [j], { newShape: [...j.shape, 1] });
  return bind1("scatter_general", [zeros(x.shape, { dtype: ct.dtype, ...onBackendOf(ct) }), starts, ct], {
    updateWindowDims: [],
    insertedWindowDims: [axis],
    scatterDimsToOperandDims: [axis],
    operandBatchingDims: others,
    scatterIndicesBatchingDims: others,
    mode: "add",
  });
}
