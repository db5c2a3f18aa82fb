import { memoryStats } from "@webjax/core";
import { describe, expect, test } from "vitest";
import { makeBlobs } from "../src/data.js";
import { fitLogisticRegression } from "../src/logistic-regression.js";

/** The same gradient descent in plain float64 JS: an independent reference. */
function referenceFit(steps: number, lr: number, samples: number): { w: number[]; b: number } {
  const { x, y, n } = makeBlobs(samples, 0);
  let w0 = 0;
  let w1 = 0;
  let b = 0;
  for (let s = 0; s < steps; s++) {
    let g0 = 0;
    let g1 = 0;
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const z = (x[2 * i] as number) * w0 + (x[2 * i + 1] as number) * w1 + b;
      const e = 1 / (1 + Math.exp(-z)) - (y[i] as number);
      g0 += e * (x[2 * i] as number);
      g1 += e * (x[2 * i + 1] as number);
      gb += e;
    }
    w0 -= (lr * g0) / n;
    w1 -= (lr * g1) / n;
    b -= (lr * gb) / n;
  }
  return { w: [w0, w1], b };
}

describe("the README's logistic regression", () => {
  test("matches a float64 reference of the same gradient descent", async () => {
    const got = await fitLogisticRegression({ steps: 60, learningRate: 0.5, samples: 256 });
    const want = referenceFit(60, 0.5, 256);
    got.w.forEach((v, i) => expect(v).toBeCloseTo(want.w[i] as number, 4));
    expect(got.b).toBeCloseTo(want.b, 4);
  });

  test("the loss falls and the blobs are separated", async () => {
    const losses: number[] = [];
    const r = await fitLogisticRegression({ steps: 200, logEvery: 50, log: (_, l) => losses.push(l) });
    expect(losses[0]).toBeCloseTo(Math.log(2), 5);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1] as number);
    expect(r.accuracy).toBeGreaterThan(0.85);
  });

  test("live bytes at step 100 equal those at step 10,000 (using + await in the loop)", async () => {
    const live: Record<number, number> = {};
    const before = memoryStats().cpu?.liveBytes ?? 0;
    await fitLogisticRegression({
      steps: 10_000,
      samples: 64,
      onStep: (step) => {
        if (step === 100 || step === 10_000) live[step] = memoryStats().cpu?.liveBytes ?? -1;
      },
    });
    expect(live[100]).toBeGreaterThan(0);
    expect(live[10_000]).toBe(live[100]);
    expect(memoryStats().cpu?.liveBytes).toBe(before);
  }, 120_000);
});
