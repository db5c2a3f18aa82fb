/**
 * Regressions from the review of the autodiff transforms: output ownership (disposing a result
 * never frees the caller's arrays or a residual), zero tangents in linearize, empty products,
 * cumprod's higher derivatives at zeros, custom rules closing over traced values, JS numbers.
 */
import {
  customJvp,
  customVjp,
  grad,
  type Array as JArray,
  jvp,
  linearize,
  memoryStats,
  np,
  TracerError,
  valueAndGrad,
  vjp,
} from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const live = () => Object.values(memoryStats()).reduce((n, m) => n + m.liveBuffers, 0);
const pick = (v: JArray, i: number) => np.take(v, np.array([i], { dtype: "int32" })).sum();

describe("results the caller owns", () => {
  test("grad never disposes an argument, a closed-over constant or an aux leaf that is the loss", async () => {
    const y = np.array(2.0);
    const c = np.array(3.0);
    await expectClose(grad((_a: JArray, b: JArray) => b)(np.array(1.0), y), 0);
    await expectClose(grad((_a: JArray) => c)(np.array(1.0)), 0);
    expect(y.disposed).toBe(false);
    expect(c.disposed).toBe(false);
    const [g, aux] = grad(
      (x: JArray) => {
        const l = x.mul(x).sum();
        return [l, l] as const;
      },
      { hasAux: true },
    )(np.array([1, 2]));
    await expectClose(aux, 5);
    await expectClose(g, [2, 4]);
  });

  test("disposing outputs of jvp, valueAndGrad and vjp leaves the caller's arrays alive", async () => {
    const c = np.array([1, 2]);
    const [o] = jvp((_x: JArray) => c, [np.array(1.0)], [np.array(1.0)]);
    o.dispose();
    expect(c.disposed).toBe(false);
    const y = np.array(2.0);
    const [loss] = valueAndGrad((_a: JArray, b: JArray) => b)(np.array(1.0), y);
    loss.dispose();
    expect(y.disposed).toBe(false);
    const x = np.array([1, 2]);
    const [out, f] = vjp((v: JArray) => v, [x]);
    out.dispose();
    f(np.ones([2]))[0].dispose();
    expect(x.disposed).toBe(false);
  });

  test("a customVjp bwd returning a residual: the gradient outlives the residuals", async () => {
    const f = customVjp(
      (x: JArray) => x.mul(2),
      (x: JArray) => [x.mul(2), np.full([2], 2)] as const,
      (res) => [res],
    );
    const g = grad((x: JArray) => f(x).sum())(np.array([1, 2]));
    expect(g.disposed).toBe(false);
    await expectClose(g, [2, 2]);
    const [, fn] = vjp(f, [np.array([1, 2])]);
    fn(np.ones([2]))[0].dispose();
    await expectClose(fn(np.ones([2]))[0], [2, 2]);
  });

  test("nested transforms: a closed-over concrete value survives an inner grad", async () => {
    const g = grad((a: JArray) => {
      const c = np.sin(np.array(1.0));
      const inner = grad((_b: JArray) => c)(a);
      return c.mul(a).add(inner);
    })(np.array(2.0));
    await expectClose(g, Math.sin(1), { rtol: 1e-6 });
  });

  test("handles made for nested outputs are released with the outermost transform", () => {
    const c = np.ones([5]);
    const x = np.ones([3]);
    const before = live();
    grad((v: JArray) => {
      jvp((u: JArray) => u, [c], [c]);
      return v.sum();
    })(x).dispose();
    expect(live()).toBe(before);
  });
});

describe("zeros and edges", () => {
  test("linearize: outputs with zero tangents (constants, integers) give zeros", async () => {
    const [, f] = linearize((x: JArray) => [x.mul(2), np.ones([2])] as const, [np.array([1, 2])]);
    const [a, b] = f(np.array([1, 1]));
    await expectClose(a, [2, 2]);
    await expectClose(b, [0, 0]);
    const [, h] = linearize((x: JArray) => np.argmax(x), [np.array([1, 2])]);
    const z = h(np.array([1, 1]));
    expect(z.dtype).toBe("int32");
    await expectClose(z, 0);
  });

  test("the gradient of an empty product is empty", async () => {
    const g = grad((a: JArray) => np.prod(a))(np.zeros([0]));
    expect(g.shape).toEqual([0]);
    await expectClose(grad((a: JArray) => np.prod(a, 1).sum())(np.zeros([2, 0])), []);
  });

  test("cumprod and prod: higher derivatives at zeros are exact", async () => {
    // Σ cumprod = x0 + x0x1 + x0x1x2 → ∇(∂/∂x1) = ∇(x0 + x0x2) = [1 + x2, 0, x0]
    const h = grad((v: JArray) => pick(grad((u: JArray) => np.cumprod(u).sum())(v), 1))(np.array([0, 2, 3]));
    await expectClose(h, [4, 0, 0]);
    // ∂³ prod / ∂x0∂x1∂x2 = 1 at (0, 0, 0)
    const d1 = (v: JArray) => pick(grad((u: JArray) => np.prod(u))(v), 0);
    const d3 = grad((v: JArray) => pick(grad(d1)(v), 1))(np.array([0, 0, 0]));
    await expectClose(d3, [0, 0, 1]);
  });

  test("JS numbers are float32 for differentiation (2.0 is 2 in JS)", async () => {
    await expectClose(grad((x: JArray) => np.square(x))(2 as unknown as JArray), 4);
    const [, t] = jvp((x: JArray) => x.mul(3), [np.array(1)], [1 as unknown as JArray]);
    await expectClose(t, 3);
  });
});

describe("custom rules and closed-over traced values", () => {
  test("customJvp/customVjp closing over the differentiated value is a clear error", () => {
    const h = (x: JArray) =>
      customJvp(
        (y: JArray) => y.mul(x),
        ([y], [t]) => [y.mul(x), t.mul(x)] as const,
      )(x);
    expect(() => jvp(h, [np.array(3.0)], [np.array(1.0)])).toThrow(TracerError);
    expect(() => jvp(h, [np.array(3.0)], [np.array(1.0)])).toThrow(/closes over/);
    const k = (x: JArray) =>
      customVjp(
        (y: JArray) => y.mul(x),
        (y: JArray) => [y.mul(x), y] as const,
        (_y, ct) => [ct.mul(x)],
      )(x);
    expect(() => grad(k)(np.array(3.0))).toThrow(/closes over/);
  });
});
