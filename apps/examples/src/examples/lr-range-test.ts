/**
 * Smith's learning-rate range test (Smith 2017, "Cyclical Learning Rates", §3.3; Géron ch. 11's
 * way to pick the peak of 1cycle) on the main job's model: MLP 784-300-100-10, He init, ELU and
 * batch norm (`nn.presets.dense`), trained with Nadam, as the main job is, on Fashion-MNIST.
 *
 * `optax.lrRangeTest` trains a copy of the freshly initialised model for `steps` mini-batches
 * while the learning rate grows exponentially from 1e-5 to 10, records the smoothed training loss
 * and stops once it diverges (4 × the best). The suggested 1cycle peak follows the lectures'
 * rule, "about 10 times lower than the turning point": a tenth of the learning rate at the lowest
 * smoothed loss (optax's `suggestedLr`). The learning rate of the steepest descent of the
 * smoothed loss (fastai's other rule) is printed too, for comparison; the plot marks the suggested
 * peak and the minimum.
 *
 *   node apps/examples/dist/examples/lr-range-test.js --limit 10000 --steps 100
 *   → out/lr-range-test/lr-range-test.svg
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Array, type PyTree, random, setBackend } from "@webjax/core";
import * as nn from "@webjax/nn";
import { loadFashionMnist } from "@webjax/nn/datasets";
import * as optax from "@webjax/optax";
import { Command, Option } from "commander";
import { intAtLeast, seedOption } from "../cli.js";
import { writeLinePlot } from "../plot/lines.js";

/** The ramp: from MIN_LR to MAX_LR, multiplied by a constant factor every step. */
export const MIN_LR = 1e-5;
export const MAX_LR = 10;

/** Options of `run` (the CLI's flags). */
export interface LrRangeTestOptions {
  /** Use the first `limit` training images (default 10,000). */
  readonly limit?: number;
  /** Steps of the ramp (default 100); the test stops sooner when the loss diverges. */
  readonly steps?: number;
  /** The output folder: the plot goes there. */
  readonly out: string;
  /** Examples per step (default 128, the main job's). */
  readonly batchSize?: number;
  readonly seed?: number;
}

/** What `run` gives back. */
export interface LrRangeTestResult {
  /** The learning rate of each step taken. */
  readonly lrs: number[];
  /** The smoothed training loss after each step. */
  readonly losses: number[];
  /** The raw training loss of each step. */
  readonly rawLosses: number[];
  /** The learning rate at the lowest smoothed loss (the turning point). */
  readonly minLossLr: number;
  /** The suggested 1cycle peak: minLossLr / 10. */
  readonly suggestedPeak: number;
  /** The learning rate where the smoothed loss falls fastest (per decade), before the minimum. */
  readonly steepestLr: number;
  /** Whether the ramp ended on divergence (otherwise it reached MAX_LR). */
  readonly diverged: boolean;
  /** The SVG's path. */
  readonly plot: string;
}

/**
 * The learning rate at the steepest descent of `losses` against log10(lr), among the steps
 * before the minimum: the central difference of the smoothed loss, per decade.
 */
export function steepestDescentLr(lrs: readonly number[], losses: readonly number[]): number {
  let kMin = 0;
  losses.forEach((v, i) => {
    if (v < (losses[kMin] as number)) kMin = i;
  });
  let best = 0;
  let slope = Number.POSITIVE_INFINITY;
  for (let i = 1; i < Math.min(kMin, losses.length - 1); i++) {
    const s =
      ((losses[i + 1] as number) - (losses[i - 1] as number)) /
      (Math.log10(lrs[i + 1] as number) - Math.log10(lrs[i - 1] as number));
    if (s < slope) {
      slope = s;
      best = i;
    }
  }
  return lrs[best] as number;
}

/**
 * The smoothing β of the loss's moving average: a window of a third of a decade of the ramp
 * (β = 1 − 1/window, at least 2 steps). fastai's fixed 0.98 averages ~50 steps, which on a
 * 100-step ramp lags the loss by more than a decade and puts the minimum far too late.
 */
export function smoothingFor(steps: number): number {
  const stepsPerDecade = steps / Math.log10(MAX_LR / MIN_LR);
  return 1 - 1 / Math.max(2, stepsPerDecade / 3);
}

