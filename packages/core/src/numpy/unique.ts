/**
 * `np.unique` and the array API's `uniqueValues`/`uniqueCounts`/`uniqueInverse`/`uniqueAll`,
 * as JAX's: the flattened array is sorted once (the `sort` routine, O(n log n)); group starts
 * are where a sorted value differs from the one before; a cumulative sum numbers the groups;
 * scatters place values, first indices and counts into the (static or read) output size.
 *
 * The number of unique values depends on the data. Under a transform `size` is required (as in
 * JAX); eagerly it is read synchronously where the backend can, and otherwise `size` is asked for.
 */
import type { Array, ArrayLike } from "../array.js";
import { ConcreteArray } from "../core/concrete.js";
import { scoped } from "../core/scope.js";
import { bind, bind1 } from "../core/trace.js";
import { BackendError, ShapeError, TracerError } from "../errors.js";
import { backendOf, prepare } from "./convert.js";
import { full, zeros } from "./creation.js";
import { cumsum } from "./cumulative.js";
import { logicalAnd, logicalNot, notEqual, subtract, where } from "./elementwise.js";
import { concatenate } from "./join.js";
import { isnan } from "./math.js";
import { checkOptions } from "./options.js";
import { reshape } from "./shape.js";

export interface UniqueOptions {
  /** Also return the index of each unique value's first occurrence (in x flattened). */
  returnIndex?: boolean;
  /** Also return, for each element of x, the index of its unique value (x's shape). */
  returnInverse?: boolean;
  /** Also return how often each unique value occurs. */
  returnCounts?: boolean;
  /** NaNs count as one value (default true, as JAX); false makes each NaN its own. */
  equalNan?: boolean;
  /**
   * A static number of outputs (required under a transform): fewer unique values are padded
   * with `fillValue`, more are cut to the `size` smallest.
   */
  size?: number;
  /** The padding value (default: the smallest value); the index padding is that value's index. */
  fillValue?: number;
}

/** The parts of a unique computation, all computed. */
export interface UniqueAll {
  values: Array;
  indices: Array;
  inverseIndices: Array;
  counts: Array;
}

type Flags = { returnIndex?: false; returnInverse?: false; returnCounts?: false };

function countOf(op: string, last: Array): number {
  if (!(last instanceof ConcreteArray)) {
    throw new TracerError(
      `${op}: the number of unique values depends on the data, so under a transform pass { size } (and fillValue), as in JAX`,
    );
  }
  if (!last.backend.canReadSync) {
    throw new BackendError(
      `${op}: the number of unique values depends on the data, and the ${last.backend.name} backend cannot read it ` +
        "synchronously; pass { size } (and fillValue) for a fixed-size result",
    );
  }
  return (last.dataSync()[0] as number) + 1;
}

