/**
 * DP-SGD (Abadi et al. 2016, "Deep Learning with Differential Privacy") on Fashion-MNIST with
 * per-example gradients from `vmap(grad(loss))`. One jitted step:
 *
 *   gᵢ = ∇θ ℓ(θ; xᵢ, yᵢ)                        per example: vmap over the batch axis
 *   ḡᵢ = gᵢ · min(1, C / ‖gᵢ‖₂)                 ‖·‖ the global norm over every param leaf
 *   g̃ = (Σᵢ ḡᵢ + N(0, σ²C² I)) / B               i.e. the mean plus noise of std σ·C/B
 *   θ ← θ − η · g̃
 *
 * and the same model trained with plain minibatch SGD (no clipping, no noise) to compare. A
 * separate jitted check clips the per-example gradients by hand and confirms every clipped norm is
 * ≤ C and that the sum equals `optax.perExampleGlobalNormClip`'s.
 *
 * Batches here are shuffled epochs of fixed size, as most DP-SGD code does; the privacy
 * accountants (and so any ε) assume Poisson sampling, which this example does not compute.
 *
 *   node apps/examples/dist/examples/per-example-gradients.js --limit 10000 --steps 600
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Array, grad, jit, np, type PyTree, random, tree, vmap } from "@webjax/core";
import * as nn from "@webjax/nn";
import { loadFashionMnist } from "@webjax/nn/datasets";
import { applyUpdates, globalNorm, losses, perExampleGlobalNormClip, treeMap } from "@webjax/optax";
import { Command, InvalidArgumentError, Option } from "commander";
import { seedOption } from "../cli.js";
import { writeLinePlot } from "../plot/lines.js";

/** The small MLP trained here: 784 → 64 (ReLU) → 10, on flattened images. */
export function smallMlp(hidden = 64): nn.Module {
  return nn.sequential(nn.dense(hidden, { kernelInit: nn.initializers.heNormal() }), nn.relu, nn.dense(10));
}

/** The loss of one example (x: [784], y: a scalar label): what `grad` is taken of, per example. */
export function exampleLoss(model: nn.Module, state: PyTree) {
  return (params: PyTree, x: Array, y: Array): Array => {
    const [logits] = model.apply({ params, state }, x.reshape([1, -1]));
    return losses.softmaxCrossEntropyWithIntegerLabels(logits, y.reshape([1])).mean();
  };
}

/**
 * Per-example gradients: `vmap(grad(loss), { inAxes: [null, 0, 0] })`: the params are shared,
 * x and y are mapped over their first axis, so every leaf of the result has a leading batch axis.
 */
export function perExampleGradients(model: nn.Module, state: PyTree) {
  return vmap(grad(exampleLoss(model, state)), { inAxes: [null, 0, 0] }) as (
    params: PyTree,
    x: Array,
    y: Array,
  ) => PyTree;
}

/** The global L2 norm of each example's gradient: [B], over every leaf. */
export function perExampleNorms(grads: PyTree): Array {
  const leaves = tree.leaves(grads) as Array[];
  const b = leaves[0]?.shape[0] as number;
  return np.sqrt(leaves.map((g) => g.reshape([b, -1]).square().sum(1)).reduce((s, v) => s.add(v)));
}

/** Clips each example's gradient to global norm ≤ C by hand: ḡᵢ = gᵢ · min(1, C/‖gᵢ‖). */
export function clipPerExample(grads: PyTree, c: number): PyTree {
  const factor = np.minimum(1, np.divide(c, np.maximum(perExampleNorms(grads), 1e-12)));
  return treeMap((g) => g.mul(factor.reshape([-1, ...g.shape.slice(1).map(() => 1)])), grads);
}

/** The hyperparameters of one DP-SGD step. */
export interface DpStepOptions {
  /** The clipping norm C. */
  readonly clip: number;
  /** The noise multiplier σ. */
  readonly noise: number;
  readonly learningRate: number;
  /** B, the batch size the noisy sum is divided by. */
  readonly batchSize: number;
}

