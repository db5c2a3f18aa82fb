import type { Backend } from "./backend/backend.js";
import type { Aval } from "./core/aval.js";
import type { DType, ValueArray } from "./dtype.js";
import { ShapeError, WebjaxError } from "./errors.js";
import type * as cumulativeFns from "./numpy/cumulative.js";
import type * as elementwiseFns from "./numpy/elementwise.js";
import type * as joinFns from "./numpy/join.js";
import type * as manipulationFns from "./numpy/manipulation.js";
import type * as mathFns from "./numpy/math.js";
import type * as sortingFns from "./numpy/sorting.js";
import type * as statsFns from "./numpy/stats.js";
import type { Shape } from "./shape.js";

/** Nested JS arrays of numbers or booleans (`[[1, 2], [3, 4]]`). */
export type NestedValues = readonly (number | boolean | NestedValues)[];

/**
 * What ops accept: an array, a JS number/boolean (a weakly typed scalar), or nested JS arrays
 * (weakly typed like JS numbers: they take the dtype of the arrays they meet).
 */
export type ArrayLike = Array | number | boolean | NestedValues;

/** An axis argument of reductions: one axis, several, or null/undefined for all. */
export type Axis = number | readonly number[] | null | undefined;

export interface ReduceOptions {
  axis?: Axis;
  keepdims?: boolean;
}

/** One entry of `slice`: an index (drops the axis), `[start, stop, step]` (each optional), or null (all). */
export type SliceIndex = number | readonly [(number | null)?, (number | null)?, (number | null)?] | null;

/** Nested JS arrays of numbers, as `toArray()` returns them. */
export type NestedArray = number | NestedArray[];

/** `x.at(idx)`: JAX's functional index updates (see `np.at`). */
export interface AtIndexer {
  /** x[i] (`mode`: out-of-range reads, as np.take's; with a mask, `size`/`fillValue` under a transform). */
  get(opts?: { mode?: "fill" | "clip" | "wrap" | "promise_in_bounds"; fillValue?: number; size?: number }): Array;
  set(values: ArrayLike, opts?: AtUpdateOptions): Array;
  add(values: ArrayLike, opts?: AtUpdateOptions): Array;
  mul(values: ArrayLike, opts?: AtUpdateOptions): Array;
  multiply(values: ArrayLike, opts?: AtUpdateOptions): Array;
  min(values: ArrayLike, opts?: AtUpdateOptions): Array;
  max(values: ArrayLike, opts?: AtUpdateOptions): Array;
}

/** Out-of-range indices of `x.at(i).set/add/…`: dropped (default) or clamped. */
export interface AtUpdateOptions {
  mode?: "drop" | "clip" | "promise_in_bounds";
}

/** The arguments of an np function after its array argument (so a method mirrors the function). */
type Rest<F> = F extends (x: never, ...rest: infer R) => unknown ? R : never;

/** The np functions that JAX arrays also have as methods. */
export interface MoreArrayMethods {
  all: typeof statsFns.all;
  any: typeof statsFns.any;
  var: typeof statsFns.variance;
  std: typeof statsFns.std;
  cumsum: typeof cumulativeFns.cumsum;
  cumprod: typeof cumulativeFns.cumprod;
  sort: typeof sortingFns.sort;
  argsort: typeof sortingFns.argsort;
  take: typeof joinFns.take;
  flatten: typeof manipulationFns.flatten;
  ravel: typeof manipulationFns.ravel;
  swapaxes: typeof manipulationFns.swapaxes;
  repeat: typeof manipulationFns.repeat;
  clip: typeof elementwiseFns.clip;
  round: typeof mathFns.round;
}

