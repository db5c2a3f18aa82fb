/**
 * The jvp and transpose rules shared by the two scatters (`scatter` along one axis and XLA's
 * `scatter_general`), after JAX's lax/slicing.py. A scatter's rules only need the same scatter
 * with another mode and its "gather back" (for each update element, the operand element it is
 * aimed at), so both primitives describe themselves by a `ScatterOps` and share the rules.
 */
import type { Array } from "../array.js";
import type { Aval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import type { DType } from "../dtype.js";
import { arange, onBackendOf, onesLike, zeros, zerosLike } from "../numpy/creation.js";
import {
  add,
  divide,
  equal,
  greater,
  greaterEqual,
  less,
  logicalAnd,
  multiply,
  subtract,
  where,
} from "../numpy/elementwise.js";
import { addT, avalOf, isLinearInput, type JvpRule, known, type TransposeRule, zerosOf } from "./ad-util.js";

export { zerosOf };

import type { Params, Tangent, TransposeInput } from "./types.js";

export type ScatterMode = Params["scatter"]["mode"];

/** How a scatter reaches its updates, at fixed indices. */
export interface ScatterOps {
  /** The same scatter of `updates` into `operand`, combining by `mode`. */
  scatter(mode: ScatterMode, operand: Array, updates: Array): Array;
  /** For each update element, the element of the operand-shaped `x` it is aimed at (0 where it is dropped). */
  gatherBack(x: Array): Array;
}

const range = (n: number): number[] => globalThis.Array.from({ length: n }, (_, i) => i);
const cast = (x: Array, dtype: DType) => bind1("convert_element_type", [x], { newDtype: dtype, weakType: false });

/** `scatter` along `axis`: negative indices count from the end, out-of-range ones are dropped. */
export function axisScatterOps(x: Aval, idx: Array, u: Aval, axis: number): ScatterOps {
  const n = x.shape[axis] as number;
  return {
    scatter: (mode, operand, updates) => bind1("scatter", [operand, idx, updates], { axis, mode }),
    gatherBack: (y) => {
      if (n === 0) return zeros(u.shape, { dtype: y.dtype, ...onBackendOf(y) });
      const valid = logicalAnd(greaterEqual(idx, -n), less(idx, n));
      const wrapped = where(less(idx, 0), add(idx, n), idx);
      const taken = bind1("take", [y, wrapped], { axis });
      const dims = range(idx.ndim).map((i) => axis + i);
      return where(bind1("broadcast_in_dim", [valid], { shape: u.shape, broadcastDimensions: dims }), taken, 0);
    },
  };
}

/** `scatter_general`: windows that do not fit are dropped, which gather's fill mode mirrors. */
export function generalScatterOps(x: Aval, idx: Array, u: Aval, p: Params["scatter_general"]): ScatterOps {
  const ob = p.operandBatchingDims ?? [];
  const ib = p.scatterIndicesBatchingDims ?? [];
  const windowed = range(x.shape.length).filter((d) => !p.insertedWindowDims.includes(d) && !ob.includes(d));
  const sliceSizes = range(x.shape.length).map((d) =>
    windowed.includes(d) ? (u.shape[p.updateWindowDims[windowed.indexOf(d)] as number] as number) : 1,
  );
  const dims = {
    updateWindowDims: p.updateWindowDims,
    insertedWindowDims: p.insertedWindowDims,
    scatterDimsToOperandDims: p.scatterDimsToOperandDims,
    operandBatchingDims: ob,
    scatterIndicesBatchingDims: ib,
    ...(p.wrapNegative ? { wrapNegative: true } : {}),
  };
  return {
    scatter: (mode, operand, updates) => bind1("scatter_general", [operand, idx, updates], { ...dims, mode }),
    gatherBack: (y) =>
      bind1("gather", [y, idx], {
        offsetDims: p.updateWindowDims,
        collapsedSliceDims: p.insertedWindowDims,
        startIndexMap: p.scatterDimsToOperandDims,
        operandBatchingDims: ob,
        startIndicesBatchingDims: ib,
        sliceSizes,
        mode: "fill",
        fillValue: 0,
        ...(p.wrapNegative ? { wrapNegative: true } : {}),
      }),
  };
}

/**
 * JAX's unique-id trick for "set": scatter each update element's id (1…size) with "set"; an
 * update wins where gathering the scattered ids back finds its own id, and the operand element
 * survives where no id landed (0).
 */
function setMasks(ops: ScatterOps, x: Array, u: Array): { untouched: Array; winner: Array } {
  const ints = { dtype: "int32", ...onBackendOf(x) } as const;
  const ids = add(bind1("reshape", [arange(u.size, undefined, 1, ints)], { newShape: u.shape }), 1);
  const scattered = ops.scatter("set", zeros(x.shape, ints), ids);
  return { untouched: equal(scattered, 0), winner: equal(ops.gatherBack(scattered), ids) };
}

/**
 * The output tangent of a scatter with `mode` (tangents t_x, t_u of the operand and updates),
 * built only from linear ops with transposes: select and mul by known masks, and scatter-add.
 * - add: scatter-add of the tangents.
 * - set: the surviving operand tangent plus the winning update tangents (see setMasks).
 * - min/max: the mean of the tangents of the contributors that equal the output (as reduce_max).
 * - mul: out = x·Q with Q = Π_j u_j, so t = t_x·Q + x·Σ_j t_j·Π_{k≠j} u_k. The products of the
 *   others come from the product of the nonzero updates and the count of zeros at each element,
 *   so nothing is divided by zero: with no zero among the others it is (Π nonzero)/u_j; with one
 *   zero u_m it is u_m·(Π nonzero)/u_j (0, but with u_m's tangent, so second derivatives are
 *   right too); with more it is 0.
 */
function scatterTangent(
  ops: ScatterOps,
  mode: ScatterMode,
  x: Array,
  u: Array,
  out: Array,
  tx: Tangent,
  tu: Tangent,
): Tangent {
  const scatterAdd = (a: Array | null, b: Array | null) => ops.scatter("add", a ?? zerosLike(x), b ?? zerosLike(u));
  if (mode === "add") return tu === null ? tx : scatterAdd(tx, tu);
  if (mode === "set") {
    const { untouched, winner } = setMasks(ops, x, u);
    const keep = tx === null ? null : where(untouched, tx, 0);
    return tu === null ? keep : scatterAdd(keep, where(winner, tu, 0));
  }
  if (mode === "mul") {
    const fromX = tx === null ? null : multiply(tx, ops.scatter("mul", onesLike(x), u));
    return addT(fromX, tu === null ? null : multiply(x, scatterAdd(null, multiply(tu, productOfOthers(ops, x, u)))));
  }
  const atX = equal(x, out);
  const atU = equal(u, ops.gatherBack(out));
  const count = ops.scatter("add", cast(atX, x.dtype), cast(atU, x.dtype));
  const sum = scatterAdd(tx === null ? null : where(atX, tx, 0), tu === null ? null : where(atU, tu, 0));
  return divide(sum, where(equal(count, 0), 1, count));
}

/** For each update, the product of the other updates aimed at its element (see scatterTangent). */
function productOfOthers(ops: ScatterOps, x: Array, u: Array): Array {
  const isZero = equal(u, 0);
  const own = cast(isZero, x.dtype);
  const zeroOthers = subtract(ops.gatherBack(scatterAddInto(ops, x, own)), own);
  const zeroValues = where(isZero, u, 0);
  const zeroOther = subtract(ops.gatherBack(scatterAddInto(ops, x, zeroValues)), zeroValues);
  const safe = where(isZero, 1, u);
  const nonzero = divide(ops.gatherBack(ops.scatter("mul", onesLike(x), safe)), safe);
  return where(greater(zeroOthers, 1.5), 0, where(greater(zeroOthers, 0.5), multiply(zeroOther, nonzero), nonzero));
}

function scatterAddInto(ops: ScatterOps, x: Array, updates: Array): Array {
  return ops.scatter("add", zerosLike(x), updates);
}

type ScatterPrim = "scatter" | "scatter_general";
type OpsOf<P extends ScatterPrim> = (x: Aval, idx: Array, u: Aval, params: Params[P]) => ScatterOps;

/** The jvp of a scatter primitive (operands: operand, int32 indices, updates). */
export function scatterJvp<P extends ScatterPrim>(prim: P, opsOf: OpsOf<P>): JvpRule<P> {
  return (primals, tangents, params) => {
    const [x, idx, u] = primals as [Array, Array, Array];
    const out = bind1(prim, primals, params);
    const ops = opsOf(x.aval, idx, u.aval, params);
    return [[out], [scatterTangent(ops, params.mode, x, u, out, tangents[0] ?? null, tangents[2] ?? null)]];
  };
}

/**
 * The transpose of a scatter-add in the operand and the updates (JAX's
 * _scatter_add_transpose_rule): the operand gets the cotangent, each update the cotangent where it
 * lands (0 where it is dropped). The jvp rules above put only scatter-adds on tangents; the other
 * modes are not linear.
 */
export function scatterTranspose<P extends ScatterPrim>(prim: P, opsOf: OpsOf<P>): TransposeRule<P> {
  return ([ct], inputs, params) => {
    const [x, idx, u] = inputs as [TransposeInput, TransposeInput, TransposeInput];
    if (ct == null) return [null, null, null];
    if (params.mode !== "add") {
      throw new Error(`internal: ${prim} with mode '${params.mode}' is not linear and has no transpose`);
    }
    const ops = opsOf(avalOf(x), known(idx, prim), avalOf(u), params);
    return [isLinearInput(x) ? ct : null, null, isLinearInput(u) ? ops.gatherBack(ct) : null];
  };
}
