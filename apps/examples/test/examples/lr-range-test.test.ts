/**
 * The LR finder example on a small slice (2,000 images, a 30-step ramp): the smoothed loss of the
 * main job's model falls from its initial value, bottoms out, then rises as the learning rate
 * grows, and the suggested 1cycle peak lies inside the ramp, a decade below the turning point and
 * below where the run diverged.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MAX_LR, MIN_LR, run, smoothingFor, steepestDescentLr } from "../../src/examples/lr-range-test.js";

const out = mkdtempSync(join(tmpdir(), "webjax-lr-range-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the LR range test example", () => {
  test("the loss falls then rises along the ramp, and the suggested peak lies below the divergence", {
    timeout: 60_000,
  }, async () => {
    const steps = 30;
    const r = await run({ limit: 2000, steps, out, seed: 0 });
    const n = r.lrs.length;
    expect(n).toBeGreaterThan(10);
    expect(n).toBeLessThanOrEqual(steps);
    expect(r.losses).toHaveLength(n);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    // An exponential ramp: a constant ratio from MIN_LR, reaching MAX_LR at step `steps`.
    const factor = (MAX_LR / MIN_LR) ** (1 / (steps - 1));
    expect(r.lrs[0]).toBeCloseTo(MIN_LR, 12);
    for (let i = 1; i < n; i++) expect((r.lrs[i] as number) / (r.lrs[i - 1] as number)).toBeCloseTo(factor, 6);

    // Falls: the initial loss of a 10-class net is about ln 10 ≈ 2.3; the lowest is far below it.
    const first = r.losses[0] as number;
    expect(first).toBeGreaterThan(1.8);
    const kMin = r.losses.indexOf(Math.min(...r.losses));
    expect(kMin).toBeGreaterThan(0);
    expect(kMin).toBeLessThan(n - 1);
    expect(r.losses[kMin] as number).toBeLessThan(0.6 * first);
    // Then rises: the run ends well above its minimum (on divergence, 4 × the best).
    expect(r.losses[n - 1] as number).toBeGreaterThan(1.5 * (r.losses[kMin] as number));
    expect(r.diverged).toBe(true);

    // The rule: a tenth of the LR at the lowest smoothed loss, inside the ramp, below divergence.
    expect(r.minLossLr).toBe(r.lrs[kMin]);
    expect(r.suggestedPeak).toBeCloseTo(r.minLossLr / 10, 12);
    expect(r.suggestedPeak).toBeGreaterThan(r.lrs[0] as number);
    expect(r.suggestedPeak).toBeLessThan(r.lrs[n - 1] as number);
    // A plausible peak for Nadam on a batch-norm MLP (the main job uses 3e-3).
    expect(r.suggestedPeak).toBeGreaterThan(1e-4);
    expect(r.suggestedPeak).toBeLessThan(1e-1);
    expect(r.steepestLr).toBeLessThan(r.minLossLr);

    expect(existsSync(r.plot)).toBe(true);
    const svg = readFileSync(r.plot, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("suggested 1cycle peak");
    expect(svg).toContain("smoothed loss");
  });

  test("steepestDescentLr finds the steepest fall before the minimum, per decade", () => {
    const lrs = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10];
    // Falls by 0.1, then 0.5 + 0.4 around 1e-2 (the steepest central difference), then rises.
    const losses = [2.0, 1.9, 1.4, 1.0, 0.9, 3.0];
    expect(steepestDescentLr(lrs, losses)).toBe(1e-2);
  });

  test("the smoothing window is a third of a decade of the ramp", () => {
    // 100 steps over 6 decades: 16.7 steps a decade, a window of 5.6 steps.
    expect(smoothingFor(100)).toBeCloseTo(1 - 1 / (100 / 6 / 3), 12);
    // A short ramp keeps at least a 2-step window.
    expect(smoothingFor(12)).toBe(0.5);
  });
});
