/**
 * Independent JS references for the cumulative and sorting routines: plain loops over row-major
 * data and Array.prototype.sort with explicit tie-breaking. Nothing here calls webjax.
 */
import { type Array, np } from "@webjax/core";
import { ftz } from "@webjax/test-utils";
import fc from "fast-check";

export type Dt = "float32" | "int32" | "uint32" | "bool";

export const I32_MIN = -2147483648;
export const I32_MAX = 2147483647;

/** Row-major strides of `shape`. */
function strides(shape: readonly number[]): number[] {
  const s = shape.map(() => 1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = (s[d + 1] as number) * (shape[d + 1] as number);
  return s;
}

/** Every 1-D line of a row-major array along `axis`, as lists of flat offsets. */
export function linesAlong(shape: readonly number[], axis: number): number[][] {
  const st = strides(shape);
  const n = shape[axis] as number;
  const total = shape.reduce((a, b) => a * b, 1);
  const lines: number[][] = [];
  if (total === 0) return lines;
  for (let flat = 0; flat < total; flat++) {
    if (Math.floor(flat / (st[axis] as number)) % n !== 0) continue; // not the first element of a line
    lines.push(globalThis.Array.from({ length: n }, (_, i) => flat + i * (st[axis] as number)));
  }
  return lines;
}

/** numpy's sort order: NaN after everything and equal to NaN, −0 equal to 0. */
export function npCompare(a: number, b: number): number {
  const na = Number.isNaN(a);
  const nb = Number.isNaN(b);
  if (na || nb) return na && nb ? 0 : na ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Stable argsort of one line: by value (reversed when descending), ties by index. */
export function refArgsort(values: readonly number[], descending = false): number[] {
  const idx = values.map((_, i) => i);
  return idx.sort((i, j) => {
    const c = npCompare(values[i] as number, values[j] as number);
    return (descending ? -c : c) || i - j;
  });
}

/** refArgsort along `axis` of row-major `data` of `shape`, as row-major indices. */
export function refArgsortAxis(
  data: readonly number[],
  shape: readonly number[],
  axis: number,
  desc = false,
): number[] {
  const out = new globalThis.Array<number>(data.length).fill(0);
  for (const line of linesAlong(shape, axis)) {
    const p = refArgsort(
      line.map((o) => data[o] as number),
      desc,
    );
    line.forEach((o, k) => {
      out[o] = p[k] as number;
    });
  }
  return out;
}

/** Gathers along `axis`: out[line[k]] = data[line[idx[line[k]]]]. */
export function refTakeAlong(data: readonly number[], idx: readonly number[], shape: readonly number[], axis: number) {
  const out = new globalThis.Array<number>(data.length).fill(0);
  for (const line of linesAlong(shape, axis)) {
    for (const o of line) out[o] = data[line[idx[o] as number] as number] as number;
  }
  return out;
}

export type CumOp = "sum" | "prod" | "max" | "min";

/** One step of a cumulative op in `dtype` (ints wrap, max/min propagate NaN). */
export function cumStep(op: CumOp, dtype: Dt, acc: number, v: number): number {
  const isInt = dtype === "int32" || dtype === "uint32";
  const wrap = (x: number) => (dtype === "uint32" ? x >>> 0 : x | 0);
  switch (op) {
    case "sum":
      return isInt ? wrap(acc + v) : Math.fround(acc + v);
    case "prod":
      return isInt ? wrap(Math.imul(acc, v)) : Math.fround(acc * v);
    case "max":
    case "min":
      if (Number.isNaN(acc) || Number.isNaN(v)) return Number.NaN;
      return op === "max" ? Math.max(acc, v) : Math.min(acc, v);
  }
}

/** Inclusive cumulative `op` along `axis`, forward or reversed, with plain loops. */
export function refCumulative(
  op: CumOp,
  dtype: Dt,
  data: readonly number[],
  shape: readonly number[],
  axis: number,
  reverse: boolean,
): number[] {
  const out = [...data];
  for (const line of linesAlong(shape, axis)) {
    const order = reverse ? [...line].reverse() : line;
    let acc = Number.NaN;
    order.forEach((o, k) => {
      acc = k === 0 ? (data[o] as number) : cumStep(op, dtype, acc, data[o] as number);
      out[o] = acc;
    });
  }
  return out;
}

/** An array of `dtype` and `shape` holding `values` (row-major). */
export function make(values: readonly number[], shape: readonly number[], dtype: Dt): Array {
  const data =
    dtype === "float32"
      ? Float32Array.from(values)
      : dtype === "int32"
        ? Int32Array.from(values)
        : dtype === "uint32"
          ? Uint32Array.from(values)
          : Uint8Array.from(values);
  return np.array(data, { shape, dtype });
}

/** Values with many ties and every special: NaN, ±Inf, −0 (float32); extremes (ints). */
export function sortValueArb(dtype: Dt): fc.Arbitrary<number> {
  switch (dtype) {
    case "float32":
      return fc.oneof(
        { arbitrary: fc.constantFrom(0, -0, 1, -1, 2.5, -2.5, 3), weight: 4 },
        { arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY), weight: 1 },
        { arbitrary: fc.float({ noNaN: true }).map((v) => ftz(Math.fround(v))), weight: 2 },
      );
    case "int32":
      return fc.oneof(
        { arbitrary: fc.integer({ min: -3, max: 3 }), weight: 3 },
        { arbitrary: fc.constantFrom(I32_MIN, I32_MAX, -1, 0), weight: 1 },
        { arbitrary: fc.integer({ min: I32_MIN, max: I32_MAX }), weight: 1 },
      );
    case "uint32":
      return fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: 3 }), weight: 2 },
        { arbitrary: fc.constantFrom(0x7fffffff, 0x80000000, 0xffffffff), weight: 1 },
        { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 1 },
      );
    case "bool":
      return fc.constantFrom(0, 1);
  }
}

/** A shape of rank 1..3 (at most `maxSize` elements, or one line up to 64 long), and an axis in [−rank, rank). */
export function shapeAxisArb(maxDim = 6, maxSize = 96): fc.Arbitrary<{ shape: number[]; axis: number }> {
  const small = fc
    .array(fc.integer({ min: 0, max: maxDim }), { minLength: 1, maxLength: 3 })
    .filter((s) => s.reduce((a, b) => a * b, 1) <= maxSize);
  // Now and then one long line (up to 64), alone or beside a dim of 2.
  const long = fc.tuple(fc.integer({ min: 7, max: 64 }), fc.boolean()).map(([n, two]) => (two ? [2, n] : [n]));
  return fc
    .oneof({ arbitrary: small, weight: 4 }, { arbitrary: long, weight: 1 })
    .chain((shape) =>
      fc.integer({ min: -shape.length, max: shape.length - 1 }).map((axis) => ({ shape: [...shape], axis })),
    );
}

/** Data of `size` elements drawn from `arb`. */
export function dataArb(arb: fc.Arbitrary<number>, size: number): fc.Arbitrary<number[]> {
  return fc.array(arb, { minLength: size, maxLength: size });
}

/** Stored values as the backend reads them back (float32 rounding, uint32/int32 wrap). */
export function stored(values: readonly number[], dtype: Dt): number[] {
  return values.map((v) =>
    dtype === "float32" ? Math.fround(v) : dtype === "int32" ? v | 0 : dtype === "uint32" ? v >>> 0 : v ? 1 : 0,
  );
}

/** Exact values with −0 kept distinct from 0 and NaN equal to NaN (for gathers, which copy bits). */
export function bitsEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}
