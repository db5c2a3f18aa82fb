/**
 * Layers against real Keras 3 and Flax (fixtures/make_layers.py writes fixtures/layers.json):
 * batch norm's training and inference outputs and moving statistics after one step, conv1d/2d
 * (same, valid, strides, dilation, groups), Keras' pools, Flax's layer norm, PReLU and max-norm.
 * Tolerance 1e-5 relative and absolute (float32, a different summation order).
 */
import { readFileSync } from "node:fs";
import { type Array as JArray, np, random } from "@webjax/core";
import * as nn from "@webjax/nn";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { grid } from "./helpers.js";

const fx = JSON.parse(readFileSync(new URL("fixtures/layers.json", import.meta.url), "utf8"));
const tol = { rtol: 1e-5, atol: 1e-5 };
const key = random.key(0);

describe("batchNorm against Keras", () => {
  test("training output, moving statistics after one step, inference output (Keras' defaults)", async () => {
    const x = grid([6, 4], 0.7, 0.3, 3, 1);
    const bn = nn.batchNorm();
    const vars = bn.init(key, x);
    const params = { scale: np.array([1.5, 0.5, 2.0, 1.0]), bias: np.array([0.1, -0.2, 0.3, 0.0]) };
    const [y, state] = bn.apply({ params, state: vars.state }, x, { train: true });
    await expectClose(y, fx.batchNorm.train, tol);
    const s = state as { mean: JArray; var: JArray };
    await expectClose(s.mean, fx.batchNorm.movingMean, tol);
    await expectClose(s.var, fx.batchNorm.movingVar, tol);
    const [yi] = bn.apply({ params, state }, x, { train: false });
    await expectClose(yi, fx.batchNorm.infer, tol);
  });

  test("NHWC images: statistics over batch and space", async () => {
    const x = grid([2, 3, 3, 2], 0.37, 0.1);
    const bn = nn.batchNorm();
    const [y, state] = bn.apply(bn.init(key, x), x, { train: true });
    await expectClose(y, fx.batchNorm4d.train, tol);
    await expectClose((state as { mean: JArray }).mean, fx.batchNorm4d.movingMean, tol);
    await expectClose((state as { var: JArray }).var, fx.batchNorm4d.movingVar, tol);
  });

  test("params and state paths; inference leaves the state unchanged", async () => {
    const model = nn.sequential(nn.dense(3), nn.batchNorm());
    const vars = model.init(key, np.zeros([2, 5]));
    expect(Object.keys(vars.params as object)).toEqual(["dense_0", "batchNorm_1"]);
    expect(Object.keys((vars.params as Record<string, object>).batchNorm_1 ?? {})).toEqual(["scale", "bias"]);
    expect(Object.keys((vars.state as Record<string, object>).batchNorm_1 ?? {})).toEqual(["mean", "var"]);
    const [, s] = model.apply(vars, np.ones([2, 5]));
    expect(s).toEqual(vars.state);
  });
});

describe("convolutions against Keras", () => {
  const img = grid([2, 5, 5, 3], 0.13, 0.2);
  const kernel = grid([3, 3, 3, 4], 0.29, 0.5, 0.5);
  const bias = np.array([0.1, 0.2, -0.1, 0.0]);
  const cases: Array<[string, nn.ConvOptions]> = [
    ["same", { padding: "same" }],
    ["valid", { padding: "valid" }],
    ["stride2", { padding: "same", strides: 2 }],
    ["dilation2", { padding: "valid", dilation: 2 }],
  ];
  test.each(cases)("conv2d %s", async (name, opts) => {
    const layer = nn.conv2d(4, 3, opts);
    const vars = layer.init(key, img);
    expect((vars.params as { kernel: JArray }).kernel.shape).toEqual([3, 3, 3, 4]);
    const [y] = layer.apply({ params: { kernel, bias }, state: {} }, img);
    expect(y.shape).toEqual(fx.conv[name].shape);
    await expectClose(y, fx.conv[name].values, tol);
  });

  test("conv2d with two feature groups, and conv1d", async () => {
    const x = grid([1, 4, 4, 4], 0.21, 0);
    const g = nn.conv2d(4, 3, { padding: "same", groups: 2, useBias: false });
    expect((g.init(key, x).params as { kernel: JArray }).kernel.shape).toEqual([3, 3, 2, 4]);
    const [y] = g.apply({ params: { kernel: grid([3, 3, 2, 4], 0.17, 0.4) }, state: {} }, x);
    await expectClose(y, fx.conv.groups2.values, tol);
    const c1 = nn.conv1d(2, 3, { padding: "same", useBias: false });
    const [z] = c1.apply({ params: { kernel: grid([3, 3, 2], 0.23, 0.1) }, state: {} }, grid([2, 7, 3], 0.31, 0));
    expect(z.shape).toEqual(fx.conv.conv1d.shape);
    await expectClose(z, fx.conv.conv1d.values, tol);
  });
});

