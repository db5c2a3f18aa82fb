/**
 * fast-check-generated chains of primitives (the vmap compositions' steps) through jit: the
 * program runs the same kernels in the same order (recorded from an eager run, then replayed),
 * so jit equals eager bit for bit, alone and composed with grad and vmap in every order.
 */
import { grad, type Array as JArray, jit, np, vmap } from "@webjax/core";
import fc from "fast-check";
import { expect, test } from "vitest";
import { steps, values } from "../chain-steps.js";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS) || 20;

/** The shared links plus one of creation functions, which jit stages as equations. */
const jitSteps = (seed: number): ((x: JArray) => JArray)[] => [
  ...steps(seed),
  (x) => x.add(np.eye(3, 4)).mul(np.arange(4)),
];

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
      const all = jitSteps(seed);
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
