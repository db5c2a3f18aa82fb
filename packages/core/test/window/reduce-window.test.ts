/**
 * lax.reduceWindow: hand-checked pooling cases, the padding and dilation rules, and a property
 * test against a naive float64 reference (StableHLO's definition: pad with init, fold from init).
 */
import { type Array, DTypeError, lax, np, ShapeError } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type Dense, type Pads, refReduceWindow, type WindowOp } from "./reference.js";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS ?? 40);
const TIMEOUT = 60_000;
const I32_MIN = -2147483648;

function make(x: Dense, dtype: "float32" | "int32"): Array {
  const data = dtype === "float32" ? Float32Array.from(x.data) : Int32Array.from(x.data);
  return np.array(data, { shape: x.shape, dtype });
}

describe("lax.reduceWindow by hand", () => {
  test("2×2 max pooling with stride 2 of an NHWC image", async () => {
    using x = np.array([
      [1, 5, 2, 0],
      [3, 4, 8, 7],
      [9, 0, 6, 6],
      [2, 1, 3, 11],
    ]);
    using img = x.reshape([1, 4, 4, 1]);
    using y = lax.reduceWindow(img, -Infinity, "max", [1, 2, 2, 1], [1, 2, 2, 1], "VALID");
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(globalThis.Array.from(await y.data())).toEqual([5, 8, 9, 11]);
  });

  test("SAME and VALID output sizes and XLA's padding split", async () => {
    using x5 = np.array([1, 2, 3, 4, 5]);
    using valid = lax.reduceWindow(x5, 0, "sum", [3], [2], "VALID");
    expect(valid.shape).toEqual([2]);
    expect(globalThis.Array.from(await valid.data())).toEqual([6, 12]);
    // n=5, w=3, s=2: total padding (3−1)·2 + 3 − 5 = 2 → [1, 1].
    using same5 = lax.reduceWindow(x5, 0, "sum", [3], [2], "SAME");
    expect(globalThis.Array.from(await same5.data())).toEqual([3, 9, 9]);
    // n=6: total 1 → [0, 1] (the odd element goes high).
    using x6 = np.array([1, 2, 3, 4, 5, 6]);
    using same6 = lax.reduceWindow(x6, 0, "sum", [3], [2], "SAME");
    expect(globalThis.Array.from(await same6.data())).toEqual([6, 12, 11]);
    // 2-D: ⌈7/2⌉ = 4, ⌈5/2⌉ = 3 with SAME; ⌊(7−3)/2⌋+1 = 3, ⌊(5−3)/2⌋+1 = 2 with VALID.
    using img = np.ones([1, 7, 5, 2]);
    using s = lax.reduceWindow(img, 0, "sum", [1, 3, 3, 1], [1, 2, 2, 1], "SAME");
    using v = lax.reduceWindow(img, 0, "sum", [1, 3, 3, 1], [1, 2, 2, 1], "VALID");
    expect(s.shape).toEqual([1, 4, 3, 2]);
    expect(v.shape).toEqual([1, 3, 2, 2]);
    // SAME with window dilation uses the dilated window: n=5, w=2, d=3 → window 4, total 3 → [1, 2].
    using dil = lax.reduceWindow(x5, 0, "sum", [2], [1], "SAME", { windowDilation: [3] });
    expect(globalThis.Array.from(await dil.data())).toEqual([3, 5, 7, 3, 4]);
  });

  test("average pooling as a windowed sum over the count of real elements", async () => {
    using x = np.array([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    using ones = np.onesLike(x);
    using total = lax.reduceWindow(x, 0, "sum", [2, 2], [1, 1], "SAME");
    using count = lax.reduceWindow(ones, 0, "sum", [2, 2], [1, 1], "SAME");
    using mean = total.div(count);
    await expectClose(mean, [
      [3, 4, 4.5],
      [6, 7, 7.5],
      [7.5, 8.5, 9],
    ]);
  });

  test("base dilation puts holes of init between elements; window dilation skips elements", async () => {
    using x = np.array([1, 2, 3]);
    using sum = lax.reduceWindow(x, 0, "sum", [2], [1], "VALID", { baseDilation: [2] });
    expect(globalThis.Array.from(await sum.data())).toEqual([1, 2, 2, 3]);
    using holes = lax.reduceWindow(x, -Infinity, "max", [1], [1], "VALID", { baseDilation: [2] });
    expect(globalThis.Array.from(await holes.data())).toEqual([1, -Infinity, 2, -Infinity, 3]);
    using y = np.array([1, 2, 3, 4, 5]);
    using wd = lax.reduceWindow(y, 0, "sum", [2], [1], "VALID", { windowDilation: [2] });
    expect(globalThis.Array.from(await wd.data())).toEqual([4, 6, 8]);
  });

  test("max and min propagate NaN", async () => {
    using x = np.array([1, Number.NaN, 3, 4, -1, 0]);
    using mx = lax.reduceWindow(x, -Infinity, "max", [2], [2], "VALID");
    using mn = lax.reduceWindow(x, Infinity, "min", [2], [2], "VALID");
    await expectClose(mx, [Number.NaN, 4, 0]);
    await expectClose(mn, [Number.NaN, 3, -1]);
  });

  test("int32: ±Infinity init means the dtype's extremes, padding reads init, sums wrap", async () => {
    using x = np.array(Int32Array.from([5, -7, 2]));
    using y = lax.reduceWindow(x, -Infinity, "max", [1], [1], [[2, 0]]);
    expect(y.dtype).toBe("int32");
    expect(globalThis.Array.from(await y.data())).toEqual([I32_MIN, I32_MIN, 5, -7, 2]);
    using big = np.array(Int32Array.from([2147483647, 1]));
    using wrap = lax.reduceWindow(big, 0, "sum", [2], [1], "VALID");
    expect(globalThis.Array.from(await wrap.data())).toEqual([I32_MIN]);
    expect(() => lax.reduceWindow(x, 0.5, "sum", [1], [1], "VALID")).toThrow(DTypeError);
  });

  test("float16 pooling keeps the dtype", async () => {
    using x = np.array([0.5, -1, 2.25, 3], { dtype: "float16" });
    using y = lax.reduceWindow(x, -Infinity, "max", [2], [1], "SAME");
    expect(y.dtype).toBe("float16");
    await expectClose(y, [0.5, 2.25, 3, 3]);
  });

  test("a non-identity init pads and seeds each window (StableHLO's definition)", async () => {
    using x = np.array([1, 2, 3]);
    // padded [10, 1, 2, 3, 10]; each window sum + 10.
    using y = lax.reduceWindow(x, 10, "sum", [2], [1], [[1, 1]]);
    expect(globalThis.Array.from(await y.data())).toEqual([21, 13, 15, 23]);
  });

  test("strided views, negative padding and an init given as an array", async () => {
    using base = np.arange(12).reshape([3, 4]);
    using t = base.T; // [4, 3], strides (1, 4)
    using init = np.array(-100);
    using y = lax.reduceWindow(
      t,
      init,
      "max",
      [2, 2],
      [1, 1],
      [
        [-1, 0],
        [0, 0],
      ],
    );
    // t rows 1..3 (row 0 cropped): [[1,5,9],[2,6,10],[3,7,11]] → 2×2 maxima.
    expect(y.shape).toEqual([2, 2]);
    expect(globalThis.Array.from(await y.data())).toEqual([6, 10, 7, 11]);
  });

  test("a 0-d operand is combined with init once", async () => {
    using x = np.array(3);
    using y = lax.reduceWindow(x, 4, "sum", [], [], "VALID");
    expect(y.shape).toEqual([]);
    expect(await y.item()).toBe(7);
  });

  test("empty operands give init-filled or empty outputs", async () => {
    using e = np.zeros([0, 3]);
    using y = lax.reduceWindow(e, 0, "sum", [1, 2], [1, 1], "VALID");
    expect(y.shape).toEqual([0, 2]);
    using e1 = np.zeros([0]);
    using z = lax.reduceWindow(e1, 7, "max", [1], [1], [[2, 0]]);
    expect(globalThis.Array.from(await z.data())).toEqual([7, 7]);
    // A window larger than the padded input gives an empty output (JAX's stride_dim).
    using small = np.ones([2]);
    using none = lax.reduceWindow(small, 0, "sum", [3], [1], "VALID");
    expect(none.shape).toEqual([0]);
  });

  test("bad arguments are ShapeErrors or DTypeErrors naming the op", () => {
    using x = np.ones([4, 4]);
    expect(() => lax.reduceWindow(x, 0, "sum", [2], [1, 1], "VALID")).toThrow(
      /reduceWindow: windowDimensions must be 2 positive integers for x of shape \[4,4\]/,
    );
    expect(() => lax.reduceWindow(x, 0, "sum", [2, 2], [0, 1], "VALID")).toThrow(ShapeError);
    expect(() => lax.reduceWindow(x, 0, "sum", [2, 2], [1, 1], [[0, 0]])).toThrow(/reduceWindow: padding must be/);
    expect(() =>
      lax.reduceWindow(
        x,
        0,
        "sum",
        [1, 1],
        [1, 1],
        [
          [-5, 0],
          [0, 0],
        ],
      ),
    ).toThrow(/reduce_window: padding \[-5, 0\] of dim 0 crops more than the 4 elements/);
    using b = np.array([true, false]);
    expect(() => lax.reduceWindow(b, 0, "max", [1], [1], "VALID")).toThrow(DTypeError);
    // @ts-expect-error: an unknown op
    expect(() => lax.reduceWindow(x, 0, "mean", [1, 1], [1, 1], "VALID")).toThrow(
      /op must be "add" \(or "sum"\), "mul"/,
    );
    expect(() => lax.reduceWindow(x, 0, "max", [1, 1], [1, 1], "VALID", { stride: [1, 1] } as never)).toThrow(
      /unknown option "stride"/,
    );
  });
});

interface Case {
  x: Dense;
  dtype: "float32" | "int32";
  op: WindowOp;
  init: number;
  window: number[];
  strides: number[];
  padding: "SAME" | "VALID" | Pads;
  baseDilation: number[];
  windowDilation: number[];
}

const caseArb: fc.Arbitrary<Case> = fc.integer({ min: 1, max: 3 }).chain((r) => {
  const perDim = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: r, maxLength: r });
  const pads = fc.array(fc.tuple(fc.integer({ min: -1, max: 2 }), fc.integer({ min: -1, max: 2 })), {
    minLength: r,
    maxLength: r,
  });
  return fc
    .record({
      shape: perDim(1, 5),
      dtype: fc.constantFrom("float32" as const, "int32" as const),
      op: fc.constantFrom("max" as const, "min" as const, "sum" as const),
      window: perDim(1, 3),
      strides: perDim(1, 3),
      padding: fc.oneof(fc.constant("SAME" as const), fc.constant("VALID" as const), pads),
      baseDilation: fc.oneof(perDim(1, 1), perDim(1, 2)),
      windowDilation: fc.oneof(perDim(1, 1), perDim(1, 2)),
      customInit: fc.boolean(),
      seed: fc.integer(),
    })
    .chain((c) => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const special =
        c.dtype === "float32" && c.op !== "sum"
          ? fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)
          : fc.integer({ min: -9, max: 9 });
      const value = fc.oneof(
        { arbitrary: fc.integer({ min: -9, max: 9 }), weight: 8 },
        { arbitrary: special, weight: 1 },
      );
      const identity = c.op === "sum" ? 0 : c.op === "max" ? -Infinity : Infinity;
      return fc
        .record({
          data: fc.array(value, { minLength: n, maxLength: n }),
          init: c.customInit ? fc.integer({ min: -5, max: 5 }) : fc.constant(identity),
        })
        .map(({ data, init }) => ({ ...c, x: { shape: c.shape, data }, init }));
    });
});

