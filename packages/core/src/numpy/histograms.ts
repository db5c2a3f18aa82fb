/**
 * Counting and binning: `bincount`, `digitize`, `histogram`, `interp`. Each is a binary search
 * (`searchsorted`) or a scatter-add: O(n log bins) or O(n), deterministic on every backend.
 */
import type { Array, ArrayLike } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind, bind1 } from "../core/trace.js";
import { floatResult, isFloat } from "../dtype.js";
import { DTypeError, ShapeError } from "../errors.js";
import { asArray, backendOf, convert, promoteOnly } from "./convert.js";
import { full, linspace } from "./creation.js";
import {
  add,
  clip,
  divide,
  equal,
  floor,
  greater,
  greaterEqual,
  less,
  lessEqual,
  logicalAnd,
  multiply,
  subtract,
  where,
} from "./elementwise.js";
import { dataDependentSize } from "./indices.js";
import { concatenate, take } from "./join.js";
import { checkOptions } from "./options.js";
import { max, min, sum } from "./reduce.js";
import { reshape } from "./shape.js";
import { searchsorted } from "./sorting.js";

export interface BincountOptions {
  /** A weight per element (default 1): the bins sum weights instead of counting. */
  weights?: ArrayLike;
  /** At least this many bins (numpy's minlength). */
  minlength?: number;
  /** Exactly this many bins (JAX's `length`, required under a transform): larger values are dropped. */
  length?: number;
}

/**
 * Counts of each non-negative integer in the 1-D `x` (numpy's bincount): out[v] = #{i : x[i] = v}
 * (or Σ weights). The number of bins is max(x) + 1 (at least `minlength`), read eagerly, or
 * `length`. Negative values are an error eagerly (numpy's) and dropped with `length`.
 */
export function bincount(x: ArrayLike, opts: BincountOptions = {}): Array {
  return scoped(() => {
    checkOptions("bincount", opts, ["weights", "minlength", "length"]);
    const a = asArray(x, "bincount");
    if (a.ndim !== 1 || isFloat(a.dtype)) {
      throw new DTypeError(`bincount: x must be a 1-D array of non-negative integers, got ${fmtAval(a.aval)}`);
    }
    const idx = convert(a, "int32", false);
    let n = opts.length;
    if (n === undefined) {
      const top = a.size === 0 ? 0 : dataDependentSize("bincount", add(max(idx), 1), "bins");
      if (a.size > 0 && dataDependentSize("bincount", min(idx), "bins") < 0) {
        throw new ShapeError("bincount: x must be non-negative");
      }
      n = Math.max(top, opts.minlength ?? 0);
    }
    if (!Number.isInteger(n) || n < 0)
      throw new ShapeError(`bincount: length must be a non-negative integer, got ${n}`);
    const w =
      opts.weights === undefined
        ? full([a.size], 1, { dtype: "int32", backend: backendOf([a]).name })
        : asArray(opts.weights, "bincount");
    if (w.ndim !== 1 || w.size !== a.size) {
      throw new ShapeError(`bincount: weights must have the shape of x [${a.size}], got ${fmtAval(w.aval)}`);
    }
    // Negative values must not wrap around (the scatter counts negatives from the end): drop them.
    const safe = where(less(idx, 0), n, idx);
    return bind1("scatter", [full([n], 0, { dtype: w.dtype, backend: backendOf([a]).name }), safe, w], {
      axis: 0,
      mode: "add",
    });
  });
}

/**
 * The indices of the bins each value of `x` falls in (numpy's digitize): with increasing `bins`,
 * i such that bins[i−1] ≤ x < bins[i] (bins[i−1] < x ≤ bins[i] with `right`); decreasing bins
 * count from the other end. Out-of-range values give 0 or len(bins).
 */
