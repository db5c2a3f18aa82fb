/**
 * dtype promotion (JAX's lattice, x64 off, bare JS numbers weakly typed) and the dtypes chosen
 * by creation functions. Expected values are written by hand from JAX's documented rules.
 */
import { BackendError, DTYPES, type DType, DTypeError, type Array as JArray, np, promoteTypes } from "@webjax/core";
import { hasFloat64 } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

async function values(x: JArray): Promise<number[]> {
  return globalThis.Array.from(await x.data());
}

/** Asserts dtype, weak flag, shape and exact values of `x`. */
async function expectTyped(
  x: JArray,
  dtype: DType,
  weak: boolean,
  shape: readonly number[],
  want: readonly number[],
): Promise<void> {
  expect(x.dtype).toBe(dtype);
  expect(x.weakType).toBe(weak);
  expect(x.shape).toEqual(shape);
  expect(await values(x)).toEqual(want);
}

describe("promoteTypes (the lattice itself)", () => {
  const s = (dtype: DType) => ({ dtype, weak: false });
  const w = (dtype: DType) => ({ dtype, weak: true });

  test("strong with strong", () => {
    expect(promoteTypes(s("int32"), s("int32"))).toEqual(s("int32"));
    expect(promoteTypes(s("bool"), s("int32"))).toEqual(s("int32"));
    expect(promoteTypes(s("bool"), s("uint32"))).toEqual(s("uint32"));
    expect(promoteTypes(s("uint32"), s("bool"))).toEqual(s("uint32"));
    expect(promoteTypes(s("int32"), s("uint32"))).toEqual(s("int32"));
    expect(promoteTypes(s("uint32"), s("int32"))).toEqual(s("int32"));
    expect(promoteTypes(s("int32"), s("float32"))).toEqual(s("float32"));
    expect(promoteTypes(s("uint32"), s("float32"))).toEqual(s("float32"));
    expect(promoteTypes(s("float32"), s("float64"))).toEqual(s("float64"));
    expect(promoteTypes(s("float64"), s("int32"))).toEqual(s("float64"));
    expect(promoteTypes(s("bool"), s("bool"))).toEqual(s("bool"));
  });

  test("weak with strong: the strong dtype when its kind is at least as high", () => {
    expect(promoteTypes(w("int32"), s("int32"))).toEqual(s("int32"));
    expect(promoteTypes(s("uint32"), w("int32"))).toEqual(s("uint32"));
    expect(promoteTypes(w("int32"), s("float32"))).toEqual(s("float32"));
    expect(promoteTypes(w("float32"), s("float64"))).toEqual(s("float64"));
    expect(promoteTypes(w("int32"), s("float64"))).toEqual(s("float64"));
  });

  test("weak of a higher kind: that kind's default, still weak", () => {
    expect(promoteTypes(s("int32"), w("float32"))).toEqual(w("float32"));
    expect(promoteTypes(s("uint32"), w("float32"))).toEqual(w("float32"));
    expect(promoteTypes(s("bool"), w("int32"))).toEqual(w("int32"));
    expect(promoteTypes(s("bool"), w("float32"))).toEqual(w("float32"));
  });

  test("weak with weak stays weak, the higher kind wins", () => {
    expect(promoteTypes(w("int32"), w("float32"))).toEqual(w("float32"));
    expect(promoteTypes(w("float32"), w("int32"))).toEqual(w("float32"));
    expect(promoteTypes(w("int32"), w("int32"))).toEqual(w("int32"));
  });

  test("DTYPES lists the six dtypes", () => {
    expect([...DTYPES].sort()).toEqual(["bool", "float16", "float32", "float64", "int32", "uint32"]);
  });
});

