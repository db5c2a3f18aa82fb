/**
 * The main job's recipe (Géron, *Hands-On Machine Learning*, ch. 11) on Fashion-MNIST, written
 * only with the public API, as a user would: MLP 784-300-100-10 with He init, ELU and batch norm
 * (`nn.presets.dense`), Nadam on a 1cycle schedule, early stopping that restores the best
 * weights, batch 128, through `nn.fit` (a jitted, donated step). The last 5,000 training images
 * are the validation set, as in the book; the 10,000 test images are scored once, at the end.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Array, random } from "@webjax/core";
import * as nn from "@webjax/nn";
import { type Dataset, loadFashionMnist } from "@webjax/nn/datasets";
import type { GradientTransformation } from "@webjax/optax";

/** The recipe's knobs (the CLI's flags). */
export interface RecipeOptions {
  readonly epochs: number;
  readonly preset: "dense" | "selu";
  readonly optimizer: "nadam" | "momentum";
  readonly schedule: "1cycle" | "constant";
  readonly batchSize: number;
  readonly seed: number;
  /** The output folder: the checkpoint and the plot go there. */
  readonly out: string;
  /** The peak learning rate of the schedule. */
  readonly learningRate?: number;
  /** Train on the first `limit` training images only (the tests' small slice). */
  readonly limit?: number;
  readonly progress?: nn.ProgressOption;
  /** Called after each epoch with its wall time. */
  readonly onEpoch?: (epoch: number, seconds: number, logs: Record<string, number>) => void;
}

/** What a run gives back. */
export interface RecipeResult {
  readonly testAccuracy: number;
  readonly history: nn.History;
  readonly secondsPerEpoch: number[];
  readonly epochsRun: number;
  readonly stoppedEarly: boolean;
  readonly bestEpoch: number | undefined;
  readonly checkpoint: string;
  readonly config: Readonly<Record<string, string>>;
}

/** The default peak learning rates (1cycle): Nadam 3e-3, Nesterov momentum 3e-2. */
export const PEAK = { nadam: 3e-3, momentum: 3e-2 } as const;

function buildPreset(o: RecipeOptions, stepsPerEpoch: number) {
  const common = {
    epochs: o.epochs,
    stepsPerEpoch,
    optimizer: o.optimizer,
    schedule: o.schedule,
    learningRate: o.learningRate ?? PEAK[o.optimizer],
  } as const;
  return o.preset === "dense"
    ? nn.presets.dense([300, 100, 10], { ...common, batchNorm: true })
    : nn.presets.selfNormalizing([300, 100, 10], common);
}

/** Loads the data, trains, scores the test set and writes the checkpoint. */
export async function trainFashionMnist(o: RecipeOptions, data?: Dataset): Promise<RecipeResult> {
  const { train, test } = data ?? (await loadFashionMnist());
  const all = train.labels.shape[0] as number;
  const n = Math.min(o.limit ?? all, all);
  const nVal = Math.min(5000, Math.floor(n / 12));
  let x: Array = train.images.slice([0, n]);
  let xTest: Array = test.images;
  const y = train.labels.slice([0, n]);
  if (o.preset === "selu") {
    // SELU self-normalises standardised inputs: scale with the training set's statistics.
    const scaler = nn.data.standardScaler();
    const flat = x.reshape([n, 784]);
    const stats = scaler.fit(flat.slice([0, n - nVal]));
    x = scaler.transform(stats, flat);
    xTest = scaler.transform(stats, xTest.reshape([-1, 784]));
  }
  const [tr, va] = nn.data.trainValidationSplit({ x, y }, { validationSize: nVal });
  const stepsPerEpoch = Math.ceil((n - nVal) / o.batchSize);
  const p = buildPreset(o, stepsPerEpoch);
  if (o.preset === "selu") await p.checkInputs(tr.x);
  const times: number[] = [];
  let last = performance.now();
  const result = await nn.fit(p.model, p.model.init(random.key(o.seed), tr.x), tr, {
    optimizer: p.optimizer as GradientTransformation,
    loss: "sparseCategoricalCrossentropy",
    metrics: ["accuracy"],
    epochs: o.epochs,
    batchSize: o.batchSize,
    key: random.key(o.seed + 1),
    validationData: va,
    ...(p.earlyStopping ? { earlyStopping: p.earlyStopping } : {}),
    ...(o.progress === undefined ? {} : { progress: o.progress }),
    onEpochEnd: (epoch, logs) => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
      o.onEpoch?.(epoch, times.at(-1) as number, logs);
    },
  });
  const [logits] = p.model.apply(result.variables, xTest);
  const testAccuracy = await nn.metrics.accuracy(logits, test.labels).item();
  await mkdir(o.out, { recursive: true });
  const checkpoint = join(o.out, "fashion-mnist.safetensors");
  await nn.saveCheckpoint(
    checkpoint,
    { params: result.variables.params, state: result.variables.state },
    {
      metadata: { recipe: JSON.stringify(p.config), testAccuracy: testAccuracy.toFixed(4) },
    },
  );
  const es = result.earlyStopping;
  return {
    testAccuracy,
    history: result.history,
    secondsPerEpoch: times,
    epochsRun: result.epochsRun,
    stoppedEarly: es?.stop ?? false,
    bestEpoch: es?.bestWeights ? es.bestEpoch : undefined,
    checkpoint,
    config: p.config,
  };
}
