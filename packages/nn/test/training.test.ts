/**
 * fit, mcPredict, transfer/unfreeze, layerStats and the presets, each against values computed
 * independently here: one full-batch SGD step by hand, a JS loop over dropout keys, byte
 * comparisons of frozen params, norms summed in JS, and the lectures' table.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Array as JArray, np, random, tree } from "@webjax/core";
import * as nn from "@webjax/nn";
import * as optax from "@webjax/optax";
import { expectClose } from "@webjax/test-utils";
import { afterAll, describe, expect, test, vi } from "vitest";

const quiet = { progress: false as const };
const dir = mkdtempSync(join(tmpdir(), "webjax-fit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two Gaussian blobs in 2-D, labels 0/1. */
function blobs(n: number, seed: number): { x: JArray; y: JArray } {
  const [k1, k2] = [random.key(seed), random.key(seed + 1)];
  const y = random.bernoulli(k1, 0.5, [n]).astype("int32");
  const centre = y.astype("float32").mul(4).sub(2).reshape([n, 1]);
  return { x: random.normal(k2, [n, 2]).add(centre), y };
}

describe("fit", () => {
  test("one full-batch epoch of SGD is one hand-computed gradient step; the logged loss is the pre-step loss", async () => {
    const xs = [1, 2, 3, 4];
    const ys = [2, 3, 5, 4];
    const model = nn.dense(1, { kernelInit: nn.initializers.zeros, biasInit: nn.initializers.zeros });
    const x = np.array(xs).reshape([4, 1]);
    const y = np.array(ys).reshape([4, 1]);
    const vars = model.init(random.key(0), x);
    const r = await nn.fit(
      model,
      vars,
      { x, y },
      {
        optimizer: optax.sgd(0.1),
        loss: "mse",
        epochs: 1,
        batchSize: 4,
        key: random.key(1),
        ...quiet,
      },
    );
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    // d/dw mean((w x + b − y)²) at w = b = 0 is −2·mean(x y); d/db is −2·mean(y).
    const w = 0.1 * 2 * mean(xs.map((v, i) => v * (ys[i] as number)));
    const b = 0.1 * 2 * mean(ys);
    const p = r.variables.params as { kernel: JArray; bias: JArray };
    await expectClose(p.kernel, [[w]], { rtol: 1e-6 });
    await expectClose(p.bias, [b], { rtol: 1e-6 });
    expect(r.history.loss?.[0]).toBeCloseTo(mean(ys.map((v) => v * v)), 5);
    // The caller's variables are not donated: still readable and unchanged.
    expect(Array.from(await (vars.params as { kernel: JArray }).kernel.data())).toEqual([0]);
  });

  test("learns blobs with validation, metrics, history and a progress callback", async () => {
    const train = blobs(512, 10);
    const val = blobs(128, 20);
    const model = nn.sequential(nn.dense(16), nn.relu, nn.dense(2));
    const reports: nn.ProgressInfo[] = [];
    const r = await nn.fit(model, model.init(random.key(0), train.x), train, {
      optimizer: optax.adam(1e-2),
      loss: "sparseCategoricalCrossentropy",
      metrics: ["accuracy"],
      epochs: 4,
      batchSize: 32,
      key: random.key(2),
      validationData: val,
      progress: (i) => reports.push(i),
    });
    expect(Object.keys(r.history).sort()).toEqual(["accuracy", "epoch", "loss", "val_accuracy", "val_loss"]);
    expect(r.history.loss).toHaveLength(4);
    expect(r.history.val_accuracy?.[3]).toBeGreaterThan(0.95);
    expect((r.history.loss?.[3] as number) < (r.history.loss?.[0] as number)).toBe(true);
    const ends = reports.filter((i) => i.epochEnd);
    expect(ends.map((i) => i.epoch)).toEqual([0, 1, 2, 3]);
    expect(ends[0]?.batches).toBe(16);
    expect(ends[0]?.stepsPerSecond).toBeGreaterThan(0);
    expect(ends[3]?.logs.val_accuracy).toBe(r.history.val_accuracy?.[3]);
  });

  test("early stopping stops at Keras' epoch and restores the best weights; onEpochEnd can stop too", async () => {
    const data = blobs(64, 30);
    const model = nn.dense(2);
    const vars = model.init(random.key(0), data.x);
    // Gradient ascent (a negative learning rate) makes the loss rise every epoch: epoch 0 is the
    // best, so with patience 2 Keras stops at epoch 2 (0-based) and restores epoch 0's weights.
    const es = nn.earlyStopping({ monitor: "loss", patience: 2, restoreBestWeights: true });
    const after: Float32Array[] = [];
    const r = await nn.fit(model, vars, data, {
      optimizer: optax.sgd(-0.5),
      loss: "sparseCategoricalCrossentropy",
      epochs: 10,
      key: random.key(1),
      earlyStopping: es,
      onEpochEnd: async (_e, _logs, ctx) => {
        after.push((await (ctx.variables.params as { kernel: JArray }).kernel.data()) as Float32Array);
      },
      ...quiet,
    });
    expect(r.epochsRun).toBe(3);
    expect(r.earlyStopping?.stoppedEpoch).toBe(2);
    expect(r.earlyStopping?.bestEpoch).toBe(0);
    expect((r.history.loss as number[])[2]).toBeGreaterThan((r.history.loss as number[])[0] as number);
    const restored = await (r.variables.params as { kernel: JArray }).kernel.data();
    expect(restored).toEqual(after[0]);
    expect(restored).not.toEqual(after[2]);
    const seen: number[] = [];
    const r2 = await nn.fit(model, vars, data, {
      optimizer: optax.sgd(0.1),
      loss: "sparseCategoricalCrossentropy",
      epochs: 10,
      key: random.key(1),
      onEpochEnd: (e) => {
        seen.push(e);
        return e === 1 ? "stop" : undefined;
      },
      ...quiet,
    });
    expect(r2.epochsRun).toBe(2);
    expect(seen).toEqual([0, 1]);
  });

  test("reduceOnPlateau scales the learning rate the injected schedule reports; a max-mode monitor is fed negated", async () => {
    const data = blobs(64, 40);
    const model = nn.dense(2);
    const tx = () =>
      optax.injectHyperparams((h: { learningRate: JArray }) => optax.sgd(h.learningRate))({ learningRate: 1e-9 });
    const base = { loss: "sparseCategoricalCrossentropy" as const, epochs: 4, key: random.key(1), ...quiet };
    const r = await nn.fit(model, model.init(random.key(0), data.x), data, {
      ...base,
      optimizer: tx(),
      reduceOnPlateau: { patience: 1, factor: 0.5, monitor: "loss", rtol: 0.5 },
    });
    // A learning rate of 1e-9 leaves the loss flat: epoch 0 sets the best, every later epoch is a
    // plateau of length 1 that halves the scale, which the next epoch's logged rate shows.
    await expectClose(np.array(r.history.learning_rate as number[]), [1e-9, 1e-9, 5e-10, 2.5e-10], { rtol: 1e-5 });
    // Accuracy stays flat too; as a max-mode metric it is negated for optax, so flat is still a plateau.
    const r2 = await nn.fit(model, model.init(random.key(0), data.x), data, {
      ...base,
      optimizer: tx(),
      metrics: ["accuracy"],
      reduceOnPlateau: { patience: 1, factor: 0.5, monitor: "accuracy", rtol: 0.5 },
    });
    await expectClose(np.array(r2.history.learning_rate as number[]), [1e-9, 1e-9, 5e-10, 2.5e-10], { rtol: 1e-5 });
  });

  test("saveBestOnly keeps the epoch that is best in the monitor's direction (max for accuracy)", async () => {
    const data = blobs(128, 45);
    const model = nn.sequential(nn.dense(8), nn.relu, nn.dense(2));
    const path = join(dir, "best.safetensors");
    const seen: number[] = [];
    const r = await nn.fit(model, model.init(random.key(0), data.x), data, {
      optimizer: optax.adam(3e-2),
      loss: "sparseCategoricalCrossentropy",
      metrics: ["accuracy"],
      epochs: 5,
      key: random.key(5),
      checkpoint: { path, saveBestOnly: true, monitor: "accuracy" },
      onEpochEnd: (e, logs) => {
        seen.push(logs.accuracy as number);
        expect(e).toBe(seen.length - 1);
      },
      ...quiet,
    });
    const best = seen.indexOf(Math.max(...seen));
    const template = {
      params: r.variables.params,
      state: r.variables.state,
      optState: optax.adam(3e-2).init(r.variables.params),
      epoch: 0,
      key: random.key(0),
    };
    const back = await nn.loadCheckpoint(path, template);
    // The first best is kept: a later tie does not overwrite it (Keras' strict improvement).
    expect(back.epoch).toBe(best + 1);
  });

  test("callbacks get copies (usable after later steps), 0-based batch indices, and the epoch context", async () => {
    const data = blobs(64, 46);
    const model = nn.dense(2);
    const kept: nn.Variables[] = [];
    const batchesSeen: number[] = [];
    await nn.fit(model, model.init(random.key(0), data.x), data, {
      optimizer: optax.sgd(0.1),
      loss: "sparseCategoricalCrossentropy",
      epochs: 3,
      batchSize: 32,
      key: random.key(1),
      onEpochEnd: (_e, _logs, ctx) => {
        kept.push(ctx.variables);
      },
      onBatchEnd: (e, b) => {
        if (e === 0) batchesSeen.push(b);
      },
      ...quiet,
    });
    expect(batchesSeen).toEqual([0, 1]);
    const kernels = await Promise.all(kept.map((v) => (v.params as { kernel: JArray }).kernel.data()));
    expect(kernels).toHaveLength(3);
    expect(kernels[0]).not.toEqual(kernels[2]);
  });

  test("Keras' target shapes: labels [n] train a one-unit model; binary accuracy; out-of-range class labels are an error", async () => {
    const x = random.normal(random.key(8), [256, 3]);
    const yReg = x.sum(1);
    const lin = nn.dense(1);
    const r = await nn.fit(
      lin,
      lin.init(random.key(0), x),
      { x, y: yReg },
      {
        optimizer: optax.adam(0.1),
        loss: "mse",
        epochs: 30,
        batchSize: 64,
        key: random.key(1),
        ...quiet,
      },
    );
    expect(r.history.loss?.at(-1)).toBeLessThan(0.01);
    const yBin = yReg.greater(0).astype("float32");
    const r2 = await nn.fit(
      lin,
      lin.init(random.key(0), x),
      { x, y: yBin },
      {
        optimizer: optax.adam(0.1),
        loss: "binaryCrossentropy",
        metrics: ["accuracy"],
        epochs: 10,
        batchSize: 64,
        key: random.key(1),
        ...quiet,
      },
    );
    const [logits] = lin.apply(r2.variables, x);
    const truth = Array.from(await yBin.data());
    const pred = Array.from(await logits.data()).map((v) => (v > 0 ? 1 : 0));
    const acc = pred.filter((p, i) => p === truth[i]).length / truth.length;
    expect(acc).toBeGreaterThan(0.9);
    expect(r2.history.accuracy?.at(-1)).toBeLessThan(1);
    await expect(
      nn.fit(
        lin,
        lin.init(random.key(0), x),
        { x, y: x },
        { optimizer: optax.sgd(0.1), loss: "mse", epochs: 1, key: random.key(1), ...quiet },
      ),
    ).rejects.toThrow(
      /fit: loss "mse": targets must have the outputs' shape \[32,1\] \(or \[32\] for one output unit\), got \[32,3\]/,
    );
    const two = nn.dense(2);
    const bad = np.array([0, 1, 2, 1], { dtype: "int32" });
    await expect(
      nn.fit(
        two,
        two.init(random.key(0), x),
        { x: x.slice([0, 4]), y: bad },
        { optimizer: optax.sgd(0.1), loss: "sparseCategoricalCrossentropy", epochs: 1, key: random.key(1), ...quiet },
      ),
    ).rejects.toThrow(
      /fit: training labels must be class indices in \[0, 2\) for sparseCategoricalCrossentropy with 2 outputs; found values from 0 to 2/,
    );
  });

  test("checkpoints each epoch to a file that loads into the same tree", async () => {
    const data = blobs(64, 50);
    const model = nn.sequential(nn.dense(4), nn.batchNorm(), nn.dense(2));
    const vars = model.init(random.key(0), data.x);
    const path = join(dir, "fit.safetensors");
    const tx = optax.adam(1e-2);
    const r = await nn.fit(model, vars, data, {
      optimizer: tx,
      loss: "sparseCategoricalCrossentropy",
      epochs: 2,
      key: random.key(3),
      checkpoint: { path },
      ...quiet,
    });
    const template = {
      params: vars.params,
      state: vars.state,
      optState: tx.init(vars.params),
      epoch: 0,
      key: random.key(0),
    };
    const back = await nn.loadCheckpoint(path, template);
    expect(back.epoch).toBe(2);
    const a = tree.leaves(back.params) as JArray[];
    const b = tree.leaves(r.variables.params) as JArray[];
    for (let i = 0; i < a.length; i++) expect(await (a[i] as JArray).data()).toEqual(await (b[i] as JArray).data());
  });

  test("clear errors: unknown loss, both validation options, a missing monitored log", async () => {
    const data = blobs(16, 60);
    const model = nn.dense(2);
    const vars = model.init(random.key(0), data.x);
    const base = { optimizer: optax.sgd(0.1), epochs: 1, key: random.key(0), ...quiet };
    await expect(nn.fit(model, vars, data, { ...base, loss: "crossentropy" as never })).rejects.toThrow(
      /fit: unknown loss "crossentropy"; expected one of sparseCategoricalCrossentropy/,
    );
    await expect(
      nn.fit(model, vars, data, { ...base, loss: "mse", validationData: data, validationSplit: 0.2 }),
    ).rejects.toThrow(/validationData or validationSplit, not both/);
    await expect(
      nn.fit(model, vars, data, {
        ...base,
        loss: "sparseCategoricalCrossentropy",
        reduceOnPlateau: { monitor: "val_loss" },
      }),
    ).rejects.toThrow(/reduceOnPlateau monitors "val_loss", but the logs hold loss/);
    await expect(nn.fit(model, vars, data, { ...base, loss: "mse", batch_size: 8 } as never)).rejects.toThrow(
      /fit: unknown option "batch_size"; the options are optimizer, loss, epochs, batchSize/,
    );
    const { key: _k, ...noKey } = base;
    await expect(nn.fit(model, vars, data, { ...noKey, loss: "mse" } as never)).rejects.toThrow(
      /fit: the option "key" is required/,
    );
    await expect(nn.fit(model, vars, [data.x, data.y] as never, { ...base, loss: "mse" })).rejects.toThrow(
      /fit: data must be \{ x, y \} with arrays x and y/,
    );
  });
});