describe("binary ops with weak JS scalars", () => {
  test("np.array of JS numbers is float32 and not weak", async () => {
    using x = np.array([1, 2]);
    await expectTyped(x, "float32", false, [2], [1, 2]);
  });

  test("int32 array + 2 → int32", async () => {
    using x = np.array([1, 2, -3], { dtype: "int32" });
    using r = x.add(2);
    await expectTyped(r, "int32", false, [3], [3, 4, -1]);
    using r2 = np.add(2, x);
    await expectTyped(r2, "int32", false, [3], [3, 4, -1]);
  });

  test("int32 array * 3 → int32, int32 - 1 → int32", async () => {
    using x = np.array([1, 2, -3], { dtype: "int32" });
    using m = x.mul(3);
    await expectTyped(m, "int32", false, [3], [3, 6, -9]);
    using s = np.subtract(1, x);
    await expectTyped(s, "int32", false, [3], [0, -1, 4]);
  });

  test("int32 array + 2.5 → float32", async () => {
    using x = np.array([1, 2, -3], { dtype: "int32" });
    using r = x.add(2.5);
    expect(r.dtype).toBe("float32");
    expect(r.shape).toEqual([3]);
    expect(await values(r)).toEqual([3.5, 4.5, -0.5]);
    using r2 = np.multiply(0.5, x);
    expect(r2.dtype).toBe("float32");
    expect(await values(r2)).toEqual([0.5, 1, -1.5]);
  });

  test("int32 array + 2.5 is weakly typed, as JAX (int32 ⊔ float* = float*)", () => {
    // JAX: jnp.int32(1) + 2.5 → Array(3.5, dtype=float32, weak_type=True); promoteTypes agrees.
    using x = np.array([1, 2], { dtype: "int32" });
    using r = x.add(2.5);
    expect(r.dtype).toBe("float32");
    expect(r.weakType).toBe(true);
  });

  test("float32 * 2 keeps float32 (not weak)", async () => {
    using x = np.array([1.5, -2]);
    using r = x.mul(2);
    await expectTyped(r, "float32", false, [2], [3, -4]);
    using r2 = x.add(0.25);
    await expectTyped(r2, "float32", false, [2], [1.75, -1.75]);
  });

  test.runIf(hasFloat64)("float64 array with weak scalars stays float64 (no rounding to float32)", async () => {
    using x = np.array(new Float64Array([0.1, 1]), { dtype: "float64" });
    using r = x.add(0.2);
    expect(r.dtype).toBe("float64");
    expect(r.weakType).toBe(false);
    const d = await r.data();
    expect(d).toBeInstanceOf(Float64Array);
    expect(globalThis.Array.from(d)).toEqual([0.1 + 0.2, 1.2]);
    using r2 = x.mul(3);
    expect(r2.dtype).toBe("float64");
    expect(await values(r2)).toEqual([0.1 * 3, 3]);
  });

  test("bool array + 1 → int32", async () => {
    using b = np.array([true, false]);
    expect(b.dtype).toBe("bool");
    using r = b.add(1);
    expect(r.dtype).toBe("int32");
    expect(r.shape).toEqual([2]);
    expect(await values(r)).toEqual([2, 1]);
  });

  test("bool array + 1 is weakly typed, as JAX (bool ⊔ int* = int*)", () => {
    // JAX: jnp.bool_(True) + 1 → Array(2, dtype=int32, weak_type=True); promoteTypes agrees.
    using b = np.array([true, false]);
    using r = b.add(1);
    expect(r.dtype).toBe("int32");
    expect(r.weakType).toBe(true);
  });

  test("bool array + 1.5 → float32", async () => {
    using b = np.array([true, false]);
    using r = b.add(1.5);
    expect(r.dtype).toBe("float32");
    expect(await values(r)).toEqual([2.5, 1.5]);
  });

  test("bool with bool: add is or, multiply is and, logicalAnd/Or/Not stay bool", async () => {
    using a = np.array([true, true, false, false]);
    using b = np.array([true, false, true, false]);
    using sum = a.add(b);
    await expectTyped(sum, "bool", false, [4], [1, 1, 1, 0]);
    using prod = a.mul(b);
    await expectTyped(prod, "bool", false, [4], [1, 0, 0, 0]);
    using and = np.logicalAnd(a, b);
    await expectTyped(and, "bool", false, [4], [1, 0, 0, 0]);
    using or = np.logicalOr(a, b);
    await expectTyped(or, "bool", false, [4], [1, 1, 1, 0]);
    using not = np.logicalNot(a);
    await expectTyped(not, "bool", false, [4], [0, 0, 1, 1]);
    using mx = np.maximum(a, b);
    await expectTyped(mx, "bool", false, [4], [1, 1, 1, 0]);
    using mn = np.minimum(a, b);
    await expectTyped(mn, "bool", false, [4], [1, 0, 0, 0]);
  });

  test("a JS boolean is a strong bool: int32 + true → int32, float32 + true → float32", async () => {
    using i = np.array([1, 2], { dtype: "int32" });
    using r = i.add(true);
    await expectTyped(r, "int32", false, [2], [2, 3]);
    using f = np.array([0.5]);
    using r2 = f.add(true);
    await expectTyped(r2, "float32", false, [1], [1.5]);
  });

  test("int32 + uint32 → int32 (int64 canonicalised without x64)", async () => {
    using i = np.array([-1, 5], { dtype: "int32" });
    using u = np.array([3, 7], { dtype: "uint32" });
    using r = i.add(u);
    await expectTyped(r, "int32", false, [2], [2, 12]);
    using r2 = u.add(i);
    await expectTyped(r2, "int32", false, [2], [2, 12]);
  });

  test.runIf(hasFloat64)("float32 + float64 → float64", async () => {
    using a = np.array([0.5, 1]);
    using b = np.array(new Float64Array([0.25, 1e-10]), { dtype: "float64" });
    using r = a.add(b);
    expect(r.dtype).toBe("float64");
    expect(r.weakType).toBe(false);
    expect(await values(r)).toEqual([0.75, 1 + 1e-10]);
    using r2 = b.mul(a);
    expect(r2.dtype).toBe("float64");
  });

  test("int32 + float32 → float32; uint32 + float32 → float32", async () => {
    using i = np.array([1, 2], { dtype: "int32" });
    using u = np.array([1, 2], { dtype: "uint32" });
    using f = np.array([0.5, 0.25]);
    using r = i.add(f);
    await expectTyped(r, "float32", false, [2], [1.5, 2.25]);
    using r2 = u.add(f);
    await expectTyped(r2, "float32", false, [2], [1.5, 2.25]);
  });

  test("uint32 ops keep uint32 and wrap modulo 2^32", async () => {
    using u = np.array([0, 1, 4294967295], { dtype: "uint32" });
    using plus = u.add(1);
    await expectTyped(plus, "uint32", false, [3], [1, 2, 0]);
    using minus = u.sub(1);
    await expectTyped(minus, "uint32", false, [3], [4294967295, 0, 4294967294]);
    using times = u.mul(2);
    await expectTyped(times, "uint32", false, [3], [0, 2, 4294967294]);
    expect(await times.data()).toBeInstanceOf(Uint32Array);
    using big = np.array([4000000000, 3], { dtype: "uint32" });
    using gt = big.greater(1);
    await expectTyped(gt, "bool", false, [2], [1, 1]);
    using mx = np.maximum(big, 5);
    await expectTyped(mx, "uint32", false, [2], [4000000000, 5]);
    using mn = np.minimum(big, 5);
    await expectTyped(mn, "uint32", false, [2], [5, 3]);
    using half = u.add(0.5);
    expect(half.dtype).toBe("float32");
  });

  test("uint32 with bool → uint32", async () => {
    using u = np.array([7], { dtype: "uint32" });
    using b = np.array([true]);
    using r = u.add(b);
    await expectTyped(r, "uint32", false, [1], [8]);
  });

  test("two JS numbers give a weak float32 result, integral or not (the dtype rule)", async () => {
    using a = np.add(2, 3);
    await expectTyped(a, "float32", true, [], [5]);
    using m = np.maximum(1, 2);
    await expectTyped(m, "float32", true, [], [2]);
    // Integer-only functions keep int32.
    using bw = np.bitwiseAnd(6, 3);
    await expectTyped(bw, "int32", true, [], [2]);
    using b = np.multiply(2, 2.5);
    await expectTyped(b, "float32", true, [], [5]);
    using c = np.add(1.5, 1.25);
    await expectTyped(c, "float32", true, [], [2.75]);
  });

  test("a weak scalar result adopts the dtype of a later strong operand", async () => {
    using w = np.add(2, 3); // weak float32 scalar: JS numbers alone give float32
    using f = np.array([0.5]);
    using r = f.add(w);
    await expectTyped(r, "float32", false, [1], [5.5]);
    using i = np.array([1], { dtype: "uint32" });
    using r2 = i.mul(w);
    await expectTyped(r2, "float32", true, [1], [5]);
    using wi = np.bitwiseOr(4, 1); // a weak int32 scalar takes a strong int's dtype
    using r4 = i.mul(wi);
    await expectTyped(r4, "uint32", false, [1], [5]);
    using wf = np.add(0.5, 1); // weak float32 scalar
    if (hasFloat64) {
      using d = np.array(new Float64Array([1]), { dtype: "float64" });
      using r3 = d.add(wf);
      await expectTyped(r3, "float64", false, [1], [2.5]);
    }
  });

  test("comparisons give bool, never weak", async () => {
    using x = np.array([1, 2, 3], { dtype: "int32" });
    using r = x.less(2);
    await expectTyped(r, "bool", false, [3], [1, 0, 0]);
    using w = np.greater(3, 2);
    expect(w.dtype).toBe("bool");
    expect(w.weakType).toBe(false);
    expect(await w.item()).toBe(1);
    expect(await r.data()).toBeInstanceOf(Uint8Array);
  });

  test("true division of integers and bools gives float32", async () => {
    using a = np.array([7, -7], { dtype: "int32" });
    using r = a.div(2);
    await expectTyped(r, "float32", false, [2], [3.5, -3.5]);
    using b = np.array([true, false]);
    using r2 = np.divide(b, 2);
    expect(r2.dtype).toBe("float32");
    expect(await values(r2)).toEqual([0.5, 0]);
    using u = np.array([9], { dtype: "uint32" });
    using r3 = np.divide(u, u);
    expect(r3.dtype).toBe("float32");
    if (hasFloat64) {
      using d = np.array(new Float64Array([1]), { dtype: "float64" });
      using r4 = np.divide(d, 3);
      expect(r4.dtype).toBe("float64");
      expect(await values(r4)).toEqual([1 / 3]);
    }
  });

  test("float-only functions promote integers to float32 and keep float64", async () => {
    using i = np.array([0, 4], { dtype: "int32" });
    using e = np.sqrt(i);
    await expectTyped(e, "float32", false, [2], [0, 2]);
    using b = np.exp(np.array([false]));
    expect(b.dtype).toBe("float32");
    if (hasFloat64) {
      using d = np.sqrt(np.array(new Float64Array([2]), { dtype: "float64" }));
      expect(d.dtype).toBe("float64");
      expect(await values(d)).toEqual([Math.SQRT2]);
    }
  });

  test("sum of bool is int32; power of bools is int32", async () => {
    using b = np.array([true, true, false]);
    using s = b.sum();
    await expectTyped(s, "int32", false, [], [2]);
    using p = np.power(b, b);
    expect(p.dtype).toBe("int32");
    expect(await values(p)).toEqual([1, 1, 1]);
  });

  test("data() returns the typed array of the dtype", async () => {
    using f = np.zeros([1]);
    using i = np.zeros([1], { dtype: "int32" });
    using u = np.zeros([1], { dtype: "uint32" });
    using b = np.zeros([1], { dtype: "bool" });
    expect(await f.data()).toBeInstanceOf(Float32Array);
    expect(await i.data()).toBeInstanceOf(Int32Array);
    expect(await u.data()).toBeInstanceOf(Uint32Array);
    expect(await b.data()).toBeInstanceOf(Uint8Array);
    if (hasFloat64) {
      using d = np.zeros([1], { dtype: "float64" });
      expect(await d.data()).toBeInstanceOf(Float64Array);
    }
  });
});

