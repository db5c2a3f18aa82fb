/**
 * vmap's interface: pytree inAxes/outAxes with JAX's prefix rule, negative and null axes,
 * nested vmaps, axisSize, composition with grad both ways, custom rules under vmap, keys, the
 * errors at trace time, and the types.
 */
import {
  customJvp,
  customVjp,
  grad,
  type Array as JArray,
  lax,
  np,
  random,
  ShapeError,
  stopGradient,
  TracerError,
  vmap,
} from "@webjax/core";
import { checkVmap, expectClose, loopVmap } from "@webjax/test-utils";
import { pipe } from "fp-ts/function";
import { describe, expect, expectTypeOf, test } from "vitest";

const read = async (x: JArray) => globalThis.Array.from(await x.data());

describe("vmap: axes", () => {
  test("pytree inAxes by prefix, null for shared leaves, negative axes", async () => {
    using xs = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using w = np.array([1, 10, 100]);
    using b = np.array(0.5);
    const f = (p: { w: JArray; b: JArray }, x: JArray) => x.mul(p.w).sum().add(p.b);
    using r = vmap(f, { inAxes: [{ w: null, b: null }, 0] })({ w, b }, xs);
    expect(await read(r)).toEqual([321.5, 654.5]);
    using r2 = vmap(f, { inAxes: [null, -1] })({ w, b }, xs.T);
    expect(await read(r2)).toEqual([321.5, 654.5]);
    // A batched leaf inside a shared tree: the prefix tree gives each leaf its axis.
    using ws = np.array([
      [1, 1, 1],
      [0, 0, 1],
    ]);
    using r3 = vmap(f, { inAxes: [{ w: 0, b: null }, 0] })({ w: ws, b }, xs);
    expect(await read(r3)).toEqual([6.5, 6.5]);
  });

  test("outAxes place the batch; a tree of outputs; null for an unbatched output", async () => {
    using xs = np.arange(6, undefined, 1, { dtype: "float32" }).reshape([2, 3]);
    using r = vmap((x: JArray) => np.stack([x, x.mul(2)]), { outAxes: -1 })(xs);
    expect(r.shape).toEqual([2, 3, 2]);
    expect(await r.toArray()).toEqual([
      [
        [0, 3],
        [1, 4],
        [2, 5],
      ],
      [
        [0, 6],
        [2, 8],
        [4, 10],
      ],
    ]);
    using c = np.array(7);
    const out = vmap((x: JArray) => ({ s: x.sum(), c: c.mul(1) }), { outAxes: { s: 0, c: null } })(xs);
    expect(await read(out.s)).toEqual([3, 12]);
    expect(await out.c.item()).toBe(7);
    out.s.dispose();
    out.c.dispose();
    using shared = vmap((_x: JArray) => c.add(0), { inAxes: 0 })(xs);
    expect(await read(shared)).toEqual([7, 7]); // an unbatched output is broadcast
    expect(() => vmap((x: JArray) => x.sum(), { outAxes: null })(xs)).toThrow(
      /output .* depends on the mapped axis, but its outAxes is null/,
    );
  });

  test("nested vmaps, axisSize, and the loop reference for a 2-level map", async () => {
    using a = np.arange(24, undefined, 1, { dtype: "float32" }).reshape([2, 3, 4]);
    using nested = vmap(
      vmap((r: JArray) => r.max()),
      { inAxes: 1, outAxes: 1 },
    )(a);
    expect(nested.shape).toEqual([2, 3]);
    expect(await nested.toArray()).toEqual([
      [3, 7, 11],
      [15, 19, 23],
    ]);
    using k = random.key(3);
    using samples = vmap(() => np.ones([2]).mul(3), { inAxes: [], axisSize: 4 })();
    expect(samples.shape).toEqual([4, 2]);
    using m = vmap((x: JArray, y: JArray) => x.matmul(y), { inAxes: [0, null] })(a, np.ones([4, 2]));
    using ref = loopVmap((x, y) => x.matmul(y), [a, np.ones([4, 2])], { inAxes: [0, null] });
    expect(await m.toArray()).toEqual(await ref.toArray());
    expect(k.shape).toEqual([2]);
  });

  test("errors name the arguments, their axes and sizes, and show both structures", () => {
    using x = np.ones([3, 2]);
    using y = np.ones([4, 2]);
    expect(() => vmap(np.add)(x, y)).toThrow(ShapeError);
    expect(() => vmap(np.add)(x, y)).toThrow(
      /vmap: the mapped axes have different sizes: argument 0 has size 3 at axis 0 \(shape \[3,2\]\); argument 1 has size 4/,
    );
    expect(() => vmap(np.sin, { inAxes: 2 })(x)).toThrow(
      /vmap: axis 2 is out of bounds for argument 0 \(float32\[3,2\]\), which has 2 dims/,
    );
    expect(() => vmap((p: { a: JArray }) => p.a, { inAxes: [{ b: 0 }] })({ a: x })).toThrow(
      /vmap: the argument axes at \[0\] are an object with keys \["b"\] but the arguments at \[0\] are an object with keys \["a"\]/,
    );
    expect(() => vmap(() => np.ones([2]), { inAxes: [] })()).toThrow(/no argument is mapped.*axisSize/);
    expect(() => vmap(np.sin, { inAxis: 0 } as never)).toThrow(/did you mean "inAxes"/);
    expect(() => vmap(np.sin, { inAxes: 0.5 })(x)).toThrow(
      /vmap: the argument axis must be an integer \(negative counts from the end\) or null, got 0.5/,
    );
    expect(() => vmap(np.add, { inAxes: [0, "0"] as never })(x, x)).toThrow(
      /vmap: the argument axis at \[1\] must be an integer .* got "0"/,
    );
    // Shape errors inside f name the per-example shapes, as the user wrote f.
    expect(() => vmap((a: JArray) => a.reshape([5]))(x)).toThrow(
      /reshape: cannot reshape float32\[2\] \(2 elements\) to \[5\]/,
    );
    expect(() => vmap((a: JArray) => a.add(np.ones([3])))(x)).toThrow(/add: shapes \[2\], \[3\] cannot be broadcast/);
  });

  test("types: vmap keeps the function's type, so pipe(f, grad, vmap) composes", () => {
    const f = (p: { w: JArray }, x: JArray) => p.w.mul(x).sum();
    const g = vmap(f, { inAxes: [null, 0] });
    expectTypeOf(g).toEqualTypeOf<typeof f>();
    const perExample = pipe((w: JArray) => np.square(w).sum(), grad, vmap);
    expectTypeOf(perExample).parameters.toEqualTypeOf<[JArray]>();
  });
});

