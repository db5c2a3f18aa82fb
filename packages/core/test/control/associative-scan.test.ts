/**
 * lax.associativeScan (issue 24): values against left-to-right JS loops (sums, a
 * non-commutative 2×2 matrix product, a linear recurrence over a pytree on axis 1), forwards and
 * reversed, at a length where a quadratic would show; gradients both ways; vmap against a loop;
 * jit against eager; the jaxpr type checker after grad; errors that name the mismatch.
 */
import { grad, type Array as JArray, jit, lax, makeJaxpr, np } from "@webjax/core";
import { checkJaxpr } from "@webjax/core/internal";
import { checkGrads, checkVmap, expectClose, rng } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

/** The values, −0 read as 0 (toEqual tells them apart). */
const values = async (x: JArray) => Array.from(await x.data(), (v) => Number(v) + 0);
const add = (a: JArray, b: JArray) => a.add(b);

/** 2×2 matrices, row-major, multiplied left to right. */
const mm = (a: number[], b: number[]) => [
  (a[0] as number) * (b[0] as number) + (a[1] as number) * (b[2] as number),
  (a[0] as number) * (b[1] as number) + (a[1] as number) * (b[3] as number),
  (a[2] as number) * (b[0] as number) + (a[3] as number) * (b[2] as number),
  (a[2] as number) * (b[1] as number) + (a[3] as number) * (b[3] as number),
];

/** The linear recurrence h_t = a_t·h_{t−1} + b_t as an associative operator on (a, b) pairs. */
const affine = (l: { a: JArray; b: JArray }, r: { a: JArray; b: JArray }) => ({
  a: l.a.mul(r.a),
  b: r.a.mul(l.b).add(r.b),
});

