/**
 * Modules: readable param paths, per-layer keys (`foldIn(key, i)`), `sequential` with bare
 * functions, custom modules through `module()`, errors that name the layer, penalties and
 * constraints, `summary` and `foldBatchNorm`.
 */
import { grad, type Array as JArray, np, random, tree } from "@webjax/core";
import * as nn from "@webjax/nn";
import { applyUpdates, chain, sgd } from "@webjax/optax";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { grid } from "./helpers.js";

const key = random.key(42);
const double = (x: JArray) => x.mul(2);

describe("sequential", () => {
  test("params sit under kind_i names; bare functions take a position but no params", () => {
    const model = nn.sequential(nn.dense(4), double, nn.batchNorm(), nn.dense(2, { name: "logits" }));
    const vars = model.init(key, np.zeros([3, 5]));
    const paths = tree.leavesWithPath(vars.params).map(([p]) => p);
    expect(paths).toEqual([
      "batchNorm_2/bias",
      "batchNorm_2/scale",
      "dense_0/bias",
      "dense_0/kernel",
      "logits/bias",
      "logits/kernel",
    ]);
    expect(tree.leavesWithPath(vars.state).map(([p]) => p)).toEqual(["batchNorm_2/mean", "batchNorm_2/var"]);
    expect(model.layers.map((l) => l.name)).toEqual(["dense_0", "double_1", "batchNorm_2", "logits"]);
  });

  test("layer i's key is foldIn(key, i), so adding a layer does not reseed the others", async () => {
    const a = nn.sequential(nn.dense(4), nn.dense(3));
    const b = nn.sequential(nn.dense(4), nn.dense(3), nn.dense(2));
    const va = a.init(key, np.zeros([1, 5])).params as Record<string, { kernel: JArray }>;
    const vb = b.init(key, np.zeros([1, 5])).params as Record<string, { kernel: JArray }>;
    const k1 = nn.initializers.glorotUniform()(random.foldIn(key, 1), [4, 3]);
    await expectClose((va.dense_1 as { kernel: JArray }).kernel, Array.from(await k1.data()));
    await expectClose((vb.dense_1 as { kernel: JArray }).kernel, Array.from(await k1.data()));
    expect(Array.from(await (vb.dense_0 as { kernel: JArray }).kernel.data())).toEqual(
      Array.from(await (va.dense_0 as { kernel: JArray }).kernel.data()),
    );
  });

  test("apply composes the layers in order", async () => {
    const model = nn.sequential(nn.dense(2, { useBias: false }), double);
    const params = {
      dense_0: {
        kernel: np.array([
          [1, 0],
          [0, 1],
          [1, 1],
        ]),
      },
    };
    const [y] = model.apply({ params, state: {} }, np.array([[1, 2, 3]]));
    await expectClose(y, [8, 10]);
  });

  test("nested sequentials nest their params", () => {
    const model = nn.sequential(nn.sequential(nn.dense(3), nn.dense(3)), nn.dense(1));
    const paths = tree.leavesWithPath(model.init(key, np.zeros([2, 2])).params).map(([p]) => p);
    expect(paths).toContain("sequential_0/dense_1/kernel");
    expect(paths).toContain("dense_1/kernel");
  });

  test("two layers with one name are an error", () => {
    expect(() => nn.sequential(nn.dense(2, { name: "a" }), nn.dense(2, { name: "a" }))).toThrow(
      /two layers are named "a"/,
    );
  });
});

