/**
 * The routines at sizes the old O(n²) kernels could never reach (≥ 1e5 elements, on every
 * backend of the suite), against plain-JS references: a stable comparison sort, prefix loops in
 * float32/int32 steps, a binary-search-free counting of ranks, and scatter loops in update order.
 */
import { grad, lax, np } from "@webjax/core";
import { expectClose, ftz, rng } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { bitsEqual, cumStep, refArgsort } from "./reference.js";

const TIMEOUT = 120_000;
const N = 100_003; // past 2^16 and not a power of two

/** float32 values with ties, NaN, ±Inf and −0 sprinkled in. */
function floats(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => {
    const u = r();
    if (u < 0.01) return Number.NaN;
    if (u < 0.015) return -0;
    if (u < 0.02) return u < 0.0175 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    if (u < 0.2) return Math.floor(r() * 50) - 25; // many ties
    return ftz(Math.fround((r() - 0.5) * 1e6));
  });
}

const ints = (n: number, seed: number, lo: number, hi: number) => {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo)));
};

describe("sorting at 1e5", () => {
  test("argsort and sort of 100,003 float32 (NaN, ±Inf, −0, ties) equal a stable reference sort", {
    timeout: TIMEOUT,
  }, async () => {
    const data = floats(N, 1);
    using x = np.array(data);
    using i = np.argsort(x);
    using s = np.sort(x);
    const want = refArgsort(Array.from(data));
    expect(Array.from(await i.data())).toEqual(want);
    expect(
      bitsEqual(
        Array.from(await s.data()),
        want.map((k) => data[k] as number),
      ),
    ).toBe(true);
  });

  test("descending argsort of 100,003 int32 keeps ties in index order", { timeout: TIMEOUT }, async () => {
    const data = ints(N, 2, -1000, 1000);
    using x = np.array(data);
    using i = np.argsort(x, { descending: true });
    expect(Array.from(await i.data())).toEqual(refArgsort(Array.from(data), true));
  });

  test("sorting 3 rows of 40,000 along either axis", { timeout: TIMEOUT }, async () => {
    const data = floats(3 * 40_000, 3);
    using x = np.array(data, { shape: [3, 40_000] });
    using rows = np.argsort(x, { axis: 1 });
    const got = Array.from(await rows.data());
    for (let r = 0; r < 3; r++) {
      const line = Array.from(data.subarray(r * 40_000, (r + 1) * 40_000));
      expect(got.slice(r * 40_000, (r + 1) * 40_000)).toEqual(refArgsort(line));
    }
    using xt = np.array(data, { shape: [40_000, 3] });
    using cols = np.argsort(xt, { axis: 0 });
    const gotT = Array.from(await cols.data());
    for (let c = 0; c < 3; c++) {
      const line = Array.from({ length: 40_000 }, (_, k) => data[k * 3 + c] as number);
      expect(gotT.filter((_, k) => k % 3 === c)).toEqual(refArgsort(line));
    }
  });

  test("topK of 100,003 for small and large k equals the first k of a descending stable sort", {
    timeout: TIMEOUT,
  }, async () => {
    const data = floats(N, 4);
    using x = np.array(data);
    const want = refArgsort(Array.from(data), true);
    for (const k of [1, 10, 5000, N]) {
      const [v, i] = lax.topK(x, k);
      expect(Array.from(await i.data())).toEqual(want.slice(0, k));
      expect(
        bitsEqual(
          Array.from(await v.data()),
          want.slice(0, k).map((j) => data[j] as number),
        ),
      ).toBe(true);
      v.dispose();
      i.dispose();
    }
  });

  test("searchsorted of 100,003 values in 100,003 sorted ones counts ranks exactly", { timeout: TIMEOUT }, async () => {
    const sorted = Int32Array.from(ints(N, 5, -5000, 5000)).sort();
    const values = ints(N, 6, -6000, 6000);
    using a = np.array(sorted);
    using v = np.array(values);
    using left = np.searchsorted(a, v);
    using right = np.searchsorted(a, v, { side: "right" });
    // Reference: counts of smaller elements from a histogram's prefix sums, not a search.
    const lo = -6000;
    const less = new Int32Array(12_002); // less[t − lo] = #{ s < t }
    for (const s of sorted) less[s - lo + 1] = (less[s - lo + 1] as number) + 1;
    for (let t = 1; t < less.length; t++) less[t] = (less[t] as number) + (less[t - 1] as number);
    expect(Array.from(await left.data())).toEqual(Array.from(values, (t) => less[t - lo] as number));
    expect(Array.from(await right.data())).toEqual(Array.from(values, (t) => less[t - lo + 1] as number));
  });
});

