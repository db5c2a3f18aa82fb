/**
 * The lectures' vanishing-gradient demonstration (Glorot & Bengio 2010; Géron ch. 11) on a
 * 20-layer, 100-unit sigmoid network (fixed seeds; a batch of 64 standard-normal inputs; the
 * loss is the mean squared output). With naive small Gaussian weights (Keras' `RandomNormal`,
 * σ = 0.05) the per-layer gradient norms shrink by orders of magnitude towards the input
 * (measured: 1e-1 at the top, 1e-19 at the bottom). With naive N(0, 1) weights the sigmoids
 * saturate instead: pre-activations have σ ≈ 6, most outputs sit near 0 or 1, and the gradient
 * norms (measured 1e-2 … 1e-1) are small everywhere rather than vanishing — at width 100 the
 * large weights cancel the small slopes, so that case is asserted as saturation. With He init +
 * ELU, or LeCun init + SELU, the norms stay within one order of magnitude.
 */
import { grad, type Array as JArray, np, random } from "@webjax/core";
import * as nn from "@webjax/nn";
import { describe, expect, test } from "vitest";

const depth = 20;

async function kernelGradNorms(act: (x: JArray) => JArray, kernelInit: nn.Initializer): Promise<number[]> {
  const layers: nn.Layer[] = [];
  for (let i = 0; i < depth; i++) layers.push(nn.dense(100, { kernelInit }), act);
  const model = nn.sequential(...layers);
  const x = random.normal(random.key(1), [64, 100]);
  const { params, state } = model.init(random.key(0), x);
  const loss = (p: typeof params) => np.square(model.apply({ params: p, state }, x)[0]).mean();
  const g = grad(loss)(params) as Record<string, { kernel: JArray }>;
  const norms: number[] = [];
  for (let i = 0; i < depth; i++) {
    const k = g[`dense_${2 * i}`]?.kernel as JArray;
    // The norm scaled by the largest entry: squares of 1e-19 would be subnormal, which GPUs flush to zero.
    const m = await np.abs(k).max().item();
    norms.push(m === 0 ? 0 : (await np.sqrt(np.square(k.div(m)).sum()).item()) * m);
  }
  return norms;
}

describe("vanishing gradients", () => {
  test("sigmoid with naive N(0, 0.05²) weights: gradients shrink by orders of magnitude towards the input", async () => {
    const norms = await kernelGradNorms(nn.sigmoid, nn.initializers.normal(0.05));
    const first = norms[0] as number;
    const last = norms[depth - 1] as number;
    expect(first).toBeGreaterThan(0);
    expect(last / first).toBeGreaterThan(1e10);
    // Monotone: every layer's gradient is smaller than the one above it.
    for (let i = 0; i < depth - 1; i++) expect(norms[i] as number).toBeLessThan(norms[i + 1] as number);
  });

  test("sigmoid with naive N(0, 1) weights saturates: most hidden outputs within 0.01 of 0 or 1", async () => {
    const layers: nn.Layer[] = [];
    for (let i = 0; i < 5; i++) layers.push(nn.dense(100, { kernelInit: nn.initializers.normal(1) }), nn.sigmoid);
    const model = nn.sequential(...layers);
    const x = random.normal(random.key(1), [64, 100]);
    const [h] = model.apply(model.init(random.key(0), x), x);
    const v = Array.from(await h.data());
    const saturated = v.filter((a) => a < 0.01 || a > 0.99).length / v.length;
    expect(saturated).toBeGreaterThan(0.4);
  });

  test.each([
    ["He + ELU", nn.elu as (x: JArray) => JArray, nn.initializers.heNormal()],
    ["LeCun + SELU", nn.selu as (x: JArray) => JArray, nn.initializers.lecunNormal()],
  ] as Array<[string, (x: JArray) => JArray, nn.Initializer]>)(
    "%s: within one order of magnitude",
    async (_n, act, init) => {
      const norms = await kernelGradNorms(act, init);
      expect(Math.max(...norms) / Math.min(...norms)).toBeLessThan(10);
    },
  );
});
