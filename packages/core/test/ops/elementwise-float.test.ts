/**
 * Every float32 elementwise function of `np` (unary, round, binary with broadcasting) against
 * float64 JS references computed from the float32-rounded inputs, plus special values
 * (NaN, ±Inf, overflow, saturation).
 */
import { type Array as JArray, lax, np, ShapeError } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { f32, values } from "./helpers.js";

/** float32 rounding dominates: a result within a few ulps of the float64 reference passes. */
const TOL = { rtol: 1e-6, atol: 1e-7 };

/** The float64 reference of a unary function over float32-rounded inputs. */
function ref1(xs: readonly number[], f: (x: number) => number): number[] {
  return xs.map((x) => f(f32(x)));
}

/** The float64 reference of a binary function with numpy broadcasting of a [m,n] and a [n] operand. */
function ref2(a: readonly number[][], b: readonly number[], f: (x: number, y: number) => number): number[][] {
  return a.map((row) => row.map((x, j) => f(f32(x), f32(b[j] as number))));
}

async function checkUnary(fn: (x: JArray) => JArray, xs: readonly number[], f: (x: number) => number): Promise<void> {
  using x = np.array([...xs]);
  using r = fn(x);
  expect(r.dtype).toBe("float32");
  expect(r.shape).toEqual([xs.length]);
  await expectClose(r, ref1(xs, f), TOL);
}

describe("unary float32 functions against float64 references", () => {
  const general = [-7.25, -3, -1, -0.5, -1e-3, 0, 1e-4, 0.3, 1, 2.7, 10];
  const positive = [1e-30, 1e-5, 0.1, 0.5, 1, 2, 3.3, 10, 1234.5, 1e30];

  test("negative", () => checkUnary(np.negative, general, (x) => -x));
  test("abs", () => checkUnary(np.abs, general, Math.abs));
  test("sign", () => checkUnary(np.sign, general, Math.sign));
  test("exp", () => checkUnary(np.exp, [...general, -50, 20, 60, 88], Math.exp));
  test("log", () => checkUnary(np.log, positive, Math.log));
  test("sqrt", () => checkUnary(np.sqrt, [0, ...positive], Math.sqrt));
  test("rsqrt", () => checkUnary(np.rsqrt, positive, (x) => 1 / Math.sqrt(x)));
  test("tanh", () => checkUnary(np.tanh, [...general, -20, 5, 9], Math.tanh));
  test("sin", () => checkUnary(np.sin, [...general, f32(Math.PI), 100, -1000], Math.sin));
  test("cos", () => checkUnary(np.cos, [...general, 1.5707964, 100, -1000], Math.cos));
  test("log1p", () => checkUnary(np.log1p, [-0.999, -0.5, -1e-7, 0, 1e-10, 1e-7, 1e-3, 1, 100, 1e20], Math.log1p));
  test("expm1", () => checkUnary(np.expm1, [-20, -1, -1e-7, 0, 1e-10, 1e-7, 1e-3, 1, 10, 80], Math.expm1));
  test("floor", () => checkUnary(np.floor, [...general, -2.5, 2.5, 1e7 + 0.5], Math.floor));
  test("ceil", () => checkUnary(np.ceil, [...general, -2.5, 2.5, 1e7 + 0.5], Math.ceil));
  test("sigmoid", () => checkUnary(np.sigmoid, [...general, -30, -16, 16, 30], (x) => 1 / (1 + Math.exp(-x))));
  test("square", () => checkUnary(np.square, [...general, 1e19], (x) => x * x));
  test("reciprocal", () => checkUnary(np.reciprocal, [-4, -0.3, 1e-3, 1, 3, 7, 1e30], (x) => 1 / x));

  test("the Array methods agree with the functions", async () => {
    using x = np.array([0.25, 1, 4]);
    using neg = x.neg();
    await expectClose(neg, [-0.25, -1, -4]);
    using ab = neg.abs();
    await expectClose(ab, [0.25, 1, 4]);
    using e = x.exp();
    await expectClose(e, ref1([0.25, 1, 4], Math.exp), TOL);
    using l = x.log();
    await expectClose(l, ref1([0.25, 1, 4], Math.log), TOL);
    using s = x.sqrt();
    await expectClose(s, [0.5, 1, 2]);
    using t = x.tanh();
    await expectClose(t, ref1([0.25, 1, 4], Math.tanh), TOL);
    using sq = x.square();
    await expectClose(sq, [0.0625, 1, 16]);
  });

  test("a large (non-multiple-of-8) array: exp, tanh, sigmoid over 1001 points", async () => {
    const xs = globalThis.Array.from({ length: 1001 }, (_, i) => -10 + i * 0.02);
    using x = np.array(new Float64Array(xs));
    using e = np.exp(x);
    await expectClose(e, ref1(xs, Math.exp), TOL);
    using t = np.tanh(x);
    await expectClose(t, ref1(xs, Math.tanh), TOL);
    using s = np.sigmoid(x);
    await expectClose(
      s,
      ref1(xs, (v) => 1 / (1 + Math.exp(-v))),
      TOL,
    );
  });

  test("strided inputs (transposed, stepped, reversed)", async () => {
    using x = np.array([
      [0.5, 1, 1.5],
      [2, 2.5, 3],
    ]);
    using xt = x.T;
    using e = np.exp(xt);
    expect(e.shape).toEqual([3, 2]);
    await expectClose(e, ref1([0.5, 2, 1, 2.5, 1.5, 3], Math.exp), TOL);
    using stepped = x.slice(null, [null, null, 2]);
    using l = np.log(stepped);
    await expectClose(l, ref1([0.5, 1.5, 2, 3], Math.log), TOL);
    using rev = x.slice([null, null, -1], [null, null, -1]);
    using n = np.negative(rev);
    await expectClose(n, [-3, -2.5, -2, -1.5, -1, -0.5]);
  });
});