describe("lax.associativeScan", () => {
  test("prefix sums at every small length, forwards and reversed, equal a loop", async () => {
    for (let n = 1; n <= 9; n++) {
      const xs = Array.from({ length: n }, (_, i) => (i * 7) % 5) as number[];
      const prefix = xs.map((_, i) => xs.slice(0, i + 1).reduce((s, v) => s + v, 0));
      const suffix = xs.map((_, i) => xs.slice(i).reduce((s, v) => s + v, 0));
      expect(await values(lax.associativeScan(add, np.array(xs)))).toEqual(prefix);
      expect(await values(lax.associativeScan(add, np.array(xs), { reverse: true }))).toEqual(suffix);
    }
  });

  test("a non-commutative product: prefixes forwards; reversed, the reversed sequence's prefixes (as JAX)", async () => {
    const next = rng(3);
    const n = 11;
    const ms = Array.from({ length: n }, () => Array.from({ length: 4 }, () => Math.round(next() * 4 - 2) + 0));
    const x = np.array(Float32Array.from(ms.flat()), { shape: [n, 2, 2] });
    const matmul = (a: JArray, b: JArray) => np.matmul(a, b);
    const fwd = ms.map((_, i) => ms.slice(1, i + 1).reduce(mm, ms[0] as number[]));
    // JAX's reverse: the reversed sequence scanned, fn(fn(x[n−1], x[n−2]), …, x[i]).
    const bwd = ms.map((_, i) => ms.slice(i, n - 1).reduceRight((acc, m) => mm(acc, m), ms[n - 1] as number[]));
    expect(await values(lax.associativeScan(matmul, x))).toEqual(fwd.flat().map((v) => v + 0));
    expect(await values(lax.associativeScan(matmul, x, { reverse: true }))).toEqual(bwd.flat().map((v) => v + 0));
  });

  test("a linear recurrence over a pytree along axis 1 equals the recurrence run in a loop", async () => {
    const next = rng(5);
    const rows = 3;
    const n = 10;
    const a = Array.from({ length: rows * n }, () => 0.5 + next());
    const b = Array.from({ length: rows * n }, () => next() - 0.5);
    const out = lax.associativeScan(
      affine,
      {
        a: np.array(Float32Array.from(a), { shape: [rows, n] }),
        b: np.array(Float32Array.from(b), { shape: [rows, n] }),
      },
      { axis: -1 },
    );
    const want: number[] = [];
    for (let r = 0; r < rows; r++) {
      let h = 0;
      for (let t = 0; t < n; t++) {
        h = (a[r * n + t] as number) * h + (b[r * n + t] as number);
        want.push(h);
      }
    }
    await expectClose(out.b, want, { rtol: 1e-5, atol: 1e-6 });
  });

  test("10,000 elements: the exact integer prefix sums, in O(log n) rounds", async () => {
    const n = 10_000;
    const xs = Int32Array.from({ length: n }, (_, i) => (i * 31) % 17);
    const got = await values(lax.associativeScan(add, np.array(xs)));
    let s = 0;
    const want = Array.from(xs, (v) => (s += v));
    expect(got).toEqual(want);
    // The program is O(log n) rounds, not n steps.
    const eqns = makeJaxpr((x: JArray) => lax.associativeScan(add, x))(np.array(xs)).jaxpr.eqns.length;
    expect(eqns).toBeLessThan(14 * 12);
  });

  test("gradients of a recurrence through the scan, both ways; the jaxpr checks after grad", async () => {
    const n = 7;
    const next = rng(9);
    const a = np.array(Array.from({ length: n }, () => 0.5 + next()));
    const b = np.array(Array.from({ length: n }, () => next() - 0.5));
    const w = np.array(Array.from({ length: n }, () => next()));
    const f = (a: JArray, b: JArray) => lax.associativeScan(affine, { a, b }).b.mul(w).sum();
    await checkGrads(f, [a, b]);
    // Against the loop: dL/db_t = Σ_{s ≥ t} w_s Π_{t < k ≤ s} a_k.
    const av = await values(a);
    const wv = await values(w);
    const want = av.map((_, t) => {
      let acc = 0;
      let prod = 1;
      for (let s = t; s < n; s++) {
        if (s > t) prod *= av[s] as number;
        acc += (wv[s] as number) * prod;
      }
      return acc;
    });
    await expectClose(grad(f, { argnums: 1 })(a, b), want, { rtol: 1e-5, atol: 1e-6 });
    checkJaxpr(makeJaxpr(grad(f, { argnums: [0, 1] }))(a, b), "grad of an associative scan");
  });

  test("vmap against a loop; jit against eager", async () => {
    const next = rng(11);
    const x = np.array(
      Float32Array.from({ length: 4 * 6 }, () => next() * 2 - 1),
      { shape: [4, 6] },
    );
    const cumMax = (v: JArray) => lax.associativeScan((p: JArray, q: JArray) => np.maximum(p, q), v);
    await checkVmap(cumMax, [x], { inAxes: [0] });
    await checkVmap(cumMax, [x], { inAxes: [1] });
    const f = (v: JArray) => lax.associativeScan(add, v.mul(2), { reverse: true, axis: 1 });
    await expectClose(jit(f)(x), await f(x).toArray(), { rtol: 1e-6, atol: 1e-6 });
  });

  test("errors name the mismatch", () => {
    expect(() => lax.associativeScan(affine, { a: np.ones([4]), b: np.ones([5]) })).toThrow(
      /lax\.associativeScan: elems leaf 1 is float32\[5\].*length 4 along axis 0/,
    );
    expect(() => lax.associativeScan((p: JArray) => p.sum(), np.ones([4]))).toThrow(
      /lax\.associativeScan: fn got leaf 0 as float32\[2\] but returned float32\[\]/,
    );
    expect(() => lax.associativeScan(((p: JArray) => [p]) as never, np.ones([4]))).toThrow(
      /lax\.associativeScan: fn returns a pytree of structure/,
    );
    expect(() => lax.associativeScan(add, np.array(3))).toThrow(/lax\.associativeScan: elems leaf 0 is a scalar/);
    expect(() => lax.associativeScan(add, np.ones([3]), { axis: 1 })).toThrow(/lax\.associativeScan/);
  });
});