describe("creation dtypes", () => {
  test("typed arrays: Int32Array → int32, Uint32Array → uint32, Float32Array → float32", async () => {
    using i = np.array(new Int32Array([-1, 2]));
    await expectTyped(i, "int32", false, [2], [-1, 2]);
    using u = np.array(new Uint32Array([4294967295, 2]));
    await expectTyped(u, "uint32", false, [2], [4294967295, 2]);
    using f = np.array(new Float32Array([0.5, 2]));
    await expectTyped(f, "float32", false, [2], [0.5, 2]);
  });

  test("Float64Array → float32 unless dtype float64", async () => {
    using f = np.array(new Float64Array([0.1, 2]));
    await expectTyped(f, "float32", false, [2], [Math.fround(0.1), 2]);
    if (hasFloat64) {
      using d = np.array(new Float64Array([0.1, 2]), { dtype: "float64" });
      await expectTyped(d, "float64", false, [2], [0.1, 2]);
    }
  });

  test("explicit dtype on nested input", async () => {
    using i = np.array(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "int32" },
    );
    await expectTyped(i, "int32", false, [2, 2], [1, 2, 3, 4]);
    using b = np.array([0, 1], { dtype: "bool" });
    await expectTyped(b, "bool", false, [2], [0, 1]);
    if (hasFloat64) {
      using d = np.array([0.1], { dtype: "float64" });
      await expectTyped(d, "float64", false, [1], [0.1]);
    }
  });

  test("arange: integers give int32, any float argument gives float32", async () => {
    using a = np.arange(4);
    await expectTyped(a, "int32", false, [4], [0, 1, 2, 3]);
    using b = np.arange(1, 7, 2);
    await expectTyped(b, "int32", false, [3], [1, 3, 5]);
    using c = np.arange(0, 2, 0.5);
    await expectTyped(c, "float32", false, [4], [0, 0.5, 1, 1.5]);
    using d = np.arange(0.5, 3);
    await expectTyped(d, "float32", false, [3], [0.5, 1.5, 2.5]);
    using e = np.arange(3, undefined, 1, { dtype: "float32" });
    await expectTyped(e, "float32", false, [3], [0, 1, 2]);
  });

  test("zeros/ones/full/eye/linspace default to float32; full of a boolean is bool", () => {
    using z = np.zeros([2]);
    using o = np.ones([2]);
    using f = np.full([2], 3);
    using fb = np.full([2], true);
    using e = np.eye(2);
    using l = np.linspace(0, 1, 3);
    expect([z.dtype, o.dtype, f.dtype, fb.dtype, e.dtype, l.dtype]).toEqual([
      "float32",
      "float32",
      "float32",
      "bool",
      "float32",
      "float32",
    ]);
    for (const x of [z, o, f, fb, e, l]) expect(x.weakType).toBe(false);
  });

  test("astype converts and is never weak", async () => {
    using x = np.array([1.5, -2.5, 0]);
    using i = x.astype("int32");
    await expectTyped(i, "int32", false, [3], [1, -2, 0]);
    using b = np.astype(x, "bool");
    await expectTyped(b, "bool", false, [3], [1, 1, 0]);
    if (hasFloat64) {
      using d = x.astype("float64");
      await expectTyped(d, "float64", false, [3], [1.5, -2.5, 0]);
    }
    using back = i.astype("float32");
    await expectTyped(back, "float32", false, [3], [1, -2, 0]);
    using w = np.add(1, 2); // weak int32
    using ws = w.astype("int32");
    expect(ws.weakType).toBe(false);
    expect(ws.dtype).toBe("int32");
  });

  test.runIf(!hasFloat64)("float64 on a backend without it is a BackendError naming the cpu backend", () => {
    expect(() => np.zeros([2], { dtype: "float64" })).toThrow(BackendError);
    expect(() => np.zeros([2], { dtype: "float64" })).toThrow(/cpu/);
  });

  test("unknown dtypes raise DTypeError naming the valid ones", () => {
    const bad = "int64" as DType;
    expect(() => np.zeros([2], { dtype: bad })).toThrow(DTypeError);
    expect(() => np.ones([2], { dtype: "bfloat16" as DType })).toThrow(DTypeError);
    expect(() => np.full([2], 1, { dtype: bad })).toThrow(DTypeError);
    expect(() => np.array([1, 2], { dtype: bad })).toThrow(DTypeError);
    expect(() => np.array(new Float32Array(2), { dtype: bad })).toThrow(DTypeError);
    expect(() => np.arange(3, undefined, 1, { dtype: bad })).toThrow(DTypeError);
    expect(() => np.eye(2, undefined, { dtype: bad })).toThrow(DTypeError);
    using x = np.array([1]);
    expect(() => x.astype(bad)).toThrow(DTypeError);
    expect(() => np.astype(x, "complex64" as DType)).toThrow(/int64|complex64/);
    expect(() => x.astype(bad)).toThrow(/float32/);
  });

  test("nested JS arrays are operands (weak, as JS numbers); other values raise DTypeError", async () => {
    using x = np.array([1, 2]);
    using y = np.add(x, [10, 20]);
    await expectTyped(y, "float32", false, [2], [11, 22]);
    using i = np.array(Int32Array.of(1, 2));
    using j = i.mul([[2], [3]]);
    await expectTyped(j, "int32", false, [2, 2], [2, 4, 3, 6]);
    using k = np.add([1, 2], [3, 4]); // only JS numbers: float32
    await expectTyped(k, "float32", true, [2], [4, 6]);
    expect(() => np.add(x, "1" as unknown as number)).toThrow(DTypeError);
    expect(() => np.add(x, [1, "2"] as unknown as number[])).toThrow(DTypeError);
    expect(() => np.add(x, [1, [2]])).toThrow(/ragged/);
  });
});
