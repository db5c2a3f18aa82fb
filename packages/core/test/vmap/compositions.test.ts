/**
 * fast-check-generated compositions: random chains of primitives (elementwise, dots against
 * shared weights, scans, sorts, views, takes, windows, reductions) under vmap with random in/out
 * axes, against the explicit loop, and the same chains under vmap(grad).
 */
import { grad, type Array as JArray, lax, np, vmap } from "@webjax/core";
import { checkVmap, rng } from "@webjax/test-utils";
import fc from "fast-check";
import { expect, test } from "vitest";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS) || 40;

const values = (seed: number, ...shape: number[]) => {
  const next = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(
    Float32Array.from({ length: n }, () => Math.round((next() * 2 - 1) * 16) / 16),
    { shape },
  );
};

/** Steps that keep a [3, 4] operand [3, 4]; shared values are closed over (unbatched). */
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
  ];
}

const chainArb = fc.record({
  ops: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 2, maxLength: 5 }),
  inAxis: fc.integer({ min: -3, max: 2 }),
  outAxis: fc.integer({ min: -3, max: 2 }),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

test("random chains of primitives under vmap equal the loop", async () => {
  await fc.assert(
    fc.asyncProperty(chainArb, async ({ ops, inAxis, outAxis, seed }) => {
      const all = steps(seed);
      const f = (x: JArray) => ops.reduce((v, k) => (all[k] as (x: JArray) => JArray)(v), x);
      const ax = inAxis < 0 ? inAxis + 3 : inAxis;
      const shape = [3, 4];
      shape.splice(ax, 0, 5);
      using x = values(seed, ...shape);
      await checkVmap(f, [x], { inAxes: [inAxis], outAxes: outAxis, rtol: 1e-4, atol: 1e-4 });
    }),
    { numRuns: RUNS },
  );
}, 120_000);

test("the same chains under vmap(grad) equal the loop of gradients", async () => {
  await fc.assert(
    fc.asyncProperty(chainArb, async ({ ops, inAxis, seed }) => {
      const all = steps(seed);
      // sort and the masked where have kinks; the values here are distinct enough for both.
      const f = (x: JArray) => ops.reduce((v, k) => (all[k] as (x: JArray) => JArray)(v), x).sum();
      const ax = inAxis < 0 ? inAxis + 3 : inAxis;
      const shape = [3, 4];
      shape.splice(ax, 0, 4);
      using x = values(seed, ...shape);
      await checkVmap(grad(f), [x], { inAxes: [inAxis], outAxes: inAxis, rtol: 1e-3, atol: 1e-3 });
    }),
    { numRuns: Math.max(4, Math.floor(RUNS / 2)) },
  );
}, 120_000);

test("a chain is really batched (the output differs per member)", async () => {
  using x = values(3, 2, 3, 4);
  const f = (v: JArray) => np.sin(v).matmul(np.ones([4, 4]));
  using y = vmap(f)(x);
  const rows = (await y.toArray()) as number[][][];
  expect(rows[0]).not.toEqual(rows[1]);
});
