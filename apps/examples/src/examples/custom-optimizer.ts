/**
 * A custom optimiser built from optax's blocks plus one written from scratch, trained on the
 * main job's model (`nn.presets.dense([300, 100, 10], { batchNorm: true })`) through `nn.fit`:
 *
 *   clipByGlobalNorm(1) → scaleByAdam → addDecayedWeights(λ, kernels only)
 *     → scaleByLearningRate(1cycle) → lookahead(k, α)
 *
 * wrapped in `injectHyperparams`, so the state carries the current learning rate (fit's
 * `learning_rate` log). `lookahead` is Zhang et al. 2019's "Lookahead Optimizer: k steps forward,
 * 1 step back", written as a plain `{ init, update }` over pytrees: it keeps slow weights φ; the
 * inner optimiser moves the fast weights θ, and every k-th step φ ← φ + α(θ − φ) and θ ← φ.
 *
 *   node apps/examples/dist/examples/custom-optimizer.js --limit 6000 --epochs 3
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Array, np, type PyTree, random } from "@webjax/core";
import * as nn from "@webjax/nn";
import { loadFashionMnist } from "@webjax/nn/datasets";
import {
  addDecayedWeights,
  chain,
  clipByGlobalNorm,
  cosineOnecycleSchedule,
  type GradientTransformation,
  injectHyperparams,
  linearOnecycleSchedule,
  scaleByAdam,
  scaleByLearningRate,
  treeMap,
} from "@webjax/optax";
import { Command, Option } from "commander";
import { positiveInt, seedOption } from "../cli.js";
import { writeLinePlot } from "../plot/lines.js";

/** lookahead's state: the steps taken and the slow weights φ (a copy of the params' tree). */
export interface LookaheadState {
  readonly count: Array;
  readonly slow: PyTree;
}

/**
 * Lookahead (Zhang, Lucas, Hinton & Ba 2019) as the last link of a chain. With θ the params and
 * u the inner update, the fast weights are θ' = θ + u; on every k-th step the slow weights move
 * φ ← φ + α(θ' − φ) and the update returned is φ − θ, so the params land on φ; on the other
 * steps u passes through. Needs the params (update's third argument).
 */
export function lookahead(opts: { syncPeriod?: number; alpha?: number } = {}): GradientTransformation<LookaheadState> {
  const k = opts.syncPeriod ?? 5;
  const alpha = opts.alpha ?? 0.5;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`lookahead: syncPeriod must be a positive integer, got ${k}`);
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`lookahead: alpha must be in (0, 1], got ${alpha}`);
  return {
    // A copy: under fit the params and the optimiser state are donated, so they must not share buffers.
    init: (params) => ({ count: np.zeros([], "int32"), slow: treeMap((p) => np.copy(p), params) }),
    update: (updates, state, params) => {
      if (params === undefined) throw new TypeError("lookahead: update needs the params (its third argument)");
      const count = state.count.add(1);
      const sync = np.remainder(count, k).equal(0);
      const slow = treeMap(
        (s, p, u) => np.where(sync, s.add(p.add(u).sub(s).mul(alpha)), s),
        state.slow,
        params,
        updates,
      );
      const out = treeMap((u, s, p) => np.where(sync, s.sub(p), u), updates, slow, params);
      return [out, { count, slow }];
    },
  };
}

/** The knobs of `customOptimizer`. */
export interface CustomOptimizerOptions {
  /** Steps of the 1cycle schedule (epochs × steps per epoch). */
  readonly steps: number;
  /** The schedule's peak learning rate (default 3e-3). */
  readonly peak?: number;
  readonly schedule?: "linear" | "cosine";
  /** The global-norm clip of the gradient (default 1). */
  readonly clipNorm?: number;
  /** Decoupled weight decay λ on the kernels (default 1e-4; AdamW's). */
  readonly weightDecay?: number;
  /** Lookahead's k and α (default 5 and 0.5). */
  readonly syncPeriod?: number;
  readonly alpha?: number;
}

/** True for each leaf named `kernel`: weight decay on the weights, not on biases or batch norm. */
export function kernelsOnly(params: PyTree): PyTree {
  const walk = (t: PyTree, name: string): PyTree =>
    t !== null && typeof t === "object" && !(t instanceof Array)
      ? Object.fromEntries(Object.entries(t as Record<string, PyTree>).map(([key, v]) => [key, walk(v, key)]))
      : name === "kernel";
  return walk(params, "");
}