describe("round (half to even)", () => {
  test("ties go to the even neighbour, the sign of zero is kept", async () => {
    const xs = [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 0.49999997, 1.4999999, -3.51, 2.6, 0, -0.4];
    const want = [0, 2, 2, 4, -0, -2, -2, 0, 1, -4, 3, 0, -0];
    using x = np.array(xs);
    using r = np.round(x);
    expect(r.dtype).toBe("float32");
    const got = await values(r);
    expect(got).toHaveLength(want.length);
    got.forEach((g, i) => {
      expect(Object.is(g, want[i]), `round(${f32(xs[i] as number)}) = ${g}, expected ${want[i]}`).toBe(true);
    });
  });

  test("large float32 values are already integers", async () => {
    using x = np.array([8388609, -8388609, 16777216]);
    using r = np.round(x);
    expect(await values(r)).toEqual([8388609, -8388609, 16777216]);
  });
});

describe("binary float32 functions with broadcasting", () => {
  const a = [
    [1.5, -2, 0.3],
    [4, 0.25, -7.5],
  ];
  const b = [2, -0.7, 3];

  async function checkBinary(fn: (x: JArray, y: JArray) => JArray, f: (x: number, y: number) => number): Promise<void> {
    using x = np.array(a);
    using y = np.array(b);
    using r = fn(x, y);
    expect(r.dtype).toBe("float32");
    expect(r.shape).toEqual([2, 3]);
    await expectClose(r, ref2(a, b, f), TOL);
  }

  test("add", () => checkBinary(np.add, (x, y) => x + y));
  test("subtract", () => checkBinary(np.subtract, (x, y) => x - y));
  test("multiply", () => checkBinary(np.multiply, (x, y) => x * y));
  test("divide", () => checkBinary(np.divide, (x, y) => x / y));
  test("maximum", () => checkBinary(np.maximum, Math.max));
  test("minimum", () => checkBinary(np.minimum, Math.min));
  test("power", async () => {
    using x = np.array([2, 0.5, 9, 1.7, 0, 0]);
    using y = np.array([10, -2, 0.5, 3.3, 0, 2]);
    using r = np.power(x, y);
    await expectClose(r, [1024, 4, 3, f32(1.7) ** f32(3.3), 1, 0], TOL);
    using neg = np.power(np.array([-8, -2]), np.array([1 / 3, 3]));
    await expectClose(neg, [Number.NaN, -8]);
    using m = x.pow(2);
    expect(m.dtype).toBe("float32");
    await expectClose(
      m,
      ref1([2, 0.5, 9, 1.7, 0, 0], (v) => v * v),
      TOL,
    );
  });

  test("broadcasting a column against a row gives the outer result", async () => {
    using col = np.array([[1], [2], [3]]);
    using row = np.array([10, 20]);
    using r = np.add(col, row);
    expect(r.shape).toEqual([3, 2]);
    expect(await r.toArray()).toEqual([
      [11, 21],
      [12, 22],
      [13, 23],
    ]);
    using m = np.multiply(row, col);
    expect(await m.toArray()).toEqual([
      [10, 20],
      [20, 40],
      [30, 60],
    ]);
  });

  test("incompatible shapes raise ShapeError naming both", () => {
    using x = np.zeros([2, 3]);
    using y = np.zeros([4]);
    expect(() => np.add(x, y)).toThrow(ShapeError);
    expect(() => np.add(x, y)).toThrow(/\[2,3\].*\[4\]/);
  });

  test("scalar operands on either side", async () => {
    using x = np.array([1, 2, 4]);
    using r1 = np.subtract(10, x);
    expect(await values(r1)).toEqual([9, 8, 6]);
    using r2 = np.divide(1, x);
    expect(await values(r2)).toEqual([1, 0.5, 0.25]);
    using r3 = x.div(4);
    expect(await values(r3)).toEqual([0.25, 0.5, 1]);
    using r4 = np.power(2, x);
    expect(await values(r4)).toEqual([2, 4, 16]);
  });
});

