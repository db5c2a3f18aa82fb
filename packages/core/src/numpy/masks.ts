/**
 * Selections by a mask: `nonzero`, `argwhere`, `flatnonzero`, `extract` (and `x.at(mask).get()`).
 * The count of selected elements is data-dependent: it is read eagerly where the backend can,
 * and is a required `size` under a transform or on WebGPU (shorter results are padded with
 * `fillValue`, longer ones cut), as in JAX. Each is O(n): a cumulative count and one scatter.
 */
import type { Array, ArrayLike } from "../array.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { ShapeError } from "../errors.js";
import { backendOf, convert, prepare } from "./convert.js";
import { arange, full } from "./creation.js";
import { cumsum } from "./cumulative.js";
import { less, notEqual, subtract, where } from "./elementwise.js";
import { dataDependentSize } from "./indices.js";
import { stack } from "./join.js";
import { floorDivide, mod } from "./math.js";
import { checkOptions } from "./options.js";
import { reshape } from "./shape.js";

export interface SizeOptions {
  /** A static number of results (required under a transform and on backends that cannot read synchronously). */
  size?: number;
  /** The padding of results past the count (default 0). */
  fillValue?: number;
}

function checkSize(op: string, opts: SizeOptions): void {
  checkOptions(op, opts, ["size", "fillValue"]);
  const { size } = opts;
  if (size !== undefined && (!Number.isInteger(size) || size < 0)) {
    throw new ShapeError(`${op}: size must be a non-negative integer, got ${size}`);
  }
}

/**
 * The flat positions of the true elements of the 1-D bool `mask` (int32 [size]) and which of
 * the `size` slots hold one (`valid`).
 */
export function maskPositions(op: string, mask: Array, opts: SizeOptions): { positions: Array; valid: Array } {
  const n = mask.size;
  const backend = backendOf([mask]).name;
  const ints = { dtype: "int32" as const, backend };
  const counted = n === 0 ? full([0], 0, ints) : cumsum(mask);
  const total =
    n === 0 ? full([], 0, ints) : reshape(bind1("slice", [counted], { start: [n - 1], limit: [n], strides: [1] }), []);
  const size = opts.size ?? dataDependentSize(op, total, "selected elements");
  // Each true element lands in slot (its count − 1); the rest aim past the end and are dropped.
  const slot = where(mask, subtract(counted, 1), size);
  const positions = bind1("scatter", [full([size], 0, ints), slot, arange(0, n, 1, ints)], { axis: 0, mode: "set" });
  return { positions, valid: less(arange(0, size, 1, ints), total) };
}

/**
 * The indices of the nonzero elements of `x`, one int32 array per dim (numpy's `nonzero`), in
 * row-major order.
 *
 * @example np.nonzero(np.array([[0, 1], [2, 0]]))  // [[0, 1], [1, 0]]
 */
export function nonzero(x: ArrayLike, opts: SizeOptions = {}): Array[] {
  return scoped(() => {
    checkSize("nonzero", opts);
    const a = prepare("nonzero", [x])[0] as Array;
    if (a.ndim === 0)
      throw new ShapeError("nonzero: a zero-dimensional array has no indices; use np.atleast1d or x.reshape([1])");
    const { positions, valid } = maskPositions("nonzero", reshape(notEqual(a, 0), [a.size]), opts);
    const fill = opts.fillValue ?? 0;
    let inner = 1;
    const coords: Array[] = [];
    for (let d = a.ndim - 1; d >= 0; d--) {
      const n = a.shape[d] as number;
      const c = n === 0 ? positions : mod(floorDivide(positions, inner), n);
      coords.unshift(convert(where(valid, c, fill), "int32", false));
      inner *= n;
    }
    return coords;
  });
}

/** The indices of the nonzero elements as rows: int32 [count, ndim] (numpy's `argwhere`). */
export function argwhere(x: ArrayLike, opts: SizeOptions = {}): Array {
  return scoped(() => {
    const a = prepare("argwhere", [x])[0] as Array;
    if (a.ndim === 0) return argwhere(reshape(a, [1]), opts);
    return stack(nonzero(a, opts), 1);
  });
}

/** The flat indices of the nonzero elements of `x` flattened (numpy's `flatnonzero`). */
export function flatnonzero(x: ArrayLike, opts: SizeOptions = {}): Array {
  return scoped(() => {
    const a = prepare("flatnonzero", [x])[0] as Array;
    return nonzero(reshape(a, [a.size]), opts)[0] as Array;
  });
}

/** The elements of `arr` (flattened) where `condition` (flattened) is nonzero (numpy's `extract`). */
export function extract(condition: ArrayLike, arr: ArrayLike, opts: SizeOptions = {}): Array {
  return scoped(() => {
    checkSize("extract", opts);
    const c = prepare("extract", [condition])[0] as Array;
    const a = prepare("extract", [arr])[0] as Array;
    if (c.size !== a.size) {
      throw new ShapeError(`extract: condition and arr must have the same size, got ${c.size} and ${a.size}`);
    }
    const { positions, valid } = maskPositions("extract", reshape(notEqual(c, 0), [c.size]), opts);
    if (a.size === 0)
      return full([positions.size], opts.fillValue ?? 0, { dtype: a.dtype, backend: backendOf([a]).name });
    const picked = bind1("take", [reshape(a, [a.size]), positions], { axis: 0 });
    return where(valid, picked, opts.fillValue ?? 0);
  });
}
