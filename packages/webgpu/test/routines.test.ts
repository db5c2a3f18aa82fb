/**
 * The routines' WebGPU programs: how many dispatches they take (counted on the backend), so the
 * sort stays O(log² n) and the scan O(log n) in passes, and that they never need one dispatch
 * per element, row or update.
 */
import { getBackend, type Array as JArray, lax, np } from "@webjax/core";
import type { WebGPUBackend } from "@webjax/webgpu/node";
import { describe, expect, test } from "vitest";

const gpu = () => getBackend("webgpu") as unknown as WebGPUBackend;

/** Dispatches `f` records (its inputs are made first). */
async function dispatches(f: () => JArray): Promise<number> {
  const before = gpu().counters.dispatches;
  const y = f();
  await y.blockUntilReady();
  y.dispose();
  return gpu().counters.dispatches - before;
}

/** The bitonic sort's passes for rows of n (bitonic.ts): keys + local + Σ_{k=2c..P}(log2(k/c) + 1) + output. */
function sortPasses(n: number): number {
  const L = Math.ceil(Math.log2(n));
  const c = 11; // log2 of the 2048 pairs a workgroup sorts in shared memory
  let passes = 3;
  for (let m = c + 1; m <= L; m++) passes += m - c + 1;
  return passes;
}

describe("routine dispatch counts", () => {
  test("argsort takes O(log² n) dispatches: the bitonic pass count, at most (log2 n)²/2", {
    timeout: 120_000,
  }, async () => {
    for (const n of [1000, 5000, 40_000, 100_000]) {
      using x = np.arange(n, 0, -1, { dtype: "float32" });
      const c = await dispatches(() => np.argsort(x));
      expect(c).toBe(sortPasses(n));
      expect(c).toBeLessThanOrEqual(Math.log2(n) ** 2 / 2);
    }
    // Rows sort side by side: 300 rows of 5000 take the passes of one row.
    using rows = np.ones([300, 5000]);
    expect(await dispatches(() => np.argsort(rows, { axis: 1 }))).toBe(sortPasses(5000));
  });

  test("cumsum takes O(log n) dispatches: two per level of 1024-element blocks, but the top", {
    timeout: 120_000,
  }, async () => {
    const want = (n: number) => (n <= 64 ? 1 : 2 * Math.ceil(Math.log(n) / Math.log(1024)) - 1);
    for (const n of [50, 1000, 5000, 100_000, 2_000_000]) {
      using x = np.ones([n]);
      expect(await dispatches(() => np.cumsum(x))).toBe(want(n));
    }
    // A scan along axis 0 of many columns is one program for all of them.
    using m = np.ones([3000, 200]);
    expect(await dispatches(() => np.cumsum(m, 0))).toBe(want(3000));
  });

  test("scatter-add is copy + targets + a sort of the indices + one fold, whatever the duplicates", {
    timeout: 120_000,
  }, async () => {
    using table = np.zeros([5000, 64]);
    using idx = np.array(Int32Array.from({ length: 2048 }, (_, i) => i % 7));
    using upd = np.ones([2048, 64]);
    // Whole rows are the sorted units: a sort of 2048 keys, not of 2048 × 64 elements.
    expect(await dispatches(() => table.at(idx).add(upd))).toBe(sortPasses(2048) + 1);
  });

  test("searchsorted and topK are one program each", async () => {
    using a = np.arange(0, 100_000, 1, { dtype: "float32" });
    using v = np.array([3.5, -1, 1e9]);
    expect(await dispatches(() => np.searchsorted(a, v))).toBe(1);
    const before = gpu().counters.dispatches;
    const [tv, ti] = lax.topK(a, 5);
    await ti.blockUntilReady();
    expect(gpu().counters.dispatches - before).toBe(sortPasses(100_000));
    tv.dispose();
    ti.dispose();
  });
});
