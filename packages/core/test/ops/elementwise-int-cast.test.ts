/**
 * The pinned integer semantics (wrapping int32/uint32 arithmetic) and cast semantics (truncation,
 * saturation, NaN, bool) of elementwise ops — see the comment in src/ir/expr.ts — and the dtype
 * errors of float-only primitives.
 */
import { DTypeError, lax, np } from "@webjax/core";
import { expectClose, hasFloat64 } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { f32, values } from "./helpers.js";

describe("pinned integer semantics", () => {
  const I32_MAX = 2147483647;
  const I32_MIN = -2147483648;

  test("int32 add/sub/mul wrap modulo 2^32", async () => {
    using x = np.array([I32_MAX, I32_MIN, 65536, -65536, 46341], { dtype: "int32" });
    using plus = x.add(1);
    expect(await values(plus)).toEqual([I32_MIN, I32_MIN + 1, 65537, -65535, 46342]);
    using minus = x.sub(1);
    expect(await values(minus)).toEqual([I32_MAX - 1, I32_MAX, 65535, -65537, 46340]);
    using sq = x.mul(x);
    expect(sq.dtype).toBe("int32");
    expect(await values(sq)).toEqual([I32_MAX, I32_MIN, 65536, -65536, 46341].map((v) => Math.imul(v, v)));
    // 65536 * 65536 = 2^32 ≡ 0; 46341² = 2147488281 ≡ -2147479015.
    expect((await values(sq))[2]).toBe(0);
    expect((await values(sq))[4]).toBe(-2147479015);
    using sq2 = np.square(x);
    expect(await values(sq2)).toEqual(await values(sq));
  });

  test("int32 negative and abs of INT_MIN wrap to INT_MIN", async () => {
    using x = np.array([I32_MIN, -3, 0, 7], { dtype: "int32" });
    using n = np.negative(x);
    expect(await values(n)).toEqual([I32_MIN, 3, 0, -7]);
    using a = np.abs(x);
    expect(await values(a)).toEqual([I32_MIN, 3, 0, 7]);
    using s = np.sign(x);
    expect(s.dtype).toBe("int32");
    expect(await values(s)).toEqual([-1, -1, 0, 1]);
  });

  test("floor/ceil/round of integers are the identity and keep the dtype", async () => {
    using x = np.array([I32_MIN, -3, 0, I32_MAX], { dtype: "int32" });
    for (const f of [np.floor, np.ceil, np.round]) {
      using r = f(x);
      expect(r.dtype).toBe("int32");
      expect(await values(r)).toEqual([I32_MIN, -3, 0, I32_MAX]);
    }
  });

  test("int32 power by repeated wrapping multiplication", async () => {
    using b = np.array([2, 2, 3, -2, 7], { dtype: "int32" });
    using e = np.array([10, 31, 0, 3, 1], { dtype: "int32" });
    using r = np.power(b, e);
    expect(r.dtype).toBe("int32");
    expect(await values(r)).toEqual([1024, I32_MIN, 1, -8, 7]);
  });

  test("int32 maximum/minimum are exact at the extremes", async () => {
    using x = np.array([I32_MIN, I32_MAX, -1], { dtype: "int32" });
    using y = np.array([I32_MAX, I32_MIN, 1], { dtype: "int32" });
    using mx = np.maximum(x, y);
    expect(await values(mx)).toEqual([I32_MAX, I32_MAX, 1]);
    using mn = np.minimum(x, y);
    expect(await values(mn)).toEqual([I32_MIN, I32_MIN, -1]);
  });

  test("uint32 add/sub/mul wrap modulo 2^32", async () => {
    using u = np.array([4294967295, 0, 65536, 3000000000], { dtype: "uint32" });
    using plus = u.add(1);
    expect(await values(plus)).toEqual([0, 1, 65537, 3000000001]);
    using minus = u.sub(1);
    expect(await values(minus)).toEqual([4294967294, 4294967295, 65535, 2999999999]);
    using sq = u.mul(u);
    // (2^32 − 1)² ≡ 1; 65536² ≡ 0; 3e9² mod 2^32 computed with BigInt.
    const big = Number((3000000000n * 3000000000n) % 4294967296n);
    expect(await values(sq)).toEqual([1, 0, 0, big]);
  });

  test("integer true division gives float32", async () => {
    using x = np.array([7, -7, 1, 0], { dtype: "int32" });
    using r = np.divide(x, np.array([2, 2, 0, 0], { dtype: "int32" }));
    expect(r.dtype).toBe("float32");
    await expectClose(r, [3.5, -3.5, Number.POSITIVE_INFINITY, Number.NaN]);
  });
});

