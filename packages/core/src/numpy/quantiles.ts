/**
 * Order statistics: `quantile`, `percentile`, `median`, by one sort along the reduced axes and
 * a gather at the quantile positions (O(n log n)), with numpy's methods and NaN propagation.
 */
import type { Array, ArrayLike, Axis } from "../array.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { floatResult } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { normalizeAxes } from "../shape.js";
import { convert, prepare } from "./convert.js";
import { add, ceil, floor, greaterEqual, multiply, subtract, where } from "./elementwise.js";
import { take } from "./join.js";
import { moveaxis } from "./manipulation.js";
import { isnan } from "./math.js";
import { checkOptions } from "./options.js";
import { reshape } from "./shape.js";
import { sort } from "./sorting.js";
import { any } from "./stats.js";

export type QuantileMethod = "linear" | "lower" | "higher" | "midpoint" | "nearest";

export interface QuantileOptions {
  /** The axis or axes to reduce (default: all). */
  axis?: Axis;
  /** numpy's interpolation between the two nearest order statistics (default "linear"). */
  method?: QuantileMethod;
  keepdims?: boolean;
}

const METHODS: readonly QuantileMethod[] = ["linear", "lower", "higher", "midpoint", "nearest"];

/** numpy's lerp: exact at both ends. */
function lerp(a: Array, b: Array, t: Array): Array {
  const d = subtract(b, a);
  return where(greaterEqual(t, 0.5), subtract(b, multiply(d, subtract(1, t))), add(a, multiply(d, t)));
}

function quantileOf(op: string, x: ArrayLike, q: ArrayLike, opts: QuantileOptions, scale: number): Array {
  return scoped(() => {
    checkOptions(op, opts, ["axis", "method", "keepdims"], `np.${op}(x, q, { axis, method, keepdims })`);
    const method = opts.method ?? "linear";
    if (!METHODS.includes(method)) {
      throw new ShapeError(
        `${op}: method must be one of ${METHODS.map((m) => `"${m}"`).join(", ")}, got ${JSON.stringify(method)}`,
      );
    }
    const a0 = prepare(op, [x])[0] as Array;
    const a = convert(a0, floatResult(a0.dtype));
    const qs0 = convert(prepare(op, [q])[0] as Array, a.dtype === "float64" ? "float64" : "float32", false);
    const checkRange = (v: unknown) => {
      if (typeof v === "number" && (v / scale < 0 || v / scale > 1 || Number.isNaN(v)))
        throw new ShapeError(`${op}: q must be in [0, ${scale}], got ${v}`);
      if (globalThis.Array.isArray(v)) for (const w of v) checkRange(w);
    };
    checkRange(q);
    const qs = scale === 1 ? qs0 : multiply(qs0, 1 / scale);
    const axes = normalizeAxes(opts.axis, a.ndim, op);
    const kept = a.shape.map((_, d) => d).filter((d) => !axes.includes(d));
    const n = axes.reduce((p, d) => p * (a.shape[d] as number), 1);
    if (n === 0) throw new ShapeError(`${op}: cannot take a quantile over an empty axis of shape [${a.shape}]`);
    // The reduced axes last and merged into one.
    const t = bind1("transpose", [a], { perm: [...kept, ...axes] });
    const lines = reshape(t, [...kept.map((d) => a.shape[d] as number), n]);
    const s = sort(lines, { axis: -1 });
    const pos = multiply(qs, n - 1);
    const lo = floor(pos);
    const hi = ceil(pos);
    const at = (i: Array) => take(s, convert(i, "int32", false), { axis: -1, mode: "clip" });
    let value: Array;
    if (method === "lower") value = at(lo);
    else if (method === "higher") value = at(hi);
    else if (method === "nearest") value = at(bind1("round", [pos], {}));
    else if (method === "midpoint") value = multiply(add(at(lo), at(hi)), 0.5);
    else {
      const frac = bind1("broadcast_in_dim", [convert(subtract(pos, lo), a.dtype, false)], {
        shape: [...lines.shape.slice(0, -1), ...qs.shape],
        broadcastDimensions: qs.shape.map((_, i) => lines.ndim - 1 + i),
      });
      value = lerp(at(lo), at(hi), frac);
    }
    // NaN anywhere in a line gives NaN (numpy).
    const nan = any(isnan(lines), -1, { keepdims: false });
    const nanB = bind1("broadcast_in_dim", [nan], {
      shape: value.shape,
      broadcastDimensions: nan.shape.map((_, i) => i),
    });
    value = where(nanB, Number.NaN, value);
    // q's dims first (numpy), then the kept dims (size 1 at the reduced axes with keepdims).
    const nk = kept.length;
    let out =
      qs.ndim === 0
        ? value
        : moveaxis(
            value,
            qs.shape.map((_, i) => nk + i),
            qs.shape.map((_, i) => i),
          );
    if (opts.keepdims) out = reshape(out, [...qs.shape, ...a.shape.map((m, d) => (axes.includes(d) ? 1 : m))]);
    return convert(out, a.dtype, false);
  });
}

/**
 * The q-th quantiles (q in [0, 1], a number or an array) over `axis` (numpy's quantile):
 * order statistics of the sorted values, interpolated by `method`. q's dims come first.
 */
export function quantile(x: ArrayLike, q: ArrayLike, opts: QuantileOptions = {}): Array {
  return quantileOf("quantile", x, q, opts, 1);
}

/** The q-th percentiles (q in [0, 100]) over `axis` (numpy's percentile). */
export function percentile(x: ArrayLike, q: ArrayLike, opts: QuantileOptions = {}): Array {
  return quantileOf("percentile", x, q, opts, 100);
}

/** The median over `axis` (numpy's median): the mean of the two middle values for even counts. */
export function median(
  x: ArrayLike,
  axis?: Axis | Omit<QuantileOptions, "method">,
  opts: Omit<QuantileOptions, "method" | "axis"> = {},
): Array {
  const o = axis !== null && typeof axis === "object" && !globalThis.Array.isArray(axis) ? axis : { ...opts, axis };
  return quantileOf("median", x, 0.5, { ...o, method: "linear" }, 1);
}
