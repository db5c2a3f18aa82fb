/**
 * np.linalg.solve, inv, det, slogdet (LU with partial pivoting) and triangularSolve: values
 * against NumPy/SciPy (fixtures/make_linalg.py), identities and a hand-built determinant past
 * one 32-column panel, numpy's b rules and broadcasting, singular input, input errors, and
 * gradients (checkGrads), vmap (checkVmap) and jit against eager.
 */
import { type DType, type Array as JArray, jit, np, ShapeError } from "@webjax/core";
import { checkGrads, checkVmap, expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { eyeLike, fixture, maxDiff, mT, precise, random, ref, tol } from "./fixtures.js";

const dtypes: DType[] = precise === "float32" ? ["float32"] : ["float32", precise];

describe("solve, inv, det, slogdet", () => {
  test.each(["pivot", "stack"])("%s: equal NumPy's (b as a vector and as matrices)", async (name) => {
    const c = `lu ${name}`;
    for (const dtype of dtypes) {
      const a = fixture(c, "a", dtype);
      const xv = np.linalg.solve(a, fixture(c, "bVector", dtype));
      expect(xv.shape).toEqual(fixture(c, "solveVector").shape);
      expect(xv.dtype).toBe(dtype);
      await expectClose(xv, ref(c, "solveVector"), tol(dtype));
      const xm = np.linalg.solve(a, fixture(c, "bMatrix", dtype));
      expect(xm.shape).toEqual(fixture(c, "solveMatrix").shape);
      await expectClose(xm, ref(c, "solveMatrix"), tol(dtype));
      await expectClose(np.linalg.inv(a), ref(c, "inv"), tol(dtype));
      await expectClose(np.linalg.det(a), ref(c, "det"), tol(dtype));
      const [sign, logabsdet] = np.linalg.slogdet(a);
      await expectClose(sign, ref(c, "sign"), { rtol: 0, atol: 0 });
      await expectClose(logabsdet, ref(c, "logabsdet"), tol(dtype));
    }
  });

  test("a singular matrix: det 0, slogdet (0, −Inf), as NumPy", async () => {
    const a = fixture("lu singular", "a");
    await expectClose(np.linalg.det(a), ref("lu singular", "det"), { rtol: 0, atol: 0 });
    const [sign, logabsdet] = np.linalg.slogdet(a);
    await expectClose(sign, [0], { rtol: 0, atol: 0 });
    await expectClose(logabsdet, [Number.NEGATIVE_INFINITY]);
    await expectClose(np.linalg.det(np.zeros([3, 3])), [0], { rtol: 0, atol: 0 });
  });

  test("past one panel: the determinant of P·L·U built by hand, and the solve/inv identities", async () => {
    // det(P L U) = sign(P) · Π diag(U): L unit lower, U upper, P the cyclic shift of 34 rows (sign −1),
    // which moves the pivot of the last rows into the first panel.
    const n = 34;
    const diag = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1.25 : -0.9));
    const l = np.tril(random([n, n], 1).mul(0.3), -1).add(np.eye(n));
    const u = np.triu(random([n, n], 2).mul(0.3), 1).add(np.diag(np.array(diag)));
    const a = np.roll(np.matmul(l, u), 1, 0);
    const want = -diag.reduce((p, d) => p * d, 1);
    await expectClose(np.linalg.det(a), [want], { rtol: 2e-4 });
    const [sign, logabsdet] = np.linalg.slogdet(a);
    await expectClose(sign, [Math.sign(want)], { rtol: 0, atol: 0 });
    await expectClose(logabsdet, [Math.log(Math.abs(want))], { rtol: 1e-4, atol: 1e-4 });
    const b = random([n, 3], 5);
    expect(await maxDiff(np.matmul(a, np.linalg.solve(a, b)), b), "A · solve(A, b) = b").toBeLessThan(1e-4);
    expect(await maxDiff(np.matmul(np.linalg.inv(a), a), eyeLike(a)), "inv(A) · A = I").toBeLessThan(1e-4);
  });

  test("batch dims broadcast between a and b; a 1-D b is one vector for every matrix (numpy 2)", async () => {
    const a = random([3, 3], 6, 3);
    const b = random([4, 3, 2], 7);
    const x = np.linalg.solve(a, b);
    expect(x.shape).toEqual([4, 3, 2]);
    expect(await maxDiff(np.matmul(a, x), b)).toBeLessThan(1e-5);
    const stack = random([2, 3, 3], 8, 3);
    const v = np.linalg.solve(stack, np.array([1, 2, 3]));
    expect(v.shape).toEqual([2, 3]);
    expect(await maxDiff(np.matmul(stack, v.reshape([2, 3, 1])).reshape([2, 3]), np.array([1, 2, 3]))).toBeLessThan(
      1e-5,
    );
  });

  test("bad input is an error naming the op, the shapes and what it needs", () => {
    const a = np.ones([3, 3]);
    expect(() => np.linalg.solve(np.ones([3, 2]), np.ones([3]))).toThrow(ShapeError);
    expect(() => np.linalg.solve(a, np.ones([4]))).toThrow(
      /linalg\.solve: a is float32\[3,3\], so b must be a vector \[3\] or matrices \[\.\.\., 3, K\]; got float32\[4\]/,
    );
    expect(() => np.linalg.solve(a, np.ones([2, 4, 1]))).toThrow(/got float32\[2,4,1\]/);
    expect(() => np.linalg.solve(a, 1)).toThrow(ShapeError);
    expect(() => np.linalg.solve(np.ones([2, 3, 3]), np.ones([4, 3, 1]))).toThrow(/do not broadcast/);
    expect(() => np.linalg.inv(np.ones([3]))).toThrow(/linalg\.inv: .*rank ≥ 2.*float32\[3\]/);
    expect(() => np.linalg.det(np.ones([2, 3]))).toThrow(/linalg\.det: a must be square/);
    expect(() => np.linalg.slogdet(np.ones([2, 3]))).toThrow(/linalg\.slogdet: a must be square/);
  });

  test("gradients of det, slogdet, solve and inv match finite differences", async () => {
    const a = random([3, 3], 9, 2);
    await checkGrads((x) => np.linalg.det(x), [a]);
    await checkGrads((x) => np.linalg.slogdet(x)[1], [a]);
    await checkGrads((x, y) => np.linalg.solve(x, y), [a, random([3, 2], 10)]);
    await checkGrads((x) => np.linalg.inv(x), [a]);
    // A matrix whose first pivot needs a row swap.
    await checkGrads((x) => np.linalg.det(x), [fixture("lu pivot", "a")]);
  });

  test("vmap of solve over a batch of matrices against one b, and of det over axis 1, equal the loop", async () => {
    await checkVmap((x, y) => np.linalg.solve(x, y), [random([4, 3, 3], 11, 3), random([3, 2], 12)], {
      inAxes: [0, null],
      rtol: 1e-5,
      atol: 1e-5,
    });
    await checkVmap((x) => np.linalg.det(x), [random([3, 5, 3], 13, 2)], { inAxes: [1], rtol: 1e-5, atol: 1e-5 });
  });

  test("jit equals eager", async () => {
    const a = random([2, 4, 4], 14, 2);
    const b = random([2, 4, 3], 15);
    const f = jit((x: JArray, y: JArray) => [np.linalg.solve(x, y), ...np.linalg.slogdet(x)]);
    const got = f(a, b);
    const want = [np.linalg.solve(a, b), ...np.linalg.slogdet(a)];
    for (let i = 0; i < 3; i++) await expectClose(got[i] as JArray, await (want[i] as JArray).data(), tol("float32"));
  });
});

