/**
 * Sorting as fused reductions (deterministic, stable, one dispatch each, on every backend):
 *
 * - `sort_rank`: rank[i] = #{ j : x[j] before x[i] }, where "before" is the total order below
 *   with ties broken by index (j < i), so ranks are a permutation and the sort is stable.
 * - `inverse_permutation`: p[k] = the i with rank[i] = k (an argmax over i of rank[i] = k), for
 *   k < `size` (topK keeps the first k).
 * - `take_along_axis`: a gather along one axis by an index array of the same rank.
 * - `searchsorted`: #{ j : sorted[j] < v } (side "left") or ≤ v ("right").
 *
 * The order is numpy's: NaN after every number and equal to every other NaN, −0 equal to 0.
 * Floats are compared through an int32 key made from their bits (so the order never depends on
 * how a GPU compiler treats NaN in comparisons): for float32 bits b, key = ±(b & 0x7fffffff)
 * by the sign, and INT32_MAX for NaN. Ranking is O(n²) per row; a bitonic or radix sort over
 * several kernels is future performance work for long axes.
 */
import { type Aval, aval, fmtAval } from "../core/aval.js";
import type { DType } from "../dtype.js";
import { DTypeError, ShapeError } from "../errors.js";
import { binary, bitcast, cast, constant, type Expr, index, load, select, unary } from "../ir/expr.js";
import type { IntExpr, Load } from "../ir/kernel.js";
import { isLinearInput, known, linearJvp, zeroJvp } from "./ad-util.js";
import { ALL, checkArity, checkDTypeIn } from "./checks.js";
import { checkAxis } from "./scan.js";
import { takeAlongAxisTranspose } from "./sort-ad.js";
import type { LoweringInput, PrimitiveTable, SortPrimitive } from "./types.js";

const int = (v: number) => constant(v, "int32");
const or = (a: Expr, b: Expr) => binary("or", a, b);
const and = (a: Expr, b: Expr) => binary("and", a, b);
const clamp = (v: Expr, n: Expr) => binary("max", binary("min", v, binary("sub", n, int(1))), int(0));

/** The sort order of one dtype: `lt`/`eq` on (transformed) keys. */
interface Order {
  key(e: Expr): Expr;
  lt(a: Expr, b: Expr): Expr;
  eq(a: Expr, b: Expr): Expr;
}

const intOrder = (key: (e: Expr) => Expr): Order => ({
  key,
  lt: (a, b) => binary("lt", a, b),
  eq: (a, b) => binary("eq", a, b),
});

/** float32 bits → a monotone int32 key; −0 and 0 share key 0, every NaN is INT32_MAX. */
function float32Key(e: Expr): Expr {
  const bits = bitcast(cast(e, "float32"), "int32");
  const mag = binary("and", bits, int(0x7fffffff));
  const signed = select(binary("lt", bits, int(0)), unary("neg", mag), mag);
  return select(binary("gt", mag, int(0x7f800000)), int(0x7fffffff), signed);
}

/** The order of `dtype`. float64 (CPU only, IEEE comparisons there) compares values with explicit NaN tests. */
export function orderOf(dtype: DType): Order {
  switch (dtype) {
    case "float32":
    case "float16":
      return intOrder(float32Key);
    case "int32":
      return intOrder((e) => e);
    case "uint32":
      return intOrder((e) => binary("xor", bitcast(e, "int32"), int(-2147483648)));
    case "bool":
      return intOrder((e) => cast(e, "int32"));
    case "float64": {
      const nan = (a: Expr) => binary("ne", a, a);
      return {
        key: (e) => e,
        lt: (a, b) => or(binary("lt", a, b), and(nan(b), unary("not", nan(a)))),
        eq: (a, b) => or(binary("eq", a, b), and(nan(a), nan(b))),
      };
    }
  }
}

/** Strides of `x` over (output loops, one reduced loop): `axis` walks the reduced loop instead. */
function alongReduced(x: LoweringInput, axis: number): IntExpr[] {
  return [...x.strides.map((s, d) => (d === axis ? 0 : s)), x.strides[axis] ?? 0];
}