/** clip → Adam → weight decay → 1cycle → lookahead, with the learning rate injected into the state. */
export function customOptimizer(o: CustomOptimizerOptions): GradientTransformation {
  const peak = o.peak ?? 3e-3;
  const schedule =
    (o.schedule ?? "linear") === "linear"
      ? linearOnecycleSchedule(o.steps, peak)
      : cosineOnecycleSchedule(o.steps, peak);
  return injectHyperparams((h: { learningRate: Array }) =>
    chain(
      clipByGlobalNorm(o.clipNorm ?? 1),
      scaleByAdam({ b1: 0.9, b2: 0.999 }),
      addDecayedWeights(o.weightDecay ?? 1e-4, { mask: kernelsOnly }),
      scaleByLearningRate(h.learningRate),
      lookahead({ syncPeriod: o.syncPeriod ?? 5, alpha: o.alpha ?? 0.5 }),
    ),
  )({ learningRate: schedule });
}

/** Options of `run`. */
export interface RunOptions {
  /** Train on the first `limit` training images (the last 10% of them validate). */
  readonly limit?: number;
  readonly epochs?: number;
  readonly batchSize?: number;
  /** Also train the preset's own optimiser (Nadam, 1cycle) for comparison (default true). */
  readonly baseline?: boolean;
  readonly out: string;
  readonly seed?: number;
  readonly progress?: boolean;
}

/** One epoch's numbers. */
export interface EpochRow {
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly valAccuracy: number;
  readonly learningRate: number;
}

/** What `run` returns. */
export interface RunResult {
  readonly trainSize: number;
  readonly epochs: readonly EpochRow[];
  readonly testAccuracy: number;
  /** The preset's Nadam + 1cycle on the same model, data and seed (when `baseline`). */
  readonly baseline?: { readonly epochs: readonly EpochRow[]; readonly testAccuracy: number };
  /** The step count lookahead reached: every step went through the custom transform. */
  readonly lookaheadSteps: number;
}

const rows = (h: nn.History): EpochRow[] =>
  (h.loss ?? []).map((loss, i) => ({
    epoch: i + 1,
    loss,
    accuracy: h.accuracy?.[i] ?? Number.NaN,
    valAccuracy: h.val_accuracy?.[i] ?? Number.NaN,
    learningRate: h.learning_rate?.[i] ?? Number.NaN,
  }));

/** The first leaf named `count` under a `slow`-holding node: lookahead's step count. */
function lookaheadCount(optState: PyTree): Array | undefined {
  if (optState === null || typeof optState !== "object" || optState instanceof Array) return undefined;
  const o = optState as Record<string, PyTree>;
  if ("slow" in o && o.count instanceof Array) return o.count as Array;
  for (const v of Object.values(o)) {
    const hit = lookaheadCount(v);
    if (hit) return hit;
  }
  return undefined;
}

