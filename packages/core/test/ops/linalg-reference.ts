/**
 * The naive references of the matmul / dot / lax.dotGeneral suites (matmul.test.ts,
 * dot-general.test.ts): a float64 (or wrapping int32) dot_general and numpy matmul written here,
 * independent of webjax, plus a deterministic generator of inputs and an array constructor.
 */
import { type DType, type Array as JArray, np } from "@webjax/core";
import { refBroadcast } from "@webjax/test-utils";

/** A deterministic pseudo-random generator (LCG) of values in [lo, hi). */
export function rng(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0;
  return (lo, hi) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s / 4294967296) * (hi - lo);
  };
}

export function randomFloats(n: number, seed: number): number[] {
  const r = rng(seed);
  return globalThis.Array.from({ length: n }, () => Math.fround(r(-1, 1)));
}

export function randomInts(n: number, seed: number, lo: number, hi: number): number[] {
  const r = rng(seed);
  return globalThis.Array.from({ length: n }, () => Math.floor(r(lo, hi)));
}

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function stridesOf(shape: readonly number[]): number[] {
  const s = new globalThis.Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

/** All multi-indices of `shape`, row-major. */
function indices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  const n = sizeOf(shape);
  for (let flat = 0; flat < n; flat++) {
    const idx: number[] = [];
    let rem = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      const size = shape[d] as number;
      idx.unshift(rem % size);
      rem = Math.floor(rem / size);
    }
    out.push(idx);
  }
  return out;
}

export interface Dims {
  contracting: [number[], number[]];
  batch: [number[], number[]];
}

/**
 * Naive dot_general in float64 (or wrapping int32 when `int`): output dims are batch, lhs free,
 * rhs free, as XLA.
 */
export function refDotGeneral(
  a: readonly number[],
  aShape: readonly number[],
  b: readonly number[],
  bShape: readonly number[],
  dims: Dims,
  int = false,
): [number[], number[]] {
  const [lc, rc] = dims.contracting;
  const [lb, rb] = dims.batch;
  const lf = aShape.map((_, i) => i).filter((i) => !lc.includes(i) && !lb.includes(i));
  const rf = bShape.map((_, i) => i).filter((i) => !rc.includes(i) && !rb.includes(i));
  const outShape = [
    ...lb.map((d) => aShape[d] as number),
    ...lf.map((d) => aShape[d] as number),
    ...rf.map((d) => bShape[d] as number),
  ];
  const cShape = lc.map((d) => aShape[d] as number);
  const as = stridesOf(aShape);
  const bs = stridesOf(bShape);
  const out: number[] = [];
  for (const o of indices(outShape)) {
    const bi = o.slice(0, lb.length);
    const li = o.slice(lb.length, lb.length + lf.length);
    const ri = o.slice(lb.length + lf.length);
    let acc = 0;
    for (const c of indices(cShape)) {
      let ao = 0;
      let bo = 0;
      lb.forEach((d, k) => (ao += (bi[k] as number) * (as[d] as number)));
      rb.forEach((d, k) => (bo += (bi[k] as number) * (bs[d] as number)));
      lf.forEach((d, k) => (ao += (li[k] as number) * (as[d] as number)));
      rf.forEach((d, k) => (bo += (ri[k] as number) * (bs[d] as number)));
      lc.forEach((d, k) => (ao += (c[k] as number) * (as[d] as number)));
      rc.forEach((d, k) => (bo += (c[k] as number) * (bs[d] as number)));
      const x = a[ao] as number;
      const y = b[bo] as number;
      acc = int ? (acc + Math.imul(x, y)) | 0 : acc + x * y;
    }
    out.push(acc);
  }
  return [out, outShape];
}

/** Naive numpy matmul of operands of rank ≥ 2 (batch dims broadcast). */
export function refMatmul(
  a: readonly number[],
  aShape: readonly number[],
  b: readonly number[],
  bShape: readonly number[],
  int = false,
): [number[], number[]] {
  const ab = aShape.slice(0, -2);
  const bb = bShape.slice(0, -2);
  const nb = Math.max(ab.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < nb; i++) {
    const x = ab[ab.length - nb + i] ?? 1;
    const y = bb[bb.length - nb + i] ?? 1;
    batch.push(x === 1 ? y : x);
  }
  const aFull = [...batch, ...aShape.slice(-2)];
  const bFull = [...batch, ...bShape.slice(-2)];
  const range = globalThis.Array.from({ length: nb }, (_, i) => i);
  return refDotGeneral(
    refBroadcast(a, aShape, aFull),
    aFull,
    refBroadcast(b, bShape, bFull),
    bFull,
    { contracting: [[nb + 1], [nb]], batch: [range, range] },
    int,
  );
}

export function make(data: readonly number[], shape: readonly number[], dtype: DType = "float32"): JArray {
  const typed =
    dtype === "int32"
      ? new Int32Array(data)
      : dtype === "uint32"
        ? new Uint32Array(data)
        : dtype === "float64"
          ? new Float64Array(data)
          : new Float32Array(data);
  return np.array(typed, { shape, dtype });
}
