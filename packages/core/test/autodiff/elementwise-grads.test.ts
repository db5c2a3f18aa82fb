/**
 * Gradients of every differentiable elementwise primitive, checked both ways (jvp against central
 * differences in float64 on the CPU; the vjp/jvp dot-product identity in float32 on every
 * backend), at points away from each function's singularities, plus first derivatives against
 * closed forms.
 */
import { grad, type Array as JArray, jvp, np } from "@webjax/core";
import { checkGrads, expectClose, hasFloat64 } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

type Unary = (x: JArray) => JArray;
const unary: [string, Unary, number[], (x: number) => number][] = [
  ["negative", np.negative, [-1.5, 0.3, 2], () => -1],
  ["abs", np.abs, [-1.5, 0.3, 2], (x) => Math.sign(x)],
  ["exp", np.exp, [-1.5, 0.3, 2], Math.exp],
  ["log", np.log, [0.2, 1.3, 4], (x) => 1 / x],
  ["sqrt", np.sqrt, [0.2, 1.3, 4], (x) => 0.5 / Math.sqrt(x)],
  ["rsqrt", np.rsqrt, [0.2, 1.3, 4], (x) => -0.5 * x ** -1.5],
  ["tanh", np.tanh, [-1.5, 0.3, 2], (x) => 1 - Math.tanh(x) ** 2],
  ["sigmoid", np.sigmoid, [-1.5, 0.3, 2], (x) => Math.exp(-x) / (1 + Math.exp(-x)) ** 2],
  ["sin", np.sin, [-1.5, 0.3, 2], Math.cos],
  ["cos", np.cos, [-1.5, 0.3, 2], (x) => -Math.sin(x)],
  ["log1p", np.log1p, [-0.5, 0.3, 2], (x) => 1 / (1 + x)],
  ["expm1", np.expm1, [-1.5, 0.3, 2], Math.exp],
  ["tan", np.tan, [-1.2, 0.3, 1], (x) => 1 / Math.cos(x) ** 2],
  ["arcsin", np.arcsin, [-0.7, 0.3, 0.9], (x) => 1 / Math.sqrt(1 - x * x)],
  ["arccos", np.arccos, [-0.7, 0.3, 0.9], (x) => -1 / Math.sqrt(1 - x * x)],
  ["arctan", np.arctan, [-1.5, 0.3, 2], (x) => 1 / (1 + x * x)],
  ["sinh", np.sinh, [-1.5, 0.3, 2], Math.cosh],
  ["cosh", np.cosh, [-1.5, 0.3, 2], Math.sinh],
  ["arcsinh", np.arcsinh, [-1.5, 0.3, 2], (x) => 1 / Math.sqrt(x * x + 1)],
  ["arctanh", np.arctanh, [-0.7, 0.3, 0.9], (x) => 1 / (1 - x * x)],
  ["erf", np.erf, [-1.5, 0.3, 2], (x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x)],
  ["erfc", np.erfc, [-1.5, 0.3, 2], (x) => (-2 / Math.sqrt(Math.PI)) * Math.exp(-x * x)],
  ["cbrt", np.cbrt, [-1.5, 0.3, 2], (x) => 1 / (3 * Math.cbrt(x) ** 2)],
  ["exp2", np.exp2, [-1.5, 0.3, 2], (x) => Math.LN2 * 2 ** x],
  ["square", np.square, [-1.5, 0.3, 2], (x) => 2 * x],
  ["reciprocal", np.reciprocal, [-1.5, 0.3, 2], (x) => -1 / (x * x)],
  ["log2", np.log2, [0.2, 1.3, 4], (x) => 1 / (x * Math.LN2)],
  ["log10", np.log10, [0.2, 1.3, 4], (x) => 1 / (x * Math.LN10)],
];

describe("unary elementwise gradients", () => {
  test.each(unary)("%s: both checks and the closed-form derivative", async (_, f, xs, d) => {
    const x = np.array(xs);
    await checkGrads(f, [x], { order: 2 });
    const g = grad((v: JArray) => f(v).sum())(x);
    await expectClose(g, xs.map(d), { rtol: 2e-5, atol: 1e-6 });
  });

  test("erfinv: derivative √π/2·exp(erfinv(x)²)", async () => {
    const xs = [-0.6, 0.1, 0.5];
    const x = np.array(xs);
    await checkGrads(np.erfinv, [x], { order: 2, fdTol: { rtol: 1e-5, atol: 1e-5 } });
    const y = await np.erfinv(x).data();
    const g = grad((v: JArray) => np.erfinv(v).sum())(x);
    await expectClose(
      g,
      xs.map((_, i) => (Math.sqrt(Math.PI) / 2) * Math.exp((y[i] as number) ** 2)),
      { rtol: 1e-5 },
    );
  });

  test("rounding, sign and comparisons have zero derivatives", async () => {
    const x = np.array([-1.5, 0.3, 2.7]);
    for (const f of [np.floor, np.ceil, np.round, np.sign, np.trunc]) {
      await expectClose(grad((v: JArray) => f(v).sum())(x), [0, 0, 0]);
    }
    const [, t] = jvp((v: JArray) => np.greater(v, 0), [x], [np.ones([3])]);
    expect(t.dtype).toBe("bool");
  });
});

