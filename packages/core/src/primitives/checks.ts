import { type Aval, fmtAval } from "../core/aval.js";
import type { DType } from "../dtype.js";
import { DTypeError, ShapeError } from "../errors.js";
import { shapesEqual, sizeOf } from "../shape.js";

/** Operands of elementwise primitives share shape and dtype (numpy-level code broadcasts and promotes). */
export function checkSameShapes(op: string, avals: readonly Aval[]): void {
  const first = avals[0] as Aval;
  for (const a of avals) {
    if (!shapesEqual(a.shape, first.shape)) {
      throw new ShapeError(`${op}: operand shapes differ: ${avals.map(fmtAval).join(", ")}`);
    }
  }
}

export function checkSameDTypes(op: string, avals: readonly Aval[]): void {
  const first = avals[0] as Aval;
  for (const a of avals) {
    if (a.dtype !== first.dtype) throw new DTypeError(`${op}: operand dtypes differ: ${avals.map(fmtAval).join(", ")}`);
  }
}

export function checkDTypeIn(op: string, a: Aval, allowed: readonly DType[], hint = ""): void {
  if (!allowed.includes(a.dtype)) {
    throw new DTypeError(`${op}: got ${fmtAval(a)}; expected one of ${allowed.join(", ")}${hint ? `. ${hint}` : ""}`);
  }
}

export function checkArity(op: string, avals: readonly Aval[], n: number): void {
  if (avals.length !== n) throw new ShapeError(`${op}: expected ${n} operand(s), got ${avals.length}`);
}

export const FLOATS: readonly DType[] = ["float32", "float64", "float16"];
export const NUMERIC: readonly DType[] = ["float32", "float64", "float16", "int32", "uint32"];
export const INTEGRAL: readonly DType[] = ["int32", "uint32", "bool"];
export const ALL: readonly DType[] = ["float32", "float64", "float16", "int32", "uint32", "bool"];

/** Checks `axis` against the rank of `x` (primitives take normalised, non-negative axes). */
export function checkAxis(op: string, x: Aval, axis: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
    throw new ShapeError(`${op}: axis ${axis} is out of bounds for ${fmtAval(x)}`);
  }
}

/** [outer, n, inner] of `shape` around `axis`: the layout of the sort and scan routines. */
export function aroundAxis(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis] as number, sizeOf(shape.slice(axis + 1))];
}
