/**
 * Creation functions, reading values back, printing, and the Array object's protocol
 * (toPrimitive, dispose).
 */
import { type DType, type Array as JArray, np, ShapeError, WebjaxError } from "@webjax/core";
import { expectClose, syncReads } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

async function values(x: JArray): Promise<number[]> {
  return globalThis.Array.from(await x.data());
}

async function expectArr(x: JArray, dtype: DType, shape: readonly number[], want: readonly number[]): Promise<void> {
  expect(x.dtype).toBe(dtype);
  expect(x.shape).toEqual(shape);
  expect(x.ndim).toBe(shape.length);
  expect(x.size).toBe(shape.reduce((a, b) => a * b, 1));
  expect(await values(x)).toEqual(want);
}

/** Runs `f` and returns what it threw (synchronously or as a rejection). */
async function thrown(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("np.array", () => {
  test("nested JS arrays give float32 in row-major order", async () => {
    using x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    await expectArr(x, "float32", [2, 3], [1, 2, 3, 4, 5, 6]);
    using y = np.array([
      [[1], [2]],
      [[3], [4]],
    ]);
    await expectArr(y, "float32", [2, 2, 1], [1, 2, 3, 4]);
  });

  test("a JS number gives a 0-d array", async () => {
    using x = np.array(2.5);
    await expectArr(x, "float32", [], [2.5]);
    expect(await x.item()).toBe(2.5);
    expect(await x.toArray()).toBe(2.5);
  });

  test("empty nesting keeps its shape", async () => {
    using e = np.array([]);
    await expectArr(e, "float32", [0], []);
    using e2 = np.array([[], []]);
    await expectArr(e2, "float32", [2, 0], []);
    expect(await e2.toArray()).toEqual([[], []]);
  });

  test("values are rounded to float32", async () => {
    using x = np.array([0.1, 1e-50, 1e39, -1e39]);
    expect(await values(x)).toEqual([Math.fround(0.1), 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  });

  test("booleans give bool (0/1 bytes); booleans mixed with numbers give float32", async () => {
    using b = np.array([
      [true, false],
      [false, true],
    ]);
    await expectArr(b, "bool", [2, 2], [1, 0, 0, 1]);
    expect(await b.data()).toBeInstanceOf(Uint8Array);
    expect(await b.toArray()).toEqual([
      [1, 0],
      [0, 1],
    ]);
    using m = np.array([true, 2, false]);
    await expectArr(m, "float32", [3], [1, 2, 0]);
    using s = np.array(true);
    await expectArr(s, "bool", [], [1]);
  });

  test("numbers stored as bool become 0/1 (nonzero is true)", async () => {
    using b = np.array([0, 2, -1, 0.5, Number.NaN], { dtype: "bool" });
    await expectArr(b, "bool", [5], [0, 1, 1, 1, 1]);
  });

  test("numbers stored as bool behave as booleans in logical ops", async () => {
    using b = np.array([2], { dtype: "bool" });
    using t = np.array([true]);
    using and = np.logicalAnd(b, t);
    expect(await values(and)).toEqual([1]);
    using not = np.logicalNot(b);
    expect(await values(not)).toEqual([0]);
  });

  test("typed arrays stored as bool become 0/1 (nonzero is true)", async () => {
    using f = np.array(new Float32Array([0, 0.5, -2, 256]), { dtype: "bool" });
    await expectArr(f, "bool", [4], [0, 1, 1, 1]);
    using i = np.array(new Int32Array([256, 0, -1]), { dtype: "bool" });
    await expectArr(i, "bool", [3], [1, 0, 1]);
  });

  test("typed arrays with a shape, and other typed array kinds", async () => {
    using x = np.array(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
    await expectArr(x, "float32", [3, 2], [1, 2, 3, 4, 5, 6]);
    expect(await x.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    using u8 = np.array(new Uint8Array([1, 255]));
    expect(u8.shape).toEqual([2]);
    expect(await values(u8)).toEqual([1, 255]);
    using i16 = np.array(new Int16Array([-5, 7]), { dtype: "float32" });
    await expectArr(i16, "float32", [2], [-5, 7]);
    using scalarShape = np.array(new Float32Array([9]), { shape: [] });
    await expectArr(scalarShape, "float32", [], [9]);
  });

  test("a typed array is copied: later writes to it do not change the array", async () => {
    const src = new Float32Array([1, 2]);
    using x = np.array(src);
    src[0] = 100;
    expect(await values(x)).toEqual([1, 2]);
    const ints = new Int32Array([3, 4]);
    const words = new Uint32Array([5, 6]);
    using xi = np.array(ints);
    using xu = np.array(words, { dtype: "uint32" });
    ints[0] = -1;
    words[1] = 0;
    expect(await values(xi)).toEqual([3, 4]);
    expect(await values(xu)).toEqual([5, 6]);
  });

  test("a typed array whose length does not match the shape is a ShapeError", () => {
    expect(() => np.array(new Float32Array(5), { shape: [2, 3] })).toThrow(ShapeError);
    expect(() => np.array(new Float32Array(5), { shape: [2, 3] })).toThrow(/\[2,3\]/);
    expect(() => np.array(new Float32Array(6), { shape: [2, -3] })).toThrow(ShapeError);
  });

  test("np.array of an Array copies it, optionally converting", async () => {
    using x = np.array([1.5, -2.5]);
    using c = np.array(x);
    await expectArr(c, "float32", [2], [1.5, -2.5]);
    x.dispose();
    expect(await values(c)).toEqual([1.5, -2.5]);
    using i = np.array(c, { dtype: "int32" });
    await expectArr(i, "int32", [2], [1, -2]);
  });

  test("ragged nesting is a ShapeError naming the position", () => {
    const ragged = [[1, 2], [3]] as unknown as number[][];
    expect(() => np.array(ragged)).toThrow(ShapeError);
    expect(() => np.array(ragged)).toThrow(/\[1\]/);
    const deep = [
      [[1], [2]],
      [[3], [4, 5]],
    ];
    expect(() => np.array(deep)).toThrow(ShapeError);
    expect(() => np.array(deep)).toThrow(/\[1,1\]/);
    const numberForList = [[1, 2], 3] as unknown as number[][];
    expect(() => np.array(numberForList)).toThrow(ShapeError);
    expect(() => np.array(numberForList)).toThrow(/\[1\]/);
    const listForNumber = [1, [2]] as unknown as number[];
    expect(() => np.array(listForNumber)).toThrow(ShapeError);
    expect(() => np.array(listForNumber)).toThrow(/\[1\]/);
    const longer = [[1], [2, 3]] as unknown as number[][];
    expect(() => np.array(longer)).toThrow(/\[1\]/);
  });

  test("non-numeric leaves are rejected", () => {
    expect(() => np.array(["a"] as unknown as number[])).toThrow(ShapeError);
    expect(() => np.array([null] as unknown as number[])).toThrow(ShapeError);
  });
});

describe("zeros, ones, full and the *Like functions", () => {
  test("zeros and ones take a shape array or a number", async () => {
    using z = np.zeros([2, 3]);
    await expectArr(z, "float32", [2, 3], [0, 0, 0, 0, 0, 0]);
    using o = np.ones(3);
    await expectArr(o, "float32", [3], [1, 1, 1]);
    using s = np.zeros([]);
    await expectArr(s, "float32", [], [0]);
    using e = np.ones([2, 0, 3]);
    await expectArr(e, "float32", [2, 0, 3], []);
    using oi = np.ones([2], { dtype: "int32" });
    await expectArr(oi, "int32", [2], [1, 1]);
    using ob = np.ones([2], { dtype: "bool" });
    await expectArr(ob, "bool", [2], [1, 1]);
  });

  test("full", async () => {
    using f = np.full([2, 2], 7.5);
    await expectArr(f, "float32", [2, 2], [7.5, 7.5, 7.5, 7.5]);
    using fi = np.full(3, -4, { dtype: "int32" });
    await expectArr(fi, "int32", [3], [-4, -4, -4]);
    using fb = np.full([2], true);
    await expectArr(fb, "bool", [2], [1, 1]);
    using fb0 = np.full([2], false);
    await expectArr(fb0, "bool", [2], [0, 0]);
    using fnum = np.full([2], 5, { dtype: "bool" });
    await expectArr(fnum, "bool", [2], [1, 1]);
    using fnan = np.full([1], Number.NaN);
    expect((await values(fnan))[0]).toBeNaN();
    using fu = np.full([1], 4294967295, { dtype: "uint32" });
    await expectArr(fu, "uint32", [1], [4294967295]);
  });

  test("zerosLike / onesLike keep shape and dtype unless a dtype is given", async () => {
    using x = np.array([[1, 2, 3]], { dtype: "int32" });
    using z = np.zerosLike(x);
    await expectArr(z, "int32", [1, 3], [0, 0, 0]);
    using o = np.onesLike(x);
    await expectArr(o, "int32", [1, 3], [1, 1, 1]);
    using of = np.onesLike(x, { dtype: "float32" });
    await expectArr(of, "float32", [1, 3], [1, 1, 1]);
    using b = np.array([true]);
    using zb = np.zerosLike(b);
    await expectArr(zb, "bool", [1], [0]);
  });

  test("invalid shapes are ShapeErrors naming the bad size", () => {
    expect(() => np.zeros([-1])).toThrow(ShapeError);
    expect(() => np.zeros([2, -1])).toThrow(/-1/);
    expect(() => np.zeros([2.5])).toThrow(ShapeError);
    expect(() => np.zeros([2.5])).toThrow(/2\.5/);
    expect(() => np.ones([Number.NaN])).toThrow(ShapeError);
    expect(() => np.ones([Number.NaN])).toThrow(/NaN/);
    expect(() => np.ones(-3)).toThrow(ShapeError);
    expect(() => np.full([Number.POSITIVE_INFINITY], 1)).toThrow(ShapeError);
    expect(() => np.zeros(["2"] as unknown as number[])).toThrow(ShapeError);
    expect(() => np.zeros(null as unknown as number[])).toThrow(ShapeError);
  });
});

describe("arange", () => {
  test("one argument: [0, n)", async () => {
    using a = np.arange(5);
    await expectArr(a, "int32", [5], [0, 1, 2, 3, 4]);
  });

  test("two arguments: [start, stop)", async () => {
    using a = np.arange(2, 6);
    await expectArr(a, "int32", [4], [2, 3, 4, 5]);
    using n = np.arange(-3, 0);
    await expectArr(n, "int32", [3], [-3, -2, -1]);
  });

  test("three arguments: a step, which may not divide the range", async () => {
    using a = np.arange(0, 10, 3);
    await expectArr(a, "int32", [4], [0, 3, 6, 9]);
    using f = np.arange(0, 1, 0.25);
    await expectArr(f, "float32", [4], [0, 0.25, 0.5, 0.75]);
    using g = np.arange(-3, 3, 2.5);
    await expectArr(g, "float32", [3], [-3, -0.5, 2]);
    using t = np.arange(0, 1, 0.1);
    expect(t.shape).toEqual([10]);
    await expectClose(
      t,
      globalThis.Array.from({ length: 10 }, (_, i) => i * 0.1),
    );
  });

  test("negative steps count down", async () => {
    using a = np.arange(5, 0, -1);
    await expectArr(a, "int32", [5], [5, 4, 3, 2, 1]);
    using b = np.arange(1, -1, -0.5);
    await expectArr(b, "float32", [4], [1, 0.5, 0, -0.5]);
    using c = np.arange(10, 0, -4);
    await expectArr(c, "int32", [3], [10, 6, 2]);
  });

  test("empty ranges give shape [0]", async () => {
    using a = np.arange(0);
    await expectArr(a, "int32", [0], []);
    using b = np.arange(5, 2);
    await expectArr(b, "int32", [0], []);
    using c = np.arange(0, 5, -1);
    await expectArr(c, "int32", [0], []);
    using d = np.arange(-2);
    await expectArr(d, "int32", [0], []);
  });

  test("a zero or non-finite step/bound is a ShapeError", () => {
    expect(() => np.arange(0, 5, 0)).toThrow(ShapeError);
    expect(() => np.arange(Number.NaN)).toThrow(ShapeError);
    expect(() => np.arange(0, Number.POSITIVE_INFINITY)).toThrow(ShapeError);
  });
});

describe("linspace", () => {
  test("endpoint included by default", async () => {
    using a = np.linspace(0, 1, 5);
    await expectArr(a, "float32", [5], [0, 0.25, 0.5, 0.75, 1]);
    using b = np.linspace(2, -2, 3);
    await expectArr(b, "float32", [3], [2, 0, -2]);
  });

  test("endpoint false", async () => {
    using a = np.linspace(0, 1, 4, { endpoint: false });
    await expectArr(a, "float32", [4], [0, 0.25, 0.5, 0.75]);
  });

  test("the last value is exactly stop", async () => {
    using a = np.linspace(0, 0.3, 7);
    const v = await values(a);
    expect(v[6]).toBe(Math.fround(0.3));
    await expectClose(
      a,
      globalThis.Array.from({ length: 7 }, (_, i) => (0.3 * i) / 6),
    );
  });

  test("num = 0 and num = 1", async () => {
    using z = np.linspace(0, 1, 0);
    await expectArr(z, "float32", [0], []);
    using one = np.linspace(3, 7, 1);
    await expectArr(one, "float32", [1], [3]);
    using oneNoEnd = np.linspace(3, 7, 1, { endpoint: false });
    await expectArr(oneNoEnd, "float32", [1], [3]);
  });

  test("default num is 50", async () => {
    using a = np.linspace(0, 49);
    expect(a.shape).toEqual([50]);
    expect(await values(a)).toEqual(globalThis.Array.from({ length: 50 }, (_, i) => i));
  });

  test("negative or fractional num is a ShapeError", () => {
    expect(() => np.linspace(0, 1, -1)).toThrow(ShapeError);
    expect(() => np.linspace(0, 1, 2.5)).toThrow(ShapeError);
  });
});

describe("eye", () => {
  test("square identity", async () => {
    using e = np.eye(3);
    await expectArr(e, "float32", [3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });

  test("non-square", async () => {
    using wide = np.eye(2, 3);
    await expectArr(wide, "float32", [2, 3], [1, 0, 0, 0, 1, 0]);
    using tall = np.eye(3, 2);
    await expectArr(tall, "float32", [3, 2], [1, 0, 0, 1, 0, 0]);
  });

  test("k offsets", async () => {
    using up = np.eye(3, undefined, { k: 1 });
    await expectArr(up, "float32", [3, 3], [0, 1, 0, 0, 0, 1, 0, 0, 0]);
    using down = np.eye(3, 4, { k: -1 });
    await expectArr(down, "float32", [3, 4], [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0]);
    using far = np.eye(2, 2, { k: 5 });
    await expectArr(far, "float32", [2, 2], [0, 0, 0, 0]);
    using farDown = np.eye(2, 3, { k: -2 });
    await expectArr(farDown, "float32", [2, 3], [0, 0, 0, 0, 0, 0]);
    using wideUp = np.eye(2, 4, { k: 2 });
    await expectArr(wideUp, "float32", [2, 4], [0, 0, 1, 0, 0, 0, 0, 1]);
  });

  test("dtype and empty sizes", async () => {
    using e = np.eye(2, undefined, { dtype: "int32" });
    await expectArr(e, "int32", [2, 2], [1, 0, 0, 1]);
    using z = np.eye(0);
    await expectArr(z, "float32", [0, 0], []);
  });

  test("invalid sizes and k are ShapeErrors", () => {
    expect(() => np.eye(-1)).toThrow(ShapeError);
    expect(() => np.eye(2.5)).toThrow(ShapeError);
    expect(() => np.eye(2, -2)).toThrow(ShapeError);
    expect(() => np.eye(2, 2, { k: 0.5 })).toThrow(ShapeError);
  });
});

describe("reading values", () => {
  test("toArray nests by shape", async () => {
    using x = np.arange(6).reshape([2, 3]);
    expect(await x.toArray()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    using s = np.array(4);
    expect(await s.toArray()).toBe(4);
  });

  test("data() returns a fresh copy each time", async () => {
    using x = np.array([1, 2]);
    const d = await x.data();
    d[0] = 99;
    expect(await values(x)).toEqual([1, 2]);
    expect(await x.data()).not.toBe(await x.data());
  });

  test("data() of a view reads the view's elements", async () => {
    using x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using t = x.T;
    expect(await values(t)).toEqual([1, 4, 2, 5, 3, 6]);
    using s = x.slice(1, [null, null, -2]);
    expect(await values(s)).toEqual([6, 4]);
  });

  test("item() of a size-1 array; of a larger one, a ShapeError", async () => {
    using x = np.array([[3.5]]);
    expect(await x.item()).toBe(3.5);
    using i = np.array([-7], { dtype: "int32" });
    expect(await i.item()).toBe(-7);
    using b = np.array(true);
    expect(await b.item()).toBe(1);
    using big = np.array([1, 2]);
    const err = await thrown(() => big.item());
    expect(err).toBeInstanceOf(ShapeError);
    expect(String(err)).toMatch(/\[2\]/);
    using empty = np.zeros([0]);
    expect(await thrown(() => empty.item())).toBeInstanceOf(ShapeError);
  });

  test("blockUntilReady resolves to the array", async () => {
    using x = np.array([1]).add(1);
    expect(await x.blockUntilReady()).toBe(x);
  });

  test("dataSync works where reads are synchronous; elsewhere the error names data()", async () => {
    using x = np.array([1, 2]);
    if (syncReads) {
      expect(globalThis.Array.from(x.dataSync())).toEqual([1, 2]);
    } else {
      expect(() => x.dataSync()).toThrow(/await x\.data\(\)/);
    }
  });
});

describe("toString", () => {
  test("float32 vector", () => {
    using x = np.array([1, 2]);
    if (!syncReads) {
      const s = x.toString();
      expect(s).toContain("float32[2]");
      expect(s).toContain("await x.toArray()");
    } else {
      expect(x.toString()).toBe("Array([1., 2.], dtype=float32)");
    }
  });

  test("int32, bool, fractions, 2-D and scalars", () => {
    using i = np.array([1, -2], { dtype: "int32" });
    using b = np.array([true, false]);
    using f = np.array([0.5, -1.25]);
    using m = np.array([
      [1, 2],
      [3, 4],
    ]);
    using s = np.array(3);
    if (!syncReads) {
      expect(i.toString()).toContain("int32[2]");
      expect(b.toString()).toContain("bool[2]");
      expect(m.toString()).toContain("float32[2,2]");
      expect(s.toString()).toContain("float32[]");
    } else {
      expect(i.toString()).toBe("Array([1, -2], dtype=int32)");
      expect(b.toString()).toBe("Array([true, false], dtype=bool)");
      expect(f.toString()).toBe("Array([0.5, -1.25], dtype=float32)");
      expect(m.toString()).toBe("Array([[1., 2.],\n       [3., 4.]], dtype=float32)");
      expect(s.toString()).toBe("Array(3., dtype=float32)");
    }
  });

  test("template literals and String() use toString", () => {
    using x = np.array([1, 2]);
    expect(`${x}`).toBe(x.toString());
    expect(String(x)).toBe(x.toString());
  });

  test("a disposed array prints as disposed", () => {
    const x = np.array([1, 2]);
    x.dispose();
    expect(x.toString()).toContain("disposed");
    expect(x.toString()).toContain("float32[2]");
  });
});

describe("Symbol.toPrimitive", () => {
  test("comparisons and arithmetic on an Array throw, pointing at await x.item()", () => {
    using x = np.array(0.5);
    const asNum = x as unknown as number;
    expect(() => asNum > 0.1).toThrow(WebjaxError);
    expect(() => asNum > 0.1).toThrow(/await x\.item\(\)/);
    expect(() => +x).toThrow(/await x\.item\(\)/);
    expect(() => asNum + 1).toThrow(/await x\.item\(\)/);
    expect(() => `${x}`).not.toThrow();
    expect(() => {
      if ((x as unknown as number) < 1) return 1;
      return 0;
    }).toThrow(/await x\.item\(\)/);
  });

  test("the message names the dtype and shape", () => {
    using x = np.zeros([2, 3], { dtype: "int32" });
    expect(() => +x).toThrow(/int32\[2,3\]/);
  });
});

describe("dispose", () => {
  test("use after dispose is a clear error; double dispose is a no-op", async () => {
    const x = np.array([1, 2]);
    expect(x.disposed).toBe(false);
    x.dispose();
    expect(x.disposed).toBe(true);
    expect(() => x.dispose()).not.toThrow();
    expect(x.disposed).toBe(true);
    // Shape and dtype stay readable.
    expect(x.shape).toEqual([2]);
    expect(x.dtype).toBe("float32");
    expect(() => x.add(1)).toThrow(WebjaxError);
    expect(() => x.add(1)).toThrow(/after dispose/);
    expect(() => np.exp(x)).toThrow(/after dispose/);
    const readErr = await thrown(() => x.data());
    expect(readErr).toBeInstanceOf(WebjaxError);
    expect(String(readErr)).toMatch(/after dispose/);
    expect(String(await thrown(() => x.toArray()))).toMatch(/after dispose/);
    const one = np.array([5]);
    one.dispose();
    expect(String(await thrown(() => one.item()))).toMatch(/after dispose/);
  });

  test("`using` disposes at the end of the block", () => {
    let y: JArray;
    {
      using x = np.ones([2]);
      y = x;
      expect(y.disposed).toBe(false);
    }
    expect(y.disposed).toBe(true);
  });

  test("disposing an input does not affect results computed from it", async () => {
    const x = np.array([1, 2, 3]);
    using y = x.mul(2);
    using v = x.slice([1, null]);
    x.dispose();
    expect(await values(y)).toEqual([2, 4, 6]);
    expect(await values(v)).toEqual([2, 3]);
  });
});
