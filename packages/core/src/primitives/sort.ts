/**
 * Sorting and searching. `sort` and `top_k` are routines (ir/routine.ts) with two outputs, the
 * values and the int32 indices, O(n log n) or better on every backend (a radix sort and a heap
 * selection on the CPU, a multi-pass bitonic sort on WebGPU); `searchsorted` is a binary search;
 * `take_along_axis` a fused gather.
 *
 * The order is numpy's: NaN after every number and equal to every other NaN, −0 equal to 0,
 * ties by index (stable). `descending` reverses the order of values (NaN first) and still
 * keeps ties in index order, as JAX's `descending=True`.
 */
import type { Array } from "../array.js";
import { type Aval, aval, fmtAval } from "../core/aval.js";
import { bind, bind1 } from "../core/trace.js";
import { isFloat } from "../dtype.js";
import { DTypeError, ShapeError } from "../errors.js";
import { binary, constant, type Expr, index, select } from "../ir/expr.js";
import { zerosLike } from "../numpy/creation.js";
import {
  add,
  less,
  lessEqual,
  logicalAnd,
  logicalNot,
  logicalOr,
  minimum,
  notEqual,
  subtract,
  where,
} from "../numpy/elementwise.js";
import { reshape } from "../numpy/shape.js";
import { sizeOf } from "../shape.js";
import { isLinearInput, known, linearJvp, zeroJvp } from "./ad-util.js";
import { alignBatched, front, moveAxis, only, shiftAxis } from "./batch-util.js";
import { ALL, aroundAxis, checkArity, checkAxis, checkDTypeIn } from "./checks.js";
import { takeAlongAxisTranspose } from "./sort-ad.js";
import type { LoweringInput, PrimitiveTable, SortPrimitive } from "./types.js";

const range = (n: number) => globalThis.Array.from({ length: n }, (_, i) => i);
const int = (v: number) => constant(v, "int32");
const clamp = (v: Expr, n: Expr) => binary("max", binary("min", v, binary("sub", n, int(1))), int(0));

