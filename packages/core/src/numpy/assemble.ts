/**
 * Building and reading arrays by numpy's conveniences: `copy`, `asarray`, `atleast1d/2d/3d`,
 * `hstack`/`vstack`/`dstack`/`columnStack`, `meshgrid`, `diff`, `diag`, `diagonal`, `trace`,
 * `cross`. All are compositions of views, slices, concatenations and elementwise ops, so they
 * work under every transform.
 */
import { Array, type ArrayLike } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { checkDType, type DType } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { normalizeAxis } from "../shape.js";
import { asArray, backendOf, convert, fresh } from "./convert.js";
import { arange } from "./creation.js";
import { equal, multiply, subtract, where } from "./elementwise.js";
import { concatenate, take } from "./join.js";
import { moveaxis } from "./manipulation.js";
import { checkOptions } from "./options.js";
import { broadcastTo, expandDims, reshape } from "./shape.js";

const range = (n: number) => globalThis.Array.from({ length: n }, (_, i) => i);

/** A copy of `x` with its own buffer (numpy's copy; `array(x)` does the same). */
export function copy(x: ArrayLike): Array {
  return scoped(() => bind1("copy", [asArray(x, "copy")], {}));
}

/**
 * `x` as an array (numpy's asarray): arrays come back as they are (a new handle on the same
 * buffer, so disposing it never frees `x`), JS values are converted by the dtype rule;
 * `dtype` converts.
 */
export function asarray(x: ArrayLike, opts: { dtype?: DType } = {}): Array {
  return scoped(() => {
    checkOptions("asarray", opts, ["dtype"]);
    const a = asArray(x, "asarray");
    const d = opts.dtype === undefined ? a : convert(a, checkDType(opts.dtype, "asarray"), false);
    return fresh(d.weakType && !(x instanceof Array) ? convert(d, d.dtype, false) : d, x);
  });
}

/** `x` with at least one dim (a scalar becomes [1]). */
export function atleast1d(x: ArrayLike): Array {
  return scoped(() => {
    const a = asArray(x, "atleast1d");
    return fresh(a.ndim >= 1 ? a : reshape(a, [1]), x);
  });
}

/** `x` with at least two dims: a scalar [1, 1], a vector [1, n]. */
export function atleast2d(x: ArrayLike): Array {
  return scoped(() => {
    const a = asArray(x, "atleast2d");
    return fresh(a.ndim >= 2 ? a : reshape(a, a.ndim === 0 ? [1, 1] : [1, a.size]), x);
  });
}

/** `x` with at least three dims: a scalar [1, 1, 1], a vector [1, n, 1], a matrix [m, n, 1]. */
export function atleast3d(x: ArrayLike): Array {
  return scoped(() => {
    const a = asArray(x, "atleast3d");
    if (a.ndim >= 3) return fresh(a, x);
    const shape = a.ndim === 0 ? [1, 1, 1] : a.ndim === 1 ? [1, a.size, 1] : [...a.shape, 1];
    return reshape(a, shape);
  });
}

/** Joins along the second axis (the first for 1-D arrays), as numpy's hstack. */
export function hstack(arrays: readonly ArrayLike[]): Array {
  return scoped(() => {
    const xs = arrays.map(atleast1d);
    return concatenate(xs, (xs[0]?.ndim ?? 1) === 1 ? 0 : 1);
  });
}

/** Joins along the first axis after making every array at least 2-D (rows), as numpy's vstack. */
export function vstack(arrays: readonly ArrayLike[]): Array {
  return scoped(() => concatenate(arrays.map(atleast2d), 0));
}

/** Joins along the third axis after making every array at least 3-D, as numpy's dstack. */
export function dstack(arrays: readonly ArrayLike[]): Array {
  return scoped(() => concatenate(arrays.map(atleast3d), 2));
}

/** Joins 1-D arrays as columns (and 2-D arrays as they are) into a 2-D array, as numpy's column_stack. */
export function columnStack(arrays: readonly ArrayLike[]): Array {
  return scoped(() =>
    concatenate(
      arrays.map((x) => {
        const a = asArray(x, "columnStack");
        return a.ndim < 2 ? reshape(a, [a.size, 1]) : a;
      }),
      1,
    ),
  );
}

export interface MeshgridOptions {
  /** "xy" (default, Cartesian: the first two outputs are transposed) or "ij" (matrix indexing). */
  indexing?: "xy" | "ij";
  /** Keep size-1 dims instead of broadcasting (broadcast views either way, so no memory is spent). */
  sparse?: boolean;
}

const isOptions = (v: unknown): v is MeshgridOptions =>
  v !== null && typeof v === "object" && !(v instanceof Array) && !globalThis.Array.isArray(v);

/**
 * Coordinate grids from 1-D coordinate vectors (numpy's meshgrid): `meshgrid(x, y)` gives two
 * arrays of shape [len(y), len(x)] ("xy"), or [len(x), len(y)] with `{ indexing: "ij" }`.
 * An options object may come last.
 */
