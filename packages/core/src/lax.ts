/** `lax`: thin wrappers over primitives, with XLA's explicit semantics (no implicit broadcasting). */
import type { Array } from "./array.js";
import { bind1 } from "./core/trace.js";
import type { DType } from "./dtype.js";
import type { DotDims } from "./primitives/types.js";

export { type AssociativeScanOptions, associativeScan } from "./lax-associative-scan.js";
export { cond, foriLoop, map, type ScanOptions, scan, switch, whileLoop } from "./lax-control.js";
export { dotGeneral } from "./numpy/linalg.js";
export type { DotDims };

/** Converts to `dtype` (lax.convert_element_type). */
export function convertElementType(x: Array, dtype: DType): Array {
  return bind1("convert_element_type", [x], { newDtype: dtype, weakType: false });
}

/** Broadcasts `x` to `shape`, operand dim i going to `broadcastDimensions[i]`. */
export function broadcastInDim(x: Array, shape: readonly number[], broadcastDimensions: readonly number[]): Array {
  return bind1("broadcast_in_dim", [x], { shape, broadcastDimensions });
}

/** Static slice with positive strides (lax.slice). */
export function slice(
  x: Array,
  start: readonly number[],
  limit: readonly number[],
  strides?: readonly number[],
): Array {
  return bind1("slice", [x], { start, limit, strides: strides ?? start.map(() => 1) });
}

/** Reverses the given dimensions. */
export function rev(x: Array, dimensions: readonly number[]): Array {
  return bind1("rev", [x], { dimensions });
}

/** Elementwise select: `which ? onTrue : onFalse`, same shapes, bool predicate. */
export function select(which: Array, onTrue: Array, onFalse: Array): Array {
  return bind1("select", [which, onTrue, onFalse], {});
}

/** The logistic function 1/(1+e⁻ˣ). */
export function logistic(x: Array): Array {
  return bind1("logistic", [x], {});
}

/** Reinterprets the 32 bits of each element as another 32-bit dtype (float32, int32, uint32). */
export function bitcastConvertType(x: Array, dtype: DType): Array {
  return bind1("bitcast_convert_type", [x], { newDtype: dtype });
}

/**
 * Division with XLA's rules (lax.div): integers truncate toward zero, x / 0 is -1 for int32 and
 * 0xFFFFFFFF for uint32, INT_MIN / -1 = INT_MIN; same dtypes, no broadcasting.
 */
export function div(x: Array, y: Array): Array {
  return bind1("div", [x, y], {});
}

/** The remainder with the sign of the dividend (lax.rem, C's fmod/%): x % 0 = x for integers. */
export function rem(x: Array, y: Array): Array {
  return bind1("rem", [x, y], {});
}

/** Shifts with XLA's rules: by 32 or more, `shiftLeft`/`shiftRightLogical` give 0 and `shiftRightArithmetic` the sign fill. */
export function shiftLeft(x: Array, y: Array): Array {
  return bind1("shl", [x, y], {});
}
export function shiftRightArithmetic(x: Array, y: Array): Array {
  return bind1("shr", [x, y], {});
}
export function shiftRightLogical(x: Array, y: Array): Array {
  return bind1("shru", [x, y], {});
}
export {
  dynamicSlice,
  dynamicUpdateSlice,
  type GatherDimensionNumbers,
  gather,
  type ScatterDimensionNumbers,
  scatter,
  scatterAdd,
  scatterAlongAxis,
  scatterMax,
  scatterMin,
  scatterMul,
} from "./lax-index.js";
export type { ConvDimensionNumbers, ConvOptions, Padding, ReduceWindowOptions } from "./lax-window.js";
export { conv, convGeneralDilated, reduceWindow } from "./lax-window.js";
export {
  type LaxCumulativeOptions,
  laxCummax as cummax,
  laxCummin as cummin,
  laxCumprod as cumprod,
  laxCumsum as cumsum,
} from "./numpy/cumulative.js";
export { topK } from "./numpy/sorting.js";
