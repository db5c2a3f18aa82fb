/**
 * `np.linalg.qr`: blocked Householder QR, LAPACK's geqrf/orgqr written with scans and matmuls.
 *
 * Each panel of `PANEL` columns is reduced by a `lax.scan` over its columns: step j builds the
 * reflector H_j = I − τ_j v_j v_jᵀ that zeroes column j below the diagonal and applies it to
 * the panel as a rank-1 update (never an m×m matrix), while accumulating the panel's compact WY
 * form Q_p = H_0 ⋯ H_{b−1} = I − V T Vᵀ (LAPACK's larft recurrence). The rest of the matrix
 * gets Q_pᵀ with three matmuls, and Q is accumulated from the panels' (V, T) backwards (orgqr),
 * so the work is O(m·n·min(m, n)) and the loops have min(m, n) steps in all.
 */
import type { Array, ArrayLike } from "../array.js";
import { scoped } from "../core/scope.js";
import { ShapeError } from "../errors.js";
import { scan } from "../lax-control.js";
import { arange, eye } from "./creation.js";
import {
  abs,
  add,
  divide,
  equal,
  greater,
  greaterEqual,
  less,
  multiply,
  negative,
  sqrt,
  subtract,
  where,
} from "./elementwise.js";
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
  unflat,
  vecmat,
  zerosOf,
} from "./linalg-stack.js";
import { tril, triu } from "./manipulation.js";
import { checkOptions } from "./options.js";
import { max, sum } from "./reduce.js";
import { broadcastTo, expandDims } from "./shape.js";

/** numpy's QR modes: "reduced" (Q m×k, R k×n, k = min(m, n)), "complete" (Q m×m, R m×n) or "r" (R k×n only). */
export type QrMode = "reduced" | "complete" | "r";

export interface QrOptions {
  /** Which factors, and how large (numpy's `mode`; default "reduced"). */
  mode?: QrMode;
}

/** One panel's reflectors: H_c ⋯ H_{c+b−1} = I − V T Vᵀ, V [..., m, b] zero above row c + j in column j. */
interface Panel {
  offset: number;
  v: Array;
  t: Array;
}

/**
 * Householder QR of columns [c, c + b) of the matrix, given as a full-height panel [..., m, b]
 * whose rows above c already hold R (left as they are). The reflector of column j follows
 * LAPACK's larfg: β = −sign(α)·‖x‖ (α the diagonal entry, so α − β never cancels), v = x / (α −
 * β) below the diagonal with v_j = 1, τ = (β − α)/β; a column already zero below the diagonal
 * is left as it is (τ = 0, H = I). ‖x‖ is computed scaled by max |x| so squares neither
 * overflow nor underflow. As geqrf, the panel keeps R on and above the diagonal and the v's
 * below it. Full height, so every panel of a matrix has the same loop body (compiled once).
 */
function householderPanel(p: Array, c: number): { packed: Array; panel: Panel } {
  const [m, b] = p.shape.slice(-2) as [number, number];
  const lead = p.shape.slice(0, -2);
  const rows = iota(m, p);
  const cols = iota(b, p);
  const [[packed, t]] = scan(
    ([P, T]: [Array, Array], [g, j]: [Array, Array]) => {
      // g: the diagonal's row (c + j); j: the panel's column.
      const x = column(P, j);
      const isDiag = equal(rows, g);
      const active = greaterEqual(rows, g);
      const alpha = entry(x, g);
      const xb = where(greater(rows, g), x, 0);
      const reduced = equal(max(abs(xb), -1), 0);
      const xa = where(active, x, 0);
      const big = max(abs(xa), -1);
      const s = where(equal(big, 0), 1, big);
      const y = divide(xa, expandDims(s, -1));
      const norm = multiply(sqrt(where(reduced, 1, sum(multiply(y, y), -1))), s);
      const beta = where(greaterEqual(alpha, 0), negative(norm), norm);
      const tau = expandDims(where(reduced, 0, divide(subtract(beta, alpha), where(reduced, 1, beta))), -1);
      const vj = where(isDiag, 1, divide(xb, expandDims(where(reduced, 1, subtract(alpha, beta)), -1)));
      // w = vᵀ P: right of column j the rank-1 update's row; left of it vᵀ V (the v's are stored
      // there, below the diagonal, and v is zero above row g), which T's column needs.
      const w = vecmat(vj, P);
      const applied = subtract(
        P,
        multiply(expandDims(multiply(vj, tau), -1), expandDims(where(greater(cols, j), w, 0), -2)),
      );
      const colJ = where(active, where(isDiag, expandDims(where(reduced, alpha, beta), -1), vj), x);
      // T's column j: −τ T (Vᵀ v) above the diagonal, τ on it (T's columns ≥ j are still zero,
      // so T·w reads only w's entries left of j).
      const isCol = equal(cols, j);
      const tcol = where(less(cols, j), multiply(negative(tau), matvec(T, w)), where(isCol, tau, 0));
      const next: [Array, Array] = [where(isCol, expandDims(colJ, -1), applied), where(isCol, expandDims(tcol, -1), T)];
      return [next, null] as const;
    },
    [p, zerosOf([...lead, b, b], p)] as [Array, Array],
    [arange(c, c + b, 1, on(p, "int32")), iota(b, p)],
  );
  const v = add(tril(packed, -c - 1), eye(m, b, { ...on(p, p.dtype), k: -c }));
  return { packed, panel: { offset: c, v, t } };
}

