/**
 * argsort/sort/takeAlongAxis/searchsorted (np) and topK (lax): hand-computed examples (ties,
 * NaN, ±Inf, −0, integer extremes, uint32 above 2^31), errors, and fast-check properties against
 * Array.prototype.sort with explicit stable tie-breaking and counting loops.
 */
import { checkLeaks, DTypeError, lax, np, ShapeError } from "@webjax/core";
import { hasFloat64 } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { withArrays } from "../properties/helpers.js";
import {
  bitsEqual,
  type Dt,
  dataArb,
  I32_MAX,
  I32_MIN,
  linesAlong,
  make,
  npCompare,
  refArgsort,
  refArgsortAxis,
  refTakeAlong,
  shapeAxisArb,
  sortValueArb,
  stored,
} from "./reference.js";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS ?? 50);
const TIMEOUT = 120_000;
const NaN_ = Number.NaN;
const Inf = Number.POSITIVE_INFINITY;

const read = async (x: { data(): Promise<ArrayLike<number>> }) => Array.from(await x.data());

describe("argsort and sort: examples", () => {
  test("argsort is stable: equal elements keep their index order", async () => {
    using x = np.array([3, 1, 2, 1, 3, 1]);
    using i = np.argsort(x);
    expect(i.dtype).toBe("int32");
    expect(await i.toArray()).toEqual([1, 3, 5, 2, 0, 4]);
    using d = np.argsort(x, { descending: true });
    expect(await d.toArray()).toEqual([0, 4, 2, 1, 3, 5]);
  });

  test("NaN sorts last (first when descending), −0 ties with 0, ±Inf at the ends", async () => {
    using x = np.array([NaN_, 0, -Inf, -0, 1, NaN_, Inf, -1]);
    using i = np.argsort(x);
    expect(await i.toArray()).toEqual([2, 7, 1, 3, 4, 6, 0, 5]);
    using s = np.sort(x);
    const v = await read(s);
    expect(bitsEqual(v, [-Inf, -1, 0, -0, 1, Inf, NaN_, NaN_])).toBe(true);
    using d = np.argsort(x, { descending: true });
    expect(await d.toArray()).toEqual([0, 5, 6, 4, 1, 3, 7, 2]);
    using sd = np.sort(x, { descending: true });
    expect(bitsEqual(await read(sd), [NaN_, NaN_, Inf, 1, 0, -0, -1, -Inf])).toBe(true);
  });

  test("integer extremes, uint32 above 2^31 and bool sort by value", async () => {
    using i = np.array(Int32Array.of(5, I32_MIN, I32_MAX, -1, 0, I32_MIN));
    using si = np.sort(i);
    expect(await si.toArray()).toEqual([I32_MIN, I32_MIN, -1, 0, 5, I32_MAX]);
    using u = np.array(Uint32Array.of(0x80000000, 1, 0xffffffff, 0, 0x7fffffff));
    using su = np.sort(u);
    expect(await su.toArray()).toEqual([0, 1, 0x7fffffff, 0x80000000, 0xffffffff]);
    using au = np.argsort(u, { descending: true });
    expect(await au.toArray()).toEqual([2, 0, 4, 1, 3]);
    using b = np.array([true, false, true, false]);
    using ab = np.argsort(b);
    expect(await ab.toArray()).toEqual([1, 3, 0, 2]);
    using sb = np.sort(b);
    expect(sb.dtype).toBe("bool");
    expect(await sb.toArray()).toEqual([0, 0, 1, 1]);
  });

  test("float16 and float64 sort with the same order", async () => {
    using h = np.array([2, NaN_, -0.5, 2, -Inf], { dtype: "float16" });
    using ah = np.argsort(h);
    expect(await ah.toArray()).toEqual([4, 2, 0, 3, 1]);
    if (hasFloat64) {
      using d = np.array(Float64Array.of(1 + 2 ** -40, NaN_, 1, -0, 0), { dtype: "float64" });
      using ad = np.argsort(d);
      expect(await ad.toArray()).toEqual([3, 4, 2, 0, 1]);
      using sd = np.sort(d, { descending: true });
      expect(bitsEqual(await read(sd), [NaN_, 1 + 2 ** -40, 1, -0, 0])).toBe(true);
    }
  });

  test("along any axis, of strided views, and flattened with axis null", async () => {
    using x = np.array([
      [3, 1, 2],
      [0, 5, 1],
    ]);
    using a0 = np.argsort(x, { axis: 0 });
    expect(await a0.toArray()).toEqual([
      [1, 0, 1],
      [0, 1, 0],
    ]);
    using s1 = np.sort(x);
    expect(await s1.toArray()).toEqual([
      [1, 2, 3],
      [0, 1, 5],
    ]);
    using t = x.T;
    using st = np.sort(t, { axis: 0, descending: true });
    expect(await st.toArray()).toEqual([
      [3, 5],
      [2, 1],
      [1, 0],
    ]);
    using af = np.argsort(x, { axis: null });
    expect(await af.toArray()).toEqual([3, 1, 5, 2, 0, 4]);
    using sf = np.sort(x, { axis: null, stable: false });
    expect(await sf.toArray()).toEqual([0, 1, 1, 2, 3, 5]);
  });

  test("empty axes sort to empty arrays; zero-dimensional arrays need axis null", async () => {
    using e = np.sort(np.zeros([3, 0]));
    expect(e.shape).toEqual([3, 0]);
    using e2 = np.argsort(np.zeros([0, 4]), { axis: 1 });
    expect(e2.shape).toEqual([0, 4]);
    using s = np.array(7);
    expect(() => np.sort(s)).toThrow(ShapeError);
    expect(() => np.sort(s)).toThrow("sort: cannot sort a zero-dimensional array along an axis; pass axis: null");
    using sn = np.sort(s, { axis: null });
    expect(await sn.toArray()).toEqual([7]);
    expect(() => np.argsort(np.ones([2, 2]), { axis: 2 })).toThrow(
      "argsort: axis 2 is out of bounds for an array of rank 2",
    );
  });

  test("sort releases the rank and permutation temporaries", async () => {
    using x = np.array([[2, 1, NaN_]]);
    const report = await checkLeaks(async () => {
      using s = np.sort(x, { descending: true });
      const v = await read(s);
      expect(bitsEqual(v, [NaN_, 2, 1])).toBe(true);
    });
    expect(report).toEqual({ buffers: 0, bytes: 0, details: [] });
  });
});

