import { BackendError, np } from "@webjax/core";
import { activeBackend, initWebGPU, onDeviceLost } from "@webjax/webgpu/node";
import { describe, expect, test } from "vitest";

describe("device loss", () => {
  test("destroying the device mid-queue rejects reads with BackendError, calls the hook, and init() recovers", async () => {
    const lost: BackendError[] = [];
    const off = onDeviceLost((e) => lost.push(e));
    const x = np.ones([1000]);
    const pending = [];
    let acc = x.add(1);
    for (let i = 0; i < 20; i++) {
      const next = acc.mul(1.01);
      pending.push(next.data());
      acc = next;
    }
    activeBackend()?.device.destroy();
    const results = await Promise.allSettled([...pending, acc.data()]);
    const rejected = results.filter((r) => r.status === "rejected");
    // Reads already resolved before the loss keep their values; none resolves with garbage after it.
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(BackendError);
    await new Promise((r) => setTimeout(r, 50));
    expect(lost.length).toBe(1);
    expect(lost[0]?.message).toMatch(/device was lost.*init\(\)/);
    expect(() => x.add(1)).toThrow(/device was lost/);
    off();

    await initWebGPU({ allowSoftware: true });
    using y = np.array([1, 2, 3]);
    using z = y.mul(2);
    expect(await z.toArray()).toEqual([2, 4, 6]);
  });
});
