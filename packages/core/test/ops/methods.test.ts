/** Array methods mirror their np functions (the methods JAX arrays have). */
import { np } from "@webjax/core";
import { describe, expect, test } from "vitest";

describe("array methods", () => {
  test("reductions, scans, sorting and reshaping as methods give the np results", async () => {
    using x = np.array([
      [3, 1, 2],
      [0, 5, 4],
    ]);
    using any = x.greater(4).any(1);
    using all = x.greater(-1).all();
    using v = x.var();
    using s = x.std(0, { ddof: 1 });
    using c = x.cumsum(1);
    using cp = x.cumprod();
    using so = x.sort();
    using as = x.argsort({ axis: 0 });
    using t = x.take([2, 0], { axis: 1 });
    using f = x.flatten();
    using r = x.ravel();
    using sw = x.swapaxes(0, 1);
    using rep = x.repeat(2, 0);
    using cl = x.clip(1, 3);
    using half = np.array([0.5, 1.5, 2.5, -0.5]);
    using ro = half.round();
    expect(await any.toArray()).toEqual([0, 1]);
    expect(await all.item()).toBe(1);
    // mean 2.5; squared deviations 0.25, 2.25, 0.25, 6.25, 6.25, 2.25 → 17.5 / 6
    expect(await v.item()).toBeCloseTo(17.5 / 6, 6);
    expect(Array.from(await s.data()).map((e) => Number(e.toFixed(6)))).toEqual(
      [Math.sqrt(4.5), Math.sqrt(8), Math.sqrt(2)].map((e) => Number(e.toFixed(6))),
    );
    expect(await c.toArray()).toEqual([
      [3, 4, 6],
      [0, 5, 9],
    ]);
    expect(await cp.toArray()).toEqual([3, 3, 6, 0, 0, 0]);
    expect(await so.toArray()).toEqual([
      [1, 2, 3],
      [0, 4, 5],
    ]);
    expect(await as.toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 1],
    ]);
    expect(await t.toArray()).toEqual([
      [2, 3],
      [4, 0],
    ]);
    expect(await f.toArray()).toEqual([3, 1, 2, 0, 5, 4]);
    expect(await r.toArray()).toEqual([3, 1, 2, 0, 5, 4]);
    expect(await sw.toArray()).toEqual([
      [3, 0],
      [1, 5],
      [2, 4],
    ]);
    expect(rep.shape).toEqual([4, 3]);
    expect(await cl.toArray()).toEqual([
      [3, 1, 2],
      [1, 3, 3],
    ]);
    expect(Array.from(await ro.data())).toEqual([0, 2, 2, -0]);
  });
});