describe("takeAlongAxis", () => {
  test("gathers along an axis; other dims broadcast; negative indices count from the end", async () => {
    using x = np.array([
      [10, 11, 12],
      [20, 21, 22],
    ]);
    using i1 = np.takeAlongAxis(
      x,
      np.array(
        [
          [2, 0],
          [-1, 1],
        ],
        { dtype: "int32" },
      ),
      1,
    );
    expect(await i1.toArray()).toEqual([
      [12, 10],
      [22, 21],
    ]);
    using i0 = np.takeAlongAxis(x, np.array([[1, 0, 1]], { dtype: "int32" }), 0);
    expect(await i0.toArray()).toEqual([[20, 11, 22]]);
    using b = np.takeAlongAxis(x, [[0], [2]], -1); // indices [2,1] vs x [2,3]: fine
    expect(await b.toArray()).toEqual([[10], [22]]);
    using bc = np.takeAlongAxis(x, [[2, 1]], 1); // indices [1,2] broadcast over x's 2 rows
    expect(await bc.toArray()).toEqual([
      [12, 11],
      [22, 21],
    ]);
    using fl = np.takeAlongAxis(x, [5, 0, -2], null);
    expect(await fl.toArray()).toEqual([22, 10, 21]);
  });

  test("with argsort it sorts; out-of-range indices clamp", async () => {
    using x = np.array([
      [3, 1, 2],
      [9, 7, 8],
    ]);
    using s = np.takeAlongAxis(x, np.argsort(x, { axis: 1 }), 1);
    expect(await s.toArray()).toEqual([
      [1, 2, 3],
      [7, 8, 9],
    ]);
    using c = np.takeAlongAxis(x, np.array([[7], [-9]], { dtype: "int32" }), 1);
    expect(await c.toArray()).toEqual([[2], [9]]);
  });

  test("errors: rank mismatch, float indices, non-1-D indices with axis null", () => {
    using x = np.ones([2, 3]);
    expect(() => np.takeAlongAxis(x, [0, 1], 1)).toThrow(
      "takeAlongAxis: indices int32[2] and array float32[2,3] must have the same rank",
    );
    expect(() => np.takeAlongAxis(x, np.array([[0.5]]), 1)).toThrow(DTypeError);
    expect(() => np.takeAlongAxis(x, [[0]], null)).toThrow("with axis null the indices must be 1-D");
    expect(() => np.takeAlongAxis(x, [[0], [0], [0]], 1)).toThrow(ShapeError);
  });
});