export const sortPrimitives: PrimitiveTable<SortPrimitive> = {
  sort_rank: {
    abstractEval(avals, { axis }) {
      checkArity("sort_rank", avals, 1);
      const x = avals[0] as Aval;
      checkDTypeIn("sort_rank", x, ALL);
      checkAxis("sort_rank", x, axis);
      return [aval(x.shape, "int32")];
    },
    jvp: zeroJvp("sort_rank"),
    lowering: {
      kind: "loads",
      kernel(inputs, { axis, descending }) {
        const x = inputs[0] as LoweringInput;
        const r = x.aval.shape.length;
        const order = orderOf(x.aval.dtype);
        // Load 0: x[…, i, …] (i = loop `axis`); load 1: x[…, j, …] (j = loop r, reduced).
        const loads: Load[] = [
          { input: 0, offset: x.offset, strides: [...x.strides, 0] },
          { input: 0, offset: x.offset, strides: alongReduced(x, axis) },
        ];
        const ki = order.key(load(0, x.aval.dtype));
        const kj = order.key(load(1, x.aval.dtype));
        const strictly = descending ? order.lt(ki, kj) : order.lt(kj, ki);
        const before = or(strictly, and(order.eq(kj, ki), binary("lt", index(r), index(axis))));
        return { loads, expr: cast(before, "int32"), reduce: { op: "sum", sizes: [x.dims[axis] ?? 0] } };
      },
    },
  },
  inverse_permutation: {
    abstractEval(avals, { axis, size }) {
      checkArity("inverse_permutation", avals, 1);
      const p = avals[0] as Aval;
      if (p.dtype !== "int32") throw new DTypeError(`inverse_permutation: expected int32 ranks, got ${fmtAval(p)}`);
      checkAxis("inverse_permutation", p, axis);
      const n = p.shape[axis] as number;
      if (!Number.isInteger(size) || size < 0 || size > n) {
        throw new ShapeError(`inverse_permutation: size ${size} is not in [0, ${n}] for axis ${axis} of ${fmtAval(p)}`);
      }
      return [
        aval(
          p.shape.map((d, i) => (i === axis ? size : d)),
          "int32",
        ),
      ];
    },
    jvp: zeroJvp("inverse_permutation"),
    lowering: {
      kind: "loads",
      kernel(inputs, { axis }) {
        const p = inputs[0] as LoweringInput;
        // out[…, k, …] = the first i (the reduced loop, after the output's) with p[…, i, …] = k (k = loop `axis`).
        const hit = binary("eq", load(0, "int32"), index(axis));
        return {
          loads: [{ input: 0, offset: p.offset, strides: alongReduced(p, axis) }],
          expr: cast(hit, "int32"),
          reduce: { op: "argmax", sizes: [p.dims[axis] ?? 0] },
        };
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
    lowering: {
      kind: "loads",
      kernel([x, idx], { axis }) {
        const xi = x as LoweringInput;
        const ii = idx as LoweringInput;
        const n = xi.shape[axis] as Expr;
        // Negative indices count from the end (numpy); the rest is clamped into [0, n) (JAX's "clip").
        const i = load(1, "int32");
        const at = clamp(select(binary("lt", i, int(0)), binary("add", i, n), i), n);
        return {
          loads: [
            {
              input: 0,
              offset: xi.offset,
              strides: xi.strides.map((s, d) => (d === axis ? 0 : s)),
              gather: [{ index: at, stride: xi.strides[axis] ?? 0 }],
            },
            { input: 1, offset: ii.offset, strides: ii.strides },
          ],
          expr: load(0, xi.aval.dtype),
        };
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
    lowering: {
      kind: "loads",
      kernel([a, v], { side }) {
        const ai = a as LoweringInput;
        const vi = v as LoweringInput;
        const order = orderOf(ai.aval.dtype);
        // Load 0: v at the output position; load 1: sorted[j] (the one reduced loop, after v's).
        const loads: Load[] = [
          { input: 1, offset: vi.offset, strides: [...vi.strides, 0] },
          { input: 0, offset: ai.offset, strides: [...vi.strides.map(() => 0), ai.strides[0] ?? 0] },
        ];
        const kv = order.key(load(0, vi.aval.dtype));
        const ka = order.key(load(1, ai.aval.dtype));
        const counts = side === "left" ? order.lt(ka, kv) : unary("not", order.lt(kv, ka));
        return { loads, expr: cast(counts, "int32"), reduce: { op: "sum", sizes: [ai.dims[0] ?? 0] } };
      },
    },
  },
};
