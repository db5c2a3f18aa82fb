/**
 * What the np.linalg factorisations share: the checks of their inputs (stacks of matrices
 * [..., M, N]) and the masked row and column access their loops are written with. A loop step
 * is a `lax.scan` step whose index j is traced, so it cannot slice statically: it reads row or
 * column j with a dynamic slice and writes it back with a `where` on an iota, so every step
 * has the same shapes and the loop is one scan primitive (differentiable both ways, batched and
 * jitted by the scan's rules).
 */
import type { Array, ArrayLike } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { floatResult } from "../dtype.js";
import { DTypeError, ShapeError } from "../errors.js";
import { dynamicSlice } from "../lax-index.js";
import { convert, prepare } from "./convert.js";
import { arange, type CreateOptions, onBackendOf, zeros } from "./creation.js";
import { equal, multiply, where } from "./elementwise.js";
import { concatenate } from "./join.js";
import { sum } from "./reduce.js";
import { expandDims, reshape } from "./shape.js";

/**
 * Panel width of the blocked factorisations: a panel's columns are reduced by a scan whose
 * steps touch only the panel, and the rest of the matrix is updated once per panel with
 * matmuls (LAPACK's blocking). Panels are full height (rows above the panel masked), so every
 * full panel of a matrix runs the same loop body, compiled once. Measured on the CPU at
 * 512×512 against one panel of every column (unblocked): jitted qr 153 vs 898 ms, solve 176 vs
 * 731 ms; eagerly qr 0.83 vs 1.2 s (eager steps are dominated by per-op dispatch).
 */
export const PANEL = 32;

/**
 * `x` as a stack of matrices [..., M, N] of a float dtype (integers and bool become float32,
 * as in JAX). Rank < 2, and a non-square stack where `square` is asked, are ShapeErrors; float16
 * is a DTypeError (factorisations need float32 or float64).
 */
export function matrices(op: string, x: ArrayLike, square: boolean, what = "a"): Array {
  const a0 = prepare(op, [x])[0] as Array;
  if (a0.dtype === "float16") {
    throw new DTypeError(
      `${op}: ${what} is ${fmtAval(a0.aval)}; factorisations run in float32 or float64 — convert with ${what}.astype("float32")`,
    );
  }
  if (a0.ndim < 2) {
    throw new ShapeError(
      `${op}: ${what} must be a matrix or a stack of matrices [..., M, N] (rank ≥ 2), got ${fmtAval(a0.aval)}`,
    );
  }
  const [m, n] = a0.shape.slice(-2) as [number, number];
  if (square && m !== n) {
    throw new ShapeError(`${op}: ${what} must be square matrices [..., M, M], got ${fmtAval(a0.aval)} (${m}×${n})`);
  }
  return convert(a0, floatResult(a0.dtype), false);
}

/**
 * A stack [..., m, n] as one batch dim [B, m, n] (`core` = 1 for stacks of vectors), so every
 * stack, whatever its batch rank, runs the same rank-3 kernels (a view where the layout allows).
 */
export function flat(x: Array, core = 2): Array {
  const tail = x.shape.slice(x.ndim - core);
  const b = x.shape.slice(0, x.ndim - core).reduce((p, d) => p * d, 1);
  return reshape(x, [b, ...tail]);
}

/** The inverse of `flat`: [B, ...] back to [...lead, ...]. */
export function unflat(x: Array, lead: readonly number[]): Array {
  return reshape(x, [...lead, ...x.shape.slice(1)]);
}

/** Creation options that put a new array on `like`'s backend. */
export function on(like: Array, dtype?: CreateOptions["dtype"]): CreateOptions {
  return { ...onBackendOf(like), ...(dtype ? { dtype } : {}) };
}

/** The int32 ramp 0 … n − 1 on `like`'s backend (the masks of a loop step compare it with j). */
export function iota(n: number, like: Array): Array {
  return arange(0, n, 1, on(like, "int32"));
}

/** Zeros of `shape` with `like`'s dtype and backend. */
export function zerosOf(shape: readonly number[], like: Array): Array {
  return zeros(shape, on(like, like.dtype));
}

/** The last two axes swapped (a view). */
export function mT(a: Array): Array {
  const perm = a.shape.map((_, d) => d);
  perm[a.ndim - 2] = a.ndim - 1;
  perm[a.ndim - 1] = a.ndim - 2;
  return bind1("transpose", [a], { perm });
}

/** Rows [r0, r1) and columns [c0, c1) of every matrix in `a` (a static slice, a view). */
export function block(a: Array, r0: number, r1: number, c0: number, c1: number): Array {
  const lead = a.shape.slice(0, -2);
  return bind1("slice", [a], {
    start: [...lead.map(() => 0), r0, c0],
    limit: [...lead, r1, c1],
    strides: a.shape.map(() => 1),
  });
}

/** Concatenates the non-empty parts along `axis` (a single part is returned as it is). */
export function join(parts: readonly Array[], axis: number): Array {
  const some = parts.filter((p) => p.size > 0);
  if (some.length > 1) return concatenate(some, axis);
  if (some.length === 1) return some[0] as Array;
  const first = parts[0] as Array;
  const ax = axis < 0 ? axis + first.ndim : axis;
  const size = parts.reduce((n, p) => n + (p.shape[ax] as number), 0);
  return zerosOf(
    first.shape.map((n, d) => (d === ax ? size : n)),
    first,
  );
}

/** Column j (a traced int32 scalar) of every matrix: [..., m, n] → [..., m]. */
export function column(a: Array, j: Array): Array {
  const lead = a.shape.slice(0, -1);
  return reshape(dynamicSlice(a, [...lead.map(() => 0), j], [...lead, 1]), lead);
}

/** Row i (a traced int32 scalar) of every matrix: [..., m, n] → [..., n]. */
export function row(a: Array, i: Array): Array {
  const lead = a.shape.slice(0, -2);
  const n = a.shape[a.ndim - 1] as number;
  return reshape(dynamicSlice(a, [...lead.map(() => 0), i, 0], [...lead, 1, n]), [...lead, n]);
}

/** Element i of every vector: [..., m] → [...]. */
export function entry(v: Array, i: Array): Array {
  const lead = v.shape.slice(0, -1);
  return reshape(dynamicSlice(v, [...lead.map(() => 0), i], [...lead, 1]), lead);
}

/** `a` with column j replaced by `col` ([..., m]); `cols` is iota(n). */
export function withColumn(a: Array, j: Array, col: Array, cols: Array): Array {
  return where(equal(cols, j), expandDims(col, -1), a);
}

/** `a` with row i replaced by `r` ([..., n]); `rows` is iota(m). */
export function withRow(a: Array, i: Array, r: Array, rows: Array): Array {
  return where(expandDims(equal(rows, i), -1), expandDims(r, -2), a);
}

/**
 * Matrix times vector over the batch: [..., m, n] · [..., n] → [..., m]. A product and a sum
 * (one reduction kernel) rather than a dot: the loops' matrix-vector products are small, and a
 * GEMM kernel for each of their layouts costs far more to compile (on WebGPU) than it saves.
 */
export function matvec(a: Array, v: Array): Array {
  return sum(multiply(a, expandDims(v, -2)), -1);
}

/** Vector times matrix over the batch: [..., m] · [..., m, n] → [..., n] (a product and a sum, as `matvec`). */
export function vecmat(v: Array, a: Array): Array {
  return sum(multiply(expandDims(v, -1), a), -2);
}
