/**
 * `lax.associativeScan` (issue 24): the inclusive prefix scan of an associative binary function
 * over an axis of a pytree of arrays, by Blelloch's recursion (JAX's algorithm): combine
 * neighbouring pairs, scan that half-length sequence, then combine its results with the
 * remaining elements and interleave. O(n) applications of `fn` over O(log n) rounds, each round
 * a few whole-array kernels — no loop of n steps — and, being composed of primitives, it is
 * differentiable, batchable and jittable as it stands.
 */
import type { Array, ArrayLike } from "./array.js";
import { fmtAval } from "./core/aval.js";
import { scoped } from "./core/scope.js";
import { bind1 } from "./core/trace.js";
import { TracerError } from "./errors.js";
import { asArray, convert } from "./numpy/convert.js";
import { concatenate, stack } from "./numpy/join.js";
import { checkOptions } from "./numpy/options.js";
import { normalizeAxis, shapesEqual } from "./shape.js";
import { flattenAs } from "./tree/flatten.js";
import type { TreeDef } from "./tree/treedef.js";

export interface AssociativeScanOptions {
  /**
   * Scan from the end, as JAX does: the leaves reversed along the axis, scanned, and reversed
   * back — out[i] = fn(… fn(x[n−1], x[n−2]) …, x[i]) (for a non-commutative `fn`, the
   * elements combine from the last one down).
   */
  reverse?: boolean;
  /** The axis to scan along (default 0; negative counts from the end). */
  axis?: number;
}

const NAME = "lax.associativeScan";

/** Elements start, start + stride, … below limit of `x` along `axis`. */
function sliceAxis(x: Array, axis: number, start: number, limit: number, stride = 1): Array {
  return bind1("slice", [x], {
    start: x.shape.map((_, d) => (d === axis ? start : 0)),
    limit: x.shape.map((n, d) => (d === axis ? limit : n)),
    strides: x.shape.map((_, d) => (d === axis ? stride : 1)),
  });
}

/** a0, b0, a1, b1, … along `axis` (`a` as long as `b` or one longer). */
function interleave(a: Array, b: Array, axis: number): Array {
  const m = a.shape[axis] as number;
  const k = b.shape[axis] as number;
  const pairs = stack([k === m ? a : sliceAxis(a, axis, 0, k), b], axis + 1);
  const shape = a.shape.slice();
  shape[axis] = 2 * k;
  const joined = bind1("reshape", [pairs], { newShape: shape });
  return k === m ? joined : concatenate([joined, sliceAxis(a, axis, m - 1, m)], axis);
}

/**
 * JAX's `lax.associative_scan`: `out[i] = fn(… fn(fn(x[0], x[1]), x[2]) …, x[i])` along `axis`
 * of every leaf of `elems` (a pytree whose leaves all have the same length there). `fn` takes
 * two pytrees of `elems`' structure, holding equally long slices, and returns one of the same
 * structure, shapes and dtypes; it must be associative — `fn(a, fn(b, c)) = fn(fn(a, b), c)` —
 * as it is applied in a tree, not left to right.
 *
 * @example lax.associativeScan((a, b) => a.add(b), np.array([1, 2, 3, 4]))  // [1, 3, 6, 10]
 */
export function associativeScan<T>(fn: (a: T, b: T) => T, elems: T, opts: AssociativeScanOptions = {}): T {
  checkOptions(NAME, opts, ["reverse", "axis"], `${NAME}(fn, elems, { reverse, axis })`);
  if (typeof fn !== "function") throw new TracerError(`${NAME}: fn must be a function of two pytrees`);
  const [raw, def] = flattenAs(NAME, elems);
  if (raw.length === 0) throw new TracerError(`${NAME}: elems has no arrays`);
  const leaves = raw.map((l) => asArray(l as ArrayLike, NAME));
  const first = leaves[0] as Array;
  if (first.ndim === 0)
    throw new TracerError(`${NAME}: elems leaf 0 is a scalar (${fmtAval(first.aval)}); it needs an axis to scan`);
  const axis = normalizeAxis(opts.axis ?? 0, first.ndim, NAME);
  const n = first.shape[axis] as number;
  leaves.forEach((x, i) => {
    if (x.ndim <= axis || x.shape[axis] !== n) {
      throw new TracerError(
        `${NAME}: elems leaf ${i} is ${fmtAval(x.aval)}, but leaf 0 is ${fmtAval(first.aval)}: every leaf needs length ${n} along axis ${axis}`,
      );
    }
  });
  const reverse = opts.reverse ?? false;
  const out = scoped(() => {
    const combine = (a: Array[], b: Array[]): Array[] => {
      const result = fn(def.unflatten(a) as T, def.unflatten(b) as T);
      const [got, gotDef] = flattenAs(NAME, result);
      if (!gotDef.equals(def as TreeDef)) {
        throw new TracerError(
          `${NAME}: fn returns a pytree of structure ${String(gotDef)}, but elems is ${String(def)}`,
        );
      }
      return got.map((g, i) => {
        const want = (a[i] as Array).aval;
        const y = asArray(g as ArrayLike, NAME);
        if (shapesEqual(y.shape, want.shape) && (y.dtype === want.dtype || y.weakType))
          return y.dtype === want.dtype ? y : convert(y, want.dtype, false);
        throw new TracerError(
          `${NAME}: fn got leaf ${i} as ${fmtAval(want)} but returned ${fmtAval(y.aval)}; it must keep the shapes and dtypes of its operands`,
        );
      });
    };
    const run = (xs: Array[]): Array[] => {
      const len = (xs[0] as Array).shape[axis] as number;
      if (len < 2) return xs;
      // Pairs (x0∘x1, x2∘x3, …), scanned: the results at the odd positions.
      const odd = run(
        combine(
          xs.map((x) => sliceAxis(x, axis, 0, len - 1, 2)),
          xs.map((x) => sliceAxis(x, axis, 1, len, 2)),
        ),
      );
      // The even positions past 0: the odd result before each, combined with its own element.
      let even: Array[];
      if (len === 2) even = xs.map((x) => sliceAxis(x, axis, 0, 1));
      else {
        const rest = combine(
          len % 2 === 0 ? odd.map((o) => sliceAxis(o, axis, 0, (o.shape[axis] as number) - 1)) : odd,
          xs.map((x) => sliceAxis(x, axis, 2, len, 2)),
        );
        even = rest.map((r, i) => concatenate([sliceAxis(xs[i] as Array, axis, 0, 1), r], axis));
      }
      return even.map((e, i) => interleave(e, odd[i] as Array, axis));
    };
    const flip = (xs: Array[]) => xs.map((x) => bind1("rev", [x], { dimensions: [axis] }));
    return reverse ? flip(run(flip(leaves))) : run(leaves);
  });
  return def.unflatten(out) as T;
}
