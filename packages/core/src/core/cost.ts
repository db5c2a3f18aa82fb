/**
 * `jit(f).lower(...args).costAnalysis()` (issue 25): floating-point operations, transcendental
 * functions and bytes moved, per kernel and in total, counted from the kernels' IR and the
 * buffers each dispatch binds — so a user sees whether a step is compute- or memory-bound.
 *
 * The model (XLA's, where it has one): a matmul is 2·batch·m·n·k flops; a fused kernel's
 * float arithmetic nodes (shared sub-expressions once; index and mask math, comparisons'
 * bool results and selects are not flops) count once per point of its loops, a reduction
 * adds one per reduced element and its `post` runs once per output; prologues and epilogues
 * count over their operand's or result's elements. Transcendentals (exp, log, tanh, sqrt, …) are
 * counted apart from flops. Bytes read are, per input, the elements its loads can touch (a
 * broadcast dimension adds none) up to the buffer's size; bytes written are the outputs'.
 * Routines (sorts, gathers, cumulative sums, …) count their bytes and no flops.
 */
import { isFloat, itemSize } from "../dtype.js";
import { children, type Expr } from "../ir/expr.js";
import { type IntExpr, type Kernel, type Load, outputExprs, resolveInt } from "../ir/kernel.js";

export interface KernelCost {
  readonly label: string;
  readonly kind: Kernel["kind"];
  readonly flops: number;
  readonly transcendentals: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

export interface CostAnalysis {
  readonly kernels: readonly KernelCost[];
  readonly flops: number;
  readonly transcendentals: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** bytesRead + bytesWritten. */
  readonly bytesAccessed: number;
  /** Flops per byte accessed (arithmetic intensity); 0 when nothing is accessed. */
  readonly intensity: number;
}

const TRANSCENDENTAL = new Set<string>([
  "exp",
  "log",
  "sqrt",
  "rsqrt",
  "tanh",
  "logistic",
  "sin",
  "cos",
  "log1p",
  "expm1",
  "tan",
  "asin",
  "acos",
  "atan",
  "sinh",
  "cosh",
  "asinh",
  "atanh",
  "erf",
  "erfc",
  "erfinv",
  "cbrt",
  "exp2",
  "pow",
  "atan2",
]);

/** Arithmetic nodes of expression DAGs (each node once): [flops, transcendentals]. */
function exprOps(roots: readonly Expr[]): [number, number] {
  const seen = new Set<Expr>();
  let flops = 0;
  let trans = 0;
  const visit = (e: Expr) => {
    if (seen.has(e)) return;
    seen.add(e);
    // Float arithmetic only: index and mask math (ints, bools, selects) is not a flop (XLA's count).
    if ((e.op === "unary" || e.op === "binary") && isFloat(e.dtype)) {
      if (TRANSCENDENTAL.has(e.fn)) trans++;
      else flops++;
    }
    for (const c of children(e)) visit(c);
  };
  for (const r of roots) visit(r);
  return [flops, trans];
}

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Elements of an input that loads over `dims` can touch: the dimensions it steps along (all of the buffer with a gather). */
function touched(loads: readonly Load[], input: number, dims: readonly number[], params: ArrayLike<number>): number {
  let n = 0;
  for (const l of loads) {
    if (l.input !== input) continue;
    if (l.gather?.length) return Infinity;
    n += product(dims.filter((_, d) => resolveInt(l.strides[d] as IntExpr, params) !== 0));
  }
  return n;
}

/** One dispatch's cost: its kernel, params, and the bytes of the buffers it binds. */
export function kernelCost(
  k: Kernel,
  params: ArrayLike<number>,
  inBytes: readonly number[],
  outBytes: readonly number[],
): KernelCost {
  const r = (e: IntExpr) => resolveInt(e, params);
  const bytesWritten = outBytes.reduce((a, b) => a + b, 0);
  let flops = 0;
  let trans = 0;
  const reads = inBytes.map((b) => b);
  const cap = (input: number, elements: number) => {
    const bytes = elements * itemSize(k.inputs[input] as never);
    reads[input] = Math.min(inBytes[input] as number, bytes);
  };
  if (k.kind === "fused") {
    const dims = k.loops.map(r);
    const points = product(dims);
    const outPoints = product(dims.slice(0, k.outRank));
    const [f, t] = exprOps(outputExprs(k));
    flops += f * points;
    trans += t * points;
    if (k.reduce) flops += points;
    if (k.post) {
      const [pf, pt] = exprOps([k.post]);
      flops += pf * outPoints;
      trans += pt * outPoints;
    }
    k.inputs.forEach((_, i) => {
      cap(i, touched(k.loads, i, dims, params));
    });
  } else if (k.kind === "matmul") {
    const batch = product(k.batch.map(r));
    const [m, n, kk] = [r(k.m), r(k.n), r(k.k)];
    flops += 2 * batch * m * n * kk;
    const operand = (side: "lhs" | "rhs", rows: number, cols: number, input: number) => {
      const pro = k[side].prologue;
      const dims = [...k.batch.map(r), rows, cols];
      if (!pro) {
        const o = k[side];
        const strides = [...o.batchStrides, o.rowStride, o.colStride].map(r);
        cap(input, product(dims.filter((_, d) => strides[d] !== 0)));
        return;
      }
      const [pf, pt] = exprOps([pro.expr]);
      flops += pf * product(dims);
      trans += pt * product(dims);
    };
    operand("lhs", m, kk, 0);
    operand("rhs", kk, n, 1);
    if (k.epilogue) {
      const [ef, et] = exprOps([k.epilogue.expr]);
      flops += ef * batch * m * n;
      trans += et * batch * m * n;
    }
  }
  return {
    label: k.label,
    kind: k.kind,
    flops,
    transcendentals: trans,
    bytesRead: reads.reduce((a, b) => a + b, 0),
    bytesWritten,
  };
}

/** The totals of a program's kernels. */
export function totalCost(kernels: readonly KernelCost[]): CostAnalysis {
  const sum = (f: (k: KernelCost) => number) => kernels.reduce((a, k) => a + f(k), 0);
  const flops = sum((k) => k.flops);
  const bytesRead = sum((k) => k.bytesRead);
  const bytesWritten = sum((k) => k.bytesWritten);
  const bytesAccessed = bytesRead + bytesWritten;
  return {
    kernels,
    flops,
    transcendentals: sum((k) => k.transcendentals),
    bytesRead,
    bytesWritten,
    bytesAccessed,
    intensity: bytesAccessed === 0 ? 0 : flops / bytesAccessed,
  };
}
