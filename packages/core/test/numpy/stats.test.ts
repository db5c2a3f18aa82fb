/**
 * var/std, logsumexp, all/any, nansum/nanmean: hand-computed values, the ±Inf/NaN/empty rules,
 * and properties against float64 references that group the elements of each reduced slice.
 */
import { checkLeaks, np, ShapeError } from "@webjax/core";
import { expectClose, forEachIndex, stridesOf } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS ?? 60);
const TIMEOUT = 60_000;

/** The elements of each slice reduced over `axes` (row-major over the kept axes). */
function groups(data: readonly number[], shape: readonly number[], axes: readonly number[]): number[][] {
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const outShape = kept.map((d) => shape[d] as number);
  const os = stridesOf(outShape);
  const out: number[][] = globalThis.Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => []);
  forEachIndex(shape, (idx, flat) => {
    const o = kept.reduce((acc, d, k) => acc + (idx[d] as number) * (os[k] as number), 0);
    (out[o] as number[]).push(data[flat] as number);
  });
  return out;
}

const jsMean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function jsVar(xs: readonly number[], ddof: number): number {
  const m = jsMean(xs);
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - ddof);
}
function jsLogSumExp(xs: readonly number[]): number {
  const m = Math.max(...xs);
  if (!Number.isFinite(m)) return m; // −Inf (all −Inf), +Inf, or NaN (Math.max propagates it)
  return m + Math.log(xs.reduce((a, b) => a + Math.exp(b - m), 0));
}

/** A random shape (rank 1–3, dims 1–4), row-major values from `value`, and a subset of its axes. */
function shapedValues(value: fc.Arbitrary<number>) {
  return fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }).chain((shape) => {
    const n = shape.reduce((x, y) => x * y, 1);
    return fc.record({
      shape: fc.constant(shape),
      values: fc.array(value, { minLength: n, maxLength: n }),
      axes: fc.subarray(shape.map((_, i) => i)),
    });
  });
}

