/**
 * fast-check-generated chains of primitives (the vmap compositions' steps) through jit: the
 * program runs the same kernels in the same order (recorded from an eager run, then replayed),
 * so jit equals eager bit for bit, alone and composed with grad and vmap in every order.
 */
import { grad, type Array as JArray, jit, lax, np, vmap } from "@webjax/core";
import { rng } from "@webjax/test-utils";
import fc from "fast-check";
import { expect, test } from "vitest";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS) || 20;

const values = (seed: number, ...shape: number[]) => {
  const next = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(
    Float32Array.from({ length: n }, () => Math.round((next() * 2 - 1) * 16) / 16),
    { shape },
  );
};

/** Steps that keep a [3, 4] operand [3, 4]; the closed-over values become the program's consts. */
function steps(seed: number): ((x: JArray) => JArray)[] {
  const w = values(seed + 1, 4, 4).mul(0.5);
  const c = values(seed + 2, 3, 4);
  const idx = np.array(Int32Array.of(2, 0, -1));
  return [
    np.sin,
    (x) => x.mul(x).mul(0.5),
    (x) => x.add(c),
    (x) => np.cumsum(x, 1).mul(0.25),
    (x) => np.sort(x, { axis: 0 }),
    (x) => x.matmul(w),
    (x) => np.flip(x, 1),
    (x) => x.T.reshape([3, 4]),
    (x) => np.take(x, idx, { axis: 0 }),
    (x) => x.sub(x.max(1, { keepdims: true })),
    (x) => lax.reduceWindow(x, 0, "add", [1, 2], [1, 1], "SAME").mul(0.5),
    (x) => np.where(x.greater(0), x, x.mul(0.1)),
    (x) => x.at([1]).add(x.slice([0, 1]).reshape([1, 4])),
    (x) => x.add(np.eye(3, 4)).mul(np.arange(4)),
  ];
}

const chainArb = fc.record({
  ops: fc.array(fc.integer({ min: 0, max: 13 }), { minLength: 2, maxLength: 5 }),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

const same = async (a: JArray, b: JArray) => {
  expect(a.shape).toEqual(b.shape);
  expect(a.dtype).toBe(b.dtype);
  expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
};

test("random chains: jit, jit(grad), grad(jit), vmap(jit) and jit(vmap) equal eager bit for bit", async () => {
  await fc.assert(
    fc.asyncProperty(chainArb, async ({ ops, seed }) => {
      const all = steps(seed);
      const f = (x: JArray) => ops.reduce((v, k) => (all[k] as (x: JArray) => JArray)(v), x);
      const loss = (x: JArray) => f(x).sum();
      const x = values(seed, 3, 4);
      const xs = values(seed + 7, 2, 3, 4);
      const jf = jit(f);
      await same(jf(x), f(x)); // recorded from the eager run
      await same(jf(x.mul(-1)), f(x.mul(-1))); // replayed
      const xt = values(seed + 3, 4, 3).T; // another layout: a strided view, recorded again
      await same(jf(xt), f(xt));
      await same(jf(xt), f(xt));
      await same(jit(grad(loss))(x), grad(loss)(x));
      await same(grad(jit(loss))(x), grad(loss)(x));
      await same(vmap(jit(f))(xs), vmap(f)(xs));
      await same(jit(vmap(f))(xs), vmap(f)(xs));
    }),
    { numRuns: RUNS },
  );
}, 120_000);