export function digitize(x: ArrayLike, bins: ArrayLike, opts: { right?: boolean } = {}): Array {
  return scoped(() => {
    checkOptions("digitize", opts, ["right"]);
    const b = asArray(bins, "digitize");
    if (b.ndim !== 1) throw new ShapeError(`digitize: bins must be 1-D, got ${fmtAval(b.aval)}`);
    const right = opts.right ?? false;
    const v = asArray(x, "digitize");
    if (b.size === 0) return full(v.shape, 0, { dtype: "int32", backend: backendOf([v]).name });
    const inc = searchsorted(b, v, { side: right ? "left" : "right" });
    const rev = bind1("rev", [b], { dimensions: [0] });
    const dec = subtract(b.size, searchsorted(rev, v, { side: right ? "left" : "right" }));
    const first = take(b, [0]);
    const last = take(b, [b.size - 1]);
    const increasing = reshape(greaterEqual(last, first), []);
    return convert(where(increasing, inc, dec), "int32", false);
  });
}

export interface HistogramOptions {
  /** The number of equal-width bins (default 10), or the bin edges (monotonically increasing). */
  bins?: number | ArrayLike;
  /** [low, high] of the bins (default: the data's min and max); values outside are not counted. */
  range?: readonly [number, number];
  /** A weight per value (default 1). */
  weights?: ArrayLike;
  /** Return a density (the integral over the range is 1) instead of counts. */
  density?: boolean;
}

/**
 * numpy's histogram of the flattened `x`: [counts (or density), bin edges]. Bins are half open
 * [edge_i, edge_{i+1}) except the last, which includes its right edge.
 */
export function histogram(x: ArrayLike, opts: HistogramOptions = {}): [Array, Array] {
  return scoped(() => {
    checkOptions("histogram", opts, ["bins", "range", "weights", "density"]);
    const a0 = asArray(x, "histogram");
    const a = reshape(convert(a0, floatResult(a0.dtype)), [a0.size]);
    const backend = backendOf([a]).name;
    const bins = opts.bins ?? 10;
    let edges: Array;
    if (typeof bins === "number") {
      if (!Number.isInteger(bins) || bins < 1)
        throw new ShapeError(`histogram: bins must be a positive integer, got ${bins}`);
      let lo: Array;
      let hi: Array;
      if (opts.range) {
        const [l, h] = opts.range;
        if (!(l <= h)) throw new ShapeError(`histogram: range must be [low, high] with low ≤ high, got [${l}, ${h}]`);
        lo = full([], l, { dtype: a.dtype, backend });
        hi = full([], h, { dtype: a.dtype, backend });
      } else if (a.size === 0) {
        lo = full([], 0, { dtype: a.dtype, backend });
        hi = full([], 1, { dtype: a.dtype, backend });
      } else {
        lo = min(a);
        hi = max(a);
      }
      // numpy widens an empty range to [lo − 0.5, hi + 0.5].
      const same = equal(lo, hi);
      lo = where(same, subtract(lo, 0.5), lo);
      hi = where(same, add(hi, 0.5), hi);
      const t = linspace(0, 1, bins + 1, { dtype: a.dtype, backend });
      edges = add(lo, multiply(t, subtract(hi, lo)));
    } else {
      edges = convert(asArray(bins, "histogram"), a.dtype);
      if (edges.ndim !== 1 || edges.size < 2)
        throw new ShapeError(`histogram: bin edges must be 1-D with ≥ 2 edges, got ${fmtAval(edges.aval)}`);
    }
    const nb = edges.size - 1;
    const first = reshape(take(edges, [0]), []);
    const last = reshape(take(edges, [nb]), []);
    // The bin: searchsorted right − 1; the last edge belongs to the last bin.
    let bin = subtract(searchsorted(edges, a, { side: "right" }), 1);
    bin = where(equal(a, last), nb - 1, bin);
    const inside = logicalAnd(greaterEqual(a, first), lessEqual(a, last));
    const slot = where(inside, bin, nb);
    const w =
      opts.weights === undefined
        ? full([a.size], 1, { dtype: opts.density ? a.dtype : "int32", backend })
        : reshape(asArray(opts.weights, "histogram"), [-1]);
    if (w.size !== a.size) throw new ShapeError(`histogram: weights must have x's size ${a.size}, got ${w.size}`);
    let counts = bind1("scatter", [full([nb], 0, { dtype: w.dtype, backend }), slot, w], { axis: 0, mode: "add" });
    if (opts.density) {
      const widths = subtract(take(edges, rangeArray(1, nb + 1)), take(edges, rangeArray(0, nb)));
      counts = divide(divide(counts, sum(counts)), widths);
    }
    return [counts, edges];
  });
}