/**
 * Q_pᵀ C = C − V Tᵀ (Vᵀ C) for the columns right of a panel: only rows ≥ c change (V is zero
 * above), so only those are computed.
 */
function applyTransposed({ offset: c, v, t }: Panel, x: Array): Array {
  const [m, w] = x.shape.slice(-2) as [number, number];
  const vl = block(v, c, m, 0, v.shape[v.ndim - 1] as number);
  const low = block(x, c, m, 0, w);
  return join([block(x, 0, c, 0, w), subtract(low, matmul(vl, matmul(mT(t), matmul(mT(vl), low))))], -2);
}

/** The panels of A = QR and R [..., M, N] (zero below the diagonal; its first K rows are the reduced R). */
function factor(a: Array): { panels: Panel[]; r: Array } {
  const [m, n] = a.shape.slice(-2) as [number, number];
  const k = Math.min(m, n);
  const panels: Panel[] = [];
  const rCols: Array[] = [];
  let rest = a; // columns [c, n), every row
  for (let c = 0; c < k; c += PANEL) {
    const b = Math.min(PANEL, k - c);
    const { packed, panel } = householderPanel(block(rest, 0, m, 0, b), c);
    rCols.push(triu(packed, -c));
    rest = block(rest, 0, m, b, n - c);
    if (n - c - b > 0) rest = applyTransposed(panel, rest);
    panels.push(panel);
  }
  return { panels, r: k === 0 ? zerosOf(a.shape, a) : join([...rCols, rest], -1) };
}

/** The first `ncols` columns of Q = Q_0 Q_1 ⋯, accumulated from the last panel back (orgqr). */
function formQ(a: Array, panels: readonly Panel[], ncols: number): Array {
  const [m] = a.shape.slice(-2) as [number, number];
  const lead = a.shape.slice(0, -2);
  let q = broadcastTo(eye(m, ncols, on(a, a.dtype)), [...lead, m, ncols]);
  for (let i = panels.length - 1; i >= 0; i--) {
    const { offset: c, v, t } = panels[i] as Panel;
    const vl = block(v, c, m, 0, v.shape[v.ndim - 1] as number);
    const low = block(q, c, m, 0, ncols);
    q = join([block(q, 0, c, 0, ncols), subtract(low, matmul(vl, matmul(t, matmul(mT(vl), low))))], -2);
  }
  return q;
}

/**
 * The QR decomposition A = Q R of a matrix or a stack of them [..., M, N] (numpy's
 * `linalg.qr`): Q has orthonormal columns and R is upper triangular. `mode` "reduced" (the
 * default) gives Q [..., M, K] and R [..., K, N] with K = min(M, N); "complete" gives Q
 * [..., M, M] and R [..., M, N]; "r" gives R [..., K, N] alone.
 *
 * Householder reflections with LAPACK's sign choice (R's diagonal is −sign of each pivot, so
 * the values are numpy's up to rounding), blocked in panels of 32 columns: O(M·N·K) work.
 * Gradients, vmap and jit come from the scans and matmuls it is built of. Like numpy's, the
 * factorisation skips a column that is already zero below its diagonal (a triangular or
 * diagonal input), where R's signs are not continuous: derivatives there are those of that
 * branch, not of a smooth QR.
 *
 * @example
 * const [q, r] = np.linalg.qr(a);           // a ≈ q @ r
 * const rOnly = np.linalg.qr(a, { mode: "r" });
 */
export function qr(a: ArrayLike, opts?: { mode?: "reduced" | "complete" }): [Array, Array];
export function qr(a: ArrayLike, opts: { mode: "r" }): Array;
export function qr(a: ArrayLike, opts?: QrOptions): [Array, Array] | Array;
export function qr(a: ArrayLike, opts: QrOptions = {}): [Array, Array] | Array {
  return scoped(() => {
    checkOptions("linalg.qr", opts, ["mode"]);
    const mode = opts.mode ?? "reduced";
    if (mode !== "reduced" && mode !== "complete" && mode !== "r") {
      throw new ShapeError(`linalg.qr: mode must be "reduced", "complete" or "r", got ${JSON.stringify(mode)}`);
    }
    const x0 = matrices("linalg.qr", a, false);
    const lead = x0.shape.slice(0, -2);
    const x = flat(x0);
    const [m, n] = x.shape.slice(-2) as [number, number];
    const k = Math.min(m, n);
    const { panels, r } = factor(x);
    const reduced = unflat(k === m ? r : block(r, 0, k, 0, n), lead);
    if (mode === "r") return reduced;
    if (mode === "reduced") return [unflat(formQ(x, panels, k), lead), reduced];
    return [unflat(formQ(x, panels, m), lead), unflat(r, lead)];
  });
}
