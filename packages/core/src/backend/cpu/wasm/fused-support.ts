import type { DType } from "../../../dtype.js";
import { children, type Expr } from "../../../ir/expr.js";
import { type FusedKernel, type IntExpr, outputExprs } from "../../../ir/kernel.js";
import { expandMath } from "../../../ir/math.js";
import { kindOf, unaryFn } from "../scalar.js";

/** What the Wasm fused kernels can compile: the support check, the lane check, the param count. */

/**
 * How each dtype lives in a Wasm kernel: its bytes in the heap and its value type. float16 is
 * stored as binary16 bits and computed as f64 rounded to float16 after every op (as the JS
 * kernels compute it); bool is one byte.
 */
export const bytesOf = (d: DType): number => (d === "bool" ? 1 : d === "float16" ? 2 : d === "float64" ? 8 : 4);
export const valType = (d: DType): "f32" | "f64" | "i32" =>
  d === "float32" ? "f32" : d === "float64" || d === "float16" ? "f64" : "i32";

/**
 * Why this kernel cannot run as Wasm (null: it can). Every op has a Wasm form — an instruction,
 * or the JS scalar function imported — so only an op the dtype does not define is refused (the
 * JS kernels refuse it too).
 */
export function wasmFusedUnsupported(k: FusedKernel): string | null {
  const exprs = [
    ...outputExprs(k),
    ...(k.post ? [k.post] : []),
    ...k.loads.flatMap((l) => (l.gather ?? []).map((g) => g.index)),
  ];
  const seen = new Set<Expr>();
  let why: string | null = null;
  const walk = (n: Expr): void => {
    if (why !== null || seen.has(n)) return;
    seen.add(n);
    if (n.op === "unary" && !unaryFn(n.fn, n.x.dtype)) why = `${n.fn} on ${n.x.dtype}`;
    for (const c of children(n)) walk(c);
  };
  for (const e of exprs) walk(expandMath(e));
  return why;
}

const LANE_DTYPES: ReadonlySet<DType> = new Set(["float32", "int32", "uint32", "bool"]);

/** Whether an elementwise kernel's output expressions have lane forms throughout (the vector loop's compile-time condition). */
export function vectorizable(k: FusedKernel, exprs: readonly Expr[]): boolean {
  if (k.reduce || k.loops.length === 0) return false;
  if (k.loads.some((l) => l.gather) || k.inputs.some((d) => d === "bool" || !LANE_DTYPES.has(d))) return false;
  if (k.outputs.some((d) => d === "bool" || !LANE_DTYPES.has(d))) return false;
  return exprs.every((e) => hasLanes(e, false));
}

/**
 * Whether a reduction can run four outputs at a time along the output's innermost loop (each
 * lane its own sequential reduction, so the bits are the scalar loop's): sum/prod/max/min of
 * float32/int32/uint32 with lane forms for the element expression and `post`, gather indices
 * that do not depend on that loop (the address is one scalar for the four lanes).
 */
export function vectorReducible(k: FusedKernel, expr: Expr, post: Expr | undefined): boolean {
  const r = k.outRank;
  const out = k.outputs[0] as DType;
  if (!k.reduce || !["sum", "prod", "max", "min"].includes(k.reduce) || r === 0) return false;
  if (out === "bool" || !LANE_DTYPES.has(out) || expr.dtype !== out) return false;
  if (k.inputs.some((d) => d === "bool" || !LANE_DTYPES.has(d))) return false;
  const usesLane = (e: Expr, seen = new Set<Expr>()): boolean => {
    if (seen.has(e)) return false;
    seen.add(e);
    if ((e.op === "index" && e.loop === r - 1) || e.op === "acc") return true;
    return children(e).some((c) => usesLane(c, seen));
  };
  if (k.loads.some((l) => (l.gather ?? []).some((t) => usesLane(t.index)))) return false;
  return hasLanes(expr, false) && (post === undefined || hasLanes(post, true));
}

function hasLanes(e: Expr, allowAcc: boolean): boolean {
  const seen = new Set<Expr>();
  const ok = (n: Expr): boolean => {
    if (seen.has(n)) return true;
    seen.add(n);
    if (!LANE_DTYPES.has(n.dtype)) return false;
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
        return allowAcc;
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
