/**
 * `np.linalg.solve`, `inv`, `det` and `slogdet`, all from one LU factorisation with partial
 * pivoting (linalg-lu.ts) and the blocked triangular substitution (linalg-triangular.ts).
 */
import type { Array, ArrayLike } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { ShapeError } from "../errors.js";
import { broadcastShapes } from "../shape.js";
import { diagonal } from "./assemble.js";
import { broadcastTo, promoteOnly } from "./convert.js";
import { eye } from "./creation.js";
import { abs, equal, log, multiply, sign, where } from "./elementwise.js";
import { luFactor } from "./linalg-lu.js";
import { flat, matrices, on, unflat } from "./linalg-stack.js";
import { solveLower, solveUpper } from "./linalg-triangular.js";
import { remainder } from "./math.js";
import { prod, sum } from "./reduce.js";
import { expandDims, reshape } from "./shape.js";
import { takeAlongAxis } from "./sorting.js";

/** x with a x = b, from a's LU; b [..., n, k] with a's batch dims (after broadcasting). */
function luSolve(lu: Array, perm: Array, b: Array): Array {
  const pb = takeAlongAxis(b, expandDims(perm, -1), -2);
  return solveUpper(lu, solveLower(lu, pb, true), false);
}

/** (−1)^swaps in a's dtype. */
function parity(swaps: Array, like: Array): Array {
  return where(equal(remainder(swaps, 2), 0), 1, -1).astype(like.dtype);
}

/**
 * Solves a x = b for x (numpy's `linalg.solve`): a is [..., M, M]; b is a vector [M] (then x
 * is [..., M]) or a stack of matrices [..., M, K] (x [..., M, K]) — numpy 2's rule, b is a
 * vector only when it is 1-D. Batch dims broadcast. LU with partial pivoting, O(M³ + M²K).
 * A singular a gives Inf/NaN (numpy raises `LinAlgError`; JAX returns them too).
 *
 * @example
 * const x = np.linalg.solve(a, b);   // a @ x ≈ b
 */
export function solve(a: ArrayLike, b: ArrayLike): Array {
  return scoped(() => {
    const op = "linalg.solve";
    const [a0, b0] = promoteOnly([a, b]) as [Array, Array];
    const x = matrices(op, a0, true, "a");
    const n = x.shape[x.ndim - 1] as number;
    const vector = b0.ndim === 1;
    const mismatch = () =>
      new ShapeError(
        `${op}: a is ${fmtAval(x.aval)}, so b must be a vector [${n}] or matrices [..., ${n}, K]; got ${fmtAval(b0.aval)}`,
      );
    if (b0.ndim === 0) throw mismatch();
    const y = matrices(op, vector ? reshape(b0, [-1, 1]) : b0, false, "b");
    if ((y.shape[y.ndim - 2] as number) !== n) throw mismatch();
    let batch: number[];
    try {
      batch = broadcastShapes(op, x.shape.slice(0, -2), y.shape.slice(0, -2));
    } catch {
      throw new ShapeError(`${op}: the batch dims of a ${fmtAval(x.aval)} and b ${fmtAval(b0.aval)} do not broadcast`);
    }
    const k = y.shape[y.ndim - 1] as number;
    const aLead = x.shape.slice(0, -2);
    const { lu, perm } = luFactor(flat(x));
    const sol = luSolve(
      flat(broadcastTo(unflat(lu, aLead), [...batch, n, n])),
      flat(broadcastTo(unflat(perm, aLead), [...batch, n]), 1),
      flat(broadcastTo(y, [...batch, n, k])),
    );
    return reshape(sol, vector ? [...batch, n] : [...batch, n, k]);
  });
}

/**
 * The inverse of square matrices [..., M, M] (numpy's `linalg.inv`): solve(a, I) from one LU
 * with partial pivoting. A singular matrix gives Inf/NaN (numpy raises; JAX returns them).
 */
export function inv(a: ArrayLike): Array {
  return scoped(() => {
    const x0 = matrices("linalg.inv", a, true);
    const x = flat(x0);
    const n = x.shape[x.ndim - 1] as number;
    const { lu, perm } = luFactor(x);
    return unflat(luSolve(lu, perm, broadcastTo(eye(n, n, on(x, x.dtype)), x.shape)), x0.shape.slice(0, -2));
  });
}

/**
 * The determinant of square matrices [..., M, M] (numpy's `linalg.det`): the product of U's
 * diagonal times the sign of the row permutation, from LU with partial pivoting. A singular
 * matrix gives 0 (exactly, where a pivot column is exactly zero). For large or tiny
 * determinants use `slogdet`, which does not overflow.
 */
export function det(a: ArrayLike): Array {
  return scoped(() => {
    const x = matrices("linalg.det", a, true);
    const { lu, swaps } = luFactor(flat(x));
    const d = multiply(prod(diagonal(lu, { axis1: -2, axis2: -1 }), -1), parity(swaps, x));
    return reshape(d, x.shape.slice(0, -2));
  });
}

/**
 * The sign and the natural log of the absolute value of the determinant, `[sign, logabsdet]`
 * (numpy's `linalg.slogdet`; det = sign · exp(logabsdet)), from LU with partial pivoting. A
 * singular matrix gives sign 0 and logabsdet −Inf, as numpy.
 */
export function slogdet(a: ArrayLike): [Array, Array] {
  return scoped(() => {
    const x = matrices("linalg.slogdet", a, true);
    const lead = x.shape.slice(0, -2);
    const { lu, swaps } = luFactor(flat(x));
    const d = diagonal(lu, { axis1: -2, axis2: -1 });
    const s = multiply(prod(sign(d), -1), parity(swaps, x));
    return [reshape(s, lead), reshape(sum(log(abs(d)), -1), lead)];
  });
}
