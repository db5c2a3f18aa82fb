/**
 * matmul against hand-computed values and the naive float64 (or wrapping int32) reference of
 * linalg-reference.ts: ranks and batch broadcasting, strided operands, sizes and dtypes, errors.
 */
import { DTypeError, np, ShapeError } from "@webjax/core";
import { expectClose, hasFloat64 } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { values } from "./helpers.js";
import { make, randomFloats, randomInts, refMatmul, rng, sizeOf } from "./linalg-reference.js";

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
    // Past the Wasm GEMM's NC (2048) columns and MC (96) rows.
    [3, 5, 2100],
    [200, 9, 11],
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
