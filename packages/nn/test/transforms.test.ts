/**
 * Every layer under `jit` (equal to eager), `vmap` (per example, against a loop; batch norm in
 * inference mode, since batch statistics mean nothing per example) and `grad` (checkGrads: jvp
 * against central differences in float64 on the CPU, and the dot-product identity on every
 * backend), with respect to the input and every param.
 */
import { type Array as JArray, jit, np, type PyTree, random, tree } from "@webjax/core";
import * as nn from "@webjax/nn";
import { checkGrads, checkVmap, expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import { grid } from "./helpers.js";

const key = random.key(5);

interface Case {
  readonly name: string;
  readonly layer: nn.Module;
  readonly shape: number[];
  /** Train mode for jit and grad (batch norm's batch statistics, dropout on). */
  readonly train?: boolean;
  /** A layer for the per-example (vmap) run, when it differs. */
  readonly perExample?: nn.Module;
}

const cases: Case[] = [
  { name: "dense", layer: nn.dense(3, { activation: "tanh" }), shape: [2, 4] },
  { name: "conv2d same", layer: nn.conv2d(2, 3, { padding: "same" }), shape: [2, 5, 5, 3] },
  { name: "conv2d strided, dilated", layer: nn.conv2d(2, 2, { strides: 2, dilation: 1 }), shape: [2, 5, 5, 2] },
  { name: "conv1d", layer: nn.conv1d(2, 3), shape: [2, 6, 3] },
  { name: "maxPool", layer: nn.maxPool(2), shape: [2, 4, 4, 2] },
  { name: "avgPool same", layer: nn.avgPool(2, { padding: "same" }), shape: [2, 5, 5, 2] },
  { name: "globalAvgPool", layer: nn.globalAvgPool(), shape: [2, 3, 3, 2] },
  { name: "flatten", layer: nn.flatten(), shape: [2, 3, 4], perExample: nn.flatten({ startAxis: 0 }) },
  { name: "batchNorm", layer: nn.batchNorm(), shape: [4, 3], train: true },
  { name: "layerNorm", layer: nn.layerNorm(), shape: [2, 5] },
  { name: "dropout", layer: nn.dropout(0.3), shape: [2, 6], train: true },
  { name: "alphaDropout", layer: nn.alphaDropout(0.2), shape: [2, 6], train: true },
  { name: "prelu", layer: nn.prelu({ alphaInit: nn.initializers.constant(0.2) }), shape: [2, 5] },
  { name: "srelu", layer: nn.srelu(), shape: [2, 5] },
  { name: "rrelu", layer: nn.rrelu(), shape: [2, 5], train: true },
  { name: "maxout", layer: nn.maxout(2), shape: [2, 6] },
  { name: "activation elu", layer: nn.activation("elu"), shape: [2, 4] },
  {
    name: "sequential MLP",
    layer: nn.sequential(nn.dense(4), nn.batchNorm(), nn.elu, nn.dropout(0.2), nn.dense(2)),
    shape: [3, 5],
    train: true,
  },
];

/** The input of a case: a grid spread over [−2, 2] so activations see both signs. */
const input = (shape: number[]) => grid(shape, 0.731, 0.4, 2);

describe.each(cases)("$name", ({ layer, shape, train, perExample }) => {
  const x = input(shape);
  const vars = layer.init(key, x);
  const opts = { train: train ?? false, key };

  test("jit equals eager", async () => {
    const f = (v: nn.Variables, a: JArray, k: JArray) => layer.apply(v, a, { train: opts.train, key: k });
    const [eager, s0] = f(vars, x, key);
    const [jitted, s1] = jit(f)(vars, x, key);
    expect(jitted.shape).toEqual(eager.shape);
    await expectClose(jitted, Array.from(await eager.data()), { rtol: 1e-5, atol: 1e-5 });
    const l0 = tree.leaves(s0 as PyTree) as JArray[];
    const l1 = tree.leaves(s1 as PyTree) as JArray[];
    for (let i = 0; i < l0.length; i++) {
      await expectClose(l1[i] as JArray, Array.from(await (l0[i] as JArray).data()), { rtol: 1e-5, atol: 1e-6 });
    }
  });

  test("vmap per example equals a loop (inference mode)", async () => {
    const per = perExample ?? layer;
    await checkVmap((a: JArray) => per.apply(vars, a)[0], [x], { inAxes: [0] });
  });

  test("gradients with respect to the input and every param", async () => {
    const [leaves, def] = tree.flatten(vars.params);
    const f = (a: JArray, ...ps: JArray[]) => {
      const params = def.unflatten(ps) as PyTree;
      return layer.apply({ params, state: vars.state }, a, opts)[0];
    };
    await checkGrads(f, [x, ...(leaves as JArray[])], { fdTol: { rtol: 1e-5, atol: 1e-5 } });
  });
});

describe("embedding", () => {
  test("jit, vmap and the gradient of the table (a scatter-add of the cotangents)", async () => {
    const e = nn.embedding(5, 2);
    const ids = np.array(
      [
        [0, 3],
        [3, 4],
      ],
      { dtype: "int32" },
    );
    const vars = e.init(key, ids);
    const [y] = e.apply(vars, ids);
    const [yj] = jit((v: nn.Variables, i: JArray) => e.apply(v, i))(vars, ids);
    await expectClose(yj, Array.from(await y.data()));
    await checkVmap((i: JArray) => e.apply(vars, i)[0], [ids], { inAxes: [0] });
    const table = (vars.params as { embedding: JArray }).embedding;
    await checkGrads((t: JArray) => e.apply({ params: { embedding: t }, state: {} }, ids)[0], [table]);
  });
});
