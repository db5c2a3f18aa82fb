/**
 * Property tests of slices alone (Python's slice semantics on one axis, integer indices) and of
 * matmul of views: transposed / sliced / reversed / broadcast operands, built on both webjax and
 * the naive reference ndarray of views-reference.ts, against a naive triple loop.
 */
import { type Array, np, type SliceIndex } from "@webjax/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { expectExact, fmt, makeArray, type NumDType, size, withArrays } from "./helpers.js";
import {
  applyArray,
  applyRef,
  Choices,
  describeOp,
  pySliceIndices,
  Ref,
  RUNS,
  TIMEOUT,
  type ViewOp,
} from "./views-reference.js";

// ---------------------------------------------------------------------------------------------
// Slices alone: Python semantics on one axis, exhaustively random bounds.

describe("slice follows Python's slice semantics", () => {
  test(
    "1-D: every start/stop/step (negative, out of range, null) selects what Python does",
    async () => {
      const bound = fc.oneof(fc.constant(null), fc.integer({ min: -8, max: 8 }));
      const arb = fc.tuple(
        fc.integer({ min: 0, max: 6 }),
        bound,
        bound,
        fc.oneof(
          fc.constant(null),
          fc.integer({ min: -4, max: 4 }).filter((s) => s !== 0),
        ),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ([n, start, stop, step]) => {
          await withArrays(async (A) => {
            const values = globalThis.Array.from({ length: n }, (_, i) => 10 + i);
            const x = A.t(makeArray(values, [n], "int32"));
            const want = pySliceIndices(n, start, stop, step).map((i) => values[i] as number);
            await expectExact(
              A.t(x.slice([start, stop, step])),
              [want.length],
              "int32",
              want,
              `x[${start}:${stop}:${step}] of ${n}`,
            );
          });
        }),
        { numRuns: 200 },
      );
    },
    TIMEOUT,
  );

  test(
    "integer indices: negative counts from the end; out of range throws",
    async () => {
      const arb = fc.tuple(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: -7, max: 7 }),
        fc.integer({ min: -7, max: 7 }),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ([m, n, i, j]) => {
          await withArrays(async (A) => {
            const values = globalThis.Array.from({ length: m * n }, (_, k) => k);
            const x = A.t(makeArray(values, [m, n], "float32"));
            const ok = (v: number, len: number) => v >= -len && v < len;
            if (!ok(i, m) || !ok(j, n)) {
              expect(() => A.t(x.slice(i, j))).toThrow(/out of bounds/);
              return;
            }
            const r = new Ref(values, [m, n]);
            const want = r.slice([i, j]);
            await expectExact(A.t(x.slice(i, j)), [], "float32", want.data, `x[${i}, ${j}]`);
            const row = r.slice([i]);
            await expectExact(A.t(x.slice(i)), row.shape, "float32", row.data, `x[${i}]`);
            const col = r.slice([null, j]);
            await expectExact(A.t(x.slice(null, j)), col.shape, "float32", col.data, `x[:, ${j}]`);
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------
// matmul of views.

/** Ops that turn a fresh base array into a view of shape [rows, cols] (a different layout per mode). */
function viewBuilder(mode: number, rows: number, cols: number, c: Choices): { base: number[]; ops: ViewOp[] } {
  const sa = c.range(1, 3);
  const sb = c.range(1, 3);
  const pa = c.range(0, 2);
  const pb = c.range(0, 2);
  /** A slice taking `count` elements with |step| s from a dim of size count·s + pad, maybe reversed. */
  const pick = (count: number, s: number, pad: number, reverse: boolean): SliceIndex => {
    const n = count * s + pad;
    if (count === 0) return [0, 0, reverse ? -s : s];
    if (!reverse) {
      const start = c.range(0, pad);
      return [start, start + count * s, s];
    }
    const start = n - 1 - c.range(0, pad);
    const stop = start - count * s;
    return [start, stop < 0 ? null : stop, -s];
  };
  switch (mode) {
    case 0: // contiguous
      return { base: [rows, cols], ops: [] };
    case 1: // transposed
      return { base: [cols, rows], ops: [c.bool() ? { kind: "T" } : { kind: "transpose", perm: [1, 0] }] };
    case 2: // strided (maybe reversed) slice on both axes
      return {
        base: [rows * sa + pa, cols * sb + pb],
        ops: [{ kind: "slice", indices: [pick(rows, sa, pa, c.bool()), pick(cols, sb, pb, c.bool())] }],
      };
    case 3: // slice of the transpose
      return {
        base: [cols * sb + pb, rows * sa + pa],
        ops: [{ kind: "slice", indices: [pick(cols, sb, pb, c.bool()), pick(rows, sa, pa, c.bool())] }, { kind: "T" }],
      };
    case 4: // broadcast of a row or a column (stride 0)
      return c.bool()
        ? { base: [cols], ops: [{ kind: "broadcastTo", shape: [rows, cols] }] }
        : { base: [rows, 1], ops: [{ kind: "broadcastTo", shape: [rows, cols] }] };
    default: // an integer index into a 3-D base, then the transpose of a middle slab
      return {
        base: [cols, 3, rows],
        ops: [{ kind: "slice", indices: [null, c.range(-3, 2)] }, { kind: "T" }],
      };
  }
}

function naiveMatmul(a: Ref, b: Ref): Ref {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1] as number;
  const out: number[] = [];
  // Row-major: a[i, p] = a.data[i·k + p], b[p, j] = b.data[p·n + j].
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (a.data[i * k + p] as number) * (b.data[p * n + j] as number);
      out.push(s);
    }
  }
  return new Ref(out, [m, n]);
}

const matmulArb = fc.record({
  m: fc.integer({ min: 0, max: 5 }),
  k: fc.integer({ min: 0, max: 5 }),
  n: fc.integer({ min: 0, max: 5 }),
  modeA: fc.nat(5),
  modeB: fc.nat(5),
  dtype: fc.constantFrom<NumDType>("float32", "int32"),
  seeds: fc.array(fc.nat(1000), { minLength: 16, maxLength: 16 }),
  values: fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 300, maxLength: 300 }),
});