/**
 * One jitted DP-SGD step `(params, x, y, key) → [params', clipped]`: per-example gradients,
 * `perExampleGlobalNormClip` to C, Gaussian noise of std σ·C on the sum, divided by B, an SGD
 * step. `clipped` counts the examples whose gradient was scaled down. The params are donated.
 */
export function dpSgdStep(model: nn.Module, state: PyTree, o: DpStepOptions) {
  const perExample = perExampleGradients(model, state);
  return jit(
    (params: PyTree, xb: Array, yb: Array, key: Array) => {
      const [sum, clipped] = perExampleGlobalNormClip(perExample(params, xb, yb), o.clip);
      const [leaves, def] = tree.flatten(sum as PyTree);
      const keys = random.split(key, leaves.length);
      const noisy = (leaves as Array[]).map((g, i) =>
        g.add(random.normal(random.keyAt(keys, i), g.shape).mul(o.noise * o.clip)).div(o.batchSize),
      );
      const update = treeMap((g) => g.mul(-o.learningRate), def.unflatten(noisy));
      return [applyUpdates(params, update), clipped] as const;
    },
    { donateArgnums: [0] },
  );
}

/** Options of `run`. */
export interface DpOptions {
  /** Train on the first `limit` training images (default 10,000). */
  readonly limit?: number;
  readonly steps?: number;
  /** The clipping norm C (default 1). */
  readonly clip?: number;
  /** The noise multiplier σ (default 1). */
  readonly noise?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  /** Score the first `testLimit` test images (default 2,000). */
  readonly testLimit?: number;
  readonly out: string;
  readonly seed?: number;
}

/** What `run` returns. */
export interface DpResult {
  readonly trainSize: number;
  readonly steps: number;
  readonly batchSize: number;
  readonly clip: number;
  readonly noise: number;
  /** The std of the noise added to the mean gradient: σ·C/B. */
  readonly noiseStd: number;
  readonly dpAccuracy: number;
  readonly sgdAccuracy: number;
  /** The fraction of per-example gradients the clip scaled down, over all DP steps. */
  readonly clippedFraction: number;
  /** The per-example check on one batch, at the start and at the end of DP training. */
  readonly check: ReadonlyArray<{
    readonly when: "start" | "end";
    readonly maxNorm: number;
    readonly maxClippedNorm: number;
    /** Every clipped norm ≤ C (with float32 slack: C·(1 + 1e-5)). */
    readonly allWithinClip: boolean;
    /** max |Σ by-hand clip − perExampleGlobalNormClip's sum| over every param. */
    readonly sumDiscrepancy: number;
  }>;
  /** Test accuracy every `evalEvery` steps, both runs. */
  readonly curve: ReadonlyArray<{ readonly step: number; readonly dp: number; readonly sgd: number }>;
}