const rangeArray = (from: number, to: number) => globalThis.Array.from({ length: to - from }, (_, i) => from + i);

export interface InterpOptions {
  /** The value left of xp[0] (default fp[0]). */
  left?: number;
  /** The value right of xp[-1] (default fp[-1]). */
  right?: number;
  /** A period: x and xp are taken modulo it (xp need not then be sorted). */
  period?: number;
}

/**
 * Piecewise-linear interpolation of the points (xp, fp) at `x` (numpy's interp): xp must be
 * increasing; outside it, `left`/`right` (default the end values).
 */
export function interp(x: ArrayLike, xp: ArrayLike, fp: ArrayLike, opts: InterpOptions = {}): Array {
  return scoped(() => {
    checkOptions("interp", opts, ["left", "right", "period"]);
    let v = asArray(x, "interp");
    let xs = asArray(xp, "interp");
    let fs = asArray(fp, "interp");
    if (xs.ndim !== 1 || fs.ndim !== 1 || xs.size !== fs.size || xs.size === 0) {
      throw new ShapeError(
        `interp: xp and fp must be 1-D of the same nonzero length, got ${fmtAval(xs.aval)}, ${fmtAval(fs.aval)}`,
      );
    }
    const d = floatResult((promoteOnly([v, xs, fs])[0] as Array).dtype);
    [v, xs, fs] = [convert(v, d), convert(xs, d), convert(fs, d)];
    if (opts.period !== undefined) {
      const p = Math.abs(opts.period);
      if (!(p > 0)) throw new ShapeError(`interp: period must be nonzero, got ${opts.period}`);
      const wrap = (a: Array) => subtract(a, multiply(floor(divide(a, p)), p));
      v = wrap(v);
      const xw = wrap(xs);
      const [sx, perm] = sortPair(xw);
      const sf = take(fs, perm);
      // Extend by one period on each side.
      xs = join([subtract(take(sx, [sx.size - 1]), p), sx, add(take(sx, [0]), p)]);
      fs = join([take(sf, [sf.size - 1]), sf, take(sf, [0])]);
    }
    const n = xs.size;
    const i = clip(searchsorted(xs, v, { side: "right" }), 1, Math.max(n - 1, 1));
    const x0 = take(xs, subtract(i, 1), { mode: "clip" });
    const x1 = take(xs, i, { mode: "clip" });
    const f0 = take(fs, subtract(i, 1), { mode: "clip" });
    const f1 = take(fs, i, { mode: "clip" });
    const dx = subtract(x1, x0);
    const t = where(equal(dx, 0), 0, divide(subtract(v, x0), where(equal(dx, 0), 1, dx)));
    let out = add(f0, multiply(t, subtract(f1, f0)));
    if (n === 1) out = bind1("broadcast_in_dim", [reshape(fs, [])], { shape: v.shape, broadcastDimensions: [] });
    if (opts.period === undefined) {
      out = where(less(v, take(xs, [0])), opts.left ?? take(fs, [0]), out);
      out = where(greater(v, take(xs, [n - 1])), opts.right ?? take(fs, [n - 1]), out);
    }
    return out;
  });
}

function sortPair(x: Array): [Array, Array] {
  return bind("sort", [x], { axis: 0, descending: false }) as [Array, Array];
}

function join(parts: Array[]): Array {
  return concatenate(parts, 0);
}