describe("data-dependent sizes under vmap", () => {
  test("mask selections need size (a named error, as JAX), and work with it", async () => {
    using xs = np.array([
      [1, -2, 3],
      [4, 5, -6],
    ]);
    expect(() => vmap((x: JArray) => x.at(x.greater(0)).get())(xs)).toThrow(
      /at\(mask\).get: the number of selected elements depends on the data, so under a transform pass \{ size \}/,
    );
    expect(() => vmap((x: JArray) => np.nonzero(x)[0] as JArray)(xs)).toThrow(TracerError);
    using picked = vmap((x: JArray) => x.at(x.greater(0)).get({ size: 3, fillValue: 0 }))(xs);
    expect(await picked.toArray()).toEqual([
      [1, 3, 0],
      [4, 5, 0],
    ]);
    using zeroed = vmap((x: JArray) => x.at(x.less(0)).set(0))(xs);
    expect(await zeroed.toArray()).toEqual([
      [1, 0, 3],
      [4, 5, 0],
    ]);
    using u = vmap((x: JArray) => np.unique(x.abs(), { size: 3, fillValue: -1 }) as unknown as JArray)(
      np.array([
        [2, 2, 1],
        [3, 3, 3],
      ]),
    );
    expect(await u.toArray()).toEqual([
      [1, 2, -1],
      [3, -1, -1],
    ]);
  });
});

