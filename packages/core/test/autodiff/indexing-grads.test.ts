/**
 * Gradients of the indexing primitives (take, concatenate, dynamic slices, scatter along an axis
 * in every mode, XLA's gather in clip and fill modes, XLA's scatter in every mode), through the
 * public API: both checks of checkGrads (finite differences in float64, the vjp/jvp identity in
 * float32) with duplicate, negative and out-of-range indices, and hand-computed gradients.
 */
import { grad, type Array as JArray, jvp, lax, np, vjp } from "@webjax/core";
import { checkGrads, expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

/** Distinct smooth values (no two within 1e-3 of each other for the sizes used here). */
function seq(shape: number[], scale = 0.37, shift = -1.1): JArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(Array.from({ length: n }, (_, i) => Math.sin(i * scale + shift) * 1.5)).reshape(shape);
}

const int = (v: number[] | number[][]) => np.array(v, { dtype: "int32" });

describe("take", () => {
  test.each([
    ["axis 0, repeated indices", 0, [2, 0, 2, 2]],
    ["axis 1, negative and out-of-range indices (clamped)", 1, [0, -1, 7, -9, 4, 4]],
  ] as const)("%s: both checks, to second order", async (_, axis, idx) => {
    await checkGrads((x) => np.take(x, int([...idx]), { axis, mode: "promise_in_bounds" }), [seq([3, 5])], {
      order: 2,
    });
  });

  test("fill mode: out-of-range reads are constants (zero gradient), the others count", async () => {
    await checkGrads((x) => np.take(x, int([0, -1, 7, -9, 4, 4]), { axis: 1, fillValue: 0 }), [seq([3, 5])], {
      order: 2,
    });
    const g = grad((x: JArray) => np.take(x, int([1, 9, -1, -7]), { fillValue: 0 }).sum())(np.zeros([4]));
    await expectClose(g, [0, 1, 0, 1]);
  });

  test("2-D indices", async () => {
    await checkGrads(
      (x) =>
        np.take(
          x,
          int([
            [1, 0],
            [3, 3],
          ]),
          { axis: 1 },
        ),
      [seq([2, 4, 3])],
      { order: 2 },
    );
  });

  test("the gradient counts repeated and clamped indices", async () => {
    // n = 4: 9 clamps to 3, −1 wraps to 3, −7 wraps to −3 and clamps to 0.
    const g = grad((x: JArray) => np.take(x, int([1, 1, 3, 1, 9, -1, -7]), { mode: "promise_in_bounds" }).sum())(
      np.zeros([4]),
    );
    await expectClose(g, [1, 3, 0, 3]);
    const g2 = grad((x: JArray) => x.at([2, 2, 0]).get().sum())(np.zeros([3, 2]));
    await expectClose(g2, [
      [1, 1],
      [0, 0],
      [2, 2],
    ]);
  });
});

describe("concatenate", () => {
  test("three operands along axis 1, to second order", async () => {
    await checkGrads(
      (a, b, c) => np.concatenate([a, b, c], 1),
      [seq([2, 3]), seq([2, 1], 0.5), seq([2, 4], 0.9, 0.3)],
      {
        order: 2,
      },
    );
  });

  test("with a constant operand; each operand gets its slice of the cotangent", async () => {
    await checkGrads((a) => np.concatenate([np.ones([1, 3], { dtype: a.dtype }), a], 0), [seq([2, 3])], { order: 2 });
    const w = np.array([1, 2, 3, 4, 5]);
    const [ga, gb] = grad((a: JArray, b: JArray) => np.concatenate([a, b]).mul(w).sum(), { argnums: [0, 1] })(
      np.zeros([2]),
      np.zeros([3]),
    );
    await expectClose(ga, [1, 2]);
    await expectClose(gb, [3, 4, 5]);
  });
});

