import type { Array, ArrayLike } from "../array.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { normalizeAxis } from "../shape.js";
import { prepare, promoteOnly } from "./convert.js";
import type { NestedInput } from "./creation.js";
import { checkMode, defaultFill, filled, type IndexMode, intIndices, isMask, normalizeIndices } from "./indices.js";
import { checkOptions } from "./options.js";
import { expandDims, reshape } from "./shape.js";

/** Inputs per concatenate kernel: each is a storage binding, and WebGPU guarantees 8 per stage. */
const MAX_PER_KERNEL = 6;

/**
 * Joins arrays along an existing axis (numpy's concatenate). All other dims must match; dtypes
 * promote as in arithmetic. `axis: null` flattens every array first.
 */
export function concatenate(arrays: readonly ArrayLike[], axis: number | null = 0): Array {
  return scoped(() => {
    if (arrays.length === 0) throw new ShapeError("concatenate: needs at least one array");
    let xs = promoteOnly(arrays.map((a) => prepare("concatenate", [a])[0] as Array));
    if (axis === null) {
      xs = xs.map((x) => reshape(x, [-1]));
      axis = 0;
    }
    const first = xs[0] as Array;
    if (first.ndim === 0) throw new ShapeError("concatenate: zero-dimensional arrays cannot be concatenated");
    const ax = normalizeAxis(axis, first.ndim, "concatenate");
    for (const x of xs) {
      if (x.ndim !== first.ndim || x.shape.some((n, d) => d !== ax && n !== first.shape[d])) {
        throw new ShapeError(
          `concatenate: along axis ${ax} every other dim must match, got shapes ${xs.map((a) => `[${a.shape}]`).join(", ")}`,
        );
      }
    }
    let parts = xs;
    while (parts.length > 1) {
      const next: Array[] = [];
      for (let i = 0; i < parts.length; i += MAX_PER_KERNEL) {
        const group = parts.slice(i, i + MAX_PER_KERNEL);
        next.push(group.length === 1 ? (group[0] as Array) : bind1("concatenate", group, { dimension: ax }));
      }
      parts = next;
    }
    const only = parts[0] as Array;
    return only === arrays[0] ? bind1("copy", [only], {}) : only;
  });
}

/** Joins arrays along a new axis (numpy's stack); all shapes must be equal. */
export function stack(arrays: readonly ArrayLike[], axis = 0): Array {
  return scoped(() => {
    if (arrays.length === 0) throw new ShapeError("stack: needs at least one array");
    const xs = arrays.map((a) => prepare("stack", [a])[0] as Array);
    const shape = (xs[0] as Array).shape;
    if (xs.some((x) => x.shape.length !== shape.length || x.shape.some((n, d) => n !== shape[d]))) {
      throw new ShapeError(
        `stack: all arrays must have the same shape, got ${xs.map((a) => `[${a.shape}]`).join(", ")}`,
      );
    }
    const ax = normalizeAxis(axis, shape.length + 1, "stack");
    return concatenate(
      xs.map((x) => expandDims(x, ax)),
      ax,
    );
  });
}

/** Options of `take`. */
export interface TakeOptions {
  /** The axis to take along; `null` (the default) takes from the flattened array, as numpy. */
  axis?: number | null;
  /** How out-of-range indices read (default "fill", as jnp.take); see `IndexMode`. */
  mode?: IndexMode;
  /** The value of out-of-range reads in "fill" mode (default NaN, the most negative int, the largest uint, true). */
  fillValue?: number | boolean;
}

/**
 * Elements at integer `indices` along `axis` (numpy's take; the flattened array when `axis` is
 * null), the same for JS and Array indices. Negative indices in [−n, 0) count from the end; the
 * rest follow `mode` (default "fill": out-of-range reads give `fillValue`, as jnp.take).
 *
 * @example np.take(np.array([1, 2, 3]), [-1, 5])  // [3, NaN]
 */
export function take(x: ArrayLike, indices: Array | NestedInput, opts: TakeOptions = {}): Array {
  return scoped(() => {
    checkOptions("take", opts, ["axis", "mode", "fillValue"]);
    let a = prepare("take", [x])[0] as Array;
    let axis = opts.axis ?? null;
    if (axis === null) {
      a = reshape(a, [-1]);
      axis = 0;
    }
    const ax = normalizeAxis(axis, a.ndim, "take");
    const n = a.shape[ax] as number;
    if (isMask(indices)) {
      throw new DTypeError(
        "take: indices must be integers, got a boolean mask; use np.extract(mask, x) or x.at(mask).get()",
      );
    }
    const mode = checkMode("take", opts.mode ?? "fill");
    const { idx, valid } = normalizeIndices(intIndices("take", indices, a), n, mode);
    const taken = bind1("take", [a, idx], { axis: ax });
    if (!valid) return taken;
    const dims = idx.shape.map((_, i) => ax + i);
    return filled(taken, valid, opts.fillValue ?? defaultFill(a.dtype), dims);
  });
}
