/**
 * DP-SGD's pieces: `vmap(grad(loss))` gives each example's gradient (checked against a JS loop
 * of `grad` over one-example batches, rtol 1e-5 / atol 1e-6 in float32), the hand clip leaves
 * every norm ≤ C and agrees with `optax.perExampleGlobalNormClip`, DP training beats chance,
 * with no noise and a clip that never binds a DP step is an SGD step, and the noise has std σC/B.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Array, grad, np, type PyTree, random, tree } from "@webjax/core";
import { losses, perExampleGlobalNormClip } from "@webjax/optax";
import { expectClose } from "@webjax/test-utils";
import { afterAll, describe, expect, test } from "vitest";
import {
  clipPerExample,
  dpSgdStep,
  perExampleGradients,
  perExampleNorms,
  run,
  smallMlp,
} from "../../src/examples/per-example-gradients.js";

const out = mkdtempSync(join(tmpdir(), "webjax-dp-sgd-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const model = smallMlp(8);
const x = random.normal(random.key(0), [6, 784]);
const y = random.randint(random.key(1), [6], 0, 10);
const vars = model.init(random.key(2), x);
/** One batch's mean loss, written separately from the example's per-example loss. */
const batchLoss = (p: PyTree, xb: Array, yb: Array) =>
  losses.softmaxCrossEntropyWithIntegerLabels(model.apply({ params: p, state: vars.state }, xb)[0], yb).mean();

describe("per-example gradients example", () => {
  test("vmap(grad) per example equals a JS loop of grad over one-example batches", async () => {
    const per = perExampleGradients(model, vars.state)(vars.params, x, y);
    const [leaves, paths] = [tree.leaves(per) as Array[], tree.leavesWithPath(per).map(([p]) => p)];
    expect(paths.sort()).toEqual(["dense_0/bias", "dense_0/kernel", "dense_2/bias", "dense_2/kernel"]);
    for (let i = 0; i < 6; i++) {
      const gi = grad(batchLoss)(vars.params, x.slice([i, i + 1]), y.slice([i, i + 1]));
      const want = tree.leaves(gi) as Array[];
      for (let l = 0; l < leaves.length; l++) {
        await expectClose((leaves[l] as Array).slice(i), await (want[l] as Array).data(), { rtol: 1e-5, atol: 1e-6 });
      }
    }
  });

  test("the hand clip leaves every norm ≤ C, keeps the small ones, and sums as optax's", async () => {
    const per = perExampleGradients(model, vars.state)(vars.params, x, y);
    const norms = [...(await perExampleNorms(per).data())];
    // The norms by hand over the leaves' numbers.
    const flat = await Promise.all((tree.leaves(per) as Array[]).map((l) => l.data()));
    const byHand = [0, 1, 2, 3, 4, 5].map((i) =>
      Math.sqrt(
        flat.reduce((s, d) => {
          const k = d.length / 6;
          let acc = 0;
          for (let j = i * k; j < (i + 1) * k; j++) acc += (d[j] as number) ** 2;
          return s + acc;
        }, 0),
      ),
    );
    norms.forEach((nv, i) => {
      expect(nv).toBeCloseTo(byHand[i] as number, 4);
    });
    const c = [...norms].sort((a, b) => a - b)[2] as number; // the median: half are clipped
    const clipped = clipPerExample(per, c);
    const after = [...(await perExampleNorms(clipped).data())];
    after.forEach((a, i) => {
      expect(a).toBeLessThanOrEqual(c * (1 + 1e-5));
      expect(a).toBeCloseTo(Math.min(norms[i] as number, c), 4);
    });
    const [sum, count] = perExampleGlobalNormClip(per, c);
    expect(await count.item()).toBe(3);
    const mine = tree.leaves(clipped) as Array[];
    const theirs = tree.leaves(sum) as Array[];
    for (let l = 0; l < mine.length; l++) {
      await expectClose((theirs[l] as Array).reshape([-1]), await (mine[l] as Array).sum(0).reshape([-1]).data(), {
        rtol: 1e-5,
        atol: 1e-6,
      });
    }
  });

  test("DP-SGD trains above chance with every clipped norm ≤ C", { timeout: 60_000 }, async () => {
    const r = await run({ limit: 1500, steps: 40, batchSize: 64, testLimit: 400, out, seed: 0 });
    expect(r.dpAccuracy).toBeGreaterThan(0.3); // chance is 0.1
    expect(r.sgdAccuracy).toBeGreaterThan(0.5);
    expect(r.clippedFraction).toBeGreaterThan(0.5); // at C = 1 most per-example gradients are clipped
    expect(r.check).toHaveLength(2);
    for (const k of r.check) {
      expect(k.allWithinClip).toBe(true);
      expect(k.maxClippedNorm).toBeLessThanOrEqual(1 + 1e-5);
      expect(k.maxNorm).toBeGreaterThan(1);
      expect(k.sumDiscrepancy).toBeLessThan(1e-4);
    }
  });

  test("a DP-SGD step with σ = 0 and a clip that never binds is an SGD step on the mean loss", async () => {
    const lr = 0.5;
    const step = dpSgdStep(model, vars.state, { clip: 1e6, noise: 0, learningRate: lr, batchSize: 6 });
    const copy = tree.map((a: unknown) => (a as Array).add(0), vars.params) as PyTree;
    const [next, clipped] = step(copy, x, y, random.key(3));
    expect(await clipped.item()).toBe(0);
    const g = grad(batchLoss)(vars.params, x, y);
    const want = tree.map((p: unknown, gi: unknown) => (p as Array).sub((gi as Array).mul(lr)), vars.params, g);
    const [got, exp] = [tree.leaves(next) as Array[], tree.leaves(want) as Array[]];
    for (let l = 0; l < got.length; l++) {
      await expectClose(got[l] as Array, await (exp[l] as Array).data(), { rtol: 1e-5, atol: 1e-6 });
    }
  });

  test("the noise has std σ·C/B: one step's update minus the noiseless one", async () => {
    const o = { clip: 0.5, learningRate: 1, batchSize: 6 };
    const base = dpSgdStep(model, vars.state, { ...o, noise: 0 });
    const noisy = dpSgdStep(model, vars.state, { ...o, noise: 2 });
    const copy = () => tree.map((a: unknown) => (a as Array).add(0), vars.params) as PyTree;
    const [a] = base(copy(), x, y, random.key(4));
    const [b] = noisy(copy(), x, y, random.key(4));
    const diff = (tree.leaves(b) as Array[]).map((l, i) =>
      l.sub((tree.leaves(a) as Array[])[i] as Array).reshape([-1]),
    );
    const d = [...(await np.concatenate(diff).data())];
    const std = Math.sqrt(d.reduce((s, v) => s + v * v, 0) / d.length);
    // 6,370 noise draws: the sample std is within ±3% of σ·C/B = 2·0.5/6 with overwhelming probability.
    expect(std).toBeGreaterThan((1 / 6) * 0.95);
    expect(std).toBeLessThan((1 / 6) * 1.05);
  });
});
