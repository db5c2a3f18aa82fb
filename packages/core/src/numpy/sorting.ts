/**
 * Sorting and searching: `argsort`, `sort`, `takeAlongAxis`, `searchsorted`, and `lax.topK`.
 * Every sort is stable and deterministic, O(n log n) or better on every backend (the `sort` and
 * `top_k` routines; see primitives/sort.ts). The order is numpy's: NaN last (first when
 * descending), −0 equal to 0.
 */
import { Array, type ArrayLike } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind, bind1 } from "../core/trace.js";
import { isFloat } from "../dtype.js";
import { DTypeError, ShapeError } from "../errors.js";
import { broadcastShapes, normalizeAxis } from "../shape.js";
import { backendOf, broadcastTo, convert, prepare, promoteOnly } from "./convert.js";
import { array, type NestedInput } from "./creation.js";
import { checkOptions } from "./options.js";

export interface SortOptions {
  /** The axis to sort along (default −1, the last); `null` sorts the flattened array. */
  axis?: number | null;
  /** Largest first. Still stable: equal elements keep their index order (as JAX's `descending=True`). */
  descending?: boolean;
  /** Accepted for JAX compatibility; every sort here is stable, so `false` changes nothing. */
  stable?: boolean;
}

/** The array to sort and the axis, flattening for `axis: null`. */
function sortee(op: string, x: ArrayLike, axis: number | null | undefined): [Array, number] {
  const a = prepare(op, [x])[0] as Array;
  if (axis === null) return [bind1("reshape", [a], { newShape: [a.size] }), 0];
  if (a.ndim === 0) throw new ShapeError(`${op}: cannot sort a zero-dimensional array along an axis; pass axis: null`);
  return [a, normalizeAxis(axis ?? -1, a.ndim, op)];
}

/** The sorted values of `a` along `axis` and the int32 indices that sort it (stable). */
function sorted(a: Array, axis: number, descending: boolean): [Array, Array] {
  return bind("sort", [a], { axis, descending }) as [Array, Array];
}

/**
 * The indices that sort `x` along `axis` (int32), stable: equal elements keep their order. NaN
 * sorts after every number (numpy); with `descending` the order is exactly reversed except that
 * ties still keep index order, so NaN comes first.
 *
 * @example np.argsort(np.array([3, 1, 2, 1]))  // [1, 3, 2, 0]
 */
export function argsort(x: ArrayLike, opts: SortOptions = {}): Array {
  return scoped(() => {
    checkOptions("argsort", opts, ["axis", "descending", "stable"]);
    const [a, ax] = sortee("argsort", x, opts.axis);
    return sorted(a, ax, opts.descending ?? false)[1];
  });
}

/**
 * `x` sorted along `axis` (default the last; `null` flattens), stable, NaN last (first when
 * descending). `takeAlongAxis(x, argsort(x))`.
 */
export function sort(x: ArrayLike, opts: SortOptions = {}): Array {
  return scoped(() => {
    checkOptions("sort", opts, ["axis", "descending", "stable"]);
    const [a, ax] = sortee("sort", x, opts.axis);
    return sorted(a, ax, opts.descending ?? false)[0];
  });
}

/**
 * Picks elements of `arr` along `axis` by `indices` of the same rank (numpy's take_along_axis):
 * out[…, k, …] = arr[…, indices[…, k, …], …]. Other dims broadcast. `axis: null` works on the
 * flattened array with 1-D indices. Negative indices count from the end; indices still out of
 * range are clamped (JAX's "clip" mode: no error can be raised from the device).
 *
 * @example np.takeAlongAxis(x, np.argsort(x, { axis: 1 }), 1)  // x sorted along axis 1
 */
