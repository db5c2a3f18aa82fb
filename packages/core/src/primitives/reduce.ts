import { type Aval, aval, fmtAval } from "../core/aval.js";
import type { DType } from "../dtype.js";
import { ShapeError } from "../errors.js";
import type { ReduceOp } from "../ir/kernel.js";
import { ALL, checkArity, checkDTypeIn, NUMERIC } from "./checks.js";
import type { PrimitiveDef, PrimitiveTable, ReducePrimitive } from "./types.js";

function checkAxes(op: string, x: Aval, axes: readonly number[]): void {
  const seen = new Set<number>();
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= x.shape.length || seen.has(a)) {
      throw new ShapeError(`${op}: invalid or repeated axis ${a} in ${JSON.stringify(axes)} for ${fmtAval(x)}`);
    }
    seen.add(a);
  }
}

/** Rule factory: reduce `axes` of one operand with `op` (the dtype is kept). */
function valueReduce<P extends "reduce_sum" | "reduce_prod" | "reduce_max" | "reduce_min">(
  name: P,
  op: ReduceOp,
  allowed: readonly DType[],
): PrimitiveDef<P> {
  return {
    abstractEval(avals, params) {
      checkArity(name, avals, 1);
      const x = avals[0] as Aval;
      checkDTypeIn(name, x, allowed);
      checkAxes(name, x, params.axes);
      return [
        aval(
          x.shape.filter((_, i) => !params.axes.includes(i)),
          x.dtype,
          x.weakType,
        ),
      ];
    },
    lowering: { kind: "reduce", op, axes: (p) => p.axes },
  };
}

/** argmax/argmin along one axis: the first index of the extreme value (NaN counts as extreme), int32. */
function argReduce<P extends "argmax" | "argmin">(name: P): PrimitiveDef<P> {
  return {
    abstractEval(avals, params) {
      checkArity(name, avals, 1);
      const x = avals[0] as Aval;
      checkAxes(name, x, [params.axis]);
      if (x.shape[params.axis] === 0) {
        throw new ShapeError(`${name}: axis ${params.axis} of ${fmtAval(x)} is empty; there is no index to return`);
      }
      return [
        aval(
          x.shape.filter((_, i) => i !== params.axis),
          "int32",
        ),
      ];
    },
    lowering: { kind: "reduce", op: name, axes: (p) => [p.axis] },
  };
}

export const reducePrimitives: PrimitiveTable<ReducePrimitive> = {
  reduce_sum: valueReduce("reduce_sum", "sum", NUMERIC),
  reduce_prod: valueReduce("reduce_prod", "prod", NUMERIC),
  reduce_max: valueReduce("reduce_max", "max", ALL),
  reduce_min: valueReduce("reduce_min", "min", ALL),
  argmax: argReduce("argmax"),
  argmin: argReduce("argmin"),
};
