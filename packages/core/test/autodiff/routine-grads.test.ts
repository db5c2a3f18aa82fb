/**
 * Gradients of the routine primitives: cumulative reductions, sorting and gathers along an axis,
 * windowed reductions (pooling), convolutions and random sampling. Each is checked both ways
 * (jvp against central differences in float64 on the CPU; the vjp/jvp dot-product identity in
 * float32), plus hand-computed gradients, including the tie rules of max/min.
 */
import { grad, type Array as JArray, jvp, lax, np, random, vjp } from "@webjax/core";
import { checkGrads, expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { convNhwc } from "../window/reference.js";

const TIMEOUT = 60_000;

/** A seeded permutation of distinct, well separated values (no ties for max/min/sort), reshaped. */
function distinct(shape: readonly number[], seed = 1): JArray {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const vals = globalThis.Array.from({ length: n }, (_, i) => (i - n / 2) * 0.37 + 0.05);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [vals[i], vals[j]] = [vals[j] as number, vals[i] as number];
  }
  return np.array(vals).reshape([...shape]);
}

/** Smooth values away from zero (for products). */
function smooth(shape: readonly number[], seed = 1): JArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = globalThis.Array.from({ length: n }, (_, i) => 0.6 + 0.5 * Math.sin(1.3 * i + seed));
  return np.array(vals).reshape([...shape]);
}

const sumOf = (f: (x: JArray) => JArray) => (x: JArray) => f(x).sum();

describe("cumulative reductions", () => {
  test("grad of sum(cumsum(x)) is [n, n−1, …, 1]; reversed it is [1, 2, …, n]", async () => {
    const x = np.array([0.5, -1, 2, 3, 0.25]);
    await expectClose(grad(sumOf((v) => np.cumsum(v)))(x), [5, 4, 3, 2, 1]);
    await expectClose(grad(sumOf((v) => lax.cumsum(v, { reverse: true })))(x), [1, 2, 3, 4, 5]);
  });

  test("cumsum: both checks, along each axis and reversed, to second order", async () => {
    const x = smooth([3, 4]);
    await checkGrads((v) => np.cumsum(v, 0), [x], { order: 2 });
    await checkGrads((v) => np.cumsum(v, 1), [x], { order: 2 });
    await checkGrads((v) => lax.cumsum(v, { axis: 1, reverse: true }), [x], { order: 2 });
    await checkGrads((v) => np.cumsum(v), [x]);
  });

  test("cumprod: both checks away from zero, along each axis and reversed", async () => {
    const x = smooth([3, 4], 2);
    await checkGrads((v) => np.cumprod(v, 1), [x], { order: 2 });
    await checkGrads((v) => np.cumprod(v, 0), [x]);
    await checkGrads((v) => lax.cumprod(v, { axis: 1, reverse: true }), [x], { order: 2 });
  });

  test("cumprod is exact at zeros (one zero, two zeros, reversed)", async () => {
    // Σ cumprod([2, 3, 0, 4]) = x0 + x0x1 + x0x1x2 + x0x1x2x3 → ∂ = [1+x1, x0, x0x1 + x0x1x3, x0x1x2].
    await expectClose(grad(sumOf((v) => np.cumprod(v)))(np.array([2, 3, 0, 4])), [4, 2, 30, 0]);
    // [2, 0, 3, 0, 5]: only the terms without x1 (∂x1) or with x1 alone removed survive.
    await expectClose(grad(sumOf((v) => np.cumprod(v)))(np.array([2, 0, 3, 0, 5])), [1, 8, 0, 0, 0]);
    // Reversed: Σ over suffix products of [4, 0, 3, 2] = x3 + x2x3 + x1x2x3 + x0x1x2x3
    // → ∂ = [x1x2x3, x2x3 + x0x2x3, x3 + x1x3 + x0x1x3, 1 + x2 + x1x2 + x0x1x2].
    await expectClose(grad(sumOf((v) => lax.cumprod(v, { reverse: true })))(np.array([4, 0, 3, 2])), [0, 30, 2, 4]);
    // The full Jacobian at zeros, against finite differences (a polynomial, so they are exact too).
    await checkGrads((v) => np.cumprod(v), [np.array([2, 0, 3, 0, 5, -1])]);
    await checkGrads((v) => lax.cumprod(v, { reverse: true }), [np.array([1.5, 0, -2, 0.5, 0])]);
  });

  test("cummax/cummin: both checks without ties, along each axis and reversed", async () => {
    const x = distinct([4, 5], 3);
    await checkGrads((v) => np.cummax(v, 1), [x], { order: 2 });
    await checkGrads((v) => np.cummin(v, 0), [x], { order: 2 });
    await checkGrads((v) => lax.cummax(v, { axis: 1, reverse: true }), [x]);
    await checkGrads((v) => lax.cummin(v, { axis: 0, reverse: true }), [x]);
  });

  test("cummax sends each output's cotangent to the element it came from", async () => {
    // cummax([1, 3, 2, 5, 4]) = [1, 3, 3, 5, 5].
    await expectClose(grad(sumOf((v) => np.cummax(v)))(np.array([1, 3, 2, 5, 4])), [1, 2, 0, 2, 0]);
    // cummin([4, 2, 3, 1, 5]) = [4, 2, 2, 1, 1].
    await expectClose(grad(sumOf((v) => np.cummin(v)))(np.array([4, 2, 3, 1, 5])), [1, 2, 0, 2, 0]);
  });

  test("cummax/cummin ties: the first element in scan order that attains the running value", async () => {
    // [2, 1, 2, 3]: outputs 0–2 are 2, first attained at index 0 (the later 2 does not take over).
    await expectClose(grad(sumOf((v) => np.cummax(v)))(np.array([2, 1, 2, 3])), [3, 0, 0, 1]);
    await expectClose(grad(sumOf((v) => np.cummin(v)))(np.array([1, 1, 0, 0])), [2, 0, 2, 0]);
    // Reversed scan of [3, 1, 3, 2]: outputs [3, 3, 3, 2]; scanning from the end, 3 is first met at index 2.
    await expectClose(grad(sumOf((v) => lax.cummax(v, { reverse: true })))(np.array([3, 1, 3, 2])), [0, 0, 3, 1]);
  });
});

