/** lax's dynamic slicing: windows at traced start indices (clamped so the window fits, as XLA). */
import type { Array } from "./array.js";
import { fmtAval } from "./core/aval.js";
import { scoped } from "./core/scope.js";
import { bind1 } from "./core/trace.js";
import { isFloat } from "./dtype.js";
import { DTypeError, ShapeError } from "./errors.js";
import { backendOf, convert, scalar } from "./numpy/convert.js";

function starts(x: Array, indices: readonly (Array | number)[], op: string): Array[] {
  if (indices.length !== x.ndim)
    throw new ShapeError(`${op}: ${indices.length} start indices for an array of rank ${x.ndim}`);
  const backend = backendOf([x]);
  indices.forEach((s, d) => {
    const bad = typeof s === "number" ? !Number.isInteger(s) : isFloat(s.dtype) || s.dtype === "bool" || s.ndim !== 0;
    if (!bad) return;
    const got = typeof s === "number" ? String(s) : fmtAval(s.aval);
    throw new DTypeError(
      `${op}: start index ${d} must be an integer scalar (a JS integer or an int Array of shape []), got ${got}`,
    );
  });
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

/** Scatter along one `axis` (the transpose of np.take): `mode` combines updates. */
export function scatterAlongAxis(
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

/**
 * JAX's GatherDimensionNumbers (the index vector is the last dim of the indices). Batching dims
 * pair operand dims with index batch dims of the same size: batch position b's slice starts at
 * b's own coordinate there (what vmap of a gather produces).
 */
export interface GatherDimensionNumbers {
  offsetDims: readonly number[];
  collapsedSliceDims: readonly number[];
  startIndexMap: readonly number[];
  operandBatchingDims?: readonly number[];
  startIndicesBatchingDims?: readonly number[];
}

/** JAX's ScatterDimensionNumbers (the index vector is the last dim of the indices), batching dims as gather's. */
export interface ScatterDimensionNumbers {
  updateWindowDims: readonly number[];
  insertedWindowDims: readonly number[];
  scatterDimsToOperandDims: readonly number[];
  operandBatchingDims?: readonly number[];
  scatterIndicesBatchingDims?: readonly number[];
}

/**
 * XLA's gather: for each index vector, the slice of `sliceSizes` starting there (mapped to
 * operand dims by `startIndexMap`), collapsed and placed by the dimension numbers. Mode "clip"
 * (default) clamps starts so the slice fits; "fill" returns `fillValue` (NaN) where it would not.
 */
export function gather(
  operand: Array,
  startIndices: Array,
  dimensionNumbers: GatherDimensionNumbers,
  sliceSizes: readonly number[],
  opts: { mode?: "clip" | "fill"; fillValue?: number } = {},
): Array {
  return scoped(() =>
    bind1("gather", [operand, convert(startIndices, "int32", false)], {
      ...dimensionNumbers,
      sliceSizes,
      mode: opts.mode ?? "clip",
      ...(opts.fillValue === undefined ? {} : { fillValue: opts.fillValue }),
    }),
  );
}

function scatterWith(mode: "set" | "add" | "mul" | "min" | "max") {
  return (operand: Array, scatterIndices: Array, updates: Array, dimensionNumbers: ScatterDimensionNumbers): Array =>
    scoped(() =>
      bind1(
        "scatter_general",
        [operand, convert(scatterIndices, "int32", false), convert(updates, operand.dtype, false)],
        { ...dimensionNumbers, mode },
      ),
    );
}

/**
 * XLA's scatter: each update window is written at its index vector's start (the last update
 * wins for duplicates). Windows that would not fit are dropped, as JAX's default mode. Sums,
 * products and min/max of duplicates are deterministic on every backend (no atomics).
 */
export const scatter = scatterWith("set");
export const scatterAdd = scatterWith("add");
export const scatterMul = scatterWith("mul");
export const scatterMin = scatterWith("min");
export const scatterMax = scatterWith("max");
