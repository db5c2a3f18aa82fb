import type { Array } from "../array.js";
import { type Aval, aval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { zerosFor } from "../core/zeros.js";
import { type DType, isFloat } from "../dtype.js";
import { DTypeError } from "../errors.js";
import type { BinaryOp, Expr, UnaryOp } from "../ir/expr.js";
import { binary, bitcast, cast, select, unary } from "../ir/expr.js";
import {
  add,
  cos,
  divide,
  equal,
  exp,
  greaterEqual,
  log,
  multiply,
  negative,
  power,
  reciprocal,
  rsqrt,
  sin,
  square,
  subtract,
  where,
} from "../numpy/elementwise.js";
import { cosh, sinh, trunc } from "../numpy/math.js";
import {
  addT,
  isLinearInput,
  jvp1,
  known,
  linearJvp,
  scale,
  subT,
  unaryJvp,
  unaryTranspose,
  zeroJvp,
} from "./ad-util.js";
import { elementwiseBatch } from "./batch-util.js";
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
import type {
  BinaryPrimitive,
  Params,
  PrimitiveDef,
  PrimitiveTable,
  Tangent,
  TransposeInput,
  UnaryPrimitive,
} from "./types.js";

const weakOf = (avals: readonly Aval[]) => avals.every((a) => a.weakType);

/** Rule factory: a unary elementwise primitive over the given dtypes, with its jvp (and transpose if linear). */
function unaryElementwise<P extends UnaryPrimitive>(
  fn: P & UnaryOp,
  allowed: readonly DType[],
  hint: string | undefined,
  ad: Pick<PrimitiveDef<P>, "jvp" | "transpose">,
): PrimitiveDef<P> {
  return {
    ...ad,
    abstractEval(avals) {
      checkArity(fn, avals, 1);
      const x = avals[0] as Aval;
      checkDTypeIn(fn, x, allowed, hint);
      return [fn === "isfinite" ? aval(x.shape, "bool") : x];
    },
    lowering: { kind: "elementwise", expr: ([x]) => unary(fn, x as Expr) },
    batch: elementwiseBatch(fn),
  };
}

/** Rule factory: a binary elementwise primitive (equal shapes and dtypes). */
function binaryElementwise<P extends BinaryPrimitive>(
  fn: P & BinaryOp,
  allowed: readonly DType[],
  ad: Pick<PrimitiveDef<P>, "jvp" | "transpose">,
  outBool = false,
): PrimitiveDef<P> {
  return {
    ...ad,
    abstractEval(avals) {
      checkArity(fn, avals, 2);
      checkSameShapes(fn, avals);
      checkSameDTypes(fn, avals);
      const x = avals[0] as Aval;
      checkDTypeIn(fn, x, allowed);
      return [aval(x.shape, outBool ? "bool" : x.dtype, !outBool && weakOf(avals))];
    },
    lowering: { kind: "elementwise", expr: ([x, y]) => binary(fn, x as Expr, y as Expr) },
    batch: elementwiseBatch(fn),
  };
}

const INTEGERS: readonly DType[] = ["int32", "uint32"];
const FLOAT_HINT = "Convert integer inputs with astype('float32') (np.* functions do this for you).";
const SIGNED: readonly DType[] = ["float32", "float64", "float16", "int32"];

export const unaryPrimitives: PrimitiveTable<UnaryPrimitive> = {
  neg: unaryElementwise("neg", SIGNED.concat("uint32"), undefined, {
    jvp: linearJvp("neg"),
    transpose: unaryTranspose("neg", (ct) => negative(ct)),
  }),
  // JAX's rule: select(x ≥ 0, t, −t), so the derivative at 0 is 1 (and −1 at NaN).
  abs: unaryElementwise("abs", ALL, undefined, {
    jvp: unaryJvp("abs", (x) => where(greaterEqual(x, 0), 1, -1).astype(x.dtype)),
  }),
  sign: unaryElementwise("sign", NUMERIC, undefined, { jvp: zeroJvp("sign") }),
  exp: unaryElementwise("exp", FLOATS, FLOAT_HINT, { jvp: unaryJvp("exp", (_, y) => y) }),
  log: unaryElementwise("log", FLOATS, FLOAT_HINT, { jvp: unaryJvp("log", (x) => reciprocal(x)) }),
  sqrt: unaryElementwise("sqrt", FLOATS, FLOAT_HINT, { jvp: unaryJvp("sqrt", (_, y) => divide(0.5, y)) }),
  rsqrt: unaryElementwise("rsqrt", FLOATS, FLOAT_HINT, {
    jvp: unaryJvp("rsqrt", (x, y) => multiply(divide(y, x), -0.5)),
  }),
  tanh: unaryElementwise("tanh", FLOATS, FLOAT_HINT, {
    jvp: unaryJvp("tanh", (_, y) => multiply(add(1, y), subtract(1, y))),
  }),
  logistic: unaryElementwise("logistic", FLOATS, FLOAT_HINT, {
    jvp: unaryJvp("logistic", (_, y) => multiply(y, subtract(1, y))),
  }),
  sin: unaryElementwise("sin", FLOATS, FLOAT_HINT, { jvp: unaryJvp("sin", (x) => cos(x)) }),
  cos: unaryElementwise("cos", FLOATS, FLOAT_HINT, { jvp: unaryJvp("cos", (x) => negative(sin(x))) }),
  floor: unaryElementwise("floor", NUMERIC, undefined, { jvp: zeroJvp("floor") }),
  ceil: unaryElementwise("ceil", NUMERIC, undefined, { jvp: zeroJvp("ceil") }),
  round: unaryElementwise("round", NUMERIC, undefined, { jvp: zeroJvp("round") }),
  log1p: unaryElementwise("log1p", FLOATS, FLOAT_HINT, { jvp: unaryJvp("log1p", (x) => reciprocal(add(x, 1))) }),
  expm1: unaryElementwise("expm1", FLOATS, FLOAT_HINT, { jvp: unaryJvp("expm1", (_, y) => add(y, 1)) }),
  not: unaryElementwise("not", INTEGRAL, undefined, { jvp: zeroJvp("not") }),
  tan: unaryElementwise("tan", FLOATS, FLOAT_HINT, { jvp: unaryJvp("tan", (_, y) => add(1, square(y))) }),
  asin: unaryElementwise("asin", FLOATS, FLOAT_HINT, { jvp: unaryJvp("asin", (x) => rsqrt(subtract(1, square(x)))) }),
  acos: unaryElementwise("acos", FLOATS, FLOAT_HINT, {
    jvp: unaryJvp("acos", (x) => negative(rsqrt(subtract(1, square(x))))),
  }),
  atan: unaryElementwise("atan", FLOATS, FLOAT_HINT, { jvp: unaryJvp("atan", (x) => reciprocal(add(1, square(x)))) }),
  sinh: unaryElementwise("sinh", FLOATS, FLOAT_HINT, { jvp: unaryJvp("sinh", (x) => cosh(x)) }),
  cosh: unaryElementwise("cosh", FLOATS, FLOAT_HINT, { jvp: unaryJvp("cosh", (x) => sinh(x)) }),
  asinh: unaryElementwise("asinh", FLOATS, FLOAT_HINT, { jvp: unaryJvp("asinh", (x) => rsqrt(add(square(x), 1))) }),
  atanh: unaryElementwise("atanh", FLOATS, FLOAT_HINT, {
    jvp: unaryJvp("atanh", (x) => reciprocal(multiply(add(1, x), subtract(1, x)))),
  }),
  erf: unaryElementwise("erf", FLOATS, FLOAT_HINT, {
    jvp: unaryJvp("erf", (x) => multiply(exp(negative(square(x))), 2 / Math.sqrt(Math.PI))),
  }),
  erfc: unaryElementwise("erfc", FLOATS, FLOAT_HINT, {
    jvp: unaryJvp("erfc", (x) => multiply(exp(negative(square(x))), -2 / Math.sqrt(Math.PI))),
  }),
  erfinv: unaryElementwise("erfinv", FLOATS, FLOAT_HINT, {
    jvp: unaryJvp("erfinv", (_, y) => multiply(exp(square(y)), Math.sqrt(Math.PI) / 2)),
  }),
  cbrt: unaryElementwise("cbrt", FLOATS, FLOAT_HINT, {
    jvp: unaryJvp("cbrt", (_, y) => divide(1 / 3, square(y))),
  }),
  exp2: unaryElementwise("exp2", FLOATS, FLOAT_HINT, { jvp: unaryJvp("exp2", (_, y) => multiply(y, Math.LN2)) }),
  isfinite: unaryElementwise("isfinite", ALL, undefined, { jvp: zeroJvp("isfinite") }),
};

export const binaryPrimitives: PrimitiveTable<BinaryPrimitive> = {
  add: binaryElementwise("add", ALL, { jvp: linearJvp("add"), transpose: ([ct], [x, y]) => [on(x, ct), on(y, ct)] }),
  sub: binaryElementwise("sub", NUMERIC, {
    jvp: linearJvp("sub"),
    transpose: ([ct], [x, y]) => [on(x, ct), ct == null || !isLinearInput(y) ? null : negative(ct)],
  }),
  mul: binaryElementwise("mul", ALL, {
    jvp: jvp1("mul", ([x, y], [tx, ty]) => addT(scale(tx ?? null, y as Array), scale(ty ?? null, x as Array))),
    transpose: ([ct], [x, y]) =>
      ct == null
        ? [null, null]
        : [
            isLinearInput(x) ? multiply(ct, known(y, "mul")) : null,
            isLinearInput(y) ? multiply(known(x, "mul"), ct) : null,
          ],
  }),
  div: binaryElementwise("div", NUMERIC, {
    jvp: jvp1("div", ([, y], [tx, ty], out) =>
      subT(tx == null ? null : divide(tx, y as Array), scale(ty ?? null, divide(out, y as Array))),
    ),
    transpose: ([ct], [x, y]) => [ct == null || !isLinearInput(x) ? null : divide(ct, known(y, "div")), null],
  }),
  rem: binaryElementwise("rem", NUMERIC, {
    jvp: jvp1("rem", ([x, y], [tx, ty]) => subT(tx ?? null, scale(ty ?? null, trunc(divide(x as Array, y as Array))))),
  }),
  pow: binaryElementwise("pow", NUMERIC, { jvp: powJvp }),
  max: binaryElementwise("max", ALL, { jvp: extremumJvp("max") }),
  min: binaryElementwise("min", ALL, { jvp: extremumJvp("min") }),
  eq: binaryElementwise("eq", ALL, { jvp: zeroJvp("eq") }, true),
  ne: binaryElementwise("ne", ALL, { jvp: zeroJvp("ne") }, true),
  lt: binaryElementwise("lt", ALL, { jvp: zeroJvp("lt") }, true),
  le: binaryElementwise("le", ALL, { jvp: zeroJvp("le") }, true),
  gt: binaryElementwise("gt", ALL, { jvp: zeroJvp("gt") }, true),
  ge: binaryElementwise("ge", ALL, { jvp: zeroJvp("ge") }, true),
  and: binaryElementwise("and", INTEGRAL, { jvp: zeroJvp("and") }),
  or: binaryElementwise("or", INTEGRAL, { jvp: zeroJvp("or") }),
  xor: binaryElementwise("xor", INTEGRAL, { jvp: zeroJvp("xor") }),
  atan2: binaryElementwise("atan2", FLOATS, {
    jvp: jvp1("atan2", ([x, y], [tx, ty]) => {
      const a = x as Array;
      const b = y as Array;
      const r = add(square(a), square(b));
      return subT(scale(tx ?? null, divide(b, r)), scale(ty ?? null, divide(a, r)));
    }),
  }),
  shl: binaryElementwise("shl", INTEGERS, { jvp: zeroJvp("shl") }),
  shr: binaryElementwise("shr", INTEGERS, { jvp: zeroJvp("shr") }),
  shru: binaryElementwise("shru", INTEGERS, { jvp: zeroJvp("shru") }),
};

/** The cotangent `ct` for a linear operand, null for a known one. */
function on(x: TransposeInput | undefined, ct: Tangent | undefined): Tangent {
  return isLinearInput(x) ? (ct ?? null) : null;
}

/** JAX's rule: ∂/∂x = y·x^(y−1) (0 where y = 0); ∂/∂y = log(x)·x^y (0 where x = 0). */
function powJvp(primals: readonly Array[], tangents: readonly Tangent[], params: Params["pow"]) {
  return powRule(primals, tangents, params);
}
const powRule = jvp1("pow", ([x, y], [tx, ty], out) => {
  const a = x as Array;
  const b = y as Array;
  const dx = tx == null ? null : multiply(tx, where(equal(b, 0), 0, multiply(b, power(a, subtract(b, 1)))));
  const dy = ty == null ? null : multiply(ty, multiply(log(where(equal(a, 0), 1, a)), out));
  return addT(dx, dy);
});

/** JAX's balanced rule for max/min: at a tie each operand gets half of its tangent. */
function extremumJvp<P extends "max" | "min">(prim: P) {
  return jvp1(prim, ([x, y], [tx, ty], out) => {
    const a = x as Array;
    const b = y as Array;
    // [own = out] / (1 + [other = out]) as two selects (weak constants take out's dtype).
    const share = (own: Array, other: Array) => where(equal(own, out), where(equal(other, out), 0.5, 1), 0);
    return addT(scale(tx ?? null, share(a, b)), scale(ty ?? null, share(b, a)));
  });
}

const BITS32: readonly DType[] = ["float32", "int32", "uint32"];

export const otherElementwise: PrimitiveTable<
  "select" | "convert_element_type" | "copy" | "bitcast_convert_type" | "stop_gradient"
> = {
  /** x itself, with a zero tangent (lax.stop_gradient); a view, so it costs nothing eagerly. */
  stop_gradient: {
    abstractEval(avals) {
      checkArity("stop_gradient", avals, 1);
      return [avals[0] as Aval];
    },
    lowering: { kind: "view", view: (v) => v },
    jvp: (primals) => [[bind1("stop_gradient", primals, {})], [null]],
    batch: elementwiseBatch("stop_gradient"),
  },
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
    batch: elementwiseBatch("bitcast_convert_type"),
    lowering: { kind: "elementwise", expr: ([x], params) => bitcast(x as Expr, params.newDtype) },
    jvp: zeroJvp("bitcast_convert_type"),
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
    batch: elementwiseBatch("select"),
    lowering: { kind: "elementwise", expr: ([c, x, y]) => select(c as Expr, x as Expr, y as Expr) },
    jvp: linearJvp("select", [1, 2]),
    transpose: ([ct], [c, x, y]) => {
      if (ct == null) return [null, null, null];
      const pred = known(c, "select");
      return [
        null,
        isLinearInput(x) ? where(pred, ct, zerosFor(ct)) : null,
        isLinearInput(y) ? where(pred, zerosFor(ct), ct) : null,
      ];
    },
  },
  convert_element_type: {
    abstractEval(avals, params) {
      checkArity("convert_element_type", avals, 1);
      return [aval((avals[0] as Aval).shape, params.newDtype, params.weakType)];
    },
    batch: elementwiseBatch("convert_element_type"),
    lowering: { kind: "elementwise", expr: ([x], params) => cast(x as Expr, params.newDtype) },
    jvp: (primals, tangents, params) => {
      const out = bind1("convert_element_type", primals, params);
      const t = tangents[0] ?? null;
      const smooth = isFloat(params.newDtype) && t !== null && isFloat(t.dtype);
      return [[out], [smooth ? bind1("convert_element_type", [t], { ...params, weakType: false }) : null]];
    },
    transpose: unaryTranspose("convert_element_type", (ct, x) =>
      bind1("convert_element_type", [ct], { newDtype: x.dtype, weakType: false }),
    ),
  },
  copy: {
    abstractEval(avals) {
      checkArity("copy", avals, 1);
      return [avals[0] as Aval];
    },
    batch: elementwiseBatch("copy"),
    lowering: { kind: "elementwise", expr: ([x]) => x as Expr },
    jvp: linearJvp("copy"),
    transpose: unaryTranspose("copy", (ct) => bind1("copy", [ct], {})),
  },
};
