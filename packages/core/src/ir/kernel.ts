import type { DType } from "../dtype.js";
import type { Expr } from "./expr.js";
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
