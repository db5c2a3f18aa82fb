/**
 * Samplers built on `bits`, each following JAX's `jax.random` code step by step (same ops in
 * the same order), so a key gives JAX's numbers: exactly for integer results and for uniform
 * on [0, 1); within 1 ulp for other uniform ranges (XLA's CPU contracts u·(max − min) + min into
 * one fused multiply-add, webjax rounds the product first); within a few float32 ulps where a
 * transcendental (erf, erfinv, log) is involved.
 */
import { Array } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import type { DType } from "../dtype.js";
import { DTypeError, fmtShape, ShapeError } from "../errors.js";
import { backendOf, convert } from "../numpy/convert.js";
import { full } from "../numpy/creation.js";
import {
  add,
  astype,
  clip,
  divide,
  equal,
  greater,
  less,
  lessEqual,
  log,
  logicalOr,
  maximum,
  multiply,
  negative,
  subtract,
  where,
} from "../numpy/elementwise.js";
import { bitwiseAnd, bitwiseOr, erf, erfinv, isnan, mod, rightShift } from "../numpy/math.js";
import { checkOptions } from "../numpy/options.js";
import { argmax } from "../numpy/reduce.js";
import { broadcastTo, expandDims } from "../numpy/shape.js";
import { broadcastShapes, checkShape, normalizeAxis, shapesEqual } from "../shape.js";
import { bits, checkKey, keyAt, split } from "./keys.js";

/** Float dtypes the samplers produce (float64 needs the x64 bit path, which webjax does not have yet). */
export type RandomFloat = "float32" | "float16";

/** Options of the float samplers. */
export interface FloatOptions {
  /** float32 (default) or float16. */
  dtype?: RandomFloat;
}

/** Options of `uniform`. */
export interface UniformOptions extends FloatOptions {
  /** Inclusive lower bound (default 0), broadcastable to `shape`. */
  minval?: number | Array;
  /** Exclusive upper bound (default 1), broadcastable to `shape`. */
  maxval?: number | Array;
}

/** Smallest normal number and nextafter(-1, 0) of each float dtype. */
const TINY: Record<RandomFloat, number> = { float32: 2 ** -126, float16: 2 ** -14 };
const ABOVE_MINUS_ONE: Record<RandomFloat, number> = { float32: -1 + 2 ** -24, float16: -1 + 2 ** -11 };

function floatDtype(op: string, dtype: DType | undefined): RandomFloat {
  const d = dtype ?? "float32";
  if (d !== "float32" && d !== "float16") {
    throw new DTypeError(`${op}: dtype must be float32 or float16, got ${d}`);
  }
  return d;
}

/** A bound as an array of `dtype` on the key's backend. */
function asDtype(v: number | Array, dtype: DType, like: Array): Array {
  return v instanceof Array ? convert(v, dtype, false) : full([], v, { dtype, backend: backendOf([like]).name });
}

/** `shape` must be what its parameters broadcast to (JAX's `_check_shape`). */
function checkParamShapes(op: string, shape: readonly number[], ...params: (readonly number[])[]): void {
  const b = broadcastShapes(op, shape, ...params);
  if (!shapesEqual(b, shape)) {
    throw new ShapeError(
      `${op}: parameter shapes ${params.map(fmtShape).join(", ")} broadcast with shape ${fmtShape(shape)} to ${fmtShape(b)}; they must broadcast to the shape itself`,
    );
  }
}

/** Floats uniform in [0, 1): random mantissa bits under the exponent of 1, minus 1 (JAX's `_uniform`). */
function unitFloats(key: Array, shape: readonly number[], dtype: RandomFloat): Array {
  const b = bits(key, shape);
  if (dtype === "float32") {
    const one = bitwiseOr(rightShift(b, 9), 0x3f800000);
    return subtract(bind1("bitcast_convert_type", [one], { newDtype: "float32" }), 1);
  }
  // float16: the low 16 bits (JAX's 16-bit bits are bits1 ^ bits2 truncated); their top 10
  // bits are the mantissa, so the value is m / 1024, exact in float32 and in float16.
  const m = rightShift(bitwiseAnd(b, 0xffff), 6);
  return astype(multiply(astype(m, "float32"), 2 ** -10), "float16");
}

/**
 * Uniform floats in [minval, maxval) (`jax.random.uniform`): random mantissa bits give u in
 * [0, 1), then max(minval, u·(maxval − minval) + minval).
 */
export function uniform(key: Array, shape: readonly number[] = [], opts: UniformOptions = {}): Array {
  return scoped(() => {
    checkKey("uniform", key);
    checkOptions(
      "uniform",
      opts,
      ["dtype", "minval", "maxval"],
      "random.uniform(key, shape, { dtype, minval, maxval })",
    );
    const dtype = floatDtype("uniform", opts.dtype);
    const s = checkShape(shape, "uniform");
    const lo = asDtype(opts.minval ?? 0, dtype, key);
    const hi = asDtype(opts.maxval ?? 1, dtype, key);
    checkParamShapes("uniform", s, lo.shape, hi.shape);
    const u = unitFloats(key, s, dtype);
    return maximum(lo, add(multiply(u, subtract(hi, lo)), lo));
  });
}

