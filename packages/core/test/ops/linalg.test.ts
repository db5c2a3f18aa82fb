/**
 * matmul, dot and lax.dotGeneral against hand-computed values and a naive float64 (or
 * wrapping int32) reference written here, independent of webjax.
 */
import { type DType, DTypeError, type Array as JArray, lax, np, ShapeError } from "@webjax/core";
import { expectClose, hasFloat64, refBroadcast } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

async function values(x: JArray): Promise<number[]> {
  return globalThis.Array.from(await x.data());
}

/** A deterministic pseudo-random generator (LCG) of values in [lo, hi). */
function rng(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0;
  return (lo, hi) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s / 4294967296) * (hi - lo);
  };
}

function randomFloats(n: number, seed: number): number[] {
  const r = rng(seed);
  return globalThis.Array.from({ length: n }, () => Math.fround(r(-1, 1)));
}

function randomInts(n: number, seed: number, lo: number, hi: number): number[] {
  const r = rng(seed);
  return globalThis.Array.from({ length: n }, () => Math.floor(r(lo, hi)));
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

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

interface Dims {
  contracting: [number[], number[]];
  batch: [number[], number[]];
}

/**
 * Naive dot_general in float64 (or wrapping int32 when `int`): output dims are batch, lhs free,
 * rhs free, as XLA.
 */
function refDotGeneral(
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
function refMatmul(
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

function make(data: readonly number[], shape: readonly number[], dtype: DType = "float32"): JArray {
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

describe("matmul: ranks", () => {
  test("2-D @ 2-D", async () => {
    using a = np.array([
      [1, 2],
      [3, 4],
    ]);
    using b = np.array([
      [5, 6],
      [7, 8],
    ]);
    using r = np.matmul(a, b);
    expect(r.dtype).toBe("float32");
    expect(await r.toArray()).toEqual([
      [19, 22],
      [43, 50],
    ]);
    using m = a.matmul(b);
    expect(await values(m)).toEqual([19, 22, 43, 50]);
  });

  test("1-D @ 2-D promotes to a row and drops it", async () => {
    using v = np.array([1, 2]);
    using b = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using r = np.matmul(v, b);
    expect(r.shape).toEqual([3]);
    expect(await values(r)).toEqual([9, 12, 15]);
  });

  test("2-D @ 1-D promotes to a column and drops it", async () => {
    using a = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using v = np.array([1, 0, -1]);
    using r = np.matmul(a, v);
    expect(r.shape).toEqual([2]);
    expect(await values(r)).toEqual([-2, -2]);
  });

  test("1-D @ 1-D is a 0-d inner product", async () => {
    using a = np.array([1, 2, 3]);
    using b = np.array([4, 5, 6]);
    using r = np.matmul(a, b);
    expect(r.shape).toEqual([]);
    expect(await r.item()).toBe(32);
  });

  test("batched, with broadcasting of batch dims", async () => {
    const aShape = [2, 1, 2, 3];
    const bShape = [4, 3, 2];
    const a = randomFloats(sizeOf(aShape), 1);
    const b = randomFloats(sizeOf(bShape), 2);
    using x = make(a, aShape);
    using y = make(b, bShape);
    using r = np.matmul(x, y);
    const [want, shape] = refMatmul(a, aShape, b, bShape);
    expect(shape).toEqual([2, 4, 2, 2]);
    expect(r.shape).toEqual(shape);
    await expectClose(r, want, { rtol: 1e-5, atol: 1e-6 });
  });

  test("batched @ 2-D and 2-D @ batched", async () => {
    const a = randomFloats(3 * 2 * 4, 3);
    const b = randomFloats(4 * 5, 4);
    using x = make(a, [3, 2, 4]);
    using y = make(b, [4, 5]);
    using r = np.matmul(x, y);
    const [want, shape] = refMatmul(a, [3, 2, 4], b, [4, 5]);
    expect(r.shape).toEqual([3, 2, 5]);
    expect(shape).toEqual([3, 2, 5]);
    await expectClose(r, want, { rtol: 1e-5, atol: 1e-6 });

    const c = randomFloats(2 * 3, 5);
    const d = randomFloats(5 * 3 * 4, 6);
    using z = make(c, [2, 3]);
    using w = make(d, [5, 3, 4]);
    using r2 = np.matmul(z, w);
    const [want2] = refMatmul(c, [2, 3], d, [5, 3, 4]);
    expect(r2.shape).toEqual([5, 2, 4]);
    await expectClose(r2, want2, { rtol: 1e-5, atol: 1e-6 });
  });

  test("batched @ 1-D and 1-D @ batched", async () => {
    const a = randomFloats(2 * 2 * 3, 7);
    const v = randomFloats(3, 8);
    using x = make(a, [2, 2, 3]);
    using y = make(v, [3]);
    using r = np.matmul(x, y);
    expect(r.shape).toEqual([2, 2]);
    const [want] = refMatmul(a, [2, 2, 3], v, [3, 1]);
    await expectClose(r, want, { rtol: 1e-5, atol: 1e-6 });

    const u = randomFloats(2, 9);
    const b = randomFloats(4 * 2 * 3, 10);
    using p = make(u, [2]);
    using q = make(b, [4, 2, 3]);
    using r2 = np.matmul(p, q);
    expect(r2.shape).toEqual([4, 3]);
    const [want2] = refMatmul(u, [1, 2], b, [4, 2, 3]);
    await expectClose(r2, want2, { rtol: 1e-5, atol: 1e-6 });
  });

  test("empty contraction gives zeros; empty free dims give empty results", async () => {
    using a = np.zeros([2, 0]);
    using b = np.zeros([0, 3]);
    using r = np.matmul(a, b);
    expect(r.shape).toEqual([2, 3]);
    expect(await values(r)).toEqual([0, 0, 0, 0, 0, 0]);
    using c = np.ones([0, 3]);
    using d = np.ones([3, 2]);
    using r2 = np.matmul(c, d);
    expect(r2.shape).toEqual([0, 2]);
    expect(await values(r2)).toEqual([]);
  });
});

describe("matmul: strided inputs", () => {
  const A = globalThis.Array.from({ length: 12 }, (_, i) => i - 5); // [3,4]
  const B = globalThis.Array.from({ length: 20 }, (_, i) => (i % 7) - 3); // [4,5]

  test("transposed operands", async () => {
    using a = make(A, [3, 4]);
    using at = a.T; // [4,3]
    using r = np.matmul(at, a); // [4,4]
    const atData = [0, 1, 2, 3].flatMap((i) => [0, 1, 2].map((j) => A[j * 4 + i] as number));
    const [want] = refMatmul(atData, [4, 3], A, [3, 4]);
    expect(r.shape).toEqual([4, 4]);
    expect(await values(r)).toEqual(want);

    using b = make(B, [4, 5]);
    using bt = b.T; // [5,4]
    using r2 = np.matmul(bt, at); // [5,3]
    const btData = [0, 1, 2, 3, 4].flatMap((i) => [0, 1, 2, 3].map((j) => B[j * 5 + i] as number));
    const [want2] = refMatmul(btData, [5, 4], atData, [4, 3]);
    expect(r2.shape).toEqual([5, 3]);
    expect(await values(r2)).toEqual(want2);
  });

  test("stepped and reversed slices", async () => {
    using a = make(A, [3, 4]);
    using b = make(B, [4, 5]);
    using as = a.slice(null, [1, null, 2]); // columns 1, 3 → [3,2]
    using bs = b.slice([null, null, -2], [null, null, 2]); // rows 3, 1; cols 0, 2, 4 → [2,3]
    using r = np.matmul(as, bs);
    const asData = [0, 1, 2].flatMap((i) => [1, 3].map((j) => A[i * 4 + j] as number));
    const bsData = [3, 1].flatMap((i) => [0, 2, 4].map((j) => B[i * 5 + j] as number));
    const [want] = refMatmul(asData, [3, 2], bsData, [2, 3]);
    expect(r.shape).toEqual([3, 3]);
    expect(await values(r)).toEqual(want);
  });

  test("a broadcast (stride-0) operand", async () => {
    using v = np.array([1, 2, 3]);
    using rows = np.broadcastTo(v, [2, 3]);
    using b = np.array([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    using r = np.matmul(rows, b);
    expect(await r.toArray()).toEqual([
      [4, 5],
      [4, 5],
    ]);
  });

  test("a slice with an offset as the second operand", async () => {
    using b = make(B, [4, 5]);
    using inner = b.slice([1, 3], [2, 5]); // rows 1..2, cols 2..4 → [2,3]
    using a = np.array([
      [1, 2],
      [3, 4],
    ]);
    using r = np.matmul(a, inner);
    const innerData = [1, 2].flatMap((i) => [2, 3, 4].map((j) => B[i * 5 + j] as number));
    const [want] = refMatmul([1, 2, 3, 4], [2, 2], innerData, [2, 3]);
    expect(await values(r)).toEqual(want);
  });
});

describe("matmul: sizes and dtypes", () => {
  const cases: [number, number, number][] = [
    [1, 1, 1],
    [5, 7, 3],
    [3, 5, 300],
    [17, 129, 9],
    [130, 257, 70],
  ];
  test.each(cases)("float32 M=%i K=%i N=%i against a float64 triple loop", async (M, K, N) => {
    const a = randomFloats(M * K, M * 1000 + K);
    const b = randomFloats(K * N, N * 1000 + K + 1);
    using x = make(a, [M, K]);
    using y = make(b, [K, N]);
    using r = np.matmul(x, y);
    expect(r.shape).toEqual([M, N]);
    const want = new globalThis.Array<number>(M * N);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += (a[i * K + k] as number) * (b[k * N + j] as number);
        want[i * N + j] = acc;
      }
    }
    await expectClose(r, want, { rtol: 1e-4, atol: 1e-4 });
  });

  test.runIf(hasFloat64)("float64 matmul keeps float64 precision", async () => {
    const r = rng(42);
    const a = globalThis.Array.from({ length: 6 * 9 }, () => r(-1, 1));
    const b = globalThis.Array.from({ length: 9 * 4 }, () => r(-1, 1));
    using x = make(a, [6, 9], "float64");
    using y = make(b, [9, 4], "float64");
    using m = np.matmul(x, y);
    expect(m.dtype).toBe("float64");
    const [want] = refMatmul(a, [6, 9], b, [9, 4]);
    await expectClose(m, want, { rtol: 1e-12, atol: 1e-14 });
  });

  test("int32 matmul is exact and wraps modulo 2^32", async () => {
    using a = np.array([[65536]], { dtype: "int32" });
    using r = np.matmul(a, a);
    expect(r.dtype).toBe("int32");
    expect(await values(r)).toEqual([0]);

    using b = np.array([[2147483647, 1]], { dtype: "int32" });
    using ones = np.array([[1], [1]], { dtype: "int32" });
    using r2 = np.matmul(b, ones);
    expect(await values(r2)).toEqual([-2147483648]);

    using c = np.array([[46341, 46341]], { dtype: "int32" });
    using d = np.array([[46341], [-1]], { dtype: "int32" });
    using r3 = np.matmul(c, d);
    expect(await values(r3)).toEqual([(Math.imul(46341, 46341) - 46341) | 0]);
  });

  test("int32 9x13 · 13x5 with overflowing products against a wrapping reference", async () => {
    const a = randomInts(9 * 13, 11, -100000, 100000);
    const b = randomInts(13 * 5, 12, -100000, 100000);
    using x = make(a, [9, 13], "int32");
    using y = make(b, [13, 5], "int32");
    using r = np.matmul(x, y);
    expect(r.dtype).toBe("int32");
    const [want] = refMatmul(a, [9, 13], b, [13, 5], true);
    expect(await values(r)).toEqual(want);
  });

  test("int32 66x130 · 130x7 (exact; crosses cache blocks)", async () => {
    const a = randomInts(66 * 130, 13, -1000, 1000);
    const b = randomInts(130 * 7, 14, -1000, 1000);
    using x = make(a, [66, 130], "int32");
    using y = make(b, [130, 7], "int32");
    using r = np.matmul(x, y);
    const [want] = refMatmul(a, [66, 130], b, [130, 7], true);
    expect(await values(r)).toEqual(want);
  });

  test("uint32 matmul wraps modulo 2^32", async () => {
    using a = np.array([[4294967295, 2]], { dtype: "uint32" });
    using b = np.array([[2], [3]], { dtype: "uint32" });
    using r = np.matmul(a, b);
    expect(r.dtype).toBe("uint32");
    // (2^32 − 1)·2 + 6 = 2^33 + 4 ≡ 4.
    expect(await values(r)).toEqual([4]);
  });

  test("mixed dtypes promote: int32 @ float32 → float32", async () => {
    using a = np.array([[1, 2]], { dtype: "int32" });
    using b = np.array([[0.5], [0.25]]);
    using r = np.matmul(a, b);
    expect(r.dtype).toBe("float32");
    expect(await values(r)).toEqual([1]);
  });

  test("bool operands are a DTypeError", () => {
    using a = np.array([[true]]);
    expect(() => np.matmul(a, a)).toThrow(DTypeError);
  });
});

describe("matmul: errors", () => {
  test("contracting mismatch names both shapes", () => {
    using a = np.zeros([2, 3]);
    using b = np.zeros([4, 5]);
    expect(() => np.matmul(a, b)).toThrow(ShapeError);
    expect(() => np.matmul(a, b)).toThrow(/\[2,3\].*\[4,5\]/);
  });

  test("1-D mismatch names both shapes", () => {
    using a = np.zeros([3]);
    using b = np.zeros([4]);
    expect(() => np.matmul(a, b)).toThrow(ShapeError);
    expect(() => np.matmul(a, b)).toThrow(/\[3\].*\[4\]/);
  });

  test("0-d operands are rejected", () => {
    using s = np.array(2);
    using m = np.zeros([2, 2]);
    expect(() => np.matmul(s, m)).toThrow(ShapeError);
    expect(() => np.matmul(m, s)).toThrow(ShapeError);
  });

  test("incompatible batch dims are a ShapeError naming both operand shapes", () => {
    using a = np.zeros([2, 2, 3]);
    using b = np.zeros([3, 3, 2]);
    expect(() => np.matmul(a, b)).toThrow(ShapeError);
    expect(() => np.matmul(a, b)).toThrow(/\[2,2,3\].*\[3,3,2\]/);
  });
});

describe("dot (numpy semantics)", () => {
  test("2-D · 2-D is the matrix product", async () => {
    using a = np.array([
      [1, 2],
      [3, 4],
    ]);
    using b = np.array([
      [5, 6],
      [7, 8],
    ]);
    using r = np.dot(a, b);
    expect(await values(r)).toEqual([19, 22, 43, 50]);
    using m = a.dot(b);
    expect(await values(m)).toEqual([19, 22, 43, 50]);
  });

  test("1-D · 1-D is a 0-d inner product", async () => {
    using a = np.array([1, -2, 3]);
    using b = np.array([4, 5, 6]);
    using r = np.dot(a, b);
    expect(r.shape).toEqual([]);
    expect(await r.item()).toBe(12);
  });

  test("N-D · 1-D contracts the last axis", async () => {
    const a = randomFloats(2 * 3 * 4, 21);
    const v = randomFloats(4, 22);
    using x = make(a, [2, 3, 4]);
    using y = make(v, [4]);
    using r = np.dot(x, y);
    expect(r.shape).toEqual([2, 3]);
    const [want] = refDotGeneral(a, [2, 3, 4], v, [4], { contracting: [[2], [0]], batch: [[], []] });
    await expectClose(r, want, { rtol: 1e-5, atol: 1e-6 });
  });

  test("1-D · N-D contracts with the second-to-last axis", async () => {
    const v = randomFloats(3, 23);
    const b = randomFloats(2 * 3 * 4, 24);
    using x = make(v, [3]);
    using y = make(b, [2, 3, 4]);
    using r = np.dot(x, y);
    expect(r.shape).toEqual([2, 4]);
    const [want] = refDotGeneral(v, [3], b, [2, 3, 4], { contracting: [[0], [1]], batch: [[], []] });
    await expectClose(r, want, { rtol: 1e-5, atol: 1e-6 });
  });

  test("N-D · M-D: out[i,j,k] = Σ a[i,:]·b[j,:,k] (no batch broadcasting)", async () => {
    const a = randomFloats(2 * 3, 25);
    const b = randomFloats(4 * 3 * 5, 26);
    using x = make(a, [2, 3]);
    using y = make(b, [4, 3, 5]);
    using r = np.dot(x, y);
    expect(r.shape).toEqual([2, 4, 5]);
    const want: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 4; j++)
        for (let k = 0; k < 5; k++) {
          let acc = 0;
          for (let l = 0; l < 3; l++) acc += (a[i * 3 + l] as number) * (b[j * 15 + l * 5 + k] as number);
          want.push(acc);
        }
    await expectClose(r, want, { rtol: 1e-5, atol: 1e-6 });
  });

  test("a 0-d operand multiplies elementwise", async () => {
    using s = np.array(3);
    using m = np.array([
      [1, 2],
      [3, 4],
    ]);
    using r = np.dot(s, m);
    expect(r.shape).toEqual([2, 2]);
    expect(await values(r)).toEqual([3, 6, 9, 12]);
    using r2 = np.dot(m, s);
    expect(await values(r2)).toEqual([3, 6, 9, 12]);
  });

  test("int32 dot is exact", async () => {
    using a = np.array([100000, 3], { dtype: "int32" });
    using b = np.array([100000, -1], { dtype: "int32" });
    using r = np.dot(a, b);
    expect(r.dtype).toBe("int32");
    expect(await r.item()).toBe((Math.imul(100000, 100000) - 3) | 0);
  });

  test("mismatch is a ShapeError naming both shapes", () => {
    using a = np.zeros([2, 3]);
    using b = np.zeros([4, 5]);
    expect(() => np.dot(a, b)).toThrow(ShapeError);
    expect(() => np.dot(a, b)).toThrow(/\[2,3\].*\[4,5\]/);
    using v = np.zeros([5]);
    expect(() => np.dot(a, v)).toThrow(/\[2,3\].*\[5\]/);
  });
});

describe("lax.dotGeneral", () => {
  async function check(
    aShape: number[],
    bShape: number[],
    dims: Dims,
    outShape: number[],
    seed: number,
  ): Promise<void> {
    const a = randomFloats(sizeOf(aShape), seed);
    const b = randomFloats(sizeOf(bShape), seed + 1);
    using x = make(a, aShape);
    using y = make(b, bShape);
    using r = lax.dotGeneral(x, y, dims);
    const [want, shape] = refDotGeneral(a, aShape, b, bShape, dims);
    expect(shape).toEqual(outShape);
    expect(r.shape).toEqual(outShape);
    expect(r.dtype).toBe("float32");
    await expectClose(r, want, { rtol: 1e-5, atol: 1e-6 });
  }

  test("batch [0]/[0], contracting last/middle: a batched matmul", () =>
    check([2, 3, 4], [2, 4, 5], { batch: [[0], [0]], contracting: [[2], [1]] }, [2, 3, 5], 31));

  test("contracting the first dims: aᵀ·b", () =>
    check([4, 3], [4, 5], { batch: [[], []], contracting: [[0], [0]] }, [3, 5], 33));

  test("contracting the last dims: a·bᵀ", () =>
    check([3, 4], [5, 4], { batch: [[], []], contracting: [[1], [1]] }, [3, 5], 35));

  test("two contracting dims in crossed order", () =>
    check(
      [2, 3, 4],
      [3, 2, 5],
      {
        batch: [[], []],
        contracting: [
          [0, 1],
          [1, 0],
        ],
      },
      [4, 5],
      37,
    ));

  test("batch dims that are not leading come first in the output", () =>
    check([3, 2, 4], [4, 2, 5], { batch: [[1], [1]], contracting: [[2], [0]] }, [2, 3, 5], 39));

  test("two batch dims", () =>
    check(
      [2, 3, 4, 5],
      [3, 2, 5, 6],
      {
        batch: [
          [0, 1],
          [1, 0],
        ],
        contracting: [[3], [2]],
      },
      [2, 3, 4, 6],
      41,
    ));

  test("no contraction is an outer product", () =>
    check([2], [3], { batch: [[], []], contracting: [[], []] }, [2, 3], 43));

  test("hand-computed: contracting dim 0 of both", async () => {
    using a = np.array([
      [1, 2],
      [3, 4],
    ]);
    using b = np.array([
      [5, 6],
      [7, 8],
    ]);
    using r = lax.dotGeneral(a, b, { contracting: [[0], [0]], batch: [[], []] });
    // aᵀ·b = [[1·5+3·7, 1·6+3·8], [2·5+4·7, 2·6+4·8]]
    expect(await r.toArray()).toEqual([
      [26, 30],
      [38, 44],
    ]);
  });

  test("operands are promoted: int32 with float32 gives float32", async () => {
    using a = np.array([1, 2], { dtype: "int32" });
    using b = np.array([0.5, 0.25]);
    using r = lax.dotGeneral(a, b, { contracting: [[0], [0]], batch: [[], []] });
    expect(r.dtype).toBe("float32");
    expect(await r.item()).toBe(1);
  });

  test("a contracting size mismatch is a ShapeError naming both shapes", () => {
    using a = np.zeros([2, 3]);
    using b = np.zeros([4, 5]);
    const dims: Dims = { contracting: [[1], [0]], batch: [[], []] };
    expect(() => lax.dotGeneral(a, b, dims)).toThrow(ShapeError);
    expect(() => lax.dotGeneral(a, b, dims)).toThrow(/\[2,3\].*\[4,5\]/);
  });

  test("a batch size mismatch is a ShapeError naming both shapes", () => {
    using a = np.zeros([2, 3, 4]);
    using b = np.zeros([3, 4, 5]);
    const dims: Dims = { contracting: [[2], [1]], batch: [[0], [0]] };
    expect(() => lax.dotGeneral(a, b, dims)).toThrow(ShapeError);
    expect(() => lax.dotGeneral(a, b, dims)).toThrow(/\[2,3,4\].*\[3,4,5\]/);
  });

  test("invalid dimension numbers are ShapeErrors", () => {
    using a = np.zeros([2, 3]);
    using b = np.zeros([3, 2]);
    expect(() => lax.dotGeneral(a, b, { contracting: [[2], [0]], batch: [[], []] })).toThrow(ShapeError);
    expect(() => lax.dotGeneral(a, b, { contracting: [[1], [0, 1]], batch: [[], []] })).toThrow(ShapeError);
    expect(() =>
      lax.dotGeneral(a, b, {
        contracting: [
          [1, 1],
          [0, 0],
        ],
        batch: [[], []],
      }),
    ).toThrow(ShapeError);
    expect(() => lax.dotGeneral(a, b, { contracting: [[1], [0]], batch: [[1], [0]] })).toThrow(ShapeError);
  });
});
