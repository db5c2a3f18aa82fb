/**
 * dot (numpy semantics) and lax.dotGeneral against hand-computed values and the naive float64
 * reference of linalg-reference.ts.
 */
import { lax, np, ShapeError } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { values } from "./helpers.js";
import { type Dims, make, randomFloats, refDotGeneral, sizeOf } from "./linalg-reference.js";

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
