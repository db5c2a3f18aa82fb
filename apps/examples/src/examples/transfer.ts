/**
 * Transfer learning as the lectures teach it (Géron, *Hands-On Machine Learning*, ch. 11):
 *
 * 1. Model A learns the 8 Fashion-MNIST classes other than sandal (5) and shirt (6).
 * 2. Task B is the binary "shirt (1) or sandal (0)?" with a small training set: 200 images.
 *    Model B reuses A's hidden layers under a fresh one-unit head
 *    (`nn.transfer(…, { replaceHead: 1 })`), trains 4 epochs with them frozen
 *    (`nn.freezeWith`), then unfreezes them all (`nn.unfreeze(…, { all: true })`) and trains 16
 *    more at a tenth of the learning rate.
 * 3. The same architecture trained from scratch on the same 200 images for 20 epochs is the
 *    baseline; both are scored on the 2,000 test images of the two classes, and the gain is
 *    reported as the book does: the drop in error rate.
 *
 * Sandal and shirt are the second edition's pair. The pair is easy, so the error rates are
 * tiny (a handful of the 2,000 test images) and the relative drop is noisy. The book says as
 * much: its own factor of 4 was chosen among many tries, and transfer learning does little for
 * small dense nets. Other pairs, measured with seeds 0 and 1 in this setup: for the third
 * edition's T-shirt/top vs pullover, scratch and transfer are within noise (about 4.3% error
 * each). For sandal vs sneaker, transfer is worse (8% error from scratch, 13–17% reused): A's
 * only footwear class is the ankle boot.
 *
 *   node apps/examples/dist/examples/transfer.js --epochs-a 5
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Array, np, type PyTree, random, tree } from "@webjax/core";
import * as nn from "@webjax/nn";
import { FASHION_MNIST_CLASSES, loadFashionMnist } from "@webjax/nn/datasets";
import * as optax from "@webjax/optax";
import { Command, Option } from "commander";
import { positiveInt, seedOption } from "../cli.js";
import { writeLinePlot } from "../plot/lines.js";

/** Task B's negative and positive classes (label 0 and 1). */
export const CLASS_B = { negative: 5, positive: 6 } as const;
/** Task B's training-set size (half of each class). */
export const TRAIN_B = 200;
const VAL_B = 1000;
const HIDDEN = [100, 50, 50, 50, 50] as const;
const BATCH = 32;
/** Epochs of model B with the reused layers frozen, then unfrozen; the baseline gets the sum. */
const EPOCHS_FROZEN = 4;
const EPOCHS_TUNED = 16;
const LR = 1e-2;
const LR_TUNED = 1e-3;

/** The lectures' net: 784 → 100 → 50 × 4 (ReLU, He normal) → `outputs`. */
function buildModel(outputs: number): nn.Module {
  const layers: nn.Layer[] = [nn.flatten()];
  for (const units of HIDDEN) layers.push(nn.dense(units, { kernelInit: nn.initializers.heNormal() }), nn.relu);
  layers.push(nn.dense(outputs));
  return nn.sequential(...layers);
}

const sgd = (lr: number) => optax.sgd(lr, { momentum: 0.9 });

/** What `run` returns. */
export interface TransferResult {
  /** Model A's accuracy on the test images of its 8 classes. */
  readonly accuracyA: number;
  /** Task B's test accuracy (2,000 images) of the net trained from scratch and of the transferred one. */
  readonly scratchAccuracy: number;
  readonly transferAccuracy: number;
  /** The error-rate reduction: (errScratch − errTransfer) / errScratch (negative when transfer is worse). */
  readonly errorReduction: number;
  /** Per reused layer: whether its params were bit-identical after the frozen epochs. */
  readonly frozenUnchanged: Record<string, boolean>;
  /** Whether the head's params changed during the frozen epochs (it is the part that trains). */
  readonly headChanged: boolean;
  /** Task B's validation accuracy per epoch (1,000 further training images of the two classes). */
  readonly curves: { readonly scratch: number[]; readonly transfer: number[] };
  readonly trainSizeA: number;
  readonly plot: string;
}

/** Every leaf's bytes, by path. */
async function snapshot(t: PyTree): Promise<Map<string, Uint8Array>> {
  const leaves = tree.leavesWithPath(t);
  const bytes = await Promise.all(
    leaves.map(async ([, l]) => new Uint8Array((await (l as Array).data()).slice().buffer)),
  );
  return new Map(leaves.map(([p], i) => [p, bytes[i] as Uint8Array]));
}

