/**
 * Reductions that skip NaN (numpy's nan-functions beyond nansum/nanmean): `nanmax`, `nanmin`,
 * `nanargmax`, `nanargmin`, `nanvar`, `nanstd`. An all-NaN slice gives NaN (and −1 for the
 * arg forms, as JAX; numpy raises). Integers and bool have no NaN: the plain reduction.
 */
import type { Array, ArrayLike, Axis, ReduceOptions } from "../array.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { floatResult, isFloat } from "../dtype.js";
import { asArray, convert } from "./convert.js";
import { multiply, subtract, where } from "./elementwise.js";
import { isnan } from "./math.js";
import { argmax, argmin, max, min, reduceArgs, sum } from "./reduce.js";
import { all, computeDType, type VarOptions, withoutNaN } from "./stats.js";

function nanExtreme(name: "nanmax" | "nanmin") {
  return (x: ArrayLike, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array =>
    scoped(() => {
      const { axis: ax, keepdims } = reduceArgs(name, axis, opts);
      const a = asArray(x, name);
      const plain = name === "nanmax" ? max : min;
      if (!isFloat(a.dtype)) return plain(a, ax, { keepdims });
      const nan = isnan(a);
      const r = plain(where(nan, name === "nanmax" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY, a), ax, {
        keepdims,
      });
      return where(all(nan, ax, { keepdims }), Number.NaN, r);
    });
}

/** The maximum over `axis` ignoring NaN (an all-NaN slice gives NaN). */
export const nanmax = nanExtreme("nanmax");
/** The minimum over `axis` ignoring NaN (an all-NaN slice gives NaN). */
export const nanmin = nanExtreme("nanmin");

function nanArg(name: "nanargmax" | "nanargmin") {
  return (x: ArrayLike, axis?: number | null, opts?: { keepdims?: boolean }): Array =>
    scoped(() => {
      const a = asArray(x, name);
      const plain = name === "nanargmax" ? argmax : argmin;
      if (!isFloat(a.dtype)) return plain(a, axis, opts);
      const nan = isnan(a);
      const r = plain(
        where(nan, name === "nanargmax" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY, a),
        axis,
        opts,
      );
      const allNan = all(nan, axis ?? null, { keepdims: opts?.keepdims ?? false });
      return where(allNan, -1, r);
    });
}

/** The index of the maximum along `axis` ignoring NaN (int32; −1 for an all-NaN slice, as JAX). */
export const nanargmax = nanArg("nanargmax");
/** The index of the minimum along `axis` ignoring NaN (int32; −1 for an all-NaN slice). */
export const nanargmin = nanArg("nanargmin");

function nanVariance(
  op: "nanvar" | "nanstd",
  x: ArrayLike,
  axis: Axis | VarOptions,
  opts: VarOptions | undefined,
): Array {
  const { axis: ax, o } = reduceArgs(op, axis, opts, ["ddof"]);
  const a0 = asArray(x, op);
  const out = floatResult(a0.dtype);
  const a = convert(a0, computeDType(out));
  const { clean, valid } = withoutNaN(a);
  const keepdims = o.keepdims ?? false;
  const count = convert(sum(valid, ax, { keepdims: true }), a.dtype);
  const mean = bind1("div", [sum(clean, ax, { keepdims: true }), count], {});
  const centered = where(valid, subtract(a, mean), 0);
  const ss = sum(multiply(centered, centered), ax, { keepdims });
  const n = keepdims ? count : sum(convert(valid, a.dtype), ax, { keepdims: false });
  const v = bind1("div", [ss, bind1("max", [subtract(n, o.ddof ?? 0), convert(subtract(n, n), a.dtype)], {})], {});
  return convert(op === "nanstd" ? bind1("sqrt", [v], {}) : v, out);
}

/** The variance over `axis` of the non-NaN elements (`ddof` as np.var); an all-NaN slice gives NaN. */
export function nanvar(x: ArrayLike, axis?: Axis | VarOptions, opts?: VarOptions): Array {
  return scoped(() => nanVariance("nanvar", x, axis, opts));
}

/** The standard deviation over `axis` of the non-NaN elements. */
export function nanstd(x: ArrayLike, axis?: Axis | VarOptions, opts?: VarOptions): Array {
  return scoped(() => nanVariance("nanstd", x, axis, opts));
}
