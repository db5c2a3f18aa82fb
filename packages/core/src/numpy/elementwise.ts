import { Array, type ArrayLike } from "../array.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { checkDType, type DType, floatResult, isFloat } from "../dtype.js";
import { DTypeError } from "../errors.js";
import type { BinaryPrimitive, UnaryPrimitive } from "../primitives/types.js";
import { broadcastShapes } from "../shape.js";
import { broadcastTo, convert, fresh, prepare, typeOf } from "./convert.js";

/** A numpy binary function over one primitive: promotion, broadcasting, then the primitive. */
function binaryFn(name: string, prim: BinaryPrimitive) {
  return (x: ArrayLike, y: ArrayLike): Array =>
    scoped(() => {
      const [a, b] = prepare(name, [x, y]);
      return bind1(prim, [a as Array, b as Array], {});
    });
}

/** A numpy unary function; `toFloat` promotes integer/bool input to float32 first (np.exp(int) is float). */
function unaryFn(prim: UnaryPrimitive, toFloat: boolean) {
  return (x: ArrayLike): Array =>
    scoped(() => {
      const [a] = prepare(prim, [x]);
      const arg = toFloat ? convert(a as Array, floatResult((a as Array).dtype)) : (a as Array);
      return bind1(prim, [arg], {});
    });
}

/** x + y, elementwise (bool + bool is logical or, as numpy). */
export const add = binaryFn("add", "add");
/** x − y, elementwise. */
export const subtract = binaryFn("subtract", "sub");
/** x · y, elementwise (bool · bool is logical and). */
export const multiply = binaryFn("multiply", "mul");
/** max(x, y), elementwise; NaN if either is NaN. */
export const maximum = binaryFn("maximum", "max");
/** min(x, y), elementwise; NaN if either is NaN. */
export const minimum = binaryFn("minimum", "min");
/** x == y → bool. */
export const equal = binaryFn("equal", "eq");
/** x != y → bool. */
export const notEqual = binaryFn("notEqual", "ne");
/** x < y → bool. */
export const less = binaryFn("less", "lt");
/** x <= y → bool. */
export const lessEqual = binaryFn("lessEqual", "le");
/** x > y → bool. */
export const greater = binaryFn("greater", "gt");
/** x >= y → bool. */
export const greaterEqual = binaryFn("greaterEqual", "ge");

/** True division: integer and bool operands give float32 (numpy's true_divide). */
export function divide(x: ArrayLike, y: ArrayLike): Array {
  return scoped(() => {
    const t = [typeOf(x), typeOf(y)];
    const anyFloat = t.some((r) => isFloat(r.dtype));
    const [a, b] = anyFloat ? prepare("divide", [x, y]) : prepare("divide", [x, y], "float32");
    return bind1("div", [a as Array, b as Array], {});
  });
}

/** x ** y, elementwise (bool operands are promoted to int32). */
export function power(x: ArrayLike, y: ArrayLike): Array {
  return scoped(() => {
    const [a, b] = prepare("power", [x, y]);
    if ((a as Array).dtype === "bool")
      return bind1("pow", [convert(a as Array, "int32"), convert(b as Array, "int32")], {});
    return bind1("pow", [a as Array, b as Array], {});
  });
}

/** −x. */
export const negative = unaryFn("neg", false);
/** |x|. */
export const abs = unaryFn("abs", false);
/** sign(x): −1, 0 or 1 (NaN stays NaN). */
export const sign = unaryFn("sign", false);
/** eˣ. */
export const exp = unaryFn("exp", true);
/** Natural logarithm. */
export const log = unaryFn("log", true);
/** √x. */
export const sqrt = unaryFn("sqrt", true);
/** 1/√x. */
export const rsqrt = unaryFn("rsqrt", true);
/** Hyperbolic tangent. */
export const tanh = unaryFn("tanh", true);
/** sin(x). */
export const sin = unaryFn("sin", true);
/** cos(x). */
export const cos = unaryFn("cos", true);
/** log(1 + x), accurate near 0. */
export const log1p = unaryFn("log1p", true);
/** eˣ − 1, accurate near 0. */
export const expm1 = unaryFn("expm1", true);
/** Largest integer ≤ x. */
export const floor = unaryFn("floor", false);
/** Smallest integer ≥ x. */
export const ceil = unaryFn("ceil", false);
/** Rounds half to even, as numpy. */
/** Rounds half to even (numpy's rint); `np.round` also takes decimals (numpy/math.ts). */
export const rint = unaryFn("round", false);
/** The logistic sigmoid 1/(1 + e⁻ˣ) (jax.nn.sigmoid). */
export const sigmoid = unaryFn("logistic", true);

/** x². */
export function square(x: ArrayLike): Array {
  return scoped(() => {
    const [a] = prepare("square", [x]);
    return bind1("mul", [a as Array, a as Array], {});
  });
}

/** 1/x (float result). */
export function reciprocal(x: ArrayLike): Array {
  return divide(1, x);
}

/** Elementwise logical not (nonzero is true). */
export function logicalNot(x: ArrayLike): Array {
  return scoped(() => bind1("not", [asBool(x, "logicalNot")], {}));
}

/** Elementwise logical and. */
export function logicalAnd(x: ArrayLike, y: ArrayLike): Array {
  return scoped(() => bind1("and", asBools("logicalAnd", x, y), {}));
}

/** Elementwise logical or. */
export function logicalOr(x: ArrayLike, y: ArrayLike): Array {
  return scoped(() => bind1("or", asBools("logicalOr", x, y), {}));
}

/** Both operands as bool (nonzero is true), broadcast together. */
function asBools(op: string, x: ArrayLike, y: ArrayLike): Array[] {
  return prepare(op, [x, y]).map((a) => convert(a, "bool", false));
}

/** Elementwise logical xor. */
export function logicalXor(x: ArrayLike, y: ArrayLike): Array {
  return scoped(() => bind1("xor", asBools("logicalXor", x, y), {}));
}

function asBool(x: ArrayLike, op: string): Array {
  const [a] = prepare(op, [x]);
  return convert(a as Array, "bool", false);
}

/** where(cond, x, y): x where cond is true (nonzero), else y; all three broadcast. */
export function where(cond: ArrayLike, x: ArrayLike, y: ArrayLike): Array {
  return scoped(() => {
    if (x === undefined || y === undefined) {
      throw new DTypeError(
        "where: needs the condition and both branches, np.where(cond, x, y); for the indices where cond holds (numpy's one-argument where) use np.nonzero(cond)",
      );
    }
    const [a, b] = prepare("where", [x, y]);
    const c = asBool(cond, "where");
    const shape = broadcastShapes("where", c.shape, (a as Array).shape, (b as Array).shape);
    return bind1("select", [broadcastTo(c, shape), broadcastTo(a as Array, shape), broadcastTo(b as Array, shape)], {});
  });
}

/** Clips to [min, max] (either bound may be null). */
export function clip(x: ArrayLike, min: ArrayLike | null, max: ArrayLike | null): Array {
  return scoped(() => {
    let r = x;
    if (min !== null) r = maximum(r, min);
    if (max !== null) r = minimum(r, max);
    if (!(r instanceof Array)) throw new DTypeError("clip: x must be an Array when both bounds are null");
    return fresh(r, x);
  });
}

/** Casts to `dtype` (float→int truncates toward zero and saturates; NaN → 0). */
export function astype(x: ArrayLike, dtype: DType): Array {
  return scoped(() => {
    const a = prepare("astype", [x])[0] as Array;
    return fresh(convert(a, checkDType(dtype, "astype"), false), x);
  });
}