export function meshgrid(...args: (ArrayLike | MeshgridOptions)[]): Array[] {
  return scoped(() => {
    const last = args[args.length - 1];
    const opts: MeshgridOptions = isOptions(last) ? last : {};
    const vs = (isOptions(last) ? args.slice(0, -1) : args) as ArrayLike[];
    checkOptions("meshgrid", opts, ["indexing", "sparse"]);
    const indexing = opts.indexing ?? "xy";
    if (indexing !== "xy" && indexing !== "ij")
      throw new ShapeError(`meshgrid: indexing must be "xy" or "ij", got ${JSON.stringify(indexing)}`);
    const xs = vs.map((v) => reshape(asArray(v, "meshgrid"), [-1]));
    const n = xs.length;
    const order = range(n);
    if (indexing === "xy" && n >= 2) [order[0], order[1]] = [1, 0];
    const shape = order.map((k) => (xs[k] as Array).size);
    return xs.map((x, k) => {
      const dim = order.indexOf(k);
      const view = bind1("reshape", [x], { newShape: shape.map((s, d) => (d === dim ? s : 1)) });
      return opts.sparse ? view : broadcastTo(view, shape);
    });
  });
}

/** Options of `diff`. */
export interface DiffOptions {
  /** The axis (default −1, the last). */
  axis?: number;
  /** Values put before / after `x` along the axis first (scalars are broadcast). */
  prepend?: ArrayLike;
  append?: ArrayLike;
}

/**
 * The n-th discrete difference along `axis` (numpy's diff): out[i] = x[i+1] − x[i], n times.
 * bool differences are `!=` (numpy's). `diff(x)`, `diff(x, 2)`, `diff(x, { axis: 0 })`.
 */
export function diff(x: ArrayLike, n: number | DiffOptions = 1, opts: DiffOptions = {}): Array {
  return scoped(() => {
    const o = typeof n === "object" ? n : opts;
    const times = typeof n === "number" ? n : 1;
    checkOptions("diff", o, ["axis", "prepend", "append"], "np.diff(x, n, { axis, prepend, append })");
    if (!Number.isInteger(times) || times < 0)
      throw new ShapeError(`diff: n must be a non-negative integer, got ${times}`);
    let a = asArray(x, "diff");
    if (a.ndim === 0) throw new ShapeError("diff: needs an array of rank ≥ 1, got a scalar");
    const axis = normalizeAxis(o.axis ?? -1, a.ndim, "diff");
    const edge = (v: ArrayLike) => {
      const e = asArray(v, "diff");
      const shape = a.shape.map((s, d) => (d === axis ? (e.ndim === 0 ? 1 : (e.shape[d] ?? 1)) : s));
      return e.ndim === 0 ? broadcastTo(e, shape) : e;
    };
    if (o.prepend !== undefined || o.append !== undefined) {
      a = concatenate(
        [...(o.prepend !== undefined ? [edge(o.prepend)] : []), a, ...(o.append !== undefined ? [edge(o.append)] : [])],
        axis,
      );
    }
    for (let t = 0; t < times; t++) {
      const m = a.shape[axis] as number;
      const part = (from: number, to: number) =>
        bind1("slice", [a], {
          start: a.shape.map((_, d) => (d === axis ? from : 0)),
          limit: a.shape.map((s, d) => (d === axis ? to : s)),
          strides: a.shape.map(() => 1),
        });
      const hi = part(Math.min(1, m), m);
      const lo = part(0, Math.max(m - 1, 0));
      a = a.dtype === "bool" ? bind1("ne", [hi, lo], {}) : subtract(hi, lo);
    }
    return fresh(a, x);
  });
}

export interface DiagonalOptions {
  /** The diagonal's offset: > 0 above the main one, < 0 below (default 0). */
  offset?: number;
  /** The two axes the diagonal runs over (default 0 and 1); it becomes the last axis. */
  axis1?: number;
  axis2?: number;
}

/**
 * The diagonal over `axis1`, `axis2` (numpy's diagonal), as the last axis: a strided view of
 * the two axes merged (no copy eagerly).
 */
export function diagonal(x: ArrayLike, opts: DiagonalOptions = {}): Array {
  return scoped(() => {
    checkOptions("diagonal", opts, ["offset", "axis1", "axis2"]);
    const a = asArray(x, "diagonal");
    if (a.ndim < 2) throw new ShapeError(`diagonal: needs an array of rank ≥ 2, got ${fmtAval(a.aval)}`);
    const a1 = normalizeAxis(opts.axis1 ?? 0, a.ndim, "diagonal");
    const a2 = normalizeAxis(opts.axis2 ?? 1, a.ndim, "diagonal");
    if (a1 === a2) throw new ShapeError(`diagonal: axis1 and axis2 must differ, both are ${a1}`);
    const k = opts.offset ?? 0;
    if (!Number.isInteger(k)) throw new ShapeError(`diagonal: offset must be an integer, got ${k}`);
    const rest = range(a.ndim).filter((d) => d !== a1 && d !== a2);
    const t = bind1("transpose", [a], { perm: [...rest, a1, a2] });
    const [n, m] = [a.shape[a1] as number, a.shape[a2] as number];
    const lead = rest.map((d) => a.shape[d] as number);
    // Rows i from max(0, −k), columns i + k; length max(0, min(n, m − k) − max(0, −k)).
    const r0 = Math.max(0, -k);
    const len = Math.max(0, Math.min(n, m - k) - r0);
    if (len === 0)
      return reshape(
        bind1("slice", [t], { start: t.shape.map(() => 0), limit: [...lead, 0, 0], strides: t.shape.map(() => 1) }),
        [...lead, 0],
      );
    const flat = bind1("reshape", [t], { newShape: [...lead, n * m] });
    const start = r0 * m + r0 + k;
    return bind1("slice", [flat], {
      start: [...lead.map(() => 0), start],
      limit: [...lead, start + (len - 1) * (m + 1) + 1],
      strides: [...lead.map(() => 1), m + 1],
    });
  });
}