describe("dynamic slices", () => {
  test.each([
    ["inside", [1, 2]],
    ["clamped starts", [5, -3]],
  ] as const)("dynamicSlice, %s", async (_, starts) => {
    await checkGrads((x) => lax.dynamicSlice(x, [...starts], [2, 3]), [seq([4, 5])], { order: 2 });
  });

  test.each([
    ["inside", [1, 1]],
    ["clamped starts", [3, -2]],
  ] as const)("dynamicUpdateSlice in the operand and the update, %s", async (_, starts) => {
    await checkGrads((x, u) => lax.dynamicUpdateSlice(x, u, [...starts]), [seq([4, 5]), seq([2, 3], 0.8, 0.1)], {
      order: 2,
    });
  });

  test("traced int32 starts", async () => {
    const s = [np.array(2, { dtype: "int32" }), np.array(1, { dtype: "int32" })];
    await checkGrads((x) => lax.dynamicSlice(x, s, [2, 2]), [seq([4, 5])]);
  });

  test("hand-computed: the window of the cotangent, and the operand outside it", async () => {
    const w = np.arange(6).astype("float32");
    // Start 5 is clamped to 6 − 2 = 4.
    const gx = grad((x: JArray) =>
      lax
        .dynamicSlice(x, [5], [2])
        .mul(np.array([10, 20]))
        .sum(),
    )(np.zeros([6]));
    await expectClose(gx, [0, 0, 0, 0, 10, 20]);
    const [gx2, gu] = grad((x: JArray, u: JArray) => lax.dynamicUpdateSlice(x, u, [-1]).mul(w).sum(), {
      argnums: [0, 1],
    })(np.zeros([6]), np.zeros([3]));
    await expectClose(gx2, [0, 0, 0, 3, 4, 5]);
    await expectClose(gu, [0, 1, 2]);
  });
});

describe("scatter along an axis (x.at(idx), lax.scatterAlongAxis)", () => {
  // Duplicates (1 three times), a negative index (−1 → 4) and a dropped one (7).
  const idx = [1, 3, 1, -1, 7, 1];
  const x = () => seq([5, 3]);
  const v = () => seq([6, 3], 0.61, 0.35);

  test.each(["set", "add", "mul", "min", "max"] as const)("x.at(idx).%s, to second order", async (mode) => {
    await checkGrads((a, b) => a.at(idx)[mode](b), [x(), v()], { order: 2 });
  });

  test.each(["set", "add", "mul", "min", "max"] as const)("scatterAlongAxis on axis 1, mode %s", async (mode) => {
    const i = int([
      [0, 2],
      [2, 2],
      [-1, 5],
    ]);
    await checkGrads(
      (a, b) => lax.scatterAlongAxis(a, i, b, { axis: 1, mode }),
      [seq([2, 4]), seq([2, 3, 2], 0.7, 0.45)],
      {
        order: 2,
      },
    );
  });

  test("mul with one, two and three zero updates at an element: exact products of the others", async () => {
    const a = np.array([2, 0.5, 3, -1, 1.5]);
    const b = np.array([0, 4, 5, 0, 0, 1.5, 0, 0, 0]);
    const i = [0, 0, 1, 2, 2, 3, 4, 4, 4];
    await checkGrads((p, q) => p.at(i).mul(q), [a, b], { order: 2 });
    // out = [2·0·4, 0.5·5, 3·0·0, −1·1.5, 1.5·0·0·0]
    const [ga, gb] = grad((p: JArray, q: JArray) => p.at(i).mul(q).sum(), { argnums: [0, 1] })(a, b);
    await expectClose(ga, [0, 5, 0, 1.5, 0]);
    await expectClose(gb, [8, 0, 0.5, 0, 0, -1, 0, 0, 0]);
  });

  test("set: with duplicate indices only the last update gets the gradient", async () => {
    const [gx, gv] = grad((p: JArray, q: JArray) => p.at([0, 2, 0, 9]).set(q).sum(), { argnums: [0, 1] })(
      np.zeros([4]),
      np.zeros([4]),
    );
    await expectClose(gv, [0, 1, 1, 0]);
    await expectClose(gx, [0, 1, 0, 1]);
  });

  test("add: each update gets the cotangent where it lands, dropped ones get zero", async () => {
    const w = np.array([10, 20, 30]);
    const gv = grad((q: JArray) => np.zeros([3]).at([2, 0, 2, 5, -1]).add(q).mul(w).sum())(np.zeros([5]));
    await expectClose(gv, [30, 10, 30, 0, 30]);
  });

  test("max/min: a tie shares the gradient equally", async () => {
    const [gx, gv] = grad((p: JArray, q: JArray) => p.at([1, 1, 1]).max(q).sum(), { argnums: [0, 1] })(
      np.array([1, 5, 2]),
      np.array([5, 3, 5]),
    );
    await expectClose(gx, [1, 1 / 3, 1]);
    await expectClose(gv, [1 / 3, 0, 1 / 3]);
    const [gx2, gv2] = grad((p: JArray, q: JArray) => p.at([0, 0]).min(q).sum(), { argnums: [0, 1] })(
      np.array([4, 1]),
      np.array([-2, -2]),
    );
    await expectClose(gx2, [0, 1]);
    await expectClose(gv2, [0.5, 0.5]);
  });
});

