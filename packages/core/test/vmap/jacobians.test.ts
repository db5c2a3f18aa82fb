/**
 * Per-example gradients (vmap of grad through a gather and its scatter) against the loop of
 * single-example gradients, with the dispatch count of one batched program; and jacfwd, jacrev
 * and hessian of Rosenbrock's function and a small tanh network against JAX's numbers.
 */
import { grad, hessian, type Array as JArray, jacfwd, jacrev, np, vmap } from "@webjax/core";
import { countDispatches, expectClose, rng } from "@webjax/test-utils";
import { describe, expect, expectTypeOf, test } from "vitest";

const randn = (seed: number, ...shape: number[]) => {
  const next = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(
    Float32Array.from({ length: n }, () => next() * 2 - 1),
    { shape },
  );
};

describe("per-example gradients", () => {
  interface Params {
    w1: JArray;
    w2: JArray;
  }
  // Cross-entropy of a 6-8-4 tanh MLP for one example; the label picks a log-probability (a gather).
  const loss = (p: Params, x: JArray, label: JArray) => {
    const logits = np.tanh(x.matmul(p.w1)).matmul(p.w2);
    const logp = logits.sub(np.log(np.exp(logits).sum()));
    return logp.at(label).get().neg();
  };

  test("vmap(grad(loss)) equals the loop of single-example gradients", async () => {
    const p = { w1: randn(1, 6, 8), w2: randn(2, 8, 4) };
    const xs = randn(3, 16, 6);
    const labels = np.array(Int32Array.from({ length: 16 }, (_, i) => (i * 7) % 4));
    const g = vmap(grad(loss), { inAxes: [null, 0, 0] })(p, xs, labels);
    expect(g.w1.shape).toEqual([16, 6, 8]);
    const w1 = (await g.w1.toArray()) as number[][][];
    const w2 = (await g.w2.toArray()) as number[][][];
    for (let b = 0; b < 16; b++) {
      const one = grad(loss)(p, np.take(xs, b, { axis: 0 }), np.take(labels, b, { axis: 0 }));
      await expectClose(one.w1, (w1[b] as number[][]).flat(), { rtol: 1e-5, atol: 1e-6 });
      await expectClose(one.w2, (w2[b] as number[][]).flat(), { rtol: 1e-5, atol: 1e-6 });
    }
  });

  test("256 examples are one batched program: as many dispatches as 8 examples, and no more than one grad", async () => {
    const p = { w1: randn(4, 6, 8), w2: randn(5, 8, 4) };
    const x0 = randn(6, 6);
    const l0 = np.array(Int32Array.of(3)).reshape([]);
    const single = await countDispatches(() => {
      const g = grad(loss)(p, x0, l0);
      return [g.w1, g.w2];
    });
    const batched = async (n: number, exceptCopies = false) => {
      const xs = randn(6, n, 6);
      const labels = np.array(Int32Array.from({ length: n }, (_, i) => i % 4));
      return countDispatches(
        () => {
          const g = vmap(grad(loss), { inAxes: [null, 0, 0] })(p, xs, labels);
          return [g.w1, g.w2];
        },
        { exceptCopies },
      );
    };
    const many = await batched(256);
    expect(many).toBe(await batched(8));
    // Measured on the CPU: 29 and 29. The batched scatter reads its shared (broadcast) zero
    // operand and cotangent through their views, so nothing is copied for the batch.
    expect(many).toBeLessThanOrEqual(single);
    expect(await batched(256, true)).toBe(many);
    expect(single).toBeGreaterThan(5);
  });
});