/**
 * numpy's diag: of a 1-D `v`, the square matrix with `v` on diagonal `k`; of a 2-D array, its
 * diagonal `k`.
 */
export function diag(v: ArrayLike, k = 0): Array {
  return scoped(() => {
    const a = asArray(v, "diag");
    if (!Number.isInteger(k)) throw new ShapeError(`diag: k must be an integer, got ${k}`);
    if (a.ndim === 2) return bind1("copy", [diagonal(a, { offset: k })], {});
    if (a.ndim !== 1) throw new ShapeError(`diag: needs a 1-D or 2-D array, got ${fmtAval(a.aval)}`);
    const n = a.size + Math.abs(k);
    // out[i, j] = v[i − max(0, −k)] where j − i = k, else 0.
    const ints = { dtype: "int32" as const, backend: backendOf([a]).name };
    const i = reshape(arange(0, n, 1, ints), [n, 1]);
    const j = reshape(arange(0, n, 1, ints), [1, n]);
    const rowValues = take(a, subtract(i, Math.max(0, -k)), { axis: 0, mode: "clip" });
    return where(equal(subtract(j, i), k), rowValues, 0);
  });
}

/** The sum along a diagonal (numpy's trace), over `axis1`, `axis2` (default 0, 1). */
export function trace(x: ArrayLike, opts: DiagonalOptions = {}): Array {
  return scoped(() => {
    const d = diagonal(x, opts);
    const r = bind1("reduce_sum", [d.dtype === "bool" ? convert(d, "int32") : d], { axes: [d.ndim - 1] });
    return r;
  });
}

export interface CrossOptions {
  /** The axis of the vectors in a, b and the result (defaults −1); `axis` sets all three. */
  axisa?: number;
  axisb?: number;
  axisc?: number;
  axis?: number;
}

/**
 * The cross product of 3-vectors (or 2-vectors, whose z is 0; two 2-vectors give the scalar z)
 * along the vector axis, broadcasting the rest (numpy's cross).
 */
export function cross(a: ArrayLike, b: ArrayLike, opts: CrossOptions = {}): Array {
  return scoped(() => {
    checkOptions("cross", opts, ["axisa", "axisb", "axisc", "axis"]);
    let [x, y] = [asArray(a, "cross"), asArray(b, "cross")];
    const ax = (v: Array, o: number | undefined) => normalizeAxis(opts.axis ?? o ?? -1, v.ndim, "cross");
    x = moveaxis(x, ax(x, opts.axisa), -1);
    y = moveaxis(y, ax(y, opts.axisb), -1);
    const nx = x.shape[x.ndim - 1] as number;
    const ny = y.shape[y.ndim - 1] as number;
    if ((nx !== 2 && nx !== 3) || (ny !== 2 && ny !== 3)) {
      throw new ShapeError(`cross: the vectors must have 2 or 3 components, got ${nx} and ${ny}`);
    }
    const comp = (v: Array, i: number) => {
      if (i >= (v.shape[v.ndim - 1] as number)) return convert(asArray(0, "cross"), v.dtype, false);
      const start = v.shape.map((_, d) => (d === v.ndim - 1 ? i : 0));
      const limit = v.shape.map((s, d) => (d === v.ndim - 1 ? i + 1 : s));
      return reshape(bind1("slice", [v], { start, limit, strides: v.shape.map(() => 1) }), v.shape.slice(0, -1));
    };
    const [x0, x1, x2] = [comp(x, 0), comp(x, 1), comp(x, 2)];
    const [y0, y1, y2] = [comp(y, 0), comp(y, 1), comp(y, 2)];
    const z = subtract(multiply(x0, y1), multiply(x1, y0));
    if (nx === 2 && ny === 2) return z;
    const cx = subtract(multiply(x1, y2), multiply(x2, y1));
    const cy = subtract(multiply(x2, y0), multiply(x0, y2));
    const c = concatenate([expandDims(cx, -1), expandDims(cy, -1), expandDims(z, -1)], -1);
    return moveaxis(c, -1, opts.axis ?? opts.axisc ?? -1);
  });
}
