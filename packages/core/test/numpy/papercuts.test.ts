/**
 * What a new user hits in the first week, each case pinned: the dtype rule for JS numbers (the
 * sharp-bits table), weak-int overflow, JS numbers and nested arrays wherever numpy takes them,
 * checked options objects and extra positional arguments, positional sampler shapes, iterable
 * arrays, the names reduceWindow accepts, np.round's decimals, and the messages that misled.
 */
import {
  configureCpu,
  DTypeError,
  grad,
  type Array as JArray,
  jvp,
  lax,
  np,
  random,
  ShapeError,
  TracerError,
  vjp,
  WebjaxError,
} from "@webjax/core";
import { checkGrads } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const read = async (x: JArray) => globalThis.Array.from(await x.data());
const int32 = (...v: number[]) => np.array(Int32Array.from(v));

describe("the dtype of JS numbers (the sharp-bits table)", () => {
  test("JS numbers alone are float32; with an array they take its dtype, weakly", () => {
    using c = np.array([true, false]);
    using i = int32(1, 2);
    using b = np.array([true, false]);
    const cases: [string, () => JArray, string][] = [
      ["np.array([1, 2, 3])", () => np.array([1, 2, 3]), "float32"],
      ["np.full([2], 1)", () => np.full([2], 1), "float32"],
      ["np.zeros([2])", () => np.zeros([2]), "float32"],
      ["np.where(c, 1, 0)", () => np.where(c, 1, 0), "float32"],
      ["np.add(2, 3)", () => np.add(2, 3), "float32"],
      ["np.cumsum(5)", () => np.cumsum(5), "float32"],
      ["int32.mul(2)", () => i.mul(2), "int32"],
      ["int32.add([1, 2])", () => i.add([1, 2]), "int32"],
      ["int32.add(2.5)", () => i.add(2.5), "float32"],
      ["bool.mul(2)", () => b.mul(2), "int32"],
      ["np.arange(3)", () => np.arange(3), "int32"],
      ["np.arange(0, 1, 0.25)", () => np.arange(0, 1, 0.25), "float32"],
      ["np.argmax([3, 1])", () => np.argmax([3, 1]), "int32"],
      ["np.bitwiseAnd(6, 3)", () => np.bitwiseAnd(6, 3), "int32"],
      ["np.leftShift(1, 3)", () => np.leftShift(1, 3), "int32"],
      ["np.zeros([2], 'int32')", () => np.zeros([2], "int32"), "int32"],
      ["np.searchsorted([1, 2], 1.5)", () => np.searchsorted([1, 2], 1.5), "int32"],
      ["np.bincount(int32)", () => np.bincount(i, { length: 3 }), "int32"],
    ];
    for (const [name, make, want] of cases) {
      using r = make();
      expect(`${name}: ${r.dtype}`).toBe(`${name}: ${want}`);
    }
  });

  test("a weak JS integer that does not fit the array's dtype is a DTypeError, as JAX's OverflowError", async () => {
    using i = int32(1, 2);
    expect(() => i.add(2 ** 31)).toThrow(DTypeError);
    expect(() => i.add(2 ** 31)).toThrow(/add: the JS number 2147483648 does not fit in int32/);
    using u = np.array(Uint32Array.of(1));
    expect(() => u.add(-1)).toThrow(/the JS number -1 does not fit in uint32/);
    using ok = i.add(2 ** 31 - 1); // wraps as int32 arithmetic does
    expect(await read(ok)).toEqual([-2147483648, -2147483647]);
  });

  test("numpy's scalar and list arguments are accepted wherever numpy takes them", async () => {
    using x = np.array([
      [1, 2],
      [3, 4],
    ]);
    using d = np.dot(2, x);
    expect(await d.toArray()).toEqual([
      [2, 4],
      [6, 8],
    ]);
    using m = np.matmul([1, 1], x);
    expect(await read(m)).toEqual([4, 6]);
    // numpy's error for a 0-d matmul operand, not a tracer message.
    expect(() => np.matmul(x, 2)).toThrow(ShapeError);
    expect(() => np.matmul(x, 2)).toThrow(/matmul: operand 1 has no dimensions.*use np.multiply/);
    using z = np.zerosLike([1, 2, 3]);
    expect(z.shape).toEqual([3]);
    using dg = lax.dotGeneral([1, 2], [3, 4], { contracting: [[0], [0]], batch: [[], []] });
    expect(await dg.item()).toBe(11);
  });
});

