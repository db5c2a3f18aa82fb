/**
 * float16: a storage dtype on every backend. Values round to nearest-even binary16 on store;
 * arithmetic runs in float32 (as XLA does), so one op rounds once. Known bit patterns are from
 * the IEEE 754 binary16 format (1 sign, 5 exponent, 10 mantissa bits).
 */
import { memoryStats, np } from "@webjax/core";
import { fromFloat16Bits, toFloat16Bits } from "@webjax/core/internal";
import { expectClose, hasFloat64, testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

describe("binary16 conversion on the host", () => {
  test.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [65519, 0x7bff],
    [65520, 0x7c00],
    [Number.POSITIVE_INFINITY, 0x7c00],
    [0.1, 0x2e66],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000],
    [3 * 2 ** -25, 0x0002],
    [2 ** -14, 0x0400],
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
    [-0, 0x8000],
  ])("%d → 0x%s", (x, bits) => {
    expect(toFloat16Bits(x)).toBe(bits);
  });

  test("NaN keeps a quiet NaN, and bits decode back", () => {
    expect(toFloat16Bits(Number.NaN)).toBe(0x7e00);
    expect(fromFloat16Bits(0x2e66)).toBe(0.0999755859375);
    expect(fromFloat16Bits(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
    expect(fromFloat16Bits(0x0001)).toBe(2 ** -24);
  });
});

describe("float16 arrays", () => {
  test("creation rounds to binary16, overflow goes to Inf, and reads give float32 values", async () => {
    using x = np.array([0.1, 1, 65504, 70000, -0.5, 2049], { dtype: "float16" });
    const v = await x.data();
    expect(v).toBeInstanceOf(Float32Array);
    expect(Array.from(v)).toEqual([0.0999755859375, 1, 65504, Number.POSITIVE_INFINITY, -0.5, 2048]);
  });

  test("two bytes an element", () => {
    const before = memoryStats()[testBackend]?.liveBytes ?? 0;
    using x = np.zeros([10], { dtype: "float16" });
    expect((memoryStats()[testBackend]?.liveBytes ?? 0) - before).toBe(20);
    expect(x.dtype).toBe("float16");
  });

  test("one op rounds once, ties to even", async () => {
    using a = np.array([1, 1, 1], { dtype: "float16" });
    using b = np.array([2 ** -11, 3 * 2 ** -11, 2 ** -10], { dtype: "float16" });
    using s = a.add(b);
    expect(s.dtype).toBe("float16");
    expect(Array.from(await s.data())).toEqual([1, 1 + 2 ** -9, 1 + 2 ** -10]);
  });

  test("promotion: float16 with float32 is float32, with weak numbers and integers float16", () => {
    using h = np.array([1, 2], { dtype: "float16" });
    using f = np.array([1, 2]);
    using i = np.array([1, 2], { dtype: "int32" });
    using a = h.add(f);
    using b = h.mul(2.5);
    using c = i.add(h);
    using d = np.exp(h);
    expect([a.dtype, b.dtype, c.dtype, d.dtype]).toEqual(["float32", "float16", "float16", "float16"]);
  });

  test.runIf(hasFloat64)("float16 with float64 is float64", () => {
    using h = np.array([1], { dtype: "float16" });
    using d = np.array([1], { dtype: "float64" });
    using s = h.add(d);
    expect(s.dtype).toBe("float64");
  });

  test("transcendentals are float32 math rounded to binary16", async () => {
    const xs = [-3, -0.5, 0, 0.25, 1, 2.5, 7];
    using x = np.array(xs, { dtype: "float16" });
    using e = np.exp(x);
    using t = np.tanh(x);
    const round16 = (v: number) => fromFloat16Bits(toFloat16Bits(v));
    const xs16 = xs.map(round16);
    // One binary16 ulp is 2^-10 relative; allow it for the float32 evaluation before rounding.
    await expectClose(
      e,
      xs16.map((v) => round16(Math.exp(v))),
      { rtol: 2 ** -10, atol: 0 },
    );
    await expectClose(
      t,
      xs16.map((v) => round16(Math.tanh(v))),
      { rtol: 2 ** -10, atol: 2 ** -24 },
    );
  });

  test("sum, argmax and matmul of float16", async () => {
    using tenths = np.full([10], 0.1, { dtype: "float16" });
    using s = tenths.sum();
    // 10 × 0.0999755859375 = 0.999755859375 = 1 − 2^-12: a tie between 1 − 2^-11 and 1, to even (1).
    expect(await s.item()).toBe(1);
    using m = np.array(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "float16" },
    );
    using mm = m.matmul(m);
    expect(mm.dtype).toBe("float16");
    expect(await mm.toArray()).toEqual([
      [7, 10],
      [15, 22],
    ]);
    using am = m.argmax(1);
    expect(await am.toArray()).toEqual([1, 1]);
  });

  test("astype to and from float16, on strided views", async () => {
    using x = np.array([
      [0.1, 1.5, -7.25],
      [300.7, -0.0001, 2],
    ]);
    using xt = x.T;
    using h = xt.astype("float16");
    using back = h.astype("float32");
    using i = h.astype("int32");
    expect(await back.toArray()).toEqual([
      [0.0999755859375, 300.75],
      [1.5, -0.00010001659393310547],
      [-7.25, 2],
    ]);
    expect(await i.toArray()).toEqual([
      [0, 300],
      [1, 0],
      [-7, 2],
    ]);
    using odd = h.slice(null, 1);
    expect(Array.from(await odd.data())).toEqual([300.75, -0.00010001659393310547, 2]);
  });
});