describe("pinned cast semantics", () => {
  const I32_MAX = 2147483647;
  const I32_MIN = -2147483648;
  const inf = Number.POSITIVE_INFINITY;

  test("float32 → int32 truncates toward zero and saturates; NaN → 0", async () => {
    using x = np.array([3.7, -3.7, 0.5, -0.5, 1e10, -1e10, Number.NaN, inf, -inf, 2147483520, -2147483648]);
    using r = x.astype("int32");
    expect(r.dtype).toBe("int32");
    expect(await values(r)).toEqual([3, -3, 0, 0, I32_MAX, I32_MIN, 0, I32_MAX, I32_MIN, 2147483520, I32_MIN]);
  });

  test("float32 → int32 through lax.convertElementType agrees", async () => {
    using x = np.array([3.7, -3.7, 1e10, Number.NaN]);
    using r = lax.convertElementType(x, "int32");
    expect(r.dtype).toBe("int32");
    expect(r.weakType).toBe(false);
    expect(await values(r)).toEqual([3, -3, I32_MAX, 0]);
  });

  test.runIf(hasFloat64)("float64 → int32 saturates at 2^31 − 1 exactly", async () => {
    using d = np.array(new Float64Array([2147483647.9, 2147483648, -2147483648.9, -2147483649]), { dtype: "float64" });
    using r = d.astype("int32");
    expect(await values(r)).toEqual([I32_MAX, I32_MAX, I32_MIN, I32_MIN]);
  });

  test("float → uint32 truncates and saturates: negatives and NaN → 0", async () => {
    using x = np.array([-5, -0.5, 3.9, 5e9, Number.NaN, inf, -inf, 4294967040]);
    using r = x.astype("uint32");
    expect(r.dtype).toBe("uint32");
    expect(await values(r)).toEqual([0, 0, 3, 4294967295, 0, 4294967295, 0, 4294967040]);
  });

  test("int → bool is x != 0; float → bool too, with NaN → true and -0 → false", async () => {
    using i = np.array([0, 1, -1, 7, I32_MIN], { dtype: "int32" });
    using bi = i.astype("bool");
    expect(bi.dtype).toBe("bool");
    expect(await values(bi)).toEqual([0, 1, 1, 1, 1]);
    using u = np.array([0, 4294967295, 256], { dtype: "uint32" });
    using bu = u.astype("bool");
    expect(await values(bu)).toEqual([0, 1, 1]);
    using f = np.array([0, -0, Number.NaN, 0.1, -inf, 1e-40]);
    using bf = f.astype("bool");
    // 1e-40 rounds to a nonzero float32 subnormal, so it is true (x != 0).
    expect(await values(bf)).toEqual([0, 0, 1, 1, 1, 1]);
  });

  test("bool → numbers is 0/1", async () => {
    using b = np.array([true, false]);
    const targets = hasFloat64
      ? (["float32", "float64", "int32", "uint32"] as const)
      : (["float32", "int32", "uint32"] as const);
    for (const d of targets) {
      using r = b.astype(d);
      expect(r.dtype).toBe(d);
      expect(await values(r)).toEqual([1, 0]);
    }
  });

  test("int32 ↔ uint32 reinterpret modulo 2^32", async () => {
    using i = np.array([-1, I32_MIN, 5], { dtype: "int32" });
    using u = i.astype("uint32");
    expect(await values(u)).toEqual([4294967295, 2147483648, 5]);
    using back = u.astype("int32");
    expect(await values(back)).toEqual([-1, I32_MIN, 5]);
  });

  test("int32 → float32 rounds to nearest float32; float64 → float32 rounds", async () => {
    using i = np.array([16777217, I32_MAX, -3], { dtype: "int32" });
    using f = i.astype("float32");
    expect(await values(f)).toEqual([16777216, 2147483648, -3]);
    if (hasFloat64) {
      using d = np.array(new Float64Array([0.1, 1 + 2 ** -30]), { dtype: "float64" });
      using r = d.astype("float32");
      expect(await values(r)).toEqual([f32(0.1), 1]);
    }
  });
});

describe("dtype errors of elementwise primitives", () => {
  test("float-only lax-level functions reject integers with a hint", () => {
    using i = np.array([1], { dtype: "int32" });
    expect(() => lax.logistic(i)).toThrow(DTypeError);
    expect(() => lax.logistic(i)).toThrow(/astype/);
  });
});
