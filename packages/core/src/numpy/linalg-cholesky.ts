/**
 * `np.linalg.cholesky`: blocked right-looking Cholesky (LAPACK's potrf). A panel of `PANEL`
 * columns is factored by a `lax.scan` over its columns (left-looking inside the panel: column j
 * is A's column j minus L·L[j, :]ᵀ, then scaled by its pivot's square root), and the trailing
 * matrix is updated once per panel with one matmul, A₂₂ − L₂₁ L₂₁ᵀ: O(n³/3) work, n loop steps.
 */
import type { Array, ArrayLike } from "../array.js";
import { scoped } from "../core/scope.js";
import { scan } from "../lax-control.js";
import { diagonal } from "./assemble.js";
import { arange } from "./creation.js";
import { add, divide, equal, greater, multiply, sqrt, subtract, where } from "./elementwise.js";
import { matmul } from "./linalg.js";
import {
  block,
  column,
  entry,
  flat,
  iota,
  join,
  matrices,
  matvec,
  mT,
  on,
  PANEL,
  row,
  unflat,
  withColumn,
  zerosOf,
} from "./linalg-stack.js";
import { expandDims, reshape } from "./shape.js";
import { all } from "./stats.js";

/**
 * Columns [c, c + b) of L from a full-height panel [..., n, b] of the updated matrix (rows
 * below c are read; the rest is masked). Full height, so every panel has the same loop body.
 */
function choleskyPanel(p: Array, c: number): Array {
  const [n, b] = p.shape.slice(-2) as [number, number];
  const rows = iota(n, p);
  const cols = iota(b, p);
  const [l] = scan(
    (L: Array, [g, j]: [Array, Array]) => {
      // g: the diagonal's row (c + j). L's columns ≥ j are still zero, so L·L[g, :] sums over
      // the panel's columns before j.
      const x = subtract(column(p, j), matvec(L, row(L, g)));
      const d = sqrt(entry(x, g));
      const col = where(greater(rows, g), divide(x, expandDims(d, -1)), where(equal(rows, g), expandDims(d, -1), 0));
      return [withColumn(L, j, col, cols), null] as const;
    },
    zerosOf(p.shape, p),
    [arange(c, c + b, 1, on(p, "int32")), iota(b, p)],
  );
  return l;
}

/**
 * The Cholesky factor L of a symmetric positive-definite matrix, or a stack of them
 * [..., M, M]: the lower-triangular L with A = L Lᵀ (numpy's `linalg.cholesky`, lower).
 *
 * As JAX's, the input is symmetrised first ((A + Aᵀ)/2, so the gradient is symmetric too;
 * numpy reads only the lower triangle, the same for a symmetric input), and a matrix that is
 * not positive definite gives a factor of NaNs (numpy raises `LinAlgError`; JAX returns NaNs):
 * where any pivot is ≤ 0 or NaN, that matrix of the stack is all NaN.
 * Blocked in panels of 32 columns, O(M³); gradients, vmap and jit come from its scans and
 * matmuls.
 *
 * @example
 * const l = np.linalg.cholesky(a);   // a ≈ l @ l.T
 */
export function cholesky(a: ArrayLike): Array {
  return scoped(() => {
    const x0 = matrices("linalg.cholesky", a, true);
    const lead = x0.shape.slice(0, -2);
    const x = flat(x0);
    const n = x.shape[x.ndim - 1] as number;
    // Columns [c, n) of A − L₍<c₎ L₍<c₎ᵀ, every row (rows above c + b are never read again).
    let rest = multiply(add(x, mT(x)), 0.5);
    const lCols: Array[] = [];
    for (let c = 0; c < n; c += PANEL) {
      const b = Math.min(PANEL, n - c);
      const lp = choleskyPanel(block(rest, 0, n, 0, b), c);
      lCols.push(lp);
      const w = n - c - b;
      if (w > 0) {
        const l21 = block(lp, c + b, n, 0, b);
        const low = subtract(block(rest, c + b, n, b, n - c), matmul(l21, mT(l21)));
        rest = join([block(rest, 0, c + b, b, n - c), low], -2);
      }
    }
    if (n === 0) return zerosOf(x0.shape, x0);
    const l = join(lCols, -1);
    const ok = all(greater(diagonal(l, { axis1: -2, axis2: -1 }), 0), -1);
    return unflat(where(reshape(ok, [-1, 1, 1]), l, Number.NaN), lead);
  });
}