const sameBytes = (a: Map<string, Uint8Array>, b: Map<string, Uint8Array>) =>
  a.size === b.size &&
  [...a].every(([p, x]) => {
    const y = b.get(p);
    return y !== undefined && y.length === x.length && y.every((v, i) => v === x[i]);
  });

/** The positions of the examples whose label is in `classes`, in order. */
function positions(labels: ArrayLike<number>, classes: readonly number[], from = 0, to = labels.length): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) if (classes.includes(labels[i] as number)) out.push(i);
  return out;
}

/**
 * Trains model A on the first `limit` training images of its 8 classes (`epochsA` epochs), then
 * model B by transfer and from scratch on 200 images of the other two, and scores both.
 */
export async function run(opts: {
  limit?: number;
  out: string;
  seed?: number;
  epochsA?: number;
}): Promise<TransferResult> {
  const seed = opts.seed ?? 0;
  const epochsA = opts.epochsA ?? 5;
  const { train, test } = await loadFashionMnist();
  const trainLabels = await train.labels.data();
  const testLabels = await test.labels.data();
  const classesB: number[] = [CLASS_B.negative, CLASS_B.positive];
  const classesA = FASHION_MNIST_CLASSES.map((_, c) => c).filter((c) => !classesB.includes(c));
  // A's labels 0..7 in the order of the original classes; B's label is "is it the positive class".
  const relabelA = (labels: ArrayLike<number>, idx: number[]) =>
    np.array(
      idx.map((i) => classesA.indexOf(labels[i] as number)),
      { dtype: "int32" },
    );
  const labelB = (labels: ArrayLike<number>, idx: number[]) =>
    np.array(
      idx.map((i) => (labels[i] === CLASS_B.positive ? 1 : 0)),
      { dtype: "float32" },
    );
  const pick = (x: Array, idx: number[]) => np.take(x, np.array(idx, { dtype: "int32" }), { axis: 0 });

  // Model A: 8 classes.
  const idxA = positions(trainLabels, classesA, 0, Math.min(opts.limit ?? 20_000, trainLabels.length));
  const testIdxA = positions(testLabels, classesA);
  const xA = pick(train.images, idxA);
  const yA = relabelA(trainLabels, idxA);
  const modelA = buildModel(classesA.length);
  const a = await nn.fit(
    modelA,
    modelA.init(random.key(seed), xA),
    { x: xA, y: yA },
    {
      optimizer: sgd(LR),
      loss: "sparseCategoricalCrossentropy",
      epochs: epochsA,
      batchSize: BATCH,
      key: random.key(seed + 1),
      progress: false,
    },
  );
  const [logitsA] = modelA.apply(a.variables, pick(test.images, testIdxA));
  const accuracyA = await nn.metrics.accuracy(logitsA, relabelA(testLabels, testIdxA)).item();

  // Task B: the first 100 training images of each class, the next 1,000 for validation curves.
  const allB = positions(trainLabels, classesB);
  const idxB = allB.slice(0, TRAIN_B);
  const valIdxB = allB.slice(TRAIN_B, TRAIN_B + VAL_B);
  const testIdxB = positions(testLabels, classesB);
  const dataB = { x: pick(train.images, idxB), y: labelB(trainLabels, idxB) };
  const valB = { x: pick(train.images, valIdxB), y: labelB(trainLabels, valIdxB) };
  const xTestB = pick(test.images, testIdxB);
  const yTestB = labelB(testLabels, testIdxB);
  const modelB = buildModel(1);
  const common = {
    loss: "binaryCrossentropy",
    metrics: ["accuracy"],
    batchSize: BATCH,
    validationData: valB,
    progress: false,
  } as const;
  const testAccuracy = async (v: nn.Variables) => {
    const [logits] = modelB.apply(v, xTestB);
    return await logits.reshape([-1]).greater(0).equal(yTestB.greater(0.5)).astype("float32").mean().item();
  };

  // From scratch: the same net, the same 200 images, as many epochs as the two phases together.
  const scratch = await nn.fit(modelB, modelB.init(random.key(seed + 2), dataB.x), dataB, {
    ...common,
    optimizer: sgd(LR),
    epochs: EPOCHS_FROZEN + EPOCHS_TUNED,
    key: random.key(seed + 3),
  });

  // Transfer: A's hidden layers under a fresh head, frozen for a few epochs…
  const t = nn.transfer(a.variables, { init: modelB.init(random.key(seed + 2), dataB.x), replaceHead: 1 });
  const params = t.variables.params as Record<string, PyTree>;
  const before = new Map(
    await Promise.all(Object.keys(params).map(async (n) => [n, await snapshot(params[n] as PyTree)] as const)),
  );
  const warm = await nn.fit(modelB, t.variables, dataB, {
    ...common,
    optimizer: nn.freezeWith(sgd(LR), t.labels),
    epochs: EPOCHS_FROZEN,
    key: random.key(seed + 3),
  });
  const warmParams = warm.variables.params as Record<string, PyTree>;
  const frozenUnchanged: Record<string, boolean> = {};
  for (const name of t.reused) {
    if (name in params)
      frozenUnchanged[name] = sameBytes(
        before.get(name) as Map<string, Uint8Array>,
        await snapshot(warmParams[name] as PyTree),
      );
  }
  const head = t.head[0] as string;
  const headChanged = !sameBytes(
    before.get(head) as Map<string, Uint8Array>,
    await snapshot(warmParams[head] as PyTree),
  );
  // …then all of them trainable, at a tenth of the learning rate.
  const tuned = await nn.fit(modelB, warm.variables, dataB, {
    ...common,
    optimizer: nn.freezeWith(sgd(LR_TUNED), nn.unfreeze(t.labels, { all: true })),
    epochs: EPOCHS_TUNED,
    key: random.key(seed + 4),
  });

  const scratchAccuracy = await testAccuracy(scratch.variables);
  const transferAccuracy = await testAccuracy(tuned.variables);
  const curves = {
    scratch: scratch.history.val_accuracy ?? [],
    transfer: [...(warm.history.val_accuracy ?? []), ...(tuned.history.val_accuracy ?? [])],
  };
  await mkdir(opts.out, { recursive: true });
  const plot = join(opts.out, "transfer.svg");
  const names = `${FASHION_MNIST_CLASSES[CLASS_B.positive]} or ${FASHION_MNIST_CLASSES[CLASS_B.negative]?.toLowerCase()}`;
  // Error rates on a log axis: at 99% accuracy the curves differ in the third decimal.
  const errors = (acc: number[]) => acc.map((v, i) => [i + 1, Math.max(1 - v, 1e-4)] as const);
  await writeLinePlot(plot, `Transfer learning: ${names}? (${TRAIN_B} training images)`, [
    {
      title: `validation error rate (${VAL_B} images)`,
      x: "epoch",
      y: "1 − accuracy",
      logY: true,
      series: [
        { name: "from scratch", points: errors(curves.scratch) },
        { name: "reusing model A", points: errors(curves.transfer) },
      ],
      marks: [{ x: EPOCHS_FROZEN + 0.5, label: "unfrozen, lr / 10" }],
    },
  ]);
  return {
    accuracyA,
    scratchAccuracy,
    transferAccuracy,
    errorReduction: (transferAccuracy - scratchAccuracy) / (1 - scratchAccuracy),
    frozenUnchanged,
    headChanged,
    curves,
    trainSizeA: idxA.length,
    plot,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const program = new Command()
    .name("transfer")
    .description("Transfer learning on Fashion-MNIST: reuse a model of 8 classes for a binary task with 200 images.")
    .addOption(new Option("--epochs-a <n>", "epochs of model A").argParser(positiveInt("--epochs-a")).default(5))
    .addOption(
      new Option(
        "--limit <n>",
        "model A trains on its classes among the first n training images (default 20000)",
      ).argParser(positiveInt("--limit")),
    )
    .addOption(new Option("--out <dir>", "where the plot goes").default(join("out", "transfer")))
    .addOption(seedOption("the PRNG seed"))
    .showHelpAfterError("(run with --help for the usage)")
    .allowExcessArguments(false);
  program.parse();
  const o = program.opts<{ epochsA: number; limit?: number; out: string; seed: number }>();
  const started = performance.now();
  const r = await run({
    epochsA: o.epochsA,
    out: o.out,
    seed: o.seed,
    ...(o.limit === undefined ? {} : { limit: o.limit }),
  });
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  console.log(`model A (8 classes, ${r.trainSizeA} images, ${o.epochsA} epochs): test accuracy ${pct(r.accuracyA)}`);
  console.log(`task B, ${TRAIN_B} training images, 2,000 test images:`);
  console.log(`  from scratch      ${pct(r.scratchAccuracy)}  (error ${pct(1 - r.scratchAccuracy)})`);
  console.log(`  reusing model A   ${pct(r.transferAccuracy)}  (error ${pct(1 - r.transferAccuracy)})`);
  console.log(`  error rate ${r.errorReduction >= 0 ? "down" : "up"} by ${pct(Math.abs(r.errorReduction))}`);
  console.log(
    `frozen layers bit-identical during the frozen epochs: ${Object.values(r.frozenUnchanged).every(Boolean)}`,
  );
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)\nplot: ${r.plot}`);
}
