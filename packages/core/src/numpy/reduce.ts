import type { Array, ArrayLike, Axis, ReduceOptions } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { floatResult } from "../dtype.js";
import { DTypeError, ShapeError } from "../errors.js";
import type { ReducePrimitive } from "../primitives/types.js";
import { normalizeAxes, normalizeAxis } from "../shape.js";
import { convert, prepare } from "./convert.js";
import { divide } from "./elementwise.js";
import { checkOptions } from "./options.js";

/**
 * Reads `(x, axis?, opts?)` or `(x, { axis, ...opts })`; `o` holds the other options. The
 * options are checked (`keys` beside axis and keepdims), so `x.mean(0, true)` is an error naming
 * the options object rather than a silently dropped argument.
 */
export function reduceArgs<O extends ReduceOptions>(
  op: string,
  axis: Axis | O,
  opts: O | undefined,
  keys: readonly string[] = [],
): { axis: Axis; keepdims: boolean; o: Partial<O> } {
  const valid = ["axis", "keepdims", ...keys];
  const usage = `np.${op}(x, axis, { ${["keepdims", ...keys].join(", ")} })`;
  if (axis !== null && typeof axis === "object" && !globalThis.Array.isArray(axis)) {
    const o = axis as O;
    checkOptions(op, o, valid, usage);
    if (opts !== undefined)
      throw new DTypeError(`${op}: pass the axis inside the options object or before it, not both`);
    return { axis: o.axis, keepdims: o.keepdims ?? false, o };
  }
  checkOptions(op, opts, valid.slice(1), usage);
  const o: Partial<O> = opts ?? {};
  return { axis: axis as Axis, keepdims: o.keepdims ?? false, o };
}

function keepDims(r: Array, inShape: readonly number[], axes: readonly number[]): Array {
  return bind1("reshape", [r], { newShape: inShape.map((d, i) => (axes.includes(i) ? 1 : d)) });
}

function reducer(
  name: string,
  prim: Exclude<ReducePrimitive, "argmax" | "argmin">,
  boolTo: "int32" | "keep",
  needsNonEmpty: boolean,
) {
  return (x: ArrayLike, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array =>
    scoped(() => {
      const { axis: ax, keepdims } = reduceArgs(name, axis, opts);
      const [a0] = prepare(name, [x]);
      let a = a0 as Array;
      if (a.dtype === "bool" && boolTo === "int32") a = convert(a, "int32");
      const axes = normalizeAxes(ax, a.ndim, name);
      if (needsNonEmpty && axes.some((d) => a.shape[d] === 0)) {
        throw new ShapeError(`${name}: reduction over an empty axis of ${fmtAval(a.aval)} has no identity`);
      }
      const r = bind1(prim, [a], { axes });
      return keepdims ? keepDims(r, a.shape, axes) : r;
    });
}

/** Sum over `axis` (all axes by default); bool sums to int32. */
export const sum = reducer("sum", "reduce_sum", "int32", false);
/** Product over `axis`; bool multiplies as int32. */
export const prod = reducer("prod", "reduce_prod", "int32", false);
/** Maximum over `axis` (NaN propagates); an empty axis is an error. */
export const max = reducer("max", "reduce_max", "keep", true);
/** Minimum over `axis` (NaN propagates); an empty axis is an error. */
export const min = reducer("min", "reduce_min", "keep", true);

/** Arithmetic mean over `axis` (integers give float32). An empty axis gives NaN. */
export function mean(x: ArrayLike, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array {
  return scoped(() => {
    const { axis: ax, keepdims } = reduceArgs("mean", axis, opts);
    const [a0] = prepare("mean", [x]);
    const out = floatResult((a0 as Array).dtype);
    // float16 sums and counts overflow past 65504: accumulate in float32 (as JAX), round once.
    const a = convert(a0 as Array, out === "float16" ? "float32" : out);
    const axes = normalizeAxes(ax, a.ndim, "mean");
    const count = axes.reduce((n, d) => n * (a.shape[d] as number), 1);
    const m = divide(sum(a, axes, { keepdims }), count);
    return out === "float16" ? convert(m, "float16", m.weakType) : m;
  });
}

function argReducer(name: "argmax" | "argmin") {
  return (
    x: ArrayLike,
    axisOrOpts?: number | null | { axis?: number | null; keepdims?: boolean },
    more?: { keepdims?: boolean },
  ): Array =>
    scoped(() => {
      const inline = axisOrOpts !== null && typeof axisOrOpts === "object" && !globalThis.Array.isArray(axisOrOpts);
      const opts = inline ? axisOrOpts : more;
      checkOptions(name, opts, inline ? ["axis", "keepdims"] : ["keepdims"], `np.${name}(x, axis, { keepdims })`);
      const axis = inline ? axisOrOpts.axis : (axisOrOpts as number | null | undefined);
      const [a0] = prepare(name, [x]);
      let a = a0 as Array;
      let ax: number;
      if (axis === undefined || axis === null) {
        a = bind1("reshape", [a], { newShape: [a.size] });
        ax = 0;
      } else ax = normalizeAxis(axis, a.ndim, name);
      const r = bind1(name, [a], { axis: ax });
      if (!opts?.keepdims) return r;
      const inShape = axis === undefined || axis === null ? (a0 as Array).shape.map(() => 1) : a.shape;
      return bind1("reshape", [r], { newShape: inShape.map((d, i) => (i === ax || axis == null ? 1 : d)) });
    });
}

/** Index of the first maximum along `axis` (of the flattened array by default), int32. */
export const argmax = argReducer("argmax");
/** Index of the first minimum along `axis` (of the flattened array by default), int32. */
export const argmin = argReducer("argmin");