describe("sorting and gathers along an axis", () => {
  test("sort's vjp permutes the cotangent back to the unsorted positions", async () => {
    // sort([3, 1, 2]) = [1, 2, 3], taken from indices [1, 2, 0].
    const [, back] = vjp((v: JArray) => np.sort(v), [np.array([3, 1, 2])]);
    await expectClose(back(np.array([10, 20, 30]))[0] as JArray, [30, 10, 20]);
    const [, backDesc] = vjp((v: JArray) => np.sort(v, { descending: true }), [np.array([3, 1, 2])]);
    await expectClose(backDesc(np.array([10, 20, 30]))[0] as JArray, [10, 30, 20]);
    const [, t] = jvp((v: JArray) => np.sort(v), [np.array([3, 1, 2])], [np.array([0.1, 0.2, 0.3])]);
    await expectClose(t, [0.2, 0.3, 0.1]);
  });

  test("sort: both checks along each axis, flattened, descending, and topK", async () => {
    const x = distinct([4, 6], 5);
    await checkGrads((v) => np.sort(v), [x], { order: 2 });
    await checkGrads((v) => np.sort(v, { axis: 0 }), [x]);
    await checkGrads((v) => np.sort(v, { axis: null, descending: true }), [x]);
    await checkGrads((v) => lax.topK(v, 3)[0], [x]);
  });

  test("takeAlongAxis: repeated, negative and out-of-range indices accumulate where the gather read", async () => {
    const x = np.array([1, 2, 3]);
    // Indices [0, 0, −1, 5] read x[0], x[0], x[2], x[2] (−1 wraps, 5 clamps).
    const idx = np.array([0, 0, -1, 5], { dtype: "int32" });
    const [, back] = vjp((v: JArray) => np.takeAlongAxis(v, idx, 0), [x]);
    await expectClose(back(np.array([1, 2, 3, 4]))[0] as JArray, [3, 0, 7]);
    const x2 = smooth([3, 4]);
    const idx2 = np.array(
      [
        [0, 3, 3, -2, 1],
        [2, 2, 0, 1, 9],
        [-1, 0, 1, 2, 3],
      ],
      { dtype: "int32" },
    );
    await checkGrads((v) => np.takeAlongAxis(v, idx2, 1), [x2], { order: 2 });
    const idx0 = np.array([[2, 0, 1, 1]], { dtype: "int32" });
    await checkGrads((v) => np.takeAlongAxis(v, idx0, 0), [x2]);
  });

  test(
    "sort of long and many rows: the batched scatter transpose passes the dot-product identity",
    async () => {
      // The jvp is the same gather as above (checked against finite differences); the transpose
      // is one scatter_general with batching dims, so the identity check alone is run here.
      await checkGrads((v) => np.sort(v), [distinct([14, 400], 7)], { fd: false });
      await checkGrads((v) => np.sort(v), [distinct([1100], 8)], { fd: false });
      await checkGrads((v) => np.sort(v, { axis: 0 }), [distinct([1100, 2], 9)], { fd: false });
    },
    TIMEOUT,
  );

  test("the transpose of a long sort gives the permuted cotangent exactly", async () => {
    const n = 1100;
    const x = distinct([n], 11);
    const order = globalThis.Array.from(await x.data())
      .map((v, i) => [v, i] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, i]) => i);
    const u = np.arange(n).astype("float32");
    const [, back] = vjp((v: JArray) => np.sort(v), [x]);
    const want = new globalThis.Array<number>(n);
    order.forEach((src, k) => {
      want[src] = k;
    });
    await expectClose(back(u)[0] as JArray, want);
  });
});

