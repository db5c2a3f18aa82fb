/**
 * lax.scan, lax.foriLoop and lax.map (issue 24): values against JS loops, an RNN's gradient over
 * 100 steps against the same recurrence unrolled in a JS loop and against central differences,
 * vmap against a loop of calls, jit against eager, and a jitted scan's program the same length
 * for 10 and 1,000 steps.
 */
import {
  checkLeaks,
  collect,
  grad,
  type Array as JArray,
  jit,
  jvp,
  lax,
  makeJaxpr,
  np,
  random,
  ShapeDtypeStruct,
  vmap,
} from "@webjax/core";
import { checkJaxpr } from "@webjax/core/internal";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const values = async (x: JArray) => Array.from(await x.data());
/** Row t of x (its leading axis dropped). */
const rowOf = (x: JArray, t: number) =>
  lax
    .slice(
      x,
      x.shape.map((_, d) => (d === 0 ? t : 0)),
      x.shape.map((n, d) => (d === 0 ? t + 1 : n)),
    )
    .reshape(x.shape.slice(1));

/** One RNN step: h' = tanh(h·W + x·U + b); y = h'·v. */
const cell = (p: { W: JArray; U: JArray; b: JArray; v: JArray }) => (h: JArray, x: JArray) => {
  const next = np.tanh(h.matmul(p.W).add(x.matmul(p.U)).add(p.b));
  return [next, next.matmul(p.v)] as const;
};

/** Σ ys² + Σ h_T over a sequence, by scan or by a JS loop. */
const rnnLoss = (useScan: boolean) => (p: { W: JArray; U: JArray; b: JArray; v: JArray }, h0: JArray, xs: JArray) => {
  if (useScan) {
    const [h, ys] = lax.scan(cell(p), h0, xs);
    return ys.square().sum().add(h.sum());
  }
  let h = h0;
  let acc = np.zeros([]);
  for (let t = 0; t < (xs.shape[0] as number); t++) {
    const [next, y] = cell(p)(h, rowOf(xs, t));
    acc = acc.add(y.square().sum());
    h = next;
  }
  return acc.add(h.sum());
};

