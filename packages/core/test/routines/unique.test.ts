/**
 * np.unique and the array API's unique functions: JAX's outputs for NaN, −0, padding and
 * cutting (from jax.numpy 0.10), a 1e5-element case against a JS Map, under transforms with
 * `size`, and the errors where the size cannot be known.
 */
import { BackendError, grad, type Array as JArray, jvp, np } from "@webjax/core";
import { rng, syncReads } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const NaN_ = Number.NaN;
const read = async (x: JArray) => Array.from(await x.data());

describe("np.unique", () => {
  test("values, first indices, inverse and counts as JAX gives them (NaN once, −0 with 0)", async () => {
    using x = np.array([3, 1, 3, NaN_, NaN_, -0, 0]);
    const [v, i, inv, c] = np.unique(x, { returnIndex: true, returnInverse: true, returnCounts: true, size: 8 });
    // jnp.unique(x, size=8, return_index=True, return_inverse=True, return_counts=True)
    expect(await read(v as JArray)).toEqual([-0, 1, 3, NaN_, -0, -0, -0, -0]);
    expect(await read(i as JArray)).toEqual([5, 1, 0, 3, 5, 5, 5, 5]);
    expect(await read(inv as JArray)).toEqual([2, 1, 2, 3, 3, 0, 0]);
    expect(await read(c as JArray)).toEqual([2, 1, 2, 2, 0, 0, 0, 0]);
    for (const a of [v, i, inv, c]) a?.dispose();
  });

  test("equalNan: false keeps every NaN; a smaller size keeps the smallest values; fillValue pads", async () => {
    using x = np.array([3, 1, 3, NaN_, NaN_, -0, 0]);
    const [v, c] = np.unique(x, { equalNan: false, returnCounts: true, size: 5 });
    expect(await read(v as JArray)).toEqual([-0, 1, 3, NaN_, NaN_]);
    expect(await read(c as JArray)).toEqual([2, 1, 2, 1, 1]);
    v?.dispose();
    c?.dispose();
    const [cut, ci] = np.unique(x, { size: 2, returnIndex: true });
    expect(await read(cut as JArray)).toEqual([-0, 1]);
    expect(await read(ci as JArray)).toEqual([5, 1]);
    cut?.dispose();
    ci?.dispose();
    using ints = np.array(Int32Array.of(2, 1));
    const [pv, pi, pc] = np.unique(ints, { size: 4, fillValue: -7, returnIndex: true, returnCounts: true });
    expect(await read(pv as JArray)).toEqual([1, 2, -7, -7]);
    expect(await read(pi as JArray)).toEqual([1, 0, 1, 1]);
    expect(await read(pc as JArray)).toEqual([1, 1, 0, 0]);
    for (const a of [pv, pi, pc]) a?.dispose();
  });

  test("the array API forms; the inverse has x's shape", async () => {
    using x = np.array(Int32Array.of(2, 1, 1, 5), { shape: [2, 2] });
    const all = np.uniqueAll(x, { size: 3 });
    expect(await read(all.values)).toEqual([1, 2, 5]);
    expect(await read(all.indices)).toEqual([1, 0, 3]);
    expect(await all.inverseIndices.toArray()).toEqual([
      [1, 0],
      [0, 2],
    ]);
    expect(await read(all.counts)).toEqual([2, 1, 1]);
    for (const a of Object.values(all)) a.dispose();
    const { values, counts } = np.uniqueCounts(x, { size: 3 });
    expect(await read(counts)).toEqual([2, 1, 1]);
    values.dispose();
    counts.dispose();
  });

  test("100,003 integers with many repeats against a JS Map", { timeout: 120_000 }, async () => {
    const r = rng(5);
    const data = Int32Array.from({ length: 100_003 }, () => Math.floor(r() * 5000) - 2500);
    const counts = new Map<number, number>();
    const first = new Map<number, number>();
    data.forEach((v, k) => {
      counts.set(v, (counts.get(v) ?? 0) + 1);
      if (!first.has(v)) first.set(v, k);
    });
    const keys = [...counts.keys()].sort((a, b) => a - b);
    using x = np.array(data);
    const [v, i, c] = np.unique(x, { size: keys.length, returnIndex: true, returnCounts: true });
    expect(await read(v as JArray)).toEqual(keys);
    expect(await read(i as JArray)).toEqual(keys.map((k) => first.get(k)));
    expect(await read(c as JArray)).toEqual(keys.map((k) => counts.get(k)));
    for (const a of [v, i, c]) a?.dispose();
  });

  test("without size: read eagerly where the backend can, else a named error naming size", async () => {
    using x = np.array([2, 2, 7]);
    if (syncReads) {
      using u = np.unique(x);
      expect(await read(u)).toEqual([2, 7]);
      // grad's primal values are concrete, so the count is read there too.
      using g0 = grad((v: JArray) => np.unique(v).sum())(x);
      expect(await read(g0)).toEqual([1, 0, 1]);
    } else {
      expect(() => np.unique(x)).toThrow(BackendError);
      expect(() => np.unique(x)).toThrow(/cannot read it synchronously; pass \{ size \}/);
    }
    // With size, unique works under transforms: d/dx Σ unique(x) is 1 at each group's first element.
    using g = grad((v: JArray) => np.unique(v, { size: 2 }).sum())(x);
    expect(await read(g)).toEqual([1, 0, 1]);
    const [, t] = jvp((v: JArray) => np.unique(v, { size: 3, fillValue: 0 }), [x], [np.array([1, 2, 3])]);
    expect(await read(t as JArray)).toEqual([1, 3, 0]);
  });
});
