/**
 * Shared pieces of the jvp and transpose rules (DESIGN: rule factories keep each registry entry
 * a few lines). Tangents are `Array | null`, null being a symbolic zero that allocates nothing.
 */
import type { Array } from "../array.js";
import type { Aval } from "../core/aval.js";
import { bind, bind1 } from "../core/trace.js";
import { zerosFor } from "../core/zeros.js";
import { onBackendOf, zeros } from "../numpy/creation.js";
import { add, multiply, negative, subtract } from "../numpy/elementwise.js";
import { type Params, type Primitive, type Tangent, type TransposeInput, UndefinedPrimal } from "./types.js";

export type JvpRule<P extends Primitive> = (
  primals: readonly Array[],
  tangents: readonly Tangent[],
  params: Params[P],
) => [Array[], Tangent[]];
export type TransposeRule<P extends Primitive> = (
  cts: readonly Tangent[],
  inputs: readonly TransposeInput[],
  params: Params[P],
) => Tangent[];

export function isLinearInput(x: TransposeInput | undefined): x is UndefinedPrimal {
  return x instanceof UndefinedPrimal;
}

/** The aval of a transpose input (known or linear). */
export function avalOf(x: TransposeInput): Aval {
  return x instanceof UndefinedPrimal ? x.aval : x.aval;
}

/** A known operand of a transpose rule (an internal error if it is the linear one). */
export function known(x: TransposeInput | undefined, prim: string): Array {
  if (x === undefined || x instanceof UndefinedPrimal)
    throw new Error(`internal: ${prim} transpose needs a known operand`);
  return x;
}

/** Zeros of an aval (e.g. a linear operand's cotangent), on the backend of `like`. */
export function zerosOf(a: Aval, like: Array): Array {
  return zeros(a.shape, { dtype: a.dtype, ...onBackendOf(like) });
}

/** A tangent as an array: zeros shaped like `like` where it is symbolic. */
export function instantiate(t: Tangent, like: Array): Array {
  return t ?? zerosFor(like);
}

export function addT(a: Tangent, b: Tangent): Tangent {
  if (a === null) return b;
  if (b === null) return a;
  return add(a, b);
}

export function subT(a: Tangent, b: Tangent): Tangent {
  if (b === null) return a;
  if (a === null) return negative(b);
  return subtract(a, b);
}

/** t · coef (null stays null). */
export function scale(t: Tangent, coef: Array | number): Tangent {
  return t === null ? null : multiply(t, coef);
}

/** The single-output jvp: runs the primitive on the primals, then `tangent` builds the output tangent. */
export function jvp1<P extends Primitive>(
  prim: P,
  tangent: (primals: readonly Array[], tangents: readonly Tangent[], out: Array, params: Params[P]) => Tangent,
): JvpRule<P> {
  return (primals, tangents, params) => {
    const out = bind1(prim, primals, params);
    return [[out], [tangent(primals, tangents, out, params)]];
  };
}

/** jvp of a primitive whose outputs do not depend smoothly on its inputs (comparisons, integer ops, rounding). */
export function zeroJvp<P extends Primitive>(prim: P): JvpRule<P> {
  return (primals, _tangents, params) => {
    const outs = bind(prim, primals, params);
    return [outs, outs.map(() => null)];
  };
}

/**
 * jvp of a primitive linear in the operands listed in `linear` (default: all) and not depending
 * on the others' tangents: the primitive applied to the tangents (zeros where some are symbolic).
 */
export function linearJvp<P extends Primitive>(prim: P, linear?: readonly number[]): JvpRule<P> {
  return (primals, tangents, params) => {
    const outs = bind(prim, primals, params);
    const idx = linear ?? primals.map((_, i) => i);
    if (idx.every((i) => tangents[i] == null)) return [outs, outs.map(() => null)];
    const args = primals.map((p, i) => (idx.includes(i) ? instantiate(tangents[i] ?? null, p) : p));
    return [outs, bind(prim, args, params)];
  };
}

/** jvp of a unary primitive: tangent · derivative(x, y). */
export function unaryJvp<P extends Primitive>(prim: P, deriv: (x: Array, y: Array) => Array): JvpRule<P> {
  return jvp1(prim, ([x], [t], out) => scale(t ?? null, deriv(x as Array, out)));
}

/** Transpose of a unary linear primitive given as a function of the cotangent. */
export function unaryTranspose<P extends Primitive>(
  _prim: P,
  f: (ct: Array, operand: Aval, params: Params[P]) => Array,
): TransposeRule<P> {
  return ([ct], [x], params) => [ct == null ? null : f(ct, avalOf(x as TransposeInput), params)];
}
