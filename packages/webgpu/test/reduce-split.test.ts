/**
 * Long reductions into few outputs run split across workgroups (a first pass of SPLIT_PARTS
 * partials per output, then a second over the partials), eagerly and jitted; each value is
 * checked against a float64 reference over the same host data.
 */
import { type Array as JArray, jit, np, random } from "@webjax/core";
import { activeBackend } from "@webjax/webgpu/node";
import { describe, expect, test } from "vitest";

const dispatches = () => activeBackend()?.counters.dispatches ?? 0;

async function host(x: JArray): Promise<Float64Array> {
  return Float64Array.from((await x.data()) as ArrayLike<number>);
}

describe("WebGPU split reductions", () => {
  test("a full sum of 1e6 elements is two dispatches over many workgroups, equal to a float64 sum", async () => {
    using x = random.uniform(random.key(0), [1_000_000], { minval: -1, maxval: 1 });
    const xs = await host(x);
    const before = dispatches();
    using s = x.sum();
    const got = (await s.item()) as number;
    expect(dispatches() - before).toBe(2);
    const want = xs.reduce((a, b) => a + b, 0);
    expect(Math.abs(got - want)).toBeLessThan(1e-6 * xs.length ** 0.5 * 10);
  });

  test("mean (a post), max, min and an int32 sum over long rows into few outputs", async () => {
    using x = random.normal(random.key(1), [3, 200_000]);
    const xs = await host(x);
    const row = (r: number) => xs.subarray(r * 200_000, (r + 1) * 200_000);
    const mean = (await np.mean(x, 1).data()) as Float32Array;
    const max = (await np.max(x, 1).data()) as Float32Array;
    const min = (await np.min(x, 1).data()) as Float32Array;
    for (let r = 0; r < 3; r++) {
      const v = row(r);
      expect(mean[r] as number).toBeCloseTo(v.reduce((a, b) => a + b, 0) / v.length, 5);
      expect(max[r]).toBe(Math.fround(v.reduce((a, b) => Math.max(a, b), -Infinity)));
      expect(min[r]).toBe(Math.fround(v.reduce((a, b) => Math.min(a, b), Infinity)));
    }
    using k = np.arange(100_000, undefined, 1, { dtype: "int32" });
    // Σ 0…99999 = 4999950000 wraps modulo 2^32 as int32.
    expect(await k.sum().item()).toBe(4999950000 - 2 ** 32);
  });

  test("argmax stays one workgroup per output (its partials would need indices) and keeps the first index", async () => {
    using x = np.zeros([100_000]).at(70_000).set(5).at(90_000).set(5);
    const before = dispatches();
    using a = np.argmax(x);
    expect(await a.item()).toBe(70_000);
    expect(dispatches() - before).toBe(1);
  });

  test("jitted: a fused elementwise prologue inside the split reduction (sum of squares, then sqrt)", async () => {
    using x = random.normal(random.key(2), [500_000]);
    const xs = await host(x);
    const norm = jit((v: JArray) => np.sqrt(v.mul(v).sum()));
    const got = (await norm(x).item()) as number;
    const want = Math.sqrt(xs.reduce((a, b) => a + b * b, 0));
    expect(got).toBeCloseTo(want, 2);
    expect(Math.abs(got - want) / want).toBeLessThan(1e-5);
  });
});
