import type { DType } from "../dtype.js";
import { children, type Expr } from "./expr.js";
import type { RoutineKernel } from "./routine.js";

/**
 * A size or index coefficient: a number fixed in the kernel (jit specialises), or
 * `{ param: i }`, read from the i-th integer argument at dispatch (eager kernels are
 * shape-generic, so a loop over varying batch sizes compiles nothing new).
 */
export type IntExpr = number | { readonly param: number };

/**
 * A load: `buffer[offset + Σ loop_d · strides[d] + Σ_g g.index · g.stride]`, affine in the
 * kernel's loop variables, plus for gathers data-dependent terms: each `gather` entry is an
 * int32 expression (typically another load, clamped into range) scaled by its stride.
 */
export interface Load {
  readonly input: number;
  readonly offset: IntExpr;
  readonly strides: readonly IntExpr[];
  readonly gather?: readonly { readonly index: Expr; readonly stride: IntExpr }[];
}

export type ReduceOp = "sum" | "prod" | "max" | "min" | "argmax" | "argmin";

/**
 * A fusable kernel. It iterates over `loops` (row-major); the first `outRank` loops index the
 * output, written contiguously. Without `reduce`, out[i] = expr. With it, the remaining loops
 * are reduced: out[i] = post(reduce_j expr(i, j)), `post` reading the result as `acc`.
 * argmax/argmin give the index of the first extreme element along the reduced loops (one
 * reduced loop only) and count NaN as the extreme, as numpy does.
 */
export interface FusedKernel {
  readonly kind: "fused";
  readonly label: string;
  readonly inputs: readonly DType[];
  /** The dtypes of the outputs: `expr` writes output 0, `siblings[j]` output j + 1. */
  readonly outputs: readonly [DType, ...DType[]];
  readonly outRank: number;
  readonly loops: readonly IntExpr[];
  readonly loads: readonly Load[];
  readonly expr: Expr;
  readonly reduce?: ReduceOp;
  readonly post?: Expr;
  /**
   * Multi-output fusion (elementwise kernels only): the expressions of outputs 1…, over the same
   * loops and loads as `expr`, each written contiguously to its own buffer. Sub-expressions they
   * share with `expr` or each other are computed once per element.
   */
  readonly siblings?: readonly Expr[];
}

/** A fused kernel's output expressions, in output order (the reduction's `post` or `acc` is not one). */
export function outputExprs(k: FusedKernel): readonly Expr[] {
  return [k.expr, ...(k.siblings ?? [])];
}

/**
 * One operand of a matmul: element (batch…, row, col) at `offset + Σ b·batchStrides + row·rowStride
 * + col·colStride` of its input — or, with a `prologue`, the prologue's expression at loops
 * (batch…, row, col), whose loads read any of the kernel's inputs (the operand's own input, 0 or
 * 1, is then one the prologue reads; offset and strides are unused).
 */
export interface MatmulOperand {
  readonly offset: IntExpr;
  readonly batchStrides: readonly IntExpr[];
  readonly rowStride: IntExpr;
  readonly colStride: IntExpr;
  readonly prologue?: MatmulPrologue;
}

/** An operand computed from the kernel's inputs by a fused elementwise expression (jit's fusion). */
export interface MatmulPrologue {
  readonly loads: readonly Load[];
  readonly expr: Expr;
}

/**
 * A batched matmul C[b, m, n] = Σ_k A[b, m, k] · B[b, k, n] of `dtype`, A and B read from inputs 0
 * and 1 or computed by their prologues, with an optional epilogue: out = epilogue(acc, loads) where the loads (inputs 2…) are affine in the
 * loops (batch…, m, n). Integer matmuls wrap; float ones accumulate in at least float32.
 */
