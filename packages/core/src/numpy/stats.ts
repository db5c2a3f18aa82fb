/**
 * Statistics and logical reductions built from the reduction and elementwise functions:
 * var/std, logsumexp, all/any, nansum/nanmean. Axis arguments follow np.sum:
 * `(x, axis?, opts?)` or `(x, { axis, ...opts })`.
 */
import type { Array, ArrayLike, Axis, ReduceOptions } from "../array.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { type DType, floatResult, isFloat } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { normalizeAxes } from "../shape.js";
import { stopGradient } from "../transforms/custom.js";
import { asArray, backendOf, convert } from "./convert.js";
import { full } from "./creation.js";
import {
  abs,
  add,
  divide,
  exp,
  less,
  log,
  logicalNot,
  multiply,
  notEqual,
  sqrt,
  subtract,
  where,
} from "./elementwise.js";
import { mean, reduceArgs, sum } from "./reduce.js";

/** Options of var/std: `ddof` is the delta degrees of freedom (the divisor is N − ddof). */
export interface VarOptions extends ReduceOptions {
  ddof?: number;
}

/** float16 is computed in float32 and rounded once at the end (as JAX upcasts it for reductions). */
export const computeDType = (d: DType): DType => (d === "float16" ? "float32" : d);

/** The shape of a reduction's result. */
function reducedShape(shape: readonly number[], axes: readonly number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** The variance in the compute dtype (`v`) and the dtype of the public result (`out`). */
function varianceIn(op: string, x: ArrayLike, axis: Axis | VarOptions, opts: VarOptions | undefined) {
  const { axis: ax, o } = reduceArgs(op, axis, opts, ["ddof"]);
  const ddof = o.ddof ?? 0;
  if (!Number.isFinite(ddof)) throw new ShapeError(`${op}: ddof must be a finite number, got ${ddof}`);
  const a0 = asArray(x, op);
  const out = floatResult(a0.dtype);
  const a = convert(a0, computeDType(out));
  const axes = normalizeAxes(ax, a.ndim, op);
  const n = axes.reduce((k, d) => k * (a.shape[d] as number), 1);
  const centered = subtract(a, mean(a, axes, { keepdims: true }));
  const ss = sum(multiply(centered, centered), axes, { keepdims: o.keepdims ?? false });
  // N − ddof ≤ 0 divides by 0: Inf or NaN, numpy's result without its warning.
  return { v: divide(ss, Math.max(n - ddof, 0)), out };
}

/**
 * Variance over `axis`: mean(|x − mean(x)|²) · N / (N − ddof) (two-pass, so it is exact for
 * constant input). Integers give float32. `N − ddof ≤ 0` gives Inf or NaN, as numpy.
 * Exported from the namespace as `np.var` (JAX's name) and `np.variance`.
 */
export function variance(x: ArrayLike, axis?: Axis | VarOptions, opts?: VarOptions): Array {
  return scoped(() => {
    const { v, out } = varianceIn("var", x, axis, opts);
    return convert(v, out);
  });
}

/** Standard deviation over `axis`: √var(x, axis, { ddof }). */
export function std(x: ArrayLike, axis?: Axis | VarOptions, opts?: VarOptions): Array {
  return scoped(() => {
    const { v, out } = varianceIn("std", x, axis, opts);
    return convert(sqrt(v), out);
  });
}

/**
 * log Σ exp(x) over `axis`, computed as m + log Σ exp(x − m) with m the (finite) maximum, so it
 * neither overflows nor underflows. A slice of all −Inf (or an empty one) gives −Inf, one with
 * +Inf gives +Inf, NaN propagates. Integers give float32.
 */
export function logsumexp(x: ArrayLike, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array {
  return scoped(() => {
    const { axis: ax, o } = reduceArgs("logsumexp", axis, opts);
    const keepdims = o.keepdims ?? false;
    const a0 = asArray(x, "logsumexp");
    const out = floatResult(a0.dtype);
    const a = convert(a0, computeDType(out));
    const axes = normalizeAxes(ax, a.ndim, "logsumexp");
    if (axes.some((d) => a.shape[d] === 0)) {
      return full(reducedShape(a.shape, axes, keepdims), -Infinity, { dtype: out, backend: backendOf([a]).name });
    }
    const m = bind1("reshape", [bind1("reduce_max", [a], { axes })], { newShape: reducedShape(a.shape, axes, true) });
    // Shift by the maximum only where it is finite: ±Inf and NaN maxima shift by 0, so exp
    // sees them unchanged and log Σ gives −Inf, +Inf or NaN.
    // The shift is a constant for differentiation (as JAX's stop_gradient on the max): the
    // gradient is the softmax however the maxima tie.
    const shift = stopGradient(where(less(abs(m), Infinity), m, 0));
    const r = add(log(sum(exp(subtract(a, shift)), axes, { keepdims: true })), shift);
    const shaped = keepdims ? r : bind1("reshape", [r], { newShape: reducedShape(a.shape, axes, false) });
    return convert(shaped, out);
  });
}

function logicalReducer(name: "all" | "any", prim: "reduce_min" | "reduce_max", empty: boolean) {
  return (x: ArrayLike, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array =>
    scoped(() => {
      const { axis: ax, o } = reduceArgs(name, axis, opts);
      const keepdims = o.keepdims ?? false;
      const a = convert(asArray(x, name), "bool", false);
      const axes = normalizeAxes(ax, a.ndim, name);
      const shape = reducedShape(a.shape, axes, keepdims);
      if (axes.some((d) => a.shape[d] === 0)) return full(shape, empty, { backend: backendOf([a]).name });
      return bind1("reshape", [bind1(prim, [a], { axes })], { newShape: shape });
    });
}

/** Whether every element along `axis` is true (nonzero; NaN counts as true). An empty axis gives true. */
export const all = logicalReducer("all", "reduce_min", true);
/** Whether any element along `axis` is true (nonzero; NaN counts as true). An empty axis gives false. */
export const any = logicalReducer("any", "reduce_max", false);

/** The float input with NaN replaced by 0, and the mask of its non-NaN elements. */
export function withoutNaN(a: Array): { clean: Array; valid: Array } {
  const nan = notEqual(a, a);
  return { clean: where(nan, 0, a), valid: logicalNot(nan) };
}

/** Sum over `axis` treating NaN as 0 (an all-NaN slice sums to 0). Integers and bool as np.sum. */
export function nansum(x: ArrayLike, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array {
  return scoped(() => {
    const { axis: ax, o } = reduceArgs("nansum", axis, opts);
    const a = asArray(x, "nansum");
    const keepdims = o.keepdims ?? false;
    if (!isFloat(a.dtype)) return sum(a, ax, { keepdims });
    const c = convert(a, computeDType(a.dtype));
    return convert(sum(withoutNaN(c).clean, ax, { keepdims }), a.dtype);
  });
}

/** Mean over `axis` of the non-NaN elements (an all-NaN slice gives NaN). Integers give float32, as np.mean. */
export function nanmean(x: ArrayLike, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array {
  return scoped(() => {
    const { axis: ax, o } = reduceArgs("nanmean", axis, opts);
    const a = asArray(x, "nanmean");
    const keepdims = o.keepdims ?? false;
    if (!isFloat(a.dtype)) return mean(a, ax, { keepdims });
    const c = convert(a, computeDType(a.dtype));
    const { clean, valid } = withoutNaN(c);
    const count = convert(sum(valid, ax, { keepdims }), c.dtype);
    return convert(bind1("div", [sum(clean, ax, { keepdims }), count], {}), a.dtype);
  });
}
