/**
 * LU factorisation with partial pivoting (LAPACK's getrf), the base of `solve`, `inv`, `det`
 * and `slogdet`. Blocked right-looking: a panel of `PANEL` columns is factored by a `lax.scan`
 * over its columns (pick the row of largest |value| at or below the diagonal, swap it up,
 * eliminate below it with a rank-1 update of the panel); then the rest of those rows are
 * permuted the same way, U₁₂ = L₁₁⁻¹ A₁₂ by forward substitution and A₂₂ − L₂₁ U₁₂ by one
 * matmul: O(n³) work, about 2n loop steps.
 */
import type { Array } from "../array.js";
import { scan } from "../lax-control.js";
import { arange, zeros } from "./creation.js";
import { abs, add, divide, equal, greater, greaterEqual, multiply, notEqual, subtract, where } from "./elementwise.js";
import { matmul } from "./linalg.js";
import { block, column, entry, iota, join, on, PANEL, row, withColumn } from "./linalg-stack.js";
import { solveLower } from "./linalg-triangular.js";
import { argmax, sum } from "./reduce.js";
import { broadcastTo, expandDims } from "./shape.js";
import { takeAlongAxis } from "./sorting.js";

/** A packed LU factorisation of a stack [..., n, n]: P A = L U. */
export interface LuFactors {
  /** U on and above the diagonal, L's multipliers below it (L's diagonal is ones). */
  lu: Array;
  /** int32 [..., n]: row i of P A is row perm[i] of A. */
  perm: Array;
  /** int32 [...]: how many row swaps P is made of (its sign is (−1)^swaps). */
  swaps: Array;
}

/** Rows of `x` [..., q, w] in the order `perm` [..., q] gives. */
function permuteRows(x: Array, perm: Array): Array {
  return takeAlongAxis(x, expandDims(perm, -1), -2);
}

/**
 * LU with partial pivoting of columns [c, c + b), given as a full-height panel [..., n, b]
 * (rows above c hold U and are left as they are): the packed factors, the panel's row order
 * (rows above c stay in place) and its swap count. Full height, so every panel has the same
 * loop body.
 */
function luPanel(p: Array, c: number): LuFactors {
  const [n, b] = p.shape.slice(-2) as [number, number];
  const lead = p.shape.slice(0, -2);
  const rows = iota(n, p);
  const cols = iota(b, p);
  const [[lu, perm], swapped] = scan(
    ([P, perm]: [Array, Array], [g, j]: [Array, Array]) => {
      // g: the diagonal's row (c + j); j: the panel's column.
      const x = column(P, j);
      // The pivot: the first row at or below g of largest |x| (LAPACK's idamax).
      const piv = argmax(where(greaterEqual(rows, g), abs(x), -1), -1);
      const isP = equal(rows, expandDims(piv, -1));
      const isG = equal(rows, g);
      const rowG = row(P, g);
      const rowP = sum(where(expandDims(isP, -1), P, 0), -2);
      const S = where(expandDims(isG, -1), expandDims(rowP, -2), where(expandDims(isP, -1), expandDims(rowG, -2), P));
      const permG = entry(perm, g);
      const permP = sum(where(isP, perm, 0), -1);
      const nextPerm = where(isG, expandDims(permP, -1), where(isP, expandDims(permG, -1), perm));
      const xs = column(S, j);
      const pivot = entry(rowP, j);
      // A zero pivot means the column is zero from g down: no elimination (multipliers 0).
      const safe = where(equal(pivot, 0), 1, pivot);
      const below = greater(rows, g);
      const l = where(below, divide(xs, expandDims(safe, -1)), 0);
      const u = where(greater(cols, j), rowP, 0);
      const eliminated = subtract(S, multiply(expandDims(l, -1), expandDims(u, -2)));
      const next: [Array, Array] = [withColumn(eliminated, j, where(below, l, xs), cols), nextPerm];
      return [next, notEqual(piv, g)] as const;
    },
    [p, broadcastTo(rows, [...lead, n])] as [Array, Array],
    [arange(c, c + b, 1, on(p, "int32")), iota(b, p)],
  );
  return { lu, perm, swaps: sum(swapped, 0) };
}

/**
 * The packed LU factorisation of square matrices a [..., n, n] with partial pivoting. Each
 * panel's row swaps are applied to the whole rows (so L's rows follow P), as getrf.
 */
export function luFactor(a: Array): LuFactors {
  const n = a.shape[a.ndim - 1] as number;
  const lead = a.shape.slice(0, -2);
  let m = a;
  let perm = broadcastTo(iota(n, a), [...lead, n]);
  let swaps: Array | null = null;
  for (let c = 0; c < n; c += PANEL) {
    const b = Math.min(PANEL, n - c);
    const panel = luPanel(block(m, 0, n, c, c + b), c);
    swaps = swaps ? add(swaps, panel.swaps) : panel.swaps;
    const mp = permuteRows(m, panel.perm);
    const parts = [block(mp, 0, n, 0, c), panel.lu];
    if (c + b < n) {
      // U₁₂ = L₁₁⁻¹ A₁₂ (solved over every column, so each panel's loop has the same shape), then A₂₂ − L₂₁ U₁₂.
      const u12 = block(solveLower(block(panel.lu, c, c + b, 0, b), block(mp, c, c + b, 0, n), true), 0, b, c + b, n);
      const a22 = subtract(block(mp, c + b, n, c + b, n), matmul(block(panel.lu, c + b, n, 0, b), u12));
      parts.push(join([block(mp, 0, c, c + b, n), u12, a22], -2));
    }
    m = join(parts, -1);
    perm = takeAlongAxis(perm, panel.perm, -1);
  }
  return { lu: m, perm, swaps: swaps ?? zeros(lead, on(a, "int32")) };
}
