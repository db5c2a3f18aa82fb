/**
 * Every elementwise function of `np`, on float32 against float64 JS references computed from
 * the float32-rounded inputs, plus special values and the pinned integer/cast semantics
 * (see the comment in src/ir/expr.ts).
 */
import { DTypeError, type Array as JArray, lax, np, ShapeError } from "@webjax/core";
import { expectClose, hasFloat64 } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const f32 = Math.fround;
/** float32 rounding dominates: a result within a few ulps of the float64 reference passes. */
const TOL = { rtol: 1e-6, atol: 1e-7 };

async function values(x: JArray): Promise<number[]> {
  return globalThis.Array.from(await x.data());
}

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

describe("comparisons", () => {
  const a = [1, 2, 3, Number.NaN, Number.NEGATIVE_INFINITY];
  const b = [1, 3, 2, Number.NaN, Number.NEGATIVE_INFINITY];
  const cases: [string, (x: JArray, y: JArray) => JArray, (x: number, y: number) => boolean][] = [
    ["equal", np.equal, (x, y) => x === y],
    ["notEqual", np.notEqual, (x, y) => x !== y],
    ["less", np.less, (x, y) => x < y],
    ["lessEqual", np.lessEqual, (x, y) => x <= y],
    ["greater", np.greater, (x, y) => x > y],
    ["greaterEqual", np.greaterEqual, (x, y) => x >= y],
  ];
  test.each(cases)("%s (NaN compares unequal)", async (_name, fn, f) => {
    using x = np.array(a);
    using y = np.array(b);
    using r = fn(x, y);
    expect(r.dtype).toBe("bool");
    expect(r.shape).toEqual([5]);
    expect(await values(r)).toEqual(a.map((v, i) => (f(v, b[i] as number) ? 1 : 0)));
  });

  test("methods, scalars and broadcasting", async () => {
    using x = np.array([
      [1, 2],
      [3, 4],
    ]);
    using e = x.equal(2);
    expect(await e.toArray()).toEqual([
      [0, 1],
      [0, 0],
    ]);
    using ne = x.notEqual(np.array([1, 4]));
    expect(await ne.toArray()).toEqual([
      [0, 1],
      [1, 0],
    ]);
    using lt = x.less(3);
    expect(await values(lt)).toEqual([1, 1, 0, 0]);
    using le = x.lessEqual(3);
    expect(await values(le)).toEqual([1, 1, 1, 0]);
    using gt = x.greater(2.5);
    expect(await values(gt)).toEqual([0, 0, 1, 1]);
    using ge = x.greaterEqual(2);
    expect(await values(ge)).toEqual([0, 1, 1, 1]);
    using flipped = np.less(2, x);
    expect(await values(flipped)).toEqual([0, 0, 1, 1]);
  });

  test("int32 against a weak float compares in float", async () => {
    using i = np.array([2, 3], { dtype: "int32" });
    using r = i.less(2.5);
    expect(await values(r)).toEqual([1, 0]);
    using eq = i.equal(2.5);
    expect(await values(eq)).toEqual([0, 0]);
  });

  test("uint32 compares unsigned", async () => {
    using u = np.array([4294967295, 0], { dtype: "uint32" });
    using r = u.greater(2147483647);
    expect(await values(r)).toEqual([1, 0]);
  });
});

