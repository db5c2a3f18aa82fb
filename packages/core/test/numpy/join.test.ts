import { np, ShapeError } from "@webjax/core";
import { describe, expect, test } from "vitest";

describe("concatenate, stack, take", () => {
  test("concatenate along each axis, with views and promotion", async () => {
    using a = np.array([
      [1, 2],
      [3, 4],
    ]);
    using b = np.array([[5, 6]], { dtype: "int32" });
    using c0 = np.concatenate([a, b]);
    expect(c0.dtype).toBe("float32");
    expect(await c0.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    using at = a.T;
    using c1 = np.concatenate([a, at], 1);
    expect(await c1.toArray()).toEqual([
      [1, 2, 1, 3],
      [3, 4, 2, 4],
    ]);
    using c2 = np.concatenate([a, b], null);
    expect(await c2.toArray()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test("many inputs are joined in groups", async () => {
    const parts = Array.from({ length: 15 }, (_, i) => np.full([1, 2], i));
    using c = np.concatenate(parts, 0);
    expect(c.shape).toEqual([15, 2]);
    expect(Array.from(await c.data())).toEqual(Array.from({ length: 30 }, (_, i) => Math.floor(i / 2)));
    for (const p of parts) p.dispose();
  });

  test("mismatched shapes name the axis and the shapes", () => {
    using a = np.ones([2, 3]);
    using b = np.ones([2, 4]);
    expect(() => np.concatenate([a, b], 0)).toThrow(ShapeError);
    expect(() => np.concatenate([a, b], 0)).toThrow(
      "concatenate: along axis 0 every other dim must match, got shapes [2,3], [2,4]",
    );
  });

  test("stack makes a new axis", async () => {
    using a = np.array([1, 2]);
    using b = np.array([3, 4]);
    using s0 = np.stack([a, b]);
    using s1 = np.stack([a, b], -1);
    expect(await s0.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(await s1.toArray()).toEqual([
      [1, 3],
      [2, 4],
    ]);
  });

  test("take with JS indices, negative ones, along any axis, and with an index array", async () => {
    using x = np.arange(12).reshape([3, 4]);
    using t0 = np.take(x, [2, 0, -1], { axis: 0 });
    expect(await t0.toArray()).toEqual([
      [8, 9, 10, 11],
      [0, 1, 2, 3],
      [8, 9, 10, 11],
    ]);
    using t1 = np.take(
      x,
      [
        [3, 0],
        [1, -3],
      ],
      { axis: 1 },
    );
    expect(await t1.toArray()).toEqual([
      [
        [3, 0],
        [1, 1],
      ],
      [
        [7, 4],
        [5, 5],
      ],
      [
        [11, 8],
        [9, 9],
      ],
    ]);
    using idx = np.array(
      [
        [3, 0],
        [1, 7],
      ],
      { dtype: "int32" },
    );
    using t2 = np.take(x, idx, { axis: 1, mode: "clip" });
    expect(t2.shape).toEqual([3, 2, 2]);
    // 7 is clamped to 3 in "clip" mode.
    expect(await t2.toArray()).toEqual([
      [
        [3, 0],
        [1, 3],
      ],
      [
        [7, 4],
        [5, 7],
      ],
      [
        [11, 8],
        [9, 11],
      ],
    ]);
    using flat = np.take(x, [5, 11]);
    expect(await flat.toArray()).toEqual([5, 11]);
    using one = np.take(x, 2, { axis: 1 });
    expect(await one.toArray()).toEqual([2, 6, 10]);
    // JS and Array indices read alike: out of range is the fill value (jnp.take's default mode).
    using out = np.take(x, [4, -5, -4], { axis: 1 });
    expect(await out.toArray()).toEqual([
      [-2147483648, -2147483648, 0],
      [-2147483648, -2147483648, 4],
      [-2147483648, -2147483648, 8],
    ]);
    using f = np.take(np.array([1.5, 2.5]), [2, -1, 0]);
    expect(Array.from(await f.data())).toEqual([Number.NaN, 2.5, 1.5]);
    using w = np.take(np.array([1.5, 2.5]), [2, -1, 5], { mode: "wrap" });
    expect(Array.from(await w.data())).toEqual([1.5, 2.5, 2.5]);
    using c = np.take(np.array([1.5, 2.5]), [-1, 5], { mode: "clip" });
    expect(Array.from(await c.data())).toEqual([1.5, 2.5]);
    expect(() => np.take(x, [1.5])).toThrow(/take: indices must be integers, got 1\.5/);
    expect(() => np.take(x, [0], { mode: "nearest" as never })).toThrow(/mode must be one of "fill", "clip"/);
    expect(() => np.take(x, [0], { axes: 1 } as never)).toThrow(/unknown option "axes" \(did you mean "axis"\?\)/);
  });
});
