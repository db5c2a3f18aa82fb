import type { Array, ArrayLike } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { ShapeError } from "../errors.js";
import type { DotDims } from "../primitives/types.js";
import { broadcastShapes } from "../shape.js";
import { broadcastTo, promoteOnly } from "./convert.js";
import { multiply } from "./elementwise.js";

const range = (n: number, from = 0) => globalThis.Array.from({ length: n }, (_, i) => i + from);

/** XLA's dot_general (lax.dot_general): contraction and batch dimensions given explicitly. */
export function dotGeneral(x: ArrayLike, y: ArrayLike, dims: DotDims): Array {
  return scoped(() => bind1("dot_general", promoteOnly([x, y]), dims));
}

/**
 * Matrix product with numpy's rules: 1-D operands are promoted to a row/column and the added
 * axis removed; leading (batch) axes broadcast.
 */
export function matmul(x: ArrayLike, y: ArrayLike): Array {
  return scoped(() => {
    let [a, b] = promoteOnly([x, y]) as [Array, Array];
    const [ax, bx] = [a.aval, b.aval];
    if (a.ndim === 0 || b.ndim === 0) {
      throw new ShapeError(
        `matmul: operand ${a.ndim === 0 ? 0 : 1} has no dimensions (${fmtAval(ax)} @ ${fmtAval(bx)}); matmul needs rank ≥ 1 — use np.multiply for a scalar`,
      );
    }
    const vecA = a.ndim === 1;
    const vecB = b.ndim === 1;
    if (vecA) a = bind1("reshape", [a], { newShape: [1, a.shape[0] as number] });
    if (vecB) b = bind1("reshape", [b], { newShape: [b.shape[0] as number, 1] });
    const K = a.shape[a.ndim - 1] as number;
    if (b.shape[b.ndim - 2] !== K) {
      throw new ShapeError(
        `matmul: contracting dims ${K} ≠ ${b.shape[b.ndim - 2]} in shapes ${fmtAval(ax)} @ ${fmtAval(bx)}`,
      );
    }
    let batch: number[];
    try {
      batch = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
    } catch {
      throw new ShapeError(`matmul: batch dims of ${fmtAval(ax)} @ ${fmtAval(bx)} cannot be broadcast together`);
    }
    const nb = batch.length;
    a = broadcastTo(a, [...batch, ...a.shape.slice(-2)], "matmul");
    b = broadcastTo(b, [...batch, ...b.shape.slice(-2)], "matmul");
    let r = bind1("dot_general", [a, b], { contracting: [[nb + 1], [nb]], batch: [range(nb), range(nb)] });
    if (vecA || vecB) {
      const shape = [...batch, ...(vecA ? [] : [a.shape[nb] as number]), ...(vecB ? [] : [b.shape[nb + 1] as number])];
      r = bind1("reshape", [r], { newShape: shape });
    }
    return r;
  });
}

/**
 * numpy's dot: scalars multiply; otherwise contracts the last axis of x with the
 * second-to-last of y (the only axis when y is 1-D), with no batch broadcasting.
 */
export function dot(x: ArrayLike, y: ArrayLike): Array {
  return scoped(() => {
    const [a, b] = promoteOnly([x, y]) as [Array, Array];
    if (a.ndim === 0 || b.ndim === 0) return multiply(a, b);
    const ca = a.ndim - 1;
    const cb = Math.max(b.ndim - 2, 0);
    if (a.shape[ca] !== b.shape[cb]) {
      throw new ShapeError(
        `dot: contracting dims ${a.shape[ca]} ≠ ${b.shape[cb]} in shapes ${fmtAval(a.aval)} · ${fmtAval(b.aval)}`,
      );
    }
    return bind1("dot_general", [a, b], { contracting: [[ca], [cb]], batch: [[], []] });
  });
}