describe("mcPredict", () => {
  test("one vmapped program equals a JS loop over the split keys; std > 0 with dropout", async () => {
    const model = nn.sequential(nn.dense(8), nn.relu, nn.dropout(0.5), nn.dense(3));
    const x = random.normal(random.key(1), [5, 4]);
    const vars = model.init(random.key(0), x);
    const key = random.key(9);
    const r = nn.mcPredict(model, vars, x, { samples: 6, key, postprocess: nn.softmax });
    expect(r.samples.shape).toEqual([6, 5, 3]);
    const keys = random.split(key, 6);
    const loop: number[][] = [];
    for (let i = 0; i < 6; i++) {
      const [y] = model.apply(vars, x, { mcDropout: true, key: random.keyAt(keys, i) });
      loop.push(Array.from(await nn.softmax(y).data()));
    }
    const mean = loop[0]?.map((_, j) => loop.reduce((s, v) => s + (v[j] as number), 0) / 6) as number[];
    await expectClose(r.mean, mean, { rtol: 1e-5, atol: 1e-6 });
    await expectClose(r.samples, loop.flat(), { rtol: 1e-5, atol: 1e-6 });
    expect(Math.max(...(await r.std.data()))).toBeGreaterThan(0.01);
    expect(() => nn.mcPredict(model, vars, x, { samples: 0, key })).toThrow(/samples must be a positive integer/);
    // In batches of 2 examples: each batch is the same program on its rows, concatenated.
    const chunked = nn.mcPredict(model, vars, x, { samples: 6, key, postprocess: nn.softmax, batchSize: 2 });
    expect(chunked.samples.shape).toEqual([6, 5, 3]);
    const first = nn.mcPredict(model, vars, x.slice([0, 2]), { samples: 6, key, postprocess: nn.softmax });
    await expectClose(chunked.mean.slice([0, 2]), Array.from(await first.mean.data()), { rtol: 1e-6 });
    const last = nn.mcPredict(model, vars, x.slice([4, 5]), { samples: 6, key, postprocess: nn.softmax });
    await expectClose(chunked.std.slice([4, 5]), Array.from(await last.std.data()), { rtol: 1e-6 });
  });
});

