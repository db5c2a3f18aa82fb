/**
 * Property tests of movement ops (views): random chains of reshape (incl. -1), transpose,
 * slice (Python semantics: clamping, negative steps and indices, integer indices),
 * broadcastTo, expandDims, squeeze and .T, applied both to a webjax array and to a naive
 * reference ndarray written here (flat data + shape, every op an index loop). After each chain
 * the values are compared, then an elementwise op, a binary op of two views and reductions run
 * on the view (kernels must read strided, reversed and stride-0 views); matmul of transposed /
 * sliced / broadcast views is compared with a naive triple loop.
 */
import { type Array, checkLeaks, np, ShapeError, type SliceIndex } from "@webjax/core";
import { expectClose, refReduce } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  expectExact,
  fmt,
  forEachIndex,
  makeArray,
  type NumDType,
  rowMajorStrides,
  size,
  storeAs,
  withArrays,
} from "./helpers.js";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS) || 100;
const TIMEOUT = 60_000;
/** Views never grow past this many elements (broadcastTo is skipped when it would). */
const MAX_SIZE = 512;
const MAX_RANK = 5;

// ---------------------------------------------------------------------------------------------
// The reference: a row-major ndarray whose every op is an explicit index loop.

/** Python's slice(start, stop, step) over a sequence of length n, as the list of indices it selects. */
function pySliceIndices(n: number, start: number | null, stop: number | null, step: number | null): number[] {
  const st = step ?? 1;
  if (st === 0) throw new Error("reference: zero step");
  const [lower, upper] = st > 0 ? [0, n] : [-1, n - 1];
  const adjust = (v: number | null, dflt: number) => {
    if (v === null) return dflt;
    let r = v < 0 ? v + n : v;
    if (r < lower) r = lower;
    if (r > upper) r = upper;
    return r;
  };
  const b = adjust(start, st > 0 ? lower : upper);
  const e = adjust(stop, st > 0 ? upper : lower);
  const out: number[] = [];
  for (let i = b; st > 0 ? i < e : i > e; i += st) out.push(i);
  return out;
}

class Ref {
  constructor(
    readonly data: readonly number[],
    readonly shape: readonly number[],
  ) {
    if (data.length !== size(shape)) throw new Error(`reference: ${data.length} values for shape ${fmt(shape)}`);
  }

  at(idx: readonly number[]): number {
    const s = rowMajorStrides(this.shape);
    let off = 0;
    idx.forEach((v, d) => {
      off += v * (s[d] as number);
    });
    return this.data[off] as number;
  }

  /** Builds an array of `shape` whose element at `idx` is `f(idx)`. */
  static build(shape: readonly number[], f: (idx: number[]) => number): Ref {
    const out: number[] = [];
    forEachIndex(shape, (idx) => out.push(f(idx)));
    return new Ref(out, shape);
  }

  reshape(shape: readonly number[]): Ref {
    const known = shape.filter((d) => d !== -1).reduce((p, q) => p * q, 1);
    const resolved = shape.map((d) => (d === -1 ? size(this.shape) / known : d));
    return new Ref(this.data, resolved);
  }

  transpose(perm?: readonly number[]): Ref {
    const p = (perm ?? this.shape.map((_, i) => this.shape.length - 1 - i)).map((a) =>
      a < 0 ? a + this.shape.length : a,
    );
    return Ref.build(
      p.map((a) => this.shape[a] as number),
      (idx) => {
        const src = new globalThis.Array<number>(p.length);
        p.forEach((a, d) => {
          src[a] = idx[d] as number;
        });
        return this.at(src);
      },
    );
  }

  slice(indices: readonly SliceIndex[]): Ref {
    // Per axis: the source indices it selects, and whether the axis stays.
    const sel: { picks: number[]; keep: boolean }[] = this.shape.map((n, d) => {
      const ix = indices[d];
      if (ix === undefined || ix === null) return { picks: pySliceIndices(n, null, null, null), keep: true };
      if (typeof ix === "number") return { picks: [ix < 0 ? ix + n : ix], keep: false };
      return { picks: pySliceIndices(n, ix[0] ?? null, ix[1] ?? null, ix[2] ?? null), keep: true };
    });
    const outShape = sel.filter((s) => s.keep).map((s) => s.picks.length);
    return Ref.build(outShape, (idx) => {
      let k = 0;
      return this.at(sel.map((s) => (s.keep ? (s.picks[idx[k++] as number] as number) : (s.picks[0] as number))));
    });
  }