/** Trains the small MLP with DP-SGD and with plain SGD from the same init, on the same batches. */
export async function run(opts: DpOptions): Promise<DpResult> {
  const seed = opts.seed ?? 0;
  const steps = opts.steps ?? 600;
  const c = opts.clip ?? 1;
  const sigma = opts.noise ?? 1;
  const bs = opts.batchSize ?? 128;
  const lr = opts.learningRate ?? 0.2;
  const { train, test } = await loadFashionMnist();
  const n = Math.min(opts.limit ?? 10_000, train.labels.shape[0] as number);
  const m = Math.min(opts.testLimit ?? 2000, test.labels.shape[0] as number);
  const x = train.images.slice([0, n]).reshape([n, 784]);
  const y = train.labels.slice([0, n]);
  const xTest = test.images.slice([0, m]).reshape([m, 784]);
  const yTest = test.labels.slice([0, m]);

  const model = smallMlp();
  const init = model.init(random.key(seed), x);
  const state = init.state;
  const perExample = perExampleGradients(model, state);
  const meanLoss = (params: PyTree, xb: Array, yb: Array) => {
    const [logits] = model.apply({ params, state }, xb);
    return losses.softmaxCrossEntropyWithIntegerLabels(logits, yb).mean();
  };

  const dpStep = dpSgdStep(model, state, { clip: c, noise: sigma, learningRate: lr, batchSize: bs });
  const sgdStep = jit(
    (params: PyTree, xb: Array, yb: Array) =>
      applyUpdates(
        params,
        treeMap((g) => g.mul(-lr), grad(meanLoss)(params, xb, yb)),
      ),
    { donateArgnums: [0] },
  );
  const check = jit((params: PyTree, xb: Array, yb: Array) => {
    const g = perExample(params, xb, yb);
    const clipped = clipPerExample(g, c);
    const bySum = treeMap((l) => l.sum(0), clipped);
    const [optaxSum] = perExampleGlobalNormClip(g, c);
    const diff = treeMap((a, b) => a.sub(b).abs().max(), bySum, optaxSum);
    return {
      norms: perExampleNorms(g),
      clippedNorms: perExampleNorms(clipped),
      sumDiscrepancy: np.max(np.stack(tree.leaves(diff) as Array[])),
      // The global norm of the whole batch's mean gradient, for scale.
      meanNorm: globalNorm(treeMap((l) => l.mean(0), g)),
    };
  });
  const accuracy = jit((params: PyTree) => nn.metrics.accuracy(model.apply({ params, state }, xTest)[0], yTest));

  const copy = (t: PyTree) => treeMap((a) => np.copy(a), t) as PyTree;
  let dp = copy(init.params);
  let sgd = copy(init.params);
  const ds = nn.data.batches(
    { x, y },
    { batchSize: bs, shuffle: true, key: random.key(seed + 1), dropRemainder: true },
  );
  const noiseKey = random.key(seed + 2);
  const checks: DpResult["check"][number][] = [];
  const runCheck = async (when: "start" | "end", xb: Array, yb: Array) => {
    const r = check(dp, xb, yb);
    const [norms, clippedNorms, disc] = await Promise.all([
      r.norms.data(),
      r.clippedNorms.data(),
      r.sumDiscrepancy.item(),
    ]);
    const maxClippedNorm = Math.max(...clippedNorms);
    checks.push({
      when,
      maxNorm: Math.max(...norms),
      maxClippedNorm,
      allWithinClip: clippedNorms.every((v) => v <= c * (1 + 1e-5)),
      sumDiscrepancy: disc,
    });
  };
  const evalEvery = Math.max(1, Math.floor(steps / 10));
  const curve: { step: number; dp: number; sgd: number }[] = [];
  let clippedTotal = np.zeros([], "int32");
  let t = 0;
  let last: { x: Array; y: Array } | undefined;
  while (t < steps) {
    for (const b of ds) {
      if (t === 0) await runCheck("start", b.x, b.y);
      const [p2, k] = dpStep(dp, b.x, b.y, random.foldIn(noiseKey, t));
      dp = p2;
      clippedTotal = clippedTotal.add(k);
      sgd = sgdStep(sgd, b.x, b.y);
      last = b;
      t++;
      if (t % evalEvery === 0 || t === steps) {
        curve.push({ step: t, dp: await accuracy(dp).item(), sgd: await accuracy(sgd).item() });
      }
      if (t === steps) break;
    }
  }
  if (last) await runCheck("end", last.x, last.y);
  const result: DpResult = {
    trainSize: n,
    steps,
    batchSize: bs,
    clip: c,
    noise: sigma,
    noiseStd: (sigma * c) / bs,
    dpAccuracy: curve.at(-1)?.dp ?? Number.NaN,
    sgdAccuracy: curve.at(-1)?.sgd ?? Number.NaN,
    clippedFraction: (await clippedTotal.item()) / (steps * bs),
    check: checks,
    curve,
  };
  await mkdir(opts.out, { recursive: true });
  await writeFile(join(opts.out, "per-example-gradients.json"), JSON.stringify(result, null, 2));
  await writeLinePlot(join(opts.out, "dp-sgd.svg"), "DP-SGD against SGD on Fashion-MNIST", [
    {
      title: `C = ${c}, σ = ${sigma}, B = ${bs}, η = ${lr}`,
      x: "step",
      y: "test accuracy",
      series: [
        { name: "DP-SGD", points: curve.map((p) => [p.step, p.dp] as const) },
        { name: "SGD", points: curve.map((p) => [p.step, p.sgd] as const) },
      ],
    },
  ]);
  return result;
}

