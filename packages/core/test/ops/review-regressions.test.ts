/** Regressions found in review: each test pins one fixed behaviour. */
import { BackendError, checkLeaks, configureCpu, devicePut, np } from "@webjax/core";
import { cpuMode, testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

describe("float16 meets JS numbers and host-made arrays", () => {
  test("weak scalars, where, mean, eye, arange and oneHot store values, not raw bits", async () => {
    using h = np.array([1, 2, 3], { dtype: "float16" });
    using m = np.multiply(h, 0.5);
    using a = np.add(h, 1);
    using w = np.where(np.array([true, false, true]), h, 7);
    using mean = np.mean(h);
    using e = np.eye(2, undefined, { dtype: "float16" });
    using r = np.arange(0, 3, 1, { dtype: "float16" });
    using oh = np.oneHot(np.array([1, 2], { dtype: "float16" }), 3);
    expect(Array.from(await m.data())).toEqual([0.5, 1, 1.5]);
    expect(Array.from(await a.data())).toEqual([2, 3, 4]);
    expect(Array.from(await w.data())).toEqual([1, 7, 3]);
    expect(await mean.item()).toBe(2);
    expect(Array.from(await e.data())).toEqual([1, 0, 0, 1]);
    expect(Array.from(await r.data())).toEqual([0, 1, 2]);
    expect(await oh.toArray()).toEqual([
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });

  test("the mean of float16 accumulates in float32 (no overflow past 65504)", async () => {
    using ones = np.ones([70000], { dtype: "float16" });
    using m = np.mean(ones);
    expect(m.dtype).toBe("float16");
    expect(await m.item()).toBe(1);
  });

  test("devicePut keeps float16 values", async () => {
    using h = np.array([1.5, 2, -0.25], { dtype: "float16" });
    using moved = await devicePut(h, "cpu");
    expect(Array.from(await moved.data())).toEqual([1.5, 2, -0.25]);
  });
});

describe("indices and division", () => {
  test("negative int32 Array indices count from the end in take and at().get, as in at().set", async () => {
    using x = np.array([10, 20, 30]);
    using i = np.array([-1, 0], { dtype: "int32" });
    using t = np.take(x, i);
    using g = x.at(i).get();
    using s = x.at(i).set(0);
    expect(await t.toArray()).toEqual([30, 10]);
    expect(await g.toArray()).toEqual([30, 10]);
    expect(await s.toArray()).toEqual([0, 20, 0]);
  });

  test("float floorDivide agrees with mod: floorDivide(1, 0.1) = 9 and q·y + r = x", async () => {
    using x = np.array([1, -1, 7.5]);
    using y = np.array([0.1, 0.1, -2]);
    using q = np.floorDivide(x, y);
    using r = np.mod(x, y);
    expect(Array.from(await q.data())).toEqual([9, -10, -4]);
    const qs = await q.data();
    const rs = await r.data();
    const xs = [1, -1, 7.5];
    const ys = [Math.fround(0.1), Math.fround(0.1), -2];
    xs.forEach((v, k) => expect((qs[k] as number) * (ys[k] as number) + (rs[k] as number)).toBeCloseTo(v, 5));
  });

  test("power of negative bases with large integer and infinite exponents", async () => {
    using a = np.array([-1, -2, -2, 0.5, 2, -1]);
    using b = np.array([
      100,
      65,
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    using p = np.power(a, b);
    const v = Array.from(await p.data());
    expect(v[0]).toBe(1);
    expect(v[1]).toBeCloseTo(-3.6893488147419103e19, -13);
    expect(v.slice(2)).toEqual([Number.POSITIVE_INFINITY, 0, 0, 1]);
  });
});

describe("ownership", () => {
  test("np.array(x, { dtype }) leaves nothing behind", async () => {
    using x = np.array([1, 2, 3]);
    const report = await checkLeaks(() => {
      const y = np.array(x, { dtype: "int32" });
      y.dispose();
    });
    expect(report.buffers).toBe(0);
  });

  test.runIf(testBackend === "cpu" && cpuMode === "normal")(
    "arrays of a re-created backend instance are a named error, not a silent mix",
    () => {
      const a = np.ones([3]);
      configureCpu({});
      using b = np.ones([3]);
      expect(() => np.add(b, a)).toThrow(BackendError);
      expect(() => np.add(b, a)).toThrow(/earlier instance of the cpu backend.*devicePut/);
      a.dispose();
    },
  );
});
