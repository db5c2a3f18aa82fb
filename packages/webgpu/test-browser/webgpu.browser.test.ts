/**
 * In headless Chromium: navigator.gpu acquisition, and a smoke subset of ops read back from the
 * GPU, compared with hand-computed values (the full suite runs on Dawn in Node).
 */
import { BackendError, currentBackend, np, setBackend } from "@webjax/core";
import { activeBackend, init, shutdown } from "@webjax/webgpu";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

beforeAll(async () => {
  expect(await init({ fallback: false })).toBe("webgpu");
});
afterAll(() => shutdown());

describe("WebGPU in the browser", () => {
  test("navigator.gpu gives an adapter and a device with the adapter's limits", () => {
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeDefined();
    expect(currentBackend()).toBe("webgpu");
    expect(activeBackend()?.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
  });

  test("elementwise ops, broadcasting and transcendentals read back", async () => {
    using x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using b = np.array([10, 20, 30]);
    using y = x.add(b);
    expect(await y.toArray()).toEqual([
      [11, 22, 33],
      [14, 25, 36],
    ]);
    using t = np.tanh(np.array([100, -100, 0]));
    expect(Array.from(await t.data())).toEqual([1, -1, 0]);
  });

  test("reductions, argmax and matmul", async () => {
    using x = np.array([
      [1, 5, 2],
      [7, 0, 7],
    ]);
    using s = x.sum(1);
    using m = x.argmax(1);
    using xt = x.T;
    using g = x.matmul(xt);
    expect(await s.toArray()).toEqual([8, 14]);
    expect(await m.toArray()).toEqual([1, 0]);
    expect(await g.toArray()).toEqual([
      [30, 21],
      [21, 98],
    ]);
  });

  test("dataSync is an error naming the async read", () => {
    using x = np.ones([3]);
    expect(() => x.dataSync()).toThrow(BackendError);
    expect(() => x.dataSync()).toThrow(/await x\.data\(\)/);
  });

  test("the cpu backend still works beside it", async () => {
    setBackend("cpu");
    using c = np.arange(4);
    expect(await c.toArray()).toEqual([0, 1, 2, 3]);
    setBackend("webgpu");
  });
});
