/**
 * Cumulative reductions: numpy's `cumsum`/`cumprod` (and `cummax`/`cummin`, numpy's
 * `maximum.accumulate`/`minimum.accumulate`), and `lax`'s versions with XLA's defaults.
 * Each call is one fused kernel (see primitives/scan.ts for the formula and its cost).
 */
import type { Array, ArrayLike } from "../array.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import type { DType } from "../dtype.js";
import type { ScanPrimitive } from "../primitives/types.js";
import { normalizeAxis } from "../shape.js";
import { convert, prepare } from "./convert.js";
import { checkOptions } from "./options.js";

export interface CumulativeOptions {
  /** The axis to accumulate along; `null` (numpy's default) flattens the array first. */
  axis?: number | null;
  /** Accumulate from the end: out[i] = x[i] ⊕ x[i+1] ⊕ … ⊕ x[n−1]. */
  reverse?: boolean;
  /** Convert to this dtype first (numpy's `dtype` argument). */
  dtype?: DType;
}

/** Reads `(x, axis?, opts?)` or `(x, { axis, ...opts })`. */
function cumArgs(
  name: string,
  axis: number | null | CumulativeOptions | undefined,
  opts: CumulativeOptions | undefined,
) {
  const usage = `np.${name}(x, axis, { reverse, dtype })`;
  if (axis !== null && typeof axis === "object") {
    checkOptions(name, axis, ["axis", "reverse", "dtype"], usage);
    return axis;
  }
  checkOptions(name, opts, ["reverse", "dtype"], usage);
  return { ...opts, axis: axis ?? opts?.axis ?? null };
}

function cumulative(name: string, prim: ScanPrimitive, boolTo: DType | null) {
  return (x: ArrayLike, axis?: number | null | CumulativeOptions, opts?: CumulativeOptions): Array =>
    scoped(() => {
      const o = cumArgs(name, axis, opts);
      let a = prepare(name, [x])[0] as Array;
      if (o.dtype) a = convert(a, o.dtype, false);
      else if (a.dtype === "bool" && boolTo) a = convert(a, boolTo, false);
      let ax: number;
      if (o.axis === null || o.axis === undefined) {
        a = bind1("reshape", [a], { newShape: [a.size] });
        ax = 0;
      } else ax = normalizeAxis(o.axis, a.ndim, name);
      return bind1(prim, [a], { axis: ax, reverse: o.reverse ?? false });
    });
}

/**
 * Cumulative sum along `axis` (the flattened array by default): out[i] = Σ_{j ≤ i} x[j].
 * bool sums as int32 (as `np.sum`); integers wrap. `reverse` sums from the end.
 *
 * @example np.cumsum(np.array([[1, 2], [3, 4]]), 1)  // [[1, 3], [3, 7]]
 */
export const cumsum = cumulative("cumsum", "cumsum", "int32");
/** Cumulative product along `axis` (flattened by default): out[i] = Π_{j ≤ i} x[j]; bool as int32. */
export const cumprod = cumulative("cumprod", "cumprod", "int32");
/** Running maximum along `axis` (flattened by default), NaN-propagating (numpy's `maximum.accumulate`). */
export const cummax = cumulative("cummax", "cummax", null);
/** Running minimum along `axis` (flattened by default), NaN-propagating (numpy's `minimum.accumulate`). */
export const cummin = cumulative("cummin", "cummin", null);

/** Options of the `lax` cumulative ops: XLA's defaults (axis 0, forward). */
export interface LaxCumulativeOptions {
  axis?: number;
  reverse?: boolean;
}

function laxCumulative(prim: ScanPrimitive) {
  return (x: Array, opts: LaxCumulativeOptions = {}): Array =>
    bind1(prim, [x], { axis: normalizeAxis(opts.axis ?? 0, x.ndim, prim), reverse: opts.reverse ?? false });
}

/** `lax.cumsum(x, { axis = 0, reverse = false })`: no promotion, no flattening (bool is a DTypeError). */
export const laxCumsum = laxCumulative("cumsum");
/** `lax.cumprod(x, { axis = 0, reverse = false })`. */
export const laxCumprod = laxCumulative("cumprod");
/** `lax.cummax(x, { axis = 0, reverse = false })`, NaN-propagating. */
export const laxCummax = laxCumulative("cummax");
/** `lax.cummin(x, { axis = 0, reverse = false })`, NaN-propagating. */
export const laxCummin = laxCumulative("cummin");