describe("tolist, numpy's name for toArray", () => {
  test("nested lists for any rank, a number for 0-d, and a concrete-value error under grad", async () => {
    using x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(await x.tolist()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using s = x.sum();
    expect(await s.tolist()).toBe(21);
    expect(() => grad((v: JArray) => (v.tolist() as unknown as JArray).sum())(np.array(1))).toThrow(/tolist\(\)/);
  });
});

describe("options are checked", () => {
  test("an unknown key names the valid keys and the nearest one", () => {
    using x = np.ones([3]);
    expect(() => np.pad(x, 1, { constantValue: 9 } as never)).toThrow(WebjaxError);
    expect(() => np.pad(x, 1, { constantValue: 9 } as never)).toThrow(
      /pad: unknown option "constantValue".*did you mean "constantValues"/,
    );
    expect(() => x.sum(0, { keepDims: true } as never)).toThrow(/did you mean "keepdims"/);
    expect(() => np.take(x, [0], { axes: 0 } as never)).toThrow(/take: unknown option "axes"/);
    expect(() => random.uniform(random.key(0), [2], { dtyp: "float32" } as never)).toThrow(/did you mean "dtype"/);
    expect(() => grad((y: JArray) => y.sum(), { argnum: 0 } as never)).toThrow(/did you mean "argnums"/);
  });

  test("extra positional arguments that JS would drop are errors naming the options object", () => {
    using x = np.ones([2, 3]);
    expect(() => (x.mean as (...a: unknown[]) => JArray)(0, true)).toThrow(/mean.*\{ keepdims: true \}|options object/);
    expect(() => (np.sum as (...a: unknown[]) => JArray)(x, 0, true)).toThrow(/options object/);
  });

  test("configureCpu names an unknown option and a bad value, and changes nothing", () => {
    expect(() => configureCpu({ thread: 2 } as never)).toThrow(
      /configureCpu: unknown option "thread" \(did you mean "threads"\?\)/,
    );
    expect(() => configureCpu({ threads: "two" } as never)).toThrow(
      /configureCpu: threads must be "auto" or a positive integer, got "two"/,
    );
    expect(() => configureCpu({ threads: 1.5 })).toThrow(/threads must be "auto" or a positive integer, got 1.5/);
    expect(() => configureCpu({ codegen: "wasm" } as never)).toThrow(/codegen must be "auto" or "js" or "interpreter"/);
  });

  test("x.at takes one index: a second one is an error, not silently dropped", () => {
    using m = np.ones([2, 3]);
    expect(() => (m.at as (...a: unknown[]) => unknown)(0, 2)).toThrow(
      /at: takes one index \(along axis 0\), got 2 arguments/,
    );
  });

  test("np.round takes decimals, as numpy", async () => {
    using x = np.array([1.2345, -2.5, 0.5, 12.5]);
    using r2 = np.round(x, 2);
    expect(await read(r2)).toEqual([1.23, -2.5, 0.5, 12.5].map(Math.fround));
    using r0 = np.round(x);
    expect(await read(r0)).toEqual([1, -2, 0, 12]); // half to even
    using rm = np.round(np.array([1234, 1250]), -2);
    expect(await read(rm)).toEqual([1200, 1200]);
  });
});

describe("random: shapes are positional in every sampler", () => {
  test("truncatedNormal(key, lower, upper, shape) and bernoulli(key, p, shape)", async () => {
    const key = random.key(0);
    using t = random.truncatedNormal(key, -1, 1, [1000]);
    expect(t.shape).toEqual([1000]);
    const tv = await read(t);
    expect(Math.min(...tv)).toBeGreaterThan(-1);
    expect(Math.max(...tv)).toBeLessThan(1);
    using b = random.bernoulli(key, 0.25, [2000]);
    expect(b.shape).toEqual([2000]);
    expect(b.dtype).toBe("bool");
    const mean = (await read(b)).reduce((s, v) => s + Number(v), 0) / 2000;
    expect(Math.abs(mean - 0.25)).toBeLessThan(0.04);
    expect(() => random.bernoulli(key, 0.5, { shape: [2] } as never)).toThrow(/shape/);
    key.dispose();
  });

  test("a bad key is named for the sampler, not for an internal bits call", () => {
    using notAKey = np.ones([3]);
    let msg = "";
    try {
      random.uniform(notAKey, [2]);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^uniform: /);
    expect(msg).not.toMatch(/bits:/);
    expect(() => random.normal(notAKey, [2])).toThrow(/^normal: /);
  });
});

describe("arrays are iterable over their first axis", () => {
  test("destructuring split keys, eagerly and under grad", async () => {
    const key = random.key(42);
    const [k1, k2] = random.split(key);
    using both = random.split(key);
    const rows = (await both.toArray()) as number[][];
    expect(await (k1 as JArray).toArray()).toEqual(rows[0]);
    expect(await (k2 as JArray).toArray()).toEqual(rows[1]);
    using x = np.array([
      [1, 2],
      [3, 4],
    ]);
    const seen: number[][] = [];
    for (const row of x) {
      seen.push((await row.toArray()) as number[]);
      row.dispose();
    }
    expect(seen).toEqual([
      [1, 2],
      [3, 4],
    ]);
    using g = grad((y: JArray) => {
      const [a, b] = y;
      return (a as JArray).mul(b as JArray).sum();
    })(x);
    expect(await g.toArray()).toEqual([
      [3, 4],
      [1, 2],
    ]);
    using s = np.array(1);
    expect(() => [...s]).toThrow(TypeError);
    expect(() => [...s]).toThrow(/zero-dimensional/);
    for (const k of [key, k1, k2]) k?.dispose();
  });
});

describe("lax.reduceWindow takes JAX's names", () => {
  test('"add" and "mul" windows: values and both gradient checks', async () => {
    using x = np.array([1, 2, 3, 4, 5]);
    using s = lax.reduceWindow(x, 0, "add", [2], [1], "VALID");
    expect(await read(s)).toEqual([3, 5, 7, 9]);
    using p = lax.reduceWindow(x, 1, "mul", [3], [2], "VALID");
    expect(await read(p)).toEqual([6, 60]);
    using pp = lax.reduceWindow(x, 1, "prod", [2], [1], [[1, 0]]);
    expect(await read(pp)).toEqual([1, 2, 6, 12, 20]);
    // Zeros in a window: the product's gradient is the product of the others.
    using z = np.array([2, 0, 3, 0.5, -1.5, 0]);
    using gz = grad((y: JArray) => lax.reduceWindow(y, 1, "mul", [2], [1], "VALID").sum())(z);
    expect(await read(gz)).toEqual([0, 5, 0.5, 1.5, 0.5, -1.5]);
    using m = np.array([
      [0.5, -1.2, 2],
      [1.5, 0.7, -0.3],
      [1.1, 0.9, 1.3],
    ]);
    await checkGrads((y) => lax.reduceWindow(y, 1, "mul", [2, 2], [1, 1], "SAME"), [m], { order: 2 });
  });
});

describe("messages that misled, each pinned", () => {
  test("axes that are strings, fractions or lists where one is expected", () => {
    using x = np.ones([2, 3]);
    expect(() => x.mean("1" as never)).toThrow(
      /mean: axis must be an integer, a list of integers or null, got "1" \(a string\)/,
    );
    expect(() => np.sum(x, 1.5)).toThrow(/sum: axis must be an integer.*got 1.5/);
    expect(() => np.argmax(x, [0, 1] as never)).toThrow(
      /argmax: axis must be an integer, got the list \[0,1\] \(argmax takes one axis\)/,
    );
    expect(() => np.sum(x, 1.5)).not.toThrow(/out of bounds/);
  });

  test("np.where with one argument names np.nonzero", () => {
    using c = np.array([true, false]);
    expect(() => (np.where as (...a: unknown[]) => JArray)(c)).toThrow(/np.nonzero|both branches/);
  });

  test("jvp and vjp without lists say to wrap the arguments", () => {
    using x = np.ones([3]);
    expect(() => jvp(np.sin, x as never, x as never)).toThrow(/jvp: .*list/);
    expect(() => vjp(np.sin, x as never)).toThrow(/vjp: .*list/);
  });

  test("a JS comparison on a tracer names np.where / lax.select, lax.cond and staticArgnums", () => {
    using x = np.ones([3]);
    let msg = "";
    try {
      grad((y: JArray) => ((y.sum() as unknown as number) > 0 ? y.sum() : y.sum().neg()))(x);
    } catch (e) {
      expect(e).toBeInstanceOf(TracerError);
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/np\.where/);
    expect(msg).toMatch(/lax\.select/);
    expect(msg).toMatch(/staticArgnums/);
    expect(msg).toMatch(/lax\.cond or lax\.switch/);
  });
});
