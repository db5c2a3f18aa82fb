/**
 * The autodiff transforms' API: pytrees in and out, argnums and hasAux, higher order, linearize,
 * errors at trace time, composition with fp-ts' pipe, and the TypeScript types they carry.
 */
import {
  type Cotangent,
  grad,
  type Array as JArray,
  jvp,
  linearize,
  np,
  ShapeError,
  TracerError,
  valueAndGrad,
  vjp,
} from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { flow, pipe } from "fp-ts/function";
import { describe, expect, expectTypeOf, test } from "vitest";

describe("jvp and linearize", () => {
  test("jvp over pytrees: object in, tuple out", async () => {
    const f = (p: { a: JArray; b: JArray }) => [np.sin(p.a).mul(p.b), p.b.sum()] as const;
    const [out, t] = jvp(
      f,
      [{ a: np.array([0, 1]), b: np.array([2, 3]) }],
      [{ a: np.array([1, 0]), b: np.array([0, 1]) }],
    );
    await expectClose(out[0], [0, 3 * Math.sin(1)]);
    // d(sin a · b) = cos a · b · da + sin a · db
    await expectClose(t[0], [2, Math.sin(1)], { rtol: 1e-6 });
    await expectClose(t[1], 1);
  });

  test("an output that does not depend on the input has a zero tangent", async () => {
    const [, t] = jvp((_x: JArray) => np.ones([2]), [np.array(3)], [np.array(1)]);
    await expectClose(t, [0, 0]);
  });

  test("linearize evaluates the same linear map as jvp, many times, until disposed", async () => {
    const f = (x: JArray) => np.exp(x).mul(np.sin(x));
    const x = np.array([0.5, -1, 2]);
    const [y, fJvp] = linearize(f, [x]);
    await expectClose(
      y,
      [0.5, -1, 2].map((v) => Math.exp(v) * Math.sin(v)),
      { rtol: 1e-6 },
    );
    for (const v of [
      [1, 0, 0],
      [0.5, 2, -1],
    ]) {
      const [, t] = jvp(f, [x], [np.array(v)]);
      await expectClose(fJvp(np.array(v)), await t.data(), { rtol: 1e-6 });
    }
    fJvp.dispose();
    expect(() => fJvp(np.ones([3]))).toThrow(/disposed/);
  });

  test("jvp rejects tangents that do not match the primals", () => {
    expect(() => jvp(np.sin, [np.ones([3])], [np.ones([2])])).toThrow(ShapeError);
    expect(() =>
      jvp((a: JArray, b: JArray) => a.add(b), [np.ones([2]), np.ones([2])], [np.ones([2])] as never),
    ).toThrow(/tangents differ from primals/);
  });
});

describe("vjp", () => {
  test("vjp of a pytree function returns one cotangent per argument", async () => {
    const f = (w: { k: JArray }, x: JArray) => ({ y: np.matmul(x, w.k), s: x.sum() });
    const [out, vjpFn] = vjp(f, [
      {
        k: np.array([
          [1, 2],
          [3, 4],
        ]),
      },
      np.array([[1, 1]]),
    ]);
    await expectClose(out.y, [[4, 6]]);
    const [gw, gx] = vjpFn({ y: np.array([[1, 0]]), s: np.array(2) });
    await expectClose(gw.k, [
      [1, 0],
      [1, 0],
    ]);
    // d/dx: y-part [1,0]·kᵀ = [1,3], s-part 2 each
    await expectClose(gx, [[3, 5]]);
  });

  test("hasAux returns aux untouched; integer inputs get zero cotangents", async () => {
    const [out, vjpFn, aux] = vjp(
      (x: JArray, n: JArray) => [x.mul(n.astype("float32")), { count: n.add(1) }] as const,
      [np.array([1, 2]), np.array([3, 4], { dtype: "int32" })],
      { hasAux: true },
    );
    await expectClose(out, [3, 8]);
    await expectClose(aux.count, [4, 5]);
    const [gx, gn] = vjpFn(np.ones([2]));
    await expectClose(gx, [3, 4]);
    expect(gn.dtype).toBe("int32");
    await expectClose(gn, [0, 0]);
  });

  test("a cotangent of the wrong shape is an error naming both", () => {
    const [, vjpFn] = vjp(np.sin, [np.ones([3])]);
    expect(() => vjpFn(np.ones([4]))).toThrow(/cotangent leaf 0 is float32\[4\]; the output is float32\[3\]/);
  });
});

