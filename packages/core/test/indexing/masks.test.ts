/**
 * Boolean masks and index modes as JAX reads them: a bool index is a mask (never 0/1 integer
 * indices), float indices are DTypeErrors, and out-of-range integer indices follow `mode`.
 * Hand-computed cases, then a property test drawing random masks and index arrays and checking
 * `at(…).get/set/add`, `take`, `nonzero`, `argwhere`, `flatnonzero` and `extract` against a
 * naive loop reference.
 */
import { DTypeError, grad, type Array as JArray, lax, np, ShapeError } from "@webjax/core";
import { syncReads } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS) || 60;
const read = async (x: JArray) => globalThis.Array.from(await x.data());

describe("boolean masks", () => {
  test("x.at(mask).set updates where the mask is true (not elements 0 and 1)", async () => {
    using v = np.array([10, 20, 30, 40]);
    using m = v.greater(25);
    using r = v.at(m).set(0);
    expect(await read(r)).toEqual([10, 20, 0, 0]);
    using a = v.at([true, false, true, false]).add(1);
    expect(await read(a)).toEqual([11, 20, 31, 40]);
    using mu = v.at(m).mul(4);
    expect(await read(mu)).toEqual([10, 20, 120, 160]);
    // Values shaped like x would be written in selection order by JAX, not where-wise: refused.
    expect(() => v.at(m).mul(np.array([2, 3, 4, 5]))).toThrow(/must broadcast to one selected element, shape \[\]/);
    using mn = v.at(m).min(35);
    expect(await read(mn)).toEqual([10, 20, 30, 35]);
    using mx = v.at(m).max(35);
    expect(await read(mx)).toEqual([10, 20, 35, 40]);
  });

  test("a mask over the leading dims selects rows; values broadcast as in a where", async () => {
    using x = np.array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    using r = x.at([false, true, true]).set(np.array([7, 8]));
    expect(await r.toArray()).toEqual([
      [1, 2],
      [7, 8],
      [7, 8],
    ]);
    if (syncReads) {
      using g = x.at([true, false, true]).get();
      expect(await g.toArray()).toEqual([
        [1, 2],
        [5, 6],
      ]);
    }
    using gs = x.at([true, false, true]).get({ size: 3, fillValue: -1 });
    expect(await gs.toArray()).toEqual([
      [1, 2],
      [5, 6],
      [-1, -1],
    ]);
    expect(() => x.at([true, false]).set(0)).toThrow(/at\(mask\).set: a boolean mask must have the shape of x/);
    expect(() => x.at([true, false, true]).set(np.array([1, 2, 3]))).toThrow(ShapeError);
  });

  test("masked updates work under grad: the gradient flows only where the mask is false", async () => {
    using x = np.array([1, 2, 3, 4]);
    using m = np.array([false, true, false, true]);
    using g = grad((y: JArray) => y.at(m).set(0).mul(y).sum())(x);
    // f = Σ_{unmasked} y², so df/dy = 2y there and 0 where the mask replaced y.
    expect(await read(g)).toEqual([2, 0, 6, 0]);
    using ga = grad((y: JArray) => y.at(m).mul(3).sum())(x);
    expect(await read(ga)).toEqual([1, 3, 1, 3]);
  });

  test("selections read their count eagerly (under grad too, as JAX), or take size and fillValue", async () => {
    using x = np.array([3, -1, 4, -1, 5]);
    const sq = (v: JArray) => v.mul(v).sum();
    using g = grad((y: JArray) => sq(y.at(y.greater(0)).get({ size: 4 })))(x);
    expect(await read(g)).toEqual([6, 0, 8, 0, 10]);
    const nz = np.nonzero(x.greater(0), { size: 4, fillValue: -9 });
    expect(await read(nz[0] as JArray)).toEqual([0, 2, 4, -9]);
    for (const a of nz) a.dispose();
    using cut = np.extract(x.greater(0), x, { size: 2 });
    expect(await read(cut)).toEqual([3, 4]);
    if (syncReads) {
      // A JVP tracer's primal is concrete, so the count is read, as jax.grad(lambda y: y[y > 0].sum()).
      using ge = grad((y: JArray) => sq(y.at(y.greater(0)).get()))(x);
      expect(await read(ge)).toEqual([6, 0, 8, 0, 10]);
      const [i] = np.nonzero(x.greater(0));
      expect(await read(i as JArray)).toEqual([0, 2, 4]);
      i?.dispose();
    } else {
      // Backends that read asynchronously cannot know the count at call time: a named error.
      expect(() => np.nonzero(x)).toThrow(
        /nonzero: the number of selected elements depends on the data.*pass \{ size \}/,
      );
      expect(() => x.at(x.greater(0)).get()).toThrow(/at\(mask\).get: the number of selected elements/);
    }
    expect(() => np.nonzero(x, { size: -1 })).toThrow(/nonzero: size must be a non-negative integer/);
    expect(() => np.nonzero(x, { sise: 2 } as never)).toThrow(/unknown option "sise".*"size"/);
  });

  test("np.take refuses a mask, naming extract", () => {
    using x = np.array([1, 2, 3]);
    expect(() => np.take(x, [true, false, true])).toThrow(/take: indices must be integers, got a boolean mask/);
  });
});

