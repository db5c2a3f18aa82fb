/**
 * np.linalg.qr and np.linalg.cholesky: values against NumPy (fixtures/make_linalg.py), the
 * defining identities at sizes past one 32-column panel and at 128×128, numpy's edge cases
 * (already-reduced columns, rank deficiency, non-positive-definite input → NaN), input errors,
 * and gradients (checkGrads), vmap (checkVmap) and jit against eager.
 */
import { checkLeaks, type DType, DTypeError, grad, type Array as JArray, jit, np, ShapeError } from "@webjax/core";
import { checkGrads, checkVmap, expectClose, testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { eyeLike, fixture, maxDiff, mT, precise, random, ref, spd, tol } from "./fixtures.js";

const dtypes: DType[] = precise === "float32" ? ["float32"] : ["float32", precise];

/** QᵀQ = I, Q R = A and R upper triangular (exactly zero below the diagonal). */
async function expectQr(a: JArray, q: JArray, r: JArray, orthTol = 1e-5): Promise<void> {
  expect(await maxDiff(np.matmul(mT(q), q), eyeLike(np.matmul(mT(q), q))), "QᵀQ = I").toBeLessThan(orthTol);
  expect(await maxDiff(np.matmul(q, r), a), "QR = A").toBeLessThan(1e-5 * Math.max(1, a.shape.at(-1) as number));
  expect(await np.max(np.abs(np.tril(r, -1))).item(), "R upper triangular").toBe(0);
}

describe("qr", () => {
  test.each(["tall", "wide", "square", "stack"])("%s: Q and R equal NumPy's in every mode", async (name) => {
    const c = `qr ${name}`;
    for (const dtype of dtypes) {
      const a = fixture(c, "a", dtype);
      const [q, r] = np.linalg.qr(a);
      expect([q.dtype, r.dtype]).toEqual([dtype, dtype]);
      expect(q.shape).toEqual(fixture(c, "q").shape);
      await expectClose(q, ref(c, "q"), tol(dtype));
      await expectClose(r, ref(c, "r"), tol(dtype));
      const [qc, rc] = np.linalg.qr(a, { mode: "complete" });
      expect([qc.shape, rc.shape]).toEqual([fixture(c, "qComplete").shape, fixture(c, "rComplete").shape]);
      await expectClose(qc, ref(c, "qComplete"), tol(dtype));
      await expectClose(rc, ref(c, "rComplete"), tol(dtype));
      const rOnly = np.linalg.qr(a, { mode: "r" });
      await expectClose(rOnly, ref(c, "rOnly"), tol(dtype));
    }
  });

  test("past one panel (tall, wide, complete): orthonormal Q, QR = A, triangular R", async () => {
    for (const shape of [
      [40, 34],
      [34, 40],
    ]) {
      const a = random(shape, shape.length * 7 + (shape[0] as number));
      const [q, r] = np.linalg.qr(a);
      const k = Math.min(...shape.slice(-2));
      expect(q.shape).toEqual([...shape.slice(0, -1), k]);
      expect(r.shape).toEqual([...shape.slice(0, -2), k, shape.at(-1) as number]);
      await expectQr(a, q, r);
    }
    const a = random([40, 34], 3);
    const [q, r] = np.linalg.qr(a, { mode: "complete" });
    expect([q.shape, r.shape]).toEqual([
      [40, 40],
      [40, 34],
    ]);
    await expectQr(a, q, r);
  });

  // 128×128 on the CPU (four panels; O(n³) work, well under a second); 64×64 on WebGPU, where
  // SwiftShader runs each of the loop's dispatches on the CPU.
  const big = testBackend === "cpu" ? 128 : 64;
  test(`a ${big}×${big} matrix factors correctly`, async () => {
    const a = random([big, big], 11);
    const [q, r] = np.linalg.qr(a);
    await expectQr(a, q, r, 2e-5);
  });

  test("a column already zero below the diagonal is left alone (numpy's Q = I, R = A for triangular input)", async () => {
    const a = np.array([
      [2, -1, 3],
      [0, 4, 1],
      [0, 0, -5],
    ]);
    const [q, r] = np.linalg.qr(a);
    await expectClose(q, await np.eye(3).data(), { atol: 0, rtol: 0 });
    await expectClose(r, await a.data(), { atol: 0, rtol: 0 });
    // Rank-deficient: the second column vanishes after the first reflection; no NaN, R[1,1] = 0.
    const s = np.array([
      [1, 2],
      [1, 2],
    ]);
    const [qs, rs] = np.linalg.qr(s);
    await expectQr(s, qs, rs);
    expect(Math.abs(await rs.slice(1, 1).item())).toBeLessThan(1e-6);
  });

  test("column norms are scaled: entries whose squares overflow or underflow float32 still factor", async () => {
    for (const big of [1e30, 1e-30]) {
      const r = np.linalg.qr(
        np.array([
          [big, 1],
          [big, 2],
        ]),
        { mode: "r" },
      );
      // R = [[−√2·big, −3/√2], [0, 1/√2]] (numpy's signs).
      await expectClose(r, [-Math.SQRT2 * big, -3 / Math.SQRT2, 0, 1 / Math.SQRT2], { rtol: 1e-6, atol: 0 });
    }
  });

  test("integers become float32; an empty matrix gives empty factors", async () => {
    const [q, r] = np.linalg.qr(
      np.array(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: "int32" },
      ),
    );
    expect([q.dtype, r.dtype]).toEqual(["float32", "float32"]);
    const [qe, re] = np.linalg.qr(np.zeros([3, 0]));
    expect([qe.shape, re.shape]).toEqual([
      [3, 0],
      [0, 0],
    ]);
    const [qf, rf] = np.linalg.qr(np.zeros([3, 0]), { mode: "complete" });
    expect([qf.shape, rf.shape]).toEqual([
      [3, 3],
      [3, 0],
    ]);
    await expectClose(qf, await np.eye(3).data());
  });

  test("bad input is an error naming the op, the shape and what it needs", () => {
    expect(() => np.linalg.qr(np.ones([3]))).toThrow(ShapeError);
    expect(() => np.linalg.qr(np.ones([3]))).toThrow(/linalg\.qr: a must be a matrix .*rank ≥ 2.*float32\[3\]/);
    expect(() => np.linalg.qr(np.ones([2, 2]), { mode: "full" as "r" })).toThrow(/linalg\.qr: mode must be/);
    expect(() => np.linalg.qr(np.ones([2, 2], { dtype: "float16" }))).toThrow(DTypeError);
    expect(() => np.linalg.qr(np.ones([2, 2]), { modes: "r" } as never)).toThrow(/mode/);
  });

  test("gradients of R, of Q, and of a wide matrix's factors match finite differences", async () => {
    await checkGrads((x) => np.linalg.qr(x, { mode: "r" }), [random([4, 3], 5)]);
    await checkGrads((x) => np.linalg.qr(x)[0], [random([3, 3], 6)]);
    await checkGrads(
      (x) => {
        const [q, r] = np.linalg.qr(x);
        return np.sum(np.matmul(q, np.square(r)));
      },
      [random([2, 4], 7)],
    );
  });

  test("jit equals eager on a stack", async () => {
    const a = random([2, 6, 4], 8);
    const f = jit((x: JArray) => np.linalg.qr(x, { mode: "complete" }));
    const [qj, rj] = f(a);
    const [q, r] = np.linalg.qr(a, { mode: "complete" });
    await expectClose(qj, await q.data(), { rtol: 1e-5, atol: 1e-5 });
    await expectClose(rj, await r.data(), { rtol: 1e-5, atol: 1e-5 });
  });
});