const binary: [string, (x: JArray, y: JArray) => JArray, number[], number[]][] = [
  ["add", np.add, [-1.5, 0.3, 2], [0.7, -2, 1.1]],
  ["subtract", np.subtract, [-1.5, 0.3, 2], [0.7, -2, 1.1]],
  ["multiply", np.multiply, [-1.5, 0.3, 2], [0.7, -2, 1.1]],
  ["divide", np.divide, [-1.5, 0.3, 2], [0.7, -2, 1.1]],
  ["power", np.power, [0.5, 1.3, 2], [0.7, -2, 1.1]],
  ["maximum", np.maximum, [-1.5, 0.3, 2], [0.7, -2, 1.1]],
  ["minimum", np.minimum, [-1.5, 0.3, 2], [0.7, -2, 1.1]],
  ["arctan2", np.arctan2, [-1.5, 0.3, 2], [0.7, -2, 1.1]],
  ["mod (lowers to rem)", np.mod, [5.3, -4.1, 2], [1.5, 1.5, -0.7]],
  ["logaddexp", np.logaddexp, [-1.5, 0.3, 2], [0.7, -2, 1.1]],
];

describe("binary elementwise gradients", () => {
  test.each(binary)("%s: both checks in both arguments", async (_, f, xs, ys) => {
    await checkGrads(f, [np.array(xs), np.array(ys)], { order: 2 });
  });

  test("broadcasting: the gradient of a broadcast operand sums over the broadcast axes", async () => {
    const x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = np.array([0.5, -1, 2]);
    await checkGrads((u, v) => np.multiply(u, v), [x, b]);
    const g = grad((v: JArray) => np.multiply(x, v).sum())(b);
    await expectClose(g, [5, 7, 9]);
  });

  test("power: closed forms in both arguments", async () => {
    const [gx, gy] = grad((x: JArray, y: JArray) => np.power(x, y).sum(), { argnums: [0, 1] })(
      np.array([2, 3]),
      np.array([3, 0.5]),
    );
    await expectClose(gx, [3 * 4, 0.5 * 3 ** -0.5], { rtol: 1e-6 });
    await expectClose(gy, [Math.log(2) * 8, Math.log(3) * Math.sqrt(3)], { rtol: 1e-6 });
  });

  test("where/select: the gradient goes to the chosen branch", async () => {
    const c = np.array([true, false, true]);
    const [gx, gy] = grad(
      (x: JArray, y: JArray) =>
        np
          .where(c, x, y)
          .mul(np.array([1, 2, 3]))
          .sum(),
      {
        argnums: [0, 1],
      },
    )(np.zeros([3]), np.zeros([3]));
    await expectClose(gx, [1, 0, 3]);
    await expectClose(gy, [0, 2, 0]);
    await checkGrads((x, y) => np.where(c, x, y), [np.array([1, 2, 3]), np.array([4, 5, 6])]);
  });

  test("clip: gradient 1 inside, 0 outside", async () => {
    const g = grad((x: JArray) => np.clip(x, -1, 1).sum())(np.array([-2, 0.5, 3]));
    await expectClose(g, [0, 1, 0]);
  });

  test("convert_element_type: float casts are linear, integer casts cut the gradient", async () => {
    // float32 → float16 → float32 carries the cotangent back through both casts
    const h = grad((x: JArray) =>
      x
        .astype("float16")
        .astype("float32")
        .mul(np.array([3, -2]))
        .sum(),
    )(np.array([1, 2]));
    expect(h.dtype).toBe("float32");
    await expectClose(h, [3, -2]);
    if (hasFloat64) {
      await checkGrads((x) => x.astype("float64").mul(x.astype("float64")).astype("float32"), [np.array([1, -2, 3])], {
        fd: false,
      });
    }
    const g = grad((x: JArray) => x.astype("int32").astype("float32").sum().add(x.sum()))(np.array([1.5, 2.5]));
    await expectClose(g, [1, 1]);
  });
});
