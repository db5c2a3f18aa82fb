import type { Array as ArrayT } from "../array.js";
import { type Aval, aval, fmtAval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { addT, isLinearInput, jvp1, known } from "./ad-util.js";
import { shiftAxis } from "./batch-util.js";
import { checkArity } from "./checks.js";
import type { DotDims, PrimitiveTable } from "./types.js";

/** The free (neither batch nor contracting) dims of one operand, in order. */
export function freeDims(ndim: number, contracting: readonly number[], batch: readonly number[]): number[] {
  return Array.from({ length: ndim }, (_, i) => i).filter((i) => !contracting.includes(i) && !batch.includes(i));
}

function checkDims(lhs: Aval, rhs: Aval, d: DotDims): void {
  const [lc, rc] = d.contracting;
  const [lb, rb] = d.batch;
  const desc = () => `in shapes ${fmtAval(lhs)} · ${fmtAval(rhs)}`;
  const valid = (dims: readonly number[], a: Aval) =>
    dims.every((x) => Number.isInteger(x) && x >= 0 && x < a.shape.length) && new Set(dims).size === dims.length;
  if (
    !valid([...lc, ...lb], lhs) ||
    !valid([...rc, ...rb], rhs) ||
    lc.length !== rc.length ||
    lb.length !== rb.length
  ) {
    throw new ShapeError(`dot_general: invalid dimension numbers ${JSON.stringify(d)} ${desc()}`);
  }
  lc.forEach((l, i) => {
    const r = rc[i] as number;
    if (lhs.shape[l] !== rhs.shape[r]) {
      throw new ShapeError(`dot_general: contracting dims ${lhs.shape[l]} ≠ ${rhs.shape[r]} ${desc()}`);
    }
  });
  lb.forEach((l, i) => {
    const r = rb[i] as number;
    if (lhs.shape[l] !== rhs.shape[r]) {
      throw new ShapeError(`dot_general: batch dims ${lhs.shape[l]} ≠ ${rhs.shape[r]} ${desc()}`);
    }
  });
}

export const dotPrimitives: PrimitiveTable<"dot_general"> = {
  dot_general: {
    abstractEval(avals, params) {
      checkArity("dot_general", avals, 2);
      const [lhs, rhs] = avals as [Aval, Aval];
      if (lhs.dtype !== rhs.dtype) {
        throw new DTypeError(`dot_general: operand dtypes differ: ${fmtAval(lhs)} · ${fmtAval(rhs)}`);
      }
      if (lhs.dtype === "bool") {
        throw new DTypeError(
          `dot_general: bool operands ${fmtAval(lhs)} · ${fmtAval(rhs)}; cast to int32 or float32 first`,
        );
      }
      checkDims(lhs, rhs, params);
      const [lc, rc] = params.contracting;
      const [lb, rb] = params.batch;
      const shape = [
        ...lb.map((i) => lhs.shape[i] as number),
        ...freeDims(lhs.shape.length, lc, lb).map((i) => lhs.shape[i] as number),
        ...freeDims(rhs.shape.length, rc, rb).map((i) => rhs.shape[i] as number),
      ];
      return [aval(shape, lhs.dtype, lhs.weakType && rhs.weakType)];
    },
    // Both batched: a new leading batch pair. One batched: its batch dim is a free dim of that
    // operand, so nothing moves or is broadcast (the other operand is shared by every member).
    batch: (args, dims, p) => {
      const [x, y] = args as [ArrayT, ArrayT];
      const dx = dims[0] ?? null;
      const dy = dims[1] ?? null;
      const sx = (a: number) => (dx === null ? a : shiftAxis(a, dx));
      const sy = (a: number) => (dy === null ? a : shiftAxis(a, dy));
      const contracting: [number[], number[]] = [p.contracting[0].map(sx), p.contracting[1].map(sy)];
      const batchDims: [number[], number[]] = [p.batch[0].map(sx), p.batch[1].map(sy)];
      if (dx !== null && dy !== null) {
        const params = {
          contracting,
          batch: [
            [dx, ...batchDims[0]],
            [dy, ...batchDims[1]],
          ] as [number[], number[]],
        };
        return [[bind1("dot_general", [x, y], params)], [0]];
      }
      const out = bind1("dot_general", [x, y], { contracting, batch: batchDims });
      const free = (nd: number, c: number[], b: number[]) =>
        globalThis.Array.from({ length: nd }, (_, i) => i).filter((i) => !c.includes(i) && !b.includes(i));
      const nb = batchDims[0].length;
      if (dx !== null) {
        return [[out], [nb + free(x.ndim, contracting[0], batchDims[0]).indexOf(dx)]];
      }
      const lhsFree = free(x.ndim, contracting[0], batchDims[0]).length;
      return [[out], [nb + lhsFree + free(y.ndim, contracting[1], batchDims[1]).indexOf(dy as number)]];
    },
    lowering: { kind: "dot", dims: (p) => p },
    jvp: jvp1("dot_general", ([x, y], [tx, ty], _out, p) =>
      addT(
        tx == null ? null : bind1("dot_general", [tx, y as ArrayT], p),
        ty == null ? null : bind1("dot_general", [x as ArrayT, ty], p),
      ),
    ),
    transpose: ([ct], [x, y], p) => {
      if (ct == null) return [null, null];
      return [
        isLinearInput(x) ? transposeLhs(ct, x.aval, known(y, "dot_general"), p, false) : null,
        isLinearInput(y) ? transposeLhs(ct, y.aval, known(x, "dot_general"), swapDims(p), true) : null,
      ];
    },
  },
};

function swapDims(d: DotDims): DotDims {
  return {
    contracting: [d.contracting[1], d.contracting[0]],
    batch: [d.batch[1], d.batch[0]],
  };
}

/** Consecutive index ranges with the given lengths: [0..a), [a..a+b), … */
function ranges(...lengths: number[]): number[][] {
  let start = 0;
  return lengths.map((n) => {
    const r = globalThis.Array.from({ length: n }, (_, i) => start + i);
    start += n;
    return r;
  });
}

function argsort(xs: readonly number[]): number[] {
  return xs.map((_, i) => i).sort((a, b) => (xs[a] as number) - (xs[b] as number));
}

/**
 * The cotangent of dot_general's lhs `x` (JAX's _dot_general_transpose_lhs): contract the output
 * cotangent with `y` over y's free dims, then put the axes back in x's order. With `swap` the
 * roles are exchanged (the rhs's rule, called with swapped dimension numbers).
 */
function transposeLhs(ct: ArrayT, x: Aval, y: ArrayT, d: DotDims, swap: boolean): ArrayT {
  const [xContract, yContract] = d.contracting;
  const [xBatch, yBatch] = d.batch;
  const xKept = freeDims(x.shape.length, xContract, xBatch);
  const yKept = freeDims(y.ndim, yContract, yBatch);
  const [ansBatch, ansY] = swap
    ? (([b, yk]) => [b, yk])(ranges(xBatch.length, yKept.length, xKept.length))
    : (([b, , yk]) => [b, yk])(ranges(xBatch.length, xKept.length, yKept.length));
  const dims: DotDims = { contracting: [ansY as number[], yKept], batch: [ansBatch as number[], yBatch] };
  const xContractSortedByY = argsort(yContract).map((i) => xContract[i] as number);
  const outAxes = argsort([...xBatch, ...xKept, ...xContractSortedByY]);
  // dot_general(y, ct) has the free dims the other way round; where that is already x's order
  // (a weight's gradient in a dense layer), take it and skip the transpose, so the kernels that
  // read the cotangent (an optimiser update) read it contiguously. The sums are the same.
  const swappedAxes = argsort([...xBatch, ...xContractSortedByY, ...xKept]);
  if (!isIdentity(outAxes) && isIdentity(swappedAxes)) {
    return bind1("dot_general", [y, ct], swapDims(dims));
  }
  const r = bind1("dot_general", [ct, y], dims);
  return isIdentity(outAxes) ? r : bind1("transpose", [r], { perm: outAxes });
}

const isIdentity = (perm: readonly number[]) => perm.every((p, i) => p === i);
