/**
 * Array manipulation built from the movement primitives (views), concatenate and take:
 * flatten/ravel, moveaxis/swapaxes, flip, roll, split/arraySplit, tile, repeat, pad, oneHot,
 * triu/tril. None copies data it does not have to.
 */
import type { Array, ArrayLike } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { checkDType, type DType } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { normalizeAxes, normalizeAxis } from "../shape.js";
import { backendOf, convert, fresh, prepare } from "./convert.js";
import { arange, full } from "./creation.js";
import { add, equal, greaterEqual, lessEqual, where } from "./elementwise.js";
import { concatenate, take } from "./join.js";
import { checkOptions } from "./options.js";

function asArray(x: ArrayLike, op: string): Array {
  return prepare(op, [x])[0] as Array;
}

const range = (n: number) => globalThis.Array.from({ length: n }, (_, i) => i);
const asList = (v: number | readonly number[]): number[] => (typeof v === "number" ? [v] : [...v]);

function checkCount(op: string, what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${op}: ${what} must be a non-negative integer, got ${v}`);
  return v;
}

/** `a[start:stop]` along `axis` (a view). */
function sliceAxis(a: Array, axis: number, start: number, stop: number): Array {
  return bind1("slice", [a], {
    start: a.shape.map((_, d) => (d === axis ? start : 0)),
    limit: a.shape.map((n, d) => (d === axis ? stop : n)),
    strides: a.shape.map(() => 1),
  });
}

/** The elements in row-major order, as a 1-D array (a view when the strides allow). */
export function flatten(x: ArrayLike): Array {
  return scoped(() => {
    const a = asArray(x, "flatten");
    return bind1("reshape", [a], { newShape: [a.size] });
  });
}

/** The same as `flatten` (arrays are immutable, so numpy's view/copy distinction does not arise). */
export function ravel(x: ArrayLike): Array {
  return flatten(x);
}

/**
 * Moves axes `source` to positions `destination` (ints or equal-length lists); the other axes
 * keep their order. `moveaxis(x, 0, -1)` of shape [2,3,4] has shape [3,4,2].
 */
export function moveaxis(
  x: ArrayLike,
  source: number | readonly number[],
  destination: number | readonly number[],
): Array {
  return scoped(() => {
    const a = asArray(x, "moveaxis");
    const src = asList(source).map((s) => normalizeAxis(s, a.ndim, "moveaxis"));
    const dst = asList(destination).map((s) => normalizeAxis(s, a.ndim, "moveaxis"));
    if (src.length !== dst.length) {
      throw new ShapeError(
        `moveaxis: source ${JSON.stringify(source)} and destination ${JSON.stringify(destination)} must name as many axes`,
      );
    }
    if (new Set(src).size !== src.length || new Set(dst).size !== dst.length) {
      throw new ShapeError(
        `moveaxis: repeated axis in source ${JSON.stringify(source)} or destination ${JSON.stringify(destination)}`,
      );
    }
    const perm = range(a.ndim).filter((i) => !src.includes(i));
    const pairs = dst.map((d, i) => [d, src[i] as number] as const).sort((p, q) => p[0] - q[0]);
    for (const [d, s] of pairs) perm.splice(d, 0, s);
    return bind1("transpose", [a], { perm });
  });
}

/** Exchanges two axes. */
export function swapaxes(x: ArrayLike, axis1: number, axis2: number): Array {
  return scoped(() => {
    const a = asArray(x, "swapaxes");
    const i = normalizeAxis(axis1, a.ndim, "swapaxes");
    const j = normalizeAxis(axis2, a.ndim, "swapaxes");
    const perm = range(a.ndim);
    perm[i] = j;
    perm[j] = i;
    return bind1("transpose", [a], { perm });
  });
}

/** Reverses the order of elements along `axis` (every axis by default). A view. */
export function flip(x: ArrayLike, axis?: number | readonly number[] | null): Array {
  return scoped(() => {
    const a = asArray(x, "flip");
    return bind1("rev", [a], { dimensions: normalizeAxes(axis, a.ndim, "flip") });
  });
}

/**
 * Rolls elements by `shift` along `axis`: element i moves to (i + shift) mod n; elements past the
 * end come back at the start. `axis: null` (the default) rolls the flattened array and restores
 * the shape. A list of shifts and axes rolls each axis (both broadcast; repeats add up).
 */
export function roll(x: ArrayLike, shift: number | readonly number[], axis?: number | readonly number[] | null): Array {
  return scoped(() => {
    const a = asArray(x, "roll");
    const shifts = asList(shift);
    for (const s of shifts) if (!Number.isInteger(s)) throw new ShapeError(`roll: shift must be an integer, got ${s}`);
    if (axis === undefined || axis === null) {
      const total = shifts.reduce((p, q) => p + q, 0);
      const flat = rollAxes(bind1("reshape", [a], { newShape: [a.size] }), new Map([[0, total]]));
      return bind1("reshape", [flat], { newShape: a.shape });
    }
    const axes = asList(axis).map((ax) => normalizeAxis(ax, a.ndim, "roll"));
    if (shifts.length !== axes.length && shifts.length !== 1 && axes.length !== 1) {
      throw new ShapeError(
        `roll: ${shifts.length} shifts and ${axes.length} axes cannot be broadcast together (shift ${JSON.stringify(shift)}, axis ${JSON.stringify(axis)})`,
      );
    }
    const per = new Map<number, number>();
    for (let i = 0; i < Math.max(shifts.length, axes.length); i++) {
      const ax = axes[axes.length === 1 ? 0 : i] as number;
      per.set(ax, (per.get(ax) ?? 0) + (shifts[shifts.length === 1 ? 0 : i] as number));
    }
    return fresh(rollAxes(a, per), x);
  });
}

/** Rolls each axis of `per` by its shift: the last s elements, then the first n − s. */
function rollAxes(a: Array, per: ReadonlyMap<number, number>): Array {
  let r = a;
  for (const [ax, shift] of per) {
    const n = r.shape[ax] as number;
    const s = n === 0 ? 0 : ((shift % n) + n) % n;
    if (s !== 0) r = concatenate([sliceAxis(r, ax, n - s, n), sliceAxis(r, ax, 0, n - s)], ax);
  }
  return r;
}

/**
 * Splits along `axis` into `sections` parts, the first n mod sections of which have one more
 * element (numpy's array_split), or at the sorted `indices` (Python slice bounds: negative ones
 * count from the end, out-of-range ones give empty parts). Returns views.
 */
export function arraySplit(x: ArrayLike, indicesOrSections: number | readonly number[], axis = 0): Array[] {
  return scoped(() => splitImpl("arraySplit", asArray(x, "arraySplit"), indicesOrSections, axis, false));
}

/** As `arraySplit`, but a number of sections must divide the axis evenly (a ShapeError names the sizes). */
export function split(x: ArrayLike, indicesOrSections: number | readonly number[], axis = 0): Array[] {
  return scoped(() => splitImpl("split", asArray(x, "split"), indicesOrSections, axis, true));
}

function splitImpl(op: string, a: Array, spec: number | readonly number[], axis: number, even: boolean): Array[] {
  if (a.ndim === 0) throw new ShapeError(`${op}: cannot split a zero-dimensional array`);
  const ax = normalizeAxis(axis, a.ndim, op);
  const n = a.shape[ax] as number;
  let bounds: number[];
  if (typeof spec === "number") {
    if (!Number.isInteger(spec) || spec <= 0)
      throw new ShapeError(`${op}: the number of sections must be a positive integer, got ${spec}`);
    if (even && n % spec !== 0) {
      throw new ShapeError(
        `${op}: axis ${ax} of size ${n} in ${fmtAval(a.aval)} cannot be split into ${spec} equal sections; use arraySplit for unequal ones`,
      );
    }
    const each = Math.floor(n / spec);
    const extra = n % spec;
    bounds = [0];
    for (let i = 0; i < spec; i++) bounds.push((bounds[i] as number) + each + (i < extra ? 1 : 0));
  } else {
    const clampIndex = (v: number) => {
      if (!Number.isInteger(v)) throw new ShapeError(`${op}: split index ${v} is not an integer`);
      return v < 0 ? Math.max(v + n, 0) : Math.min(v, n);
    };
    bounds = [0, ...spec.map(clampIndex), n];
  }
  return bounds.slice(1).map((stop, i) => {
    const start = bounds[i] as number;
    return sliceAxis(a, ax, start, Math.max(start, stop));
  });
}

/**
 * Repeats the whole array `reps` times along each axis (numpy's tile): `reps` is padded with
 * leading 1s to the rank of x, or x with leading size-1 axes to the length of `reps`.
 */
export function tile(x: ArrayLike, reps: number | readonly number[]): Array {
  return scoped(() => {
    const a = asArray(x, "tile");
    const r = asList(reps).map((k) => checkCount("tile", "each rep", k));
    const d = Math.max(r.length, a.ndim);
    const times = [...new globalThis.Array<number>(d - r.length).fill(1), ...r];
    const shape = [...new globalThis.Array<number>(d - a.ndim).fill(1), ...a.shape];
    const b = bind1("broadcast_in_dim", [bind1("reshape", [a], { newShape: shape })], {
      shape: times.flatMap((k, i) => [k, shape[i] as number]),
      broadcastDimensions: shape.map((_, i) => 2 * i + 1),
    });
    return bind1("reshape", [b], { newShape: times.map((k, i) => k * (shape[i] as number)) });
  });
}

/**
 * Repeats each element `repeats` times along `axis` (the flattened array when null, numpy's
 * default). `repeats` may also be a list with one count per element along the axis.
 * `repeat([1, 2], 2)` is [1, 1, 2, 2].
 */
export function repeat(x: ArrayLike, repeats: number | readonly number[], axis: number | null = null): Array {
  return scoped(() => {
    let a = asArray(x, "repeat");
    if (axis === null) a = bind1("reshape", [a], { newShape: [a.size] });
    const ax = normalizeAxis(axis ?? 0, a.ndim, "repeat");
    const n = a.shape[ax] as number;
    const counts = asList(repeats).map((k) => checkCount("repeat", "repeats", k));
    if (counts.length === 1) {
      const k = counts[0] as number;
      const expanded = [...a.shape.slice(0, ax + 1), 1, ...a.shape.slice(ax + 1)];
      const target = expanded.map((d, i) => (i === ax + 1 ? k : d));
      const b = bind1("broadcast_in_dim", [bind1("reshape", [a], { newShape: expanded })], {
        shape: target,
        broadcastDimensions: range(target.length),
      });
      return bind1("reshape", [b], { newShape: a.shape.map((d, i) => (i === ax ? d * k : d)) });
    }
    if (counts.length !== n) {
      throw new ShapeError(`repeat: ${counts.length} repeats for axis ${ax} of size ${n} in ${fmtAval(a.aval)}`);
    }
    return take(
      a,
      counts.flatMap((k, i) => new globalThis.Array<number>(k).fill(i)),
      { axis: ax },
    );
  });
}

/** numpy's pad widths: an int, [before, after], or per-axis pairs ([[b0, a0], [b1, a1], …]; [[b, a]] for all). */
export type PadWidth = number | readonly number[] | readonly (readonly number[])[];

export interface PadOptions {
  /**
   * "constant" (default: `constantValues`), "edge" (the edge value), "reflect" (mirrored
   * without the edge: 3 2 | 1 2 3 | 2 1), "symmetric" (mirrored with it: 2 1 | 1 2 3 | 3 2),
   * "wrap" (periodic: 2 3 | 1 2 3 | 1 2). Widths past the axis size keep mirroring, as numpy.
   */
  mode?: "constant" | "edge" | "reflect" | "symmetric" | "wrap";
  /** The fill of "constant" mode, in the same forms as the widths (default 0). */
  constantValues?: PadWidth;
}

/** Expands a pad spec to one [before, after] pair per axis (numpy's `_as_pairs`). */
function asPairs(spec: PadWidth, ndim: number, what: string, counts: boolean): [number, number][] {
  const bad = () => new ShapeError(`pad: ${what} ${JSON.stringify(spec)} does not fit an array of rank ${ndim}`);
  const pair = (p: readonly number[]): [number, number] => {
    if (p.length === 1) return [p[0] as number, p[0] as number];
    if (p.length === 2) return [p[0] as number, p[1] as number];
    throw bad();
  };
  let pairs: [number, number][];
  if (typeof spec === "number") pairs = range(ndim).map(() => [spec, spec]);
  else if (spec.every((v) => typeof v === "number")) {
    const p = pair(spec as readonly number[]);
    pairs = range(ndim).map(() => p);
  } else if (spec.every((v) => globalThis.Array.isArray(v))) {
    const rows = (spec as readonly (readonly number[])[]).map(pair);
    if (rows.length === 1) pairs = range(ndim).map(() => rows[0] as [number, number]);
    else if (rows.length === ndim) pairs = rows;
    else throw bad();
  } else throw bad();
  for (const v of pairs.flat()) {
    if (typeof v !== "number" || (counts && (!Number.isInteger(v) || v < 0)))
      throw new ShapeError(`pad: ${what} must be non-negative integers, got ${JSON.stringify(spec)}`);
  }
  return pairs;
}

/** The source index of padded position i (−before ≤ i < n + after) in an axis of size n. */
const padIndex: Record<Exclude<NonNullable<PadOptions["mode"]>, "constant">, (i: number, n: number) => number> = {
  edge: (i, n) => Math.min(Math.max(i, 0), n - 1),
  reflect: (i, n) => {
    const p = 2 * (n - 1);
    if (p === 0) return 0;
    const m = ((i % p) + p) % p;
    return m < n ? m : p - m;
  },
  symmetric: (i, n) => {
    const p = 2 * n;
    const m = ((i % p) + p) % p;
    return m < n ? m : p - 1 - m;
  },
  wrap: (i, n) => ((i % n) + n) % n,
};

/**
 * Pads each axis with `before` and `after` elements (numpy's pad). Constant fills are full
 * arrays joined by concatenate; the other modes gather the mirrored/edge/periodic indices with
 * take. Axes are padded in order, so the corners of constant padding take the last axis' value.
 * `pad(x, 1)`, `pad(x, [0, 2])`, `pad(x, [[1, 1], [0, 2]], { mode: "reflect" })`.
 */
export function pad(x: ArrayLike, padWidth: PadWidth, opts: PadOptions = {}): Array {
  return scoped(() => {
    checkOptions("pad", opts, ["mode", "constantValues"], "np.pad(x, padWidth, { mode, constantValues })");
    const a = asArray(x, "pad");
    const mode = opts.mode ?? "constant";
    const widths = asPairs(padWidth, a.ndim, "padWidth", true);
    const backend = backendOf([a]).name;
    let r = a;
    if (mode === "constant") {
      const values = asPairs(opts.constantValues ?? 0, a.ndim, "constantValues", false);
      widths.forEach(([before, after], ax) => {
        const [vb, va] = values[ax] as [number, number];
        const piece = (w: number, v: number) =>
          full(
            r.shape.map((d, i) => (i === ax ? w : d)),
            v,
            { dtype: r.dtype, backend },
          );
        const parts = [...(before > 0 ? [piece(before, vb)] : []), r, ...(after > 0 ? [piece(after, va)] : [])];
        if (parts.length > 1) r = concatenate(parts, ax);
      });
    } else {
      const index = padIndex[mode];
      if (!index) throw new ShapeError(`pad: unknown mode ${JSON.stringify(mode)}`);
      widths.forEach(([before, after], ax) => {
        if (before === 0 && after === 0) return;
        const n = r.shape[ax] as number;
        if (n === 0) {
          throw new ShapeError(
            `pad: cannot extend the empty axis ${ax} of ${fmtAval(a.aval)} with mode "${mode}"; only "constant" can`,
          );
        }
        const idx = globalThis.Array.from({ length: before + n + after }, (_, i) => index(i - before, n));
        r = take(r, idx, { axis: ax });
      });
    }
    return fresh(r, x);
  });
}

/**
 * One-hot encoding (jax.nn.one_hot): `x[..., None] == arange(numClasses)` as `dtype`
 * (float32 by default), the class axis at `axis` (last by default). Values outside
 * [0, numClasses) (and non-integers, NaN) give all zeros.
 */
export function oneHot(x: ArrayLike, numClasses: number, opts: { dtype?: DType; axis?: number } = {}): Array {
  return scoped(() => {
    checkOptions("oneHot", opts, ["dtype", "axis"]);
    const a = asArray(x, "oneHot");
    checkCount("oneHot", "numClasses", numClasses);
    const dtype = checkDType(opts.dtype ?? "float32", "oneHot");
    const ax = normalizeAxis(opts.axis ?? -1, a.ndim + 1, "oneHot");
    const lhs = bind1("reshape", [a], { newShape: [...a.shape.slice(0, ax), 1, ...a.shape.slice(ax)] });
    const classes = arange(numClasses, undefined, 1, {
      dtype: a.dtype === "bool" ? "int32" : a.dtype,
      backend: backendOf([a]).name,
    });
    const rhs = bind1("reshape", [classes], {
      newShape: range(a.ndim + 1).map((i) => (i === ax ? numClasses : 1)),
    });
    return convert(equal(lhs, rhs), dtype, false);
  });
}

function triangle(name: "triu" | "tril", x: ArrayLike, k: number): Array {
  return scoped(() => {
    const a = asArray(x, name);
    if (a.ndim < 2) {
      throw new ShapeError(`${name}: needs a matrix or a batch of them (rank ≥ 2), got ${fmtAval(a.aval)}`);
    }
    if (!Number.isInteger(k)) throw new ShapeError(`${name}: k must be an integer, got ${k}`);
    const backend = backendOf([a]).name;
    const [m, n] = a.shape.slice(-2) as [number, number];
    const rows = bind1("reshape", [arange(m, undefined, 1, { backend })], { newShape: [m, 1] });
    const cols = arange(n, undefined, 1, { backend });
    const diag = add(rows, k);
    const keep = name === "tril" ? lessEqual(cols, diag) : greaterEqual(cols, diag);
    return where(keep, a, full([], 0, { dtype: a.dtype, backend }));
  });
}

/** The upper triangle of the last two axes: elements with j − i ≥ k kept, the rest 0. */
export function triu(x: ArrayLike, k = 0): Array {
  return triangle("triu", x, k);
}

/** The lower triangle of the last two axes: elements with j − i ≤ k kept, the rest 0. */
export function tril(x: ArrayLike, k = 0): Array {
  return triangle("tril", x, k);
}
