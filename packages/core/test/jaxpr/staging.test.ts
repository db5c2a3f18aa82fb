/**
 * Staging (omnistaging): what becomes a literal, a const, an equation or a lifted input; staged
 * programs evaluated eagerly and under transforms give the eager numbers; custom rules survive
 * staging, vmap and grad; evalShape runs and allocates nothing.
 */
import {
  customJvp,
  customVjp,
  evalShape,
  grad,
  type Array as JArray,
  jvp,
  makeJaxpr,
  memoryStats,
  np,
  random,
  ShapeDtypeStruct,
  TracerError,
  tree,
  valueAndGrad,
  vmap,
} from "@webjax/core";
import { evalJaxpr } from "@webjax/core/internal";
import { expectClose, testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const f32 = (...shape: number[]) => new ShapeDtypeStruct(shape);

describe("what staging records", () => {
  test("x * 2 + 1: both numbers are literals and there are no consts", () => {
    const j = makeJaxpr((x: JArray) => x.mul(2).add(1))(np.ones([]));
    expect(j.consts).toEqual([]);
    const lits = j.jaxpr.eqns.flatMap((e) => e.inputs.filter((a) => "value" in a));
    expect(lits.map((l) => (l as { value: number }).value)).toEqual([2, 1]);
  });

  test("a 0-d np.array of a number and a JS index are literals too; np's constants are JS numbers", () => {
    const j = makeJaxpr((x: JArray) => x.at(1).set(np.array(7)).mul(np.pi))(f32(3));
    expect(j.consts).toEqual([]);
    expect(String(j)).toContain("scatter[axis=0 mode=set] a 1:i32[] 7.0:f32[]");
    expect([np.pi, np.e, np.inf, np.eulerGamma]).toEqual([
      Math.PI,
      Math.E,
      Number.POSITIVE_INFINITY,
      0.5772156649015329,
    ]);
    expect(np.nan).toBeNaN();
  });

  test("np.eye(1024) is equations, not a 4 MB const; ones and arange too", () => {
    const j = makeJaxpr((x: JArray) =>
      x
        .add(np.eye(1024))
        .add(np.ones([1024, 1024]))
        .add(np.arange(1024)),
    )(f32(1024, 1024));
    expect(j.consts).toEqual([]);
    expect(j.jaxpr.eqns.map((e) => e.prim)).toContain("iota");
  });

  test("staged creation functions give the eager values", async () => {
    const cases: [string, () => JArray][] = [
      ["zeros", () => np.zeros([2, 3], "int32")],
      ["ones", () => np.ones([4])],
      ["full", () => np.full([2, 2], 7.5)],
      ["fullLike", () => np.fullLike(np.zeros([3], "int32"), 4)],
      ["arange int", () => np.arange(2, 11, 3)],
      ["arange float with integer steps", () => np.arange(0, 5, 1, "float32")],
      ["arange negative step", () => np.arange(5, -3, -2)],
      ["arange fractional (a const, as JAX)", () => np.arange(0, 1, 0.25)],
      ["eye", () => np.eye(3, 4, { k: -1 })],
      ["eye bool", () => np.eye(2, 2, "bool")],
      ["linspace", () => np.linspace(-1, 2, 7)],
      ["linspace no endpoint", () => np.linspace(0, 1, 4, { endpoint: false })],
    ];
    for (const [name, make] of cases) {
      const eager = make();
      const j = makeJaxpr(make)();
      const [staged] = evalJaxpr(j, []) as [JArray];
      expect(staged.dtype, name).toBe(eager.dtype);
      expect(staged.shape, name).toEqual(eager.shape);
      // linspace is computed in float32 when staged (as JAX's), the host ramp in float64
      await expectClose(staged, await eager.toArray(), { rtol: 2e-7, atol: 2e-7 });
      j.dispose();
    }
  });

  test("a staged program evaluated under grad, jvp and vmap equals the transforms of the function", async () => {
    const f = (x: JArray) =>
      np
        .tanh(x.matmul(np.eye(3).mul(2)))
        .sum(-1)
        .mul(x.sum());
    const j = makeJaxpr(f)(f32(2, 3));
    const staged = (x: JArray) => evalJaxpr(j, [x])[0] as JArray;
    const x = np.array([
      [0.1, -0.4, 0.3],
      [0.7, 0.2, -0.5],
    ]);
    await expectClose(staged(x), await f(x).toArray(), { rtol: 1e-6 });
    await expectClose(grad((y: JArray) => staged(y).sum())(x), await grad((y: JArray) => f(y).sum())(x).toArray(), {
      rtol: 1e-5,
    });
    const t = np.onesLike(x);
    await expectClose(jvp(staged, [x], [t])[1], await jvp(f, [x], [t])[1].toArray(), { rtol: 1e-5 });
    const xs = np.stack([x, x.mul(2)]);
    await expectClose(vmap(staged)(xs), await vmap(f)(xs).toArray(), { rtol: 1e-6 });
  });

  test("a lifted tracer carries its transform: jvp through a program that closes over it", async () => {
    // The program is staged inside jvp: y's tangent must flow through the lifted input.
    const [, tan] = jvp(
      (y: JArray) => {
        const j = makeJaxpr((x: JArray) => x.mul(y).mul(y))(f32());
        expect(j.jaxpr.invars).toHaveLength(2); // y (lifted), then x
        return evalJaxpr(j, [y, np.array(3)])[0] as JArray;
      },
      [np.array(2)],
      [np.array(1)],
    );
    await expectClose(tan, 12); // d/dy 3y² = 6y
  });

  test("reading values inside a staged function is a TracerError; bad shapes fail at trace time naming the op", () => {
    expect(() => makeJaxpr((x: JArray) => x.dataSync())(f32(2))).toThrow(TracerError);
    expect(() => makeJaxpr((x: JArray, y: JArray) => x.matmul(y))(f32(2, 3), f32(4, 5))).toThrow(/matmul|dot/);
  });
});

describe("custom rules survive staging, vmap and grad", () => {
  // A rule that differs from the true derivative, so using it is visible: the cotangent is
  // clipped to [-0.1, 0.1] instead of cos(x)·g.
  const clipGrad = customVjp(
    (x: JArray) => np.sin(x),
    (x: JArray) => [np.sin(x), np.cos(x)] as const,
    (c: JArray, g: JArray) => [np.clip(g.mul(c), -0.1, 0.1)],
  );
  const x = np.array([0.5, -2, 3]);
  const want = [0.1, -0.1, -0.1]; // clip(cos(x)): cos(0.5) = 0.88, cos(-2) = -0.42, cos(3) = -0.99

  test("vmap(customVjp(f)) and grad(vmap(customVjp(f))) use the rule", async () => {
    await expectClose(vmap(clipGrad)(x), await np.sin(x).toArray(), { rtol: 1e-6 });
    await expectClose(grad((y: JArray) => vmap(clipGrad)(y).sum())(x), want, { rtol: 1e-6 });
    await expectClose(vmap(grad((y: JArray) => clipGrad(y).sum()))(x), want, { rtol: 1e-6 });
  });

  test("a staged customVjp call keeps its rule under grad and vmap", async () => {
    const j = makeJaxpr((y: JArray) => clipGrad(y).sum())(f32(3));
    expect(j.jaxpr.eqns.map((e) => e.prim)).toEqual(["custom_vjp_call", "reduce_sum"]);
    const staged = (y: JArray) => evalJaxpr(j, [y])[0] as JArray;
    await expectClose(grad(staged)(x), want, { rtol: 1e-6 });
    // A batch of rows: vmap of the staged program's gradient (cos(0) = 1 clips to 0.1).
    const xs = np.stack([x, np.zeros([3])]);
    await expectClose(vmap(grad(staged))(xs), [want, [0.1, 0.1, 0.1]], { rtol: 1e-6 });
    // grad of vmap of the staged program (the batch rule hands a batched call down).
    await expectClose(grad((ys: JArray) => vmap(staged)(ys).sum())(xs), [want, [0.1, 0.1, 0.1]], { rtol: 1e-6 });
    // Staged again under vmap: the batched call is one custom_vjp_call equation.
    const jb = makeJaxpr(vmap(staged))(f32(2, 3));
    expect(jb.jaxpr.eqns.map((e) => e.prim)).toContain("custom_vjp_call");
    await expectClose(grad((ys: JArray) => (evalJaxpr(jb, [ys])[0] as JArray).sum())(xs), [want, [0.1, 0.1, 0.1]], {
      rtol: 1e-6,
    });
  });

  test("a staged customJvp call keeps its rule under jvp, grad and vmap", async () => {
    const f = customJvp(
      (y: JArray) => np.sin(y),
      ([y], [t]) => [np.sin(y), t.mul(3)] as const,
    );
    const j = makeJaxpr((y: JArray) => f(y))(f32(3));
    expect(j.jaxpr.eqns.map((e) => e.prim)).toEqual(["custom_jvp_call"]);
    const staged = (y: JArray) => evalJaxpr(j, [y])[0] as JArray;
    await expectClose(jvp(staged, [x], [np.ones([3])])[1], [3, 3, 3]);
    await expectClose(grad((y: JArray) => staged(y).sum())(x), [3, 3, 3]);
    await expectClose(vmap(grad((y: JArray) => staged(y).sum()))(np.stack([x, x])), [
      [3, 3, 3],
      [3, 3, 3],
    ]);
  });

  test("a staged custom call that closes over a differentiated value is an error", () => {
    expect(() =>
      grad((y: JArray) => {
        const g = customJvp(
          (z: JArray) => z.mul(y),
          ([z], [t]) => [z.mul(y), t] as const,
        );
        const j = makeJaxpr((z: JArray) => g(z))(f32());
        return evalJaxpr(j, [y, np.array(2)])[0] as JArray;
      })(np.array(1)),
    ).toThrow(/closes over a value that is being differentiated/);
  });
});

describe("evalShape", () => {
  interface Params {
    w1: JArray;
    b1: JArray;
    w2: JArray;
    b2: JArray;
  }
  const loss = (p: Params, x: JArray, y: JArray) => {
    const h = np.maximum(x.matmul(p.w1).add(p.b1), 0);
    const logits = h.matmul(p.w2).add(p.b2);
    return logits
      .sub(np.logsumexp(logits, { axis: -1, keepdims: true }))
      .mul(y)
      .sum(-1)
      .mean()
      .neg();
  };
  const step = (p: Params, x: JArray, y: JArray) => {
    const [l, g] = valueAndGrad(loss)(p, x, y);
    return [l, tree.map((a: JArray, b: JArray) => a.sub(b.mul(0.1)), p, g)] as const;
  };

  test("the MLP training step's shapes, without running or allocating anything", () => {
    const p = { w1: f32(784, 64), b1: f32(64), w2: f32(64, 10), b2: f32(10) };
    const before = memoryStats()[testBackend];
    const [l, np2] = evalShape(step)(p, f32(128, 784), f32(128, 10));
    expect(memoryStats()[testBackend]).toEqual(before);
    expect(l.shape).toEqual([]);
    expect(l.dtype).toBe("float32");
    expect(np2.w1.shape).toEqual([784, 64]);
    expect(np2.b2.shape).toEqual([10]);
    expect(String(np2.b1)).toBe("ShapeDtypeStruct(shape=[64], dtype=float32)");
  });

  test("with concrete arguments too (their values are not read), and random inside", () => {
    const key = random.key(0);
    const out = evalShape((k: JArray, x: JArray) => random.normal(k, [3, 5]).matmul(x).astype("int32"))(
      key,
      np.ones([5, 2]),
    );
    expect(out.shape).toEqual([3, 2]);
    expect(out.dtype).toBe("int32");
    expect(() => out.dataSync()).toThrow(/no values/);
  });
});
