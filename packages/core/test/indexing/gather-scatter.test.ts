/**
 * XLA's gather and scatter with dimension numbers, against hand-computed results and a naive
 * loop for point scatter-add with duplicates.
 */
import { type Array as JArray, lax, np, ShapeError } from "@webjax/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

const rows = { offsetDims: [1], collapsedSliceDims: [0], startIndexMap: [0] };
const points = { offsetDims: [], collapsedSliceDims: [0, 1], startIndexMap: [0, 1] };
const windows = { offsetDims: [1, 2], collapsedSliceDims: [], startIndexMap: [0, 1] };

describe("lax.gather", () => {
  test("rows, points and windows (clamped so the window fits)", async () => {
    using x = np.arange(20).reshape([4, 5]);
    using r = lax.gather(x, np.array([[1], [3]], { dtype: "int32" }), rows, [1, 5]);
    expect(await r.toArray()).toEqual([
      [5, 6, 7, 8, 9],
      [15, 16, 17, 18, 19],
    ]);
    using p = lax.gather(
      x,
      np.array(
        [
          [0, 1],
          [3, 2],
        ],
        { dtype: "int32" },
      ),
      points,
      [1, 1],
    );
    expect(await p.toArray()).toEqual([1, 17]);
    using w = lax.gather(
      x,
      np.array(
        [
          [1, 1],
          [3, 4],
        ],
        { dtype: "int32" },
      ),
      windows,
      [2, 2],
    );
    expect(await w.toArray()).toEqual([
      [
        [6, 7],
        [11, 12],
      ],
      [
        [13, 14],
        [18, 19],
      ],
    ]);
  });

  test("fill mode gives the fill value where the slice would not fit", async () => {
    using x = np.arange(20).reshape([4, 5]);
    using idx = np.array(
      [
        [1, 1],
        [3, 4],
      ],
      { dtype: "int32" },
    );
    using w = lax.gather(x.astype("float32"), idx, windows, [2, 2], { mode: "fill" });
    const v = Array.from(await w.data());
    expect(v.slice(0, 4)).toEqual([6, 7, 11, 12]);
    expect(v.slice(4).every(Number.isNaN)).toBe(true);
  });

  test("bad dimension numbers are named", () => {
    using x = np.ones([4, 5]);
    using idx = np.array([[1]], { dtype: "int32" });
    expect(() => lax.gather(x, idx, rows, [2, 5])).toThrow(ShapeError);
    expect(() => lax.gather(x, idx, rows, [2, 5])).toThrow(/collapsed dim 0 must have slice size 1/);
  });
});

describe("lax.scatter", () => {
  test("point scatter-add with duplicates; set keeps the last", async () => {
    using x = np.zeros([5]);
    using idx = np.array([[1], [1], [4]], { dtype: "int32" });
    using u = np.array([1, 2, 3]);
    const dn = { updateWindowDims: [], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
    using a = lax.scatterAdd(x, idx, u, dn);
    using s = lax.scatter(x, idx, u, dn);
    using m = lax.scatterMax(x, idx, u, dn);
    expect(await a.toArray()).toEqual([0, 3, 0, 0, 3]);
    expect(await s.toArray()).toEqual([0, 2, 0, 0, 3]);
    expect(await m.toArray()).toEqual([0, 2, 0, 0, 3]);
  });

  test("window scatter: windows that would not fit are dropped", async () => {
    using x = np.zeros([4, 4]);
    using idx = np.array(
      [
        [0, 0],
        [2, 2],
        [3, 3],
      ],
      { dtype: "int32" },
    );
    using u = np.ones([3, 2, 2]);
    const dn = { updateWindowDims: [1, 2], insertedWindowDims: [], scatterDimsToOperandDims: [0, 1] };
    using a = lax.scatterAdd(x, idx, u, dn);
    expect(await a.toArray()).toEqual([
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
    ]);
  });

  test("scatter of rows (inserted dim 0), the transpose of a row gather", async () => {
    using x = np.zeros([3, 2]);
    using idx = np.array([[2], [0], [2]], { dtype: "int32" });
    using u = np.array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const dn = { updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
    using a = lax.scatterAdd(x, idx, u, dn);
    expect(await a.toArray()).toEqual([
      [3, 4],
      [0, 0],
      [6, 8],
    ]);
  });

  test("operand and updates are read through their views (broadcast, offset slice, flip)", async () => {
    // Rows of updates land at idx along dim 0; reference: plain JS on the logical values.
    const dn = { updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
    const idx = [2, 0, 2, 3];
    const check = async (x: JArray, u: JArray, want: number[][]) => {
      using i = np.array(Int32Array.from(idx), { shape: [4, 1] });
      using y = lax.scatterAdd(x, i, u, dn);
      expect(await y.toArray()).toEqual(want);
    };
    const scatterRef = (x: number[][], u: number[][]) => {
      const out = x.map((r) => [...r]);
      idx.forEach((t, k) => {
        (out[t] as number[]).forEach((_, j, row) => {
          row[j] = (row[j] as number) + ((u[k] as number[])[j] as number);
        });
      });
      return out;
    };
    using base = np.arange(24).reshape([6, 4]);
    // A broadcast operand and a broadcast update row (stride 0).
    using zeros = np.broadcastTo(np.array(0), [4, 3]);
    using row = np.broadcastTo(np.array([1, 2, 3]), [4, 3]);
    await check(
      zeros,
      row,
      scatterRef(
        [0, 0, 0, 0].map(() => [0, 0, 0]),
        [0, 1, 2, 3].map(() => [1, 2, 3]),
      ),
    );
    // An operand slice at an offset with a column step; updates flipped on both dims.
    using sliced = base.slice([1, 5], [1, 4, 2]);
    using flipped = np.flip(base.slice([0, 4], [0, 2]));
    const s = (await sliced.toArray()) as number[][];
    const f = (await flipped.toArray()) as number[][];
    await check(sliced, flipped, scatterRef(s, f));
    // A transposed operand.
    using t = base.slice([0, 2]).T;
    using u = np.ones([4, 2]);
    await check(
      t,
      u,
      scatterRef(
        (await t.toArray()) as number[][],
        [0, 1, 2, 3].map(() => [1, 1]),
      ),
    );
  });

  test("2-D point scatter-add matches a naive loop", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(fc.integer({ min: -1, max: 4 }), fc.integer({ min: -1, max: 4 })), { maxLength: 10 }),
        async (h, w, pts) => {
          const want = Array.from({ length: h }, () => new Array<number>(w).fill(0));
          pts.forEach(([i, j], k) => {
            if (i >= 0 && i < h && j >= 0 && j < w) {
              const row = want[i] as number[];
              row[j] = (row[j] as number) + k + 1;
            }
          });
          using x = np.zeros([h, w]);
          using idx = np.array(Int32Array.from(pts.flat()), { shape: [pts.length, 2] });
          using u = np.array(Float32Array.from(pts.map((_, k) => k + 1)));
          using y = lax.scatterAdd(x, idx, u, {
            updateWindowDims: [],
            insertedWindowDims: [0, 1],
            scatterDimsToOperandDims: [0, 1],
          });
          expect(await y.toArray()).toEqual(want);
        },
      ),
      { numRuns: Number(process.env.WEBJAX_PROP_RUNS ?? 60) },
    );
  });
});