describe("transfer and unfreeze", () => {
  test("reused layers are copied and stay bit-identical through training; the head trains; unfreeze thaws the top", async () => {
    const data = blobs(64, 70);
    const modelA = nn.sequential(nn.dense(8), nn.relu, nn.dense(5));
    const varsA = modelA.init(random.key(0), data.x);
    const modelB = nn.sequential(nn.dense(8), nn.relu, nn.dense(2));
    const t = nn.transfer(varsA, { init: modelB.init(random.key(1), data.x) });
    expect(t.labels).toEqual({ dense_0: "frozen", dense_2: "trainable" });
    expect(t.head).toEqual(["dense_2"]);
    const bytes = async (v: nn.Variables, layer: string) =>
      Promise.all((tree.leaves((v.params as Record<string, unknown>)[layer]) as JArray[]).map((a) => a.data()));
    expect(await bytes(t.variables, "dense_0")).toEqual(await bytes(varsA, "dense_0"));
    const r = await nn.fit(modelB, t.variables, data, {
      optimizer: nn.freezeWith(optax.adam(1e-2), t.labels),
      loss: "sparseCategoricalCrossentropy",
      epochs: 2,
      key: random.key(2),
      ...quiet,
    });
    expect(await bytes(r.variables, "dense_0")).toEqual(await bytes(varsA, "dense_0"));
    expect(await bytes(r.variables, "dense_2")).not.toEqual(await bytes(t.variables, "dense_2"));
    expect(nn.unfreeze(t.labels, { top: 1 })).toEqual({ dense_0: "trainable", dense_2: "trainable" });
    expect(nn.unfreeze({ dense_0: "frozen", dense_1: "frozen", dense_3: "trainable" }, { top: 1 })).toEqual({
      dense_0: "frozen",
      dense_1: "trainable",
      dense_3: "trainable",
    });
  });

  test("a reused layer of another shape is reported, every mismatch in one error", () => {
    const x = np.ones([2, 3]);
    const varsA = nn.sequential(nn.dense(8), nn.dense(4), nn.dense(5)).init(random.key(0), x);
    const init = nn.sequential(nn.dense(6), nn.dense(4), nn.dense(2)).init(random.key(0), x);
    expect(() => nn.transfer(varsA, { init })).toThrow(
      /transfer: the trained layers do not fit the new model:\n {2}params\/dense_0\/bias: trained float32\[8\], new model expects float32\[6\]\n {2}params\/dense_0\/kernel: trained float32\[3,8\], new model expects float32\[3,6\]\n {2}params\/dense_1\/kernel: trained float32\[8,4\], new model expects float32\[6,4\]/,
    );
  });
});

