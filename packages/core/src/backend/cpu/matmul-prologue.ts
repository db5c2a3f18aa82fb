/**
 * A matmul operand's prologue (jit's fusion, rule 5b) on the CPU: a fused elementwise kernel over
 * the operand's loops (batch…, row, col) that reads the matmul's inputs and writes the operand
 * contiguously into a scratch block, which the GEMM then packs like any operand. It runs as the
 * backend's other fused kernels do (Wasm SIMD over the worker pool where Wasm takes it).
 */
import { children, type Expr, index, withChildren } from "../../ir/expr.js";
import type { FusedKernel, IntExpr, Load, MatmulKernel } from "../../ir/kernel.js";

/**
 * The fused kernel of operand `side`'s prologue of `k`: one output of `k.dtype`, [batch…, rows,
 * cols] — or, with `colMajor`, [batch…, cols, rows] (the loops swapped), chosen where more of
 * its loads are contiguous along rows than along columns (the operand is a transposed view, as
 * a weight gradient's activations are): its inner loop then reads with stride 1 and vectorises,
 * and the GEMM's packing reads the block with the strides swapped.
 */
export function prologueKernel(k: MatmulKernel, side: "lhs" | "rhs"): { kernel: FusedKernel; colMajor: boolean } {
  const pro = k[side].prologue;
  if (!pro) throw new Error(`internal: matmul '${k.label}' has no ${side} prologue`);
  const nb = k.batch.length;
  const [rows, cols] = side === "lhs" ? [k.m, k.k] : [k.k, k.n];
  const unit = (d: number) => pro.loads.filter((l) => l.strides[d] === 1 && !l.gather?.length).length;
  const colMajor = unit(nb) > unit(nb + 1);
  const swap = colMajor ? swapLoops(pro.expr, pro.loads, nb, nb + 1) : pro;
  const loops: IntExpr[] = [...k.batch, ...(colMajor ? [cols, rows] : [rows, cols])];
  const kernel: FusedKernel = {
    kind: "fused",
    label: `${k.label} ${side} prologue`,
    inputs: k.inputs,
    outputs: [k.dtype],
    outRank: loops.length,
    loops,
    loads: swap.loads,
    expr: swap.expr,
  };
  return { kernel, colMajor };
}

/** `expr` and `loads` with loops `a` and `b` exchanged (indices, strides and gather indices). */
function swapLoops(expr: Expr, loads: readonly Load[], a: number, b: number): { expr: Expr; loads: Load[] } {
  const memo = new Map<Expr, Expr>();
  const go = (e: Expr): Expr => {
    let out = memo.get(e);
    if (out === undefined) {
      out =
        e.op === "index" && (e.loop === a || e.loop === b)
          ? index(e.loop === a ? b : a)
          : withChildren(e, children(e).map(go));
      memo.set(e, out);
    }
    return out;
  };
  const moved = loads.map((l): Load => {
    const strides = [...l.strides];
    [strides[a], strides[b]] = [strides[b] as IntExpr, strides[a] as IntExpr];
    return {
      ...l,
      strides,
      ...(l.gather ? { gather: l.gather.map((g) => ({ index: go(g.index), stride: g.stride })) } : {}),
    };
  });
  return { expr: go(expr), loads: moved };
}

/** A contiguous [batch…, rows, cols] operand's element strides (`colMajor`: [batch…, cols, rows]). */
export function contiguousOperand(batch: readonly number[], rows: number, cols: number, colMajor = false) {
  const bs: number[] = new Array(batch.length);
  let s = rows * cols;
  for (let d = batch.length - 1; d >= 0; d--) {
    bs[d] = s;
    s *= batch[d] as number;
  }
  return { offset: 0, bs, rs: colMajor ? 1 : cols, cs: colMajor ? rows : 1, size: s };
}
