/**
 * Activations against real jax.nn in float64 (fixtures/make_activations.py writes
 * fixtures/activations.json; the activations jax.nn lacks are their papers' formulas in numpy
 * there): values, derivatives (vmap of grad) away from the kinks and at them, finite-difference
 * and transpose checks (checkGrads), finite values and gradients at ±1e4, one vmap and one jit
 * check over the whole registry, and lookup by name. Tolerance: float32 against float64.
 */
import { readFileSync } from "node:fs";
import { grad, type Array as JArray, jit, np, vmap, WebjaxError } from "@webjax/core";
import { checkGrads, checkVmap, expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import * as nn from "../src/activations.js";
import { grid } from "./helpers.js";

interface Entry {
  y: number[];
  g: number[];
  x?: number[];
  gx?: number[];
}
const fx = JSON.parse(readFileSync(new URL("fixtures/activations.json", import.meta.url), "utf8")) as {
  x: number[];
  gx: number[];
  elementwise: Record<string, Entry>;
  kinks: Record<string, { x: number[]; g: number[] }>;
  softmax: Record<string, number[]>;
  logSoftmax: Record<string, number[]>;
  glu: Record<string, number[]>;
  standardize: Record<string, number[]>;
};
const tol = { rtol: 2e-5, atol: 2e-6 };
type F = (x: JArray) => JArray;

/** Fixture key → the function (parameters as the fixture's key says). */
const cases: [string, F][] = [
  ["identity", nn.identity],
  ["binaryStep", nn.binaryStep],
  ["sigmoid", nn.sigmoid],
  ["hardSigmoid", nn.hardSigmoid],
  ["hardSilu", nn.hardSilu],
  ["sparseSigmoid", nn.sparseSigmoid],
  ["logSigmoid", nn.logSigmoid],
  ["tanh", nn.tanh],
  ["hardTanh", nn.hardTanh],
  ["arctan", nn.arctan],
  ["softsign", nn.softsign],
  ["isru", (x) => nn.isru(x)],
  ["isru_0.5", (x) => nn.isru(x, 0.5)],
  ["relu", nn.relu],
  ["relu6", nn.relu6],
  ["leakyRelu", (x) => nn.leakyRelu(x)],
  ["leakyRelu_0.2", (x) => nn.leakyRelu(x, 0.2)],
  ["elu", (x) => nn.elu(x)],
  ["elu_2", (x) => nn.elu(x, 2)],
  ["selu", nn.selu],
  ["celu", (x) => nn.celu(x)],
  ["celu_0.5", (x) => nn.celu(x, 0.5)],
  ["isrlu", (x) => nn.isrlu(x)],
  ["isrlu_3", (x) => nn.isrlu(x, 3)],
  ["softplus", nn.softplus],
  ["sparsePlus", nn.sparsePlus],
  ["squareplus", (x) => nn.squareplus(x)],
  ["squareplus_1", (x) => nn.squareplus(x, 1)],
  ["bentIdentity", nn.bentIdentity],
  ["silu", nn.silu],
  ["gelu", (x) => nn.gelu(x)],
  ["gelu_exact", (x) => nn.gelu(x, { approximate: false })],
  ["mish", nn.mish],
  ["softExponential_0", (x) => nn.softExponential(x, 0)],
  ["softExponential_0.7", (x) => nn.softExponential(x, 0.7)],
  ["softExponential_-0.5", (x) => nn.softExponential(x, -0.5)],
  ["sinusoid", nn.sinusoid],
  ["sinc", nn.sinc],
];
const byName = new Map(cases);

describe("elementwise activations against jax.nn", () => {
  test("every fixture entry has a case", () => {
    expect(cases.map(([k]) => k).sort()).toEqual(Object.keys(fx.elementwise).sort());
  });

  test.each(cases)("%s: values and derivatives (vmap of grad)", async (name, f) => {
    const e = fx.elementwise[name] as Entry;
    await expectClose(f(np.array(e.x ?? fx.x)), e.y, tol);
    await expectClose(vmap(grad(f))(np.array(e.gx ?? fx.gx)), e.g, tol);
  });

  test.each(cases)("%s: checkGrads (finite differences, dot-product identity)", async (name, f) => {
    const e = fx.elementwise[name] as Entry;
    await checkGrads(f, [np.array(e.gx ?? fx.gx)]);
  });

  test.each(Object.entries(fx.kinks))("%s: derivatives at the kinks are JAX's", async (name, k) => {
    await expectClose(vmap(grad(byName.get(name) as F))(np.array(k.x)), k.g, tol);
  });

  test("second derivatives of the smooth ones (checkGrads, order 2)", async () => {
    const x = np.array(fx.gx);
    for (const f of [nn.softplus, nn.silu, nn.mish, nn.sinc, (a: JArray) => nn.gelu(a, { approximate: false })]) {
      await checkGrads(f, [x], { order: 2 });
    }
  });

  test("ArrayLike inputs; dtypes as jax.nn (relu keeps int32, sigmoid of ints is float32)", async () => {
    await expectClose(nn.relu([-1, 2]), [0, 2]);
    await expectClose(nn.gelu(0), [0]);
    const ints = np.array([-2, 3], "int32");
    expect(nn.relu(ints).dtype).toBe("int32");
    expect(nn.leakyRelu(ints).dtype).toBe("float32");
    expect(nn.sigmoid(ints).dtype).toBe("float32");
    expect(nn.elu(np.array([-1, 1])).dtype).toBe("float32");
  });

  test("relu keeps NaN (its value is max(x, 0)); swish and hardSwish are silu and hardSilu", async () => {
    await expectClose(nn.relu(np.array([Number.NaN, -Infinity, Infinity])), [Number.NaN, 0, Infinity]);
    expect(nn.swish).toBe(nn.silu);
    expect(nn.hardSwish).toBe(nn.hardSilu);
  });

  test("sinc is numpy's normalised sinc: 1 at 0, 0 at the integers, smooth across the Taylor switch", async () => {
    await expectClose(nn.sinc(np.array([0, 1, -2, 3])), [1, 0, 0, 0], { atol: 1e-7 });
    // sin(πx)/(πx) on both sides of |πx| = 0.05: x = 0.0159 (series) and 0.0160 (direct).
    const xs = [0.0159, 0.016];
    const want = xs.map((v) => Math.sin(Math.PI * v) / (Math.PI * v));
    await expectClose(nn.sinc(np.array(xs)), want, { rtol: 1e-6 });
  });
});

describe("softmax, logSoftmax, glu, standardize against jax.nn", () => {
  const x = grid([3, 5], 0.7, 0.3, 3);
  const big = grid([2, 4], 1.1, 0.2, 1e4);
  const mask = np.array([
    [true, false, true, true, false],
    [false, true, true, false, true],
    [true, true, true, true, true],
  ]);

  test("softmax over the last axis, axis 0, both axes, with a mask, and on logits of size 1e4", async () => {
    await expectClose(nn.softmax(x), fx.softmax.last as number[], tol);
    await expectClose(nn.softmax(x, { axis: 0 }), fx.softmax.axis0 as number[], tol);
    await expectClose(nn.softmax(x, { axis: [0, 1] }), fx.softmax.all as number[], tol);
    await expectClose(nn.softmax(x, { where: mask }), fx.softmax.where as number[], tol);
    await expectClose(nn.softmax(big), fx.softmax.big as number[], tol);
  });

  test("logSoftmax likewise; masked entries are −∞", async () => {
    await expectClose(nn.logSoftmax(x), fx.logSoftmax.last as number[], tol);
    await expectClose(nn.logSoftmax(x, { axis: 0 }), fx.logSoftmax.axis0 as number[], tol);
    await expectClose(nn.logSoftmax(big), fx.logSoftmax.big as number[], { rtol: 2e-5, atol: 2e-3 });
    const got = Array.from(await nn.logSoftmax(x, { where: mask }).data());
    const m = Array.from(await mask.data());
    await expectClose(np.array(got.filter((_, i) => m[i])), fx.logSoftmax.whereKept as number[], tol);
    expect(got.filter((_, i) => !m[i])).toEqual([-Infinity, -Infinity, -Infinity, -Infinity]);
  });

  test("a fully masked row gives zeros (softmax) and −∞ (logSoftmax), and zero gradients, not NaN", async () => {
    const row = np.array([[false, false, false]]);
    const z = np.array([[1, 2, 3]]);
    await expectClose(nn.softmax(z, { where: row }), [0, 0, 0]);
    await expectClose(nn.logSoftmax(z, { where: row }), [-Infinity, -Infinity, -Infinity]);
    const w = np.array([[0.3, -1, 2]]);
    await expectClose(grad((a: JArray) => nn.softmax(a, { where: row }).mul(w).sum())(z), [0, 0, 0]);
    await expectClose(grad((a: JArray) => nn.logSoftmax(a, { where: row }).mul(w).sum())(z), [0, 0, 0]);
  });

  test("glu over the last axis and axis 0; an odd axis is a ShapeError", async () => {
    await expectClose(nn.glu(grid([2, 6], 0.45, 0.1, 2)), fx.glu.last as number[], tol);
    await expectClose(nn.glu(grid([4, 3], 0.45, 0.1, 2), { axis: 0 }), fx.glu.axis0 as number[], tol);
    expect(() => nn.glu(np.zeros([2, 3]))).toThrow(/glu: axis -1 of \[2,3\] has odd size 3/);
  });

  test("standardize: last axis, axis 0, epsilon, a given mean and variance", async () => {
    const s = grid([3, 5], 0.31, 0.4, 2, 1);
    await expectClose(nn.standardize(s), fx.standardize.last as number[], tol);
    await expectClose(nn.standardize(s, { axis: 0 }), fx.standardize.axis0 as number[], tol);
    await expectClose(nn.standardize(s, { epsilon: 0.1 }), fx.standardize.eps as number[], tol);
    const mean = np.array([[0.5], [-0.25], [1.0]]);
    const variance = np.array([[2.0], [0.5], [1.5]]);
    await expectClose(nn.standardize(s, { mean, variance }), fx.standardize.given as number[], tol);
  });

  test("gradients of softmax, logSoftmax (masked too), glu and standardize (checkGrads)", async () => {
    await checkGrads((a) => nn.softmax(a), [x]);
    await checkGrads((a) => nn.softmax(a, { axis: 0 }), [x]);
    await checkGrads((a) => nn.logSoftmax(a), [x]);
    await checkGrads((a) => np.where(mask, nn.logSoftmax(a, { where: mask }), 0), [x]);
    await checkGrads((a) => nn.softmax(a, { where: mask }), [x]);
    await checkGrads((a) => nn.glu(a), [grid([2, 6], 0.45, 0.1, 2)]);
    await checkGrads((a) => nn.standardize(a), [grid([3, 5], 0.31, 0.4, 2, 1)], { fdTol: { rtol: 1e-5, atol: 1e-5 } });
  });

  test("oneHot and logsumexp are np's", () => {
    expect(nn.oneHot).toBe(np.oneHot);
    expect(nn.logsumexp).toBe(np.logsumexp);
  });
});

describe("the activations registry", () => {
  const names = Object.keys(nn.activations);
  /** Inputs of 4 elements (glu halves them) at ±1e4 and ±100. */
  const huge = np.array([-1e4, -100, 100, 1e4]);

  test.each(names)("%s: finite value and gradient at ±1e4", async (name) => {
    const f = nn.activations[name] as F;
    const y = Array.from(await f(huge).data());
    expect(y.every(Number.isFinite), `${name}(±1e4) = ${y}`).toBe(true);
    const wy = np.array([0.7, -1.3, 0.4, 2.1].slice(0, y.length));
    const g = Array.from(await grad((a: JArray) => f(a).mul(wy).sum())(huge).data());
    expect(g.every(Number.isFinite), `grad ${name} at ±1e4 = ${g}`).toBe(true);
  });

  test("the parametrised variants are finite at ±1e4 too (softExponential aside: it is an exponential)", async () => {
    const fs: F[] = [
      (a) => nn.elu(a, 2),
      (a) => nn.celu(a, 0.5),
      (a) => nn.isrlu(a, 3),
      (a) => nn.squareplus(a, 1),
      (a) => nn.leakyRelu(a, 0.2),
      (a) => nn.gelu(a, { approximate: false }),
    ];
    for (const f of fs) {
      const y = Array.from(await f(huge).data());
      const g = Array.from(await vmap(grad(f))(huge).data());
      expect([...y, ...g].every(Number.isFinite), `${f}: ${y} / ${g}`).toBe(true);
    }
    // Stable forms keep the digits: softplus(−30) = log1p(e⁻³⁰), logSigmoid(−1e4) = −1e4, squareplus(−1e4) = 1e-4.
    await expectClose(nn.softplus(np.array([-30])), [Math.log1p(Math.exp(-30))], { rtol: 1e-5, atol: 0 });
    await expectClose(nn.logSigmoid(np.array([-1e4])), [-1e4]);
    await expectClose(nn.squareplus(np.array([-1e4])), [1e-4], { rtol: 1e-5 });
  });

  test("vmap over the batch axis 1 equals a loop, for every activation", async () => {
    const xs = grid([4, 3], 0.9, 0.2, 2);
    for (const name of names) await checkVmap(nn.activations[name] as F, [xs], { inAxes: [1], rtol: 1e-5 });
  });

  test("jit gives the eager values, for every activation", async () => {
    const xs = grid([2, 4], 0.9, 0.2, 2);
    for (const name of names) {
      const f = nn.activations[name] as F;
      const want = Array.from(await f(xs).data());
      await expectClose(jit(f)(xs), want, { rtol: 1e-6, atol: 1e-6 });
    }
  });

  test("getActivation: camelCase, jax.nn's snake_case, any case", () => {
    expect(nn.getActivation("elu")).toBe(nn.activations.elu);
    expect(nn.getActivation("leaky_relu")).toBe(nn.activations.leakyRelu);
    expect(nn.getActivation("log_softmax")).toBe(nn.activations.logSoftmax);
    expect(nn.getActivation("soft_sign")).toBe(nn.softsign);
    expect(nn.getActivation("GELU")).toBe(nn.activations.gelu);
    expect(nn.getActivation("linear")).toBe(nn.identity);
  });

  test("an unknown name is a WebjaxError naming the nearest and the valid ones", () => {
    expect(() => nn.getActivation("rellu")).toThrow(WebjaxError);
    expect(() => nn.getActivation("rellu")).toThrow(
      /^getActivation: unknown activation "rellu" \(did you mean "relu"\?\); valid names: identity, linear, .*relu6, .*softmax/,
    );
    expect(() => nn.getActivation("nonsense")).toThrow(/unknown activation "nonsense"; valid names: /);
  });
});
