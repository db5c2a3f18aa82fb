import type { DType } from "../../dtype.js";
import { fromFloat16Bits, roundFloat16, toFloat16Bits } from "../../float16.js";
import type { BinaryOp, UnaryOp } from "../../ir/expr.js";
import { erf, erfc, erfinv } from "./special.js";

/**
 * The CPU backend's scalar semantics, in one place: every op of the IR as a small JS function
 * per dtype kind. Generated kernels call these (V8 inlines them) and so does the interpreter,
 * so both paths share one definition. Values are JS doubles; a float32 result is rounded when
 * it is stored.
 */

type F1 = (a: number) => number;
type F2 = (a: number, b: number) => number;
type Kind = "f" | "i" | "u" | "b";

export const kindOf = (d: DType): Kind =>
  d === "float32" || d === "float64" || d === "float16" ? "f" : d === "int32" ? "i" : d === "uint32" ? "u" : "b";

const I32_MIN = -2147483648;
const id: F1 = (a) => a;

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}

function ipow(a: number, b: number): number {
  if (b < 0) return a === 1 ? 1 : a === -1 ? (b % 2 === 0 ? 1 : -1) : 0;
  let result = 1;
  let base = a | 0;
  let e = b;
  while (e > 0) {
    if (e % 2 === 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
    e = Math.floor(e / 2);
  }
  return result;
}

const floatUnary: Record<UnaryOp, F1> = {
  neg: (a) => -a,
  abs: Math.abs,
  sign: (a) => (a > 0 ? 1 : a < 0 ? -1 : a),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (a) => 1 / Math.sqrt(a),
  tanh: Math.tanh,
  logistic: (a) => 1 / (1 + Math.exp(-a)),
  sin: Math.sin,
  cos: Math.cos,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  log1p: Math.log1p,
  expm1: Math.expm1,
  not: (a) => (a === 0 ? 1 : 0),
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  asinh: Math.asinh,
  atanh: Math.atanh,
  erf,
  erfc,
  erfinv,
  cbrt: Math.cbrt,
  exp2: (a) => 2 ** a,
  isfinite: (a) => (Number.isFinite(a) ? 1 : 0),
};

const always1: F1 = () => 1;

const intUnary: Partial<Record<UnaryOp, F1>> = {
  neg: (a) => -a | 0,
  abs: (a) => Math.abs(a) | 0,
  sign: (a) => (a > 0 ? 1 : a < 0 ? -1 : 0),
  not: (a) => ~a,
  floor: id,
  ceil: id,
  round: id,
  isfinite: always1,
};

const uintUnary: Partial<Record<UnaryOp, F1>> = {
  neg: (a) => -a >>> 0,
  abs: id,
  sign: (a) => (a > 0 ? 1 : 0),
  not: (a) => ~a >>> 0,
  floor: id,
  ceil: id,
  round: id,
  isfinite: always1,
};

const boolUnary: Partial<Record<UnaryOp, F1>> = { not: (a) => a ^ 1, abs: id, isfinite: always1 };

const floatBinary: Record<BinaryOp, F2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  rem: (a, b) => a % b,
  // IEEE pow, not JS's: 1^y = 1 (even NaN) and (−1)^±Inf = 1, where Math.pow gives NaN.
  pow: (a, b) =>
    a === 1 || (a === -1 && (b === Number.POSITIVE_INFINITY || b === Number.NEGATIVE_INFINITY)) ? 1 : a ** b,
  max: (a, b) => (a > b || a !== a ? a : b),
  min: (a, b) => (a < b || a !== a ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  and: (a, b) => a & b,
  or: (a, b) => a | b,
  xor: (a, b) => a ^ b,
  atan2: Math.atan2,
  shl: (a, b) => (b >>> 0 >= 32 ? 0 : a << b),
  shr: (a, b) => (b >>> 0 >= 32 ? (a < 0 ? -1 : 0) : a >> b),
  shru: (a, b) => (b >>> 0 >= 32 ? 0 : (a >>> b) | 0),
};

const intBinary: Record<BinaryOp, F2> = {
  ...floatBinary,
  add: (a, b) => (a + b) | 0,
  sub: (a, b) => (a - b) | 0,
  mul: Math.imul,
  div: (a, b) => (b === 0 ? -1 : (a / b) | 0),
  rem: (a, b) => (b === 0 ? a : (a % b) | 0),
  pow: ipow,
};

const uintBinary: Record<BinaryOp, F2> = {
  ...floatBinary,
  add: (a, b) => (a + b) >>> 0,
  sub: (a, b) => (a - b) >>> 0,
  mul: (a, b) => Math.imul(a, b) >>> 0,
  div: (a, b) => (b === 0 ? 4294967295 : Math.trunc(a / b) >>> 0),
  rem: (a, b) => (b === 0 ? a : (a % b) >>> 0),
  pow: (a, b) => ipow(a, b) >>> 0,
  and: (a, b) => (a & b) >>> 0,
  or: (a, b) => (a | b) >>> 0,
  xor: (a, b) => (a ^ b) >>> 0,
  shl: (a, b) => (b >= 32 ? 0 : (a << b) >>> 0),
  shr: (a, b) => (b >= 32 ? (a >= 2147483648 ? 4294967295 : 0) : (a >> b) >>> 0),
  shru: (a, b) => (b >= 32 ? 0 : a >>> b),
};

const boolBinary: Record<BinaryOp, F2> = {
  ...floatBinary,
  add: (a, b) => a | b,
  mul: (a, b) => a & b,
  max: (a, b) => a | b,
  min: (a, b) => a & b,
};

/** The function computing `fn` on operands of dtype `d`; undefined when `d` does not support it. */
export function unaryFn(fn: UnaryOp, d: DType): F1 | undefined {
  const k = kindOf(d);
  return k === "f" ? floatUnary[fn] : k === "i" ? intUnary[fn] : k === "u" ? uintUnary[fn] : boolUnary[fn];
}

export function binaryFn(fn: BinaryOp, d: DType): F2 {
  const k = kindOf(d);
  return k === "f" ? floatBinary[fn] : k === "i" ? intBinary[fn] : k === "u" ? uintBinary[fn] : boolBinary[fn];
}

const toI32: F1 = (x) => (x !== x ? 0 : x >= 2147483647 ? 2147483647 : x <= I32_MIN ? I32_MIN : Math.trunc(x) | 0);
const toU32: F1 = (x) => (x !== x || x <= 0 ? 0 : x >= 4294967295 ? 4294967295 : Math.trunc(x) >>> 0);

/** The conversion from dtype `from` to dtype `to`. */
export function castFn(from: DType, to: DType): F1 {
  const kf = kindOf(from);
  switch (to) {
    case "float32":
      return kf === "b" ? id : Math.fround;
    case "float64":
      return id;
    case "float16":
      return kf === "b" ? id : roundFloat16;
    case "int32":
      return kf === "f" ? toI32 : kf === "u" ? (a) => a | 0 : id;
    case "uint32":
      return kf === "f" ? toU32 : kf === "i" ? (a) => a >>> 0 : id;
    case "bool":
      return (a) => (a !== 0 ? 1 : 0);
  }
}

/** Initial accumulator of a value reduction. */
export function reduceInit(op: "sum" | "prod" | "max" | "min", d: DType): number {
  const k = kindOf(d);
  if (op === "sum") return 0;
  if (op === "prod") return 1;
  if (op === "max") return k === "f" ? -Infinity : k === "i" ? I32_MIN : 0;
  return k === "f" ? Infinity : k === "i" ? 2147483647 : k === "u" ? 4294967295 : 1;
}

/** The step of a value reduction: `acc ⊕ v`, NaN-propagating for max/min. */
export function reduceStep(op: "sum" | "prod" | "max" | "min", d: DType): F2 {
  if (op === "max" || op === "min") return binaryFn(op, d);
  return binaryFn(op === "sum" ? "add" : "mul", d);
}

/** Storage conversions: float16 is held as binary16 bits; every other dtype as its value. */
export function loadFn(d: DType): F1 | undefined {
  return d === "float16" ? fromFloat16Bits : undefined;
}

export function storeFn(d: DType): F1 | undefined {
  return d === "float16" ? toFloat16Bits : undefined;
}

const bits = new ArrayBuffer(4);
const asF32 = new Float32Array(bits);
const asI32 = new Int32Array(bits);
const asU32 = new Uint32Array(bits);

/** Reinterprets the 32 bits of a value of dtype `from` as dtype `to`. */
export function bitcastFn(from: DType, to: DType): F1 {
  const write = (v: number) => {
    if (from === "float32") asF32[0] = v;
    else if (from === "int32") asI32[0] = v;
    else asU32[0] = v;
  };
  const read =
    to === "float32" ? () => asF32[0] as number : to === "int32" ? () => asI32[0] as number : () => asU32[0] as number;
  return (v) => {
    write(v);
    return read();
  };
}