describe("special values", () => {
  test("maximum and minimum propagate NaN from either side", async () => {
    using x = np.array([Number.NaN, 1, Number.NaN, Number.NEGATIVE_INFINITY, 2]);
    using y = np.array([1, Number.NaN, Number.NaN, 3, Number.POSITIVE_INFINITY]);
    using mx = np.maximum(x, y);
    await expectClose(mx, [Number.NaN, Number.NaN, Number.NaN, 3, Number.POSITIVE_INFINITY]);
    using mn = np.minimum(x, y);
    await expectClose(mn, [Number.NaN, Number.NaN, Number.NaN, Number.NEGATIVE_INFINITY, 2]);
    using mxs = x.maximum(0);
    await expectClose(mxs, [Number.NaN, 1, Number.NaN, 0, 2]);
    using mns = np.minimum(1.5, x);
    await expectClose(mns, [Number.NaN, 1, Number.NaN, Number.NEGATIVE_INFINITY, 1.5]);
  });

  test("tanh(±100) = ±1, tanh(±Inf) = ±1", async () => {
    using x = np.array([100, -100, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    using r = np.tanh(x);
    expect(await values(r)).toEqual([1, -1, 1, -1]);
  });

  test("exp(88) is finite, exp(89) and exp(100) overflow to Inf, exp(-Inf) = 0", async () => {
    using x = np.array([88, 89, 100, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN]);
    using r = np.exp(x);
    const [e88, e89, e100, eNegInf, eInf, eNaN] = await values(r);
    expect(Number.isFinite(e88)).toBe(true);
    expect(Math.abs((e88 as number) - Math.exp(88)) / Math.exp(88)).toBeLessThan(1e-6);
    expect(e89).toBe(Number.POSITIVE_INFINITY);
    expect(e100).toBe(Number.POSITIVE_INFINITY);
    expect(eNegInf).toBe(0);
    expect(eInf).toBe(Number.POSITIVE_INFINITY);
    expect(eNaN).toBeNaN();
  });

  test("log(0) = -Inf, log(-1) = NaN, log(Inf) = Inf", async () => {
    using x = np.array([0, -0, -1, Number.POSITIVE_INFINITY]);
    using r = np.log(x);
    await expectClose(r, [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, Number.POSITIVE_INFINITY]);
  });

  test("sqrt(-1) = NaN, sqrt(Inf) = Inf; rsqrt(0) = Inf", async () => {
    using x = np.array([-1, Number.POSITIVE_INFINITY, 0]);
    using s = np.sqrt(x);
    await expectClose(s, [Number.NaN, Number.POSITIVE_INFINITY, 0]);
    using rs = np.rsqrt(x);
    await expectClose(rs, [Number.NaN, 0, Number.POSITIVE_INFINITY]);
  });

  test("sigmoid saturates without NaN: sigmoid(-1000) = 0, sigmoid(1000) = 1", async () => {
    using x = np.array([-1000, 1000, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 0]);
    using r = np.sigmoid(x);
    expect(await values(r)).toEqual([0, 1, 0, 1, 0.5]);
    using l = lax.logistic(x);
    expect(await values(l)).toEqual([0, 1, 0, 1, 0.5]);
  });

  test("log1p(-1) = -Inf, expm1(-Inf) = -1, expm1(100) = Inf", async () => {
    using x = np.array([-1, -2]);
    using l = np.log1p(x);
    await expectClose(l, [Number.NEGATIVE_INFINITY, Number.NaN]);
    using y = np.array([Number.NEGATIVE_INFINITY, 100]);
    using e = np.expm1(y);
    await expectClose(e, [-1, Number.POSITIVE_INFINITY]);
  });

  test("division by zero and Inf arithmetic", async () => {
    using x = np.array([1, -1, 0, Number.POSITIVE_INFINITY]);
    using r = np.divide(x, 0);
    await expectClose(r, [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, Number.POSITIVE_INFINITY]);
    using rec = np.reciprocal(np.array([0, -0, Number.POSITIVE_INFINITY]));
    await expectClose(rec, [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0]);
    using inf = np.array([Number.POSITIVE_INFINITY]);
    using diff = np.subtract(inf, inf);
    await expectClose(diff, [Number.NaN]);
    using prod = np.multiply(inf, 0);
    await expectClose(prod, [Number.NaN]);
  });

  test("sign of NaN is NaN, abs(-Inf) = Inf", async () => {
    using x = np.array([Number.NaN, Number.NEGATIVE_INFINITY]);
    using s = np.sign(x);
    await expectClose(s, [Number.NaN, -1]);
    using a = np.abs(x);
    await expectClose(a, [Number.NaN, Number.POSITIVE_INFINITY]);
  });

  test("float32 overflow of finite arithmetic gives Inf", async () => {
    using x = np.array([3e38]);
    using r = x.mul(2);
    expect(await values(r)).toEqual([Number.POSITIVE_INFINITY]);
    using sq = np.square(np.array([1e20]));
    expect(await values(sq)).toEqual([Number.POSITIVE_INFINITY]);
  });
});
