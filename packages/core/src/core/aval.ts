import type { DType } from "../dtype.js";
import { fmtShape } from "../errors.js";
import type { Shape } from "../shape.js";

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
