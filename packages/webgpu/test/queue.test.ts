import { getBackend, np } from "@webjax/core";
import type { WebGPUBackend } from "@webjax/webgpu/node";
import { describe, expect, test } from "vitest";

const gpu = () => getBackend("webgpu") as unknown as WebGPUBackend;

describe("the WebGPU queue", () => {
  test("a 10-op eager chain is 10 dispatches in one submit", async () => {
    using x = np.ones([1024]);
    await x.blockUntilReady();
    const b = gpu();
    const before = { ...b.counters };
    let acc = x.add(0);
    for (let i = 0; i < 9; i++) {
      const next = acc.mul(1.5);
      acc.dispose();
      acc = next;
    }
    const values = await acc.data();
    acc.dispose();
    expect(values[0]).toBeCloseTo(1.5 ** 9, 4);
    expect(b.counters.dispatches - before.dispatches).toBe(10);
    expect(b.counters.submits - before.submits).toBe(1);
  });

  test("a buffer freed while the open encoder uses it is not recycled before the submit", async () => {
    using a = np.array([1, 2, 3]);
    await a.blockUntilReady();
    const b = gpu();
    using scaled = a.mul(10); // queued: reads a's buffer
    a.dispose(); // freed while bound in the open encoder
    expect(b.poolStats.held).toBeGreaterThan(0);
    using c = np.array([7, 8, 9]); // same size class: must not overwrite a's buffer before the kernel runs
    expect(await scaled.toArray()).toEqual([10, 20, 30]);
    expect(await c.toArray()).toEqual([7, 8, 9]);
  });

  test("bool is stored as u32 and reads back as 0/1", async () => {
    using x = np.array([true, false, true]);
    using y = np.array([1, 5, -2]);
    using z = y.greater(0);
    using w = np.logicalAnd(x, z);
    expect(Array.from(await w.data())).toEqual([1, 0, 0]);
    expect((await w.data()) instanceof Uint8Array).toBe(true);
  });

  test("dataSync names the async call, and toString says how to read", () => {
    using x = np.ones([2]);
    expect(() => x.dataSync()).toThrow(/await x\.data\(\)/);
    expect(String(x)).toMatch(/float32\[2\], on webgpu; read it with await x\.toArray\(\)/);
  });

  test("reads while dispatching: concurrent reads all resolve with their own values", async () => {
    using x = np.arange(100);
    const reads = [];
    const made = [];
    for (let i = 0; i < 20; i++) {
      const y = x.add(i);
      made.push(y);
      reads.push(y.data());
    }
    const all = await Promise.all(reads);
    all.forEach((v, i) => {
      expect(v[0]).toBe(i);
      expect(v[99]).toBe(99 + i);
    });
    for (const m of made) m.dispose();
  });

  test("the same result as the cpu backend for a mixed program, within 1e-6", async () => {
    const program = (backend: string) => {
      const x = np.linspace(-3, 3, 64, { backend });
      const y = np.reshape(x, [8, 8]);
      const a = np.tanh(y);
      const t = np.transpose(a);
      const m = np.matmul(a, t);
      const s = np.sum(np.exp(np.negative(np.abs(m))), 1);
      for (const v of [x, y, a, t, m]) v.dispose();
      return s;
    };
    using g = program("webgpu");
    using c = program("cpu");
    const [gv, cv] = [await g.data(), await c.data()];
    gv.forEach((v, i) =>
      expect(Math.abs(v - (cv[i] as number))).toBeLessThan(1e-6 * Math.max(1, Math.abs(cv[i] as number))),
    );
  });
});