export function takeAlongAxis(arr: ArrayLike, indices: Array | NestedInput, axis: number | null): Array {
  return scoped(() => {
    let a = prepare("takeAlongAxis", [arr])[0] as Array;
    let idx: Array;
    if (indices instanceof Array) {
      if (isFloat(indices.dtype)) {
        throw new DTypeError(`takeAlongAxis: indices must be integers, got ${fmtAval(indices.aval)}`);
      }
      idx = convert(indices, "int32", false);
    } else idx = array(indices, { dtype: "int32", backend: backendOf([a]).name });
    if (axis === null) {
      if (idx.ndim !== 1) {
        throw new ShapeError(`takeAlongAxis: with axis null the indices must be 1-D, got ${fmtAval(idx.aval)}`);
      }
      a = bind1("reshape", [a], { newShape: [a.size] });
      axis = 0;
    }
    if (idx.ndim !== a.ndim) {
      throw new ShapeError(
        `takeAlongAxis: indices ${fmtAval(idx.aval)} and array ${fmtAval(a.aval)} must have the same rank`,
      );
    }
    const ax = normalizeAxis(axis, a.ndim, "takeAlongAxis");
    const one = (s: readonly number[]) => s.map((n, d) => (d === ax ? 1 : n));
    const common = broadcastShapes("takeAlongAxis", one(a.shape), one(idx.shape));
    const shapeWith = (n: number) => common.map((m, d) => (d === ax ? n : m));
    a = broadcastTo(a, shapeWith(a.shape[ax] as number), "takeAlongAxis");
    idx = broadcastTo(idx, shapeWith(idx.shape[ax] as number), "takeAlongAxis");
    return bind1("take_along_axis", [a, idx], { axis: ax });
  });
}

/**
 * The `k` largest elements along the last axis and their indices (`jax.lax.top_k`), largest
 * first; equal elements by lower index first; NaN counts as larger than every number.
 *
 * @example const [values, indices] = lax.topK(np.array([1, 3, 2, 3]), 2)  // [3, 3], [1, 3]
 */
export function topK(x: ArrayLike, k: number): [Array, Array] {
  return scoped(() => {
    const a = prepare("topK", [x])[0] as Array;
    if (a.ndim === 0) throw new ShapeError(`topK: needs an array of rank ≥ 1, got ${fmtAval(a.aval)}`);
    const ax = a.ndim - 1;
    const n = a.shape[ax] as number;
    if (!Number.isInteger(k) || k < 0 || k > n) {
      throw new ShapeError(`topK: k must be an integer in [0, ${n}] for the last axis of ${fmtAval(a.aval)}, got ${k}`);
    }
    return bind("top_k", [a], { k }) as [Array, Array];
  });
}

export interface SearchSortedOptions {
  /** "left" (default): the first index where `v` could go; "right": the last (after equal elements). */
  side?: "left" | "right";
  /** int32 indices that sort `a` (numpy's `sorter`), when `a` itself is not sorted. */
  sorter?: Array;
}

/**
 * Where `values` would be inserted into the 1-D ascending `a` to keep it sorted (int32, the
 * shape of `values`): the count of elements of `a` that are < v (side "left") or ≤ v ("right"),
 * in the sort order above (NaN last, −0 equal to 0). Operands promote to a common dtype. A
 * binary search per value: O(len(a) + len(values)·log len(a)).
 *
 * @example np.searchsorted(np.array([1, 2, 2, 3]), np.array([2, 5]), { side: "right" })  // [3, 4]
 */
export function searchsorted(a: ArrayLike, values: ArrayLike, opts: SearchSortedOptions = {}): Array {
  return scoped(() => {
    checkOptions("searchsorted", opts, ["side", "sorter"]);
    const side = opts.side ?? "left";
    if (side !== "left" && side !== "right") {
      throw new ShapeError(`searchsorted: side must be "left" or "right", got ${JSON.stringify(side)}`);
    }
    let s = prepare("searchsorted", [a])[0] as Array;
    const v = prepare("searchsorted", [values])[0] as Array;
    if (s.ndim !== 1) throw new ShapeError(`searchsorted: the sorted array must be 1-D, got ${fmtAval(s.aval)}`);
    if (opts.sorter) {
      const sorter = opts.sorter;
      if (sorter.ndim !== 1 || sorter.shape[0] !== s.shape[0] || isFloat(sorter.dtype)) {
        throw new ShapeError(
          `searchsorted: sorter must be 1-D integer indices as long as ${fmtAval(s.aval)}, got ${fmtAval(sorter.aval)}`,
        );
      }
      s = bind1("take", [s, convert(sorter, "int32", false)], { axis: 0 });
    }
    const [ps, pv] = promoteOnly([s, v]) as [Array, Array];
    return bind1("searchsorted", [ps, pv], { side });
  });
}