const rows = { offsetDims: [1], collapsedSliceDims: [0], startIndexMap: [0] };
const points = { offsetDims: [], collapsedSliceDims: [0, 1], startIndexMap: [0, 1] };
const windows = { offsetDims: [1, 2], collapsedSliceDims: [], startIndexMap: [0, 1] };

describe("lax.gather", () => {
  test.each([
    ["rows with out-of-range starts (clipped)", rows, [[1], [3], [9], [-2], [1]], [1, 5]],
    [
      "points with duplicates",
      points,
      [
        [0, 1],
        [3, 2],
        [0, 1],
        [5, -1],
      ],
      [1, 1],
    ],
    [
      "windows that are clamped to fit",
      windows,
      [
        [1, 1],
        [3, 4],
        [-1, 2],
      ],
      [2, 2],
    ],
  ] as const)("clip: %s, to second order", async (_, dims, idx, sizes) => {
    const i = int(idx.map((r) => [...r]));
    await checkGrads((x) => lax.gather(x, i, dims, [...sizes]), [seq([4, 5])], { order: 2 });
  });

  test.each([
    ["rows", rows, [[1], [3], [9], [-2]], [1, 5]],
    [
      "windows",
      windows,
      [
        [1, 1],
        [3, 4],
        [-1, 2],
        [2, 3],
      ],
      [2, 2],
    ],
  ] as const)("fill: %s (slices that do not fit read the fill value)", async (_, dims, idx, sizes) => {
    const i = int(idx.map((r) => [...r]));
    await checkGrads((x) => lax.gather(x, i, dims, [...sizes], { mode: "fill", fillValue: 7 }), [seq([4, 5])], {
      order: 2,
    });
  });

  test("fill: the NaN fill value has tangent 0, and no cotangent flows from it", async () => {
    const x = seq([4, 5]);
    const i = int([
      [1, 1],
      [3, 4],
    ]);
    const f = (a: JArray) => lax.gather(a, i, windows, [2, 2], { mode: "fill" });
    const [out, t] = jvp(f, [x], [np.ones([4, 5])]);
    expect(
      Array.from(await out.data())
        .slice(4)
        .every(Number.isNaN),
    ).toBe(true);
    await expectClose(t, [
      [
        [1, 1],
        [1, 1],
      ],
      [
        [0, 0],
        [0, 0],
      ],
    ]);
    const [, back] = vjp(f, [x]);
    const [g] = back(np.ones([2, 2, 2]));
    await expectClose(g as JArray, [
      [0, 0, 0, 0, 0],
      [0, 1, 1, 0, 0],
      [0, 1, 1, 0, 0],
      [0, 0, 0, 0, 0],
    ]);
  });

  test("hand-computed: clipped windows and repeated points accumulate", async () => {
    // Start [3, 4] is clamped to [2, 3]; the two windows overlap at (2, 3).
    const g = grad((x: JArray) =>
      lax
        .gather(
          x,
          int([
            [1, 2],
            [3, 4],
          ]),
          windows,
          [2, 2],
        )
        .sum(),
    )(np.zeros([4, 5]));
    await expectClose(g, [
      [0, 0, 0, 0, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 1, 2, 1],
      [0, 0, 0, 1, 1],
    ]);
    const gp = grad((x: JArray) =>
      lax
        .gather(
          x,
          int([
            [0, 1],
            [0, 1],
            [2, 0],
          ]),
          points,
          [1, 1],
        )
        .sum(),
    )(np.zeros([3, 2]));
    await expectClose(gp, [
      [0, 2],
      [0, 0],
      [1, 0],
    ]);
  });
});

