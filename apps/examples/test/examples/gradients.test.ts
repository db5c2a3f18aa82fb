/**
 * The vanishing/exploding-gradients demo on a small slice (500 training images, 10 steps): the
 * per-layer gradient norms at initialisation do not depend on the training, so the lesson's
 * claims about them are checked at full strength; the training numbers only for being finite.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLIP, type ConfigResult, type GradientsResult, run } from "../../src/examples/gradients.js";

const out = mkdtempSync(join(tmpdir(), "webjax-gradients-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));
let result: GradientsResult;
// One run for the file (seconds alone; a busy 2-core machine can take several times that).
beforeAll(async () => {
  result = await run({ limit: 600, steps: 10, out, seed: 0 });
}, 180_000);
const config = (name: string): ConfigResult => {
  const c = result.configs.find((r) => r.name === name);
  if (!c) throw new Error(`no configuration named ${name}`);
  return c;
};

describe("gradients example", () => {
  test("sigmoid with N(0, 0.05²): the first layer's gradient is orders of magnitude below the last's", () => {
    const c = config("sigmoid, N(0, 0.05²)");
    expect(c.normsAtInit).toHaveLength(11);
    // ≈ (0.25 · 0.05 · √100)^9 ≈ 10⁻⁸; measured 8.5e-9.
    expect(c.ratioAtInit).toBeLessThan(1e-5);
    expect(c.ratioAtInit).toBeGreaterThan(0);
    // Every layer below the output gets a smaller gradient than the one above it, but layer 1,
    // whose inputs are the 784 standardised pixels rather than sigmoid outputs.
    for (let i = 2; i < 10; i++) expect(c.normsAtInit[i] as number).toBeLessThan(c.normsAtInit[i + 1] as number);
  });

  test("ELU + He, SELU + LeCun and sigmoid + batch norm keep the norms within a modest factor", () => {
    for (const name of ["ELU + He", "SELU + LeCun", "sigmoid + batch norm"]) {
      const c = config(name);
      expect(c.ratioAtInit, name).toBeGreaterThan(0.1);
      expect(c.ratioAtInit, name).toBeLessThan(10);
      const max = Math.max(...c.normsAtInit);
      const min = Math.min(...c.normsAtInit);
      expect(max / min, name).toBeLessThan(20);
    }
  });

  test("the large init explodes; clipping bounds every step's global norm by the clip value", () => {
    const explode = config("ELU, N(0, 0.3²)");
    const he = config("ELU + He");
    const clipped = config(`ELU, N(0, 0.3²), clipped at ${CLIP}`);
    expect(explode.globalNormAtInit).toBeGreaterThan(1000 * he.globalNormAtInit);
    // Unclipped, SGD's first step is ~10× the weights' norm: the loss blows up (NaN here).
    expect(Number.isNaN(explode.finalLoss) || explode.finalLoss > 1e3).toBe(true);
    expect(clipped.globalNormAtInit).toBe(explode.globalNormAtInit); // the same init
    expect(clipped.maxStepNorm).toBeLessThanOrEqual(CLIP * (1 + 1e-5));
    expect(clipped.maxStepNorm).toBeGreaterThan(0.99 * CLIP); // clipping was active
    expect(Number.isFinite(clipped.finalLoss)).toBe(true);
    expect(clipped.normsTrained.every(Number.isFinite)).toBe(true);
  });

  test("every configuration that does not explode gives finite numbers", () => {
    const r = result;
    expect(r.configs.map((c) => c.name)).toHaveLength(6);
    for (const c of r.configs.filter((c) => c.name !== "ELU, N(0, 0.3²)")) {
      const numbers = [...c.normsAtInit, ...c.normsTrained, c.ratioAtInit, c.ratioTrained, c.finalLoss, c.valAccuracy];
      expect(numbers.every(Number.isFinite), c.name).toBe(true);
      expect(c.valAccuracy).toBeGreaterThanOrEqual(0);
      expect(c.valAccuracy).toBeLessThanOrEqual(1);
    }
    // He + ELU learns something in 10 steps; the vanishing sigmoid net does not beat it.
    const he = config("ELU + He");
    expect(he.valAccuracy).toBeGreaterThan(0.4);
    expect(config("sigmoid, N(0, 0.05²)").valAccuracy).toBeLessThan(he.valAccuracy);
    const svg = readFileSync(r.plot, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("at initialisation");
  });
});