/**
 * Standard normal floats (`jax.random.normal`): √2 · erfinv(u), u uniform in
 * [nextafter(−1, 0), 1). erfinv is Giles' single-precision approximation, as XLA's.
 */
export function normal(key: Array, shape: readonly number[] = [], opts: FloatOptions = {}): Array {
  return scoped(() => {
    checkKey("normal", key);
    checkOptions("normal", opts, ["dtype"], "random.normal(key, shape, { dtype })");
    const dtype = floatDtype("normal", opts.dtype);
    const u = uniform(key, shape, { dtype, minval: ABOVE_MINUS_ONE[dtype], maxval: 1 });
    return multiply(erfinv(u), Math.SQRT2);
  });
}

/** The next float32 after each element of `x` toward +Inf (`up`) or −Inf (numpy's nextafter). */
function nextAfter(x: Array, up: boolean): Array {
  const b = bind1("bitcast_convert_type", [x], { newDtype: "int32" });
  // Positive floats order like their bits, negative ones in reverse; ±0 step to ±the least subnormal.
  const grows = up ? greater(x, 0) : less(x, 0);
  const moved = where(grows, add(b, 1), subtract(b, 1));
  const stepped = where(equal(x, 0), up ? 1 : -0x7fffffff, moved);
  const f = bind1("bitcast_convert_type", [stepped], { newDtype: "float32" });
  return where(logicalOr(isnan(x), equal(x, up ? Infinity : -Infinity)), x, f);
}

/** A shape given positionally, as JAX's samplers take it (an options object there is an error naming it). */
function shapeArg(op: string, shape: unknown, usage: string): readonly number[] | undefined {
  if (shape === undefined || shape === null) return undefined;
  if (!globalThis.Array.isArray(shape)) {
    throw new ShapeError(`${op}: the shape is positional, as in JAX: ${usage}; got ${JSON.stringify(shape)}`);
  }
  return checkShape(shape, op);
}

/**
 * Standard normal floats truncated to (lower, upper) (`jax.random.truncated_normal(key, lower,
 * upper, shape)`, float32): √2 · erfinv(u) with u uniform between erf(lower/√2) and
 * erf(upper/√2), clipped to [nextafter(lower, +Inf), nextafter(upper, −Inf)]. The shape
 * defaults to that of `lower` and `upper` broadcast together.
 */
export function truncatedNormal(
  key: Array,
  lower: number | Array,
  upper: number | Array,
  shape?: readonly number[],
): Array {
  return scoped(() => {
    checkKey("truncatedNormal", key);
    const lo = asDtype(lower, "float32", key);
    const hi = asDtype(upper, "float32", key);
    const s =
      shapeArg("truncatedNormal", shape, "truncatedNormal(key, lower, upper, shape)") ??
      broadcastShapes("truncatedNormal", lo.shape, hi.shape);
    checkParamShapes("truncatedNormal", s, lo.shape, hi.shape);
    const a = erf(divide(lo, Math.SQRT2));
    const b = erf(divide(hi, Math.SQRT2));
    const u = uniform(key, s, { minval: a, maxval: b });
    const out = multiply(erfinv(u), Math.SQRT2);
    return clip(out, nextAfter(lo, true), nextAfter(hi, false));
  });
}

/**
 * Booleans that are true with probability `p` (`jax.random.bernoulli(key, p, shape)`):
 * uniform(key, shape) < p. The shape defaults to that of `p`.
 */
export function bernoulli(key: Array, p: number | Array = 0.5, shape?: readonly number[]): Array {
  return scoped(() => {
    checkKey("bernoulli", key);
    if (p instanceof Array && p.dtype !== "float32" && p.dtype !== "float16") {
      throw new DTypeError(`bernoulli: p must be a float array, got ${fmtAval(p.aval)}`);
    }
    const dtype: RandomFloat = p instanceof Array ? (p.dtype as RandomFloat) : "float32";
    const pa = asDtype(p, dtype, key);
    const s = shapeArg("bernoulli", shape, "bernoulli(key, p, shape)") ?? pa.shape;
    checkParamShapes("bernoulli", s, pa.shape);
    return less(uniform(key, s, { dtype }), pa);
  });
}

/** Standard Gumbel floats (`jax.random.gumbel`): −log(−log(u)), u uniform in [tiny, 1). */
export function gumbel(key: Array, shape: readonly number[] = [], opts: FloatOptions = {}): Array {
  return scoped(() => {
    checkKey("gumbel", key);
    checkOptions("gumbel", opts, ["dtype"], "random.gumbel(key, shape, { dtype })");
    const dtype = floatDtype("gumbel", opts.dtype);
    return negative(log(negative(log(uniform(key, shape, { dtype, minval: TINY[dtype], maxval: 1 })))));
  });
}