describe("Jacobians and Hessians against JAX", () => {
  // def rosen(x): return jnp.sum(100.0*(x[1:]-x[:-1]**2)**2 + (1-x[:-1])**2)
  const rosen = (x: JArray) => {
    const a = x.slice([0, -1]);
    const b = x.slice([1, null]);
    return np
      .square(b.sub(np.square(a)))
      .mul(100)
      .add(np.square(np.subtract(1, a)))
      .sum();
  };
  const x = () => np.array([0.5, -0.3, 1.2, 0.8]);

  test("Rosenbrock: jacrev and jacfwd give the gradient, hessian the Hessian", async () => {
    // jax.grad(rosen)(jnp.array([0.5, -0.3, 1.2, 0.8])), float64
    const g = [109.00000000000001, 20.59999999999998, 529.5999999999999, -127.99999999999999];
    await expectClose(jacrev(rosen)(x()), g, { rtol: 1e-5, atol: 1e-4 });
    await expectClose(jacfwd(rosen)(x()), g, { rtol: 1e-5, atol: 1e-4 });
    // jax.hessian(rosen)(x)
    const h = [
      [422.0, -200.0, 0.0, 0.0],
      [-200.0, -169.99999999999994, 120.0, 0.0],
      [0.0, 120.0, 1610.0, -480.0],
      [0.0, 0.0, -480.0, 200.0],
    ];
    const hx = hessian(rosen)(x());
    expect(hx.shape).toEqual([4, 4]);
    await expectClose(hx, h, { rtol: 1e-5, atol: 1e-3 });
  });

  // W1 = [[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]]; b1 = [0.05, -0.1, 0.2]
  // W2 = [[0.7, -0.4], [-0.3, 0.2], [0.5, 0.6]]; net(x) = tanh(tanh(x @ W1 + b1) @ W2)
  const net = (p: { w1: JArray; b1: JArray; w2: JArray }, v: JArray) =>
    np.tanh(np.tanh(v.matmul(p.w1).add(p.b1)).matmul(p.w2));
  const params = () => ({
    w1: np.array([
      [0.3, -0.2, 0.5],
      [0.1, 0.4, -0.6],
    ]),
    b1: np.array([0.05, -0.1, 0.2]),
    w2: np.array([
      [0.7, -0.4],
      [-0.3, 0.2],
      [0.5, 0.6],
    ]),
  });

  test("a tanh network: jacfwd = jacrev = JAX's Jacobian; the Hessian of its squared norm", async () => {
    const p = params();
    const xn = np.array([0.8, -0.5]);
    // jax.jacfwd(net)(jnp.array([0.8, -0.5]))
    const j = [
      [0.247824072462851, -0.11939071438629459],
      [0.00012137739032423287, -0.139029420148835],
    ];
    await expectClose(jacfwd(net, { argnums: 1 })(p, xn), j, { rtol: 1e-5, atol: 1e-6 });
    await expectClose(jacrev(net, { argnums: 1 })(p, xn), j, { rtol: 1e-5, atol: 1e-6 });
    // jax.hessian(lambda x: jnp.sum(net(x) ** 2))(x)
    const h = [
      [-0.13060437088408236, 0.13998402189584142],
      [0.1399840218958414, -0.1487155892405171],
    ];
    await expectClose(hessian((v: JArray) => np.square(net(p, v)).sum())(xn), h, { rtol: 1e-4, atol: 1e-6 });
  });

  test("pytree inputs and outputs: the output's structure of the input's structure", async () => {
    const p = params();
    const xn = np.array([0.8, -0.5]);
    const jp = jacrev(net)(p, xn) as { w1: JArray; b1: JArray; w2: JArray };
    expect(jp.w1.shape).toEqual([2, 2, 3]);
    expect(jp.b1.shape).toEqual([2, 3]);
    const jf = jacfwd(net)(p, xn) as { w1: JArray; b1: JArray; w2: JArray };
    expect(await jf.w2.toArray()).toEqual(await jp.w2.toArray().then((v) => v));
    await expectClose(jf.w1, ((await jp.w1.toArray()) as number[][][]).flat(2), { rtol: 1e-5, atol: 1e-6 });
    const both = jacrev(net, { argnums: [0, 1] })(p, xn) as [unknown, JArray];
    await expectClose(both[1], [0.247824072462851, -0.11939071438629459, 0.00012137739032423287, -0.139029420148835], {
      rtol: 1e-5,
      atol: 1e-6,
    });
    const [jx, aux] = jacfwd((v: JArray) => [net(p, v), v.sum()] as const, { hasAux: true })(xn);
    expect((jx as JArray).shape).toEqual([2, 2]);
    expect(await (aux as JArray).item()).toBeCloseTo(0.3, 6);
    expect(() => jacfwd((v: JArray) => net(p, v), { hasAux: true })(xn)).toThrow(
      /jacfwd: with hasAux the function must return \[output, aux\]/,
    );
    expect(() => jacrev((v: JArray) => net(p, v), { hasAux: true })(xn)).toThrow(/^jacrev: with hasAux/);
    expect(() => hessian((v: JArray) => v.sum(), { hasAux: true })(xn)).toThrow(/^hessian: with hasAux/);
    // f runs once per Jacobian (with the aux from the same call), not again for the aux.
    let calls = 0;
    const [jr, ar] = jacfwd(
      (v: JArray) => {
        calls++;
        return [np.sin(v), v.sum()] as const;
      },
      { hasAux: true },
    )(xn);
    expect(calls).toBe(1);
    await expectClose(jr as JArray, [Math.cos(0.8), 0, 0, Math.cos(-0.5)], { rtol: 1e-6 });
    expect(await (ar as JArray).item()).toBeCloseTo(0.3, 6);
  });

  test("integer outputs and inputs are named errors, as in JAX", () => {
    const xn = np.array([0.8, -0.5]);
    expect(() => jacrev((v: JArray) => v.astype("int32"))(xn)).toThrow(
      /jacrev: outputs must be floats, but output \(the only one\) is int32\[2\]/,
    );
    expect(() => jacfwd((v: JArray) => v)(np.array([1, 2], { dtype: "int32" }))).toThrow(
      /jacfwd: differentiated inputs must be floats, got int32\[2\]/,
    );
  });
});

test("types: the output's structure of the input's structure", () => {
  const f = (p: { w: JArray; b: JArray }, v: JArray) => ({ y: p.w.mul(v).add(p.b), n: v.sum() });
  expectTypeOf(jacrev(f)).returns.toEqualTypeOf<{ y: { w: JArray; b: JArray }; n: { w: JArray; b: JArray } }>();
  expectTypeOf(jacfwd(f, { argnums: 1 })).returns.toEqualTypeOf<{ y: JArray; n: JArray }>();
  expectTypeOf(jacrev(f, { argnums: [0, 1] })).returns.toEqualTypeOf<{
    y: [{ w: JArray; b: JArray }, JArray];
    n: [{ w: JArray; b: JArray }, JArray];
  }>();
  expectTypeOf(hessian((v: JArray) => v.sum())).returns.toEqualTypeOf<JArray>();
  const withAux = (v: JArray) => [v.sum(), { count: 3 }] as const;
  expectTypeOf(jacrev(withAux, { hasAux: true })).returns.toEqualTypeOf<[JArray, { readonly count: 3 }]>();
});