describe("cholesky", () => {
  test.each(["4x4", "stack"])("%s: L equals NumPy's", async (name) => {
    for (const dtype of dtypes) {
      const l = np.linalg.cholesky(fixture(`cholesky ${name}`, "a", dtype));
      expect(l.dtype).toBe(dtype);
      await expectClose(l, ref(`cholesky ${name}`, "l"), tol(dtype));
    }
  });

  test("past one panel: L Lᵀ = A with L exactly lower triangular", async () => {
    const a = spd([34, 34], 2);
    const l = np.linalg.cholesky(a);
    expect(await maxDiff(np.matmul(l, mT(l)), a)).toBeLessThan(2e-5);
    expect(await np.max(np.abs(np.triu(l, 1))).item()).toBe(0);
  });

  test("a matrix that is not positive definite gives NaNs; the others of its stack are unaffected", async () => {
    const bad = np.array([
      [1, 2],
      [2, 1],
    ]);
    await expectClose(np.linalg.cholesky(bad), [Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
    const semi = np.array([
      [1, 1],
      [1, 1],
    ]);
    await expectClose(np.linalg.cholesky(semi), [Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
    const stack = np.stack([
      np.array([
        [4, 2],
        [2, 5],
      ]),
      bad,
    ]);
    // [[4, 2], [2, 5]] = L Lᵀ with L = [[2, 0], [1, 2]].
    await expectClose(np.linalg.cholesky(stack), [2, 0, 1, 2, Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
  });

  test("bad input is an error naming the op, the shape and what it needs", () => {
    expect(() => np.linalg.cholesky(np.ones([2, 3]))).toThrow(ShapeError);
    expect(() => np.linalg.cholesky(np.ones([4, 2, 3]))).toThrow(
      /linalg\.cholesky: a must be square matrices \[\.\.\., M, M\], got float32\[4,2,3\]/,
    );
    expect(() => np.linalg.cholesky(5)).toThrow(/linalg\.cholesky: .*rank ≥ 2/);
  });

  test("its gradient matches finite differences (a symmetrised input), also past one panel", async () => {
    await checkGrads((x) => np.linalg.cholesky(x), [spd([4, 4], 9)]);
    // 34 columns: the panel loop, the trailing update and the joins of the blocked form.
    await checkGrads((x) => np.linalg.cholesky(x), [spd([34, 34], 1)], { identityRtol: 1e-4 });
  });

  test("vmap over a trailing batch axis equals the loop", async () => {
    const a = np.moveaxis(spd([3, 4, 4], 10), 0, 2);
    await checkVmap((x) => np.linalg.cholesky(x), [a], { inAxes: [2], rtol: 1e-5, atol: 1e-5 });
  });
});

test("the factorisations release every temporary (eagerly, and under grad)", async () => {
  const a = random([5, 5], 21, 3);
  const s = spd([5, 5], 22);
  const report = await checkLeaks(() => {
    for (const x of [...np.linalg.qr(a), np.linalg.cholesky(s), np.linalg.solve(a, a), np.linalg.inv(a)]) x.dispose();
    for (const x of np.linalg.slogdet(a)) x.dispose();
    np.linalg.det(a).dispose();
    np.linalg.triangularSolve(a, a, { lower: true }).dispose();
    grad((x: JArray) => np.sum(np.linalg.qr(x, { mode: "r" })))(a).dispose();
  });
  expect(report.details).toEqual([]);
});
