/**
 * jit(f).lower(...).costAnalysis() (issue 25): flops, transcendentals and bytes per kernel and
 * in total, against counts by hand — a 1024² matmul is 2·1024³ flops over its operands' and
 * result's bytes; an elementwise chain, a reduction, a broadcast.
 */
import { type Array as JArray, jit, lax, np } from "@webjax/core";
import { describe, expect, test } from "vitest";

describe("costAnalysis", () => {
  test("a 1024² matmul: 2·1024³ flops, its operands read and its result written", () => {
    const n = 1024;
    const a = np.ones([n, n]);
    const b = np.ones([n, n]);
    const cost = jit((x: JArray, y: JArray) => x.matmul(y))
      .lower(a, b)
      .costAnalysis();
    expect(cost.kernels).toHaveLength(1);
    expect(cost.kernels[0]?.kind).toBe("matmul");
    expect(cost.flops).toBe(2 * n ** 3);
    expect(cost.bytesRead).toBe(2 * n * n * 4);
    expect(cost.bytesWritten).toBe(n * n * 4);
    expect(cost.bytesAccessed).toBe(3 * n * n * 4);
    expect(cost.intensity).toBeCloseTo((2 * n ** 3) / (3 * n * n * 4), 6);
  });

  test("an elementwise chain, a reduction and a broadcast, counted by hand", () => {
    const x = np.linspace(0, 1, 1000);
    const chain = jit((v: JArray) => np.exp(v).mul(2).add(1))
      .lower(x)
      .costAnalysis();
    expect(chain.kernels).toHaveLength(1);
    expect([chain.flops, chain.transcendentals, chain.bytesRead, chain.bytesWritten]).toEqual([2000, 1000, 4000, 4000]);

    const m = np.ones([100, 10]);
    const sum = jit((v: JArray) => v.sum())
      .lower(m)
      .costAnalysis();
    expect([sum.flops, sum.bytesRead, sum.bytesWritten]).toEqual([1000, 4000, 4]);

    // A column plus a row: each read once (400 + 200 bytes), not once per output element.
    const outer = jit((c: JArray, r: JArray) => c.add(r))
      .lower(np.ones([100, 1]), np.ones([1, 50]))
      .costAnalysis();
    expect([outer.flops, outer.bytesRead, outer.bytesWritten]).toEqual([5000, 600, 20000]);
  });

  test("a SAME-padded conv counts its arithmetic only, as XLA does (padding masks are no flops)", () => {
    // lax.conv: NCHW input, OIHW kernel; 2·N·O·H·W·(C·3·3) multiply-adds at every output.
    const x = np.ones([2, 3, 16, 16]);
    const k = np.ones([8, 3, 3, 3]);
    const cost = jit((a: JArray, b: JArray) => lax.conv(a, b, [1, 1], "SAME"))
      .lower(x, k)
      .costAnalysis();
    const macs = 2 * 8 * 16 * 16 * 3 * 3 * 3;
    expect(cost.flops).toBeGreaterThanOrEqual(2 * macs);
    // Beyond the multiply-adds at most one op an output element (XLA counts 203,136 here).
    expect(cost.flops).toBeLessThanOrEqual(2 * macs + 2 * 8 * 16 * 16);
  });

  test("a program's totals are the sums of its kernels'", () => {
    const w = np.ones([16, 8]);
    const x = np.ones([4, 16]);
    const lowered = jit((a: JArray, b: JArray) => np.tanh(b.matmul(a)).sum(0)).lower(w, x);
    const cost = lowered.costAnalysis();
    expect(cost.kernels).toHaveLength(lowered.kernels.length);
    expect(cost.flops).toBe(cost.kernels.reduce((s, k) => s + k.flops, 0));
    // The matmul's 2·4·8·16 flops are in there; tanh is a transcendental per element.
    expect(cost.flops).toBeGreaterThanOrEqual(2 * 4 * 8 * 16);
    expect(cost.transcendentals).toBe(32);
  });
});
