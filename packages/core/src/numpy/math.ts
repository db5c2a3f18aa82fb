/** numpy's elementwise math beyond the basics: trigonometry, special functions, integer and bit ops. */
import type { Array, ArrayLike } from "../array.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { floatResult, isFloat } from "../dtype.js";
import { DTypeError } from "../errors.js";
import type { BinaryPrimitive, UnaryPrimitive } from "../primitives/types.js";
import { convert, prepare } from "./convert.js";
import {
  abs,
  add,
  ceil,
  divide,
  equal,
  floor,
  greater,
  less,
  log,
  logicalAnd,
  logicalOr,
  maximum,
  multiply,
  notEqual,
  rint,
  subtract,
  where,
} from "./elementwise.js";
import { checkOptions } from "./options.js";

/** A float function of one argument (integers and bools are promoted to float32 first). */
function floatUnary(prim: UnaryPrimitive) {
  return (x: ArrayLike): Array =>
    scoped(() => {
      const a = prepare(prim, [x])[0] as Array;
      return bind1(prim, [convert(a, floatResult(a.dtype))], {});
    });
}

/** A binary function on integer operands only (bitwise and shifts). */
function integerBinary(name: string, prim: BinaryPrimitive | ((dtype: string) => BinaryPrimitive), bools = false) {
  return (x: ArrayLike, y: ArrayLike): Array =>
    scoped(() => {
      const [a, b] = prepare(name, [x, y], undefined, { intNumbers: true }) as [Array, Array];
      if (isFloat(a.dtype) || (a.dtype === "bool" && !bools)) {
        throw new DTypeError(`${name}: needs integer${bools ? " or bool" : ""} operands, got ${a.dtype}`);
      }
      return bind1(typeof prim === "string" ? prim : prim(a.dtype), [a, b], {});
    });
}

export const tan = floatUnary("tan");
export const arcsin = floatUnary("asin");
export const arccos = floatUnary("acos");
export const arctan = floatUnary("atan");
export const sinh = floatUnary("sinh");
export const cosh = floatUnary("cosh");
export const arcsinh = floatUnary("asinh");
export const arctanh = floatUnary("atanh");
/** The error function 2/√π ∫₀ˣ e^(−t²) dt. */
export const erf = floatUnary("erf");
/** 1 − erf(x), accurate where erf(x) is near 1. */
export const erfc = floatUnary("erfc");
/** The inverse of erf on (−1, 1); ±1 give ±Inf. */
export const erfinv = floatUnary("erfinv");
/** The real cube root. */
export const cbrt = floatUnary("cbrt");
/** 2ˣ. */
export const exp2 = floatUnary("exp2");

/** arctan(y/x) in the quadrant of (x, y). */
export function arctan2(y: ArrayLike, x: ArrayLike): Array {
  return scoped(() => {
    const [a, b] = prepare("arctan2", [y, x]) as [Array, Array];
    const d = floatResult(a.dtype);
    return bind1("atan2", [convert(a, d), convert(b, d)], {});
  });
}

/** log₂ x. */
export function log2(x: ArrayLike): Array {
  return scoped(() => log(x).mul(Math.LOG2E));
}

/** log₁₀ x. */
export function log10(x: ArrayLike): Array {
  return scoped(() => log(x).mul(Math.LOG10E));
}

/** log(eˣ + eʸ) without overflow: max + log1p(e^(−|x−y|)); equal infinities give that infinity. */
export function logaddexp(x: ArrayLike, y: ArrayLike): Array {
  return scoped(() => {
    const [a0, b0] = prepare("logaddexp", [x, y]) as [Array, Array];
    const d = floatResult(a0.dtype);
    const a = convert(a0, d);
    const b = convert(b0, d);
    const m = maximum(a, b);
    const diff = abs(a.sub(b));
    const rest = bind1("log1p", [bind1("exp", [diff.neg()], {})], {});
    // x = y = ±Inf makes the difference NaN; the answer is then that infinity.
    return where(equal(a, b), m.add(Math.LN2), m.add(rest));
  });
}

/** NaN test (integers are never NaN). */
export function isnan(x: ArrayLike): Array {
  return scoped(() => {
    const a = prepare("isnan", [x])[0] as Array;
    return notEqual(a, a);
  });
}

/** True where the value is finite (not NaN, not ±Inf). */
export function isfinite(x: ArrayLike): Array {
  return scoped(() => bind1("isfinite", [prepare("isfinite", [x])[0] as Array], {}));
}

/** ±Inf test. */
export function isinf(x: ArrayLike): Array {
  return scoped(() => {
    const a = prepare("isinf", [x])[0] as Array;
    return isFloat(a.dtype) ? equal(abs(a), Number.POSITIVE_INFINITY) : notEqual(a, a);
  });
}

/** Replaces NaN with `nan` (0), +Inf with `posinf` (the dtype's max) and −Inf with `neginf` (its min). */
export function nanToNum(x: ArrayLike, opts: { nan?: number; posinf?: number; neginf?: number } = {}): Array {
  return scoped(() => {
    checkOptions("nanToNum", opts, ["nan", "posinf", "neginf"]);
    const a = prepare("nanToNum", [x])[0] as Array;
    if (!isFloat(a.dtype)) return bind1("copy", [a], {});
    const big = a.dtype === "float64" ? Number.MAX_VALUE : a.dtype === "float16" ? 65504 : 3.4028234663852886e38;
    const noNan = where(isnan(a), opts.nan ?? 0, a);
    const noPos = where(equal(noNan, Number.POSITIVE_INFINITY), opts.posinf ?? big, noNan);
    return where(equal(noPos, Number.NEGATIVE_INFINITY), opts.neginf ?? -big, noPos);
  });
}

