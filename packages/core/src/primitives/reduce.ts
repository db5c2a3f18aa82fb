import type { Array } from "../array.js";
import { type Aval, aval, fmtAval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import type { DType } from "../dtype.js";
import { ShapeError } from "../errors.js";
import type { ReduceOp } from "../ir/kernel.js";
import { onesLike } from "../numpy/creation.js";
import { divide, equal, multiply } from "../numpy/elementwise.js";
import { jvp1, linearJvp, unaryTranspose, zeroJvp } from "./ad-util.js";
import { afterRemoving, only, shiftAxis } from "./batch-util.js";
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
  ad: Pick<PrimitiveDef<P>, "jvp" | "transpose">,
): PrimitiveDef<P> {
  return {
    ...ad,
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
    batch: (args, dims, params) => {
      const [x, d] = only(args, dims);
      const axes = params.axes.map((a) => shiftAxis(a, d));
      return [[bind1(name, [x], { axes })], [afterRemoving(d, axes)]];
    },
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
    jvp: zeroJvp(name),
    batch: (args, dims, params) => {
      const [x, d] = only(args, dims);
      const axis = shiftAxis(params.axis, d);
      return [[bind1(name, [x], { axis })], [afterRemoving(d, [axis])]];
    },
  };
}

export const reducePrimitives: PrimitiveTable<ReducePrimitive> = {
  reduce_sum: valueReduce("reduce_sum", "sum", NUMERIC, {
    jvp: linearJvp("reduce_sum"),
    transpose: unaryTranspose("reduce_sum", (ct, x, p) => expandReduced(ct, x.shape, p.axes)),
  }),
  reduce_prod: valueReduce("reduce_prod", "prod", NUMERIC, { jvp: jvp1("reduce_prod", prodTangent) }),
  reduce_max: valueReduce("reduce_max", "max", ALL, { jvp: extremumTangent("reduce_max") }),
  reduce_min: valueReduce("reduce_min", "min", ALL, { jvp: extremumTangent("reduce_min") }),
  argmax: argReduce("argmax"),
  argmin: argReduce("argmin"),
};

/** Broadcasts a reduced array back over the reduced `axes` of `shape` (the transpose of a sum). */
export function expandReduced(x: Array, shape: readonly number[], axes: readonly number[]): Array {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  return bind1("broadcast_in_dim", [x], { shape, broadcastDimensions: kept });
}

/**
 * JAX's rule for max/min: the tangent of the output is the mean of the tangents at the positions
 * that attain it (so ties share it).
 */
function extremumTangent<P extends "reduce_max" | "reduce_min">(prim: P) {
  return jvp1(prim, ([x], [t], out, p) => {
    if (t == null) return null;
    const a = x as Array;
    const hit = bind1("convert_element_type", [equal(a, expandReduced(out, a.shape, p.axes))], {
      newDtype: out.dtype,
      weakType: false,
    });
    const sum = (v: Array) => bind1("reduce_sum", [v], { axes: p.axes });
    return divide(sum(multiply(t, hit)), sum(hit));
  });
}

/**
 * d prod(x) = Σ_i t_i · Π_{j≠i} x_j, with the products of the others from exclusive cumulative
 * products on both sides (no division, so zeros in x are exact, as JAX's rule).
 */
function prodTangent(
  primals: readonly Array[],
  tangents: readonly (Array | null)[],
  _out: Array,
  p: { axes: readonly number[] },
) {
  const t = tangents[0] ?? null;
  if (t == null) return null;
  const x = primals[0] as Array;
  const kept = x.shape.map((_, i) => i).filter((i) => !p.axes.includes(i));
  const perm = [...kept, ...p.axes];
  const n = p.axes.reduce((m, a) => m * (x.shape[a] as number), 1);
  const lead = kept.map((i) => x.shape[i] as number);
  // An empty product is the constant 1: its tangent is zero.
  if (n === 0) return bind1("reduce_sum", [t], { axes: p.axes });
  const flat = (v: Array) => bind1("reshape", [bind1("transpose", [v], { perm })], { newShape: [...lead, n] });
  const xs = flat(x);
  const last = lead.length;
  const ones = onesLike(bind1("slice", [xs], sliceLast(xs.shape, 0, 1)));
  const shifted = (v: Array, reverse: boolean) => {
    if (n <= 1) return onesLike(v);
    const c = bind1("cumprod", [v], { axis: last, reverse });
    return reverse
      ? bind1("concatenate", [bind1("slice", [c], sliceLast(c.shape, 1, n)), ones], { dimension: last })
      : bind1("concatenate", [ones, bind1("slice", [c], sliceLast(c.shape, 0, n - 1))], { dimension: last });
  };
  const others = multiply(shifted(xs, false), shifted(xs, true));
  return bind1("reduce_sum", [multiply(flat(t), others)], { axes: [last] });
}

function sliceLast(shape: readonly number[], from: number, to: number) {
  const last = shape.length - 1;
  return {
    start: shape.map((_, i) => (i === last ? from : 0)),
    limit: shape.map((d, i) => (i === last ? to : d)),
    strides: shape.map(() => 1),
  };
}
