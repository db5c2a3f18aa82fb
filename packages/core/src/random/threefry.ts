/** The Threefry-2x32 hash as arrays: the one routine every random function is built on. */
import type { Array, ArrayLike } from "../array.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { backendOf, prepare } from "../numpy/convert.js";
import { arange, full } from "../numpy/creation.js";
import { THREEFRY_ROUNDS } from "../primitives/random.js";
import { sizeOf } from "../shape.js";

/**
 * Rounds of the hash per kernel: all twenty, so the hash is one fused kernel. Threefry is a DAG
 * whose tree form is exponential (each round reads x1 three times), so every code path that walks
 * a kernel visits each node once (the CPU interpreter caches shared sub-expressions per element;
 * WebGPU's parameter count memoises). The rounds param still allows splitting the hash.
 */
const ROUNDS_PER_KERNEL = 20;

/** Word `i` (0 or 1) of a [...S, 2] pair array, as a view of shape S. */
export function word(pairs: Array, i: 0 | 1): Array {
  return scoped(() => {
    const r = pairs.ndim - 1;
    const s = bind1("slice", [pairs], {
      start: [...pairs.shape.slice(0, r).map(() => 0), i],
      limit: [...pairs.shape.slice(0, r), i + 1],
      strides: pairs.shape.map(() => 1),
    });
    return bind1("squeeze", [s], { dimensions: [r] });
  });
}

/**
 * The Threefry-2x32 hash (20 rounds; Salmon et al. 2011, as in JAX's `threefry2x32_p`) of the
 * counter words (x0, x1) under the key words (k0, k1). The operands are uint32 and broadcast
 * together to a shape S; the result is uint32 [...S, 2], the two output words on the last axis.
 *
 * Random123's known answer: key (0x13198a2e, 0x03707344), counter (0x243f6a88, 0x85a308d3)
 * gives (0xc4923a9c, 0x483df7a0).
 */
export function threefry2x32(k0: ArrayLike, k1: ArrayLike, x0: ArrayLike, x1: ArrayLike): Array {
  return scoped(() => {
    const ops = prepare("threefry2x32", [k0, k1, x0, x1]);
    const bad = ops.find((a) => a.dtype !== "uint32");
    if (bad) {
      throw new DTypeError(
        `threefry2x32: operands must be uint32 arrays, got ${ops.map((a) => a.dtype).join(", ")}; use astype('uint32')`,
      );
    }
    const [a, b] = ops as [Array, Array, Array, Array];
    let y = bind1("threefry2x32", ops, { rounds: [0, ROUNDS_PER_KERNEL] });
    for (let from = ROUNDS_PER_KERNEL; from < THREEFRY_ROUNDS; from += ROUNDS_PER_KERNEL) {
      const to = Math.min(from + ROUNDS_PER_KERNEL, THREEFRY_ROUNDS);
      const next = bind1("threefry2x32", [a, b, word(y, 0), word(y, 1)], { rounds: [from, to] });
      y.dispose();
      y = next;
    }
    return y;
  });
}

/**
 * The row-major uint64 iota over `shape`, as its (high, low) uint32 words (JAX's
 * `iota_2x32_shape`): the counters of `split` and `bits`. Sizes stay below 2^32 here, so the
 * high word is 0.
 */
export function iota2x32(shape: readonly number[], like: Array): [Array, Array] {
  const n = sizeOf(shape);
  if (n >= 2 ** 32) throw new ShapeError(`random: ${n} values in one call is more than 2^32 counters`);
  const backend = backendOf([like]).name;
  const hi = bind1("broadcast_in_dim", [full([], 0, { dtype: "uint32", backend })], {
    shape,
    broadcastDimensions: [],
  });
  const lo = bind1("reshape", [arange(0, n, 1, { dtype: "uint32", backend })], { newShape: shape });
  return [hi, lo];
}