describe("topK", () => {
  test("largest first; ties by lower index; NaN counts as the largest", async () => {
    using x = np.array([1, 3, 2, 3, NaN_, -Inf]);
    const [v, i] = lax.topK(x, 3);
    using v_ = v;
    using i_ = i;
    expect(bitsEqual(await read(v_), [NaN_, 3, 3])).toBe(true);
    expect(await i_.toArray()).toEqual([4, 1, 3]);
    expect(i_.dtype).toBe("int32");
  });

  test("over the last axis of a batch, k = 0 and k = n", async () => {
    using x = np.array(Int32Array.of(5, 1, 5, 2, I32_MIN, I32_MAX, 0, I32_MAX), { shape: [2, 4] });
    const [v, i] = lax.topK(x, 2);
    using v_ = v;
    using i_ = i;
    expect(await v_.toArray()).toEqual([
      [5, 5],
      [I32_MAX, I32_MAX],
    ]);
    expect(await i_.toArray()).toEqual([
      [0, 2],
      [1, 3],
    ]);
    const [v0, i0] = lax.topK(x, 0);
    expect(v0.shape).toEqual([2, 0]);
    expect(i0.shape).toEqual([2, 0]);
    v0.dispose();
    i0.dispose();
    const [va, ia] = lax.topK(x, 4);
    expect(await ia.toArray()).toEqual([
      [0, 2, 3, 1],
      [1, 3, 2, 0],
    ]);
    va.dispose();
    ia.dispose();
  });

  test("k out of range or a scalar input is a ShapeError naming k and the array", () => {
    using x = np.ones([2, 3]);
    expect(() => lax.topK(x, 4)).toThrow(
      "topK: k must be an integer in [0, 3] for the last axis of float32[2,3], got 4",
    );
    expect(() => lax.topK(x, 1.5)).toThrow(ShapeError);
    using s = np.array(1);
    expect(() => lax.topK(s, 1)).toThrow("topK: needs an array of rank ≥ 1");
  });
});

