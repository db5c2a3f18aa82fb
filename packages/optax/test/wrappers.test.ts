/**
 * applyIfFinite, multiSteps and reduceOnPlateau against real optax (fixtures/optax.json), eager
 * and jitted; multiSteps(k = 4) equals one step on the mean gradient; maxNorm by hand.
 */
import { readFileSync } from "node:fs";
import { grad, type Array as JArray, jit, np, vmap } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import {
  adam,
  applyIfFinite,
  applyUpdates,
  type GradientTransformation,
  maxNorm,
  multiSteps,
  perExampleGlobalNormClip,
  reduceOnPlateau,
  sgd,
} from "../src/index.js";

interface Tree {
  w: number[][];
  b: number[];
}
interface Step {
  updates: Tree;
  params: Tree;
  total_notfinite?: number;
}
const fx = JSON.parse(readFileSync(new URL("fixtures/optax.json", import.meta.url), "utf8")) as {
  params0: Tree;
  grads: Tree[];
  apply_if_finite: Step[];
  multi_steps: Step[];
  plateau_values: number[];
  plateau: Record<string, number[]>;
  per_example: unknown;
};
const toArrays = (t: Tree) => ({ w: np.array(t.w), b: np.array(t.b) });

async function expectTree(got: { w: JArray; b: JArray }, want: Tree, what: string) {
  for (const k of ["w", "b"] as const) {
    const g = (await got[k].data()) as Float32Array;
    (want[k] as number[] | number[][]).flat().forEach((v, i) => {
      if (!(Math.abs((g[i] as number) - v) <= 2e-5 * Math.abs(v) + 1e-7)) {
        throw new Error(`${what} ${k}[${i}]: got ${g[i]}, optax ${v}`);
      }
    });
  }
}

async function runSteps(
  tx: GradientTransformation,
  grads: { w: JArray; b: JArray }[],
  want: Step[],
  mode: "eager" | "jit",
) {
  let params = toArrays(fx.params0);
  let state = tx.init(params);
  const step = (p: typeof params, s: unknown, g: typeof params) => {
    const [u, s2] = tx.update(g, s, p);
    return [u, applyUpdates(p, u), s2] as const;
  };
  const run = mode === "jit" ? jit(step) : step;
  for (const [t, g] of grads.entries()) {
    const [u, p, s] = run(params, state, g);
    await expectTree(u, (want[t] as Step).updates, `${mode} step ${t} updates`);
    await expectTree(p, (want[t] as Step).params, `${mode} step ${t} params`);
    const total = (want[t] as Step).total_notfinite;
    if (total !== undefined) expect(await (s as { totalNotfinite: JArray }).totalNotfinite.item()).toBe(total);
    params = p;
    state = s;
  }
}