/** Rounds toward zero. */
export function trunc(x: ArrayLike): Array {
  return scoped(() => {
    const a = prepare("trunc", [x])[0] as Array;
    return isFloat(a.dtype) ? where(less(a, 0), ceil(a), floor(a)) : bind1("copy", [a], {});
  });
}

/** numpy's floor_divide: ⌊x/y⌋ (integers: the truncated quotient, one less when the signs differ and it is inexact). */
export function floorDivide(x: ArrayLike, y: ArrayLike): Array {
  return scoped(() => {
    const [a, b] = prepare("floorDivide", [x, y]) as [Array, Array];
    if (isFloat(a.dtype)) {
      // JAX's float divmod: q = (x − fmod(x, y)) / y, one less when the remainder's sign differs
      // from y's, then rounded, so q·y + mod(x, y) = x (floor(1/0.1) would give 10, not 9).
      const r = bind1("rem", [a, b], {});
      const q = bind1("div", [a.sub(r), b], {});
      const adjust = logicalAnd(notEqual(r, 0), notEqual(less(r, 0), less(b, 0)));
      return rint(where(adjust, q.sub(1), q));
    }
    const ai = a.dtype === "bool" ? convert(a, "int32") : a;
    const bi = b.dtype === "bool" ? convert(b, "int32") : b;
    const q = bind1("div", [ai, bi], {});
    if (ai.dtype === "uint32") return q;
    const r = bind1("rem", [ai, bi], {});
    const adjust = logicalAnd(notEqual(r, 0), notEqual(less(r, 0), less(bi, 0)));
    return where(adjust, q.sub(1), q);
  });
}

/** numpy's mod (remainder): x − ⌊x/y⌋·y, with the sign of y. */
export function mod(x: ArrayLike, y: ArrayLike): Array {
  return scoped(() => {
    const [a0, b0] = prepare("mod", [x, y]) as [Array, Array];
    const a = a0.dtype === "bool" ? convert(a0, "int32") : a0;
    const b = b0.dtype === "bool" ? convert(b0, "int32") : b0;
    const r = bind1("rem", [a, b], {});
    if (a.dtype === "uint32") return r;
    const adjust = logicalAnd(notEqual(r, 0), notEqual(less(r, 0), less(b, 0)));
    return where(adjust, r.add(b), r);
  });
}

/** Alias of `mod`, as numpy. */
export const remainder = mod;

/** Elementwise a & b on integers or bools. */
export const bitwiseAnd = integerBinary("bitwiseAnd", "and", true);
/** Elementwise a | b on integers or bools. */
export const bitwiseOr = integerBinary("bitwiseOr", "or", true);
/** Elementwise a ^ b on integers or bools. */
export const bitwiseXor = integerBinary("bitwiseXor", "xor", true);
/** x << n; shifting by 32 or more gives 0. */
export const leftShift = integerBinary("leftShift", "shl");
/** x >> n: arithmetic for signed, logical for unsigned (numpy); by 32 or more gives the sign fill. */
export const rightShift = integerBinary("rightShift", (d) => (d === "uint32" ? "shru" : "shr"));

/** Elementwise ~x on integers (logical not on bools). */
export function bitwiseNot(x: ArrayLike): Array {
  return scoped(() => {
    const a = prepare("bitwiseNot", [x], undefined, { intNumbers: true })[0] as Array;
    if (isFloat(a.dtype)) throw new DTypeError(`bitwiseNot: needs integer or bool operands, got ${a.dtype}`);
    return bind1("not", [a], {});
  });
}

/** Alias of bitwiseNot, as numpy's invert. */
export const invert = bitwiseNot;

/**
 * Rounds half to even at `decimals` places (numpy's round/around): x·10^d rounded, then divided
 * back (so the float32 value of 2.675 decides, as numpy's float64 does). Integers with negative
 * decimals round to tens, hundreds, … (half to even); with decimals ≥ 0 they are unchanged.
 */
export function round(x: ArrayLike, decimals = 0): Array {
  return scoped(() => {
    if (!Number.isInteger(decimals)) throw new DTypeError(`round: decimals must be an integer, got ${decimals}`);
    const a = prepare("round", [x])[0] as Array;
    if (decimals === 0) return rint(a);
    if (!isFloat(a.dtype)) {
      if (decimals > 0) return bind1("copy", [a], {});
      const f = 10 ** -decimals;
      const q = floorDivide(a, f);
      const r = subtract(a, multiply(q, f));
      const twice = multiply(r, 2);
      const up = logicalOr(greater(twice, f), logicalAnd(equal(twice, f), notEqual(mod(q, 2), 0)));
      return multiply(add(q, where(up, 1, 0)), f);
    }
    const scale = 10 ** decimals;
    return divide(rint(multiply(a, scale)), scale);
  });
}
