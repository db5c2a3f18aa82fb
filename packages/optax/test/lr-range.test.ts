/**
 * lrRangeTest on a problem whose divergence point is known: for L(w) = Σ(w − c)², plain SGD's
 * factor per step is |1 − 2η|, so it converges for η < 1 and diverges beyond. Two batches with
 * c = 2 and c = 4 keep the loss off zero (a noiseless quadratic is solved exactly at η = ½).
 */
import { type Array as JArray, np } from "@webjax/core";
import { describe, expect, test } from "vitest";
import { adam, lrRangeTest } from "../src/index.js";

const loss = (p: { w: JArray }, c: number) => np.square(p.w.sub(c)).sum();

describe("lrRangeTest", () => {
  test("a geometric ramp; stops once the loss diverges (η past 1); the caller's params untouched", async () => {
    const params = { w: np.array([0, 1, -2]) };
    const r = await lrRangeTest(loss, params, [2, 4], { minLr: 1e-4, maxLr: 100, steps: 120 });
    expect(r.diverged).toBe(true);
    expect(r.lrs.length).toBeLessThan(120);
    const ratio = (100 / 1e-4) ** (1 / 119);
    r.lrs.slice(1).forEach((lr, i) => expect(lr / (r.lrs[i] as number)).toBeCloseTo(ratio, 10));
    expect(r.lrs[r.lrs.length - 1]).toBeGreaterThan(1); // divergence only past η = 1
    expect(r.minLossLr).toBeLessThan(1.5);
    expect(r.suggestedLr).toBeCloseTo(r.minLossLr / 10, 12);
    expect(r.losses.every((v, i) => i === r.losses.length - 1 || Number.isFinite(v))).toBe(true);
    expect(await params.w.toArray()).toEqual([0, 1, -2]);
  });

  test("with another optimiser, batches from a function, and bad arguments named", async () => {
    const r = await lrRangeTest(loss, { w: np.zeros([2]) }, (i) => (i % 2) + 2, {
      minLr: 1e-3,
      maxLr: 1,
      steps: 20,
      optimizer: (lr) => adam(lr),
    });
    expect(r.lrs).toHaveLength(20);
    expect(r.diverged).toBe(false);
    await expect(lrRangeTest(loss, { w: np.zeros([2]) }, [0], { minLr: 1, maxLr: 0.1 })).rejects.toThrow(
      /minLr < maxLr/,
    );
  });
});