export interface MatmulKernel {
  readonly kind: "matmul";
  readonly label: string;
  readonly dtype: DType;
  readonly inputs: readonly DType[];
  readonly outputs: readonly [DType];
  readonly batch: readonly IntExpr[];
  readonly m: IntExpr;
  readonly n: IntExpr;
  readonly k: IntExpr;
  readonly lhs: MatmulOperand;
  readonly rhs: MatmulOperand;
  readonly epilogue?: { readonly loads: readonly Load[]; readonly expr: Expr };
}

/** A kernel: fused, matmul, or a routine that does not fuse. Each declares its outputs. */
export type Kernel = FusedKernel | MatmulKernel | RoutineKernel;

export function resolveInt(e: IntExpr, params: ArrayLike<number>): number {
  return typeof e === "number" ? e : (params[e.param] as number);
}

/**
 * Per input, whether the kernel dispatched with `params` reads it only at the element it
 * writes: through loads contiguous from offset 0 over the loops, without gathers — an
 * elementwise fused kernel's, or a matmul epilogue's (loops batch…, m, n; not an operand or a
 * prologue's input). Output j may then be written over such an input of its dtype and size (a
 * donated in-place update) on a backend that computes all of an element's outputs before
 * storing any.
 */
export function pointwiseInputs(k: Kernel, params: ArrayLike<number>): boolean[] {
  const none = k.inputs.map(() => false);
  if (k.kind === "fused") {
    if (k.reduce || k.outRank !== k.loops.length) return none;
    return pointwiseLoads(k.inputs.length, k.loops, k.loads, params);
  }
  if (k.kind !== "matmul" || !k.epilogue) return none;
  const ok = pointwiseLoads(k.inputs.length, [...k.batch, k.m, k.n], k.epilogue.loads, params);
  ok[0] = false;
  ok[1] = false;
  for (const pro of [k.lhs.prologue, k.rhs.prologue]) for (const l of pro?.loads ?? []) ok[l.input] = false;
  return ok;
}

/** Per input, whether `loads` read it (at least once) and only contiguously from 0 over `loops`. */
function pointwiseLoads(
  nInputs: number,
  loops: readonly IntExpr[],
  loads: readonly Load[],
  params: ArrayLike<number>,
): boolean[] {
  const ok = new globalThis.Array<boolean>(nInputs).fill(false);
  const dims = loops.map((n) => resolveInt(n, params));
  const contiguous: number[] = [];
  let s = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    contiguous[d] = s;
    s *= dims[d] as number;
  }
  const bad = new Set<number>();
  for (const l of loads) {
    const exact =
      resolveInt(l.offset, params) === 0 &&
      !l.gather?.length &&
      l.strides.every((st, d) => resolveInt(st, params) === contiguous[d] || dims[d] === 1);
    if (exact) ok[l.input] = true;
    else bad.add(l.input);
  }
  for (const i of bad) ok[i] = false;
  return ok;
}

/**
 * Per output, how near its expression's root the kernel reads `input` (1: a load is an operand
 * of the root; Infinity: it never reads it). An in-place update prefers the output nearest its
 * donated input — an optimiser's new parameter over the old one, mu over mu — so each keeps its
 * buffer.
 */
export function inputDepths(k: Kernel, input: number): number[] {
  const roots = k.kind === "fused" ? outputExprs(k) : k.kind === "matmul" && k.epilogue ? [k.epilogue.expr] : [];
  const loads = k.kind === "fused" ? k.loads : k.kind === "matmul" ? (k.epilogue?.loads ?? []) : [];
  return k.outputs.map((_, j) => {
    const root = roots[j];
    if (!root) return Number.POSITIVE_INFINITY;
    let level: Expr[] = [root];
    const seen = new Set<Expr>(level);
    for (let depth = 0; level.length > 0; depth++) {
      if (level.some((e) => e.op === "load" && loads[e.load]?.input === input)) return depth;
      const next: Expr[] = [];
      for (const e of level)
        for (const c of children(e))
          if (!seen.has(c)) {
            seen.add(c);
            next.push(c);
          }
      level = next;
    }
    return Number.POSITIVE_INFINITY;
  });
}
