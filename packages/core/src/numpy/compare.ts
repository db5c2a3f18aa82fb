/**
 * Comparisons of whole arrays: `isclose`, `allclose`, `arrayEqual`, `arrayEquiv`. Results are
 * bool arrays (scalars for the `all…` forms), computed on the device: read them with
 * `await r.item()`.
 */
import type { Array, ArrayLike } from "../array.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { floatResult, isFloat } from "../dtype.js";
import { broadcastShapes } from "../shape.js";
import { convert, prepare } from "./convert.js";
import { full } from "./creation.js";
import { abs, add, equal, lessEqual, logicalAnd, logicalNot, logicalOr, multiply, subtract } from "./elementwise.js";
import { isinf, isnan } from "./math.js";
import { checkOptions } from "./options.js";

export interface IsCloseOptions {
  /** Relative tolerance (default 1e-5, numpy's). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8, numpy's). */
  atol?: number;
  /** NaNs compare equal (default false). */
  equalNan?: boolean;
}

/**
 * Elementwise |a − b| ≤ atol + rtol·|b| (numpy's isclose; not symmetric, as numpy's):
 * infinities are close only to the same infinity; NaN only to NaN with `equalNan`.
 */
export function isclose(a: ArrayLike, b: ArrayLike, opts: IsCloseOptions = {}): Array {
  return scoped(() => {
    checkOptions("isclose", opts, ["rtol", "atol", "equalNan"]);
    const [x0, y0] = prepare("isclose", [a, b]) as [Array, Array];
    if (!isFloat(x0.dtype)) return equal(x0, y0);
    const d = floatResult(x0.dtype);
    const [x, y] = [convert(x0, d), convert(y0, d)];
    const tol = add(opts.atol ?? 1e-8, multiply(opts.rtol ?? 1e-5, abs(y)));
    const anyInf = logicalOr(isinf(x), isinf(y));
    // Finite pairs by the tolerance; a pair with an infinity only when equal; NaN by equalNan.
    const finite = logicalAnd(logicalNot(anyInf), lessEqual(abs(subtract(x, y)), tol));
    const close = logicalOr(finite, logicalAnd(anyInf, equal(x, y)));
    return opts.equalNan ? logicalOr(close, logicalAnd(isnan(x), isnan(y))) : close;
  });
}

/** Whether every element is close (a bool scalar; numpy's allclose). */
export function allclose(a: ArrayLike, b: ArrayLike, opts: IsCloseOptions = {}): Array {
  return scoped(() => {
    const c = isclose(a, b, opts);
    return bind1("reduce_min", [c], { axes: c.shape.map((_, i) => i) });
  });
}

/**
 * Whether `a` and `b` have the same shape and elements (a bool scalar; numpy's array_equal).
 * NaN ≠ NaN unless `equalNan`. Different shapes give false, never a broadcast.
 */
export function arrayEqual(a: ArrayLike, b: ArrayLike, opts: { equalNan?: boolean } = {}): Array {
  return scoped(() => {
    checkOptions("arrayEqual", opts, ["equalNan"]);
    const x = prepare("arrayEqual", [a])[0] as Array;
    const y = prepare("arrayEqual", [b])[0] as Array;
    if (x.ndim !== y.ndim || x.shape.some((n, d) => n !== y.shape[d])) {
      return full([], false, { backend: x.backendHint()?.name ?? y.backendHint()?.name });
    }
    const [p, q] = prepare("arrayEqual", [x, y]) as [Array, Array];
    let eq = equal(p, q);
    if (opts.equalNan && isFloat(p.dtype)) eq = logicalOr(eq, logicalAnd(isnan(p), isnan(q)));
    return bind1("reduce_min", [eq], { axes: eq.shape.map((_, i) => i) });
  });
}

/** Whether `a` and `b` broadcast together and are equal everywhere (a bool scalar; numpy's array_equiv). */
export function arrayEquiv(a: ArrayLike, b: ArrayLike): Array {
  return scoped(() => {
    const x = prepare("arrayEquiv", [a])[0] as Array;
    const y = prepare("arrayEquiv", [b])[0] as Array;
    try {
      broadcastShapes("arrayEquiv", x.shape, y.shape);
    } catch {
      return full([], false, { backend: x.backendHint()?.name ?? y.backendHint()?.name });
    }
    const eq = equal(x, y);
    return bind1("reduce_min", [eq], { axes: eq.shape.map((_, i) => i) });
  });
}
