import { type Aval, aval } from "../core/aval.js";
import type { DType } from "../dtype.js";
import { DTypeError } from "../errors.js";
import type { BinaryOp, Expr, UnaryOp } from "../ir/expr.js";
import { binary, bitcast, cast, select, unary } from "../ir/expr.js";
import {
  ALL,
  checkArity,
  checkDTypeIn,
  checkSameDTypes,
  checkSameShapes,
  FLOATS,
  INTEGRAL,
  NUMERIC,
} from "./checks.js";
import type { BinaryPrimitive, PrimitiveDef, PrimitiveTable, UnaryPrimitive } from "./types.js";

const weakOf = (avals: readonly Aval[]) => avals.every((a) => a.weakType);

/** Rule factory: a unary elementwise primitive over the given dtypes. */
function unaryElementwise<P extends UnaryPrimitive>(
  fn: P & UnaryOp,
  allowed: readonly DType[],
  hint?: string,
): PrimitiveDef<P> {
  return {
    abstractEval(avals) {
      checkArity(fn, avals, 1);
      const x = avals[0] as Aval;
      checkDTypeIn(fn, x, allowed, hint);
      return [fn === "isfinite" ? aval(x.shape, "bool") : x];
    },
    lowering: { kind: "elementwise", expr: ([x]) => unary(fn, x as Expr) },
  };
}

/** Rule factory: a binary elementwise primitive (equal shapes and dtypes). */
function binaryElementwise<P extends BinaryPrimitive>(
  fn: P & BinaryOp,
  allowed: readonly DType[],
  outBool = false,
): PrimitiveDef<P> {
  return {
    abstractEval(avals) {
      checkArity(fn, avals, 2);
      checkSameShapes(fn, avals);
      checkSameDTypes(fn, avals);
      const x = avals[0] as Aval;
      checkDTypeIn(fn, x, allowed);
      return [aval(x.shape, outBool ? "bool" : x.dtype, !outBool && weakOf(avals))];
    },
    lowering: { kind: "elementwise", expr: ([x, y]) => binary(fn, x as Expr, y as Expr) },
  };
}

const INTEGERS: readonly DType[] = ["int32", "uint32"];
const FLOAT_HINT = "Convert integer inputs with astype('float32') (np.* functions do this for you).";
const SIGNED: readonly DType[] = ["float32", "float64", "float16", "int32"];

export const unaryPrimitives: PrimitiveTable<UnaryPrimitive> = {
  neg: unaryElementwise("neg", SIGNED.concat("uint32")),
  abs: unaryElementwise("abs", ALL),
  sign: unaryElementwise("sign", NUMERIC),
  exp: unaryElementwise("exp", FLOATS, FLOAT_HINT),
  log: unaryElementwise("log", FLOATS, FLOAT_HINT),
  sqrt: unaryElementwise("sqrt", FLOATS, FLOAT_HINT),
  rsqrt: unaryElementwise("rsqrt", FLOATS, FLOAT_HINT),
  tanh: unaryElementwise("tanh", FLOATS, FLOAT_HINT),
  logistic: unaryElementwise("logistic", FLOATS, FLOAT_HINT),
  sin: unaryElementwise("sin", FLOATS, FLOAT_HINT),
  cos: unaryElementwise("cos", FLOATS, FLOAT_HINT),
  floor: unaryElementwise("floor", NUMERIC),
  ceil: unaryElementwise("ceil", NUMERIC),
  round: unaryElementwise("round", NUMERIC),
  log1p: unaryElementwise("log1p", FLOATS, FLOAT_HINT),
  expm1: unaryElementwise("expm1", FLOATS, FLOAT_HINT),
  not: unaryElementwise("not", INTEGRAL),
  tan: unaryElementwise("tan", FLOATS, FLOAT_HINT),
  asin: unaryElementwise("asin", FLOATS, FLOAT_HINT),
  acos: unaryElementwise("acos", FLOATS, FLOAT_HINT),
  atan: unaryElementwise("atan", FLOATS, FLOAT_HINT),
  sinh: unaryElementwise("sinh", FLOATS, FLOAT_HINT),
  cosh: unaryElementwise("cosh", FLOATS, FLOAT_HINT),
  asinh: unaryElementwise("asinh", FLOATS, FLOAT_HINT),
  atanh: unaryElementwise("atanh", FLOATS, FLOAT_HINT),
  erf: unaryElementwise("erf", FLOATS, FLOAT_HINT),
  erfc: unaryElementwise("erfc", FLOATS, FLOAT_HINT),
  erfinv: unaryElementwise("erfinv", FLOATS, FLOAT_HINT),
  cbrt: unaryElementwise("cbrt", FLOATS, FLOAT_HINT),
  exp2: unaryElementwise("exp2", FLOATS, FLOAT_HINT),
  isfinite: unaryElementwise("isfinite", ALL),
};