describe("pools against Keras", () => {
  const img = grid([2, 5, 5, 3], 0.13, 0.2);
  const cases: Array<[string, nn.Module]> = [
    ["maxValid", nn.maxPool(2)],
    ["maxSame", nn.maxPool(2, { padding: "same" })],
    ["avgValid", nn.avgPool(2)],
    ["avgSame", nn.avgPool(2, { padding: "same" })],
    ["avgSame3s1", nn.avgPool(3, { strides: 1, padding: "same" })],
  ];
  test.each(cases)("%s", async (name, layer) => {
    const [y] = layer.apply({ params: {}, state: {} }, img);
    expect(y.shape).toEqual(fx.pool[name].shape);
    await expectClose(y, fx.pool[name].values, tol);
  });

  test("global pools: the mean and max over space", async () => {
    const x = grid([2, 2, 2, 3], 0.5, 0);
    const [a] = nn.globalAvgPool().apply({ params: {}, state: {} }, x);
    const [m] = nn.globalMaxPool().apply({ params: {}, state: {} }, x);
    const v = Array.from(await x.data());
    const at = (n: number, c: number, s: number) => v[n * 12 + s * 3 + c] as number;
    const mean = [0, 1].flatMap((n) => [0, 1, 2].map((c) => [0, 1, 2, 3].reduce((p, s) => p + at(n, c, s), 0) / 4));
    const max = [0, 1].flatMap((n) => [0, 1, 2].map((c) => Math.max(...[0, 1, 2, 3].map((s) => at(n, c, s)))));
    await expectClose(a, mean, tol);
    await expectClose(m, max, tol);
  });
});

describe("other layers", () => {
  test("layerNorm equals Flax's", async () => {
    const ln = nn.layerNorm();
    const params = { scale: np.linspace(0.5, 1.5, 5), bias: np.linspace(-0.2, 0.2, 5) };
    const [y] = ln.apply({ params, state: {} }, grid([3, 5], 0.9, 0.2, 2));
    await expectClose(y, fx.layerNorm, tol);
  });

  test("prelu equals Keras' PReLU", async () => {
    const layer = nn.prelu();
    const x = grid([2, 3], 1.3, 0, 2);
    expect((layer.init(key, x).params as { alpha: JArray }).alpha.shape).toEqual([3]);
    const [y] = layer.apply({ params: { alpha: np.array([0.1, 0.2, 0.3]) }, state: {} }, x);
    await expectClose(y, fx.prelu, tol);
  });

  test("maxNorm equals Keras' MaxNorm", async () => {
    await expectClose(nn.regularizers.maxNorm(1)(grid([3, 2], 0.8, 0.1, 2)), fx.maxNorm, tol);
  });

  test("dense: x·kernel + bias, with an activation by name", async () => {
    const layer = nn.dense(2, { activation: "relu" });
    const params = {
      kernel: np.array([
        [1, -1],
        [2, 0.5],
      ]),
      bias: np.array([0.5, -3]),
    };
    const [y] = layer.apply(
      { params, state: {} },
      np.array([
        [1, 2],
        [-1, 1],
      ]),
    );
    // [1·1 + 2·2 + 0.5, −1 + 1 − 3] = [5.5, −3 → 0]; [−1 + 2 + 0.5, 1 + 0.5 − 3] = [1.5, −1.5 → 0]
    await expectClose(y, [5.5, 0, 1.5, 0]);
  });

  test("embedding looks rows up; flatten keeps the batch axis", async () => {
    const e = nn.embedding(4, 2);
    const table = np.array([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
    ]);
    const [y] = e.apply(
      { params: { embedding: table }, state: {} },
      np.array(
        [
          [3, 0],
          [1, 1],
        ],
        { dtype: "int32" },
      ),
    );
    expect(y.shape).toEqual([2, 2, 2]);
    await expectClose(y, [6, 7, 0, 1, 2, 3, 2, 3]);
    const [f] = nn.flatten().apply({ params: {}, state: {} }, np.zeros([2, 3, 4]));
    expect(f.shape).toEqual([2, 12]);
  });

  test("maxout takes the max of groups of k features", async () => {
    const [y] = nn.maxout(2).apply({ params: {}, state: {} }, np.array([[1, 5, -2, -3, 0, 0.5]]));
    await expectClose(y, [5, -2, 0.5]);
  });

  test("srelu: three pieces around the learned thresholds", async () => {
    const params = { tLeft: np.array([-1]), aLeft: np.array([0.5]), tRight: np.array([2]), aRight: np.array([0.25]) };
    const [y] = nn.srelu().apply({ params, state: {} }, np.array([[-3], [-1], [0], [0.5], [1], [3]]));
    // t_r = −1 + |2| = 1: −3 → −1 + 0.5·(−2) = −2; −1, 0, 0.5, 1 unchanged; 3 → 1 + 0.25·2 = 1.5
    await expectClose(y, [-2, -1, 0, 0.5, 1, 1.5]);
  });

  test("rrelu: the mean slope at inference, slopes in [lower, upper) in training", async () => {
    const layer = nn.rrelu();
    const x = np.full([1000], -1);
    const [yi] = layer.apply({ params: {}, state: {} }, x);
    await expectClose(yi.slice([0, 1]), [-(1 / 8 + 1 / 3) / 2]);
    const [yt] = layer.apply({ params: {}, state: {} }, x, { train: true, key });
    const v = Array.from(await yt.data());
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-1 / 3 - 1e-6);
    expect(Math.max(...v)).toBeLessThanOrEqual(-1 / 8 + 1e-6);
    expect(new Set(v).size).toBeGreaterThan(900);
  });
});
