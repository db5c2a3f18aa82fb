/**
 * Mini-batches over a pytree of arrays that share a leading (example) axis, as a training loop
 * wants them: reshuffled every epoch from a fresh key, gathered on the arrays' device (the whole
 * set is never copied per epoch: each batch is one `take` of `batchSize` rows), and optionally
 * prefetched so the next batch is ready while the current step runs.
 */
import { type Array, devicePut, np, type PyTree, random, ShapeError, tree, WebjaxError } from "@webjax/core";

/** Options of `batches`. */
export interface BatchOptions {
  /** Examples per batch. */
  readonly batchSize: number;
  /** Shuffle each epoch (default false). Needs `key`. */
  readonly shuffle?: boolean;
  /** The PRNG key; epoch e shuffles with `foldIn(key, e)`, so every epoch has its own order. */
  readonly key?: Array;
  /** Drop the last, smaller batch (default false). */
  readonly dropRemainder?: boolean;
}

/**
 * An epoch-aware iterable of batches. Iterating it again starts the next epoch (a fresh
 * shuffle); `epoch(e)` gives epoch e's batches explicitly (for resuming at a known epoch).
 */
export interface Batches<T> extends Iterable<T> {
  /** The number of examples. */
  readonly size: number;
  /** Batches per epoch. */
  readonly numBatches: number;
  /** The batches of epoch `e` (0-based), in that epoch's order. */
  epoch(e: number): Iterable<T>;
}

/** `tree.map` over a data tree whose leaves are Arrays, keeping its type. */
export function mapLeaves<T>(f: (leaf: Array) => Array, data: T): T {
  return tree.map((l: unknown) => f(l as Array), data as PyTree) as T;
}

/** The common leading dimension of a data tree's leaves, or a ShapeError naming the leaves. */
export function numExamples(op: string, data: unknown): number {
  const leaves = tree.leavesWithPath(data as PyTree);
  if (leaves.length === 0) throw new ShapeError(`${op}: the data holds no arrays`);
  let n: number | undefined;
  for (const [path, leaf] of leaves) {
    if (typeof leaf !== "object" || leaf === null || !("shape" in leaf)) {
      throw new ShapeError(`${op}: every leaf must be an Array with a leading example axis; ${path} is ${typeof leaf}`);
    }
    const a = leaf as Array;
    if (a.ndim === 0) throw new ShapeError(`${op}: ${path} is a scalar; every leaf needs a leading example axis`);
    const m = a.shape[0] as number;
    if (n === undefined) n = m;
    else if (m !== n) {
      const shapes = leaves.map(([p, l]) => `${p}: [${(l as Array).shape.join(",")}]`).join(", ");
      throw new ShapeError(`${op}: the leaves disagree on the number of examples (${shapes})`);
    }
  }
  return n as number;
}

/**
 * Batches of `data` (a pytree of arrays with a common leading axis, e.g. `{ x, y }`):
 *
 * ```ts
 * const ds = nn.data.batches({ x, y }, { batchSize: 32, shuffle: true, key });
 * for (let epoch = 0; epoch < 10; epoch++) for (const { x, y } of ds) state = step(state, x, y);
 * ```
 */
export function batches<T>(data: T, opts: BatchOptions): Batches<T> {
  const n = numExamples("batches", data);
  const bs = opts.batchSize;
  if (!Number.isInteger(bs) || bs < 1)
    throw new WebjaxError(`batches: batchSize must be a positive integer, got ${bs}`);
  if (opts.shuffle && !opts.key) throw new WebjaxError("batches: shuffle: true needs a PRNG key ({ key })");
  const drop = opts.dropRemainder ?? false;
  const numBatches = drop ? Math.floor(n / bs) : Math.ceil(n / bs);
  if (numBatches === 0) {
    throw new WebjaxError(`batches: ${n} examples make no batch of ${bs} with dropRemainder: true`);
  }
  const epoch = (e: number): Iterable<T> => ({
    *[Symbol.iterator]() {
      const order = opts.shuffle ? random.permutation(random.foldIn(opts.key as Array, e), n) : null;
      for (let b = 0; b < numBatches; b++) {
        const start = b * bs;
        const end = Math.min(start + bs, n);
        if (order === null) {
          yield mapLeaves((leaf) => leaf.slice([start, end]), data);
        } else {
          const idx = order.slice([start, end]);
          yield mapLeaves((leaf) => np.take(leaf, idx, { axis: 0 }), data);
        }
      }
    },
  });
  let next = 0;
  return {
    size: n,
    numBatches,
    epoch,
    [Symbol.iterator]() {
      return epoch(next++)[Symbol.iterator]();
    },
  };
}

/** Options of `prefetch`. */
export interface PrefetchOptions {
  /** Batches kept in flight ahead of the consumer (default 2). */
  readonly size?: number;
  /** Move each batch to this backend ("webgpu") while the previous one is consumed. */
  readonly backend?: string;
}

/**
 * Prefetching (tf.data's `prefetch`): keeps `size` batches in flight ahead of the loop, so the
 * next batch's gather (and, with `backend`, its upload) overlaps the current step.
 *
 * ```ts
 * for await (const batch of nn.data.prefetch(ds, { backend: "webgpu" })) state = step(state, batch);
 * ```
 */
export async function* prefetch<T>(
  source: Iterable<T> | AsyncIterable<T>,
  opts: PrefetchOptions = {},
): AsyncGenerator<T> {
  const size = opts.size ?? 2;
  if (!Number.isInteger(size) || size < 1)
    throw new WebjaxError(`prefetch: size must be a positive integer, got ${size}`);
  const move = async (b: T): Promise<T> => {
    if (opts.backend === undefined) return b;
    const [leaves, def] = tree.flatten(b);
    const moved = await Promise.all(leaves.map((l) => devicePut(l as Array, opts.backend as string)));
    return def.unflatten(moved) as T;
  };
  const it =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (source as Iterable<T>)[Symbol.iterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  const pull = () =>
    queue.push(
      Promise.resolve(it.next()).then(async (r) => (r.done ? r : { done: false, value: await move(r.value) })),
    );
  for (let i = 0; i < size; i++) pull();
  while (queue.length > 0) {
    const r = await (queue.shift() as Promise<IteratorResult<T>>);
    if (r.done) return;
    pull();
    yield r.value;
  }
}
