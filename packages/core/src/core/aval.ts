import type { DType } from "../dtype.js";
import { fmtShape } from "../errors.js";
import { type Shape, shapesEqual } from "../shape.js";

/**
 * The abstract value of an array: what tracing knows without data. `weakType` marks values
 * that came from bare JS numbers; it takes part in promotion and in jit cache keys.
 */
export interface Aval {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly weakType: boolean;
}

export function aval(shape: Shape, dtype: DType, weakType = false): Aval {
  return { shape, dtype, weakType };
}

export function fmtAval(a: Aval): string {
  return `${a.dtype}${fmtShape(a.shape)}${a.weakType ? "(weak)" : ""}`;
}

/** A parenthesised list of avals, for errors that show two signatures. */
export function fmtAvals(avals: readonly Aval[]): string {
  return `(${avals.map(fmtAval).join(", ")})`;
}

/** Same dtype and shape (weak types aside). */
export function sameType(a: Aval, b: Aval): boolean {
  return a.dtype === b.dtype && shapesEqual(a.shape, b.shape);
}

/** `a` as a strongly typed value (a program's input or output type). */
export function strong(a: Aval): Aval {
  return a.weakType ? { ...a, weakType: false } : a;
}