describe("reduceWindow", () => {
  type Config = [string, number[], number[], number[], lax.Padding, lax.ReduceWindowOptions];
  const configs: Config[] = [
    ["1-D, window 3, stride 1, VALID", [7], [3], [1], "VALID", {}],
    ["1-D, window 3, stride 2, SAME", [7], [3], [2], "SAME", {}],
    ["1-D, explicit and negative padding", [8], [2], [3], [[2, -1]], {}],
    ["1-D, base and window dilation", [5], [2], [2], [[1, 2]], { baseDilation: [2], windowDilation: [2] }],
    ["2-D, 2×2 stride 2", [4, 6], [2, 2], [2, 2], "VALID", {}],
    ["2-D, 3×2 strides [1, 2], SAME", [5, 5], [3, 2], [1, 2], "SAME", {}],
    ["NHWC pooling", [2, 4, 4, 3], [1, 3, 3, 1], [1, 2, 2, 1], "SAME", {}],
    [
      "2-D, dilations and padding",
      [4, 5],
      [2, 2],
      [1, 2],
      [
        [1, 0],
        [2, 1],
      ],
      { baseDilation: [2, 1], windowDilation: [1, 2] },
    ],
  ];

  test.each(configs)("sum: %s (both checks, operand and init, second order)", async (_, shape, win, str, pad, opts) => {
    const x = smooth(shape, 3);
    await checkGrads((v) => lax.reduceWindow(v, 0, "sum", win, str, pad, opts), [x], { order: 2 });
    // The init value seeds every window and fills padding and holes, so it is differentiable too.
    await checkGrads((v, i) => lax.reduceWindow(v, i as JArray, "sum", win, str, pad, opts), [x, np.array(0.7)]);
  });

  test.each(configs)("max and min: %s (both checks, no ties)", async (_, shape, win, str, pad, opts) => {
    const x = distinct(shape, 4);
    await checkGrads((v) => lax.reduceWindow(v, -Infinity, "max", win, str, pad, opts), [x], {
      order: 2,
      fd: false,
    });
    await checkGrads((v) => lax.reduceWindow(v, Infinity, "min", win, str, pad, opts), [x], { fd: false });
    // Finite inits, so windows of padding alone stay finite for the finite differences.
    await checkGrads((v) => lax.reduceWindow(v, -100, "max", win, str, pad, opts), [x], { order: 2 });
    await checkGrads((v, i) => lax.reduceWindow(v, i as JArray, "min", win, str, pad, opts), [x, np.array(100)]);
  });

  test("grad of sum(sum pooling) counts the windows covering each element", async () => {
    // Windows of 3 at stride 2 over 7: [0,3), [2,5), [4,7) → elements 2 and 4 are in two windows.
    const g = grad(sumOf((v) => lax.reduceWindow(v, 0, "sum", [3], [2], "VALID")))(np.ones([7]));
    await expectClose(g, [1, 1, 2, 1, 2, 1, 1]);
    // SAME with padding [1, 1] and init 2 (read by each padded position and seeding each window).
    const gi = grad((i: JArray) => lax.reduceWindow(np.ones([5]), i, "sum", [3], [2], "SAME").sum())(np.array(2));
    // 3 windows, 1 seed each, plus 2 padded positions: 5.
    await expectClose(gi, [5]);
  });

  test("grad of max pooling sends each cotangent to its window's maximum", async () => {
    const x = np
      .array([
        [1, 5, 2, 0],
        [3, 4, 8, 7],
        [9, 0, 6, 6.5],
        [2, 1, 3, 11],
      ])
      .reshape([1, 4, 4, 1]);
    const [, back] = vjp(
      (v: JArray) => lax.reduceWindow(v, -Infinity, "max", [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
      [x],
    );
    const g = back(np.array([10, 20, 30, 40]).reshape([1, 2, 2, 1]))[0] as JArray;
    await expectClose(g.reshape([16]), [0, 10, 0, 0, 0, 0, 20, 0, 30, 0, 0, 0, 0, 0, 0, 40]);
    // Overlapping windows: element 5 is the max of both windows of 2 (stride 1) covering it.
    const g1 = grad(sumOf((v) => lax.reduceWindow(v, -Infinity, "max", [2], [1], "VALID")))(np.array([1, 5, 2, 4]));
    await expectClose(g1, [0, 2, 0, 1]);
    const gmin = grad(sumOf((v) => lax.reduceWindow(v, Infinity, "min", [2], [1], "VALID")))(np.array([1, 5, 2, 4]));
    await expectClose(gmin, [1, 0, 2, 0]);
  });

  test("max ties: the first element in window order; the init only when no element attains it", async () => {
    // Window [4, 4] has two maxima: the first (index 0) takes the tangent; then [1, 2] → index 3.
    const g = grad(sumOf((v) => lax.reduceWindow(v, -Infinity, "max", [2], [2], "VALID")))(np.array([4, 4, 1, 2]));
    await expectClose(g, [1, 0, 0, 1]);
    // 2-D window [[3, 7], [7, 1]]: row-major order picks the upper 7.
    const g2 = grad(sumOf((v) => lax.reduceWindow(v, -Infinity, "max", [2, 2], [1, 1], "VALID")))(
      np.array([
        [3, 7],
        [7, 1],
      ]),
    );
    await expectClose(g2, [0, 1, 0, 0]);
    // init 3 with padding [1, 1], windows of 2 over [1, 5, 2]: [pad, 1] → 3 (init), [1, 5] → 5,
    // [5, 2] → 5, [2, pad] → 3 (init).
    const f = (v: JArray, i: JArray) => lax.reduceWindow(v, i, "max", [2], [1], [[1, 1]]).sum();
    const [gx, gi] = grad(f, { argnums: [0, 1] })(np.array([1, 5, 2]), np.array(3)) as [JArray, JArray];
    await expectClose(gx, [0, 2, 0]);
    await expectClose(gi, [2]);
    // A tie between an element and the init goes to the element: window [3] with init 3.
    const [tx, ti] = grad(f, { argnums: [0, 1] })(np.array([3, 0, 0]), np.array(3)) as [JArray, JArray];
    await expectClose(tx, [2, 0, 0]);
    await expectClose(ti, [2]);
  });
});

describe("convolutions", () => {
  test("grad of sum(conv) by hand: the kernel sees window sums, the input the kernel's coverage", async () => {
    const x = np.array([1, 2, 3, 4]).reshape([1, 4, 1]);
    const k = np.array([0.5, -2]).reshape([2, 1, 1]);
    const f = (a: JArray, b: JArray) => convNhwc(a, b, [1], "VALID").sum();
    const [gx, gk] = grad(f, { argnums: [0, 1] })(x, k) as [JArray, JArray];
    // out_i = 0.5·x_i − 2·x_{i+1}: ∂x = [0.5, −1.5, −1.5, −2], ∂k = [1+2+3, 2+3+4].
    await expectClose(gx.reshape([4]), [0.5, -1.5, -1.5, -2]);
    await expectClose(gk.reshape([2]), [6, 9]);
  });

  type ConvCase = [string, number[], number[], number[], lax.Padding, lax.ConvOptions];
  const cases: ConvCase[] = [
    ["1-D VALID", [2, 7, 3], [3, 3, 2], [1], "VALID", {}],
    ["1-D stride 2 SAME", [1, 8, 2], [3, 2, 3], [2], "SAME", {}],
    ["1-D stride 3, uneven tail", [1, 10, 1], [2, 1, 2], [3], "VALID", {}],
    ["1-D explicit and negative padding", [2, 9, 2], [3, 2, 2], [2], [[3, -1]], {}],
    ["1-D lhs dilation (transposed conv)", [1, 5, 2], [3, 2, 2], [1], [[2, 2]], { lhsDilation: [2] }],
    ["1-D rhs dilation (atrous)", [1, 9, 1], [2, 1, 3], [1], "SAME", { rhsDilation: [3] }],
    ["1-D all together", [2, 7, 2], [2, 2, 2], [2], [[1, 2]], { lhsDilation: [2], rhsDilation: [2] }],
    ["2-D SAME", [1, 5, 5, 2], [3, 3, 2, 3], [1, 1], "SAME", {}],
    ["2-D strides [2, 1], VALID", [2, 6, 5, 1], [3, 2, 1, 2], [2, 1], "VALID", {}],
    [
      "2-D dilations",
      [1, 6, 6, 1],
      [2, 2, 1, 2],
      [1, 2],
      [
        [1, 1],
        [0, 2],
      ],
      { lhsDilation: [1, 2], rhsDilation: [2, 1] },
    ],
    ["3-D, strides [1, 2, 1], SAME", [1, 4, 4, 3, 2], [2, 2, 2, 2, 2], [1, 2, 1], "SAME", {}],
    ["2-D feature groups 2", [2, 4, 4, 4], [2, 2, 2, 6], [1, 1], "SAME", { featureGroupCount: 2 }],
    ["2-D depthwise, strided", [2, 5, 5, 3], [3, 3, 1, 6], [2, 2], "SAME", { featureGroupCount: 3 }],
    [
      "1-D groups, dilations, stride",
      [3, 9, 4],
      [2, 2, 4],
      [2],
      [[1, 1]],
      { featureGroupCount: 2, lhsDilation: [2], rhsDilation: [2] },
    ],
    [
      "2-D NCHW/OIHW",
      [2, 3, 5, 4],
      [4, 3, 2, 3],
      [2, 1],
      [
        [1, 0],
        [1, 1],
      ],
      { dimensionNumbers: ["NCHW", "OIHW", "NCHW"] },
    ],
    [
      "2-D mixed layouts, groups",
      [4, 2, 5, 6],
      [2, 4, 3, 2],
      [1, 2],
      "SAME",
      { dimensionNumbers: ["CNWH", "IOHW", "HNCW"], featureGroupCount: 2 },
    ],
  ];

  test.each(cases)("%s: both checks in both operands, second order", async (_, ls, rs, strides, pad, opts) => {
    const x = smooth(ls, 1);
    const k = smooth(rs, 2).sub(0.6);
    await checkGrads((a, b) => convNhwc(a, b as JArray, strides, pad, opts), [x, k], {
      order: 2,
      fdTol: { rtol: 1e-6, atol: 1e-6 },
    });
  });
});

describe("random", () => {
  test("grad through random.normal w.r.t. a scale and shift flows through the float math", async () => {
    const key = random.key(42);
    const z = random.normal(key, [6]);
    const zs = globalThis.Array.from(await z.data());
    const f = (scale: JArray, loc: JArray) => np.square(random.normal(key, [6]).mul(scale).add(loc)).sum();
    const [gs, gl] = grad(f, { argnums: [0, 1] })(np.array(1.5), np.array(0.25)) as [JArray, JArray];
    // Σ (s·z + l)² → ∂s = Σ 2(s·z + l)·z, ∂l = Σ 2(s·z + l).
    await expectClose(gs, [zs.reduce((a, v) => a + 2 * (1.5 * v + 0.25) * v, 0)], { rtol: 1e-5 });
    await expectClose(gl, [zs.reduce((a, v) => a + 2 * (1.5 * v + 0.25), 0)], { rtol: 1e-5, atol: 1e-5 });
    await checkGrads((s) => random.normal(key, [4]).mul(s), [np.array(0.8)]);
    // The key words are uint32: they get no tangent, and the bits do not change.
    const [, t] = jvp((s: JArray) => random.uniform(key, [3]).mul(s), [np.array(2)], [np.array(1)]);
    await expectClose(t, globalThis.Array.from(await random.uniform(key, [3]).data()));
    expect(t.dtype).toBe("float32");
  });
});
