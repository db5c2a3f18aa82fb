/**
 * `np.linalg.triangularSolve` (lax.linalg.triangular_solve's semantics) and the blocked
 * substitution that `solve` and `inv` share: blocks of `PANEL` rows, each solved by a
 * `lax.scan` over its rows (forward substitution) after the blocks above it are subtracted
 * with one matmul. Upper-triangular systems are the lower ones with rows and columns reversed
 * (views), so there is one loop.
 */
import type { Array, ArrayLike } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { ShapeError } from "../errors.js";
import { scan } from "../lax-control.js";
import { broadcastShapes } from "../shape.js";
import { diagonal } from "./assemble.js";
import { broadcastTo, promoteOnly } from "./convert.js";
import { divide, subtract } from "./elementwise.js";
import { matmul } from "./linalg.js";
import {
  block,
  entry,
  flat,
  iota,
  join,
  matrices,
  mT,
  PANEL,
  row,
  unflat,
  vecmat,
  withRow,
  zerosOf,
} from "./linalg-stack.js";
import { tril } from "./manipulation.js";
import { checkOptions } from "./options.js";
import { expandDims } from "./shape.js";

/** Forward substitution for one diagonal block: t [..., b, b] (its strict lower triangle and diagonal read), rhs [..., b, r]. */
function lowerBlock(t: Array, rhs: Array, unit: boolean): Array {
  const b = t.shape[t.ndim - 1] as number;
  const strict = tril(t, -1);
  const diag = unit ? null : diagonal(t, { axis1: -2, axis2: -1 });
  const rows = iota(b, t);
  const [x] = scan(
    (X: Array, i: Array) => {
      // X's rows ≥ i are still zero, so the row of the strict triangle sums over the rows solved.
      const r = subtract(row(rhs, i), vecmat(row(strict, i), X));
      const xi = diag ? divide(r, expandDims(entry(diag, i), -1)) : r;
      return [withRow(X, i, xi, rows), null] as const;
    },
    zerosOf(rhs.shape, rhs),
    iota(b, t),
  );
  return x;
}

/**
 * Solves t x = b for lower-triangular t [..., m, m] and b [..., m, r] (equal batch dims),
 * reading t's strict lower triangle and, unless `unit`, its diagonal.
 */
export function solveLower(t: Array, b: Array, unit: boolean): Array {
  const m = t.shape[t.ndim - 1] as number;
  const r = b.shape[b.ndim - 1] as number;
  let x: Array | null = null;
  for (let p = 0; p < m; p += PANEL) {
    const e = Math.min(p + PANEL, m);
    let rhs = block(b, p, e, 0, r);
    if (x) rhs = subtract(rhs, matmul(block(t, p, e, 0, p), x));
    const xp = lowerBlock(block(t, p, e, p, e), rhs, unit);
    x = x ? join([x, xp], -2) : xp;
  }
  return x ?? zerosOf(b.shape, b);
}

const reversed = (a: Array, dims: readonly number[]) =>
  bind1("rev", [a], { dimensions: dims.map((d) => (d < 0 ? d + a.ndim : d)) });

/** Solves t x = b for upper-triangular t (its strict upper triangle and, unless `unit`, its diagonal read). */
export function solveUpper(t: Array, b: Array, unit: boolean): Array {
  return reversed(solveLower(reversed(t, [-2, -1]), reversed(b, [-2]), unit), [-2]);
}

export interface TriangularSolveOptions {
  /** Solve op(a) · x = b (true) or x · op(a) = b (false, the default, as lax). */
  leftSide?: boolean;
  /** a is lower triangular (true) or upper (false, the default, as lax); only that triangle is read. */
  lower?: boolean;
  /** op(a) = aᵀ (default false: op(a) = a). */
  transposeA?: boolean;
  /** a's diagonal is taken to be ones and not read (default false). */
  unitDiagonal?: boolean;
}

/**
 * Solves a triangular system: op(a) · x = b with `leftSide`, else x · op(a) = b, where op(a)
 * is a or aᵀ (`transposeA`) — JAX's `lax.linalg.triangular_solve`, with its defaults (right
 * side, upper triangle). a is [..., M, M] and b [..., M, N] (left side) or [..., N, M] (right
 * side); leading batch dims broadcast. Only the triangle of a that `lower` names is read (and
 * its diagonal unless `unitDiagonal`), so a packed LU or a full matrix can be passed. A zero on
 * the diagonal gives Inf/NaN, as in lax. Blocked substitution, O(M²·N).
 *
 * @example
 * // L x = b for lower-triangular L (scipy's solve_triangular(L, b, lower=True)):
 * const x = np.linalg.triangularSolve(l, b, { leftSide: true, lower: true });
 */
export function triangularSolve(a: ArrayLike, b: ArrayLike, opts: TriangularSolveOptions = {}): Array {
  return scoped(() => {
    const op = "linalg.triangularSolve";
    checkOptions(op, opts, ["leftSide", "lower", "transposeA", "unitDiagonal"]);
    const [a0, b0] = promoteOnly([a, b]) as [Array, Array];
    const x = matrices(op, a0, true, "a");
    const y = matrices(op, b0, false, "b");
    const left = opts.leftSide ?? false;
    const lower = opts.lower ?? false;
    const trans = opts.transposeA ?? false;
    const m = x.shape[x.ndim - 1] as number;
    const [br, bc] = y.shape.slice(-2) as [number, number];
    if ((left ? br : bc) !== m) {
      const want = left ? `[..., ${m}, N]` : `[..., N, ${m}]`;
      throw new ShapeError(
        `${op}: a is ${fmtAval(x.aval)}, so b must be ${want} with leftSide ${left}, got ${fmtAval(y.aval)}`,
      );
    }
    let batch: number[];
    try {
      batch = broadcastShapes(op, x.shape.slice(0, -2), y.shape.slice(0, -2));
    } catch {
      throw new ShapeError(`${op}: the batch dims of a ${fmtAval(x.aval)} and b ${fmtAval(y.aval)} do not broadcast`);
    }
    const ab = flat(broadcastTo(x, [...batch, m, m]));
    const bb = flat(broadcastTo(y, [...batch, br, bc]));
    const unit = opts.unitDiagonal ?? false;
    // x · op(a) = b is op(a)ᵀ · xᵀ = bᵀ; a transposed matrix has the other triangle.
    const t = left === trans ? mT(ab) : ab;
    const tLower = left ? lower !== trans : lower === trans;
    const rhs = left ? bb : mT(bb);
    const sol = tLower ? solveLower(t, rhs, unit) : solveUpper(t, rhs, unit);
    return unflat(left ? sol : mT(sol), batch);
  });
}
