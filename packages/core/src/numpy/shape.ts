import type { Array, ArrayLike, SliceIndex } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { fmtShape, ShapeError } from "../errors.js";
import { checkShape, normalizeAxes, normalizeAxis, sizeOf } from "../shape.js";
import { broadcastTo as broadcastToImpl, fresh, prepare } from "./convert.js";

function asArray(x: ArrayLike, op: string): Array {
  return prepare(op, [x])[0] as Array;
}

/** Reshapes (a view when the strides allow); one entry may be -1, inferred from the size. */
export function reshape(x: ArrayLike, shape: readonly number[] | number): Array {
  return scoped(() => {
    const a = asArray(x, "reshape");
    const dims = typeof shape === "number" ? [shape] : [...shape];
    const holes = dims.filter((d) => d === -1).length;
    if (holes > 1) throw new ShapeError(`reshape: only one -1 is allowed, got ${fmtShape(dims)}`);
    const known = dims.filter((d) => d !== -1);
    checkShape(known, "reshape");
    if (holes === 1) {
      const rest = sizeOf(known);
      if (rest === 0 || a.size % rest !== 0) {
        throw new ShapeError(`reshape: cannot reshape ${fmtAval(a.aval)} (${a.size} elements) to ${fmtShape(dims)}`);
      }
      dims[dims.indexOf(-1)] = a.size / rest;
    }
    return bind1("reshape", [a], { newShape: dims });
  });
}

/** Permutes axes (reverses them by default); negative axes count from the end. */
export function transpose(x: ArrayLike, axes?: readonly number[]): Array {
  return scoped(() => {
    const a = asArray(x, "transpose");
    const perm = axes
      ? axes.map((ax) => normalizeAxis(ax, a.ndim, "transpose"))
      : a.shape.map((_, i) => a.ndim - 1 - i);
    return bind1("transpose", [a], { perm });
  });
}

/** Broadcasts to `shape` by numpy's rule (a view: no copy). */
export function broadcastTo(x: ArrayLike, shape: readonly number[]): Array {
  return scoped(() => fresh(broadcastToImpl(asArray(x, "broadcastTo"), checkShape(shape, "broadcastTo")), x));
}

/** Inserts size-1 axes at `axis` (positions in the result). */
export function expandDims(x: ArrayLike, axis: number | readonly number[]): Array {
  return scoped(() => {
    const a = asArray(x, "expandDims");
    const list = typeof axis === "number" ? [axis] : axis;
    const outRank = a.ndim + list.length;
    const axes = normalizeAxes(list, outRank, "expandDims");
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < outRank; i++) shape.push(axes.includes(i) ? 1 : (a.shape[k++] as number));
    return bind1("reshape", [a], { newShape: shape });
  });
}

/** Removes size-1 axes (all of them, or those named; naming a larger axis is an error). */
export function squeeze(x: ArrayLike, axis?: number | readonly number[]): Array {
  return scoped(() => {
    const a = asArray(x, "squeeze");
    const dims =
      axis === undefined ? a.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes(axis, a.ndim, "squeeze");
    return bind1("squeeze", [a], { dimensions: dims });
  });
}

/** Python's slice.indices: [first, count, step] with clamping and negative values. */
function resolveSlice(spec: readonly (number | null | undefined)[], n: number, axis: number): [number, number, number] {
  const step = spec[2] ?? 1;
  if (!Number.isInteger(step) || step === 0)
    throw new ShapeError(`slice: step on axis ${axis} must be a nonzero integer, got ${step}`);
  for (const v of [spec[0], spec[1]]) {
    if (v !== null && v !== undefined && !Number.isInteger(v))
      throw new ShapeError(`slice: bound ${v} on axis ${axis} is not an integer`);
  }
  const norm = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  let start: number;
  let stop: number;
  if (step > 0) {
    start = spec[0] == null ? 0 : norm(spec[0], 0, n);
    stop = spec[1] == null ? n : norm(spec[1], 0, n);
  } else {
    start = spec[0] == null ? n - 1 : norm(spec[0], -1, n - 1);
    stop = spec[1] == null ? -1 : norm(spec[1], -1, n - 1);
  }
  const count = Math.max(0, Math.ceil((stop - start) / step));
  return [start, count, step];
}

/**
 * numpy basic indexing. Each entry indexes one leading axis: an integer (negative counts from
 * the end; the axis is dropped), `[start, stop, step]` with Python's clamping and negative
 * values (a negative step reverses), or null for the whole axis. A view: no copy.
 */
export function slice(x: ArrayLike, indices: readonly SliceIndex[]): Array {
  return scoped(() => {
    const a = asArray(x, "slice");
    if (indices.length > a.ndim) {
      throw new ShapeError(`slice: ${indices.length} indices for ${fmtAval(a.aval)} of rank ${a.ndim}`);
    }
    const start: number[] = [];
    const limit: number[] = [];
    const strides: number[] = [];
    const reversed: number[] = [];
    const dropped: number[] = [];
    a.shape.forEach((n, d) => {
      const idx = indices[d];
      if (typeof idx === "number") {
        if (!Number.isInteger(idx) || idx < -n || idx >= n) {
          throw new ShapeError(`slice: index ${idx} is out of bounds for axis ${d} of size ${n} in ${fmtAval(a.aval)}`);
        }
        const i = idx < 0 ? idx + n : idx;
        start.push(i);
        limit.push(i + 1);
        strides.push(1);
        dropped.push(d);
        return;
      }
      const [first, count, step] = resolveSlice(idx ?? [], n, d);
      let s = first;
      if (step < 0) {
        reversed.push(d);
        s = n - 1 - first;
      }
      const st = Math.abs(step);
      start.push(count > 0 ? s : 0);
      limit.push(count > 0 ? s + (count - 1) * st + 1 : 0);
      strides.push(st);
    });
    let r = a;
    if (reversed.length > 0) r = bind1("rev", [r], { dimensions: reversed });
    const whole = r.shape.every((n, d) => start[d] === 0 && limit[d] === n && strides[d] === 1);
    if (!whole) r = bind1("slice", [r], { start, limit, strides });
    if (dropped.length > 0) r = bind1("squeeze", [r], { dimensions: dropped });
    return fresh(r, x);
  });
}