export const sortPrimitives: PrimitiveTable<SortPrimitive> = {
  sort: {
    abstractEval(avals, { axis }) {
      checkArity("sort", avals, 1);
      const x = avals[0] as Aval;
      checkDTypeIn("sort", x, ALL);
      checkAxis("sort", x, axis);
      return [x, aval(x.shape, "int32")];
    },
    // The values are a permutation of the operand: their tangent is the tangent permuted alike.
    jvp: (primals, [t], params) => {
      const [values, indices] = bind("sort", primals, params) as [Array, Array];
      const tv = t == null ? null : bind1("take_along_axis", [t, indices], { axis: params.axis });
      return [
        [values, indices],
        [tv, null],
      ];
    },
    batch: (args, dims, p) => {
      const [x, d] = only(args, dims);
      return [bind("sort", [x], { axis: shiftAxis(p.axis, d), descending: p.descending }), [d, d]];
    },
    lowering: {
      kind: "routine",
      routine: ([x], { axis, descending }) => ({
        spec: { name: "sort", dtype: (x as Aval).dtype, descending },
        params: aroundAxis((x as Aval).shape, axis),
      }),
    },
  },
  top_k: {
    abstractEval(avals, { k }) {
      checkArity("top_k", avals, 1);
      const x = avals[0] as Aval;
      checkDTypeIn("top_k", x, ALL);
      if (x.shape.length === 0) throw new ShapeError(`top_k: needs an array of rank ≥ 1, got ${fmtAval(x)}`);
      const n = x.shape[x.shape.length - 1] as number;
      if (!Number.isInteger(k) || k < 0 || k > n) {
        throw new ShapeError(`top_k: k must be an integer in [0, ${n}] for the last axis of ${fmtAval(x)}, got ${k}`);
      }
      const shape = [...x.shape.slice(0, -1), k];
      return [aval(shape, x.dtype, x.weakType), aval(shape, "int32")];
    },
    jvp: (primals, [t], params) => {
      const x = primals[0] as Array;
      const [values, indices] = bind("top_k", primals, params) as [Array, Array];
      const tv = t == null ? null : bind1("take_along_axis", [t, indices], { axis: x.ndim - 1 });
      return [
        [values, indices],
        [tv, null],
      ];
    },
    // top_k works along the last axis: a batch dim there moves to the front.
    batch: (args, dims, p) => {
      let [x, d] = only(args, dims);
      if (d === x.ndim - 1) {
        x = moveAxis(x, d, 0);
        d = 0;
      }
      return [bind("top_k", [x], p), [d, d]];
    },
    lowering: {
      kind: "routine",
      routine: ([x], { k }) => {
        const shape = (x as Aval).shape;
        const n = shape[shape.length - 1] as number;
        return { spec: { name: "top_k", dtype: (x as Aval).dtype }, params: [sizeOf(shape) / Math.max(n, 1), n, k] };
      },
    },
  },
  take_along_axis: {
    abstractEval(avals, { axis }) {
      checkArity("take_along_axis", avals, 2);
      const [x, idx] = avals as [Aval, Aval];
      checkAxis("take_along_axis", x, axis);
      if (idx.dtype !== "int32") throw new DTypeError(`take_along_axis: indices must be int32, got ${fmtAval(idx)}`);
      if (idx.shape.length !== x.shape.length || idx.shape.some((n, d) => d !== axis && n !== x.shape[d])) {
        throw new ShapeError(
          `take_along_axis: indices ${fmtAval(idx)} must match ${fmtAval(x)} in every dim but axis ${axis}`,
        );
      }
      if (x.shape[axis] === 0 && idx.shape.every((n) => n > 0)) {
        throw new ShapeError(`take_along_axis: cannot take from the empty axis ${axis} of ${fmtAval(x)}`);
      }
      return [aval(idx.shape, x.dtype, x.weakType)];
    },
    // Linear in the operand (the indices are int32, so they have no tangent).
    jvp: linearJvp("take_along_axis", [0]),
    transpose: ([ct], [x, idx], { axis }) => [
      ct == null || !isLinearInput(x) ? null : takeAlongAxisTranspose(ct, x.aval, known(idx, "take_along_axis"), axis),
      null,
    ],
    batch: (args, dims, p, size) => {
      const [[x, idx], d] = alignBatched(args, dims, size);
      return [[bind1("take_along_axis", [x as Array, idx as Array], { axis: shiftAxis(p.axis, d) })], [d]];
    },
    lowering: {
      kind: "loads",
      kernel([x, idx], { axis }) {
        const xi = x as LoweringInput;
        const ii = idx as LoweringInput;
        const n = xi.shape[axis] as Expr;
        // Negative indices count from the end (numpy); the rest is clamped into [0, n) (JAX's "clip").
        const r = xi.aval.shape.length;
        const i = ii.at(range(r).map((d) => index(d)));
        const at = clamp(select(binary("lt", i, int(0)), binary("add", i, n), i), n);
        return { expr: xi.at(range(r).map((d) => (d === axis ? at : index(d)))) };
      },
    },
  },
  searchsorted: {
    abstractEval(avals, { side }) {
      checkArity("searchsorted", avals, 2);
      const [a, v] = avals as [Aval, Aval];
      if (a.shape.length !== 1) throw new ShapeError(`searchsorted: the sorted array must be 1-D, got ${fmtAval(a)}`);
      if (a.dtype !== v.dtype) throw new DTypeError(`searchsorted: dtypes differ: ${fmtAval(a)}, ${fmtAval(v)}`);
      if (side !== "left" && side !== "right") {
        throw new ShapeError(`searchsorted: side must be "left" or "right", got ${JSON.stringify(side)}`);
      }
      return [aval(v.shape, "int32")];
    },
    jvp: zeroJvp("searchsorted"),
    batch: (args, dims, p, size) => {
      const [a, v] = args as [Array, Array];
      if (dims[0] === null) return [[bind1("searchsorted", [a, v], p)], [dims[1] ?? null]];
      return [[batchedSearch(front(a, dims[0] ?? null, size), front(v, dims[1] ?? null, size), p.side)], [0]];
    },
    lowering: {
      kind: "routine",
      routine: ([a, v], { side }) => ({
        spec: { name: "searchsorted", dtype: (a as Aval).dtype, side },
        params: [(a as Aval).shape[0] as number, sizeOf((v as Aval).shape)],
      }),
    },
  },
};

/**
 * searchsorted with a batched sorted operand ([B, n], values [B, …]): a branch-free binary
 * search, one take_along_axis per step, ⌈log2(n + 1)⌉ steps whatever B is (no loop over the
 * batch). The order is the primitive's: NaN after every number.
 */
function batchedSearch(a: Array, v: Array, side: "left" | "right"): Array {
  const b = a.shape[0] as number;
  const n = a.shape[1] as number;
  const m = sizeOf(v.shape) / Math.max(b, 1);
  const vals = reshape(v, [b, m]);
  let lo = zerosLike(vals, "int32");
  const isNan = (x: Array) => notEqual(x, x);
  const before = (pivot: Array): Array => {
    if (!isFloat(a.dtype)) return side === "left" ? less(pivot, vals) : lessEqual(pivot, vals);
    return side === "left"
      ? logicalOr(less(pivot, vals), logicalAnd(isNan(vals), logicalNot(isNan(pivot))))
      : logicalOr(lessEqual(pivot, vals), isNan(vals));
  };
  let step = 1;
  while (step * 2 <= n) step *= 2;
  for (; n > 0 && step >= 1; step /= 2) {
    const cand = add(lo, step);
    const at = minimum(subtract(cand, 1), n - 1);
    const pivot = bind1("take_along_axis", [a, at], { axis: 1 });
    lo = where(logicalAnd(lessEqual(cand, n), before(pivot)), cand, lo);
  }
  return reshape(lo, v.shape);
}