export const binaryPrimitives: PrimitiveTable<BinaryPrimitive> = {
  add: binaryElementwise("add", ALL),
  sub: binaryElementwise("sub", NUMERIC),
  mul: binaryElementwise("mul", ALL),
  div: binaryElementwise("div", NUMERIC),
  rem: binaryElementwise("rem", NUMERIC),
  pow: binaryElementwise("pow", NUMERIC),
  max: binaryElementwise("max", ALL),
  min: binaryElementwise("min", ALL),
  eq: binaryElementwise("eq", ALL, true),
  ne: binaryElementwise("ne", ALL, true),
  lt: binaryElementwise("lt", ALL, true),
  le: binaryElementwise("le", ALL, true),
  gt: binaryElementwise("gt", ALL, true),
  ge: binaryElementwise("ge", ALL, true),
  and: binaryElementwise("and", INTEGRAL),
  or: binaryElementwise("or", INTEGRAL),
  xor: binaryElementwise("xor", INTEGRAL),
  atan2: binaryElementwise("atan2", FLOATS),
  shl: binaryElementwise("shl", INTEGERS),
  shr: binaryElementwise("shr", INTEGERS),
  shru: binaryElementwise("shru", INTEGERS),
};

const BITS32: readonly DType[] = ["float32", "int32", "uint32"];

export const otherElementwise: PrimitiveTable<"select" | "convert_element_type" | "copy" | "bitcast_convert_type"> = {
  bitcast_convert_type: {
    abstractEval(avals, params) {
      checkArity("bitcast_convert_type", avals, 1);
      const x = avals[0] as Aval;
      checkDTypeIn("bitcast_convert_type", x, BITS32, "Bitcasts reinterpret 32 bits: float32, int32 or uint32.");
      if (!BITS32.includes(params.newDtype)) {
        throw new DTypeError(
          `bitcast_convert_type: cannot reinterpret 32 bits as ${params.newDtype}; expected float32, int32 or uint32`,
        );
      }
      return [aval(x.shape, params.newDtype)];
    },
    lowering: { kind: "elementwise", expr: ([x], params) => bitcast(x as Expr, params.newDtype) },
  },
  select: {
    abstractEval(avals) {
      checkArity("select", avals, 3);
      const [c, x, y] = avals as [Aval, Aval, Aval];
      checkSameShapes("select", avals);
      checkDTypeIn("select", c, ["bool"], "The condition must be bool (use a comparison).");
      checkSameDTypes("select", [x, y]);
      return [aval(x.shape, x.dtype, x.weakType && y.weakType)];
    },
    lowering: { kind: "elementwise", expr: ([c, x, y]) => select(c as Expr, x as Expr, y as Expr) },
  },
  convert_element_type: {
    abstractEval(avals, params) {
      checkArity("convert_element_type", avals, 1);
      return [aval((avals[0] as Aval).shape, params.newDtype, params.weakType)];
    },
    lowering: { kind: "elementwise", expr: ([x], params) => cast(x as Expr, params.newDtype) },
  },
  copy: {
    abstractEval(avals) {
      checkArity("copy", avals, 1);
      return [avals[0] as Aval];
    },
    lowering: { kind: "elementwise", expr: ([x]) => x as Expr },
  },
};