  broadcastTo(shape: readonly number[]): Ref {
    const lead = shape.length - this.shape.length;
    return Ref.build(shape, (idx) => this.at(this.shape.map((n, d) => (n === 1 ? 0 : (idx[d + lead] as number)))));
  }

  expandDims(axes: readonly number[]): Ref {
    const rank = this.shape.length + axes.length;
    const norm = axes.map((a) => (a < 0 ? a + rank : a));
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : (this.shape[k++] as number));
    return new Ref(this.data, shape);
  }

  squeeze(axes?: readonly number[]): Ref {
    const norm = axes?.map((a) => (a < 0 ? a + this.shape.length : a));
    return new Ref(
      this.data,
      this.shape.filter((d, i) => (norm ? !norm.includes(i) : d !== 1)),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Ops of a chain: structured, printable, applied to both implementations.

type ViewOp =
  | { kind: "reshape"; shape: number[] }
  | { kind: "transpose"; perm: number[] | undefined }
  | { kind: "T" }
  | { kind: "slice"; indices: SliceIndex[] }
  | { kind: "broadcastTo"; shape: number[] }
  | { kind: "expandDims"; axis: number | number[] }
  | { kind: "squeeze"; axis: number | number[] | undefined };

function describeOp(op: ViewOp): string {
  switch (op.kind) {
    case "T":
      return ".T";
    case "transpose":
      return `.transpose(${op.perm ? JSON.stringify(op.perm) : ""})`;
    case "slice":
      return `.slice(${op.indices.map((i) => JSON.stringify(i)).join(", ")})`;
    case "reshape":
    case "broadcastTo":
      return `.${op.kind}(${JSON.stringify(op.shape)})`;
    case "expandDims":
    case "squeeze":
      return `.${op.kind}(${op.axis === undefined ? "" : JSON.stringify(op.axis)})`;
  }
}

function applyArray(x: Array, op: ViewOp): Array {
  switch (op.kind) {
    case "reshape":
      return x.reshape(op.shape);
    case "transpose":
      return x.transpose(op.perm);
    case "T":
      return x.T;
    case "slice":
      return x.slice(...op.indices);
    case "broadcastTo":
      return x.broadcastTo(op.shape);
    case "expandDims":
      return x.expandDims(op.axis);
    case "squeeze":
      return x.squeeze(op.axis);
  }
}

function applyRef(r: Ref, op: ViewOp): Ref {
  switch (op.kind) {
    case "reshape":
      return r.reshape(op.shape);
    case "transpose":
      return r.transpose(op.perm);
    case "T":
      return r.transpose();
    case "slice":
      return r.slice(op.indices);
    case "broadcastTo":
      return r.broadcastTo(op.shape);
    case "expandDims":
      return r.expandDims(typeof op.axis === "number" ? [op.axis] : op.axis);
    case "squeeze":
      return r.squeeze(typeof op.axis === "number" ? [op.axis] : op.axis);
  }
}

/** A deterministic stream of choices from fast-check's numbers (shrinks towards 0: the simplest choice). */
class Choices {
  private i = 0;
  constructor(private readonly seeds: readonly number[]) {}
  /** An integer in [0, n). */
  int(n: number): number {
    const s = this.seeds[this.i++ % this.seeds.length] as number;
    return n <= 1 ? 0 : s % n;
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  bool(): boolean {
    return this.int(2) === 1;
  }
}

/** Prime factors of n ≥ 1. */
function factors(n: number): number[] {
  const out: number[] = [];
  for (let p = 2; n > 1; p++) {
    while (n % p === 0) {
      out.push(p);
      n /= p;
    }
  }
  return out;
}

/** One view op valid for `shape`, chosen by `kind` and `c`; null when the kind does not apply. */
function makeOp(kind: number, shape: readonly number[], c: Choices): ViewOp | null {
  const rank = shape.length;
  const n = size(shape);
  switch (kind) {
    case 0: {
      // reshape: distribute the prime factors over 1..4 dims, sprinkle 1s, maybe one -1.
      const newRank = c.range(n === 0 ? 1 : 0, 4);
      if (newRank === 0) return n === 1 ? { kind: "reshape", shape: [] } : null;
      const dims = new globalThis.Array<number>(newRank).fill(1);
      if (n === 0) {
        // An empty array: one dim 0, or -1 (inferred as 0) when every other dim is nonzero (numpy allows it).
        const hole = c.int(newRank);
        for (let i = 0; i < newRank; i++) dims[i] = c.range(1, 3);
        dims[hole] = c.bool() ? -1 : 0;
        return { kind: "reshape", shape: dims };
      }
      for (const f of factors(n)) {
        const at = c.int(newRank);
        dims[at] = (dims[at] as number) * f;
      }
      if (c.bool()) dims[c.int(newRank)] = -1;
      return { kind: "reshape", shape: dims };
    }
    case 1: {
      if (c.int(4) === 0) return { kind: "transpose", perm: undefined };
      const perm = shape.map((_, i) => i);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = c.int(i + 1);
        [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
      }
      return { kind: "transpose", perm: perm.map((p) => (c.bool() ? p - rank : p)) };
    }
    case 2:
      return { kind: "T" };
    case 3: {
      // slice: an index per leading axis (maybe fewer than the rank).
      const count = c.range(0, rank);
      const indices: SliceIndex[] = [];
      // Bounds: null, in range (either sign), or out of range (clamped); often ordered so the slice is not empty.
      const bound = (m: number): number | null => {
        const how = c.int(5);
        if (how === 0) return null;
        if (how === 1) return c.range(0, Math.max(0, m - 1));
        if (how === 2) return -c.range(1, Math.max(1, m));
        if (how === 3) return m + c.range(0, 2);
        return -m - c.range(1, 3);
      };
      for (let d = 0; d < count; d++) {
        const m = shape[d] as number;
        const what = c.int(6);
        if (what === 0 && m > 0) indices.push(c.range(-m, m - 1));
        else if (what === 1) indices.push(null);
        else {
          const step = [1, 2, 3, -1, -2, -3, null][c.int(7)] ?? null;
          let lo = bound(m);
          let hi = bound(m);
          if (lo !== null && hi !== null && c.bool()) {
            // Put the bounds in the step's direction (compared as clamped positions).
            const pos = (v: number) => Math.min(Math.max(v < 0 ? v + m : v, -1), m);
            if ((step ?? 1) > 0 ? pos(lo) > pos(hi) : pos(lo) < pos(hi)) [lo, hi] = [hi, lo];
          }
          const form = c.int(4);
          // Some slices are written short: [start], [start, stop].
          if (form === 0 && step === null) indices.push([lo]);
          else if (form === 1 && step === null) indices.push([lo, hi]);
          else indices.push([lo, hi, step]);
        }
      }
      return { kind: "slice", indices };
    }
    case 4: {
      // broadcastTo: widen some 1s, maybe add leading dims.
      const lead = rank >= MAX_RANK ? 0 : c.range(0, Math.min(2, MAX_RANK - rank));
      const target = [
        ...globalThis.Array.from({ length: lead }, () => c.range(1, 3)),
        ...shape.map((d) => (d === 1 && c.bool() ? c.range(0, 3) : d)),
      ];
      if (size(target) > MAX_SIZE) return null;
      return { kind: "broadcastTo", shape: target };
    }
    case 5: {
      if (rank >= MAX_RANK) return null;
      const k = c.range(1, Math.min(2, MAX_RANK - rank));
      const outRank = rank + k;
      const axes: number[] = [];
      while (axes.length < k) {
        const a = c.int(outRank);
        if (!axes.includes(a)) axes.push(a);
      }
      const signed = axes.map((a) => (c.bool() ? a - outRank : a));
      return { kind: "expandDims", axis: signed.length === 1 && c.bool() ? (signed[0] as number) : signed };
    }
    case 6: {
      const ones = shape.flatMap((d, i) => (d === 1 ? [i] : []));
      if (c.int(3) === 0) return { kind: "squeeze", axis: undefined };
      const pick = ones.filter(() => c.bool()).map((a) => (c.bool() ? a - rank : a));
      return { kind: "squeeze", axis: pick.length === 1 && c.bool() ? (pick[0] as number) : pick };
    }
    default:
      return null;
  }
}

const stepArb = fc.record({ kind: fc.nat(6), seeds: fc.array(fc.nat(1000), { minLength: 24, maxLength: 24 }) });
const chainArb = fc.array(stepArb, { minLength: 1, maxLength: 6 });

interface Start {
  shape: number[];
  dtype: NumDType;
  values: number[];
}

/** Start dims: mostly 2..5, some 1s (squeeze, broadcast), a few 0s (empty views). */
const startDimArb = fc.oneof(
  { arbitrary: fc.integer({ min: 2, max: 5 }), weight: 8 },
  { arbitrary: fc.constant(1), weight: 2 },
  { arbitrary: fc.constant(0), weight: 1 },
);

/** A start array with distinct small-integer values (so any misplaced element shows). */
const startArb: fc.Arbitrary<Start> = fc
  .tuple(
    fc.oneof(
      { arbitrary: fc.array(startDimArb, { minLength: 1, maxLength: 4 }), weight: 9 },
      { arbitrary: fc.constant<number[]>([]), weight: 1 },
    ),
    fc.constantFrom<NumDType>("float32", "int32"),
    fc.integer({ min: -100, max: 100 }),
  )
  .map(([shape, dtype, base]) => ({
    shape,
    dtype,
    values: globalThis.Array.from({ length: size(shape) }, (_, i) => base + i),
  }));

/** Applies the chain to both implementations; returns the final pair and the printed chain. */
function runChain(
  A: { t<T extends Array>(x: T): T },
  start: Start,
  chain: readonly { kind: number; seeds: number[] }[],
) {
  let x = A.t(makeArray(start.values, start.shape, start.dtype));
  let r = new Ref(start.values, start.shape);
  let desc = `${start.dtype}${fmt(start.shape)}`;
  for (const step of chain) {
    const op = makeOp(step.kind, r.shape, new Choices(step.seeds));
    if (!op) continue;
    desc += describeOp(op);
    try {
      x = A.t(applyArray(x, op));
    } catch (e) {
      throw new Error(`${desc} threw: ${(e as Error).message}`);
    }
    r = applyRef(r, op);
  }
  return { x, r, desc };
}

// ---------------------------------------------------------------------------------------------

describe("random chains of movement ops match a naive reference", () => {
  test(
    "values and shape after the chain",
    async () => {
      await fc.assert(
        fc.asyncProperty(startArb, chainArb, async (start, chain) => {
          await withArrays(async (A) => {
            const { x, r, desc } = runChain(A, start, chain);
            await expectExact(x, r.shape, start.dtype, r.data, desc);
            expect(await x.toArray(), `toArray of ${desc}`).toEqual(await nested(r));
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "elementwise ops read the view: x + 1, x * x, x - copy, x + flipped view, x + x[0:1]",
    async () => {
      await fc.assert(
        fc.asyncProperty(startArb, chainArb, async (start, chain) => {
          await withArrays(async (A) => {
            const { x, r, desc } = runChain(A, start, chain);
            const dt = start.dtype;
            await expectExact(
              A.t(x.add(1)),
              r.shape,
              dt,
              r.data.map((v) => storeAs(v + 1, dt)),
              `${desc}.add(1)`,
            );
            await expectExact(
              A.t(x.mul(x)),
              r.shape,
              dt,
              r.data.map((v) => storeAs(v * v, dt)),
              `${desc}.mul(self)`,
            );
            // Two differently-strided operands: the view and a contiguous copy of its reverse order.
            const rev = [...r.data].reverse();
            const y = A.t(makeArray(rev, r.shape, dt));
            await expectExact(
              A.t(x.sub(y)),
              r.shape,
              dt,
              r.data.map((v, i) => storeAs(v - (rev[i] as number), dt)),
              `${desc}.sub(copy)`,
            );
            await expectExact(
              A.t(np.maximum(y, x)),
              r.shape,
              dt,
              r.data.map((v, i) => Math.max(v, rev[i] as number)),
              `maximum(copy, ${desc})`,
            );
            // Two views of one buffer with different strides: x + x[::-1, ::-1, …] (negative strides).
            const flipAll: SliceIndex[] = r.shape.map(() => [null, null, -1]);
            const flipped = A.t(x.slice(...flipAll));
            const fr = r.slice(flipAll);
            await expectExact(
              A.t(x.add(flipped)),
              r.shape,
              dt,
              r.data.map((v, i) => storeAs(v + (fr.data[i] as number), dt)),
              `${desc} + flipped`,
            );
            // x + x[0:1] (a row of the view broadcast along axis 0: offset and stride 0).
            if (r.shape.length > 0 && (r.shape[0] as number) > 0) {
              const first = A.t(x.slice([0, 1]));
              const want = Ref.build(r.shape, (idx) => r.at(idx) + r.at([0, ...idx.slice(1)]));
              await expectExact(
                A.t(x.add(first)),
                r.shape,
                dt,
                want.data.map((v) => storeAs(v, dt)),
                `${desc} + x[0:1]`,
              );
            }
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "reductions read the view: sum over all / each axis, max, argmax, mean",
    async () => {
      await fc.assert(
        fc.asyncProperty(startArb, chainArb, fc.nat(), async (start, chain, axisSeed) => {
          await withArrays(async (A) => {
            const { x, r, desc } = runChain(A, start, chain);
            const dt = start.dtype;
            const rank = r.shape.length;
            const all = r.shape.map((_, i) => i);
            const [s] = refReduce(r.data, r.shape, all, (p, q) => p + q, 0);
            await expectExact(A.t(x.sum()), [], dt, s, `${desc}.sum()`);
            if (rank > 0) {
              const ax = axisSeed % rank;
              const [sa, sShape] = refReduce(r.data, r.shape, [ax], (p, q) => p + q, 0);
              await expectExact(A.t(x.sum(ax)), sShape, dt, sa, `${desc}.sum(${ax})`);
              const n = r.shape[ax] as number;
              if (n > 0) {
                const [ma] = refReduce(r.data, r.shape, [ax], Math.max, Number.NEGATIVE_INFINITY);
                await expectExact(A.t(x.max(ax)), sShape, dt, ma, `${desc}.max(${ax})`);
                // Values along an axis of the view may tie (broadcast); argmax is the first index of the max.
                const want = Ref.build(sShape, (idx) => {
                  let best = 0;
                  for (let k = 1; k < n; k++) {
                    const at = (i: number) => r.at([...idx.slice(0, ax), i, ...idx.slice(ax)]);
                    if (at(k) > at(best)) best = k;
                  }
                  return best;
                });
                await expectExact(A.t(x.argmax(ax)), sShape, "int32", want.data, `${desc}.argmax(${ax})`);
                const [mean] = refReduce(r.data, r.shape, [ax], (p, q) => p + q, 0);
                const xm = A.t(x.mean(ax));
                expect(xm.shape, `${desc}.mean(${ax})`).toEqual(sShape);
                await expectClose(
                  xm,
                  mean.map((v) => v / n),
                  { rtol: 1e-6, atol: 0 },
                );
              }
              // Several axes at once, keepdims.
              const axes = all.filter((a) => (axisSeed >> (a + 4)) & 1);
              const [sm] = refReduce(r.data, r.shape, axes, (p, q) => p + q, 0);
              const kept = r.shape.map((d, i) => (axes.includes(i) ? 1 : d));
              await expectExact(
                A.t(x.sum(axes, { keepdims: true })),
                kept,
                dt,
                sm,
                `${desc}.sum(${JSON.stringify(axes)}, keepdims)`,
              );
            }
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "matmul of a random view with its own swapaxes(-1, -2) (batched when rank > 2) vs a naive loop",
    async () => {
      await fc.assert(
        fc.asyncProperty(startArb, chainArb, async (start, chain) => {
          await withArrays(async (A) => {
            const { x, r, desc } = runChain(A, start, chain);
            const rank = r.shape.length;
            if (rank < 2) return;
            const perm = [...r.shape.slice(0, -2).map((_, i) => i), rank - 1, rank - 2];
            const xt = A.t(x.transpose(perm));
            const rt = r.transpose(perm);
            const m = r.shape[rank - 2] as number;
            const k = r.shape[rank - 1] as number;
            const outShape = [...r.shape.slice(0, -2), m, m];
            const want = Ref.build(outShape, (idx) => {
              const b = idx.slice(0, -2);
              let s = 0;
              for (let p = 0; p < k; p++)
                s += r.at([...b, idx[rank - 2] as number, p]) * rt.at([...b, p, idx[rank - 1] as number]);
              return s;
            });
            const got = A.t(x.matmul(xt));
            if (start.dtype === "int32") {
              await expectExact(
                got,
                outShape,
                "int32",
                want.data.map((v) => storeAs(v, "int32")),
                `${desc} @ swapaxes`,
              );
            } else {
              // Long float32 dot products can pass 2^24: compare to the exact value with a tolerance.
              expect(got.shape, `${desc} @ swapaxes`).toEqual(outShape);
              await expectClose(got, want.data, { rtol: 1e-6, atol: 0 });
            }
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "a copy of the view (np.array) and a reshape of it to 1-D hold the same values",
    async () => {
      await fc.assert(
        fc.asyncProperty(startArb, chainArb, async (start, chain) => {
          await withArrays(async (A) => {
            const { x, r, desc } = runChain(A, start, chain);
            await expectExact(A.t(np.array(x)), r.shape, start.dtype, r.data, `np.array(${desc})`);
            await expectExact(A.t(x.reshape([-1])), [r.data.length], start.dtype, r.data, `${desc}.reshape([-1])`);
            await expectExact(A.t(x.astype("float32")), r.shape, "float32", r.data, `${desc}.astype(float32)`);
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("views and ownership", () => {
  test(
    "a view outlives the arrays it was made from (all of them disposed first)",
    async () => {
      await fc.assert(
        fc.asyncProperty(startArb, chainArb, async (start, chain) => {
          await withArrays(async (A) => {
            const made: Array[] = [];
            const { x, r, desc } = runChain(
              {
                t: (v) => {
                  made.push(v);
                  return v;
                },
              },
              start,
              chain,
            );
            A.t(x);
            for (const m of made) if (m !== x) m.dispose();
            await expectExact(x, r.shape, start.dtype, r.data, `${desc} after disposing its sources`);
            await expectExact(
              A.t(x.add(0)),
              r.shape,
              start.dtype,
              r.data,
              `${desc}.add(0) after disposing its sources`,
            );
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "nothing leaks: after disposing every array a chain, its ops and reductions made, no buffer is left",
    async () => {
      await fc.assert(
        fc.asyncProperty(startArb, chainArb, async (start, chain) => {
          const report = await checkLeaks(async () => {
            await withArrays(async (A) => {
              const { x, r } = runChain(A, start, chain);
              A.t(x.add(1));
              A.t(x.sum());
              A.t(x.mean(r.shape.length > 0 ? -1 : null));
              const rank = r.shape.length;
              if (rank >= 2) {
                // x @ swapaxes(x, -1, -2): a batched matmul of two views of one buffer.
                const perm = [...r.shape.slice(0, -2).map((_, i) => i), rank - 1, rank - 2];
                A.t(x.matmul(A.t(x.transpose(perm))));
              }
              await x.data();
            });
          });
          expect(report.details, "buffers left alive").toEqual([]);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  /** Per op kind (makeOp's numbering): spellings that leave shape and values unchanged. */
  const noOps = (kind: number, shape: readonly number[]): ViewOp[] =>
    [
      [{ kind: "reshape", shape: [...shape] }],
      [{ kind: "transpose", perm: shape.map((_, i) => i) }],
      shape.length <= 1 ? [{ kind: "T" }] : [],
      [
        { kind: "slice", indices: [] },
        { kind: "slice", indices: shape.map(() => null) },
        { kind: "slice", indices: shape.map(() => [null, null, null]) },
      ],
      [{ kind: "broadcastTo", shape: [...shape] }],
      [{ kind: "expandDims", axis: [] }],
      [{ kind: "squeeze", axis: [] }],
    ][kind] as ViewOp[];

  const kinds = ["reshape", "transpose", "T", "slice", "broadcastTo", "expandDims", "squeeze"];
  test.each(kinds.map((k, i) => [k, i] as const))(
    "%s returns a new array (no-op spellings included): disposing it leaves the input usable",
    async (_name, kind) => {
      await fc.assert(
        fc.asyncProperty(startArb, stepArb, fc.nat(5), async (start, step, which) => {
          await withArrays(async (A) => {
            const x = A.t(makeArray(start.values, start.shape, start.dtype));
            const r = new Ref(start.values, start.shape);
            const trivial = noOps(kind, start.shape);
            const c = new Choices(step.seeds);
            const op = which < trivial.length ? (trivial[which] as ViewOp) : makeOp(kind, start.shape, c);
            if (!op) return;
            const y = applyArray(x, op);
            const what = `x = ${start.dtype}${fmt(start.shape)}; y = x${describeOp(op)}`;
            expect(y === x, `${what}: y is x itself, so y.dispose() frees x`).toBe(false);
            const want = applyRef(r, op);
            await expectExact(y, want.shape, start.dtype, want.data, what);
            y.dispose();
            expect(x.disposed, `${what}; y.dispose() disposed x`).toBe(false);
            await expectExact(x, start.shape, start.dtype, start.values, `${what}; x after y.dispose()`);
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "astype to the array's own dtype returns a new array (disposing it leaves the input usable)",
    async () => {
      await fc.assert(
        fc.asyncProperty(startArb, async (start) => {
          await withArrays(async (A) => {
            const x = A.t(makeArray(start.values, start.shape, start.dtype));
            const y = x.astype(start.dtype);
            const what = `x = ${start.dtype}${fmt(start.shape)}; y = x.astype("${start.dtype}")`;
            expect(y === x, `${what}: y is x itself, so y.dispose() frees x`).toBe(false);
            y.dispose();
            expect(x.disposed, `${what}; y.dispose() disposed x`).toBe(false);
            await expectExact(x, start.shape, start.dtype, start.values, `${what}; x after y.dispose()`);
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("invalid movement ops raise ShapeError", () => {
  /** Ops that cannot apply to `shape` (null when the shape admits none of this kind). */
  const badOp = (kind: number, shape: readonly number[], c: Choices): ViewOp | null => {
    const rank = shape.length;
    const n = size(shape);
    switch (kind) {
      case 0: // reshape to another size, or with two -1
        return c.bool() ? { kind: "reshape", shape: [n + 1 + c.int(3)] } : { kind: "reshape", shape: [-1, -1] };
      case 1: // not a permutation
        {
          const how = c.int(3);
          if (rank === 0) return { kind: "transpose", perm: [0] };
          if (how === 0 && rank >= 2) return { kind: "transpose", perm: shape.map(() => 0) };
          if (how === 1) return { kind: "transpose", perm: shape.slice(1).map((_, i) => i) };
          return { kind: "transpose", perm: [...shape.slice(1).map((_, i) => i), rank] };
        }
      case 2: // too many indices
        return { kind: "slice", indices: [...shape.map(() => null), null] };
      case 3: {
        // an integer index out of range, or a zero step
        if (rank === 0) return null;
        const m = shape[0] as number;
        return c.bool()
          ? { kind: "slice", indices: [c.bool() ? m + c.int(2) : -m - 1 - c.int(2)] }
          : { kind: "slice", indices: [[null, null, 0]] };
      }
      case 4: {
        // squeeze an axis that is not 1
        const big = shape.flatMap((d, i) => (d !== 1 ? [i] : []));
        if (big.length === 0) return null;
        return { kind: "squeeze", axis: big[c.int(big.length)] as number };
      }
      case 5: // expandDims out of range
        return { kind: "expandDims", axis: rank + 1 + c.int(2) };
      default:
        return null;
    }
  };

  test(
    "reshape to a wrong size, a non-permutation, too many or out-of-range indices, step 0, squeezing a non-1 axis",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          startArb,
          fc.nat(5),
          fc.array(fc.nat(1000), { minLength: 8, maxLength: 8 }),
          async (start, kind, seeds) => {
            await withArrays(async (A) => {
              const x = A.t(makeArray(start.values, start.shape, start.dtype));
              const op = badOp(kind, start.shape, new Choices(seeds));
              if (!op) return;
              const what = `${start.dtype}${fmt(start.shape)}${describeOp(op)}`;
              let err: unknown;
              try {
                A.t(applyArray(x, op));
              } catch (e) {
                err = e;
              }
              expect(err, `${what} should throw ShapeError`).toBeInstanceOf(ShapeError);
            });
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

async function nested(r: Ref): Promise<unknown> {
  if (r.shape.length === 0) return r.data[0];
  const rec = (dim: number, idx: number[]): unknown[] =>
    globalThis.Array.from({ length: r.shape[dim] as number }, (_, i) =>
      dim === r.shape.length - 1 ? r.at([...idx, i]) : rec(dim + 1, [...idx, i]),
    );
  return rec(0, []);
}

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
