/**
 * The lectures' optimiser comparison (Géron, *Hands-On Machine Learning*, ch. 11, table 11-2:
 * convergence speed and final quality) on the main job's model: MLP 784-300-100-10, He init, ELU
 * and batch norm (`nn.presets.dense`) on Fashion-MNIST. Every optimiser starts from the same
 * initial weights (one seed), sees the same batches in the same order, for the same number of
 * epochs, at a constant learning rate:
 *
 * | optimiser | learning rate | other hyperparameters |
 * |---|---|---|
 * | SGD      | 0.05  | — |
 * | momentum | 0.01  | β = 0.9 |
 * | Nesterov | 0.01  | β = 0.9 |
 * | AdaGrad  | 0.01  | initial accumulator 0.1, ε = 1e-7 |
 * | RMSProp  | 0.001 | ρ = 0.9, ε = 1e-8 |
 * | Adam     | 0.001 | β₁ = 0.9, β₂ = 0.999, ε = 1e-8 |
 * | Nadam    | 0.001 | β₁ = 0.9, β₂ = 0.999, ε = 1e-8 |
 * | AdaMax   | 0.002 | β₁ = 0.9, β₂ = 0.999, ε = 1e-8 (Kingma & Ba's default rate) |
 *
 * The rates are the usual defaults (Keras' and the papers'), except plain SGD's, raised from
 * Keras' 0.01 to 0.05 (batch norm tolerates it) and momentum's, left at 0.01 since β = 0.9 makes
 * its effective step ten times larger. "Convergence speed" is the first epoch (and step) whose
 * validation accuracy reaches the target (default 83%, what 3 epochs on 10,000 images reach); "final quality" is the last epoch's
 * validation accuracy and loss. The validation set is the last 5,000 training images (the
 * book's split), the training set the first `limit` images, batch 32.
 *
 *   node apps/examples/dist/examples/optimizers.js --limit 10000 --epochs 3
 *   → a table on stdout, out/optimizers/optimizers.svg
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { random, setBackend } from "@webjax/core";
import * as nn from "@webjax/nn";
import { loadFashionMnist } from "@webjax/nn/datasets";
import * as optax from "@webjax/optax";
import { Command, InvalidArgumentError, Option } from "commander";
import { positiveInt, seedOption } from "../cli.js";
import { type Series, writeLinePlot } from "../plot/lines.js";

/** One optimiser under test: its name, its constant learning rate and how to build it. */
export interface OptimizerUnderTest {
  readonly name: string;
  readonly learningRate: number;
  readonly make: (learningRate: number) => optax.GradientTransformation;
}

/** The eight optimisers of the comparison, in the lectures' order. */
export const OPTIMIZERS: readonly OptimizerUnderTest[] = [
  { name: "SGD", learningRate: 0.05, make: (lr) => optax.sgd(lr) },
  { name: "momentum", learningRate: 0.01, make: (lr) => optax.momentum(lr, { momentum: 0.9 }) },
  { name: "Nesterov", learningRate: 0.01, make: (lr) => optax.nesterov(lr, { momentum: 0.9 }) },
  { name: "AdaGrad", learningRate: 0.01, make: (lr) => optax.adagrad(lr) },
  { name: "RMSProp", learningRate: 0.001, make: (lr) => optax.rmsprop(lr, { decay: 0.9 }) },
  { name: "Adam", learningRate: 0.001, make: (lr) => optax.adam(lr) },
  { name: "Nadam", learningRate: 0.001, make: (lr) => optax.nadam(lr) },
  { name: "AdaMax", learningRate: 0.002, make: (lr) => optax.adamax(lr) },
];

/** Options of `run` (the CLI's flags). */
export interface OptimizersOptions {
  /** Epochs per optimiser (default 3). */
  readonly epochs?: number;
  /** Train on the first `limit` training images (default 10,000; at most 55,000). */
  readonly limit?: number;
  /** The output folder: the plot goes there. */
  readonly out: string;
  readonly seed?: number;
  /** The validation accuracy that counts as converged (default 0.83). */
  readonly target?: number;
  /** Examples per step (default 32). */
  readonly batchSize?: number;
  /** Validate on the last `validationSize` training images (default 5,000, the book's split). */
  readonly validationSize?: number;
  /** Called after each optimiser's run with its row (the CLI prints it). */
  readonly onRow?: (row: OptimizerRow) => void;
}

/** One row of the comparison table. */
export interface OptimizerRow {
  readonly optimizer: string;
  readonly learningRate: number;
  /** The first epoch (1-based) whose validation accuracy reached the target, or null. */
  readonly epochsToTarget: number | null;
  /** The same as steps (epochsToTarget × steps per epoch), or null. */
  readonly stepsToTarget: number | null;
  readonly finalValAccuracy: number;
  readonly finalValLoss: number;
  readonly bestValAccuracy: number;
  /** Training wall time, compilation included, in seconds. */
  readonly seconds: number;
  /** Per epoch: validation loss and accuracy, training loss. */
  readonly valLoss: number[];
  readonly valAccuracy: number[];
  readonly loss: number[];
}

/** What `run` gives back: the table and the plot's path. */
export interface OptimizersResult {
  readonly rows: OptimizerRow[];
  readonly target: number;
  readonly stepsPerEpoch: number;
  readonly plot: string;
}