describe("lax.scan, foriLoop and map", () => {
  test("a running sum: the carry and the stacked ys equal cumsum, forwards and reversed", async () => {
    const xs = np.array([1, 2, 3, 4, 5]);
    const step = (c: JArray, x: JArray) => [c.add(x), c.add(x).mul(10)] as const;
    const [total, ys] = lax.scan(step, np.array(0), xs);
    expect(await values(total)).toEqual([15]);
    expect(await values(ys)).toEqual([10, 30, 60, 100, 150]);
    const [rt, rys] = lax.scan(step, np.array(0), xs, { reverse: true });
    expect(await values(rt)).toEqual([15]);
    // From the last slice: partial sums 5, 9, 12, 14, 15 at positions 4 … 0.
    expect(await values(rys)).toEqual([150, 140, 120, 90, 50]);
    // No xs: length steps; a pytree carry.
    const [c] = lax.scan(
      (s: { a: JArray; n: number }) => [{ a: s.a.mul(2), n: s.n }, null] as const,
      { a: np.array(1), n: 3 },
      null,
      {
        length: 10,
      },
    );
    expect(await values(c.a)).toEqual([1024]);
  });

  test("foriLoop and map", async () => {
    const out = lax.foriLoop(0, 5, (i, v: JArray) => v.add(i.astype("float32")), np.array(0.5));
    expect(await values(out)).toEqual([10.5]);
    expect(await values(lax.foriLoop(3, 3, (_i, v: JArray) => v.mul(2), np.array(7)))).toEqual([7]);
    const m = lax.map(
      (r: JArray) => r.sum(),
      np.array([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
    );
    expect(await values(m)).toEqual([3, 7, 11]);
  });

  test("an RNN over 100 steps: grad equals the unrolled JS loop's and central differences", async () => {
    const [k1, k2, k3, k4] = random.split(random.key(0), 4) as unknown as JArray[];
    const p = {
      W: random.normal(k1 as JArray, [4, 4]).mul(0.4),
      U: random.normal(k2 as JArray, [3, 4]).mul(0.4),
      b: np.array([0.1, -0.2, 0.05, 0]),
      v: random.normal(k3 as JArray, [4, 2]),
    };
    const h0 = np.zeros([4]);
    const xs = random.normal(k4 as JArray, [100, 3]);
    const viaScan = rnnLoss(true);
    const viaLoop = rnnLoss(false);
    const ls = await values(viaScan(p, h0, xs));
    const ll = await values(viaLoop(p, h0, xs));
    expect(ls[0]).toBeCloseTo(ll[0] as number, 3);
    const gs = grad(viaScan)(p, h0, xs);
    const gl = grad(viaLoop)(p, h0, xs);
    for (const k of ["W", "U", "b", "v"] as const)
      await expectClose(gs[k], await gl[k].toArray(), { rtol: 1e-4, atol: 1e-5 });
    // Central differences on two weights.
    const h = 1e-2;
    for (const [r, c] of [
      [0, 1],
      [3, 2],
    ] as const) {
      const basis = np.array(
        Float32Array.from({ length: 16 }, (_, i) => (i === r * 4 + c ? 1 : 0)),
        { shape: [4, 4] },
      );
      const plus = await values(viaScan({ ...p, W: p.W.add(basis.mul(h)) }, h0, xs));
      const minus = await values(viaScan({ ...p, W: p.W.sub(basis.mul(h)) }, h0, xs));
      const fd = ((plus[0] as number) - (minus[0] as number)) / (2 * h);
      const g = (await values(gs.W))[r * 4 + c] as number;
      expect(Math.abs(g - fd)).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
    }
  });

  test("a residual computed from consts alone is hoisted out of the loop, not stacked per step", async () => {
    const w = np.array([
      [0.5, -0.2],
      [0.3, 0.1],
    ]);
    const xs = np.linspace(-1, 1, 12).reshape([6, 2]);
    // W·W depends only on the const: the backward pass needs it once, not once per step.
    const viaScan = (m: JArray) =>
      lax
        .scan((h: JArray, x: JArray) => [np.tanh(h.matmul(m.matmul(m)).add(x)), null] as const, np.ones([2]), xs)[0]
        .sum();
    const viaLoop = (m: JArray) => {
      let h = np.ones([2]);
      for (let t = 0; t < 6; t++) h = np.tanh(h.matmul(m.matmul(m)).add(rowOf(xs, t)));
      return h.sum();
    };
    await expectClose(grad(viaScan)(w), await grad(viaLoop)(w).toArray(), { rtol: 1e-5, atol: 1e-6 });
    const closed = makeJaxpr(grad(viaScan))(w);
    checkJaxpr(closed, "grad of a scan with a const-only residual");
    const scans = closed.jaxpr.eqns.filter((e) => e.prim === "scan");
    const stacked = (scans[0]?.outputs ?? []).map((v) => v.aval.shape.join("x"));
    expect(stacked).not.toContain("6x2x2");
  });

  test("jvp of a scan equals the loop's; gradient wrt the initial carry and the xs", async () => {
    const f = (h0: JArray, xs: JArray) =>
      lax.scan((h: JArray, x: JArray) => [np.sin(h.mul(x)), h.mul(x)] as const, h0, xs);
    const h0 = np.array([0.5, -0.3]);
    const xs = np.array([
      [1, 2],
      [0.5, -1],
      [2, 0.25],
    ]);
    const th = np.array([1, 0]);
    const tx = np.ones([3, 2]);
    const [, [tc, ty]] = jvp(f, [h0, xs], [th, tx]);
    // By hand through the loop (forward mode in JS numbers).
    const hv = [0.5, -0.3];
    const dv = [1, 0];
    const X = [
      [1, 2],
      [0.5, -1],
      [2, 0.25],
    ];
    const dys: number[] = [];
    for (const row of X) {
      for (let i = 0; i < 2; i++) {
        const x = row[i] as number;
        const hx = (hv[i] as number) * x;
        const dhx = (dv[i] as number) * x + (hv[i] as number) * 1;
        dys.push(dhx);
        hv[i] = Math.sin(hx);
        dv[i] = Math.cos(hx) * dhx;
      }
    }
    await expectClose(tc, dv, { rtol: 1e-5, atol: 1e-6 });
    await expectClose(ty, dys, { rtol: 1e-5, atol: 1e-6 });
    const g = grad(
      (a: JArray, b: JArray) => {
        const [c, ys] = f(a, b);
        return c.sum().add(ys.sum());
      },
      { argnums: [0, 1] },
    )(h0, xs);
    const gl = grad(
      (a: JArray, b: JArray) => {
        let h = a;
        let acc = np.zeros([]);
        for (let t = 0; t < 3; t++) {
          const x = rowOf(b, t);
          acc = acc.add(h.mul(x).sum());
          h = np.sin(h.mul(x));
        }
        return h.sum().add(acc);
      },
      { argnums: [0, 1] },
    )(h0, xs);
    await expectClose(g[0], await gl[0].toArray(), { rtol: 1e-5, atol: 1e-6 });
    await expectClose(g[1], await gl[1].toArray(), { rtol: 1e-5, atol: 1e-6 });
  });

  test("vmap of a scan equals a loop of scans (batched xs, batched and shared carries)", async () => {
    const f = (h0: JArray, xs: JArray) =>
      lax.scan((h: JArray, x: JArray) => [h.mul(0.5).add(x), h.sum()] as const, h0, xs);
    const xsB = np.arange(24).astype("float32").reshape([2, 4, 3]);
    const h0 = np.array([1, 2, 3]);
    const [cB, yB] = vmap(f, { inAxes: [null, 0] })(h0, xsB);
    for (let b = 0; b < 2; b++) {
      const [c, y] = f(h0, rowOf(xsB, b));
      await expectClose(rowOf(cB, b), await c.toArray());
      await expectClose(rowOf(yB, b), await y.toArray());
    }
    const gB = vmap(grad((h: JArray, xs: JArray) => f(h, xs)[1].sum()))(np.stack([h0, h0.mul(2)]), xsB);
    expect(gB.shape).toEqual([2, 3]);
  });

  test("jit equals eager, and the program does not grow with the length", async () => {
    const f = (xs: JArray) => lax.scan((c: JArray, x: JArray) => [c.mul(0.9).add(x), c] as const, np.array(0), xs);
    const jf = jit(f);
    const xs = np.linspace(0, 1, 50);
    const [c, ys] = jf(xs);
    const [ce, yse] = f(xs);
    await expectClose(c, await ce.toArray(), { rtol: 1e-6, atol: 1e-6 });
    await expectClose(ys, await yse.toArray(), { rtol: 1e-6, atol: 1e-6 });
    const eqns = (n: number) => makeJaxpr(f)(new ShapeDtypeStruct([n], "float32")).jaxpr.eqns.length;
    expect(eqns(10)).toBe(eqns(1000));
    const ge = (n: number) =>
      makeJaxpr(grad((x: JArray) => f(x)[1].sum()))(new ShapeDtypeStruct([n], "float32")).jaxpr.eqns.length;
    expect(ge(10)).toBe(ge(1000));
  });

  test("a carry that changes type is an error naming both; the programs type-check after each transform", () => {
    expect(() => lax.scan((c: JArray) => [c.reshape([1]), null] as const, np.array(0), null, { length: 3 })).toThrow(
      /carry leaf 0 comes in as float32\[\] but the body returns float32\[1\]/,
    );
    expect(() => lax.scan((c: JArray, x: JArray) => [c, x] as const, np.array(0), np.ones([3]), { length: 4 })).toThrow(
      /needs 4 leading rows/,
    );
    const s = new ShapeDtypeStruct([5], "float32");
    const f = (xs: JArray) =>
      lax.scan((c: JArray, x: JArray) => [np.sin(c.mul(x)), c.mul(x)] as const, np.array(1), xs)[1].sum();
    for (const [name, g] of [
      ["f", f],
      ["grad(f)", grad(f)],
      ["grad(grad(f)·1)", grad((x: JArray) => grad(f)(x).sum())],
      ["vmap(grad(f))", (x: JArray) => vmap(grad(f))(x.reshape([1, 5]))],
    ] as const) {
      const closed = makeJaxpr(g)(s);
      checkJaxpr(closed, name);
      expect(String(closed)).toContain("scan[");
    }
  });

  test("eager scans, conds and their gradients leave no buffer behind", async () => {
    const xs = np.array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const h0 = np.array([0.5, 0.25]);
    const step = (c: JArray, x: JArray) => {
      const next = lax.cond(
        c.sum().greater(2),
        (a: JArray) => a.mul(0.5),
        (a: JArray) => np.sin(a).add(x),
        c,
      );
      return [next, next.sum()] as const;
    };
    const report = await checkLeaks(async () => {
      {
        const [c, ys] = lax.scan(step, h0, xs);
        using g = grad((h: JArray) => lax.scan(step, h, xs)[1].sum())(h0);
        using m = lax.map((r: JArray) => r.mul(2), xs);
        await Promise.all([c.data(), ys.data(), g.data(), m.data()]);
        c.dispose();
        ys.dispose();
      }
      // The programs staged for these calls hold their literal scalars until they are collected:
      // a chain (a body's program, then its literals) that a loaded machine may take two
      // collections to finish.
      await collect();
      await collect();
    });
    expect(report.details, "buffers left alive").toEqual([]);
  });
});
