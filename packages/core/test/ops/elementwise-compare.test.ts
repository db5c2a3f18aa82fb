/**
 * Comparisons (NaN compares unequal, mixed dtypes), logical functions, where / lax.select and clip.
 */
import { DTypeError, type Array as JArray, lax, np } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { values } from "./helpers.js";

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
    using r3 = np.where(c, 1, 0); // only JS numbers: float32 (the dtype rule)
    expect(r3.dtype).toBe("float32");
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