describe("layerStats", () => {
  test("gradient norms, means and stds per layer; dead ReLUs and saturated sigmoids", async () => {
    const grads = {
      dense_0: {
        kernel: np.array([
          [3, 0],
          [0, 4],
        ]),
        bias: np.array([0, 0]),
      },
      dense_1: { kernel: np.array([[1], [-1]]) },
    };
    const model = nn.sequential(nn.dense(3), nn.relu, nn.dense(2, { activation: "sigmoid" }));
    const x = np.array([
      [1, -1],
      [2, -2],
    ]);
    const vars = model.init(random.key(0), x);
    const fixed = {
      params: {
        dense_0: {
          kernel: np.array([
            [1, -1, 0],
            [0, 0, 0],
          ]),
          bias: np.array([0, 0, -1]),
        },
        dense_2: {
          kernel: np.array([
            [100, 0],
            [0, 0],
            [0, 0],
          ]),
          bias: np.array([0, 0]),
        },
      },
      state: vars.state,
    };
    const [, , outs] = nn.intermediates(model, fixed, x);
    expect(Object.keys(outs)).toEqual(["dense_0", "relu_1", "dense_2"]);
    const s = nn.layerStats(grads, outs, { model });
    expect(await s.grads.dense_0?.norm.item()).toBeCloseTo(5, 5);
    expect(await s.grads.dense_0?.mean.item()).toBeCloseTo(7 / 6, 5);
    expect(await s.grads.dense_1?.std.item()).toBeCloseTo(1, 5);
    // relu of [x0 − 0, −x0, −1]: unit 0 is alive (1, 2), units 1 and 2 are dead for both examples.
    expect(await s.activations.relu_1?.deadFraction?.item()).toBeCloseTo(2 / 3, 5);
    // sigmoid(100·relu0) saturates for both examples on unit 0; unit 1 is sigmoid(0) = 0.5.
    expect(await s.activations.dense_2?.saturatedFraction?.item()).toBeCloseTo(0.5, 5);
    // Without the model, only bare activation layers are classified (by their names).
    const bare = nn.layerStats(grads, outs);
    expect(bare.activations.dense_2?.saturatedFraction).toBeUndefined();
    expect(await bare.activations.relu_1?.deadFraction?.item()).toBeCloseTo(2 / 3, 5);
  });
});

