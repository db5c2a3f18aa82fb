/**
 * The naive reference for the view property suites (view-chains.test.ts, view-slice-matmul.test.ts):
 * a row-major ndarray (flat data + shape) whose every movement op — reshape (incl. -1), transpose,
 * slice (Python semantics: clamping, negative steps and indices, integer indices), broadcastTo,
 * expandDims, squeeze and .T — is an explicit index loop; the printable ops of a chain, applied
 * to both it and a webjax array; and the fast-check arbitraries of start arrays and chains.
 */
import type { Array, SliceIndex } from "@webjax/core";
import fc from "fast-check";
import { fmt, forEachIndex, makeArray, type NumDType, rowMajorStrides, size } from "./helpers.js";

export const RUNS = Number(process.env.WEBJAX_PROP_RUNS) || 100;
export const TIMEOUT = 60_000;
/** Views never grow past this many elements (broadcastTo is skipped when it would). */
const MAX_SIZE = 512;
const MAX_RANK = 5;

// ---------------------------------------------------------------------------------------------
// The reference: a row-major ndarray whose every op is an explicit index loop.

/** Python's slice(start, stop, step) over a sequence of length n, as the list of indices it selects. */
export function pySliceIndices(n: number, start: number | null, stop: number | null, step: number | null): number[] {
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

export class Ref {
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

export type ViewOp =
  | { kind: "reshape"; shape: number[] }
  | { kind: "transpose"; perm: number[] | undefined }
  | { kind: "T" }
  | { kind: "slice"; indices: SliceIndex[] }
  | { kind: "broadcastTo"; shape: number[] }
  | { kind: "expandDims"; axis: number | number[] }
  | { kind: "squeeze"; axis: number | number[] | undefined };

export function describeOp(op: ViewOp): string {
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

export function applyArray(x: Array, op: ViewOp): Array {
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

export function applyRef(r: Ref, op: ViewOp): Ref {
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
export class Choices {
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
export function makeOp(kind: number, shape: readonly number[], c: Choices): ViewOp | null {
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

export const stepArb = fc.record({ kind: fc.nat(6), seeds: fc.array(fc.nat(1000), { minLength: 24, maxLength: 24 }) });
export const chainArb = fc.array(stepArb, { minLength: 1, maxLength: 6 });

export interface Start {
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
export const startArb: fc.Arbitrary<Start> = fc
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
export function runChain(
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

export async function nested(r: Ref): Promise<unknown> {
  if (r.shape.length === 0) return r.data[0];
  const rec = (dim: number, idx: number[]): unknown[] =>
    globalThis.Array.from({ length: r.shape[dim] as number }, (_, i) =>
      dim === r.shape.length - 1 ? r.at([...idx, i]) : rec(dim + 1, [...idx, i]),
    );
  return rec(0, []);
}
