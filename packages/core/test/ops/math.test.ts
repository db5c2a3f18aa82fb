/**
 * The math functions beyond the basics, on float32 against float64 references (JS Math, and
 * for erf/erfc/erfinv known values: erf(0.5) = 0.5204998778130465, erf(1) = 0.8427007929497149,
 * erf(2) = 0.9953222650189527, erfc(3) = 2.209049699858544e-5, erfinv(0.5) = 0.4769362762044699,
 * erfinv(0.9) = 1.1630871536766743, erfinv(-0.999) = -2.326753765513525), and the integer ops
 * against hand-computed values. Stated tolerances are relative to float32 rounding.
 */
import { BackendError, DTypeError, lax, np } from "@webjax/core";
import { expectClose, hasFloat64, testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const f32 = (xs: number[]) => xs.map(Math.fround);
const tol = { rtol: 2e-6, atol: 1e-7 };

describe("trigonometric and hyperbolic functions", () => {
  const cases: [
    string,
    (x: ReturnType<typeof np.array>) => ReturnType<typeof np.array>,
    (x: number) => number,
    number[],
  ][] = [
    ["tan", np.tan, Math.tan, [-1.5, -1, -0.3, 0, 0.2, 0.7, 1.2, 3, 10]],
    ["arcsin", np.arcsin, Math.asin, [-1, -0.99, -0.6, -0.1, 0, 1e-4, 0.3, 0.5, 0.51, 0.9, 1, 1.5]],
    ["arccos", np.arccos, Math.acos, [-1, -0.99, -0.6, -0.1, 0, 1e-4, 0.3, 0.5, 0.51, 0.9, 1, -1.5]],
    ["arctan", np.arctan, Math.atan, [-1e6, -50, -2.5, -1, -0.4, 0, 1e-5, 0.41, 0.42, 1, 2.4, 2.42, 80]],
    ["sinh", np.sinh, Math.sinh, [-89, -20, -1, -1e-4, 0, 1e-6, 0.3, 1, 5, 85]],
    ["cosh", np.cosh, Math.cosh, [-89, -20, -1, 0, 0.3, 1, 5, 85]],
    ["arcsinh", np.arcsinh, Math.asinh, [-1e5, -3, -1e-3, 0, 1e-6, 0.5, 2, 1e4, 3e4]],
    ["arctanh", np.arctanh, Math.atanh, [-0.999, -0.5, -1e-5, 0, 1e-3, 0.25, 0.9, 1, -1, 2]],
    ["cbrt", np.cbrt, Math.cbrt, [-1000, -27, -0.001, 0, 1e-9, 0.5, 8, 1e20]],
    ["exp2", np.exp2, (x) => 2 ** x, [-149, -126.5, -10, -0.5, 0, 0.1, 1, 10.5, 100, 127.9, 128]],
  ];
  test.each(cases)("%s", async (_, f, ref, xs) => {
    const inputs = f32(xs);
    using x = np.array(Float32Array.from(inputs));
    using y = f(x);
    await expectClose(
      y,
      inputs.map((v) => Math.fround(ref(v))),
      tol,
    );
  });

  test("arctan2 in all four quadrants and on the axes", async () => {
    const ys = [1, 1, -1, -1, 0, 0, 2, -2, 0, -0];
    const xs = [1, -1, 1, -1, 1, -1, 0, 0, 0, -1];
    using y = np.array(ys);
    using x = np.array(xs);
    using a = np.arctan2(y, x);
    await expectClose(
      a,
      ys.map((v, i) => Math.fround(Math.atan2(v, xs[i] as number))),
      tol,
    );
  });

  test("log2, log10 and logaddexp (stable, and equal infinities)", async () => {
    using x = np.array([1, 2, 1024, 0.125, 1e-20]);
    using l2 = np.log2(x);
    using l10 = np.log10(x);
    await expectClose(l2, [0, 1, 10, -3, Math.log2(Math.fround(1e-20))], tol);
    await expectClose(
      l10,
      [0, Math.log10(2), Math.log10(1024), Math.log10(0.125), Math.log10(Math.fround(1e-20))],
      tol,
    );
    using a = np.array([0, 1000, -1000, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 3]);
    using b = np.array([0, 1000, -1001, Number.NEGATIVE_INFINITY, 1, Number.NaN]);
    using s = np.logaddexp(a, b);
    await expectClose(
      s,
      [
        Math.LN2,
        1000 + Math.LN2,
        -1000 + Math.log1p(Math.exp(-1)),
        Number.NEGATIVE_INFINITY,
        Number.POSITIVE_INFINITY,
        Number.NaN,
      ],
      tol,
    );
  });
});

describe("special functions", () => {
  test("erf and erfc at known values and their symmetries", async () => {
    using x = np.array([0, 0.5, 1, 2, 3, -0.5, -2, 6]);
    using e = np.erf(x);
    using c = np.erfc(x);
    const erfs = [0, 0.5204998778130465, 0.8427007929497149, 0.9953222650189527, 0.9999779095030014];
    await expectClose(e, [...erfs, -(erfs[1] as number), -(erfs[3] as number), 1], tol);
    const erfcs = [1, 0.4795001221869535, 0.15729920705028513, 0.004677734981047266, 2.209049699858544e-5];
    await expectClose(c, [...erfcs, 2 - (erfcs[1] as number), 2 - (erfcs[3] as number), 2.1519736712498913e-17], {
      rtol: 1e-5,
      atol: 0,
    });
  });

  test("erfinv inverts erf, with ±Inf at ±1 and NaN outside", async () => {
    using x = np.array([0, 0.5, 0.9, -0.999, 1, -1, 1.5]);
    using y = np.erfinv(x);
    await expectClose(
      y,
      [
        0,
        0.4769362762044699,
        1.1630871536766743,
        -2.326753765513525,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        Number.NaN,
      ],
      { rtol: 2e-6, atol: 0 },
    );
    using z = np.linspace(-0.99, 0.99, 41);
    using back = np.erf(np.erfinv(z));
    await expectClose(back, Array.from(await z.data()), { rtol: 1e-5, atol: 1e-6 });
  });
});

describe("NaN and Inf tests", () => {
  test("isnan, isinf, isfinite, nanToNum", async () => {
    using x = np.array([1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]);
    using n = np.isnan(x);
    using i = np.isinf(x);
    using f = np.isfinite(x);
    expect(Array.from(await n.data())).toEqual([0, 1, 0, 0, 0]);
    expect(Array.from(await i.data())).toEqual([0, 0, 1, 1, 0]);
    expect(Array.from(await f.data())).toEqual([1, 0, 0, 0, 1]);
    using c = np.nanToNum(x);
    expect(Array.from(await c.data())).toEqual([1, 0, 3.4028234663852886e38, -3.4028234663852886e38, -0]);
    using c2 = np.nanToNum(x, { nan: -1, posinf: 9, neginf: -9 });
    expect(Array.from(await c2.data())).toEqual([1, -1, 9, -9, -0]);
    using k = np.array([3, -3], { dtype: "int32" });
    using kf = np.isfinite(k);
    expect(Array.from(await kf.data())).toEqual([1, 1]);
  });
});

describe("rounding and integer division", () => {
  test("trunc, floorDivide and mod follow numpy's signs", async () => {
    using x = np.array([7, -7, 7, -7, 7.5, -7.5]);
    using y = np.array([2, 2, -2, -2, 2, 2]);
    using t = np.trunc(x);
    using q = np.floorDivide(x, y);
    using m = np.mod(x, y);
    expect(Array.from(await t.data())).toEqual([7, -7, 7, -7, 7, -7]);
    expect(Array.from(await q.data())).toEqual([3, -4, -4, 3, 3, -4]);
    expect(Array.from(await m.data())).toEqual([1, 1, -1, -1, 1.5, 0.5]);
    using xi = np.array([7, -7, 7, -7, 0], { dtype: "int32" });
    using yi = np.array([2, 2, -2, -2, 3], { dtype: "int32" });
    using qi = np.floorDivide(xi, yi);
    using mi = np.mod(xi, yi);
    expect(qi.dtype).toBe("int32");
    expect(Array.from(await qi.data())).toEqual([3, -4, -4, 3, 0]);
    expect(Array.from(await mi.data())).toEqual([1, 1, -1, -1, 0]);
  });
});

describe("bitwise ops and shifts", () => {
  test("and/or/xor/not on int32, uint32 and bool", async () => {
    using a = np.array([12, -1, 0], { dtype: "int32" });
    using b = np.array([10, 255, 7], { dtype: "int32" });
    using and = np.bitwiseAnd(a, b);
    using or = np.bitwiseOr(a, b);
    using xor = np.bitwiseXor(a, b);
    using not = np.bitwiseNot(a);
    expect(Array.from(await and.data())).toEqual([8, 255, 0]);
    expect(Array.from(await or.data())).toEqual([14, -1, 7]);
    expect(Array.from(await xor.data())).toEqual([6, -256, 7]);
    expect(Array.from(await not.data())).toEqual([-13, 0, -1]);
    using u = np.array(new Uint32Array([0xf0f0f0f0]));
    using nu = np.invert(u);
    expect(Array.from(await nu.data())).toEqual([0x0f0f0f0f]);
    using t = np.array([true, false]);
    using nt = np.bitwiseNot(t);
    expect(Array.from(await nt.data())).toEqual([0, 1]);
    using f = np.array([1.5]);
    expect(() => np.bitwiseAnd(f, f)).toThrow(DTypeError);
  });

  test("shifts: arithmetic for int32, logical for uint32, and by 32 or more as XLA", async () => {
    using a = np.array([1, -8, -8, 5, 1, -1], { dtype: "int32" });
    using s = np.array([3, 1, 31, 32, 40, 33], { dtype: "int32" });
    using l = np.leftShift(a, s);
    using r = np.rightShift(a, s);
    expect(Array.from(await l.data())).toEqual([8, -16, 0, 0, 0, 0]);
    expect(Array.from(await r.data())).toEqual([0, -4, -1, 0, 0, -1]);
    using rl = lax.shiftRightLogical(a, s);
    expect(Array.from(await rl.data())).toEqual([0, 2147483644, 1, 0, 0, 0]);
    using u = np.array(new Uint32Array([0x80000000, 16, 1]));
    using us = np.array(new Uint32Array([31, 2, 32]));
    using ur = np.rightShift(u, us);
    using ul = np.leftShift(u, us);
    expect(Array.from(await ur.data())).toEqual([1, 4, 0]);
    expect(Array.from(await ul.data())).toEqual([0, 64, 0]);
  });

  test("bitcast between 32-bit dtypes", async () => {
    using f = np.array([1, -2, 0.5]);
    using i = lax.bitcastConvertType(f, "int32");
    expect(Array.from(await i.data())).toEqual([0x3f800000, -1073741824, 0x3f000000]);
    using u = lax.bitcastConvertType(i, "uint32");
    expect(Array.from(await u.data())).toEqual([0x3f800000, 0xc0000000, 0x3f000000]);
    using back = lax.bitcastConvertType(u, "float32");
    expect(Array.from(await back.data())).toEqual([1, -2, 0.5]);
    using b = np.array([true]);
    expect(() => lax.bitcastConvertType(b, "int32")).toThrow(DTypeError);
  });
});

test.runIf(hasFloat64)("float64 special functions are accurate to double precision", async () => {
  using x = np.array(new Float64Array([0.5, 1, 3]), { dtype: "float64" });
  using e = np.erf(x);
  using c = np.erfc(x);
  await expectClose(e, [0.5204998778130465, 0.8427007929497149, 0.9999779095030014], { rtol: 1e-14, atol: 0 });
  await expectClose(c, [0.4795001221869535, 0.15729920705028513, 2.209049699858544e-5], { rtol: 1e-13, atol: 0 });
  using p = np.array(new Float64Array([0.5, 0.9, -0.999]), { dtype: "float64" });
  using q = np.erfinv(p);
  await expectClose(q, [0.4769362762044699, 1.1630871536766743, -2.326753765513525], { rtol: 1e-13, atol: 0 });
});

test.runIf(testBackend !== "cpu")("no float64 here: a BackendError, not a wrong answer", () => {
  expect(() => np.zeros([1], { dtype: "float64" })).toThrow(BackendError);
});

test("logicalXor broadcasts and treats nonzero as true", async () => {
  using a = np.array([[0], [2]]);
  using b = np.array([0, 1, -1]);
  using x = np.logicalXor(a, b);
  expect(x.dtype).toBe("bool");
  expect(await x.toArray()).toEqual([
    [0, 1, 1],
    [1, 0, 0],
  ]);
});
