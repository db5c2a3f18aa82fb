/**
 * Property tests of movement ops (views): random chains of reshape (incl. -1), transpose,
 * slice, broadcastTo, expandDims, squeeze and .T, applied both to a webjax array and to the naive
 * reference ndarray of views-reference.ts. After each chain the values are compared, then an
 * elementwise op, a binary op of two views and reductions run on the view (kernels must read
 * strided, reversed and stride-0 views), and matmul of the view with its own transpose is compared
 * with a naive loop. Also: views outlive and never alias their sources, nothing leaks, and invalid
 * movement ops raise ShapeError.
 */
import { type Array, checkLeaks, np, ShapeError, type SliceIndex } from "@webjax/core";
import { expectClose, refReduce } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { expectExact, fmt, makeArray, size, storeAs, withArrays } from "./helpers.js";
import {
  applyArray,
  applyRef,
  Choices,
  chainArb,
  describeOp,
  makeOp,
  nested,
  Ref,
  RUNS,
  runChain,
  startArb,
  stepArb,
  TIMEOUT,
  type ViewOp,
} from "./views-reference.js";

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