describe("triangularSolve (lax.linalg.triangular_solve)", () => {
  const flags = [true, false].flatMap((lower) =>
    [false, true].flatMap((transposeA) => [false, true].map((unitDiagonal) => ({ lower, transposeA, unitDiagonal }))),
  );

  test.each(flags)(
    "lower $lower, transposeA $transposeA, unitDiagonal $unitDiagonal: both sides equal SciPy's",
    async (f) => {
      const key = `triangular lower=${Number(f.lower)} trans=${Number(f.transposeA)} unit=${Number(f.unitDiagonal)}`;
      for (const dtype of dtypes) {
        const a = fixture("triangular inputs", "a", dtype);
        const left = np.linalg.triangularSolve(a, fixture("triangular inputs", "bLeft", dtype), {
          ...f,
          leftSide: true,
        });
        await expectClose(left, ref(key, "left"), tol(dtype));
        // The default is lax's: the right side, x · op(a) = b.
        const right = np.linalg.triangularSolve(a, fixture("triangular inputs", "bRight", dtype), f);
        await expectClose(right, ref(key, "right"), tol(dtype));
      }
    },
  );

  test("past one panel, and batch dims broadcast", async () => {
    const l = np.tril(random([2, 34, 34], 16, 4));
    const b = random([34, 3], 17);
    const x = np.linalg.triangularSolve(l, b, { leftSide: true, lower: true });
    expect(x.shape).toEqual([2, 34, 3]);
    expect(await maxDiff(np.matmul(l, x), b)).toBeLessThan(1e-5);
    const u = mT(l);
    const y = np.linalg.triangularSolve(u, mT(b), { transposeA: true });
    expect(await maxDiff(np.matmul(y, mT(u)), mT(b))).toBeLessThan(1e-5);
  });

  test("bad input is an error naming the op, the shapes and what it needs", () => {
    expect(() => np.linalg.triangularSolve(np.ones([3, 3]), np.ones([3, 2]))).toThrow(
      /linalg\.triangularSolve: a is float32\[3,3\], so b must be \[\.\.\., N, 3\] with leftSide false, got float32\[3,2\]/,
    );
    expect(() => np.linalg.triangularSolve(np.ones([3, 2]), np.ones([3, 2]), { leftSide: true })).toThrow(ShapeError);
    expect(() => np.linalg.triangularSolve(np.ones([3, 3]), np.ones([3]), { leftSide: true })).toThrow(/b must be/);
    expect(() => np.linalg.triangularSolve(np.ones([3, 3]), np.ones([3, 1]), { left: true } as never)).toThrow(
      /leftSide/,
    );
  });

  test("its gradient matches finite differences in a and b", async () => {
    const a = random([3, 3], 18, 2);
    await checkGrads(
      (x, y) => np.linalg.triangularSolve(x, y, { leftSide: true, lower: true }),
      [a, random([3, 2], 19)],
    );
    await checkGrads((x, y) => np.linalg.triangularSolve(x, y, { transposeA: true }), [a, random([2, 3], 20)]);
  });
});