describe("presets", () => {
  test("dense: the lectures' table, batch norm only when deep, a 1cycle Nadam that fit reports", async () => {
    const shallow = nn.presets.dense([300, 100, 10], { epochs: 2, stepsPerEpoch: 100 });
    expect(shallow.config).toEqual({
      kernelInit: "He normal",
      activation: "ELU",
      normalization: "none",
      regularization: "early stopping",
      optimizer: "Nadam",
      schedule: "1cycle (peak 0.001, 200 steps)",
    });
    const kinds = shallow.model.layers.map((l) => l.kind);
    expect(kinds).toEqual(["flatten", "dense", "elu", "dense", "elu", "dense"]);
    const deep = nn.presets.dense([64, 64, 64, 10], { epochs: 1, stepsPerEpoch: 10, l2: 1e-4, optimizer: "momentum" });
    expect(deep.model.layers.filter((l) => l.kind === "batchNorm")).toHaveLength(3);
    expect(deep.config.optimizer).toBe("Nesterov momentum");
    expect(deep.config.regularization).toBe("early stopping, L2 0.0001");
    expect(deep.earlyStopping?.options.patience).toBe(10);
    expect(deep.earlyStopping?.options.restoreBestWeights).toBe(true);
    // 1cycle: starts at peak / 25, peaks at 30% of the steps.
    expect(Number(shallow.schedule(0))).toBeCloseTo(0.001 / 25, 8);
    expect(Number(shallow.schedule(60))).toBeCloseTo(0.001, 8);
  });

  test("selfNormalizing: LeCun, SELU, no batch norm, alpha dropout, and a warning for unscaled inputs", async () => {
    const p = nn.presets.selfNormalizing([32, 32, 10], { epochs: 1, stepsPerEpoch: 10, alphaDropout: 0.1 });
    expect(p.model.layers.map((l) => l.kind)).toEqual([
      "flatten",
      "dense",
      "selu",
      "dense",
      "selu",
      "alphaDropout",
      "dense",
    ]);
    expect(p.config.kernelInit).toBe("LeCun normal");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const raw = np.arange(0, 40).reshape([10, 4]).astype("float32");
    const r = await p.checkInputs(raw);
    expect(r.ok).toBe(false);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/4 input features are not standardised \(feature 0: mean 18\.000/),
    );
    warn.mockClear();
    const [z] = nn.data.standardScaler().fitTransform(raw);
    expect((await p.checkInputs(z)).ok).toBe(true);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });
});