describe("integer indices and modes", () => {
  test("x.at(i).get() clips as x[i]; np.take fills with NaN as jnp.take", async () => {
    using x = np.array([1, 2, 3]);
    using g = x.at([-1, 5, 0]).get();
    expect(await read(g)).toEqual([3, 3, 1]);
    using t = np.take(x, [-1, 5, -4]);
    expect(await read(t)).toEqual([3, Number.NaN, Number.NaN]);
    using tc = np.take(x, [-1, 5, -4], { mode: "clip" });
    expect(await read(tc)).toEqual([1, 3, 1]);
    using tw = np.take(x, [-1, 5, -4], { mode: "wrap" });
    expect(await read(tw)).toEqual([3, 3, 3]);
    using tf = np.take(x, [7], { fillValue: 0 });
    expect(await read(tf)).toEqual([0]);
    using xi = np.array(Int32Array.of(1, 2, 3));
    using ti = np.take(xi, [9]);
    expect(await read(ti)).toEqual([-2147483648]);
    // The same for JS and Array indices.
    using idx = np.array(Int32Array.of(-1, 5, -4));
    using ta = np.take(x, idx);
    expect(await read(ta)).toEqual(await read(t));
    using gf = x.at(idx).get({ mode: "fill", fillValue: -1 });
    expect(await read(gf)).toEqual([3, -1, -1]);
  });

  test("updates drop out-of-range indices (or clip them); duplicates add", async () => {
    using x = np.zeros([4]);
    using a = x.at([1, 1, -1, 9, -9]).add(1);
    expect(await read(a)).toEqual([0, 2, 0, 1]);
    using c = x.at([9, -9]).add(1, { mode: "clip" });
    expect(await read(c)).toEqual([1, 0, 0, 1]);
    expect(() => x.at([1]).add(1, { mode: "fill" as never })).toThrow(/mode must be "drop", "clip"/);
    expect(() => x.at([1]).add(1, { mod: "clip" } as never)).toThrow(/unknown option "mod".*did you mean "mode"/);
  });

  test("float indices are DTypeErrors naming the op: JS, Array, and dynamicSlice starts", () => {
    using x = np.arange(6, undefined, 1, { dtype: "float32" });
    expect(() => x.at(1.5).get()).toThrow(DTypeError);
    expect(() => x.at(1.5).get()).toThrow(/at\(…\).get: indices must be integers, got 1.5/);
    expect(() => x.at([0, 2.5]).set(1)).toThrow(DTypeError);
    using f = np.array([0, 1]);
    expect(() => x.at(f).get()).toThrow(/indices must be integers, got float32\[2\]; cast with .astype\("int32"\)/);
    expect(() => np.take(x, f)).toThrow(DTypeError);
    expect(() => lax.dynamicSlice(x, [1.5], [2])).toThrow(DTypeError);
    expect(() => lax.dynamicSlice(x, [1.5], [2])).toThrow(/dynamicSlice: start index 0 must be an integer scalar/);
    using fs = np.array(1.0);
    expect(() => lax.dynamicSlice(x, [fs], [2])).toThrow(/start index 0 must be an integer scalar.*float32\[\]/);
    expect(() => lax.dynamicUpdateSlice(x, np.ones([2]), [0.5])).toThrow(/dynamicUpdateSlice: start index 0/);
  });
});

// --- the property test -----------------------------------------------------------------------