/** Options of `categorical`. */
export interface CategoricalOptions {
  /** The axis of `logits` that holds the categories (default −1). */
  axis?: number;
  /** The result shape (default: `logits.shape` without `axis`); its trailing dims must match that. */
  shape?: readonly number[];
}

/**
 * Category indices drawn with probabilities softmax(logits) along `axis`
 * (`jax.random.categorical`), by the Gumbel-max trick: argmax(logits + gumbel). int32.
 */
export function categorical(key: Array, logits: Array, opts: CategoricalOptions = {}): Array {
  return scoped(() => {
    checkKey("categorical", key);
    if (!(logits instanceof Array) || (logits.dtype !== "float32" && logits.dtype !== "float16")) {
      throw new DTypeError(
        `categorical: logits must be a float32 or float16 array, got ${logits instanceof Array ? fmtAval(logits.aval) : typeof logits}`,
      );
    }
    checkOptions("categorical", opts, ["axis", "shape"]);
    const nd = logits.ndim;
    const axis = normalizeAxis(opts.axis ?? -1, nd, "categorical");
    const batch = logits.shape.filter((_, d) => d !== axis);
    const shape = opts.shape ? checkShape(opts.shape, "categorical") : batch;
    checkParamShapes("categorical", shape, batch);
    const prefix = shape.slice(0, shape.length - batch.length);
    const drawn = [...shape];
    drawn.splice(prefix.length + axis, 0, logits.shape[axis] as number);
    const g = gumbel(key, drawn, { dtype: logits.dtype as RandomFloat });
    const l = prefix.length
      ? expandDims(
          logits,
          prefix.map((_, i) => i),
        )
      : logits;
    return argmax(add(g, l), prefix.length + axis);
  });
}

/** Options of `randint`. */
export interface RandintOptions {
  /** int32 (default) or uint32. */
  dtype?: "int32" | "uint32";
}

const INT_RANGE = { int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1] } as const;

/**
 * Uniform integers in [minval, maxval) (`jax.random.randint`), by JAX's algorithm: two
 * draws of 32 bits from `split(key)`, combined modulo the span as a 64-bit number would be
 * ((hi mod span)·(2^32 mod span) + lo mod span) mod span, in wrapping uint32 arithmetic as
 * JAX does. maxval ≤ minval gives minval.
 */
export function randint(
  key: Array,
  shape: readonly number[],
  minval: number | Array,
  maxval: number | Array,
  opts: RandintOptions = {},
): Array {
  return scoped(() => {
    checkKey("randint", key);
    checkOptions("randint", opts, ["dtype"], "random.randint(key, shape, minval, maxval, { dtype })");
    const dtype = opts.dtype ?? "int32";
    if (dtype !== "int32" && dtype !== "uint32")
      throw new DTypeError(`randint: dtype must be int32 or uint32, got ${dtype}`);
    const s = checkShape(shape, "randint");
    const [min, max] = INT_RANGE[dtype];
    const bound = (v: number | Array, name: string): Array => {
      if (v instanceof Array) {
        if (v.dtype !== "int32" && v.dtype !== "uint32") {
          throw new DTypeError(`randint: ${name} must be an integer array, got ${fmtAval(v.aval)}`);
        }
        return convert(v, dtype, false);
      }
      if (!Number.isFinite(v)) throw new DTypeError(`randint: ${name} must be finite, got ${v}`);
      return asDtype(Math.min(max, Math.max(min, Math.trunc(v))), dtype, key);
    };
    const lo = bound(minval, "minval");
    const hi = bound(maxval, "maxval");
    checkParamShapes("randint", s, lo.shape, hi.shape);
    // JAX widens the span by one when maxval is past the dtype's range (e.g. randint(0, 2^31)).
    const outOfRange = typeof maxval === "number" && Math.trunc(maxval) > max;

    const keys = split(key);
    const higher = bits(keyAt(keys, 0), s);
    const lower = bits(keyAt(keys, 1), s);
    const toU32 = (x: Array) => bind1("bitcast_convert_type", [x], { newDtype: "uint32" });
    const empty = lessEqual(hi, lo);
    let span = where(empty, 1, toU32(subtract(hi, lo)));
    if (outOfRange) span = where(greater(hi, lo), add(span, 1), span);
    span = broadcastTo(span, s);
    let multiplier = mod(full(s, 2 ** 16, { dtype: "uint32", backend: backendOf([key]).name }), span);
    multiplier = mod(multiply(multiplier, multiplier), span);
    const offset = mod(add(multiply(mod(higher, span), multiplier), mod(lower, span)), span);
    return add(lo, bind1("bitcast_convert_type", [offset], { newDtype: dtype }));
  });
}