/** The readable summary the CLI prints. */
export function summary(r: DpResult): string {
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  return [
    `DP-SGD on Fashion-MNIST: ${r.trainSize} training images, ${r.steps} steps of ${r.batchSize}, C = ${r.clip}, σ = ${r.noise} (noise std on the mean gradient σC/B = ${r.noiseStd.toExponential(2)})`,
    `test accuracy  DP-SGD ${pct(r.dpAccuracy)}   non-private SGD ${pct(r.sgdAccuracy)}`,
    `per-example gradients clipped: ${pct(r.clippedFraction)} of them`,
    ...r.check.map(
      (k) =>
        `check (${k.when}): per-example norms up to ${k.maxNorm.toFixed(3)}, clipped up to ${k.maxClippedNorm.toFixed(6)} ` +
        `(${k.allWithinClip ? "all" : "NOT all"} ≤ C); by-hand vs optax sum differ by ${k.sumDiscrepancy.toExponential(2)}`,
    ),
    "step   DP-SGD   SGD",
    ...r.curve.map((p) => `${String(p.step).padStart(4)}   ${pct(p.dp)}   ${pct(p.sgd)}`),
  ].join("\n");
}

function positive(name: string, integer: boolean) {
  return (v: string): number => {
    const n = Number(v);
    if (!(n > 0) || (integer && !Number.isInteger(n)))
      throw new InvalidArgumentError(`${name} must be a positive ${integer ? "integer" : "number"}, got '${v}'.`);
    return n;
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const program = new Command()
    .name("per-example-gradients")
    .description("DP-SGD with vmap(grad) per-example gradients, clipping and Gaussian noise, against plain SGD.")
    .addOption(new Option("--limit <n>", "train on the first n training images").argParser(positive("--limit", true)))
    .addOption(new Option("--steps <n>", "training steps").argParser(positive("--steps", true)).default(600))
    .addOption(new Option("--clip <C>", "per-example L2 clipping norm").argParser(positive("--clip", false)).default(1))
    .addOption(new Option("--noise <sigma>", "noise multiplier σ").argParser(Number).default(1))
    .addOption(
      new Option("--batch-size <n>", "examples per step").argParser(positive("--batch-size", true)).default(128),
    )
    .addOption(new Option("--lr <rate>", "the SGD learning rate").argParser(positive("--lr", false)).default(0.2))
    .addOption(seedOption("the PRNG seed"))
    .addOption(
      new Option("--out <dir>", "where the JSON and the plot go").default(join("out", "per-example-gradients")),
    )
    .showHelpAfterError("(run with --help for the usage)")
    .allowExcessArguments(false);
  program.parse();
  const o = program.opts<{
    limit?: number;
    steps: number;
    clip: number;
    noise: number;
    batchSize: number;
    lr: number;
    seed: number;
    out: string;
  }>();
  const t0 = performance.now();
  const r = await run({ ...o, learningRate: o.lr });
  console.log(summary(r));
  console.log(
    `wrote ${join(o.out, "per-example-gradients.json")} and ${join(o.out, "dp-sgd.svg")} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
