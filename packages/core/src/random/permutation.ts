/**
 * Random permutations (`permutation`, `shuffle`, `choice`) as JAX's `_shuffle`: stable sorts by
 * fresh 32-bit random keys (`np.argsort` is stable, so equal keys keep their order as in XLA's
 * `sort_key_val`), which gives JAX's permutations exactly (tested against real JAX at 60,000).
 * Each round is one `sort` routine and a gather: O(n log n) or better on every backend.
 */
import { Array } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { backendOf } from "../numpy/convert.js";
import { arange, full } from "../numpy/creation.js";
import { cumsum } from "../numpy/cumulative.js";
import { log, multiply, negative, subtract } from "../numpy/elementwise.js";
import { take } from "../numpy/join.js";
import { checkOptions } from "../numpy/options.js";
import { reshape } from "../numpy/shape.js";
import { argsort, searchsorted, takeAlongAxis } from "../numpy/sorting.js";
import { checkShape, normalizeAxis, sizeOf } from "../shape.js";
import { gumbel, randint, uniform } from "./distributions.js";
import { bits, checkKey, keyAt, split } from "./keys.js";

/**
 * JAX's `_shuffle`: ⌈3·ln(size)/ln(2^32 − 1)⌉ rounds (one below ~1,600 elements), each a stable
 * sort of `x` along `axis` by `bits` of a fresh subkey over x's whole shape.
 */
function shuffleAlong(key: Array, x: Array, axis: number): Array {
  return scoped(() => {
    const rounds = Math.ceil((3 * Math.log(Math.max(1, x.size))) / Math.log(2 ** 32 - 1));
    let k = key;
    let out = x;
    for (let r = 0; r < rounds; r++) {
      const keys = split(k);
      k = keyAt(keys, 0);
      out = takeAlongAxis(out, argsort(bits(keyAt(keys, 1), x.shape), { axis }), axis);
    }
    return out === x ? bind1("copy", [x], {}) : out;
  });
}

/** Options of `permutation`. */
export interface PermutationOptions {
  /** The axis to permute (default 0). */
  axis?: number;
  /** Permute each slice along `axis` independently (default false: one permutation of whole slices). */
  independent?: boolean;
}

/**
 * A random permutation (`jax.random.permutation`): of `arange(x)` for an integer, else of the
 * slices of `x` along `axis` (each 1-D slice independently with `independent: true`).
 */
export function permutation(key: Array, x: number | Array, opts: PermutationOptions = {}): Array {
  return scoped(() => {
    checkOptions("permutation", opts, ["axis", "independent"]);
    checkKey("permutation", key);
    const backend = backendOf([key]).name;
    if (typeof x === "number") {
      if (!Number.isInteger(x) || x < 0)
        throw new ShapeError(`permutation: x must be a non-negative integer, got ${x}`);
      return shuffleAlong(key, arange(0, x, 1, { backend }), 0);
    }
    if (!(x instanceof Array) || x.ndim === 0) {
      throw new ShapeError(`permutation: x must be an integer or an array of rank >= 1, got ${describe(x)}`);
    }
    const axis = normalizeAxis(opts.axis ?? 0, x.ndim, "permutation");
    if (opts.independent || x.ndim === 1) return shuffleAlong(key, x, axis);
    const order = shuffleAlong(key, arange(0, x.shape[axis] as number, 1, { backend }), 0);
    return take(x, order, { axis });
  });
}

/**
 * Shuffles each 1-D slice of `x` along `axis` independently (JAX's former `jax.random.shuffle`,
 * now `permutation(key, x, { axis, independent: true })`).
 */
export function shuffle(key: Array, x: Array, opts: { axis?: number } = {}): Array {
  checkOptions("shuffle", opts, ["axis"]);
  return permutation(key, x, { axis: opts.axis ?? 0, independent: true });
}

/** Options of `choice`. */
export interface ChoiceOptions {
  /** The shape of the draws (default []: one draw). */
  shape?: readonly number[];
  /** Draw with replacement (default true). */
  replace?: boolean;
  /** Probabilities of the entries (1-D, length a.shape[axis]); uniform by default. */
  p?: Array;
  /** The axis of `a` to draw along (default 0). */
  axis?: number;
}

function describe(x: unknown): string {
  return x instanceof Array ? fmtAval(x.aval) : typeof x;
}

/**
 * Random draws from `arange(a)` or from the slices of `a` along `axis` (`jax.random.choice`).
 * Uniform with replacement: `randint`; without: the first draws of a `permutation`. With `p`:
 * inverse-CDF search of a uniform draw (with replacement), or Gumbel top-k (without).
 */
export function choice(key: Array, a: number | Array, opts: ChoiceOptions = {}): Array {
  return scoped(() => {
    checkOptions("choice", opts, ["shape", "replace", "p", "axis"]);
    checkKey("choice", key);
    const shape = checkShape(opts.shape ?? [], "choice");
    const replace = opts.replace ?? true;
    const backend = backendOf([key]).name;
    const scalar = typeof a === "number";
    if (!scalar && !(a instanceof Array))
      throw new ShapeError(`choice: a must be an integer or an array, got ${describe(a)}`);
    if (scalar && (!Number.isInteger(a) || a < 0))
      throw new ShapeError(`choice: a must be a non-negative integer, got ${a}`);
    const arr = scalar ? null : (a as Array);
    const axis = arr ? normalizeAxis(opts.axis ?? 0, arr.ndim, "choice") : 0;
    const nInputs = arr ? (arr.shape[axis] as number) : (a as number);
    const nDraws = sizeOf(shape);
    const outShape = arr ? [...arr.shape.slice(0, axis), ...shape, ...arr.shape.slice(axis + 1)] : shape;
    if (nDraws === 0) return full(outShape, 0, { dtype: arr?.dtype ?? "int32", backend });
    if (nInputs <= 0) throw new ShapeError("choice: a must be greater than 0 unless no samples are taken");
    if (!replace && nDraws > nInputs) {
      throw new ShapeError(
        `choice: cannot take a larger sample (size ${nDraws}) than the population (size ${nInputs}) when replace is false`,
      );
    }
    let ind: Array;
    if (!opts.p) {
      if (replace) ind = randint(key, shape, 0, nInputs);
      else {
        const perm = permutation(key, nInputs);
        ind = bind1("slice", [perm], { start: [0], limit: [nDraws], strides: [1] });
        if (!arr) return reshape(ind, shape);
        return reshape(take(arr, ind, { axis }), outShape);
      }
    } else {
      const p = opts.p;
      if (p.dtype !== "float32" || p.ndim !== 1 || p.shape[0] !== nInputs) {
        throw new DTypeError(`choice: p must be float32 of shape [${nInputs}] (a.shape[axis]), got ${fmtAval(p.aval)}`);
      }
      if (replace) {
        const cumulative = cumsum(p);
        const total = bind1("slice", [cumulative], { start: [nInputs - 1], limit: [nInputs], strides: [1] });
        const r = multiply(reshape(total, []), subtract(1, uniform(key, shape)));
        ind = searchsorted(cumulative, r);
      } else {
        // Gumbel top-k: the n smallest of −gumbel − log p.
        const g = subtract(negative(gumbel(key, [nInputs])), log(p));
        ind = reshape(bind1("slice", [argsort(g)], { start: [0], limit: [nDraws], strides: [1] }), shape);
      }
    }
    if (!arr) return ind;
    return reshape(take(arr, ind, { axis }), outShape);
  });
}
