import type { DType } from "../../../dtype.js";
import { children, type Expr } from "../../../ir/expr.js";
import type { FusedKernel, IntExpr } from "../../../ir/kernel.js";
import { expandMath } from "../../../ir/math.js";
import { kindOf, unaryFn } from "../scalar.js";

/** What the Wasm fused kernels can compile: the support check, the lane check, the param count. */

/** The dtypes Wasm kernels read and write: 32-bit values, and bool as one byte. */
export const WASM_DTYPES: ReadonlySet<DType> = new Set(["float32", "int32", "uint32", "bool"]);
export const bytesOf = (d: DType): number => (d === "bool" ? 1 : 4);
export const valType = (d: DType): "f32" | "i32" => (d === "float32" ? "f32" : "i32");

/** Why this kernel cannot run as Wasm (null: it can). */
export function wasmFusedUnsupported(k: FusedKernel): string | null {
  for (const d of [...k.inputs, k.outputs[0]]) if (!WASM_DTYPES.has(d)) return `${d} storage`;
  const exprs = [k.expr, ...(k.post ? [k.post] : []), ...k.loads.flatMap((l) => (l.gather ?? []).map((g) => g.index))];
  const seen = new Set<Expr>();
  let why: string | null = null;
  const walk = (n: Expr): void => {
    if (why !== null || seen.has(n)) return;
    seen.add(n);
    why = scalarUnsupported(n);
    for (const c of children(n)) walk(c);
  };
  for (const e of exprs) walk(expandMath(e));
  return why;
}

function scalarUnsupported(n: Expr): string | null {
  if (!WASM_DTYPES.has(n.dtype)) return `${n.dtype} values`;
  if (n.op === "unary") {
    if (!unaryFn(n.fn, n.x.dtype)) return `${n.fn} on ${n.x.dtype}`;
    const k = kindOf(n.x.dtype);
    if (k === "f" && !F_UNARY.has(n.fn)) return `${n.fn} on float32`;
    if (k === "b" && n.fn === "neg") return "neg on bool";
  }
  if (n.op === "binary") {
    const k = kindOf(n.x.dtype);
    if (n.fn === "pow") return `pow on ${n.x.dtype}`;
    if (k === "f" && (n.fn === "rem" || ["and", "or", "xor", "shl", "shr", "shru"].includes(n.fn)))
      return `${n.fn} on float32`;
    if (k === "b" && ["sub", "div", "rem", "shl", "shr", "shru"].includes(n.fn)) return `${n.fn} on bool`;
  }
  return null;
}

const F_UNARY = new Set(["neg", "abs", "sign", "sqrt", "floor", "ceil", "round", "not", "isfinite"]);

/** Whether an expression has lane forms throughout (the vector loop's compile-time condition). */
export function vectorizable(k: FusedKernel, e: Expr): boolean {
  if (k.reduce || k.loops.length === 0 || k.outputs[0] === "bool") return false;
  if (k.loads.some((l) => l.gather) || k.inputs.some((d) => d === "bool")) return false;
  const seen = new Set<Expr>();
  const ok = (n: Expr): boolean => {
    if (seen.has(n)) return true;
    seen.add(n);
    const kind = kindOf(n.op === "unary" || n.op === "binary" || n.op === "cast" ? n.x.dtype : n.dtype);
    switch (n.op) {
      case "unary":
        if (kind === "f" && !["neg", "abs", "sqrt", "floor", "ceil", "round", "isfinite"].includes(n.fn)) return false;
        if (kind !== "f" && !["neg", "abs", "not", "floor", "ceil", "round"].includes(n.fn)) return false;
        if (kind === "b" && n.fn === "neg") return false;
        break;
      case "binary":
        if (["shl", "shr", "shru"].includes(n.fn)) {
          // Lanes shift by one scalar amount: a constant in range only.
          if (kind === "f" || kind === "b" || n.y.op !== "const" || !(n.y.value >= 0 && n.y.value < 32)) return false;
          return ok(n.x);
        }
        if (["div", "rem", "pow", "atan2"].includes(n.fn)) {
          if (!(n.fn === "div" && kind === "f")) return false;
        }
        if (kind === "f" && ["and", "or", "xor"].includes(n.fn)) return false;
        if (kind === "b" && n.fn === "sub") return false;
        break;
      case "acc":
        return false;
    }
    return children(n).every(ok);
  };
  return ok(e);
}

/** The highest param index a kernel reads, plus one. */
export function paramCount(k: FusedKernel, exprs: readonly Expr[]): number {
  let n = 0;
  const int = (e: IntExpr) => {
    if (typeof e !== "number") n = Math.max(n, e.param + 1);
  };
  k.loops.forEach(int);
  for (const l of k.loads) {
    int(l.offset);
    l.strides.forEach(int);
    for (const g of l.gather ?? []) int(g.stride);
  }
  const seen = new Set<Expr>();
  const walk = (e: Expr) => {
    if (seen.has(e)) return;
    seen.add(e);
    if (e.op === "param") n = Math.max(n, e.param + 1);
    children(e).forEach(walk);
  };
  exprs.forEach(walk);
  for (const l of k.loads) for (const g of l.gather ?? []) walk(g.index);
  return n;
}