/** Trains the main job's model with `customOptimizer` (and the preset's optimiser, to compare). */
export async function run(opts: RunOptions): Promise<RunResult> {
  const seed = opts.seed ?? 0;
  const epochs = opts.epochs ?? 3;
  const batchSize = opts.batchSize ?? 128;
  const { train, test } = await loadFashionMnist();
  const n = Math.min(opts.limit ?? 60_000, train.labels.shape[0] as number);
  const nVal = Math.floor(n / 10);
  const x = train.images.slice([0, n]);
  const y = train.labels.slice([0, n]);
  const [tr, va] = nn.data.trainValidationSplit({ x, y }, { validationSize: nVal });
  const xTest = test.images.slice([0, Math.min(n, 10_000)]);
  const yTest = test.labels.slice([0, Math.min(n, 10_000)]);
  const stepsPerEpoch = Math.ceil((n - nVal) / batchSize);

  const train1 = async (optimizer: GradientTransformation | undefined) => {
    const p = nn.presets.dense([300, 100, 10], {
      batchNorm: true,
      epochs,
      stepsPerEpoch,
      learningRate: 3e-3,
      earlyStopping: false,
      ...(optimizer ? { optimizer } : {}),
    });
    const r = await nn.fit(p.model, p.model.init(random.key(seed), tr.x), tr, {
      optimizer: p.optimizer,
      loss: "sparseCategoricalCrossentropy",
      metrics: ["accuracy"],
      epochs,
      batchSize,
      key: random.key(seed + 1),
      validationData: va,
      progress: opts.progress ? "line" : false,
    });
    const [logits] = p.model.apply(r.variables, xTest);
    return { r, testAccuracy: await nn.metrics.accuracy(logits, yTest).item() };
  };

  const custom = await train1(customOptimizer({ steps: epochs * stepsPerEpoch, peak: 3e-3 }));
  const count = lookaheadCount(custom.r.optState);
  const result: RunResult = {
    trainSize: n - nVal,
    epochs: rows(custom.r.history),
    testAccuracy: custom.testAccuracy,
    lookaheadSteps: count ? await count.item() : 0,
    ...(opts.baseline === false
      ? {}
      : await train1(undefined).then((b) => ({
          baseline: { epochs: rows(b.r.history), testAccuracy: b.testAccuracy },
        }))),
  };
  await mkdir(opts.out, { recursive: true });
  await writeFile(join(opts.out, "custom-optimizer.json"), JSON.stringify(result, null, 2));
  const curve = (name: string, es: readonly EpochRow[], f: (e: EpochRow) => number) => ({
    name,
    points: es.map((e) => [e.epoch, f(e)] as const),
  });
  const series = (f: (e: EpochRow) => number) => [
    curve("custom chain + lookahead", result.epochs, f),
    ...(result.baseline ? [curve("preset Nadam", result.baseline.epochs, f)] : []),
  ];
  await writeLinePlot(join(opts.out, "custom-optimizer.svg"), "A custom optax chain on the main job's model", [
    { title: "validation accuracy", x: "epoch", y: "accuracy", series: series((e) => e.valAccuracy) },
    {
      title: "learning rate at the epoch's last step",
      x: "epoch",
      y: "learning rate",
      series: series((e) => e.learningRate),
    },
  ]);
  return result;
}

/** The readable summary the CLI prints. */
export function summary(r: RunResult): string {
  const table = (es: readonly EpochRow[]) =>
    es.map(
      (e) =>
        `  ${String(e.epoch).padStart(5)}  ${e.loss.toFixed(4)}  ${e.accuracy.toFixed(4)}  ${e.valAccuracy.toFixed(4)}  ${e.learningRate.toExponential(3)}`,
    );
  const head = "  epoch  loss    acc     val_acc learning rate";
  return [
    `clip(1) → Adam → weight decay 1e-4 (kernels) → linear 1cycle (peak 3e-3) → lookahead(k = 5, α = 0.5); ${r.trainSize} training images`,
    head,
    ...table(r.epochs),
    `test accuracy ${(r.testAccuracy * 100).toFixed(2)}% (lookahead's step count: ${r.lookaheadSteps})`,
    ...(r.baseline
      ? [
          "",
          "the preset's optimiser (Nadam, linear 1cycle, peak 3e-3), same model, data and seed:",
          head,
          ...table(r.baseline.epochs),
          `test accuracy ${(r.baseline.testAccuracy * 100).toFixed(2)}%`,
        ]
      : []),
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const program = new Command()
    .name("custom-optimizer")
    .description("Train the main job's model with a custom optax chain that ends in a hand-written lookahead.")
    .addOption(new Option("--limit <n>", "use the first n training images").argParser(positiveInt("--limit")))
    .addOption(new Option("--epochs <n>", "training epochs").argParser(positiveInt("--epochs")).default(3))
    .addOption(new Option("--batch-size <n>", "examples per step").argParser(positiveInt("--batch-size")).default(128))
    .addOption(new Option("--no-baseline", "skip the preset optimiser's run"))
    .addOption(seedOption("the PRNG seed"))
    .addOption(new Option("--out <dir>", "where the JSON and the plot go").default(join("out", "custom-optimizer")))
    .showHelpAfterError("(run with --help for the usage)")
    .allowExcessArguments(false);
  program.parse();
  const o = program.opts<{
    limit?: number;
    epochs: number;
    batchSize: number;
    baseline: boolean;
    seed: number;
    out: string;
  }>();
  const r = await run({ ...o, progress: true });
  console.log(summary(r));
  console.log(`wrote ${join(o.out, "custom-optimizer.json")} and ${join(o.out, "custom-optimizer.svg")}`);
}
