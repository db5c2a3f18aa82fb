/**
 * lax.cond and lax.switch (issue 24): values against the branch run by hand, gradients against
 * hand derivatives and central differences, vmap against a loop, jit against eager (with the
 * predicate changing between calls), and every program they make type-checks.
 */
import {
  getBackend,
  grad,
  type Array as JArray,
  jit,
  jvp,
  lax,
  makeJaxpr,
  np,
  ShapeDtypeStruct,
  valueAndGrad,
  vmap,
} from "@webjax/core";
import { checkJaxpr } from "@webjax/core/internal";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const scalarOf = async (x: JArray) => (await x.data())[0] as number;

/** sin(x) where x > 0, else x³ (each branch's derivative known). */
const piecewise = (x: JArray) =>
  lax.cond(
    x.greater(0),
    (a: JArray) => np.sin(a),
    (a: JArray) => a.mul(a).mul(a),
    x,
  );

describe("lax.cond and lax.switch", () => {
  test("only the chosen branch's value; pytrees of operands and outputs", async () => {
    expect(await scalarOf(piecewise(np.array(0.5)))).toBeCloseTo(Math.sin(0.5), 6);
    expect(await scalarOf(piecewise(np.array(-2)))).toBeCloseTo(-8, 6);
    const out = lax.cond(
      true,
      (p: { w: JArray; b: JArray }, s: number) => ({ y: p.w.mul(s), z: [p.b.add(1)] }),
      (p: { w: JArray; b: JArray }, s: number) => ({ y: p.w.sub(s), z: [p.b] }),
      { w: np.array([1, 2]), b: np.array(3) },
      10,
    );
    expect(Array.from(await out.y.data())).toEqual([10, 20]);
    expect(Array.from(await (out.z[0] as JArray).data())).toEqual([4]);
  });

  test("switch clamps its index into range, as JAX does", async () => {
    const branches = [(x: JArray) => x.add(100), (x: JArray) => x.mul(10), (x: JArray) => x.neg()];
    const x = np.array([1, 2]);
    const at = async (i: number) => Array.from(await lax.switch(i, branches, x).data());
    expect(await at(-5)).toEqual([101, 102]);
    expect(await at(1)).toEqual([10, 20]);
    expect(await at(2)).toEqual([-1, -2]);
    expect(await at(7)).toEqual([-1, -2]);
    expect(() => lax.switch(1.5, branches, x)).toThrow(/lax\.switch: the index must be an integer, got 1\.5/);
    expect(() => lax.switch(np.array(1.5), branches, x)).toThrow(
      /the index must be an integer scalar, got float32\[\]/,
    );
  });

  test("branches of another structure or type are a trace-time error showing both", () => {
    const x = np.ones([2]);
    expect(() =>
      lax.cond(
        true,
        (a: JArray) => [a, a] as JArray[],
        (a: JArray) => [a] as JArray[],
        x,
      ),
    ).toThrow(/lax\.cond: trueFn returns .*\[\*, \*\].* but falseFn returns .*\[\*\]/);
    expect(() =>
      lax.cond(
        true,
        (a: JArray) => a.sum(),
        (a: JArray) => a,
        x,
      ),
    ).toThrow(/lax\.cond: trueFn returns \(float32\[\]\) but falseFn returns \(float32\[2\]\)/);
    expect(() =>
      lax.cond(
        np.array([true, false]),
        (a: JArray) => a,
        (a: JArray) => a,
        x,
      ),
    ).toThrow(/predicate must be a scalar, got bool\[2\]/);
    // A JS `if` on a traced value names lax.cond.
    expect(() => grad((a: JArray) => (a.greater(0) ? a : a.neg()) as JArray)(np.array(1))).not.toThrow();
    expect(() => jit((a: JArray) => (Number(a) > 0 ? a : a.neg()))(np.array(1))).toThrow(/lax\.cond or lax\.switch/);
  });

  test("grad takes the chosen branch's derivative: cos x for x > 0, 3x² otherwise; jvp agrees", async () => {
    for (const x0 of [0.5, -0.7]) {
      const want = x0 > 0 ? Math.cos(x0) : 3 * x0 * x0;
      const g = await scalarOf(grad(piecewise)(np.array(x0)));
      expect(g).toBeCloseTo(want, 5);
      const h = 1e-3;
      const fd =
        ((await scalarOf(piecewise(np.array(x0 + h)))) - (await scalarOf(piecewise(np.array(x0 - h))))) / (2 * h);
      expect(Math.abs(g - fd)).toBeLessThan(1e-3);
      const [y, t] = jvp(piecewise, [np.array(x0)], [np.array(2)]);
      expect(await scalarOf(t)).toBeCloseTo(2 * want, 5);
      expect(await scalarOf(y)).toBeCloseTo(x0 > 0 ? Math.sin(x0) : x0 ** 3, 6);
    }
  });

  test("the branch not taken cannot poison the gradient with a NaN (sqrt of a negative)", async () => {
    const f = (x: JArray) =>
      lax.cond(
        x.greater(0),
        (a: JArray) => np.sqrt(a),
        (a: JArray) => a.mul(2),
        x,
      );
    expect(await scalarOf(grad(f)(np.array(-1)))).toBe(2);
    expect(await scalarOf(grad(f)(np.array(4)))).toBeCloseTo(0.25, 6);
    expect(await scalarOf(jit(grad(f))(np.array(-1)))).toBe(2);
  });

  test("grad through a value the branches close over, and second order", async () => {
    const x = np.array([1, 2, 3]);
    const f = (w: JArray) =>
      lax
        .cond(
          w.sum().greater(0),
          (a: JArray) => a.mul(w).mul(w),
          (a: JArray) => a.add(w),
          x,
        )
        .sum();
    // Σ xᵢ wᵢ² → 2 xᵢ wᵢ; Σ (xᵢ + wᵢ) → 1.
    await expectClose(grad(f)(np.array([1, 1, 1])), [2, 4, 6]);
    await expectClose(grad(f)(np.array([-1, -1, -1])), [1, 1, 1]);
    const g2 = grad((w: JArray) => grad(f)(w).sum());
    await expectClose(g2(np.array([1, 1, 1])), [2, 4, 6]);
  });

  test("vmap: a batched predicate picks per member, an unbatched one keeps one branch; both equal a loop", async () => {
    const xs = [-1.5, 2, -3, 0.25];
    const batched = vmap(piecewise)(np.array(xs));
    const loop = await Promise.all(xs.map((v) => scalarOf(piecewise(np.array(v)))));
    await expectClose(batched, loop, { rtol: 1e-6, atol: 1e-6 });
    const f = (x: JArray, flag: JArray) =>
      lax.cond(
        flag,
        (a: JArray) => a.mul(2),
        (a: JArray) => a.neg(),
        x,
      );
    const out = vmap(f, { inAxes: [0, null] })(np.array(xs), np.array(true));
    await expectClose(
      out,
      xs.map((v) => 2 * v),
    );
  });

  test("cond inside vmap inside grad equals the loop of gradients", async () => {
    const xs = [-1.5, 2, -3, 0.25];
    const g = grad((x: JArray) => vmap(piecewise)(x).sum())(np.array(xs));
    await expectClose(
      g,
      xs.map((v) => (v > 0 ? Math.cos(v) : 3 * v * v)),
      { rtol: 1e-5, atol: 1e-5 },
    );
  });

  test("jit equals eager for either predicate, across calls where it changes", async () => {
    const f = jit((x: JArray, y: JArray) =>
      lax.cond(
        x.sum().greater(y),
        (a: JArray, b: JArray) => a.mul(b),
        (a: JArray, b: JArray) => a.sub(b).sum(0, { keepdims: false }).reshape([1]).add(a),
        x,
        y,
      ),
    );
    const x = np.array([1, 2, 3]);
    for (const yv of [1, 100, 2, 50]) {
      const y = np.array(yv);
      const want = 6 > yv ? [yv, 2 * yv, 3 * yv] : [1, 2, 3].map((v) => v + (6 - 3 * yv));
      await expectClose(f(x, y), want);
    }
    expect(f.traceCount).toBe(1);
    const vg = jit(valueAndGrad((x: JArray) => piecewise(x.sum())));
    for (const v of [0.3, -0.4]) {
      const [val, g] = vg(np.array([v, v]));
      expect(await scalarOf(val)).toBeCloseTo(2 * v > 0 ? Math.sin(2 * v) : (2 * v) ** 3, 5);
      const d = 2 * v > 0 ? Math.cos(2 * v) : 3 * (2 * v) ** 2;
      await expectClose(g, [d, d], { rtol: 1e-5, atol: 1e-5 });
    }
  });

  test("jit: one cond step that runs only the chosen branch at each replay (kernels counted on the CPU)", async () => {
    // Branch 1 is ten matmuls; branch 0 one elementwise kernel.
    const f = jit((i: JArray, x: JArray, w: JArray) =>
      lax.switch(
        i,
        [
          (a: JArray) => a.add(1),
          (a: JArray) => {
            let h = a;
            for (let k = 0; k < 10; k++) h = np.tanh(h.matmul(w));
            return h;
          },
        ],
        x,
      ),
    );
    const x = np.array([[0.5, -0.25]]);
    const w = np.array([
      [0.9, 0.1],
      [-0.2, 0.8],
    ]);
    const loop = ([a, b]: [number, number]) => {
      for (let k = 0; k < 10; k++) [a, b] = [Math.tanh(a * 0.9 - b * 0.2), Math.tanh(a * 0.1 + b * 0.8)];
      return [a, b];
    };
    const backend = getBackend();
    const counters = (backend as unknown as { counters: { kernels?: number } }).counters;
    const kernels: Record<number, number> = {};
    // Top-level program runs per call: one replayed plan (a cond that is no step would make
    // the program run op by op at every call, as it did before).
    const run = backend.run?.bind(backend);
    let [topLevel, depth] = [0, 0];
    if (run) {
      backend.run = (p, slots) => {
        if (depth++ === 0) topLevel++;
        try {
          run(p, slots);
        } finally {
          depth--;
        }
      };
    }
    try {
      for (const [call, i] of [0, 1, 0, 1, 5].entries()) {
        const [before, runs] = [counters.kernels ?? 0, topLevel];
        const y = f(np.array(i, { dtype: "int32" }), x, w);
        await expectClose(y, [i === 0 ? [1.5, 0.75] : loop([0.5, -0.25])], { rtol: 1e-5, atol: 1e-6 });
        kernels[Math.min(i, 1)] = (counters.kernels ?? 0) - before;
        // (The first call records: it runs the branches' plans on their own too.)
        if (call > 0 && run && (backend.canReadSync || backend.runCond)) expect(topLevel - runs).toBe(1);
      }
    } finally {
      delete (backend as { run?: unknown }).run;
    }
    expect(f.traceCount).toBe(1);
    // Where the backend counts kernels run (the CPU), the light branch runs none of the ten matmuls.
    if (counters.kernels !== undefined && backend.canReadSync) {
      expect(kernels[0]).toBeLessThanOrEqual(2);
      expect(kernels[1]).toBeGreaterThanOrEqual(10);
    }
  });

  test("the programs type-check after every transformation and print their branches", () => {
    const s = new ShapeDtypeStruct([], "float32");
    const f = (x: JArray) => piecewise(x).add(x);
    for (const [name, g] of [
      ["f", f],
      ["grad(f)", grad(f)],
      ["vmap(f)", (x: JArray) => vmap(f)(x.reshape([1]))],
      ["grad(grad(f))", grad(grad(f))],
    ] as const) {
      const closed = makeJaxpr(g)(s);
      checkJaxpr(closed, name);
      // A batched predicate becomes selects (vmap's rule); the others keep a cond.
      if (name !== "vmap(f)") expect(String(closed)).toContain("cond[");
    }
  });
});
