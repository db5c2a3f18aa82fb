/**
 * The custom chain (clip → Adam → weight decay on kernels → linear 1cycle → hand-written
 * lookahead): six steps on a tiny quadratic match the same optimiser written out in float64 JS
 * (tolerance rtol 1e-4: the library runs in float32), and a short run on the main job's model
 * trains, logs the 1cycle learning rate per epoch and passes every step through lookahead.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Array, grad, np, type PyTree } from "@webjax/core";
import { applyUpdates } from "@webjax/optax";
import { afterAll, describe, expect, test } from "vitest";
import { customOptimizer, kernelsOnly, lookahead, run } from "../../src/examples/custom-optimizer.js";

const out = mkdtempSync(join(tmpdir(), "webjax-custom-optimizer-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** optax's linear 1cycle, by hand: (0, peak/25) → (⌊0.3T⌋, peak) → (⌊0.85T⌋, peak/25) → (T, peak/25e4). */
function onecycle(t: number, total: number, peak: number): number {
  const pts: [number, number][] = [
    [0, peak / 25],
    [Math.trunc(0.3 * total), peak],
    [Math.trunc(0.85 * total), peak / 25],
    [total, peak / 25 / 1e4],
  ];
  for (let i = 0; i + 1 < pts.length; i++) {
    const [t0, v0] = pts[i] as [number, number];
    const [t1, v1] = pts[i + 1] as [number, number];
    if (t < t1) return v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
  }
  return (pts.at(-1) as [number, number])[1];
}

describe("custom optimizer example", () => {
  test("six steps on a quadratic equal clip → Adam → decay → 1cycle → lookahead written out by hand", async () => {
    const target = [1.5, -2, 0.5, 3, -1];
    const scale = [1, 4, 0.5, 2, 8]; // loss = ½ Σ aᵢ (θᵢ − θ*ᵢ)²: the first 4 a kernel, the last a bias
    const o = { steps: 10, peak: 0.3, clipNorm: 2, weightDecay: 0.1, syncPeriod: 2, alpha: 0.5 };
    const tx = customOptimizer(o);
    type P = { lin: { kernel: Array; bias: Array } };
    const loss = (p: P) => {
      const th = np.concatenate([p.lin.kernel.reshape([-1]), p.lin.bias]);
      return th.sub(np.array(target)).square().mul(np.array(scale)).sum().mul(0.5);
    };
    let params: P = {
      lin: {
        kernel: np.array([
          [0, 0],
          [0, 0],
        ]),
        bias: np.array([0]),
      },
    };
    let state = tx.init(params as PyTree);

    // The reference, float64.
    let th = [0, 0, 0, 0, 0];
    let m = [0, 0, 0, 0, 0];
    let v = [0, 0, 0, 0, 0];
    let slow = [...th];
    const isKernel = [true, true, true, true, false];
    for (let t = 0; t < 6; t++) {
      let g = th.map((x, i) => (scale[i] as number) * (x - (target[i] as number)));
      const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
      if (norm > o.clipNorm) g = g.map((x) => (x * o.clipNorm) / norm);
      m = m.map((mi, i) => 0.9 * mi + 0.1 * (g[i] as number));
      v = v.map((vi, i) => 0.999 * vi + 0.001 * (g[i] as number) ** 2);
      const c = t + 1;
      const lr = onecycle(t, o.steps, o.peak);
      const fast = th.map((x, i) => {
        const adam = (m[i] as number) / (1 - 0.9 ** c) / (Math.sqrt((v[i] as number) / (1 - 0.999 ** c)) + 1e-8);
        return x - lr * (adam + (isKernel[i] ? o.weightDecay * x : 0));
      });
      if (c % o.syncPeriod === 0) {
        slow = slow.map((s, i) => s + o.alpha * ((fast[i] as number) - s));
        th = [...slow];
      } else th = fast;

      const [u, s2] = tx.update(grad(loss)(params) as PyTree, state, params as PyTree);
      params = applyUpdates(params, u) as P;
      state = s2;
      const got = [...(await params.lin.kernel.data()), ...(await params.lin.bias.data())];
      got.forEach((x, i) => {
        expect(x, `step ${t}, θ${i}`).toBeCloseTo(th[i] as number, 4);
      });
      const injected = (state as { hyperparams: { learningRate: Array } }).hyperparams.learningRate;
      expect(await injected.item()).toBeCloseTo(lr, 6);
    }
  });

  test("lookahead alone: fast steps pass through; every k-th step lands on φ + α(θ + u − φ)", async () => {
    const tx = lookahead({ syncPeriod: 3, alpha: 0.25 });
    let p = np.array([1, 2]);
    let s = tx.init(p);
    const u = np.array([1, -1]);
    const seen: number[][] = [];
    for (let t = 0; t < 3; t++) {
      const [upd, s2] = tx.update(u, s, p);
      p = applyUpdates(p, upd) as Array;
      s = s2;
      seen.push([...(await p.data())]);
    }
    // φ₀ = [1, 2]; fast θ after 3 steps = [4, −1]; φ₁ = φ₀ + ¼(θ − φ₀) = [1.75, 1.25].
    expect(seen).toEqual([
      [2, 1],
      [3, 0],
      [1.75, 1.25],
    ]);
    expect(kernelsOnly({ d: { kernel: p, bias: p }, bn: { scale: p } })).toEqual({
      d: { kernel: true, bias: false },
      bn: { scale: false },
    });
  });

  test("trains the main job's model: accuracy improves, the 1cycle rate is logged, lookahead sees every step", {
    timeout: 60_000,
  }, async () => {
    const r = await run({ limit: 1500, epochs: 2, baseline: false, out, seed: 0 });
    // 1,350 training images, batches of 128: 11 steps an epoch, 22 in all.
    expect(r.trainSize).toBe(1350);
    expect(r.lookaheadSteps).toBe(22);
    expect(r.epochs).toHaveLength(2);
    const [e1, e2] = r.epochs as [(typeof r.epochs)[0], (typeof r.epochs)[0]];
    expect(e2.loss).toBeLessThan(e1.loss);
    expect(e2.accuracy).toBeGreaterThan(e1.accuracy);
    // The logged rate is the schedule at each epoch's last step (counts 10 and 21).
    expect(e1.learningRate).toBeCloseTo(onecycle(10, 22, 3e-3), 7);
    expect(e2.learningRate).toBeCloseTo(onecycle(21, 22, 3e-3), 7);
    expect(r.testAccuracy).toBeGreaterThan(0.5); // chance is 0.1
  });
});