describe("searchsorted", () => {
  test("left counts elements < v, right counts ≤ v", async () => {
    using a = np.array([1, 2, 2, 3]);
    using v = np.array([
      [0, 2],
      [2.5, 5],
    ]);
    using l = np.searchsorted(a, v);
    using r = np.searchsorted(a, v, { side: "right" });
    expect(l.dtype).toBe("int32");
    expect(await l.toArray()).toEqual([
      [0, 1],
      [3, 4],
    ]);
    expect(await r.toArray()).toEqual([
      [0, 3],
      [3, 4],
    ]);
    using s = np.searchsorted(a, 2);
    expect(s.shape).toEqual([]);
    expect(await s.toArray()).toEqual(1);
  });

  test("NaN goes after every number, −0 equals 0, ±Inf at the ends", async () => {
    using a = np.array([-Inf, -0, 0, 1, Inf, NaN_, NaN_]);
    using v = np.array([NaN_, 0, -0, Inf, -Inf, -5]);
    using l = np.searchsorted(a, v);
    using r = np.searchsorted(a, v, { side: "right" });
    expect(await l.toArray()).toEqual([5, 1, 1, 4, 0, 1]);
    expect(await r.toArray()).toEqual([7, 3, 3, 5, 1, 1]);
  });

  test("operands promote; uint32 compares as unsigned; sorter sorts a first; empty a gives 0", async () => {
    using a = np.array(Int32Array.of(-3, 0, 4));
    using f = np.searchsorted(a, np.array([0.5, -3]));
    expect(await f.toArray()).toEqual([2, 0]);
    using u = np.array(Uint32Array.of(1, 0x80000000, 0xfffffff0));
    using fu = np.searchsorted(u, np.array(Uint32Array.of(0x80000001, 0, 0xffffffff)), { side: "right" });
    expect(await fu.toArray()).toEqual([2, 0, 3]);
    using unsorted = np.array([30, 10, 20]);
    using fs = np.searchsorted(unsorted, np.array([15, 30]), { sorter: np.argsort(unsorted) });
    expect(await fs.toArray()).toEqual([1, 2]);
    using e = np.searchsorted(np.zeros([0]), np.array([1, 2]));
    expect(await e.toArray()).toEqual([0, 0]);
  });

  test("errors: a must be 1-D, side must be left or right", () => {
    using a = np.ones([2, 2]);
    expect(() => np.searchsorted(a, 1)).toThrow("searchsorted: the sorted array must be 1-D, got float32[2,2]");
    using b = np.ones([2]);
    expect(() => np.searchsorted(b, 1, { side: "middle" as "left" })).toThrow(
      'searchsorted: side must be "left" or "right", got "middle"',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const DTYPES: Dt[] = ["float32", "int32", "uint32", "bool"];

function caseArb(dtype: Dt) {
  return shapeAxisArb().chain(({ shape, axis }) =>
    fc.record({
      shape: fc.constant(shape),
      axis: fc.constant(axis),
      descending: fc.boolean(),
      data: dataArb(
        sortValueArb(dtype),
        shape.reduce((a, b) => a * b, 1),
      ).map((d) => stored(d, dtype)),
    }),
  );
}

describe("sorting: properties against Array.prototype.sort with index tie-breaking", () => {
  for (const dtype of DTYPES) {
    test(
      `argsort and sort of ${dtype} along a random axis, both directions, are the stable sort`,
      async () => {
        await fc.assert(
          fc.asyncProperty(caseArb(dtype), ({ shape, axis, descending, data }) =>
            withArrays(async (t) => {
              const ax = axis < 0 ? axis + shape.length : axis;
              const x = t.t(make(data, shape, dtype));
              const i = t.t(np.argsort(x, { axis, descending }));
              const s = t.t(np.sort(x, { axis, descending }));
              const want = refArgsortAxis(data, shape, ax, descending);
              const what = `${dtype}[${shape}] axis ${axis} descending ${descending}: ${JSON.stringify(data)}`;
              expect(i.shape).toEqual(shape);
              expect(await read(i), `argsort ${what}`).toEqual(want);
              expect(s.dtype).toBe(dtype);
              const sorted = await read(s);
              const wantSorted = refTakeAlong(data, want, shape, ax);
              expect(bitsEqual(sorted, wantSorted), `sort ${what}: got ${sorted}`).toBe(true);
            }),
          ),
          { numRuns: RUNS },
        );
      },
      TIMEOUT,
    );
  }

  test(
    "every line of an argsort is a permutation that orders its values",
    async () => {
      await fc.assert(
        fc.asyncProperty(caseArb("float32"), ({ shape, axis, descending, data }) =>
          withArrays(async (t) => {
            const ax = axis < 0 ? axis + shape.length : axis;
            const x = t.t(make(data, shape, "float32"));
            const p = await read(t.t(np.argsort(x, { axis, descending })));
            for (const line of linesAlong(shape, ax)) {
              const perm = line.map((o) => p[o] as number);
              expect([...perm].sort((a, b) => a - b)).toEqual(line.map((_, k) => k));
              for (let k = 1; k < perm.length; k++) {
                const a = data[line[perm[k - 1] as number] as number] as number;
                const b = data[line[perm[k] as number] as number] as number;
                const c = npCompare(a, b) * (descending ? -1 : 1);
                expect(c < 0 || (c === 0 && (perm[k - 1] as number) < (perm[k] as number))).toBe(true);
              }
            }
          }),
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  for (const dtype of ["float32", "int32"] as const) {
    test(
      `topK of ${dtype} is the first k of a stable descending sort`,
      async () => {
        const arb = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 40 })).chain(([rows, n]) =>
          fc.record({
            rows: fc.constant(rows),
            n: fc.constant(n),
            k: fc.integer({ min: 0, max: n }),
            data: dataArb(sortValueArb(dtype), rows * n).map((d) => stored(d, dtype)),
          }),
        );
        await fc.assert(
          fc.asyncProperty(arb, ({ rows, n, k, data }) =>
            withArrays(async (t) => {
              const x = t.t(make(data, [rows, n], dtype));
              const [v, i] = lax.topK(x, k);
              t.t(v);
              t.t(i);
              expect(v.shape).toEqual([rows, k]);
              const wantI: number[] = [];
              const wantV: number[] = [];
              for (let r = 0; r < rows; r++) {
                const row = data.slice(r * n, (r + 1) * n);
                const p = refArgsort(row, true).slice(0, k);
                wantI.push(...p);
                wantV.push(...p.map((j) => row[j] as number));
              }
              expect(await read(i), JSON.stringify(data)).toEqual(wantI);
              expect(bitsEqual(await read(v), wantV)).toBe(true);
            }),
          ),
          { numRuns: RUNS },
        );
      },
      TIMEOUT,
    );
  }

  for (const dtype of ["float32", "int32", "uint32"] as const) {
    test(
      `searchsorted of ${dtype}, both sides, counts like a JS loop over a sorted array`,
      async () => {
        const arb = fc.record({
          a: fc.array(sortValueArb(dtype), { maxLength: 48 }).map((d) => stored(d, dtype).sort(npCompare)),
          v: fc.array(sortValueArb(dtype), { maxLength: 24 }).map((d) => stored(d, dtype)),
          right: fc.boolean(),
        });
        await fc.assert(
          fc.asyncProperty(arb, ({ a, v, right }) =>
            withArrays(async (t) => {
              const sa = t.t(make(a, [a.length], dtype));
              const sv = t.t(make(v, [v.length], dtype));
              const got = t.t(np.searchsorted(sa, sv, { side: right ? "right" : "left" }));
              const want = v.map((x) => a.filter((y) => (right ? npCompare(y, x) <= 0 : npCompare(y, x) < 0)).length);
              expect(await read(got), `${JSON.stringify(a)} ${JSON.stringify(v)} right ${right}`).toEqual(want);
            }),
          ),
          { numRuns: RUNS },
        );
      },
      TIMEOUT,
    );
  }
});
