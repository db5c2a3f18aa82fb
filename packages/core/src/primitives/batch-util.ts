/**
 * Shared pieces of the primitives' vmap rules (core/batching.ts runs them). An axis of the
 * unbatched operand becomes `shiftAxis(a, d)` in the batched one.
 */
import type { Array } from "../array.js";
import { bind, bind1 } from "../core/trace.js";
import { maximum, minimum } from "../numpy/elementwise.js";
import type { BDim, Params, Primitive } from "./types.js";

/** Moves axis `from` of x to `to` (a transpose, a view). */
export function moveAxis(x: Array, from: number, to: number): Array {
  if (from === to) return x;
  const perm = x.shape.map((_, i) => i).filter((i) => i !== from);
  perm.splice(to, 0, from);
  return bind1("transpose", [x], { perm });
}

/**
 * x with its batch dim at `to`: moved if it is elsewhere, broadcast in (a stride-0 view) if x is
 * not batched.
 */
export function batchAt(x: Array, d: BDim, to: number, size: number): Array {
  if (d !== null) return moveAxis(x, d, to);
  const shape = [...x.shape];
  shape.splice(to, 0, size);
  return bind1("broadcast_in_dim", [x], {
    shape,
    broadcastDimensions: x.shape.map((_, i) => (i < to ? i : i + 1)),
  });
}
/** The position of unbatched axis `a` in an operand batched at `d`. */
export function shiftAxis(a: number, d: number): number {
  return a >= d ? a + 1 : a;
}

/** Where batch dim `d` lands when the (batched-frame) `removed` axes disappear. */
export function afterRemoving(d: number, removed: readonly number[]): number {
  return d - removed.filter((a) => a < d).length;
}

/**
 * Operands of one shape (elementwise primitives) batched at one common dim: the first batched
 * operand's, the others moved there (a view), unbatched ones broadcast in (a stride-0 view).
 */
export function alignBatched(args: readonly Array[], dims: readonly BDim[], size: number): [Array[], number] {
  const first = dims.find((d) => d !== null) as number;
  return [args.map((x, i) => (dims[i] === first ? x : batchAt(x, dims[i] ?? null, first, size))), first];
}

/** A rule for primitives that act on each element (or along no axis): the batch dim stays. */
export function elementwiseBatch<P extends Primitive>(prim: P) {
  return (args: readonly Array[], dims: readonly BDim[], params: Params[P], size: number): [Array[], BDim[]] => {
    if (args.length === 1) {
      const outs = bind(prim, args, params);
      return [outs, outs.map(() => dims[0] ?? null)];
    }
    const [xs, d] = alignBatched(args, dims, size);
    const outs = bind(prim, xs, params);
    return [outs, outs.map(() => d)];
  };
}

/** The operand of a one-operand rule with its batch dim (always batched there). */
export function only(args: readonly Array[], dims: readonly BDim[]): [Array, number] {
  return [args[0] as Array, dims[0] as number];
}

/** x with its batch dim at 0 (moved, or broadcast in). */
export function front(x: Array, d: BDim, size: number): Array {
  return batchAt(x, d, 0, size);
}

/** Indices clamped into [lo, hi]. */
export function clampIndex(idx: Array, lo: number, hi: number): Array {
  return maximum(minimum(idx, hi), lo);
}
