import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { checkLeaks, memoryStats, np, setMemoryWarning } from "@webjax/core";
import { testBackend } from "@webjax/test-utils";
import { afterEach, describe, expect, test, vi } from "vitest";

const liveBytes = () => memoryStats()[testBackend]?.liveBytes ?? 0;
const liveBuffers = () => memoryStats()[testBackend]?.liveBuffers ?? 0;

describe("memory: reference-counted buffers", () => {
  afterEach(() => setMemoryWarning(2 * 1024 ** 3));

  test("dispose releases at once; a second dispose does nothing", () => {
    const before = liveBytes();
    const x = np.zeros([250]);
    expect(liveBytes()).toBe(before + 1000);
    x.dispose();
    expect(liveBytes()).toBe(before);
    x.dispose();
    expect(liveBytes()).toBe(before);
    expect(x.disposed).toBe(true);
  });

  test("using releases at the end of the block", () => {
    const before = liveBytes();
    {
      using x = np.ones([10, 10]);
      expect(liveBytes()).toBe(before + 400);
      expect(x.shape).toEqual([10, 10]);
    }
    expect(liveBytes()).toBe(before);
  });

  test("use after dispose is a clear error", async () => {
    const x = np.ones([3]);
    x.dispose();
    expect(() => x.add(1)).toThrow(/used after dispose/);
    await expect(x.data()).rejects.toThrow(/used after dispose/);
  });

  test("a view keeps its parent's buffer alive, and the buffer goes with the last holder", async () => {
    const before = liveBuffers();
    const r = np.arange(6);
    const x = r.reshape([2, 3]);
    r.dispose();
    const t = x.T;
    expect(liveBuffers()).toBe(before + 1);
    x.dispose();
    expect(await t.toArray()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    t.dispose();
    expect(liveBuffers()).toBe(before);
  });

  test("composite functions release every temporary they make", async () => {
    const x = np.array([
      [1, 2],
      [3, 4],
    ]);
    const report = await checkLeaks(async () => {
      using big = x.greater(2);
      using neg = np.negative(x);
      using w = np.where(big, x, neg);
      const m = np.mean(w, 0, { keepdims: true });
      expect(await m.toArray()).toEqual([[1, 1]]); // where(x>2, x, -x) = [[-1,-2],[3,4]]
      m.dispose();
    });
    expect(report).toEqual({ buffers: 0, bytes: 0, details: [] });
    x.dispose();
  });

  test("checkLeaks reports exactly the bytes of a deliberately leaked array", async () => {
    let leaked: ReturnType<typeof np.zeros> | undefined;
    const report = await checkLeaks(() => {
      leaked = np.zeros([7, 3], { dtype: "int32" });
      const clean = np.ones([100]);
      clean.dispose();
    });
    expect(report.buffers).toBe(1);
    expect(report.bytes).toBe(7 * 3 * 4);
    expect(report.details[0]).toMatch(new RegExp(`int32\\[21\\] \\(84 bytes\\) on ${testBackend}, made by zeros`));
    leaked?.dispose();
  });

  test("past the high-water mark, webjax warns once with memoryStats", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    setMemoryWarning(liveBytes() + 100);
    const a = np.zeros([50]);
    const b = np.zeros([50]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/liveBytes/);
    a.dispose();
    b.dispose();
    warn.mockRestore();
  });

  test("the FinalizationRegistry frees arrays that became unreachable", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const settle = async () => {
      for (let i = 0; i < 10; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await settle();
    const before = liveBuffers();
    (() => {
      for (let i = 0; i < 20; i++) np.zeros([1000]);
    })();
    expect(liveBuffers()).toBe(before + 20);
    for (let i = 0; i < 50 && liveBuffers() > before; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(liveBuffers()).toBe(before);
  });
});