/** Padding as the reference needs it: XLA's split of "SAME" written out independently. */
function explicitPads(c: Case): Pads {
  if (c.padding === "VALID") return c.x.shape.map(() => [0, 0] as const);
  if (c.padding === "SAME") {
    return c.x.shape.map((n, d) => {
      const s = c.strides[d] as number;
      const w = ((c.window[d] as number) - 1) * (c.windowDilation[d] as number) + 1;
      const out = Math.ceil(n / s);
      const total = Math.max(0, (out - 1) * s + w - n);
      return [Math.floor(total / 2), total - Math.floor(total / 2)] as const;
    });
  }
  return c.padding;
}

describe("lax.reduceWindow properties", () => {
  test(
    "matches the naive reference over shapes, strides, padding and dilations",
    async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const pads = explicitPads(c);
          const intInit = c.dtype === "int32" && !Number.isFinite(c.init);
          const refInit = intInit ? (c.init > 0 ? 2147483647 : I32_MIN) : c.init;
          using x = make(c.x, c.dtype);
          const opts = { baseDilation: c.baseDilation, windowDilation: c.windowDilation };
          const crops = pads.some(([lo, hi], d) => {
            const n = c.x.shape[d] as number;
            return (n - 1) * (c.baseDilation[d] as number) + 1 + lo + hi < 0;
          });
          if (crops) {
            expect(() => lax.reduceWindow(x, c.init, c.op, c.window, c.strides, c.padding, opts)).toThrow(ShapeError);
            return;
          }
          const want = refReduceWindow(c.x, refInit, c.op, c.window, c.strides, pads, c.baseDilation, c.windowDilation);
          using y = lax.reduceWindow(x, c.init, c.op, c.window, c.strides, c.padding, opts);
          expect(y.shape).toEqual(want.shape);
          expect(y.dtype).toBe(c.dtype);
          const data = c.dtype === "int32" ? want.data.map((v) => v | 0) : want.data;
          await expectClose(y, data, { rtol: 0, atol: 0 });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