describe("var and std", () => {
  test("match hand-computed values over each axis, with ddof and keepdims", async () => {
    using x = np.array([
      [1, 2, 3, 4],
      [2, 4, 6, 8],
    ]);
    using all = np.var(x);
    await expectClose(all, [jsVar([1, 2, 3, 4, 2, 4, 6, 8], 0)], { rtol: 1e-6 });
    using rows = np.var(x, 1);
    await expectClose(rows, [1.25, 5]);
    using rows1 = np.var(x, 1, { ddof: 1 });
    await expectClose(rows1, [5 / 3, 20 / 3], { rtol: 1e-6 });
    using cols = np.std(x, { axis: 0, keepdims: true });
    expect(cols.shape).toEqual([1, 4]);
    await expectClose(cols, [0.5, 1, 1.5, 2]);
    using s = np.std(x, -1, { ddof: 1 });
    await expectClose(s, [Math.sqrt(5 / 3), Math.sqrt(20 / 3)], { rtol: 1e-6 });
    expect(np.variance).toBe(np.var);
  });

  test("integers give float32; constant input has exactly zero variance", async () => {
    using x = np.array([3, 3, 3, 3], { dtype: "int32" });
    using v = np.var(x);
    expect(v.dtype).toBe("float32");
    expect(await v.item()).toBe(0);
    using big = np.full([5], 1e6 + 0.5);
    using vb = np.var(big);
    expect(await vb.item()).toBe(0);
  });

  test("N − ddof ≤ 0 and empty axes give Inf or NaN, as numpy", async () => {
    using x = np.array([1, 2]);
    using v2 = np.var(x, { ddof: 2 });
    expect(await v2.item()).toBe(Number.POSITIVE_INFINITY);
    using one = np.array([5]);
    using v1 = np.var(one, { ddof: 1 });
    expect(Number.isNaN(await v1.item())).toBe(true);
    using e = np.zeros([0, 3]);
    using ve = np.var(e, 0);
    await expectClose(ve, [Number.NaN, Number.NaN, Number.NaN]);
  });

  test("float16 is computed in float32 and stays float16", async () => {
    using x = np.array([1000, 1001, 1002, 1003], { dtype: "float16" });
    using v = np.var(x);
    expect(v.dtype).toBe("float16");
    expect(await v.item()).toBe(1.25);
  });

  test(
    "property: var and std over random axes match a float64 reference",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          shapedValues(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true })).chain((t) =>
            fc.record({
              shape: fc.constant(t.shape),
              values: fc.constant(t.values),
              axes: fc.constant(t.axes),
              ddof: fc.constantFrom(0, 1),
            }),
          ),
          async ({ shape, values, axes, ddof }) => {
            const f32 = values.map(Math.fround);
            using x = np.array(Float32Array.from(f32), { shape });
            using v = np.var(x, axes, { ddof });
            using s = np.std(x, axes, { ddof });
            const ref = groups(f32, shape, axes).map((g) => jsVar(g, ddof));
            // Cancellation: compare against the scale of the data as well.
            const scale = Math.max(1, ...f32.map(Math.abs));
            await expectClose(v, ref, { rtol: 1e-5, atol: 1e-5 * scale * scale });
            await expectClose(s, ref.map(Math.sqrt), { rtol: 1e-4, atol: 1e-3 * scale });
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("logsumexp", () => {
  test("is stable for large and small values", async () => {
    using x = np.array([
      [1000, 1000],
      [-1000, -1000],
      [0, Math.log(3)],
    ]);
    using r = np.logsumexp(x, 1);
    await expectClose(r, [1000 + Math.LN2, -1000 + Math.LN2, Math.log(4)], { rtol: 1e-6 });
    using k = np.logsumexp(x, { axis: 1, keepdims: true });
    expect(k.shape).toEqual([3, 1]);
    using v = np.array([1, 2, 3]);
    using all = np.logsumexp(v);
    await expectClose(all, [jsLogSumExp([1, 2, 3])], { rtol: 1e-6 });
  });

  test("-Inf slices give -Inf, +Inf gives +Inf, NaN propagates, empty gives -Inf", async () => {
    const inf = Number.POSITIVE_INFINITY;
    using x = np.array([
      [-inf, -inf, -inf],
      [inf, 1, -inf],
      [Number.NaN, 1, 2],
      [inf, Number.NaN, 0],
      [-inf, 0, -inf],
    ]);
    using r = np.logsumexp(x, 1);
    await expectClose(r, [-inf, inf, Number.NaN, Number.NaN, 0]);
    using e = np.zeros([2, 0]);
    using re = np.logsumexp(e, 1);
    await expectClose(re, [-inf, -inf]);
  });

  test("integers give float32", async () => {
    using x = np.array([0, 0], { dtype: "int32" });
    using r = np.logsumexp(x);
    expect(r.dtype).toBe("float32");
    await expectClose(r, [Math.LN2]);
  });

  test(
    "property: matches a float64 reference over random axes",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
            fc.record({
              shape: fc.constant(shape),
              values: fc.array(
                fc.oneof(
                  { arbitrary: fc.float({ min: -80, max: 80, noNaN: true }), weight: 8 },
                  { arbitrary: fc.constantFrom(Number.NEGATIVE_INFINITY, 500, -500), weight: 1 },
                ),
                { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) },
              ),
              axes: fc.subarray(shape.map((_, i) => i)),
            }),
          ),
          async ({ shape, values, axes }) => {
            const f32 = values.map(Math.fround);
            using x = np.array(Float32Array.from(f32), { shape });
            using r = np.logsumexp(x, axes);
            await expectClose(
              r,
              groups(f32, shape, axes).map((g) => jsLogSumExp(g)),
              { rtol: 1e-5, atol: 1e-5 },
            );
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("all and any", () => {
  test("nonzero is true, NaN is true, results are bool", async () => {
    using x = np.array([
      [1, 0, 2],
      [3, 4, Number.NaN],
    ]);
    using a0 = np.all(x, 0);
    using a1 = np.all(x, 1);
    using y0 = np.any(x, { axis: 0, keepdims: true });
    expect(a0.dtype).toBe("bool");
    expect(await a0.toArray()).toEqual([1, 0, 1]);
    expect(await a1.toArray()).toEqual([0, 1]);
    expect(y0.shape).toEqual([1, 3]);
    expect(await y0.toArray()).toEqual([[1, 1, 1]]);
    using z = np.zeros([2, 2], { dtype: "int32" });
    using az = np.any(z);
    expect(await az.item()).toBe(0);
    using b = np.array([true, true]);
    using ab = np.all(b);
    expect(await ab.item()).toBe(1);
  });

  test("empty axes: all is true, any is false", async () => {
    using e = np.zeros([3, 0]);
    using a = np.all(e, 1);
    using y = np.any(e, 1);
    expect(await a.toArray()).toEqual([1, 1, 1]);
    expect(await y.toArray()).toEqual([0, 0, 0]);
    using a0 = np.all(e, 0);
    expect(a0.shape).toEqual([0]);
  });
});

describe("nansum and nanmean", () => {
  test("skip NaN; all-NaN sums to 0 and averages to NaN", async () => {
    const nan = Number.NaN;
    using x = np.array([
      [1, nan, 3],
      [nan, nan, nan],
      [2, 4, 6],
    ]);
    using s = np.nansum(x, 1);
    await expectClose(s, [4, 0, 12]);
    using m = np.nanmean(x, 1);
    await expectClose(m, [2, nan, 4]);
    using s0 = np.nansum(x, { axis: 0, keepdims: true });
    expect(s0.shape).toEqual([1, 3]);
    await expectClose(s0, [[3, 4, 9]]);
    using m0 = np.nanmean(x);
    await expectClose(m0, [16 / 5], { rtol: 1e-6 });
    // Infinities are not NaN.
    using withInf = np.array([Number.POSITIVE_INFINITY, nan, 1]);
    using inf = np.nansum(withInf);
    expect(await inf.item()).toBe(Number.POSITIVE_INFINITY);
  });

  test("integers behave as sum and mean", async () => {
    using x = np.array([1, 2, 4], { dtype: "int32" });
    using s = np.nansum(x);
    using m = np.nanmean(x);
    expect(s.dtype).toBe("int32");
    expect(await s.item()).toBe(7);
    expect(m.dtype).toBe("float32");
    await expectClose(m, [7 / 3]);
    using bools = np.array([true, false, true]);
    using b = np.nansum(bools);
    expect(b.dtype).toBe("int32");
    expect(await b.item()).toBe(2);
  });

  test(
    "property: match float64 references with NaNs sprinkled in",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          shapedValues(
            fc.oneof(
              { arbitrary: fc.float({ min: -1000, max: 1000, noNaN: true }), weight: 4 },
              { arbitrary: fc.constant(Number.NaN), weight: 1 },
            ),
          ),
          async ({ shape, values, axes }) => {
            const f32 = values.map(Math.fround);
            using x = np.array(Float32Array.from(f32), { shape });
            using s = np.nansum(x, axes);
            using m = np.nanmean(x, axes);
            const gs = groups(f32, shape, axes).map((g) => g.filter((v) => !Number.isNaN(v)));
            const sums = gs.map((g) => g.reduce((a, b) => a + b, 0));
            const scale = Math.max(1, ...f32.filter((v) => !Number.isNaN(v)).map(Math.abs));
            await expectClose(s, sums, { rtol: 1e-5, atol: 1e-6 * scale * f32.length });
            await expectClose(
              m,
              gs.map((g) => (g.length === 0 ? Number.NaN : jsMean(g))),
              { rtol: 1e-5, atol: 1e-6 * scale * f32.length },
            );
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

test("stats: a bad axis is a ShapeError naming the op", () => {
  using x = np.ones([2, 3]);
  expect(() => np.var(x, 2)).toThrow(ShapeError);
  expect(() => np.logsumexp(x, 5)).toThrow("logsumexp: axis 5 is out of bounds for an array of rank 2");
  expect(() => np.all(x, [0, 0])).toThrow("all: repeated axis");
});

test("stats release every temporary they make", async () => {
  using x = np.array([
    [1, Number.NaN, 3],
    [4, 5, 6],
  ]);
  const report = await checkLeaks(async () => {
    const results = [
      np.var(x, 1),
      np.std(x, { axis: 0, ddof: 1, keepdims: true }),
      np.logsumexp(x, 1),
      np.logsumexp(x, 0, { keepdims: true }),
      np.all(x, 0),
      np.any(x),
      np.nansum(x, 1),
      np.nanmean(x),
    ];
    for (const r of results) {
      await r.data();
      r.dispose();
    }
  });
  expect(report).toEqual({ buffers: 0, bytes: 0, details: [] });
});