describe("lax.scatter (XLA's dimension numbers)", () => {
  const windowDims = { updateWindowDims: [1, 2], insertedWindowDims: [], scatterDimsToOperandDims: [0, 1] };
  const rowDims = { updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
  const fns = {
    set: lax.scatter,
    add: lax.scatterAdd,
    mul: lax.scatterMul,
    min: lax.scatterMin,
    max: lax.scatterMax,
  };
  const modes = ["set", "add", "mul", "min", "max"] as const;

  test.each(modes)("overlapping, repeated and dropped 2×2 windows, mode %s, to second order", async (mode) => {
    // [0, 1] twice, [1, 2] overlaps it, [3, 4] and [-1, 0] do not fit and are dropped.
    const i = int([
      [0, 1],
      [1, 2],
      [0, 1],
      [3, 4],
      [-1, 0],
      [2, 0],
    ]);
    await checkGrads((x, u) => fns[mode](x, i, u, windowDims), [seq([4, 5]), seq([6, 2, 2], 0.53, 0.2)], { order: 2 });
  });

  test.each(modes)("rows with duplicates, mode %s", async (mode) => {
    const i = int([[1], [3], [1], [4]]);
    await checkGrads((x, u) => fns[mode](x, i, u, rowDims), [seq([4, 3]), seq([4, 3], 0.71, 0.4)], { order: 2 });
  });

  test("hand-computed: set gives the winner's window, add gathers the cotangent", async () => {
    const i = int([[1], [0], [1], [5]]);
    const w = np.array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const [gx, gu] = grad((x: JArray, u: JArray) => lax.scatter(x, i, u, rowDims).mul(w).sum(), { argnums: [0, 1] })(
      np.zeros([3, 2]),
      np.zeros([4, 2]),
    );
    await expectClose(gx, [
      [0, 0],
      [0, 0],
      [5, 6],
    ]);
    await expectClose(gu, [
      [0, 0],
      [1, 2],
      [3, 4],
      [0, 0],
    ]);
    const ga = grad((u: JArray) =>
      lax
        .scatterAdd(np.zeros([3, 2]), i, u, rowDims)
        .mul(w)
        .sum(),
    )(np.zeros([4, 2]));
    await expectClose(ga, [
      [3, 4],
      [1, 2],
      [3, 4],
      [0, 0],
    ]);
  });

  test("hand-computed: mul and max", async () => {
    const i = int([[0], [0], [1]]);
    const pointDims = { updateWindowDims: [], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
    const [gx, gu] = grad((x: JArray, u: JArray) => lax.scatterMul(x, i, u, pointDims).sum(), { argnums: [0, 1] })(
      np.array([2, 3]),
      np.array([4, 0, 5]),
    );
    await expectClose(gx, [0, 5]);
    await expectClose(gu, [0, 8, 3]);
    const [mx, mu] = grad((x: JArray, u: JArray) => lax.scatterMax(x, i, u, pointDims).sum(), { argnums: [0, 1] })(
      np.array([2, 3]),
      np.array([4, 4, 1]),
    );
    await expectClose(mx, [0, 1]);
    await expectClose(mu, [0.5, 0.5, 0]);
  });
});