interface Case {
  rows: number;
  cols: number;
  x: number[];
  mask: boolean[]; // over the leading dim (rows)
  full: boolean[]; // over every element
  idx: number[]; // in [−rows − 2, rows + 2)
  size: number;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({ rows: fc.integer({ min: 1, max: 7 }), cols: fc.integer({ min: 1, max: 3 }) })
  .chain(({ rows, cols }) =>
    fc.record({
      rows: fc.constant(rows),
      cols: fc.constant(cols),
      x: fc.array(fc.integer({ min: -50, max: 50 }), { minLength: rows * cols, maxLength: rows * cols }),
      mask: fc.array(fc.boolean(), { minLength: rows, maxLength: rows }),
      full: fc.array(fc.boolean(), { minLength: rows * cols, maxLength: rows * cols }),
      idx: fc.array(fc.integer({ min: -rows - 2, max: rows + 1 }), { minLength: 1, maxLength: 8 }),
      size: fc.integer({ min: 0, max: rows * cols + 2 }),
    }),
  );

/** The row a mode reads for index i over n rows, or −1 for a fill. */
function naiveRow(i: number, n: number, mode: "fill" | "clip" | "wrap" | "promise_in_bounds"): number {
  if (mode === "clip") return Math.min(Math.max(i, 0), n - 1);
  if (mode === "wrap") return ((i % n) + n) % n;
  if (mode === "fill") return i >= -n && i < n ? (i < 0 ? i + n : i) : -1;
  return Math.min(Math.max(i < 0 ? i + n : i, 0), n - 1);
}

function rowsOf(c: Case): number[][] {
  return globalThis.Array.from({ length: c.rows }, (_, r) => c.x.slice(r * c.cols, (r + 1) * c.cols));
}

test("property: masks and index arrays against a naive reference", async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const R = rowsOf(c);
      using x = np.array(Float32Array.from(c.x), { shape: [c.rows, c.cols] });
      using m = np.array(c.mask);
      using fm = np.array(c.full).reshape([c.rows, c.cols]);
      using idx = np.array(Int32Array.from(c.idx));

      // at(mask).set / add over the leading dim, and over every element.
      using s = x.at(m).set(-7);
      expect(await s.toArray()).toEqual(R.map((row, r) => (c.mask[r] ? row.map(() => -7) : row)));
      using a = x.at(fm).add(100);
      expect(await read(a)).toEqual(c.x.map((v, k) => (c.full[k] ? v + 100 : v)));

      // at(mask).get with size, padded with a fill.
      const pickedRows = R.filter((_, r) => c.mask[r]);
      const sized = (vals: number[][], n: number, fill: number) =>
        globalThis.Array.from({ length: n }, (_, k) => vals[k] ?? new globalThis.Array(c.cols).fill(fill));
      using g = x.at(m).get({ size: c.size, fillValue: -3 });
      expect(await g.toArray()).toEqual(sized(pickedRows, c.size, -3));
      const pickedFlat = c.x.filter((_, k) => c.full[k]);
      using ge = np.extract(fm, x, { size: c.size });
      expect(await read(ge)).toEqual(globalThis.Array.from({ length: c.size }, (_, k) => pickedFlat[k] ?? 0));

      // nonzero / argwhere / flatnonzero of the full mask.
      const where = c.full.flatMap((b, k) => (b ? [k] : []));
      const nz = np.nonzero(fm, { size: c.size, fillValue: -1 });
      const pad = (v: number[]) => globalThis.Array.from({ length: c.size }, (_, k) => v[k] ?? -1);
      expect(await read(nz[0] as JArray)).toEqual(pad(where.map((k) => Math.floor(k / c.cols))));
      expect(await read(nz[1] as JArray)).toEqual(pad(where.map((k) => k % c.cols)));
      for (const z of nz) z.dispose();
      using aw = np.argwhere(fm, { size: c.size });
      expect(await aw.toArray()).toEqual(
        globalThis.Array.from({ length: c.size }, (_, k) => {
          const p = where[k];
          return p === undefined ? [0, 0] : [Math.floor(p / c.cols), p % c.cols];
        }),
      );
      using fz = np.flatnonzero(fm, { size: c.size, fillValue: -1 });
      expect(await read(fz)).toEqual(pad(where));
      if (syncReads) {
        using ge2 = x.at(fm).get();
        expect(await read(ge2)).toEqual(pickedFlat);
        using fz2 = np.flatnonzero(fm);
        expect(await read(fz2)).toEqual(where);
      }

      // Integer reads in every mode, for Array and JS indices.
      for (const mode of ["fill", "clip", "wrap", "promise_in_bounds"] as const) {
        const want = c.idx.map((i) => {
          const r = naiveRow(i, c.rows, mode);
          return r < 0 ? new globalThis.Array(c.cols).fill(Number.NaN) : (R[r] as number[]);
        });
        using t = np.take(x, idx, { axis: 0, mode });
        expect(await t.toArray()).toEqual(want);
        using tj = x.at(c.idx).get({ mode });
        expect(await tj.toArray()).toEqual(want);
      }
      using d = x.at(idx).get();
      expect(await d.toArray()).toEqual(c.idx.map((i) => R[naiveRow(i, c.rows, "promise_in_bounds")]));

      // Scatter-add: negatives count from the end, the rest out of range are dropped.
      const acc = R.map((row) => [...row]);
      for (const i of c.idx) {
        const r = i < 0 ? i + c.rows : i;
        if (r >= 0 && r < c.rows) acc[r] = (acc[r] as number[]).map((v) => v + 1);
      }
      using sa = x.at(idx).add(1);
      expect(await sa.toArray()).toEqual(acc);
    }),
    { numRuns: RUNS },
  );
}, 300_000);
