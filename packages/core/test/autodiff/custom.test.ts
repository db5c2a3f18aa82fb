/** customJvp, customVjp and stopGradient: JAX's canonical examples, with hand-computed values. */
import {
  customJvp,
  customVjp,
  grad,
  type Array as JArray,
  jvp,
  np,
  stopGradient,
  TracerError,
  valueAndGrad,
  vjp,
} from "@webjax/core";
import { checkGrads, expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

describe("stopGradient", () => {
  test("cuts the gradient but keeps the value, on pytrees", async () => {
    const f = (x: JArray) => x.mul(stopGradient(x)).sum();
    const [v, g] = valueAndGrad(f)(np.array([1, 2, 3]));
    await expectClose(v, 14);
    await expectClose(g, [1, 2, 3]);
    const t = stopGradient({ a: np.array([1]), b: [np.array([2])] });
    await expectClose(t.b[0] as JArray, [2]);
    const [, tan] = jvp((x: JArray) => stopGradient(x).mul(2), [np.array([1])], [np.array([1])]);
    await expectClose(tan, [0]);
  });
});

describe("customJvp", () => {
  // A logsumexp whose rule is softmax · t, stable at any magnitude.
  const lse = customJvp(
    (x: JArray) => np.logsumexp(x),
    ([x], [t]) => {
      const y = np.logsumexp(x);
      const sm = np.exp(x.sub(y));
      return [y, sm.mul(t).sum()] as const;
    },
  );

  test("the rule is used forward and transposed in reverse", async () => {
    // float32 rounds logsumexp([1000, 1000]) = 1000 + ln 2 to a 6e-5 grid, hence the tolerance
    await expectClose(grad(lse)(np.array([1000, 1000])), [0.5, 0.5], { rtol: 1e-4 });
    const e = Math.exp(-1);
    await expectClose(grad(lse)(np.array([1, 0])), [1 / (1 + e), e / (1 + e)], { rtol: 1e-6 });
    await checkGrads(lse, [np.array([0.3, -1.2, 2])]);
  });

  test("the rule wins over the function's own derivative (a clipped-tangent rule)", async () => {
    const f = customJvp(
      (x: JArray) => np.sin(x),
      ([x], [t]) => [np.sin(x), np.clip(t, -0.1, 0.1)] as const,
    );
    const [, tan] = jvp(f, [np.array([0.5, 1])], [np.array([1, -0.05])]);
    await expectClose(tan, [0.1, -0.05], { rtol: 1e-6 });
  });

  test("outside any transform the function just runs; a mismatched tangent is an error", async () => {
    const f = customJvp(
      (x: JArray) => x.mul(2),
      ([x], [t]) => [x.mul(2), t.sum()] as never,
    );
    await expectClose(f(np.array([1, 2])), [2, 4]);
    expect(() => jvp(f, [np.array([1, 2])], [np.array([1, 1])])).toThrow(TracerError);
  });
});

describe("customVjp", () => {
  test("gradient clipping inside the backward pass", async () => {
    const clipGrad = customVjp(
      (x: JArray) => x.mul(1),
      (x: JArray) => [x.mul(1), null] as const,
      (_res, ct) => [np.clip(ct, -1, 1)],
    );
    const g = grad((x: JArray) =>
      clipGrad(x)
        .mul(np.array([5, 0.5, -3]))
        .sum(),
    )(np.array([1, 2, 3]));
    await expectClose(g, [1, 0.5, -1]);
  });

  test("a straight-through estimator: round forward, identity backward", async () => {
    const ste = customVjp(
      (x: JArray) => np.round(x),
      (x: JArray) => [np.round(x), null] as const,
      (_res, ct) => [ct],
    );
    const [v, g] = valueAndGrad((x: JArray) => ste(x).mul(x).sum())(np.array([0.4, 1.6]));
    await expectClose(v, 0 * 0.4 + 2 * 1.6, { rtol: 1e-6 });
    // d/dx [ste(x)·x] = ste'(x)·x + ste(x) = x + round(x)
    await expectClose(g, [0.4, 3.6], { rtol: 1e-6 });
  });

  test("residuals and several arguments: f(x, y) = x·y with a hand-written backward", async () => {
    const mul = customVjp(
      (x: JArray, y: JArray) => x.mul(y),
      (x: JArray, y: JArray) => [x.mul(y), { x, y }] as const,
      (res, ct) => [ct.mul(res.y), ct.mul(res.x)],
    );
    const [gx, gy] = grad((x: JArray, y: JArray) => mul(x, y).sum(), { argnums: [0, 1] })(
      np.array([2, 3]),
      np.array([5, 7]),
    );
    await expectClose(gx, [5, 7]);
    await expectClose(gy, [2, 3]);
    // the same cotangents as the built-in rule, for a random cotangent
    const ct = np.array([0.7, -1.3]);
    const [, f1] = vjp(mul, [np.array([0.5, -1]), np.array([2, 0.3])]);
    const [, f2] = vjp((x: JArray, y: JArray) => x.mul(y), [np.array([0.5, -1]), np.array([2, 0.3])]);
    const [a1, b1] = f1(ct);
    const [a2, b2] = f2(ct);
    await expectClose(a1, await a2.data());
    await expectClose(b1, await b2.data());
  });

  test("grad of grad differentiates the backward pass", async () => {
    const sq = customVjp(
      (x: JArray) => x.mul(x),
      (x: JArray) => [x.mul(x), x] as const,
      (x, ct) => [ct.mul(x).mul(2)],
    );
    await expectClose(grad(grad((x: JArray) => sq(x).sum()))(np.array(3)), 2);
  });

  test("forward mode is an error, as in JAX; bad cotangents are named", () => {
    const f = customVjp(
      (x: JArray) => x.mul(2),
      (x: JArray) => [x.mul(2), null] as const,
      (_r, ct) => [ct.sum()],
    );
    expect(() => jvp(f, [np.ones([2])], [np.ones([2])])).toThrow(/forward-mode differentiation.*customVjp/);
    const [, vjpFn] = vjp(f, [np.ones([2])]);
    expect(() => vjpFn(np.ones([2]))).toThrow(/cotangent for input leaf 0 is float32\[\]; expected float32\[2\]/);
  });
});
