/**
 * Gradients of the reductions, dot_general and the movement primitives (both checks), and of
 * fast-check-generated compositions of them.
 */
import { grad, type Array as JArray, lax, np } from "@webjax/core";
import { checkGrads, expectClose } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, test } from "vitest";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS ?? 25);

function seq(shape: number[], scale = 0.37, shift = -1.1): JArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(Array.from({ length: n }, (_, i) => Math.sin(i * scale + shift) * 1.5)).reshape(shape);
}

describe("reductions", () => {
  test.each([
    ["sum all", (x: JArray) => np.sum(x)],
    ["sum axis 1", (x: JArray) => np.sum(x, 1)],
    ["sum axes [0,2] keepdims", (x: JArray) => np.sum(x, { axis: [0, 2], keepdims: true })],
    ["mean axis 0", (x: JArray) => np.mean(x, 0)],
    ["prod axis 2", (x: JArray) => np.prod(x, 2)],
    ["prod axes [0,1]", (x: JArray) => np.prod(x, [0, 1])],
    ["max axis 1", (x: JArray) => np.max(x, 1)],
    ["min all", (x: JArray) => np.min(x)],
    ["var axis 2", (x: JArray) => np.var(x, 2)],
    ["logsumexp axis 1", (x: JArray) => np.logsumexp(x, 1)],
  ])("%s", async (_, f) => {
    await checkGrads(f, [seq([2, 3, 4])], { order: 2 });
  });

  test("prod with zeros: exact products of the others", async () => {
    const g = grad((x: JArray) => np.prod(x))(np.array([2, 0, 3, 4]));
    await expectClose(g, [0, 24, 0, 0]);
    const g2 = grad((x: JArray) => np.prod(x))(np.array([2, 0, 3, 0]));
    await expectClose(g2, [0, 0, 0, 0]);
    await checkGrads(
      (x) => np.prod(x, 1),
      [
        np.array([
          [2, 0, 3],
          [1, 2, 0.5],
        ]),
      ],
    );
  });

  test("max: ties share the gradient equally (JAX's rule)", async () => {
    const g = grad((x: JArray) => np.max(x))(np.array([1, 5, 5, 2, 5]));
    await expectClose(g, [0, 1 / 3, 1 / 3, 0, 1 / 3]);
  });
});

describe("dot_general", () => {
  test.each([
    ["matmul", [3, 4], [4, 5], (a: JArray, b: JArray) => np.matmul(a, b)],
    ["matrix·vector", [3, 4], [4], (a: JArray, b: JArray) => np.matmul(a, b)],
    ["vector·vector", [4], [4], (a: JArray, b: JArray) => np.dot(a, b)],
    ["batched matmul", [2, 3, 4], [2, 4, 5], (a: JArray, b: JArray) => np.matmul(a, b)],
    ["broadcast batch", [2, 3, 4], [4, 5], (a: JArray, b: JArray) => np.matmul(a, b)],
    [
      "contract two dims, batch in the middle",
      [3, 2, 4, 5],
      [5, 2, 3, 6],
      (a: JArray, b: JArray) =>
        lax.dotGeneral(a, b, {
          contracting: [
            [0, 3],
            [2, 0],
          ],
          batch: [[1], [1]],
        }),
    ],
    ["einsum outer-ish", [3, 4], [4, 2], (a: JArray, b: JArray) => np.einsum("ij,jk->ki", a, b)],
  ] as const)("%s", async (_, sa, sb, f) => {
    await checkGrads(f, [seq([...sa]), seq([...sb], 0.53, 0.4)], { order: 2 });
  });

  test("matmul gradients are the textbook products", async () => {
    const a = np.array([
      [1, 2],
      [3, 4],
    ]);
    const b = np.array([
      [5, 6],
      [7, 8],
    ]);
    const [ga, gb] = grad((x: JArray, y: JArray) => np.matmul(x, y).sum(), { argnums: [0, 1] })(a, b);
    // d/dA sum(AB) = 1·Bᵀ, d/dB = Aᵀ·1
    await expectClose(ga, [
      [11, 15],
      [11, 15],
    ]);
    await expectClose(gb, [
      [4, 4],
      [6, 6],
    ]);
  });
});

describe("movement", () => {
  test.each([
    ["reshape", (x: JArray) => x.reshape([4, 6])],
    ["transpose", (x: JArray) => x.transpose([2, 0, 1])],
    ["broadcast", (x: JArray) => np.broadcastTo(x.reshape([2, 3, 4, 1]), [2, 3, 4, 5])],
    ["expandDims and squeeze", (x: JArray) => np.squeeze(np.expandDims(x, [0, 2]), 0)],
    ["slice with steps", (x: JArray) => x.slice([null, null, -1], [0, 3, 2], [1, 4, 2])],
    ["slice with index", (x: JArray) => x.slice(1, null, [1, 3])],
    ["flip", (x: JArray) => np.flip(x, 1)],
    [
      "pad",
      (x: JArray) =>
        np.pad(x, [
          [1, 0],
          [0, 2],
          [1, 1],
        ]),
    ],
    ["size-1 broadcast", (x: JArray) => np.add(x.slice(null, [0, 1], null), np.zeros([2, 3, 4]))],
  ])("%s", async (_, f) => {
    await checkGrads(f, [seq([2, 3, 4])]);
  });

  test("slice's gradient scatters into zeros", async () => {
    const g = grad((x: JArray) =>
      x
        .slice([1, 6, 2])
        .mul(np.array([1, 2, 3]))
        .sum(),
    )(np.zeros([7]));
    await expectClose(g, [0, 1, 0, 2, 0, 3, 0]);
  });
});

describe("fast-check compositions", () => {
  const unary = [np.tanh, np.sin, (x: JArray) => np.square(x).mul(0.3), np.sigmoid, (x: JArray) => np.exp(x.mul(0.2))];
  const step = fc.oneof(
    fc.record({ kind: fc.constant("unary" as const), f: fc.nat(unary.length - 1) }),
    fc.record({ kind: fc.constant("transpose" as const) }),
    fc.record({ kind: fc.constant("sumkeep" as const), axis: fc.nat(1) }),
    fc.record({ kind: fc.constant("matmul" as const) }),
    fc.record({ kind: fc.constant("mulself" as const) }),
    fc.record({ kind: fc.constant("slicepad" as const) }),
  );

  test("random chains of ops pass both checks", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 1000 }),
        async (steps, seed) => {
          const w = seq([3, 3], 0.71, 0.2);
          const f = (x: JArray) => {
            let y = x;
            for (const s of steps) {
              if (s.kind === "unary") y = (unary[s.f] as (v: JArray) => JArray)(y);
              else if (s.kind === "transpose") y = y.transpose();
              else if (s.kind === "sumkeep") y = np.add(y, np.sum(y, { axis: s.axis, keepdims: true }).mul(0.1));
              else if (s.kind === "matmul") y = np.matmul(y, w.astype(y.dtype));
              else if (s.kind === "mulself") y = np.multiply(y, y.slice(null, [null, null, -1]));
              else
                y = np.pad(y.slice([1, 3], null), [
                  [1, 0],
                  [0, 0],
                ]);
            }
            return y;
          };
          await checkGrads(f, [seq([3, 3], 0.3 + seed / 1000)], { seed, fdTol: { rtol: 1e-5, atol: 1e-5 } });
        },
      ),
      { numRuns: RUNS },
    );
  });
});
