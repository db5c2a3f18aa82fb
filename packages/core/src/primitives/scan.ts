/**
 * Cumulative reductions (`cumsum`, `cumprod`, `cummax`, `cummin`) along one axis, optionally
 * reversed. Each is ONE fused reduction kernel per call, on every backend:
 *
 *   out[…, i, …] = ⊕_{j ∈ [0, n)} select(j ≤ i, x[…, j, …], identity)     (j ≥ i when reversed)
 *
 * That is O(n²) work per row, but deterministic (no atomics, the backend's fixed reduction order)
 * and a single dispatch. A log-depth (Blelloch / Hillis–Steele) scan over several kernels is
 * future performance work for long axes.
 */
import { type Aval, aval, fmtAval } from "../core/aval.js";
import type { DType } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { binary, constant, type Expr, index, load, select } from "../ir/expr.js";
import type { IntExpr, ReduceOp } from "../ir/kernel.js";
import { ALL, checkArity, checkDTypeIn, NUMERIC } from "./checks.js";
import type { LoweringInput, PrimitiveDef, PrimitiveTable, ScanPrimitive } from "./types.js";

/** The identity of `op` in `dtype`: sum 0, prod 1, max −Inf (the least value), min +Inf (the greatest). */
export function identityOf(op: "sum" | "prod" | "max" | "min", dtype: DType): Expr {
  if (op === "sum") return constant(0, dtype);
  if (op === "prod") return constant(1, dtype);
  const least = op === "max";
  switch (dtype) {
    case "float32":
    case "float64":
    case "float16":
      return constant(least ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY, dtype);
    case "int32":
      return constant(least ? -2147483648 : 2147483647, dtype);
    case "uint32":
      return constant(least ? 0 : 4294967295, dtype);
    case "bool":
      return constant(least ? 0 : 1, dtype);
  }
}

/** Checks `axis` against the rank of `x` (primitives take normalised, non-negative axes). */
export function checkAxis(op: string, x: Aval, axis: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
    throw new ShapeError(`${op}: axis ${axis} is out of bounds for ${fmtAval(x)}`);
  }
}

function cumulative<P extends ScanPrimitive>(
  name: P,
  op: "sum" | "prod" | "max" | "min",
  allowed: readonly DType[],
): PrimitiveDef<P> {
  return {
    abstractEval(avals, { axis }) {
      checkArity(name, avals, 1);
      const x = avals[0] as Aval;
      checkDTypeIn(name, x, allowed);
      checkAxis(name, x, axis);
      return [aval(x.shape, x.dtype, x.weakType)];
    },
    lowering: {
      kind: "loads",
      kernel(inputs, { axis, reverse }, out) {
        const x = inputs[0] as LoweringInput;
        const r = x.aval.shape.length;
        // Loops: the output's r dims, then j (loop r) running along `axis`; x is read at j there.
        const strides: IntExpr[] = [...x.strides.map((s, d) => (d === axis ? 0 : s)), x.strides[axis] ?? 0];
        const inWindow = binary(reverse ? "ge" : "le", index(r), index(axis));
        return {
          loads: [{ input: 0, offset: x.offset, strides }],
          expr: select(inWindow, load(0, out.dtype), identityOf(op, out.dtype)),
          reduce: { op: op satisfies ReduceOp, sizes: [x.dims[axis] ?? 0] },
        };
      },
    },
  };
}

export const scanPrimitives: PrimitiveTable<ScanPrimitive> = {
  cumsum: cumulative("cumsum", "sum", NUMERIC),
  cumprod: cumulative("cumprod", "prod", NUMERIC),
  cummax: cumulative("cummax", "max", ALL),
  cummin: cumulative("cummin", "min", ALL),
};