/** Trains the main job's model with each of the eight optimisers and writes the plot. */
export async function run(opts: OptimizersOptions): Promise<OptimizersResult> {
  const epochs = opts.epochs ?? 3;
  const seed = opts.seed ?? 0;
  const target = opts.target ?? 0.83;
  const batchSize = opts.batchSize ?? 32;
  const { train } = await loadFashionMnist();
  const all = train.labels.shape[0] as number;
  const nVal = opts.validationSize ?? 5000;
  const n = Math.min(opts.limit ?? 10_000, all - nVal);
  const tr = { x: train.images.slice([0, n]), y: train.labels.slice([0, n]) };
  const va = { x: train.images.slice([all - nVal, all]), y: train.labels.slice([all - nVal, all]) };
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const rows: OptimizerRow[] = [];
  for (const o of OPTIMIZERS) {
    const { model } = nn.presets.dense([300, 100, 10], {
      batchNorm: true,
      epochs,
      stepsPerEpoch,
      earlyStopping: false,
    });
    const started = performance.now();
    const { history } = await nn.fit(model, model.init(random.key(seed), tr.x), tr, {
      optimizer: o.make(o.learningRate),
      loss: "sparseCategoricalCrossentropy",
      metrics: ["accuracy"],
      epochs,
      batchSize,
      key: random.key(seed + 1),
      validationData: va,
      progress: false,
    });
    const seconds = (performance.now() - started) / 1000;
    const valAccuracy = history.val_accuracy ?? [];
    const valLoss = history.val_loss ?? [];
    const hit = valAccuracy.findIndex((a) => a >= target);
    const row: OptimizerRow = {
      optimizer: o.name,
      learningRate: o.learningRate,
      epochsToTarget: hit < 0 ? null : hit + 1,
      stepsToTarget: hit < 0 ? null : (hit + 1) * stepsPerEpoch,
      finalValAccuracy: valAccuracy.at(-1) ?? Number.NaN,
      finalValLoss: valLoss.at(-1) ?? Number.NaN,
      bestValAccuracy: Math.max(...valAccuracy),
      seconds,
      valLoss,
      valAccuracy,
      loss: history.loss ?? [],
    };
    rows.push(row);
    opts.onRow?.(row);
  }

  await mkdir(opts.out, { recursive: true });
  const plot = join(opts.out, "optimizers.svg");
  const curve = (key: "valLoss" | "valAccuracy"): Series[] =>
    rows.map((r) => ({ name: r.optimizer, points: r[key].map((v, i) => [i + 1, v] as const) }));
  await writeLinePlot(plot, `Optimisers on Fashion-MNIST: ${n} images, ${epochs} epochs, batch ${batchSize}`, [
    { title: "validation loss", x: "epoch", y: "cross-entropy", series: curve("valLoss") },
    { title: "validation accuracy", x: "epoch", y: "accuracy", series: curve("valAccuracy") },
  ]);
  return { rows, target, stepsPerEpoch, plot };
}

/** The table as Markdown: one row per optimiser. */
export function formatTable(rows: readonly OptimizerRow[], target: number): string {
  const head = `| optimiser | lr | epochs to ${(target * 100).toFixed(0)}% (steps) | final val acc | final val loss | time (s) |`;
  const lines = rows.map(
    (r) =>
      `| ${r.optimizer} | ${r.learningRate} | ${r.epochsToTarget === null ? "not reached" : `${r.epochsToTarget} (${r.stepsToTarget})`} | ` +
      `${(r.finalValAccuracy * 100).toFixed(2)}% | ${r.finalValLoss.toFixed(4)} | ${r.seconds.toFixed(1)} |`,
  );
  return [head, "|---|---|---|---|---|---|", ...lines].join("\n");
}

async function main(): Promise<void> {
  const program = new Command()
    .name("optimizers")
    .description(
      "Train the main job's model (784-300-100-10, He + ELU + batch norm) with eight optimisers and compare.",
    )
    .addOption(new Option("--epochs <n>", "epochs per optimiser").argParser(positiveInt("--epochs")).default(3))
    .addOption(
      new Option("--limit <n>", "train on the first n training images")
        .argParser(positiveInt("--limit"))
        .default(10_000),
    )
    .addOption(new Option("--batch-size <n>", "examples per step").argParser(positiveInt("--batch-size")).default(32))
    .addOption(
      new Option("--target <acc>", "validation accuracy that counts as converged")
        .argParser((v) => {
          const k = Number(v);
          if (!(k > 0 && k < 1)) throw new InvalidArgumentError(`--target must be in (0, 1), got '${v}'.`);
          return k;
        })
        .default(0.83),
    )
    .addOption(seedOption("the PRNG seed (init and shuffles)"))
    .addOption(new Option("--out <dir>", "where the plot goes").default(join("out", "optimizers")))
    .showHelpAfterError("(run with --help for the usage)")
    .allowExcessArguments(false);
  program.parse();
  const o = program.opts<{
    epochs: number;
    limit: number;
    batchSize: number;
    target: number;
    seed: number;
    out: string;
  }>();
  setBackend("cpu");
  console.log(
    `8 optimisers × ${o.epochs} epochs on ${o.limit} Fashion-MNIST images (batch ${o.batchSize}, seed ${o.seed}), validated on 5,000`,
  );
  const r = await run({
    ...o,
    onRow: (row) =>
      console.log(
        `${row.optimizer.padEnd(9)} val_accuracy ${row.valAccuracy.map((a) => a.toFixed(4)).join(" → ")} (${row.seconds.toFixed(1)} s)`,
      ),
  });
  console.log(`\n${formatTable(r.rows, r.target)}\n`);
  console.log(`plot: ${r.plot}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
