/**
 * gather and scatter with JAX's batching dims (operandBatchingDims / startIndicesBatchingDims /
 * scatterIndicesBatchingDims): each batch position reads or writes its own slice of the
 * operand. Checked against naive loops (fast-check), with the batch dim leading and inner, the
 * shape errors, and gradients both ways.
 */
import { type Array as JArray, lax, np, ShapeError } from "@webjax/core";
import { checkGrads, rng } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS ?? 40);
const int32 = (v: number[], shape: number[]) => np.array(Int32Array.from(v), { shape });
const f32 = (v: number[], shape: number[]) => np.array(Float32Array.from(v), { shape });

describe("gather with batching dims", () => {
  test("per-row gathers: out[b, k, f] = x[b, idx[b, k], f] (batch dim leading)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer(),
        async (B, N, K, F, seed) => {
          const r = rng(seed);
          const xs = Array.from({ length: B * N * F }, () => Math.round(r() * 100));
          const idx = Array.from({ length: B * K }, () => Math.floor(r() * (N + 4)) - 2); // some clamped
          using x = f32(xs, [B, N, F]);
          using i = int32(idx, [B, K, 1]);
          using y = lax.gather(
            x,
            i,
            {
              offsetDims: [2],
              collapsedSliceDims: [1],
              startIndexMap: [1],
              operandBatchingDims: [0],
              startIndicesBatchingDims: [0],
            },
            [1, 1, F],
          );
          expect(y.shape).toEqual([B, K, F]);
          const want: number[] = [];
          for (let b = 0; b < B; b++)
            for (let k = 0; k < K; k++) {
              const n = Math.min(Math.max(idx[b * K + k] as number, 0), N - 1); // "clip"
              for (let f = 0; f < F; f++) want.push(xs[(b * N + n) * F + f] as number);
            }
          expect(Array.from(await y.data())).toEqual(want);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("an inner batching dim: x [N, B], indices [K, B, 1], fill mode", async () => {
    using x = np.arange(12).reshape([4, 3]); // N = 4, B = 3
    using i = int32([0, 3, 9, 2, 1, 0], [2, 3, 1]);
    using y = lax.gather(
      x,
      i,
      {
        offsetDims: [],
        collapsedSliceDims: [0],
        startIndexMap: [0],
        operandBatchingDims: [1],
        startIndicesBatchingDims: [1],
      },
      [1, 1],
      { mode: "fill", fillValue: -1 },
    );
    // out[k, b] = x[idx[k, b], b]; 9 is out of range → the fill value.
    expect(await y.toArray()).toEqual([
      [0, 10, -1],
      [6, 4, 2],
    ]);
  });

  test("mismatched or overlapping batching dims are ShapeErrors naming the dims", () => {
    using x = np.zeros([3, 4]);
    using i = int32([0, 0], [2, 1]);
    const dims = { offsetDims: [], collapsedSliceDims: [1], startIndexMap: [1] };
    expect(() =>
      lax.gather(x, i, { ...dims, operandBatchingDims: [0], startIndicesBatchingDims: [0] }, [1, 1]),
    ).toThrow(/batching dims differ in size: operand dim 0 \(3\) and index dim 0 \(2\)/);
    expect(() =>
      lax.gather(x, i, { ...dims, operandBatchingDims: [1], startIndicesBatchingDims: [0] }, [1, 1]),
    ).toThrow(ShapeError);
    expect(() => lax.gather(x, i, { ...dims, operandBatchingDims: [0] }, [1, 1])).toThrow(/pair up one to one/);
  });
});

describe("scatter with batching dims", () => {
  test("per-row scatter-add: out[b, idx[b, k]] += u[b, k], out-of-range dropped", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer(),
        async (B, N, K, seed) => {
          const r = rng(seed);
          const base = Array.from({ length: B * N }, () => Math.round(r() * 10));
          const idx = Array.from({ length: B * K }, () => Math.floor(r() * (N + 4)) - 2);
          const upd = Array.from({ length: B * K }, () => Math.round(r() * 10));
          using x = f32(base, [B, N]);
          using i = int32(idx, [B, K, 1]);
          using u = f32(upd, [B, K]);
          const dims = {
            updateWindowDims: [],
            insertedWindowDims: [1],
            scatterDimsToOperandDims: [1],
            operandBatchingDims: [0],
            scatterIndicesBatchingDims: [0],
          };
          using y = lax.scatterAdd(x, i, u, dims);
          using s = lax.scatter(x, i, u, dims);
          const add = [...base];
          const set = [...base];
          for (let b = 0; b < B; b++)
            for (let k = 0; k < K; k++) {
              const n = idx[b * K + k] as number;
              if (n < 0 || n >= N) continue;
              add[b * N + n] = (add[b * N + n] as number) + (upd[b * K + k] as number);
              set[b * N + n] = upd[b * K + k] as number;
            }
          expect(Array.from(await y.data())).toEqual(add);
          expect(Array.from(await s.data())).toEqual(set);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("a batched window scatter: x [N, B, F] with rows of F written per batch", async () => {
    using x = np.zeros([3, 2, 2]);
    using i = int32([2, 0, 2, 1], [2, 2, 1]); // [K = 2, B = 2, 1]
    using u = f32([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]); // [K, B, F]
    using y = lax.scatterAdd(x, i, u, {
      updateWindowDims: [2],
      insertedWindowDims: [0],
      scatterDimsToOperandDims: [0],
      operandBatchingDims: [1],
      scatterIndicesBatchingDims: [1],
    });
    // (k, b) → x[idx[k, b], b, :] += u[k, b, :]
    expect(await y.toArray()).toEqual([
      [
        [0, 0],
        [3, 4],
      ],
      [
        [0, 0],
        [7, 8],
      ],
      [
        [6, 8],
        [0, 0],
      ],
    ]);
  });

  test("gather and scatter with batching dims pass both gradient checks", async () => {
    const r = rng(3);
    const idx = int32([0, 2, 2, 1, 0, 0], [2, 3, 1]);
    const gatherDims = {
      offsetDims: [2],
      collapsedSliceDims: [1],
      startIndexMap: [1],
      operandBatchingDims: [0],
      startIndicesBatchingDims: [0],
    };
    const x = np.array(
      Float32Array.from({ length: 2 * 3 * 2 }, () => r() - 0.5),
      { shape: [2, 3, 2] },
    );
    await checkGrads((v: JArray) => lax.gather(v, idx, gatherDims, [1, 1, 2]), [x], { order: 2 });
    const scatterDims = {
      updateWindowDims: [2],
      insertedWindowDims: [1],
      scatterDimsToOperandDims: [1],
      operandBatchingDims: [0],
      scatterIndicesBatchingDims: [0],
    };
    const u = np.array(
      Float32Array.from({ length: 2 * 3 * 2 }, () => r() - 0.5),
      { shape: [2, 3, 2] },
    );
    for (const f of [lax.scatterAdd, lax.scatter, lax.scatterMul]) {
      await checkGrads((a: JArray, b: JArray) => f(a, idx, b, scatterDims), [x, u], { order: 2 });
    }
  });
});