/** The ops behind Array's methods, installed by the numpy namespace (keeps imports acyclic). */
export interface ArrayMethods extends MoreArrayMethods {
  add(x: Array, y: ArrayLike): Array;
  subtract(x: Array, y: ArrayLike): Array;
  multiply(x: Array, y: ArrayLike): Array;
  divide(x: Array, y: ArrayLike): Array;
  power(x: Array, y: ArrayLike): Array;
  maximum(x: Array, y: ArrayLike): Array;
  minimum(x: Array, y: ArrayLike): Array;
  equal(x: Array, y: ArrayLike): Array;
  notEqual(x: Array, y: ArrayLike): Array;
  less(x: Array, y: ArrayLike): Array;
  lessEqual(x: Array, y: ArrayLike): Array;
  greater(x: Array, y: ArrayLike): Array;
  greaterEqual(x: Array, y: ArrayLike): Array;
  negative(x: Array): Array;
  abs(x: Array): Array;
  exp(x: Array): Array;
  log(x: Array): Array;
  sqrt(x: Array): Array;
  tanh(x: Array): Array;
  square(x: Array): Array;
  sum(x: Array, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array;
  mean(x: Array, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array;
  max(x: Array, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array;
  min(x: Array, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array;
  prod(x: Array, axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array;
  argmax(x: Array, axis?: number | null, opts?: { keepdims?: boolean }): Array;
  argmin(x: Array, axis?: number | null, opts?: { keepdims?: boolean }): Array;
  reshape(x: Array, shape: readonly number[]): Array;
  transpose(x: Array, axes?: readonly number[]): Array;
  broadcastTo(x: Array, shape: readonly number[]): Array;
  expandDims(x: Array, axis: number | readonly number[]): Array;
  squeeze(x: Array, axis?: number | readonly number[]): Array;
  slice(x: Array, indices: readonly SliceIndex[]): Array;
  astype(x: Array, dtype: DType): Array;
  matmul(x: Array, y: Array): Array;
  dot(x: Array, y: Array): Array;
  at(x: Array, indices: Array | number | readonly unknown[]): AtIndexer;
}

let methods: ArrayMethods | undefined;

/** Called once by the numpy namespace. */
export function installArrayMethods(m: ArrayMethods): void {
  methods = m;
}

function ops(): ArrayMethods {
  if (!methods) throw new WebjaxError("webjax: array methods used before @webjax/core finished loading");
  return methods;
}

/**
 * An immutable n-dimensional array. Shape and dtype are known synchronously; values are read
 * with `await x.data()`, `toArray()` or `item()`. Inside a transform the same type stands for a
 * traced value. No op mutates its inputs.
 */
export abstract class Array {
  abstract readonly aval: Aval;

  get shape(): Shape {
    return this.aval.shape;
  }
  get dtype(): DType {
    return this.aval.dtype;
  }
  /** True for values that came from bare JS numbers (they adopt the other operand's dtype). */
  get weakType(): boolean {
    return this.aval.weakType;
  }
  get ndim(): number {
    return this.aval.shape.length;
  }
  get size(): number {
    let n = 1;
    for (const d of this.aval.shape) n *= d;
    return n;
  }

  /** The values as a fresh typed array (Uint8Array of 0/1 for bool), once computed. */
  abstract data(): Promise<ValueArray>;
  /** The values now, where the backend can compute them on this thread; otherwise an error naming `data()`. */
  abstract dataSync(): ValueArray;
  /** The values as nested JS arrays. */
  abstract toArray(): Promise<NestedArray>;
  /** numpy's spelling of `toArray()`: the values as nested JS arrays (a number for a 0-d array). */
  tolist(): Promise<NestedArray> {
    return this.toArray();
  }
  /** The single value of a size-1 array. */
  abstract item(): Promise<number>;
  /** Waits until the value is computed, without reading it. */
  abstract blockUntilReady(): Promise<this>;
  /** Releases the array's buffer now (a second call does nothing). */
  abstract dispose(): void;
  /** Whether dispose() was called. */
  abstract readonly disposed: boolean;

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** @internal The backend this value lives on, where known (a tracer answers for its primal). */
  backendHint(): Backend | null {
    return null;
  }

  /** Throws: a JS comparison or `if` on an array would silently use a meaningless value. */
  abstract toPrimitiveError(): WebjaxError;

  [Symbol.toPrimitive](hint: string): string {
    if (hint === "string") return this.toString();
    throw this.toPrimitiveError();
  }

  // Arithmetic and comparisons (numpy semantics: broadcasting, promotion, weak JS numbers).
  add(y: ArrayLike): Array {
    return ops().add(this, y);
  }
  sub(y: ArrayLike): Array {
    return ops().subtract(this, y);
  }
  mul(y: ArrayLike): Array {
    return ops().multiply(this, y);
  }
  div(y: ArrayLike): Array {
    return ops().divide(this, y);
  }
  pow(y: ArrayLike): Array {
    return ops().power(this, y);
  }
  maximum(y: ArrayLike): Array {
    return ops().maximum(this, y);
  }
  minimum(y: ArrayLike): Array {
    return ops().minimum(this, y);
  }
  equal(y: ArrayLike): Array {
    return ops().equal(this, y);
  }
  notEqual(y: ArrayLike): Array {
    return ops().notEqual(this, y);
  }
  less(y: ArrayLike): Array {
    return ops().less(this, y);
  }
  lessEqual(y: ArrayLike): Array {
    return ops().lessEqual(this, y);
  }
  greater(y: ArrayLike): Array {
    return ops().greater(this, y);
  }
  greaterEqual(y: ArrayLike): Array {
    return ops().greaterEqual(this, y);
  }
  neg(): Array {
    return ops().negative(this);
  }
  abs(): Array {
    return ops().abs(this);
  }
  exp(): Array {
    return ops().exp(this);
  }
  log(): Array {
    return ops().log(this);
  }
  sqrt(): Array {
    return ops().sqrt(this);
  }
  tanh(): Array {
    return ops().tanh(this);
  }
  square(): Array {
    return ops().square(this);
  }

  // Reductions.
  sum(axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array {
    return ops().sum(this, axis, opts);
  }
  mean(axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array {
    return ops().mean(this, axis, opts);
  }
  max(axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array {
    return ops().max(this, axis, opts);
  }
  min(axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array {
    return ops().min(this, axis, opts);
  }
  prod(axis?: Axis | ReduceOptions, opts?: ReduceOptions): Array {
    return ops().prod(this, axis, opts);
  }
  argmax(axis?: number | null, opts?: { keepdims?: boolean }): Array {
    return ops().argmax(this, axis, opts);
  }
  argmin(axis?: number | null, opts?: { keepdims?: boolean }): Array {
    return ops().argmin(this, axis, opts);
  }

  // Movement (views eagerly) and conversions.
  reshape(shape: readonly number[]): Array {
    return ops().reshape(this, shape);
  }
  transpose(axes?: readonly number[]): Array {
    return ops().transpose(this, axes);
  }
  /** The transpose (all axes reversed). */
  get T(): Array {
    return ops().transpose(this);
  }
  broadcastTo(shape: readonly number[]): Array {
    return ops().broadcastTo(this, shape);
  }
  expandDims(axis: number | readonly number[]): Array {
    return ops().expandDims(this, axis);
  }
  squeeze(axis?: number | readonly number[]): Array {
    return ops().squeeze(this, axis);
  }
  /** numpy-style indexing: `x.slice(0, [1, null, 2], null)` is `x[0, 1::2, :]`. */
  slice(...indices: SliceIndex[]): Array {
    return ops().slice(this, indices);
  }
  /**
   * Iterates over the first axis, as JAX arrays do: `const [k1, k2] = random.split(key)`,
   * `for (const row of x)`. Each element is a view `x.slice(i)` owned by the caller; works
   * eagerly and under transforms. A zero-dimensional array is not iterable (a TypeError).
   */
  *[Symbol.iterator](): Iterator<Array> {
    if (this.ndim === 0) throw new TypeError(`iteration over a zero-dimensional array (${this.dtype}[]); use item()`);
    const n = this.shape[0] as number;
    for (let i = 0; i < n; i++) yield this.slice(i);
  }
  astype(dtype: DType): Array {
    return ops().astype(this, dtype);
  }
  matmul(y: Array): Array {
    return ops().matmul(this, y);
  }
  dot(y: Array): Array {
    return ops().dot(this, y);
  }
  /** np.all along `axis`. */
  all(...args: Rest<MoreArrayMethods["all"]>): Array {
    return ops().all(this, ...args);
  }
  /** np.any along `axis`. */
  any(...args: Rest<MoreArrayMethods["any"]>): Array {
    return ops().any(this, ...args);
  }
  /** np.var (with `ddof`). */
  var(...args: Rest<MoreArrayMethods["var"]>): Array {
    return ops().var(this, ...args);
  }
  /** np.std (with `ddof`). */
  std(...args: Rest<MoreArrayMethods["std"]>): Array {
    return ops().std(this, ...args);
  }
  /** np.cumsum (flattened when no axis is given). */
  cumsum(...args: Rest<MoreArrayMethods["cumsum"]>): Array {
    return ops().cumsum(this, ...args);
  }
  /** np.cumprod (flattened when no axis is given). */
  cumprod(...args: Rest<MoreArrayMethods["cumprod"]>): Array {
    return ops().cumprod(this, ...args);
  }
  /** np.sort (stable; along the last axis by default). */
  sort(...args: Rest<MoreArrayMethods["sort"]>): Array {
    return ops().sort(this, ...args);
  }
  /** np.argsort (stable; along the last axis by default). */
  argsort(...args: Rest<MoreArrayMethods["argsort"]>): Array {
    return ops().argsort(this, ...args);
  }
  /** np.take (the flattened array unless `axis`). */
  take(...args: Rest<MoreArrayMethods["take"]>): Array {
    return ops().take(this, ...args);
  }
  /** A 1-D copy-free view where possible. */
  flatten(): Array {
    return ops().flatten(this);
  }
  ravel(): Array {
    return ops().ravel(this);
  }
  swapaxes(...args: Rest<MoreArrayMethods["swapaxes"]>): Array {
    return ops().swapaxes(this, ...args);
  }
  repeat(...args: Rest<MoreArrayMethods["repeat"]>): Array {
    return ops().repeat(this, ...args);
  }
  /** np.clip: bounds may be null. */
  clip(...args: Rest<MoreArrayMethods["clip"]>): Array {
    return ops().clip(this, ...args);
  }
  /** Rounds half to even, at `decimals` places (np.round). */
  round(decimals = 0): Array {
    return ops().round(this, decimals);
  }
  /** Functional index update along axis 0: `x.at(idx).set(v)` is JAX's `x.at[idx].set(v)`. */
  at(indices: Array | number | readonly unknown[], ...more: unknown[]): AtIndexer {
    if (more.length > 0) {
      throw new ShapeError(
        `at: takes one index (along axis 0), got ${more.length + 1} arguments; for several axes ` +
          "use x.slice, lax.dynamicSlice or lax.gather",
      );
    }
    return ops().at(this, indices);
  }
}
