/**
 * DESIGN memory rule 1 for the autodiff transforms: every intermediate is released when the
 * transform returns; a vjp function's residuals live exactly as long as it does.
 */
import {
  checkLeaks,
  grad,
  type Array as JArray,
  jvp,
  linearize,
  memoryStats,
  np,
  valueAndGrad,
  vjp,
} from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const mlp = (p: { w1: JArray; b1: JArray; w2: JArray }, x: JArray, y: JArray) => {
  const h = np.tanh(np.matmul(x, p.w1).add(p.b1));
  return np.square(np.matmul(h, p.w2).sub(y)).mean();
};

describe("autodiff memory", () => {
  test("1,000 valueAndGrad calls leave nothing alive", async () => {
    const p = { w1: np.ones([4, 8]).mul(0.1), b1: np.zeros([8]), w2: np.ones([8, 2]).mul(0.2) };
    const x = np.ones([3, 4]);
    const y = np.zeros([3, 2]);
    const report = await checkLeaks(async () => {
      for (let i = 0; i < 1000; i++) {
        const [loss, g] = valueAndGrad(mlp)(p, x, y);
        loss.dispose();
        g.w1.dispose();
        g.b1.dispose();
        g.w2.dispose();
        if (i % 250 === 0) await loss.blockUntilReady().catch(() => undefined);
      }
    });
    expect(report.details).toEqual([]);
    expect(report.buffers).toBe(0);
  });

  test("a failing function inside grad releases what it made", async () => {
    const x = np.ones([100]);
    const report = await checkLeaks(() => {
      expect(() =>
        grad((v: JArray) => {
          np.exp(v).mul(3);
          return v; // not a scalar
        })(x),
      ).toThrow();
    });
    expect(report.details).toEqual([]);
  });

  test("jvp and grad(grad) release their intermediates", async () => {
    const [x, v, s] = [np.ones([10]), np.ones([10]), np.array(1)];
    const report = await checkLeaks(() => {
      const [o, t] = jvp((u: JArray) => np.sin(u).mul(np.cos(u)), [x], [v]);
      const h = grad(grad((u: JArray) => np.sin(u).sum()))(s);
      for (const a of [o, t, h]) a.dispose();
    });
    expect(report.details).toEqual([]);
  });

  test("vjp residuals live until vjpFn.dispose(); a call after it is an error", async () => {
    const live = () => Object.values(memoryStats()).reduce((n, m) => n + m.liveBuffers, 0);
    const x = np.ones([1000]);
    const ct = np.ones([1000]);
    const before = live();
    const [y, vjpFn] = vjp((v: JArray) => np.exp(v).mul(v), [x]);
    y.dispose();
    // the residuals (exp(x), and x, whose buffer the caller also holds) are held by vjpFn
    expect(live()).toBe(before + 1);
    const [g1] = vjpFn(ct);
    const [g2] = vjpFn(ct);
    await expectClose(g1, new Array(1000).fill(2 * Math.E), { rtol: 1e-6 });
    await expectClose(g2, new Array(1000).fill(2 * Math.E), { rtol: 1e-6 });
    g1.dispose();
    g2.dispose();
    vjpFn.dispose();
    expect(live()).toBe(before);
    expect(() => vjpFn(ct)).toThrow(/disposed/);
  });

  test("linearize's function owns its residuals the same way", async () => {
    const [x, v] = [np.ones([50]), np.ones([50])];
    const report = await checkLeaks(() => {
      const [y, f] = linearize((u: JArray) => np.tanh(u), [x]);
      const t = f(v);
      f.dispose();
      y.dispose();
      t.dispose();
    });
    expect(report.details).toEqual([]);
  });
});
