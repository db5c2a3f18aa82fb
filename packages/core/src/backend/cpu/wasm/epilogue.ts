/**
 * A matmul's epilogue compiled to Wasm: out = epilogue(acc, loads) becomes a fused elementwise
 * kernel over the loops (batch…, m, n) that reads the GEMM's accumulator block as its input 0
 * (contiguous; its batch strides are extra params appended after the matmul's) and the
 * epilogue's loads as inputs 1…, so it runs as SIMD code with no per-element closure, and splits
 * its rows over the worker pool like any large fused kernel.
 */
import { cast, children, type Expr, load, withChildren } from "../../../ir/expr.js";
import type { FusedKernel, IntExpr, MatmulKernel } from "../../../ir/kernel.js";
import { MAX_PAGES } from "../heap.js";
import { wasmFusedRunner, wasmFusedUnsupported } from "./fused.js";
import type { WorkerPool } from "./pool.js";

/** `e` with every `acc` replaced by `by` (shared subtrees stay shared). */
export function replaceAcc(e: Expr, by: Expr, memo: Map<Expr, Expr> = new Map()): Expr {
  let out = memo.get(e);
  if (out === undefined) {
    out =
      e.op === "acc"
        ? cast(by, e.dtype)
        : withChildren(
            e,
            children(e).map((c) => replaceAcc(c, by, memo)),
          );
    memo.set(e, out);
  }
  return out;
}

/**
 * The fused kernel of `k`'s epilogue, for a matmul dispatched with `nParams` params: input 0 is
 * the float32 accumulator [batch…, M, N]; param nParams + d is batch dimension d's stride in it.
 */
export function epilogueKernel(k: MatmulKernel, nParams: number): FusedKernel {
  const epi = k.epilogue;
  if (!epi) throw new Error(`internal: matmul '${k.label}' has no epilogue`);
  const nb = k.batch.length;
  const loops: IntExpr[] = [...k.batch, k.m, k.n];
  const accLoad = {
    input: 0,
    offset: 0,
    strides: [...Array.from({ length: nb }, (_, d) => ({ param: nParams + d })), k.n, 1],
  };
  const loads = [...epi.loads.map((l) => ({ ...l, input: l.input - 1 })), accLoad];
  return {
    kind: "fused",
    label: `${k.label} epilogue`,
    inputs: ["float32", ...k.inputs.slice(2)],
    outputs: k.outputs,
    outRank: loops.length,
    loops,
    loads,
    expr: replaceAcc(epi.expr, load(epi.loads.length, "float32")),
  };
}

/** Writes the matmul's params `p` then the accumulator's batch strides (`batch` resolved, M·N a block) into `q`. */
export function epilogueParams(q: Int32Array, p: Int32Array, batch: readonly number[], mn: number): Int32Array {
  q.set(p);
  let stride = mn;
  for (let d = batch.length - 1; d >= 0; d--) {
    q[p.length + d] = stride;
    stride *= batch[d] as number;
  }
  return q;
}

/**
 * Runs a compiled epilogue: `where` holds [heap byte address, length] of the matmul's inputs and
 * then its output, `accAt` is the accumulator's address. Allocates nothing.
 */
export type EpilogueRun = (
  accAt: number,
  where: readonly (readonly [number, number])[],
  p: Int32Array,
  batch: readonly number[],
  mn: number,
) => void;

/**
 * `k`'s epilogue as Wasm, compiled at its first run (when the matmul's param count is known);
 * null when the fused generator cannot take it (the caller then maps it in JS and says why).
 */
export function compiledEpilogue(
  k: MatmulKernel,
  heap: { readonly memory: WebAssembly.Memory; readonly shared: boolean },
  pool: WorkerPool | null,
  fallback: (why: string) => void,
): (nParams: number) => EpilogueRun | null {
  const runs = new Map<number, EpilogueRun | null>();
  return (nParams) => {
    const have = runs.get(nParams);
    if (have !== undefined) return have;
    const kernel = epilogueKernel(k, nParams);
    const why = wasmFusedUnsupported(kernel);
    let run: EpilogueRun | null = null;
    if (why === null) {
      const fused = wasmFusedRunner(kernel, heap.memory, { shared: heap.shared, maxPages: MAX_PAGES }, pool);
      // The accumulator, then the epilogue's inputs (the matmul's 2…); reused by every run.
      const ins = kernel.inputs.map(() => ({ byteOffset: 0 }));
      const outs = [{ byteOffset: 0 }];
      const q = new Int32Array(nParams + k.batch.length);
      const addr = (where: readonly (readonly [number, number])[], i: number) =>
        (where[i] as readonly [number, number])[0];
      run = (accAt, where, p, batch, mn) => {
        (ins[0] as { byteOffset: number }).byteOffset = accAt;
        for (let i = 1; i < ins.length; i++) (ins[i] as { byteOffset: number }).byteOffset = addr(where, i + 1);
        (outs[0] as { byteOffset: number }).byteOffset = addr(where, k.inputs.length);
        fused(ins, outs, epilogueParams(q, p, batch, mn));
      };
    } else fallback(why);
    runs.set(nParams, run);
    return run;
  };
}