describe("logical functions, where, clip", () => {
  test("logicalNot: nonzero (and NaN) is true", async () => {
    using x = np.array([0, 1, -2, Number.NaN, -0, 0.001]);
    using r = np.logicalNot(x);
    expect(r.dtype).toBe("bool");
    expect(await values(r)).toEqual([1, 0, 0, 0, 1, 0]);
    using i = np.array([0, 5, -1], { dtype: "int32" });
    using ri = np.logicalNot(i);
    expect(ri.dtype).toBe("bool");
    expect(await values(ri)).toEqual([1, 0, 0]);
  });

  test("logicalAnd / logicalOr on floats and ints of the same shape", async () => {
    using x = np.array([0, 1, 0, 2, Number.NaN]);
    using y = np.array([0, 0, 3, -1, 1], { dtype: "int32" });
    using and = np.logicalAnd(x, y);
    expect(and.dtype).toBe("bool");
    expect(await values(and)).toEqual([0, 0, 0, 1, 1]);
    using or = np.logicalOr(x, y);
    expect(or.dtype).toBe("bool");
    expect(await values(or)).toEqual([0, 1, 1, 1, 1]);
  });

  test("logicalAnd / logicalOr broadcast JS scalars", async () => {
    using x = np.array([0, 1, 0, 2, Number.NaN]);
    using withTrue = np.logicalAnd(x, true);
    expect(await values(withTrue)).toEqual([0, 1, 0, 1, 1]);
    using withZero = np.logicalOr(x, 0);
    expect(await values(withZero)).toEqual([0, 1, 0, 1, 1]);
  });

  test("logicalAnd broadcasts", async () => {
    using x = np.array([[true], [false]]);
    using y = np.array([true, false, true]);
    using r = np.logicalAnd(x, y);
    expect(r.shape).toEqual([2, 3]);
    expect(await r.toArray()).toEqual([
      [1, 0, 1],
      [0, 0, 0],
    ]);
  });

  test("where: picks x where cond is nonzero, broadcasting all three", async () => {
    using c = np.array([true, false, true]);
    using x = np.array([1, 2, 3]);
    using y = np.array([-1, -2, -3]);
    using r = np.where(c, x, y);
    expect(r.dtype).toBe("float32");
    expect(await values(r)).toEqual([1, -2, 3]);

    using cf = np.array([0, Number.NaN, -0.5]);
    using r2 = np.where(cf, x, 0);
    expect(await values(r2)).toEqual([0, 2, 3]);

    using col = np.array([[true], [false]]);
    using r3 = np.where(col, x, 7);
    expect(r3.shape).toEqual([2, 3]);
    expect(await r3.toArray()).toEqual([
      [1, 2, 3],
      [7, 7, 7],
    ]);
  });

  test("where promotes its branches", async () => {
    using c = np.array([true, false]);
    using i = np.array([1, 2], { dtype: "int32" });
    using r = np.where(c, i, 2.5);
    expect(r.dtype).toBe("float32");
    expect(await values(r)).toEqual([1, 2.5]);
    using r2 = np.where(c, i, 9);
    expect(r2.dtype).toBe("int32");
    expect(await values(r2)).toEqual([1, 9]);
    using r3 = np.where(c, 1, 0);
    expect(r3.dtype).toBe("int32");
    expect(r3.weakType).toBe(true);
    expect(await values(r3)).toEqual([1, 0]);
  });

  test("lax.select needs a bool predicate of the same shape", async () => {
    using c = np.array([true, false]);
    using x = np.array([1, 2]);
    using y = np.array([3, 4]);
    using r = lax.select(c, x, y);
    expect(await values(r)).toEqual([1, 4]);
    using cf = np.array([1, 0]);
    expect(() => lax.select(cf, x, y)).toThrow(DTypeError);
  });

  test("clip to [min, max], either bound optional; NaN passes through", async () => {
    using x = np.array([-2, 0.5, 3, Number.NaN]);
    using r = np.clip(x, 0, 1);
    await expectClose(r, [0, 0.5, 1, Number.NaN]);
    using lo = np.clip(x, 0, null);
    await expectClose(lo, [0, 0.5, 3, Number.NaN]);
    using hi = np.clip(x, null, 1);
    await expectClose(hi, [-2, 0.5, 1, Number.NaN]);
    using i = np.array([-5, 0, 5], { dtype: "int32" });
    using ri = np.clip(i, -1, 2);
    expect(ri.dtype).toBe("int32");
    expect(await values(ri)).toEqual([-1, 0, 2]);
    using bounds = np.clip(
      np.array([
        [0, 5],
        [10, -10],
      ]),
      np.array([1, 2]),
      np.array([3, 4]),
    );
    expect(await bounds.toArray()).toEqual([
      [1, 4],
      [3, 2],
    ]);
    expect(() => np.clip(3, null, null)).toThrow(DTypeError);
  });
});

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