describe("module(): custom modules", () => {
  const residual = (units: number) => {
    const body = nn.sequential(nn.dense(units), nn.relu, nn.dense(units));
    return nn.module({
      kind: "residual",
      layers: [body],
      init: (k, x) => body.init(k, x),
      apply: (vars, x, opts) => {
        const [y, state] = body.apply(vars, x, opts);
        return [nn.relu(x.add(y)), state];
      },
    });
  };

  test("a residual block: relu(x + f(x)), placed in a sequential", async () => {
    const model = nn.sequential(residual(2), nn.dense(1));
    const vars = model.init(key, np.zeros([1, 2]));
    const p = vars.params as Record<string, Record<string, Record<string, JArray>>>;
    expect(Object.keys(p)).toEqual(["residual_0", "dense_1"]);
    const params = {
      residual_0: {
        dense_0: {
          kernel: np.array([
            [1, 0],
            [0, 1],
          ]),
          bias: np.array([0, -10]),
        },
        dense_2: {
          kernel: np.array([
            [2, 0],
            [0, 2],
          ]),
          bias: np.array([0, 0]),
        },
      },
      dense_1: { kernel: np.array([[1], [1]]), bias: np.array([0]) },
    };
    // x = [1, 3]: dense_0 → [1, −7] → relu [1, 0] → dense_2 [2, 0]; relu(x + .) = [3, 3]; sum 6.
    const [y] = model.apply({ params, state: {} }, np.array([[1, 3]]));
    await expectClose(y, [6]);
  });
});

describe("errors name the layer", () => {
  test("a wrong feature size names dense_1, the shape seen and the one expected", () => {
    const model = nn.sequential(nn.dense(4), nn.dense(3));
    const vars = model.init(key, np.zeros([2, 5]));
    const bad = {
      params: { ...(vars.params as object), dense_1: nn.dense(3).init(key, np.zeros([1, 7])).params },
      state: {},
    };
    expect(() => model.apply(bad, np.zeros([2, 5]))).toThrow(
      /^sequential\/dense_1: expected 7 features .*got shape \[2,4\]/,
    );
  });

  test("nested paths join with /; the error keeps its class", () => {
    const model = nn.sequential(nn.sequential(nn.conv2d(2, 3)));
    let err: unknown;
    try {
      model.init(key, np.zeros([4, 4]));
    } catch (e) {
      err = e;
    }
    expect((err as Error).name).toBe("ShapeError");
    expect((err as Error).message).toMatch(/^sequential\/sequential_0\/conv2d_0: expected an input of rank 3 or 4/);
  });

  test("a missing key for dropout in training says how to pass one", () => {
    const model = nn.sequential(nn.dropout(0.5));
    expect(() => model.apply({ params: {}, state: {} }, np.ones([2]), { train: true })).toThrow(
      /dropout_0: .*needs a PRNG key/,
    );
  });

  test("unknown initialiser and activation names list the valid ones", () => {
    expect(() => nn.dense(3, { kernelInit: "heNormall" })).toThrow(
      /unknown initialiser "heNormall"; valid names: .*heNormal/,
    );
    expect(() => nn.dense(3, { activation: "rellu" })).toThrow(/relu/);
  });
});

