/**
 * optax.losses against real optax 0.2.8 (fixtures/make_losses.py writes fixtures/losses.json;
 * binaryCrossEntropy follows Keras' formula and poissonNll e^x − t·x, computed there with
 * numpy). Tolerance 1e-5 (float32). Then: finite values and gradients for ±1e4 logits,
 * gradients by checkGrads, `where` masks, jit and vmap.
 */
import { readFileSync } from "node:fs";
import { grad, type Array as JArray, jit, np, vmap } from "@webjax/core";
import { checkGrads, expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { losses } from "../src/index.js";

const fx = JSON.parse(readFileSync(new URL("fixtures/losses.json", import.meta.url), "utf8")) as Record<
  string,
  number[]
>;
const tol = { rtol: 1e-5, atol: 1e-6 };
const p = np.array([
  [0.5, -1.0, 2.0],
  [3.0, 0.1, -0.4],
]);
const t = np.array([
  [1.0, 0.5, -1.0],
  [0.0, 0.2, 2.5],
]);
const logits = np.array([
  [2.0, -1.0, 0.5],
  [-3.0, 4.0, 1.0],
]);
const onehot = np.array([
  [0, 0, 1],
  [0, 1, 0],
]);
const soft = np.array([
  [0.2, 0.3, 0.5],
  [0.1, 0.8, 0.1],
]);
const ints = np.array([2, 1], { dtype: "int32" });
const binlab = np.array([
  [1, 0, 1],
  [0, 0, 1],
]);
const probs = np.array([
  [0.9, 0.2, 0.0],
  [1.0, 0.4, 0.7],
]);
const logp = np.log(
  np.array([
    [0.2, 0.5, 0.3],
    [0.6, 0.3, 0.1],
  ]),
);
const ktargets = np.array([
  [0.0, 0.5, 0.5],
  [0.7, 0.2, 0.1],
]);
const hl = np.array([
  [1.0, -1.0, 1.0],
  [-1.0, -1.0, 1.0],
]);

describe("optax.losses against optax", () => {
  const cases: Array<[string, () => JArray]> = [
    ["l2Loss", () => losses.l2Loss(p, t)],
    ["squaredError", () => losses.squaredError(p, t)],
    ["huberLoss", () => losses.huberLoss(p, t)],
    ["huberLoss05", () => losses.huberLoss(p, t, { delta: 0.5 })],
    ["logCosh", () => losses.logCosh(p, t)],
    ["cosineSimilarity", () => losses.cosineSimilarity(p, t)],
    ["cosineDistance", () => losses.cosineDistance(p, t)],
    ["softmaxCrossEntropy", () => losses.softmaxCrossEntropy(logits, onehot)],
    ["softmaxCrossEntropySoft", () => losses.softmaxCrossEntropy(logits, soft)],
    ["softmaxCrossEntropyInt", () => losses.softmaxCrossEntropyWithIntegerLabels(logits, ints)],
    ["sigmoidBinaryCrossEntropy", () => losses.sigmoidBinaryCrossEntropy(logits, binlab)],
    ["sigmoidFocalLoss", () => losses.sigmoidFocalLoss(logits, binlab, { alpha: 0.25, gamma: 2 })],
    ["klDivergence", () => losses.klDivergence(logp, ktargets)],
    ["hingeLoss", () => losses.hingeLoss(p, hl)],
    ["smoothLabels", () => losses.smoothLabels(onehot, 0.1)],
    ["poissonNll", () => losses.poissonNll(p, np.abs(t))],
    ["binaryCrossEntropy", () => losses.binaryCrossEntropy(probs, binlab)],
  ];
  test.each(cases)("%s", async (name, f) => {
    await expectClose(f(), fx[name] as number[], tol);
  });

  test("absoluteError is |p − t|", async () => {
    await expectClose(losses.absoluteError(np.array([1, -2]), np.array([3, 1])), [2, 3]);
  });
});

describe("extreme logits", () => {
  const big = np.array([
    [1e4, -1e4, 0],
    [-1e4, -1e4, 1e4],
  ]);
  test("cross-entropies stay finite, with the hand values and finite gradients", async () => {
    // Row 0, label 0: logsumexp = 1e4, so the loss is 0; row 1, label 1: 1e4 − (−1e4) = 2e4.
    const ce = losses.softmaxCrossEntropyWithIntegerLabels(big, np.array([0, 1], { dtype: "int32" }));
    await expectClose(ce, [0, 2e4]);
    const g = grad((x: JArray) =>
      losses.softmaxCrossEntropyWithIntegerLabels(x, np.array([0, 1], { dtype: "int32" })).sum(),
    )(big);
    await expectClose(g, [0, 0, 0, 0, -1, 1]);
    const s = losses.sigmoidBinaryCrossEntropy(np.array([1e4, -1e4, 1e4]), np.array([1, 0, 0]));
    await expectClose(s, [0, 0, 1e4]);
    const gs = grad((x: JArray) => losses.sigmoidBinaryCrossEntropy(x, np.array([1, 0, 0])).sum())(
      np.array([1e4, -1e4, 1e4]),
    );
    await expectClose(gs, [0, 0, 1]);
    const lc = losses.logCosh(np.array([1e4, -1e4]));
    await expectClose(lc, [1e4 - Math.LN2, 1e4 - Math.LN2], { rtol: 1e-6 });
    const bce = losses.binaryCrossEntropy(np.array([0, 1]), np.array([1, 0]));
    // Clipped to [1e-7, 1 − 1e-7]: −log(1e-7) = 16.12, and −log(1 − fround(1 − 1e-7)) = 15.94 in float32.
    await expectClose(bce, [-Math.log(Math.fround(1e-7)), -Math.log(1 - Math.fround(1 - 1e-7))], { rtol: 1e-5 });
  });
});

describe("gradients, masks, transforms", () => {
  test("checkGrads of the smooth losses", async () => {
    await checkGrads((x: JArray) => losses.softmaxCrossEntropy(x, soft), [logits]);
    await checkGrads((x: JArray) => losses.softmaxCrossEntropyWithIntegerLabels(x, ints), [logits]);
    await checkGrads((x: JArray) => losses.sigmoidBinaryCrossEntropy(x, binlab), [logits]);
    await checkGrads((x: JArray) => losses.sigmoidFocalLoss(x, binlab), [logits]);
    await checkGrads((x: JArray, y: JArray) => losses.huberLoss(x, y), [p, t]);
    await checkGrads((x: JArray, y: JArray) => losses.logCosh(x, y), [p, t]);
    await checkGrads((x: JArray, y: JArray) => losses.cosineDistance(x, y), [p, t]);
    await checkGrads((x: JArray) => losses.klDivergence(x, ktargets), [logp]);
  });

  test("where masks classes out of the softmax", async () => {
    const where = np.array([
      [true, false, true],
      [true, true, true],
    ]);
    const got = losses.softmaxCrossEntropyWithIntegerLabels(logits, ints, { where });
    // Row 0 over classes {0, 2}: −(0.5 − log(e² + e^0.5)).
    const row0 = -(0.5 - Math.log(Math.exp(2) + Math.exp(0.5)));
    await expectClose(got, [row0, fx.softmaxCrossEntropyInt?.[1] as number], tol);
  });

  test("jit equals eager; vmap equals the batched call", async () => {
    const f = (x: JArray, y: JArray) => losses.softmaxCrossEntropy(x, y);
    await expectClose(jit(f)(logits, soft), fx.softmaxCrossEntropySoft as number[], tol);
    await expectClose(vmap(f)(logits, soft), fx.softmaxCrossEntropySoft as number[], tol);
  });

  test("shape and dtype errors name the op and the shapes", () => {
    expect(() => losses.softmaxCrossEntropy(logits, np.zeros([2, 4]))).toThrow(
      /softmaxCrossEntropy: logits \[2,3\] and labels \[2,4\]/,
    );
    expect(() => losses.softmaxCrossEntropyWithIntegerLabels(logits, np.array([1, 2]))).toThrow(
      /labels must be integers/,
    );
  });
});
