/**
 * In headless Chromium on WebGPU: a small @webjax/nn `sequential` (dense → batch norm → ELU →
 * dropout → dense) trained for a few jitted Adam steps on two separable blobs: the loss falls
 * and the moving statistics move, and the trained model classifies the blobs.
 */
import { currentBackend, type Array as JArray, jit, np, random, valueAndGrad } from "@webjax/core";
import * as nn from "@webjax/nn";
import { adam, applyUpdates } from "@webjax/optax";
import { init, shutdown } from "@webjax/webgpu";
import { afterAll, beforeAll, expect, test } from "vitest";

beforeAll(async () => {
  expect(await init({ fallback: false, allowSoftware: true })).toBe("webgpu");
});
afterAll(() => shutdown());

test("a sequential model trains for a few jitted steps on WebGPU", async () => {
  expect(currentBackend()).toBe("webgpu");
  const n = 64;
  const labels = np.array(
    Array.from({ length: n }, (_, i) => i % 2),
    { dtype: "int32" },
  );
  // Class 0 around (−1, −1), class 1 around (1, 1).
  const x = random
    .normal(random.key(1), [n, 2])
    .mul(0.5)
    .add(labels.astype("float32").mul(2).sub(1).reshape([n, 1]));
  const model = nn.sequential(nn.dense(16), nn.batchNorm(), nn.elu, nn.dropout(0.1), nn.dense(2));
  let { params, state } = model.init(random.key(0), x);
  const opt = adam(0.05);
  let optState = opt.init(params);
  const step = jit((p: typeof params, s: typeof state, o: typeof optState, k: JArray) => {
    const [[loss, newState], g] = valueAndGrad(
      (q: typeof params) => {
        const [logits, st] = model.apply({ params: q, state: s }, x, { train: true, key: k });
        return [np.mean(nn.losses.softmaxCrossEntropyWithIntegerLabels(logits, labels)), st] as const;
      },
      { hasAux: true },
    )(p);
    const [updates, o2] = opt.update(g, o, p);
    return [applyUpdates(p, updates), newState, o2, loss] as const;
  });
  const losses: number[] = [];
  for (let i = 0; i < 15; i++) {
    const [p, s, o, loss] = step(params, state, optState, random.foldIn(random.key(9), i));
    params = p;
    state = s;
    optState = o;
    losses.push(await loss.item());
  }
  expect(losses[14] as number).toBeLessThan((losses[0] as number) * 0.5);
  const mean = (state as { batchNorm_1: { mean: JArray } }).batchNorm_1.mean;
  expect(Math.max(...Array.from(await np.abs(mean).data()))).toBeGreaterThan(0);
  const [logits] = model.apply({ params, state }, x);
  expect(await nn.metrics.accuracy(logits, labels).item()).toBeGreaterThan(0.9);
});

test("nn training in a page: batches, fit with a progress callback, early stopping, mcPredict, a checkpoint Blob", async () => {
  const n = 128;
  const y = np.array(
    Array.from({ length: n }, (_, i) => i % 2),
    { dtype: "int32" },
  );
  const x = random
    .normal(random.key(2), [n, 2])
    .mul(0.5)
    .add(y.astype("float32").mul(2).sub(1).reshape([n, 1]));
  expect(nn.data.batches({ x, y }, { batchSize: 32, shuffle: true, key: random.key(0) }).numBatches).toBe(4);
  const model = nn.sequential(nn.dense(16), nn.relu, nn.dropout(0.2), nn.dense(2));
  const progress: number[] = [];
  const r = await nn.fit(
    model,
    model.init(random.key(0), x),
    { x, y },
    {
      optimizer: adam(0.05),
      loss: "sparseCategoricalCrossentropy",
      metrics: ["accuracy"],
      epochs: 4,
      batchSize: 32,
      key: random.key(1),
      validationSplit: 0.25,
      earlyStopping: nn.earlyStopping({ patience: 2, restoreBestWeights: true }),
      progress: (i) => {
        if (i.epochEnd) progress.push(i.epoch);
      },
    },
  );
  expect(progress.length).toBe(r.epochsRun);
  expect(r.history.val_accuracy?.at(-1)).toBeGreaterThan(0.9);
  const mc = nn.mcPredict(model, r.variables, x, { samples: 8, key: random.key(3), postprocess: nn.softmax });
  expect(mc.samples.shape).toEqual([8, n, 2]);
  expect(await nn.metrics.accuracy(mc.mean, y).item()).toBeGreaterThan(0.9);
  const blob = await nn.checkpointBlob({ params: r.variables.params, step: 7 });
  expect(blob).toBeInstanceOf(Blob);
  const back = await nn.loadCheckpoint(blob, { params: r.variables.params, step: 0 });
  expect(back.step).toBe(7);
  const k0 = (back.params as { dense_0: { kernel: JArray } }).dense_0.kernel;
  const k1 = (r.variables.params as { dense_0: { kernel: JArray } }).dense_0.kernel;
  expect(Array.from(await k0.data())).toEqual(Array.from(await k1.data()));
});