describe("penalties and constraints", () => {
  test("model.penalty sums the layers' regularisers; regularizers.penalty filters kernels", async () => {
    const model = nn.sequential(
      nn.dense(3, { kernelRegularizer: nn.regularizers.l2(0.1) }),
      nn.dense(2, { kernelRegularizer: nn.regularizers.l1(0.5) }),
    );
    const vars = model.init(key, np.zeros([1, 4]));
    const p = vars.params as Record<string, { kernel: JArray }>;
    const k0 = Array.from(await (p.dense_0 as { kernel: JArray }).kernel.data());
    const k1 = Array.from(await (p.dense_1 as { kernel: JArray }).kernel.data());
    const want = 0.1 * k0.reduce((a, v) => a + v * v, 0) + 0.5 * k1.reduce((a, v) => a + Math.abs(v), 0);
    await expectClose(model.penalty(vars.params), [want], { rtol: 1e-5 });
    const l2all = k0.concat(k1).reduce((a, v) => a + v * v, 0) * 0.01;
    await expectClose(nn.regularizers.penalty(vars.params, nn.regularizers.l2()), [l2all], { rtol: 1e-5 });
    await expectClose(nn.regularizers.l1l2({ l1: 1, l2: 1 })(np.array([1, -2])), [3 + 5]);
  });

  test("the penalty is differentiable: grad of l2 is 2·rate·w", async () => {
    const w = np.array([1, -2, 3]);
    await expectClose(grad(nn.regularizers.l2(0.5))(w), [1, -2, 3]);
  });

  test("model.constraints() chained last keeps each unit's incoming norm ≤ maxNorm", async () => {
    const model = nn.sequential(nn.dense(3, { kernelConstraint: nn.regularizers.maxNorm(1) }), nn.dense(1));
    const vars = model.init(key, np.zeros([1, 4]));
    const opt = chain(sgd(10), model.constraints());
    const grads = tree.map((p) => np.onesLike(p as JArray), vars.params);
    const [updates] = opt.update(grads, opt.init(vars.params), vars.params);
    const next = applyUpdates(vars.params, updates) as Record<string, { kernel: JArray }>;
    const k = (next.dense_0 as { kernel: JArray }).kernel;
    const norms = Array.from(await np.sqrt(np.square(k).sum(0)).data());
    for (const n of norms) expect(n).toBeCloseTo(1, 5);
    // The unconstrained layer moved by the plain step: kernel − 10.
    const before = Array.from(
      await ((vars.params as Record<string, { kernel: JArray }>).dense_1 as { kernel: JArray }).kernel.data(),
    );
    await expectClose(
      (next.dense_1 as { kernel: JArray }).kernel,
      before.map((v) => v - 10),
      { rtol: 1e-6 },
    );
    const c = nn.regularizers.constrain(nn.regularizers.nonNeg());
    const [u2] = c.update({ a: { kernel: np.array([-1, 1]) } }, c.init({}), { a: { kernel: np.array([0.5, 0.5]) } });
    await expectClose((u2 as { a: { kernel: JArray } }).a.kernel, [-0.5, 1]);
  });
});

describe("summary and foldBatchNorm", () => {
  test("summary lists layers, output shapes and parameter counts, as Keras", () => {
    const model = nn.sequential(nn.flatten(), nn.dense(300), nn.batchNorm(), nn.dense(10));
    const rows = nn.summaryRows(model, np.zeros([32, 28, 28]));
    expect(rows.map((r) => [r.name, r.outputShape, r.params, r.state])).toEqual([
      ["flatten_0", [32, 784], 0, 0],
      ["dense_1", [32, 300], 784 * 300 + 300, 0],
      ["batchNorm_2", [32, 300], 600, 600],
      ["dense_3", [32, 10], 3010, 0],
    ]);
    const text = nn.summary(model, np.zeros([32, 28, 28]));
    expect(text).toContain("dense_1 (dense)");
    expect(text).toContain("235,500");
    expect(text).toContain(`Total params: ${(235500 + 1200 + 3010).toLocaleString("en-US")}`);
    expect(text).toContain("Non-trainable params: 600");
  });

  test("foldBatchNorm merges batch norm into the layer before it: same inference outputs", async () => {
    const model = nn.sequential(
      nn.conv2d(3, 3, { padding: "same", useBias: false }),
      nn.batchNorm(),
      nn.relu,
      nn.flatten(),
      nn.dense(4),
      nn.batchNorm(),
    );
    const x = grid([2, 4, 4, 2], 0.3, 0.1);
    let vars = model.init(key, x);
    // A few training steps make the moving statistics and γ, β non-trivial.
    for (let i = 0; i < 3; i++) {
      const [, state] = model.apply(vars, grid([2, 4, 4, 2], 0.3 + i, 0.2, 2, 0.5), { train: true });
      vars = { params: vars.params, state };
    }
    vars = { params: tree.map((p) => (p as JArray).add(0.1), vars.params), state: vars.state };
    const folded = nn.foldBatchNorm(model, vars);
    expect(folded.model.layers.map((l) => l.name)).toEqual(["conv2d_0", "relu_2", "flatten_3", "dense_4"]);
    const [y] = model.apply(vars, x);
    const [yf] = folded.model.apply(folded.variables, x);
    await expectClose(yf, Array.from(await y.data()), { rtol: 1e-5, atol: 1e-5 });
  });
});