/** Runs the range test on the main job's model and writes the plot. */
export async function run(opts: LrRangeTestOptions): Promise<LrRangeTestResult> {
  const steps = opts.steps ?? 100;
  const batchSize = opts.batchSize ?? 128;
  const seed = opts.seed ?? 0;
  const { train } = await loadFashionMnist();
  const all = train.labels.shape[0] as number;
  const n = Math.min(opts.limit ?? 10_000, all);
  const data = { x: train.images.slice([0, n]), y: train.labels.slice([0, n]) };
  // The model only: the preset's own optimiser and schedule are not used here.
  const { model } = nn.presets.dense([300, 100, 10], {
    batchNorm: true,
    epochs: 1,
    stepsPerEpoch: 1,
    earlyStopping: false,
  });
  const { params, state } = model.init(random.key(seed), data.x);
  // Training mode: batch norm normalises with each batch's statistics, so its moving averages
  // (the state) are not needed and are not carried from step to step.
  const lossFn = (p: PyTree, b: { x: Array; y: Array }): Array => {
    const [logits] = model.apply({ params: p, state }, b.x, { train: true });
    return nn.losses.softmaxCrossEntropyWithIntegerLabels(logits, b.y).mean();
  };
  // Batches in shuffled epochs, as many epochs as the ramp needs; the step index is sequential.
  const ds = nn.data.batches(data, { batchSize, shuffle: true, key: random.key(seed + 1), dropRemainder: true });
  let it: Iterator<{ x: Array; y: Array }> = ds[Symbol.iterator]();
  const next = (): { x: Array; y: Array } => {
    let r = it.next();
    if (r.done) {
      it = ds[Symbol.iterator]();
      r = it.next();
    }
    return r.value as { x: Array; y: Array };
  };
  const r = await optax.lrRangeTest(lossFn, params, () => next(), {
    minLr: MIN_LR,
    maxLr: MAX_LR,
    steps,
    smoothing: smoothingFor(steps),
    optimizer: (lr) => optax.nadam(lr),
  });
  const steepestLr = steepestDescentLr(r.lrs, r.losses);

  await mkdir(opts.out, { recursive: true });
  const plot = join(opts.out, "lr-range-test.svg");
  // The last, diverged step can be orders of magnitude above the rest: show the loss up to 2 × the
  // first one, so the dip stays readable.
  const cap = 2 * (r.losses[0] as number);
  const keep = (v: number) => Number.isFinite(v) && v <= cap;
  await writeLinePlot(
    plot,
    `LR range test, Nadam: Fashion-MNIST, ${n} images`,
    [
      {
        title: `suggested 1cycle peak ${fmt(r.suggestedLr)} = LR at the min / 10`,
        x: `learning rate (log scale), batch ${batchSize}`,
        y: "training loss, 784-300-100-10 MLP",
        logX: true,
        series: [
          {
            name: "raw loss",
            points: r.lrs.map((lr, i) => [lr, r.rawLosses[i] as number] as const).filter(([, v]) => keep(v)),
          },
          {
            name: "smoothed loss",
            points: r.lrs.map((lr, i) => [lr, r.losses[i] as number] as const).filter(([, v]) => keep(v)),
          },
        ],
        marks: [
          { x: r.suggestedLr, label: `peak ${fmt(r.suggestedLr)}` },
          { x: r.minLossLr, label: `min ${fmt(r.minLossLr)}` },
        ],
      },
    ],
    { columns: 1 },
  );
  return {
    lrs: r.lrs,
    losses: r.losses,
    rawLosses: r.rawLosses,
    minLossLr: r.minLossLr,
    suggestedPeak: r.suggestedLr,
    steepestLr,
    diverged: r.diverged,
    plot,
  };
}

/** A learning rate in short scientific notation (3.2e-3). */
export function fmt(lr: number): string {
  return lr.toExponential(1).replace("e+", "e");
}

async function main(): Promise<void> {
  const program = new Command()
    .name("lr-range-test")
    .description("Smith's learning-rate range test on the main job's model (784-300-100-10, Nadam) on Fashion-MNIST.")
    .addOption(
      new Option("--steps <n>", "steps of the exponential ramp").argParser(intAtLeast("--steps", 2)).default(100),
    )
    .addOption(
      new Option("--limit <n>", "use the first n training images").argParser(intAtLeast("--limit")).default(10_000),
    )
    .addOption(new Option("--batch-size <n>", "examples per step").argParser(intAtLeast("--batch-size")).default(128))
    .addOption(seedOption("the PRNG seed (init and shuffles)"))
    .addOption(new Option("--out <dir>", "where the plot goes").default(join("out", "lr-range-test")))
    .showHelpAfterError("(run with --help for the usage)")
    .allowExcessArguments(false);
  program.parse();
  const o = program.opts<{ steps: number; limit: number; batchSize: number; seed: number; out: string }>();
  setBackend("cpu");
  const started = performance.now();
  const r = await run(o);
  const seconds = (performance.now() - started) / 1000;
  const kMin = r.losses.indexOf(Math.min(...r.losses));
  console.log(
    `LR range test: ${r.lrs.length} of ${o.steps} steps from ${fmt(MIN_LR)} to ${fmt(MAX_LR)} (Nadam, batch ${o.batchSize}, ${o.limit} images) in ${seconds.toFixed(1)} s` +
      (r.diverged ? `; diverged at ${fmt(r.lrs.at(-1) as number)}` : "; reached the end without diverging"),
  );
  console.log(
    `loss: ${(r.losses[0] as number).toFixed(3)} at first, lowest ${(r.losses[kMin] as number).toFixed(3)} at ${fmt(r.minLossLr)}`,
  );
  console.log(`steepest descent at ${fmt(r.steepestLr)} (fastai's rule, for comparison)`);
  console.log(`suggested 1cycle peak: ${fmt(r.suggestedPeak)} (a tenth of the LR at the lowest smoothed loss)`);
  console.log(`plot: ${r.plot}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