describe("vmap composes with autodiff and custom rules", () => {
  test("vmap(grad) and grad(vmap) equal the loop", async () => {
    using xs = np.array([
      [0.5, -1, 2],
      [1.5, 0.25, -0.5],
    ]);
    const f = (x: JArray) => np.sin(x).mul(x).sum();
    await checkVmap(grad(f), [xs], { inAxes: [0] });
    using g2 = grad((x: JArray) => vmap(f)(x).sum())(xs);
    using gl = vmap(grad(f))(xs);
    expect(await read(g2)).toEqual(await read(gl));
  });

  test("vmap of a customVjp function batches fwd and bwd; grad inside vmap uses the rule", async () => {
    const clipGrad = customVjp(
      (x: JArray) => x.mul(1),
      (x: JArray) => [x.mul(1), x] as const,
      (_x: JArray, ct: JArray) => [np.clip(ct, -1, 1)],
    );
    using xs = np.array([
      [1, 2],
      [3, 4],
    ]);
    using y = vmap(clipGrad)(xs);
    expect(await y.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    // d/dx Σ 5·clip(x) with the backward clipping the cotangent 5 to 1.
    using g = vmap(grad((x: JArray) => clipGrad(x).mul(5).sum()))(xs);
    expect(await read(g)).toEqual([1, 1, 1, 1]);
    using g2 = grad((x: JArray) => vmap(clipGrad)(x).mul(5).sum())(xs);
    expect(await read(g2)).toEqual([1, 1, 1, 1]);
    // A shared (unbatched) input: its cotangent sums over the batch.
    using w = np.array([0.5, -0.5]);
    using gw = grad((v: JArray) => vmap((x: JArray) => clipGrad(x.mul(v)).mul(5).sum())(xs).sum())(w);
    expect(await read(gw)).toEqual([4, 6]); // Σ_b clip(5)·x_b = 1·(1 + 3), 1·(2 + 4)
  });

  test("vmap of a customJvp function keeps its rule", async () => {
    const softplus = customJvp(
      (x: JArray) => np.log1p(np.exp(x)),
      ([x]: [JArray], [t]: [JArray]) => [np.log1p(np.exp(x)), t.mul(lax.logistic(x))] as const,
    );
    using xs = np.array([-1, 0, 2]);
    using g = vmap(grad(softplus))(xs);
    await expectClose(
      g,
      [-1, 0, 2].map((v) => 1 / (1 + Math.exp(-v))),
      { rtol: 1e-6 },
    );
    using y = vmap(softplus)(xs);
    await expectClose(
      y,
      [-1, 0, 2].map((v) => Math.log1p(Math.exp(v))),
      { rtol: 1e-6 },
    );
  });

  test("vmap(grad(f with stopGradient)) gives JAX's numbers", async () => {
    // jax.vmap(jax.grad(lambda x: jnp.sum(x * jax.lax.stop_gradient(x) ** 2)))(xs) = xs ** 2
    using xs = np.array([
      [1, 2],
      [3, -1],
    ]);
    using g = vmap(grad((x: JArray) => x.mul(np.square(stopGradient(x))).sum()))(xs);
    expect(await read(g)).toEqual([1, 4, 9, 1]);
  });

  test("vmap over split keys gives the streams of the calls made one by one, bit for bit", async () => {
    using key = random.key(2024);
    using keys = random.split(key, 8);
    using batched = vmap((k: JArray) => random.normal(k, [3]))(keys);
    const rows = (await batched.toArray()) as number[][];
    let i = 0;
    for (const k of keys) {
      using one = random.normal(k, [3]);
      expect(await read(one)).toEqual(rows[i++]);
      k.dispose();
    }
    using u = vmap((k: JArray) => random.uniform(k, [2, 2]))(keys);
    using u0 = random.uniform(np.take(keys, 5, { axis: 0 }), [2, 2]);
    expect(((await u.toArray()) as number[][][])[5]).toEqual(await u0.toArray());
  });
});
