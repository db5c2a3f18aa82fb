/**
 * The transfer-learning demo on a small slice (model A on 1,600 images for 2 epochs; task B
 * always has its 200 images): the frozen layers do not move, the head does, and both models of
 * task B beat chance by far. Which of them wins is the full run's number, not a unit test's.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run, type TransferResult } from "../../src/examples/transfer.js";

const out = mkdtempSync(join(tmpdir(), "webjax-transfer-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));
let result: TransferResult;
// One run for the file (seconds alone; a busy 2-core machine can take several times that).
beforeAll(async () => {
  result = await run({ limit: 2000, epochsA: 2, out, seed: 0 });
}, 180_000);

describe("transfer example", () => {
  test("the reused layers stay bit-identical while frozen, and the head trains", () => {
    const r = result;
    expect(Object.keys(r.frozenUnchanged)).toEqual(["dense_1", "dense_3", "dense_5", "dense_7", "dense_9"]);
    expect(Object.values(r.frozenUnchanged).every((same) => same)).toBe(true);
    expect(r.headChanged).toBe(true);
  });

  test("model A and both models of task B beat chance", () => {
    const r = result;
    expect(r.trainSizeA).toBe(1600); // 8 of every 10 of the first 2,000 images
    expect(r.accuracyA).toBeGreaterThan(0.6); // chance: 1/8
    expect(r.scratchAccuracy).toBeGreaterThan(0.9); // chance: 1/2
    expect(r.transferAccuracy).toBeGreaterThan(0.9);
    expect(r.errorReduction).toBeCloseTo((r.transferAccuracy - r.scratchAccuracy) / (1 - r.scratchAccuracy), 10);
  });

  test("the curves cover every epoch of both runs and the numbers are finite", () => {
    const r = result;
    expect(r.curves.scratch).toHaveLength(20);
    expect(r.curves.transfer).toHaveLength(20);
    const numbers = [
      r.accuracyA,
      r.scratchAccuracy,
      r.transferAccuracy,
      r.errorReduction,
      ...r.curves.scratch,
      ...r.curves.transfer,
    ];
    expect(numbers.every(Number.isFinite)).toBe(true);
    const svg = readFileSync(r.plot, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("reusing model A");
  });
});
