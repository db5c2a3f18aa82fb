/**
 * `dot_general` eagerly and in jit's fused kernels: operands as strided [batch…, rows, cols]
 * views (a contiguous copy only where no view exists), or computed by a fused prologue; one
 * matmul kernel per (dtype, batch rank, prologues, epilogue), cached like every eager kernel.
 */
import type { Backend } from "../backend/backend.js";
import type { Expr } from "../ir/expr.js";
import { epilogueKey } from "../ir/hashcons.js";
import type { Load, MatmulKernel, MatmulPrologue } from "../ir/kernel.js";
import { contiguousView, reshapeView, transposeView } from "../ir/view.js";
import { freeDims } from "../primitives/dot.js";
import type { DotDims } from "../primitives/types.js";
import { sizeOf } from "../shape.js";
import type { Aval } from "./aval.js";
import { ConcreteArray } from "./concrete.js";
import { compiled, dispatchNew, materialize, P, range, viewOf } from "./eager.js";

/** An operand of a matmul as [batch…, rows, cols], strided when possible, else a contiguous copy. */
function matmulOperand(x: ConcreteArray, perm: number[], nb: number, rows: number, cols: number): ConcreteArray {
  const t = transposeView(x.view, perm);
  const shape = [...t.shape.slice(0, nb), rows, cols];
  const aval = { shape, dtype: x.dtype, weakType: x.weakType };
  const v = reshapeView(t, shape);
  if (v) return viewOf(x, aval, v);
  const tx = viewOf(x, { ...aval, shape: t.shape }, t);
  const c = materialize(tx);
  tx.dispose();
  const result = viewOf(c, aval, contiguousView(shape));
  c.dispose();
  return result;
}

/** A matmul epilogue built by fusion: its loads read `inputs` as kernel inputs 2…. */
export interface DotEpilogue {
  readonly loads: readonly Load[];
  readonly expr: Expr;
}

/**
 * An operand computed inside the matmul kernel by a fused prologue (jit's fusion): `aval` is the
 * operand's (rank batch + 2: batch…, then its one free and one contracting dim in the operand's
 * own order), `input` the array bound as the operand's kernel input (one the prologue reads).
 */
export interface PrologueOperand {
  readonly aval: Aval;
  readonly input: ConcreteArray;
  readonly prologue: MatmulPrologue;
}

/** A dot_general with fused prologues and epilogue (jit's fusion); `extra` are kernel inputs 2…. */
export function runFusedDot(
  dims: DotDims,
  lhs: ConcreteArray | PrologueOperand,
  rhs: ConcreteArray | PrologueOperand,
  out: Aval,
  backend: Backend,
  epilogue: DotEpilogue | null,
  extra: readonly ConcreteArray[],
  label: string,
): ConcreteArray {
  return runDot(dims, lhs, rhs, out, backend, { epilogue, inputs: extra, label });
}

export function runDot(
  dims: DotDims,
  lhs: ConcreteArray | PrologueOperand,
  rhs: ConcreteArray | PrologueOperand,
  out: Aval,
  backend: Backend,
  epi?: { epilogue: DotEpilogue | null; inputs: readonly ConcreteArray[]; label: string },
): ConcreteArray {
  const [lc, rc] = dims.contracting;
  const [lb, rb] = dims.batch;
  const lAval = lhs.aval;
  const rAval = rhs.aval;
  const lf = freeDims(lAval.shape.length, lc, lb);
  const rf = freeDims(rAval.shape.length, rc, rb);
  const nb = lb.length;
  const batch = lb.map((d) => lAval.shape[d] as number);
  const M = sizeOf(lf.map((d) => lAval.shape[d] as number));
  const N = sizeOf(rf.map((d) => rAval.shape[d] as number));
  const K = sizeOf(lc.map((d) => lAval.shape[d] as number));
  // A prologue operand binds its input as it is; its offset and strides are unused (zeros).
  const operandOf = (x: ConcreteArray | PrologueOperand, perm: number[], rows: number, cols: number) =>
    x instanceof ConcreteArray ? matmulOperand(x, perm, nb, rows, cols) : null;
  const a = operandOf(lhs, [...lb, ...lf, ...lc], M, K);
  const b = operandOf(rhs, [...rb, ...rc, ...rf], K, N);
  const proOf = (x: ConcreteArray | PrologueOperand) => (x instanceof ConcreteArray ? undefined : x.prologue);
  const lPro = proOf(lhs);
  const rPro = proOf(rhs);
  const inA = a ?? (lhs as PrologueOperand).input;
  const inB = b ?? (rhs as PrologueOperand).input;
  try {
    const epiKey = epi?.epilogue ? `|epi:${epilogueKey(epi.epilogue.loads, epi.epilogue.expr)}` : "";
    const proKey = (p: MatmulPrologue | undefined) => (p ? epilogueKey(p.loads, p.expr) : "");
    const fusedKey = epi
      ? `${epiKey}|pro:${proKey(lPro)}|${proKey(rPro)}|${[inA, inB, ...epi.inputs].map((x) => x.dtype).join(",")}`
      : "";
    const key = `dot_general|${lAval.dtype}|${nb}${fusedKey}`;
    const exe = compiled(backend, key, (): MatmulKernel => {
      const operand = (base: number, prologue: MatmulPrologue | undefined) => ({
        offset: P(base),
        batchStrides: range(nb).map((d) => P(base + 1 + d)),
        rowStride: P(base + 1 + nb),
        colStride: P(base + 2 + nb),
        ...(prologue ? { prologue } : {}),
      });
      return {
        kind: "matmul",
        label: epi?.label ?? "dot_general",
        dtype: lAval.dtype,
        inputs: [inA.dtype, inB.dtype, ...(epi?.inputs.map((x) => x.dtype) ?? [])],
        outputs: [out.dtype],
        batch: range(nb).map(P),
        m: P(nb),
        n: P(nb + 1),
        k: P(nb + 2),
        lhs: operand(nb + 3, lPro),
        rhs: operand(nb + 3 + nb + 3, rPro),
        ...(epi?.epilogue ? { epilogue: epi.epilogue } : {}),
      };
    });
    const opArgs = (x: ConcreteArray | null) => (x ? [x.view.offset, ...x.view.strides] : range(nb + 3).map(() => 0));
    return dispatchNew(
      backend,
      exe,
      [inA, inB, ...(epi?.inputs ?? [])],
      out,
      [...batch, M, N, K, ...opArgs(a), ...opArgs(b)],
      epi?.label ?? "dot_general",
    );
  } finally {
    a?.dispose();
    b?.dispose();
  }
}