function uniqueParts(op: string, x: ArrayLike, opts: UniqueOptions): UniqueAll {
  checkOptions(op, opts, ["returnIndex", "returnInverse", "returnCounts", "equalNan", "size", "fillValue"]);
  const a = prepare(op, [x])[0] as Array;
  const n = a.size;
  const { size } = opts;
  if (size !== undefined && (!Number.isInteger(size) || size < 0)) {
    throw new ShapeError(`${op}: size must be a non-negative integer, got ${size}`);
  }
  const backend = backendOf([a]).name;
  const ints = { dtype: "int32" as const, backend };
  if (n === 0) {
    if (size && opts.fillValue === undefined) {
      throw new ShapeError(`${op}: an empty input with a nonzero size needs a fillValue`);
    }
    const s = size ?? 0;
    return {
      values: full([s], opts.fillValue ?? 0, { dtype: a.dtype, backend }),
      indices: zeros([s], ints),
      inverseIndices: zeros(a.shape, ints),
      counts: zeros([s], ints),
    };
  }
  const flat = reshape(a, [n]);
  const [sorted, perm] = bind("sort", [flat], { axis: 0, descending: false }) as [Array, Array];
  const prev = bind1("slice", [sorted], { start: [0], limit: [n - 1], strides: [1] });
  const next = bind1("slice", [sorted], { start: [1], limit: [n], strides: [1] });
  let changed = notEqual(next, prev);
  if (opts.equalNan ?? true) changed = logicalAnd(changed, logicalNot(logicalAnd(isnan(next), isnan(prev))));
  const starts = concatenate([full([1], true, { dtype: "bool", backend }), changed]);
  const group = subtract(cumsum(starts), 1);
  const s = size ?? countOf(op, bind1("slice", [group], { start: [n - 1], limit: [n], strides: [1] }));
  // Only group starts land (the rest aim past the end and are dropped), so each slot gets its group's first element.
  const slot = where(starts, group, s);
  const first = (v: Array) => bind1("slice", [v], { start: [0], limit: [1], strides: [1] });
  const pad = (fill: Array | number, like: Array) =>
    typeof fill === "number"
      ? full([s], fill, { dtype: like.dtype, backend })
      : bind1("broadcast_in_dim", [fill], { shape: [s], broadcastDimensions: [0] });
  const scatter = (base: Array, idx: Array, upd: Array, mode: "set" | "add") =>
    bind1("scatter", [base, idx, upd], { axis: 0, mode });
  return {
    values: scatter(pad(opts.fillValue ?? first(sorted), sorted), slot, sorted, "set"),
    indices: scatter(pad(first(perm), perm), slot, perm, "set"),
    inverseIndices: reshape(scatter(zeros([n], ints), perm, group, "set"), a.shape),
    counts: scatter(zeros([s], ints), group, full([n], 1, ints), "add"),
  };
}

/**
 * The sorted unique values of `x` (flattened), as `jnp.unique`; with `returnIndex`,
 * `returnInverse`, `returnCounts` a list [values, indices?, inverse?, counts?] in that order.
 *
 * @example np.unique(np.array([3, 1, 3]), { returnCounts: true })  // [[1, 3], [1, 2]]
 */
export function unique(x: ArrayLike, opts?: UniqueOptions & Flags): Array;
export function unique(x: ArrayLike, opts: UniqueOptions): Array[];
export function unique(x: ArrayLike, opts: UniqueOptions = {}): Array | Array[] {
  return scoped(() => {
    const p = uniqueParts("unique", x, opts);
    const out = [p.values];
    if (opts.returnIndex) out.push(p.indices);
    if (opts.returnInverse) out.push(p.inverseIndices);
    if (opts.returnCounts) out.push(p.counts);
    return out.length === 1 ? p.values : out;
  });
}

type SizeOptions = Pick<UniqueOptions, "size" | "fillValue" | "equalNan">;

/** The array API's `unique_values`: the sorted unique values. */
export function uniqueValues(x: ArrayLike, opts: SizeOptions = {}): Array {
  return scoped(() => uniqueParts("uniqueValues", x, opts).values);
}

/** The array API's `unique_counts`: the unique values and how often each occurs. */
export function uniqueCounts(x: ArrayLike, opts: SizeOptions = {}): { values: Array; counts: Array } {
  return scoped(() => {
    const p = uniqueParts("uniqueCounts", x, opts);
    return { values: p.values, counts: p.counts };
  });
}

/** The array API's `unique_inverse`: the unique values and each element's index among them (x's shape). */
export function uniqueInverse(x: ArrayLike, opts: SizeOptions = {}): { values: Array; inverseIndices: Array } {
  return scoped(() => {
    const p = uniqueParts("uniqueInverse", x, opts);
    return { values: p.values, inverseIndices: p.inverseIndices };
  });
}

/** The array API's `unique_all`: values, first indices, inverse indices and counts. */
export function uniqueAll(x: ArrayLike, opts: SizeOptions = {}): UniqueAll {
  return scoped(() => uniqueParts("uniqueAll", x, opts));
}