describe("cumulative ops at 1e5", () => {
  test("cumsum of 100,003 int32 wraps exactly like a loop", { timeout: TIMEOUT }, async () => {
    const data = ints(N, 7, -(2 ** 30), 2 ** 30);
    using x = np.array(data);
    using c = np.cumsum(x);
    let acc = 0;
    const want = Array.from(data, (v) => (acc = (acc + v) | 0));
    expect(Array.from(await c.data())).toEqual(want);
  });

  test("cumsum of 100,003 float32 stays within float32 rounding of the exact prefix sums", {
    timeout: TIMEOUT,
  }, async () => {
    const r = rng(8);
    const data = Float32Array.from({ length: N }, () => r());
    using x = np.array(data);
    using c = np.cumsum(x);
    let acc = 0;
    const exact = Array.from(data, (v) => (acc += v));
    // A float32 sum of k values in [0, 1) is within k·2⁻²⁴·S of the exact sum S (any order).
    await expectClose(c, exact, { rtol: 2e-5, atol: 0 });
  });

  test("reverse cummax with NaN and cumprod along axis 0 of [50,001, 2]", { timeout: TIMEOUT }, async () => {
    const n = 50_001;
    const r = rng(9);
    const data = Float32Array.from({ length: 2 * n }, (_, k) =>
      k === 2 * 40_000 ? Number.NaN : Math.fround(0.999 + r() * 0.002),
    );
    using x = np.array(data, { shape: [n, 2] });
    using m = np.cummax(x, { axis: 0, reverse: true });
    using p = np.cumprod(x, { axis: 0 });
    const wantMax: number[] = new Array(2 * n).fill(0);
    const wantProd: number[] = new Array(2 * n).fill(0);
    for (let c = 0; c < 2; c++) {
      let acc = Number.NaN;
      for (let i = n - 1; i >= 0; i--) {
        const v = data[i * 2 + c] as number;
        acc = i === n - 1 ? v : cumStep("max", "float32", acc, v);
        wantMax[i * 2 + c] = acc;
      }
      let prod = 1;
      for (let i = 0; i < n; i++) {
        prod *= data[i * 2 + c] as number;
        wantProd[i * 2 + c] = prod;
      }
    }
    expect(bitsEqual(Array.from(await m.data()), wantMax)).toBe(true);
    await expectClose(p, wantProd, { rtol: 2e-4, atol: 0 });
  });
});

describe("scatter at 1e5", () => {
  /** 100,003 updates aimed at 1,000 rows of 3 (heavy duplicates, some dropped). */
  function updates() {
    const r = rng(10);
    const idx = Int32Array.from({ length: N }, () => Math.floor(r() * 1010) - 5); // −5…1004: wraps and drops
    const upd = Float32Array.from({ length: 3 * N }, () => Math.fround(r() * 2 - 1));
    return { idx, upd };
  }

  test("x.at(idx).add of 100,003 rows folds duplicates in update order (float32 steps)", {
    timeout: TIMEOUT,
  }, async () => {
    const { idx, upd } = updates();
    const base = Float32Array.from({ length: 3000 }, (_, k) => k / 7);
    using x = np.array(base, { shape: [1000, 3] });
    using i = np.array(idx);
    using u = np.array(upd, { shape: [N, 3] });
    using y = x.at(i).add(u);
    const want = Array.from(base);
    idx.forEach((t, k) => {
      const row = t < 0 ? t + 1000 : t;
      if (row < 0 || row >= 1000) return;
      for (let c = 0; c < 3; c++)
        want[row * 3 + c] = Math.fround((want[row * 3 + c] as number) + (upd[k * 3 + c] as number));
    });
    await expectClose(y, want, { rtol: 1e-6, atol: 1e-6 });
    // Deterministic: the same bits on a second run.
    using y2 = x.at(i).add(u);
    expect(bitsEqual(Array.from(await y.data()), Array.from(await y2.data()))).toBe(true);
  });

  test("x.at(idx).set of 100,003 rows keeps the last update of each row", { timeout: TIMEOUT }, async () => {
    const { idx, upd } = updates();
    using x = np.zeros([1000, 3]);
    using i = np.array(idx);
    using u = np.array(upd, { shape: [N, 3] });
    using y = x.at(i).set(u);
    const want = new Array<number>(3000).fill(0);
    idx.forEach((t, k) => {
      const row = t < 0 ? t + 1000 : t;
      if (row < 0 || row >= 1000) return;
      for (let c = 0; c < 3; c++) want[row * 3 + c] = upd[k * 3 + c] as number;
    });
    expect(bitsEqual(Array.from(await y.data()), want)).toBe(true);
  });

  test("grad of take on a 5000×64 table with 2048 indices counts every index", { timeout: TIMEOUT }, async () => {
    const r = rng(11);
    const ids = Int32Array.from({ length: 2048 }, () => Math.floor(r() * 300)); // many repeats
    using table = np.array(
      Float32Array.from({ length: 5000 * 64 }, () => r()),
      { shape: [5000, 64] },
    );
    using i = np.array(ids);
    using w = np.array(Float32Array.from({ length: 64 }, (_, c) => c + 1));
    using g = grad((t: ReturnType<typeof np.array>) => np.sum(np.take(t, i, { axis: 0 }).mul(w)))(table);
    const counts = new Array<number>(5000).fill(0);
    for (const id of ids) counts[id] = (counts[id] as number) + 1;
    const want = counts.flatMap((n) => Array.from({ length: 64 }, (_, c) => n * (c + 1)));
    await expectClose(g, want, { rtol: 0, atol: 0 });
  });
});
