/** lax's dynamic slicing: windows at traced start indices (clamped so the window fits, as XLA). */
import type { Array } from "./array.js";
import { scoped } from "./core/scope.js";
import { bind1 } from "./core/trace.js";
import { ShapeError } from "./errors.js";
import { backendOf, convert, scalar } from "./numpy/convert.js";

function starts(x: Array, indices: readonly (Array | number)[], op: string): Array[] {
  if (indices.length !== x.ndim)
    throw new ShapeError(`${op}: ${indices.length} start indices for an array of rank ${x.ndim}`);
  const backend = backendOf([x]);
  return indices.map((s) => (typeof s === "number" ? scalar(s, "int32", false, backend) : convert(s, "int32", false)));
}

/**
 * The window of shape `sizes` starting at `startIndices` (numbers or int32 scalars, possibly
 * traced). Starts are clamped to [0, n − size] per axis, as XLA's dynamic_slice.
 */
export function dynamicSlice(x: Array, startIndices: readonly (Array | number)[], sizes: readonly number[]): Array {
  return scoped(() => bind1("dynamic_slice", [x, ...starts(x, startIndices, "dynamicSlice")], { sizes }));
}

/** `x` with `update` written at `startIndices` (clamped so the update fits, as XLA). */
export function dynamicUpdateSlice(x: Array, update: Array, startIndices: readonly (Array | number)[]): Array {
  return scoped(() =>
    bind1(
      "dynamic_update_slice",
      [x, convert(update, x.dtype, false), ...starts(x, startIndices, "dynamicUpdateSlice")],
      {},
    ),
  );
}

/** The scatter primitive along `axis` (the transpose of take): `mode` combines updates. */
export function scatter(
  x: Array,
  indices: Array,
  updates: Array,
  opts: { axis?: number; mode?: "set" | "add" | "mul" | "min" | "max" } = {},
): Array {
  return scoped(() =>
    bind1("scatter", [x, convert(indices, "int32", false), convert(updates, x.dtype, false)], {
      axis: opts.axis ?? 0,
      mode: opts.mode ?? "set",
    }),
  );
}