/** Builds the view `mode` of shape [rows, cols] on both sides, filling the base from `values` at `offset`. */
function buildOperand(
  A: { t<T extends Array>(x: T): T },
  mode: number,
  rows: number,
  cols: number,
  dtype: NumDType,
  c: Choices,
  values: readonly number[],
  offset: number,
) {
  const { base, ops } = viewBuilder(mode, rows, cols, c);
  const data = globalThis.Array.from({ length: size(base) }, (_, i) => values[(offset + i) % values.length] as number);
  let x = A.t(makeArray(data, base, dtype));
  let r = new Ref(data, base);
  let desc = `${fmt(base)}`;
  for (const op of ops) {
    desc += describeOp(op);
    x = A.t(applyArray(x, op));
    r = applyRef(r, op);
  }
  expect(r.shape, `builder ${desc}`).toEqual([rows, cols]);
  return { x, r, desc };
}

describe("matmul of views", () => {
  test(
    "transposed / sliced / reversed / broadcast operands vs a naive triple loop",
    async () => {
      await fc.assert(
        fc.asyncProperty(matmulArb, async ({ m, k, n, modeA, modeB, dtype, seeds, values }) => {
          await withArrays(async (A) => {
            const c = new Choices(seeds);
            const a = buildOperand(A, modeA, m, k, dtype, c, values, 0);
            const b = buildOperand(A, modeB, k, n, dtype, c, values, 150);
            const want = naiveMatmul(a.r, b.r);
            const what = `(${a.desc}) @ (${b.desc})`;
            await expectExact(A.t(a.x.matmul(b.x)), [m, n], dtype, want.data, what);
            await expectExact(A.t(np.matmul(a.x, b.x)), [m, n], dtype, want.data, `np.matmul ${what}`);
            await expectExact(A.t(a.x.dot(b.x)), [m, n], dtype, want.data, `dot ${what}`);
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "vector views: a strided row/column of a matrix @ a view, and view @ vector",
    async () => {
      await fc.assert(
        fc.asyncProperty(matmulArb, fc.nat(2), async ({ m, k, n, modeA, modeB, dtype, seeds, values }, which) => {
          await withArrays(async (A) => {
            const c = new Choices(seeds);
            // A [rows, k] view; take one row (or column of its transpose) as the vector, which is strided.
            const rows = Math.max(m, 1);
            const a = buildOperand(A, modeA, rows, k, dtype, c, values, 0);
            const i = c.int(rows);
            const vec = which === 0 ? a.x.slice(i) : A.t(a.x.T).slice(null, i);
            A.t(vec);
            const vr = a.r.slice([i]);
            const b = buildOperand(A, modeB, k, n, dtype, c, values, 150);
            const want = naiveMatmul(vr.reshape([1, k]), b.r);
            await expectExact(A.t(vec.matmul(b.x)), [n], dtype, want.data, `row ${i} of (${a.desc}) @ (${b.desc})`);
            // matrix @ vector: B.T (shape [n, k]) @ vec.
            const bt = A.t(b.x.T);
            const want2 = naiveMatmul(b.r.transpose(), vr.reshape([k, 1]));
            await expectExact(A.t(bt.matmul(vec)), [n], dtype, want2.data, `(${b.desc}).T @ row ${i} of (${a.desc})`);
            // vector · vector: a rank-0 result.
            const sq = vr.data.reduce((acc, v) => acc + v * v, 0);
            await expectExact(A.t(vec.dot(vec)), [], dtype, [sq], `row ${i} of (${a.desc}) · itself`);
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "sizes past the CPU kernel's cache blocks (M > 64, K > 128, N > 256) with transposed / reversed views",
    async () => {
      const arb = fc.record({
        m: fc.integer({ min: 60, max: 70 }),
        k: fc.integer({ min: 120, max: 140 }),
        n: fc.integer({ min: 250, max: 262 }),
        modeA: fc.nat(5),
        modeB: fc.nat(5),
        dtype: fc.constantFrom<NumDType>("float32", "int32"),
        seeds: fc.array(fc.nat(1000), { minLength: 16, maxLength: 16 }),
        values: fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 97, maxLength: 97 }),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ m, k, n, modeA, modeB, dtype, seeds, values }) => {
          await withArrays(async (A) => {
            const c = new Choices(seeds);
            const a = buildOperand(A, modeA, m, k, dtype, c, values, 0);
            const b = buildOperand(A, modeB, k, n, dtype, c, values, 41);
            const want = naiveMatmul(a.r, b.r);
            await expectExact(A.t(a.x.matmul(b.x)), [m, n], dtype, want.data, `(${a.desc}) @ (${b.desc})`);
          });
        }),
        { numRuns: 6 },
      );
    },
    TIMEOUT,
  );

  test(
    "batched: a transposed 3-D view @ a broadcast 2-D view",
    async () => {
      const arb = fc.record({
        batch: fc.integer({ min: 1, max: 3 }),
        m: fc.integer({ min: 1, max: 4 }),
        k: fc.integer({ min: 1, max: 4 }),
        n: fc.integer({ min: 1, max: 4 }),
        modeB: fc.nat(5),
        dtype: fc.constantFrom<NumDType>("float32", "int32"),
        seeds: fc.array(fc.nat(1000), { minLength: 16, maxLength: 16 }),
        values: fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 300, maxLength: 300 }),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ batch, m, k, n, modeB, dtype, seeds, values }) => {
          await withArrays(async (A) => {
            const c = new Choices(seeds);
            // A: base [k, batch, m] transposed to [batch, m, k].
            const baseData = values.slice(0, k * batch * m);
            const base = A.t(makeArray(baseData, [k, batch, m], dtype));
            const ar = new Ref(baseData, [k, batch, m]).transpose([1, 2, 0]);
            const ax = A.t(base.transpose([1, -1, 0]));
            const b = buildOperand(A, modeB, k, n, dtype, c, values, 100);
            const want = Ref.build([batch, m, n], ([bi, i, j]) => {
              let s = 0;
              for (let p = 0; p < k; p++) s += ar.at([bi as number, i as number, p]) * b.r.at([p, j as number]);
              return s;
            });
            await expectExact(
              A.t(ax.matmul(b.x)),
              [batch, m, n],
              dtype,
              want.data,
              `[${k},${batch},${m}].transpose([1,-1,0]) @ (${b.desc})`,
            );
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
