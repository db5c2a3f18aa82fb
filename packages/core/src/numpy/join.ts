import { Array, type ArrayLike } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { normalizeAxis } from "../shape.js";
import { backendOf, convert, prepare, promoteOnly } from "./convert.js";
import { array, type NestedInput } from "./creation.js";
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

/**
 * Elements at `indices` along `axis` (numpy's take; the flattened array when `axis` is null).
 * JS indices are checked here (negative ones count from the end; out of range is a ShapeError);
 * an int32 Array of indices is clamped into range on the device (JAX's "clip" mode).
 */
export function take(x: ArrayLike, indices: Array | NestedInput, opts: { axis?: number | null } = {}): Array {
  return scoped(() => {
    let a = prepare("take", [x])[0] as Array;
    let axis = opts.axis ?? null;
    if (axis === null) {
      a = reshape(a, [-1]);
      axis = 0;
    }
    const ax = normalizeAxis(axis, a.ndim, "take");
    const n = a.shape[ax] as number;
    let idx: Array;
    if (indices instanceof Array) {
      if (indices.dtype === "float32" || indices.dtype === "float64" || indices.dtype === "float16") {
        throw new DTypeError(`take: indices must be integers, got ${fmtAval(indices.aval)}`);
      }
      idx = convert(indices, "int32", false);
    } else {
      const fix = (i: NestedInput): NestedInput => {
        if (globalThis.Array.isArray(i)) return i.map(fix);
        if (typeof i !== "number" || !Number.isInteger(i) || i < -n || i >= n) {
          throw new ShapeError(
            `take: index ${String(i)} is out of bounds for axis ${ax} of size ${n} in ${fmtAval(a.aval)}`,
          );
        }
        return i < 0 ? i + n : i;
      };
      idx = array(fix(indices), { dtype: "int32", backend: backendOf([a]).name });
    }
    return bind1("take", [a, idx], { axis: ax });
  });
}
