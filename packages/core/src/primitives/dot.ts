import { type Aval, aval, fmtAval } from "../core/aval.js";
import { DTypeError, ShapeError } from "../errors.js";
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
    lowering: { kind: "dot", dims: (p) => p },
  },
};
