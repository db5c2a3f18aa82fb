/**
 * fast-check-generated compositions: random chains of primitives (elementwise, dots against
 * shared weights, scans, sorts, views, takes, windows, reductions) under vmap with random in/out
 * axes, against the explicit loop, and the same chains under vmap(grad).
 */
import { grad, type Array as JArray, np, vmap } from "@webjax/core";
import { checkVmap } from "@webjax/test-utils";
import fc from "fast-check";
import { expect, test } from "vitest";
import { steps, values } from "../chain-steps.js";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS) || 40;

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
