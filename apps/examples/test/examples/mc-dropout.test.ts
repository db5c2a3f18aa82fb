/**
 * MC dropout on a small slice (1,000 training images, 2 epochs, 400 test images, 20 masks): the
 * masks disagree (std > 0), the MC mean predicts far above chance, and uncertainty tracks error —
 * the 10% most uncertain images are classified much worse than the 10% least uncertain (seeds
 * 0–4 all give a gap ≥ 0.4 on this slice; the test asks for 0.2).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { asciiImage, run } from "../../src/examples/mc-dropout.js";

const out = mkdtempSync(join(tmpdir(), "webjax-mc-dropout-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("MC dropout example", () => {
  test("masks disagree, the MC mean beats chance, and the most uncertain decile is the least accurate", {
    timeout: 60_000,
  }, async () => {
    const r = await run({ limit: 1000, testLimit: 400, epochs: 2, samples: 20, out, seed: 0 });
    expect(r.testSize).toBe(400);
    expect(r.meanStd).toBeGreaterThan(0.01);
    expect(r.mcAccuracy).toBeGreaterThan(0.6); // chance is 0.1
    expect(r.deterministicAccuracy).toBeGreaterThan(0.6);
    expect(Math.abs(r.mcAccuracy - r.deterministicAccuracy)).toBeLessThan(0.05);
    expect(r.decileAccuracy).toHaveLength(10);
    // The mean of the deciles (40 images each) is the overall accuracy.
    expect(r.decileAccuracy.reduce((s, a) => s + a, 0) / 10).toBeCloseTo(r.mcAccuracy, 5);
    expect(r.mostUncertainAccuracy).toBeLessThan(r.leastUncertainAccuracy - 0.2);
    expect(r.uncertaintyErrorCorrelation).toBeGreaterThan(0.1);
    for (const c of r.perClass) {
      expect(c.confidence).toBeGreaterThan(0.1);
      expect(c.confidence).toBeLessThanOrEqual(1);
    }
    // The uncertain examples: most uncertain first, the prediction is the top class, probabilities ≤ 1 in all.
    expect(r.uncertain).toHaveLength(4);
    const stds = r.uncertain.map((u) => u.top[0]?.std ?? 0);
    expect([...stds].sort((a, b) => b - a)).toEqual(stds);
    for (const u of r.uncertain) {
      expect(u.predictedClass).toBe(u.top[0]?.name);
      expect(u.top.reduce((s, t) => s + t.mean, 0)).toBeLessThanOrEqual(1 + 1e-5);
      expect(u.top[0]?.std).toBeGreaterThan(r.meanStd);
      expect(asciiImage(u.pixels)).toHaveLength(14);
    }
    const saved = JSON.parse(readFileSync(join(out, "mc-dropout.json"), "utf8"));
    expect(saved.mcAccuracy).toBe(r.mcAccuracy);
    expect(existsSync(join(out, "uncertainty.svg"))).toBe(true);
  });
});