describe("wrappers against optax", () => {
  test("applyIfFinite skips NaN steps, counts them, keeps the inner state", async () => {
    // Steps 2 and 3 carry a NaN (the fixture's in w[0, 0]; here in all of row 0: skipped alike).
    const grads = [0, 1, 2, 3, 4].map((t) => {
      const g = toArrays(fx.grads[t] as Tree);
      return t === 2 || t === 3 ? { w: g.w.at([0]).set(g.w.slice([0, 1]).mul(Number.NaN)), b: g.b } : g;
    });
    for (const mode of ["eager", "jit"] as const) {
      await runSteps(applyIfFinite(adam(1e-2), 2), grads, fx.apply_if_finite.slice(0, 5), mode);
    }
  });

  test("multiSteps(adam, 4): exactly zero updates until the fourth, then the mean's step", async () => {
    const grads = [0, 1, 2, 3, 4, 5, 6, 7].map((t) => toArrays(fx.grads[t % 5] as Tree));
    for (const mode of ["eager", "jit"] as const)
      await runSteps(multiSteps(adam(1e-2), 4), grads, fx.multi_steps, mode);
  });

  test("multiSteps with k = 4 equals one step on the mean of the 4 gradients", async () => {
    const grads = [0, 1, 2, 3].map((t) => toArrays(fx.grads[t] as Tree));
    const ms = multiSteps(sgd(0.1, { momentum: 0.9 }), 4);
    let p = toArrays(fx.params0);
    let s = ms.init(p);
    for (const g of grads) {
      const [u, s2] = ms.update(g, s, p);
      p = applyUpdates(p, u);
      s = s2;
    }
    expect(await ms.hasUpdated(s).item()).toBe(1);
    const one = sgd(0.1, { momentum: 0.9 });
    const p0 = toArrays(fx.params0);
    const mean = {
      w: grads
        .map((g) => g.w)
        .reduce((a, b) => a.add(b))
        .div(4),
      b: grads
        .map((g) => g.b)
        .reduce((a, b) => a.add(b))
        .div(4),
    };
    const [u] = one.update(mean, one.init(p0), p0);
    const q = applyUpdates(p0, u);
    await expectClose(p.w, await q.w.toArray(), { rtol: 1e-6 });
    await expectClose(p.b, await q.b.toArray(), { rtol: 1e-6 });
  });

  test("reduceOnPlateau reproduces optax's scale trajectory on a scripted loss", async () => {
    const configs = {
      patience2_cooldown1_factor05: { patience: 2, cooldown: 1, factor: 0.5 },
      accumulation2_patience1: { patience: 1, factor: 0.5, accumulationSize: 2 },
      min_scale: { patience: 1, factor: 0.5, minScale: 0.2, rtol: 0, atol: 0.01 },
    };
    for (const [name, opts] of Object.entries(configs)) {
      const tx = reduceOnPlateau(opts);
      const p = toArrays(fx.params0);
      let s = tx.init(p);
      const step = jit((st: typeof s, v: number) => tx.update(toArrays(fx.grads[0] as Tree), st, p, { value: v }));
      const scales: number[] = [];
      for (const v of fx.plateau_values) {
        const [u, s2] = step(s, v);
        s = s2;
        scales.push(await s.scale.item());
        // The updates are scaled by it.
        await expectClose(
          u.b,
          await np
            .array((fx.grads[0] as Tree).b)
            .mul(s.scale)
            .toArray(),
          { rtol: 1e-6 },
        );
      }
      expect(scales, name).toEqual((fx.plateau[name] as number[]).map((x) => Math.fround(x)));
    }
    expect(() => reduceOnPlateau().update({}, reduceOnPlateau().init({}))).toThrow(/pass the monitored value/);
  });
});

describe("perExampleGlobalNormClip (DP-SGD)", () => {
  test("clips each example's gradient to the norm and sums them, as optax; works on vmap(grad) output", async () => {
    const pe = fx.per_example as {
      grads: { w: number[][]; b: number[][] };
      sum: { w: number[]; b: number[] };
      clipped: number;
    };
    const [sum, n] = perExampleGlobalNormClip({ w: np.array(pe.grads.w), b: np.array(pe.grads.b) }, 1.5);
    const s = sum as { w: JArray; b: JArray };
    await expectClose(s.w, pe.sum.w, { rtol: 1e-5 });
    await expectClose(s.b, pe.sum.b, { rtol: 1e-5 });
    expect(await n.item()).toBe(pe.clipped);
    // Per-example gradients of a least-squares loss, from vmap(grad).
    const xs = np.array([
      [1, 2],
      [3, -1],
      [0.5, 0.5],
    ]);
    const ys = np.array([1, -2, 0]);
    const w = np.array([0.1, 0.2]);
    const per = vmap((x: JArray, y: JArray) => grad((v: JArray) => np.square(x.dot(v).sub(y)))(w))(xs, ys);
    const [clipped] = perExampleGlobalNormClip(per, 1);
    const rows = (await per.toArray()) as number[][];
    const want = rows.reduce(
      (acc, r) => {
        const norm = Math.hypot(...r);
        const m = Math.min(1 / norm, 1);
        return acc.map((a, i) => a + m * (r[i] as number));
      },
      [0, 0],
    );
    await expectClose(clipped as JArray, want, { rtol: 1e-5 });
  });
});

describe("maxNorm", () => {
  test("scales each unit's incoming weights down to norm r after the step; biases untouched", async () => {
    const p = {
      k: np.array([
        [3, 0.1],
        [4, 0.2],
      ]),
      b: np.array([5, 5]),
    };
    const u = { k: np.zeros([2, 2]), b: np.zeros([2]) };
    const tx = maxNorm(2);
    const [d] = tx.update(u, tx.init(p), p);
    const q = applyUpdates(p, d);
    // Column 0 has norm 5 → scaled to 2: (1.2, 1.6); column 1 (norm 0.22) stays.
    await expectClose(
      q.k,
      [
        [1.2, 0.1],
        [1.6, 0.2],
      ],
      { rtol: 1e-6 },
    );
    await expectClose(q.b, [5, 5]);
  });
});
