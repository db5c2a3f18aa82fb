import type { DType } from "../dtype.js";

/**
 * The element expression language of fusable kernels. Semantics are pinned for every backend:
 * - integer `add`/`sub`/`mul` wrap modulo 2^32; `div` on integers truncates toward zero, and
 *   `x / 0` is -1 for int32 and 0xFFFFFFFF for uint32; `rem` is the truncated remainder with
 *   `x % 0 = x` (XLA's rules); `INT_MIN / -1 = INT_MIN`.
 * - `cast` float→int truncates toward zero and saturates, NaN → 0; anything → bool is `x != 0`
 *   (NaN → true); bool → number is 0/1.
 * - `max`/`min` propagate NaN; `round` rounds half to even; comparisons give bool.
 * - shifts (`shl`, `shr` arithmetic, `shru` logical) by an amount outside [0, 32) give 0, or
 *   the sign fill for `shr` (XLA's rule), instead of JS's and WGSL's shift modulo 32.
 * - transcendentals are correctly rounded on CPU, and our own range-reduced code elsewhere.
 */
export type UnaryOp =
  | "neg"
  | "abs"
  | "sign"
  | "exp"
  | "log"
  | "sqrt"
  | "rsqrt"
  | "tanh"
  | "logistic"
  | "sin"
  | "cos"
  | "floor"
  | "ceil"
  | "round"
  | "log1p"
  | "expm1"
  | "not"
  | "tan"
  | "asin"
  | "acos"
  | "atan"
  | "sinh"
  | "cosh"
  | "asinh"
  | "atanh"
  | "erf"
  | "erfc"
  | "erfinv"
  | "cbrt"
  | "exp2"
  | "isfinite";

export type BinaryOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "rem"
  | "pow"
  | "max"
  | "min"
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "and"
  | "or"
  | "xor"
  | "atan2"
  | "shl"
  | "shr"
  | "shru";

export const COMPARISONS: ReadonlySet<BinaryOp> = new Set(["eq", "ne", "lt", "le", "gt", "ge"]);

export type Expr =
  /** The element of kernel load `load` at the current loop position. */
  | { readonly op: "load"; readonly load: number; readonly dtype: DType }
  | { readonly op: "const"; readonly value: number; readonly dtype: DType }
  /** The value of loop variable `loop` (an iota). */
  | { readonly op: "index"; readonly loop: number; readonly dtype: DType }
  /** The i-th integer argument of the dispatch (sizes known only at run time). */
  | { readonly op: "param"; readonly param: number; readonly dtype: DType }
  /** The reduced value, inside a kernel's `post` expression or a matmul epilogue. */
  | { readonly op: "acc"; readonly dtype: DType }
  | { readonly op: "unary"; readonly fn: UnaryOp; readonly x: Expr; readonly dtype: DType }
  | { readonly op: "binary"; readonly fn: BinaryOp; readonly x: Expr; readonly y: Expr; readonly dtype: DType }
  | { readonly op: "select"; readonly cond: Expr; readonly x: Expr; readonly y: Expr; readonly dtype: DType }
  | { readonly op: "cast"; readonly x: Expr; readonly dtype: DType }
  /** The same 32 bits read as another 32-bit dtype. */
  | { readonly op: "bitcast"; readonly x: Expr; readonly dtype: DType };

export const load = (i: number, dtype: DType): Expr => ({ op: "load", load: i, dtype });
export const constant = (value: number, dtype: DType): Expr => ({ op: "const", value, dtype });
export const acc = (dtype: DType): Expr => ({ op: "acc", dtype });
export const param = (i: number): Expr => ({ op: "param", param: i, dtype: "int32" });
export const index = (loop: number): Expr => ({ op: "index", loop, dtype: "int32" });
export const unary = (fn: UnaryOp, x: Expr): Expr => ({
  op: "unary",
  fn,
  x,
  dtype: fn === "isfinite" ? "bool" : x.dtype,
});
export const binary = (fn: BinaryOp, x: Expr, y: Expr): Expr => ({
  op: "binary",
  fn,
  x,
  y,
  dtype: COMPARISONS.has(fn) ? "bool" : x.dtype,
});
export const select = (cond: Expr, x: Expr, y: Expr): Expr => ({ op: "select", cond, x, y, dtype: x.dtype });
export const cast = (x: Expr, dtype: DType): Expr => (x.dtype === dtype ? x : { op: "cast", x, dtype });
export const bitcast = (x: Expr, dtype: DType): Expr => (x.dtype === dtype ? x : { op: "bitcast", x, dtype });

/** Children of a node, in evaluation order. */
export function children(e: Expr): Expr[] {
  switch (e.op) {
    case "unary":
    case "cast":
    case "bitcast":
      return [e.x];
    case "binary":
      return [e.x, e.y];
    case "select":
      return [e.cond, e.x, e.y];
    default:
      return [];
  }
}

/** `e` over new children, in `children`' order (the same object when they already are its children). */
export function withChildren(e: Expr, kids: readonly Expr[]): Expr {
  switch (e.op) {
    case "unary":
    case "cast":
    case "bitcast":
      return kids[0] === e.x ? e : { ...e, x: kids[0] as Expr };
    case "binary":
      return kids[0] === e.x && kids[1] === e.y ? e : { ...e, x: kids[0] as Expr, y: kids[1] as Expr };
    case "select":
      return kids[0] === e.cond && kids[1] === e.x && kids[2] === e.y
        ? e
        : { ...e, cond: kids[0] as Expr, x: kids[1] as Expr, y: kids[2] as Expr };
    default:
      return e;
  }
}
