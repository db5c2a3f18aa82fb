/**
 * cumsum/cumprod/cummax/cummin (np and lax): hand-computed examples, numpy's dtype and axis
 * rules, views, errors, and fast-check properties against plain JS loops over random shapes,
 * axes, directions, int32 and float32 with NaN/±Inf/−0.
 */
import { checkLeaks, DTypeError, lax, np, ShapeError } from "@webjax/core";
import { hasFloat64 } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { expectExact, withArrays } from "../properties/helpers.js";
import {
  type CumOp,
  type Dt,
  dataArb,
  I32_MAX,
  I32_MIN,
  make,
  refCumulative,
  shapeAxisArb,
  stored,
} from "./reference.js";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS ?? 50);
const TIMEOUT = 120_000;
const NaN_ = Number.NaN;
const Inf = Number.POSITIVE_INFINITY;

const npOps = { sum: np.cumsum, prod: np.cumprod, max: np.cummax, min: np.cummin } as const;

describe("cumulative ops: examples", () => {
  test("cumsum along each axis, flattened by default, and reversed", async () => {
    using x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using flat = np.cumsum(x);
    using a0 = np.cumsum(x, 0);
    using a1 = np.cumsum(x, { axis: -1 });
    using r1 = np.cumsum(x, 1, { reverse: true });
    using r0 = np.cumsum(x, { axis: 0, reverse: true });
    expect(flat.shape).toEqual([6]);
    expect(await flat.toArray()).toEqual([1, 3, 6, 10, 15, 21]);
    expect(await a0.toArray()).toEqual([
      [1, 2, 3],
      [5, 7, 9],
    ]);
    expect(await a1.toArray()).toEqual([
      [1, 3, 6],
      [4, 9, 15],
    ]);
    expect(await r1.toArray()).toEqual([
      [6, 5, 3],
      [15, 11, 6],
    ]);
    expect(await r0.toArray()).toEqual([
      [5, 7, 9],
      [4, 5, 6],
    ]);
    expect(a0.dtype).toBe("float32");
  });

  test("cumprod, cummax and cummin; max/min propagate NaN from where it appears", async () => {
    using x = np.array([3, 1, Number.NaN, 4, 0.5]);
    using p = np.cumprod(np.array([1, 2, -3, 0.5]));
    using mx = np.cummax(x);
    using mn = np.cummin(x);
    using rmx = np.cummax(x, { reverse: true });
    expect(await p.toArray()).toEqual([1, 2, -6, -3]);
    await expectExact(mx, [5], "float32", [3, 3, NaN_, NaN_, NaN_]);
    await expectExact(mn, [5], "float32", [3, 1, NaN_, NaN_, NaN_]);
    await expectExact(rmx, [5], "float32", [NaN_, NaN_, NaN_, 4, 0.5]);
    using y = np.array([-Inf, -1, 2, -5]);
    using ymax = np.cummax(y);
    using ymin = np.cummin(y, 0, { reverse: true });
    expect(await ymax.toArray()).toEqual([-Inf, -1, 2, 2]);
    expect(await ymin.toArray()).toEqual([-Inf, -5, -5, -5]);
  });

  test("bool sums and products as int32 (np.sum's rule); cummax of bool stays bool; ints wrap", async () => {
    using b = np.array([true, false, true, true]);
    using s = np.cumsum(b);
    using p = np.cumprod(b);
    using m = np.cummax(np.array([false, true, false]));
    await expectExact(s, [4], "int32", [1, 1, 2, 3]);
    await expectExact(p, [4], "int32", [1, 0, 0, 0]);
    await expectExact(m, [3], "bool", [0, 1, 1]);
    using big = np.array(Int32Array.of(I32_MAX, 1, 1));
    using w = np.cumsum(big);
    await expectExact(w, [3], "int32", [I32_MAX, I32_MIN, I32_MIN + 1]);
    using u = np.cummin(np.array(Uint32Array.of(0xffffffff, 7, 0x80000000)));
    await expectExact(u, [3], "uint32", [0xffffffff, 7, 7]);
    using i = np.cummin(np.array(Int32Array.of(I32_MAX, 5, I32_MIN)), { reverse: true });
    await expectExact(i, [3], "int32", [I32_MIN, I32_MIN, I32_MIN]);
  });

  test("the dtype option converts first; float16 and float64 keep their dtype", async () => {
    using x = np.array([1.5, 2.5, 3.5]);
    using asInt = np.cumsum(x, { dtype: "int32" });
    await expectExact(asInt, [3], "int32", [1, 3, 6]);
    using h = np.cumsum(np.array([1, 2, 3, 4], { dtype: "float16" }));
    await expectExact(h, [4], "float16", [1, 3, 6, 10]);
    if (hasFloat64) {
      using d = np.cumsum(np.array(Float64Array.of(0.1, 0.2, 0.3), { dtype: "float64" }));
      expect(d.dtype).toBe("float64");
      expect(Array.from(await d.data())).toEqual([0.1, 0.1 + 0.2, 0.1 + 0.2 + 0.3]);
    }
  });

  test("strided views (transposed, reversed slices) are read in place", async () => {
    using x = np.arange(12).reshape([3, 4]);
    using t = x.T; // [4, 3]
    using ct = np.cumsum(t, 1);
    expect(await ct.toArray()).toEqual([
      [0, 4, 12],
      [1, 6, 15],
      [2, 8, 18],
      [3, 10, 21],
    ]);
    using rv = x.slice(null, [null, null, -2]); // columns 3, 1
    using cr = np.cumprod(rv, 0, { reverse: true });
    expect(await cr.toArray()).toEqual([
      [3 * 7 * 11, 1 * 5 * 9],
      [7 * 11, 5 * 9],
      [11, 9],
    ]);
  });

  test("empty axes and empty arrays give empty results; scalars flatten to one element", async () => {
    using e = np.cumsum(np.zeros([2, 0]), 1);
    expect(e.shape).toEqual([2, 0]);
    using e0 = np.cummax(np.zeros([0, 3]), 1);
    expect(e0.shape).toEqual([0, 3]);
    using s = np.cumsum(5);
    await expectExact(s, [1], "float32", [5]);
  });

  test("lax versions default to axis 0, take options and do not flatten", async () => {
    using x = np.array([
      [1, 2],
      [3, 4],
    ]);
    using s = lax.cumsum(x);
    using p = lax.cumprod(x, { axis: 1, reverse: true });
    using mx = lax.cummax(x, { axis: -1 });
    using mn = lax.cummin(x, { reverse: true });
    expect(await s.toArray()).toEqual([
      [1, 2],
      [4, 6],
    ]);
    expect(await p.toArray()).toEqual([
      [2, 2],
      [12, 4],
    ]);
    expect(await mx.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(await mn.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  test("errors name the op, the axis and the array", () => {
    using x = np.ones([2, 3]);
    expect(() => np.cumsum(x, 2)).toThrow(ShapeError);
    expect(() => np.cumsum(x, 2)).toThrow("cumsum: axis 2 is out of bounds for an array of rank 2");
    expect(() => lax.cummax(x, { axis: -3 })).toThrow("cummax: axis -3 is out of bounds");
    using b = np.array([true]);
    expect(() => lax.cumsum(b)).toThrow(DTypeError);
    expect(() => lax.cumsum(b)).toThrow("cumsum: got bool[1]");
  });

  test("composed calls release their temporaries", async () => {
    using x = np.array([true, false, true]);
    const report = await checkLeaks(async () => {
      using s = np.cumsum(x, { reverse: true });
      expect(await s.toArray()).toEqual([2, 1, 1]);
    });
    expect(report).toEqual({ buffers: 0, bytes: 0, details: [] });
  });
});

/** Values per op and dtype so that float32 results are exact in any summation order. */
function cumValueArb(op: CumOp, dtype: "float32" | "int32"): fc.Arbitrary<number> {
  const specials = fc.constantFrom(NaN_, Inf, -Inf, -0);
  const full = fc.integer({ min: I32_MIN, max: I32_MAX });
  if (dtype === "int32") {
    return op === "prod"
      ? fc.oneof({ arbitrary: fc.integer({ min: -3, max: 3 }), weight: 4 }, { arbitrary: full, weight: 1 })
      : fc.oneof({ arbitrary: fc.integer({ min: -9, max: 9 }), weight: 3 }, { arbitrary: full, weight: 1 });
  }
  switch (op) {
    case "sum":
      return fc.oneof(
        { arbitrary: fc.integer({ min: -40, max: 40 }).map((k) => k / 4), weight: 8 },
        { arbitrary: specials, weight: 1 },
      );
    case "prod":
      return fc.oneof(
        { arbitrary: fc.constantFrom(1, -1, 2, -2, 0.5, -0.5), weight: 12 },
        { arbitrary: fc.constantFrom(0, -0, Inf, NaN_), weight: 1 },
      );
    default:
      return fc.oneof(
        { arbitrary: fc.integer({ min: -9, max: 9 }), weight: 4 },
        {
          arbitrary: fc
            .float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) })
            .filter((v) => v === 0 || Math.abs(v) > 1e-30),
          weight: 2,
        },
        { arbitrary: specials, weight: 1 },
      );
  }
}

describe("cumulative ops: properties against JS loops", () => {
  const ops: CumOp[] = ["sum", "prod", "max", "min"];
  const dtypes: ("float32" | "int32")[] = ["float32", "int32"];
  for (const op of ops) {
    for (const dtype of dtypes) {
      test(
        `cum${op} of ${dtype} along a random axis, forward and reversed, matches a JS loop`,
        async () => {
          const arb = shapeAxisArb().chain(({ shape, axis }) =>
            fc.record({
              shape: fc.constant(shape),
              axis: fc.constant(axis),
              reverse: fc.boolean(),
              data: dataArb(
                cumValueArb(op, dtype),
                shape.reduce((a, b) => a * b, 1),
              ),
            }),
          );
          await fc.assert(
            fc.asyncProperty(arb, ({ shape, axis, reverse, data }) =>
              withArrays(async (t) => {
                const values = stored(data, dtype as Dt);
                const x = t.t(make(values, shape, dtype));
                const got = t.t(npOps[op](x, axis, { reverse }));
                const ax = axis < 0 ? axis + shape.length : axis;
                const want = refCumulative(op, dtype, values, shape, ax, reverse);
                await expectExact(got, shape, dtype, want, `cum${op}(${dtype}[${shape}], ${axis}, reverse ${reverse})`);
              }),
            ),
            { numRuns: RUNS },
          );
        },
        TIMEOUT,
      );
    }
  }
});
