/**
 * Metrics against scikit-learn (fixtures/make_metrics.py writes fixtures/metrics.json: 60
 * samples, 5 classes, class 3 never predicted and class 4 never present, so every zero-division
 * case is there) and against small hand-computed cases; the running mean eagerly, under jit and
 * across batches.
 */
import { readFileSync } from "node:fs";
import { type Array as JArray, jit, np, ShapeError, vmap, WebjaxError } from "@webjax/core";
import { expectArray, expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import * as metrics from "../src/metrics.js";

type Avg = "none" | "macro" | "micro" | "weighted";
const fx = JSON.parse(readFileSync(new URL("fixtures/metrics.json", import.meta.url), "utf8")) as {
  numClasses: number;
  labels: number[];
  logits: number[];
  predicted: number[];
  accuracy: number;
  top2: number;
  top3: number;
  confusion: number[];
  precision: Record<Avg, number | number[]>;
  recall: Record<Avg, number | number[]>;
  f1: Record<Avg, number | number[]>;
};
const C = fx.numClasses;
const labels = np.array(fx.labels, "int32");
const logits = np.array(fx.logits).reshape([fx.labels.length, C]);
const predicted = np.array(fx.predicted, "int32");
const tol = { rtol: 1e-6, atol: 1e-6 };

describe("classification metrics against scikit-learn", () => {
  test("accuracy from logits, with integer labels and with one-hot labels", async () => {
    const a = metrics.accuracy(logits, labels);
    expect(a.dtype).toBe("float32");
    expect(a.shape).toEqual([]);
    await expectClose(a, [fx.accuracy], tol);
    await expectClose(metrics.accuracy(logits, np.oneHot(labels, C)), [fx.accuracy], tol);
  });

  test("topKAccuracy for k = 1, 2, 3 (k = 1 is accuracy; k = C is 1)", async () => {
    await expectClose(metrics.topKAccuracy(logits, labels, 1), [fx.accuracy], tol);
    await expectClose(metrics.topKAccuracy(logits, labels, 2), [fx.top2], tol);
    await expectClose(metrics.topKAccuracy(logits, labels, 3), [fx.top3], tol);
    await expectClose(metrics.topKAccuracy(logits, labels, C), [1], tol);
  });

  test("confusionMatrix: int32, rows true, columns predicted", async () => {
    const cm = metrics.confusionMatrix(predicted, labels, C);
    expect(cm.dtype).toBe("int32");
    await expectArray(cm, [C, C], fx.confusion);
  });

  const scores = [
    ["precision", metrics.precision],
    ["recall", metrics.recall],
    ["f1", metrics.f1],
  ] as const;
  const averages: Avg[] = ["none", "macro", "micro", "weighted"];
  test.each(scores)("%s with each average, zero division giving 0", async (name, fn) => {
    for (const average of averages) {
      const got = fn(predicted, labels, { numClasses: C, average });
      const want = fx[name][average];
      expect(got.shape).toEqual(average === "none" ? [C] : []);
      await expectClose(got, typeof want === "number" ? [want] : want, tol);
    }
    // The default is macro.
    await expectClose(fn(predicted, labels, { numClasses: C }), [fx[name].macro as number], tol);
  });
});

describe("classification metrics, hand-computed", () => {
  // Three samples, three classes: argmax rows are 1, 0, 2 (the first of tied maxima, as argmax).
  const probs = np.array([
    [0.1, 0.7, 0.2],
    [0.4, 0.4, 0.2],
    [0.3, 0.3, 0.4],
  ]);

  test("accuracy: 2 of 3 right; labels as a float array of integers and one-hot rows", async () => {
    await expectClose(metrics.accuracy(probs, np.array([1, 1, 2])), [2 / 3]);
    await expectClose(metrics.accuracy(probs, [1, 0, 2]), [1]);
    await expectClose(metrics.accuracy(probs, np.oneHot(np.array([1, 1, 2], "int32"), 3)), [2 / 3]);
  });

  test("topKAccuracy breaks ties by the lower class index (as argmax and lax.topK)", async () => {
    // Row 1 ties 0.4 = 0.4: class 1 ranks second (class 0 is before it), in the top 2, not the top 1.
    await expectClose(metrics.topKAccuracy(probs, [1, 1, 2], 1), [2 / 3]);
    await expectClose(metrics.topKAccuracy(probs, [1, 1, 2], 2), [1]);
    // Row 2, label 1 (0.3): 0.4 above and the tied class 0 before it → rank 2, outside the top 2.
    await expectClose(metrics.topKAccuracy(probs, [1, 1, 1], 2), [2 / 3]);
    // Row 0: label 2 (0.2) has one higher (0.7) → rank 1; row 1: label 1 → rank 1; row 2: label 0 (0.3) has 0.4 above → rank 1.
    await expectClose(metrics.topKAccuracy(probs, [2, 1, 0], 2), [1]);
    await expectClose(metrics.topKAccuracy(probs, [2, 1, 0], 1), [0]);
  });

  test("confusionMatrix of [0,1,1,2] predicted for [0,1,2,2]; labels out of range are not counted", async () => {
    await expectArray(metrics.confusionMatrix([0, 1, 1, 2], [0, 1, 2, 2], 3), [3, 3], [1, 0, 0, 0, 1, 0, 0, 1, 1]);
    await expectArray(metrics.confusionMatrix([0, 5, 1], [0, 1, -1], 2), [2, 2], [1, 0, 0, 0]);
    // 2-D labels are flattened.
    await expectArray(metrics.confusionMatrix([[1, 1]], [[0, 1]], 2), [2, 2], [0, 1, 0, 1]);
  });

  test("precision, recall, f1 of that case by hand", async () => {
    const p = [0, 1, 1, 2];
    const t = [0, 1, 2, 2];
    // Class 0: tp 1, fp 0, fn 0; class 1: tp 1, fp 1, fn 0; class 2: tp 1, fp 0, fn 1.
    const opts = { numClasses: 3, average: "none" } as const;
    await expectClose(metrics.precision(p, t, opts), [1, 0.5, 1]);
    await expectClose(metrics.recall(p, t, opts), [1, 1, 0.5]);
    await expectClose(metrics.f1(p, t, opts), [1, 2 / 3, 2 / 3]); // 2tp/(2tp + fp + fn)
    await expectClose(metrics.precision(p, t, { numClasses: 3 }), [2.5 / 3]);
    await expectClose(metrics.f1(p, t, { numClasses: 3, average: "micro" }), [0.75]); // the accuracy
    // Supports 1, 1, 2: weighted recall (1 + 1 + 2·0.5)/4.
    await expectClose(metrics.recall(p, t, { numClasses: 3, average: "weighted" }), [0.75]);
  });

  test("errors name the shapes and the fix", () => {
    expect(() => metrics.accuracy(probs, np.array([1, 2]))).toThrow(ShapeError);
    expect(() => metrics.accuracy(probs, np.array([1, 2]))).toThrow(
      /accuracy: labels of shape \[2\] fit neither predictions \[3,3\] \(one-hot labels\) nor \[3\] \(integer labels\)/,
    );
    expect(() => metrics.topKAccuracy(probs, [0, 1, 2], 4)).toThrow(/k must be an integer in \[1, 3\]/);
    expect(() => metrics.confusionMatrix([0, 1], [0], 2)).toThrow(/different sizes/);
    expect(() => metrics.f1([0], [0], { numClasses: 0 })).toThrow(/numClasses must be a positive integer/);
    const bad = { numClasses: 2, average: "samples" as "macro" };
    expect(() => metrics.precision([0], [0], bad)).toThrow(WebjaxError);
  });

  test("metrics run under jit and vmap", async () => {
    const acc = jit((p: JArray, y: JArray) => metrics.accuracy(p, y));
    await expectClose(acc(probs, np.array([1, 1, 2], "int32")), [2 / 3]);
    const cm = jit((p: JArray, y: JArray) => metrics.confusionMatrix(p, y, 3));
    await expectArray(
      cm(np.array([0, 1, 1, 2], "int32"), np.array([0, 1, 2, 2], "int32")),
      [3, 3],
      [1, 0, 0, 0, 1, 0, 0, 1, 1],
    );
    // Per-batch f1 over a stack of two batches.
    const f = vmap((p: JArray, y: JArray) => metrics.f1(p, y, { numClasses: 3 }));
    const ps = np.array(
      [
        [0, 1, 1, 2],
        [0, 1, 2, 2],
      ],
      "int32",
    );
    await expectClose(
      f(
        ps,
        np.array(
          [
            [0, 1, 2, 2],
            [0, 1, 2, 2],
          ],
          "int32",
        ),
      ),
      [(1 + 2 / 3 + 2 / 3) / 3, 1],
    );
  });
});

describe("running means", () => {
  test("mean: a weighted mean over batches; arrays count every element; 0 before any weight", async () => {
    const m = metrics.mean;
    let s = m.init();
    await expectClose(m.compute(s), [0]);
    s = m.update(s, 2); // weight 1
    s = m.update(s, np.array(5), 3); // total 2 + 15, count 4
    s = m.update(s, np.array([1, 3])); // total 21, count 6
    await expectClose(m.compute(s), [21 / 6]);
    s = m.update(s, np.array([10, 20]), np.array([0, 1])); // per-element weights: total 41, count 7
    await expectClose(m.compute(s), [41 / 7]);
  });

  test("mean under jit: the state is a pytree of float32 scalars, updated inside the step", async () => {
    const step = jit((s: metrics.MeanState, loss: JArray, n: JArray) => metrics.mean.update(s, loss, n));
    let s = metrics.mean.init();
    s = step(s, np.array(0.5), np.array(4));
    s = step(s, np.array(2.0), np.array(1));
    expect([s.total.shape, s.count.shape, s.total.dtype]).toEqual([[], [], "float32"]);
    await expectClose(metrics.mean.compute(s), [(0.5 * 4 + 2) / 5]);
  });

  test("RunningMeans collects named means and reads them as numbers; reset forgets", async () => {
    const r = new metrics.RunningMeans();
    r.update({ loss: np.array(1.0), accuracy: np.array(0.5) }, 2);
    r.update({ loss: np.array(4.0), accuracy: 1 }, 1);
    r.update({ loss: np.array([0, 0]) }); // the loss only, two elements of weight 1
    expect(r.names).toEqual(["loss", "accuracy"]);
    const got = await r.compute();
    expect(got.loss).toBeCloseTo((2 + 4) / 5, 6);
    expect(got.accuracy).toBeCloseTo((1 + 1) / 3, 6);
    r.reset();
    expect(await r.compute()).toEqual({});
  });
});