describe("grad and valueAndGrad", () => {
  const loss = (w: JArray, x: JArray, y: JArray) => np.square(np.matmul(x, w).sub(y)).mean();
  const w = np.array([0.5, -1]);
  const x = np.array([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const y = np.array([1, 0, -1]);

  test("argnums: default 0, a list gives a tuple, negatives count from the end", async () => {
    // residual r = xw − y; grad_w = 2/n · xᵀ r; grad_y = −2/n · r
    const r = [1 * 0.5 - 2 - 1, 1.5 - 4 - 0, 2.5 - 6 + 1];
    const gw = [0, 1].map(
      (j) => (2 / 3) * r.reduce((s, ri, i) => s + ri * ([1, 3, 5, 2, 4, 6][i + 3 * j] as number), 0),
    );
    await expectClose(grad(loss)(w, x, y), gw, { rtol: 1e-6 });
    const [g0, g2] = grad(loss, { argnums: [0, -1] })(w, x, y);
    await expectClose(g0, gw, { rtol: 1e-6 });
    await expectClose(
      g2,
      r.map((v) => (-2 / 3) * v),
      { rtol: 1e-6 },
    );
    const [value, g] = valueAndGrad(loss)(w, x, y);
    await expectClose(value, r.reduce((s, v) => s + v * v, 0) / 3, { rtol: 1e-6 });
    await expectClose(g, gw, { rtol: 1e-6 });
  });

  test("hasAux: [loss, aux] in, [grads, aux] / [[loss, aux], grads] out", async () => {
    const f = (p: { w: JArray }) => [p.w.mul(p.w).sum(), { norm: p.w.sum() }] as const;
    const [g, aux] = grad(f, { hasAux: true })({ w: np.array([1, 2]) });
    await expectClose(g.w, [2, 4]);
    await expectClose(aux.norm, 3);
    const [[l, aux2], g2] = valueAndGrad(f, { hasAux: true })({ w: np.array([1, 2]) });
    await expectClose(l, 5);
    await expectClose(aux2.norm, 3);
    await expectClose(g2.w, [2, 4]);
  });

  test("JS numbers are differentiable leaves (weak float32 scalars)", async () => {
    await expectClose(grad((a: JArray | number, b: JArray) => b.mul(a).mul(a).sum())(1.5, np.array([1, 2])), 9);
  });

  test("errors: non-scalar, integer output, integer input, bad argnums, bad aux", () => {
    expect(() => grad((v: JArray) => v.mul(2))(np.ones([3]))).toThrow(
      /must return a scalar \(shape \[\]\), got float32\[3\]/,
    );
    expect(() => grad((v: JArray) => v.sum().astype("int32"))(np.ones([3]))).toThrow(/gradients need a float output/);
    expect(() => grad((v: JArray) => v.sum().astype("float32"))(np.ones([3], { dtype: "int32" }))).toThrow(
      /argument 0 is int32\[3\]; differentiation needs float inputs/,
    );
    expect(() => grad((v: JArray) => v.sum(), { argnums: 2 })(np.ones([3]))).toThrow(/argnums 2 is out of range/);
    expect(() => grad((v: JArray) => v.sum() as never, { hasAux: true })(np.ones([3]))).toThrow(
      /with hasAux the function must return \[output, aux\]/,
    );
  });

  test("an async function is rejected", () => {
    expect(() => grad(async (v: JArray) => v.sum())(np.ones([2]))).toThrow(/returned a Promise/);
  });

  test("a JS comparison on a traced value names np.where / lax.select and staticArgnums", () => {
    const f = (v: JArray) => ((v.sum() as unknown as number) > 0 ? v.sum() : v.sum().neg());
    expect(() => grad(f)(np.ones([2]))).toThrow(TracerError);
    expect(() => grad(f)(np.ones([2]))).toThrow(/np\.where \(lax\.select\).*staticArgnums/);
  });

  test("reading a traced value, or using a leaked tracer later, is a clear error", () => {
    let leaked: JArray | undefined;
    expect(() =>
      grad((v: JArray) => {
        leaked = v.mul(2);
        return v.sum();
      })(np.ones([2])),
    ).not.toThrow();
    expect(() => np.add(leaked as JArray, 1)).toThrow(/already returned \(a leaked tracer\)/);
    expect(() =>
      grad((v: JArray) => {
        v.dataSync();
        return v.sum();
      })(np.ones([2])),
    ).toThrow(/dataSync\(\) was called on a traced value/);
  });
});

describe("higher order", () => {
  test("grad(grad(grad(sin))) = −cos", async () => {
    const d3 = grad(grad(grad((x: JArray) => np.sin(x))));
    await expectClose(d3(np.array(0.7)), -Math.cos(0.7), { rtol: 1e-6 });
  });

  test("jvp of grad is a Hessian-vector product", async () => {
    // f(x) = Σ x_i³ x_0 → H v by hand
    const f = (x: JArray) => np.power(x, 3).sum().mul(x.slice(0));
    const x = np.array([1, 2]);
    const [g, hv] = jvp(grad(f), [x], [np.array([1, 1])]);
    // ∇f = [3x0²·x0 + Σx³, 3x1²·x0] = [4x0³ + x1³, 3x1²x0]
    await expectClose(g, [4 + 8, 12]);
    // H = [[12x0², 3x1²], [3x1², 6x1x0]] → H·[1,1] = [12 + 12, 12 + 12]
    await expectClose(hv, [24, 24]);
  });

  test("grad through a vjp function, and grad of a function using linearize", async () => {
    const g = grad((x: JArray) => {
      const [, vjpFn] = vjp((u: JArray) => np.sin(u).mul(u), [x]);
      return vjpFn(np.ones([2]))[0].sum();
    })(np.array([0.3, 1.1]));
    // d/dx (cos x·x + sin x) = −sin x·x + 2cos x
    await expectClose(
      g,
      [0.3, 1.1].map((v) => -Math.sin(v) * v + 2 * Math.cos(v)),
      { rtol: 1e-5 },
    );
  });

  test("nested grads keep their own tangents apart (perturbation confusion)", async () => {
    // d/dx [x · d/dy (x + y)] at y = 1 → d/dx [x · 1] = 1 (a confused implementation gives 2)
    const f = (x: JArray) => x.mul(grad((y: JArray) => x.add(y))(np.array(1)));
    await expectClose(grad(f)(np.array(3)), 1);
  });
});

describe("composition and types", () => {
  test("pipe(f, grad) and flow compose transforms (function first, options second)", async () => {
    const f = (x: JArray) => np.power(x, 4);
    const d2 = pipe(f, grad, grad);
    await expectClose(d2(np.array(2)), 48);
    const d1 = flow(grad(f))(np.array(2));
    await expectClose(d1, 32);
  });

  test("grad carries the argument's pytree type; argnums tuples and hasAux shape the result", () => {
    type Params = { w: JArray; b: JArray; layers: [JArray, JArray] };
    const loss = (p: Params, x: JArray) => p.w.mul(x).sum();
    expectTypeOf(grad(loss)).returns.toEqualTypeOf<Cotangent<Params>>();
    expectTypeOf<Cotangent<Params>>().toEqualTypeOf<{ w: JArray; b: JArray; layers: [JArray, JArray] }>();
    expectTypeOf(grad(loss, { argnums: [0, 1] })).returns.toEqualTypeOf<[Cotangent<Params>, JArray]>();
    const withAux = (p: Params) => [p.w.sum(), { n: 3 }] as const;
    expectTypeOf(grad(withAux, { hasAux: true })).returns.toEqualTypeOf<[Cotangent<Params>, { readonly n: 3 }]>();
    expectTypeOf(valueAndGrad(loss)).returns.toEqualTypeOf<[JArray, Cotangent<Params>]>();
    expectTypeOf(grad(loss)).parameters.toEqualTypeOf<[Params, JArray]>();
    type VjpFn = ReturnType<typeof vjp<typeof loss>>[1];
    expectTypeOf<VjpFn>().parameters.toEqualTypeOf<[JArray]>();
    expectTypeOf<VjpFn>().returns.toEqualTypeOf<[Cotangent<Params>, JArray]>();
  });
});
