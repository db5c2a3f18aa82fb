/**
 * Dynamic slices, x.at(...) updates and scatter, against hand-computed values and a naive
 * reference for scatter-add with duplicate indices.
 */
import { DTypeError, lax, np, ShapeError } from "@webjax/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

describe("dynamic slices", () => {
  test("dynamicSlice with numbers and int32 scalars, clamped at the edges as XLA", async () => {
    using x = np.arange(20).reshape([4, 5]);
    using a = lax.dynamicSlice(x, [1, 2], [2, 3]);
    expect(await a.toArray()).toEqual([
      [7, 8, 9],
      [12, 13, 14],
    ]);
    using s0 = np.array([3], { dtype: "int32" }).reshape([]);
    using b = lax.dynamicSlice(x, [s0, 4], [2, 2]); // starts clamp to (2, 3)
    expect(await b.toArray()).toEqual([
      [13, 14],
      [18, 19],
    ]);
    using c = lax.dynamicSlice(x, [-5, 1], [1, 2]); // negative clamps to 0
    expect(await c.toArray()).toEqual([[1, 2]]);
    expect(() => lax.dynamicSlice(x, [0], [1, 1])).toThrow(ShapeError);
    expect(() => lax.dynamicSlice(x, [0, 0], [5, 1])).toThrow(/do not fit/);
  });

  test("dynamicUpdateSlice writes a window, clamped to fit", async () => {
    using x = np.zeros([3, 4], { dtype: "int32" });
    using u = np.array(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "int32" },
    );
    using y = lax.dynamicUpdateSlice(x, u, [1, 1]);
    expect(await y.toArray()).toEqual([
      [0, 0, 0, 0],
      [0, 1, 2, 0],
      [0, 3, 4, 0],
    ]);
    using z = lax.dynamicUpdateSlice(x, u, [5, 3]); // clamps to (1, 2)
    expect(await z.toArray()).toEqual([
      [0, 0, 0, 0],
      [0, 0, 1, 2],
      [0, 0, 3, 4],
    ]);
  });
});

describe("x.at(idx)", () => {
  test("set, add, mul, min, max and get along axis 0, with duplicates and negative indices", async () => {
    using x = np.array([10, 20, 30, 40]);
    using s = x.at([1, -1]).set(0);
    using a = x.at([0, 0, 2]).add(np.array([1, 2, 3]));
    using m = x.at(3).mul(0.5);
    using lo = x.at([1, 1]).min(np.array([25, 15]));
    using hi = x.at([2]).max(100);
    using g = x.at([3, 0]).get();
    expect(await s.toArray()).toEqual([10, 0, 30, 0]);
    expect(await a.toArray()).toEqual([13, 20, 33, 40]);
    expect(await m.toArray()).toEqual([10, 20, 30, 20]);
    expect(await lo.toArray()).toEqual([10, 15, 30, 40]);
    expect(await hi.toArray()).toEqual([10, 20, 100, 40]);
    expect(await g.toArray()).toEqual([40, 10]);
    expect(await x.toArray()).toEqual([10, 20, 30, 40]); // x itself is unchanged
  });

  test("set with duplicate indices keeps the last update; out-of-range indices are dropped", async () => {
    using x = np.zeros([3, 2]);
    using idx = np.array([2, 0, 2, 7], { dtype: "int32" });
    using v = np.array([
      [1, 1],
      [2, 2],
      [3, 3],
      [9, 9],
    ]);
    using y = x.at(idx).set(v);
    expect(await y.toArray()).toEqual([
      [2, 2],
      [0, 0],
      [3, 3],
    ]);
    using f = np.array([1.5]);
    expect(() => x.at(f).set(1)).toThrow(DTypeError);
  });

  test("scatter-add matches a naive loop (deterministic sums, duplicates included)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: -8, max: 8 }), { minLength: 0, maxLength: 12 }),
        fc.integer({ min: 1, max: 3 }),
        async (n, rawIdx, width) => {
          const updates = rawIdx.map((_, k) => Array.from({ length: width }, (_, j) => k * 10 + j));
          const want = Array.from({ length: n }, () => new Array<number>(width).fill(1));
          rawIdx.forEach((i, k) => {
            const t = i < 0 ? i + n : i;
            if (t < 0 || t >= n) return;
            const row = want[t] as number[];
            for (let j = 0; j < width; j++) row[j] = (row[j] as number) + ((updates[k] as number[])[j] as number);
          });
          using x = np.ones([n, width]);
          using idx = np.array(Int32Array.from(rawIdx));
          using u = np.array(updates.length ? updates : [], { dtype: "float32" }).reshape([rawIdx.length, width]);
          using y = lax.scatterAlongAxis(x, idx, u, { mode: "add" });
          expect(await y.toArray()).toEqual(want);
        },
      ),
      { numRuns: Number(process.env.WEBJAX_PROP_RUNS ?? 60) },
    );
  });

  test("scatter along an inner axis is the transpose of take", async () => {
    using x = np.zeros([2, 3]);
    using idx = np.array([2, 2, 0], { dtype: "int32" });
    using u = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using y = lax.scatterAlongAxis(x, idx, u, { axis: 1, mode: "add" });
    expect(await y.toArray()).toEqual([
      [3, 0, 3],
      [6, 0, 9],
    ]);
  });

  test("an index list may hold 0-d int Arrays (numpy's x[[i, j]]), mixed with numbers", async () => {
    using x = np.arange(12).reshape([3, 4]);
    using i = np.array(1, { dtype: "int32" });
    using j = np.array(2, { dtype: "int32" });
    using rows = x.at([i, j]).get();
    expect(await rows.toArray()).toEqual([
      [4, 5, 6, 7],
      [8, 9, 10, 11],
    ]);
    using added = x.at([i, 0]).add(1);
    expect(await added.toArray()).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [8, 9, 10, 11],
    ]);
    using v = np.array([1, 2], { dtype: "int32" });
    expect(() => x.at([i, v]).get()).toThrow(
      /at\(…\).get: the entries of an index list must have one shape, got \[\] and \[2\]/,
    );
  });
});
