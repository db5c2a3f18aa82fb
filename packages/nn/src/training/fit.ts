/**
 * `fit`: a small Keras-style training loop over the public API — epochs of shuffled batches
 * through one jitted, donated training step, validation, metrics, callbacks, early stopping,
 * reduce-on-plateau, checkpoints, progress and a history. JAX users may write their own loop
 * instead (the docs show both); `fit` is that loop, written once and tested.
 */
import { type Array, np, type PyTree, random, tree, WebjaxError } from "@webjax/core";
import {
  type GradientTransformation,
  type ReduceOnPlateauOptions,
  type ReduceOnPlateauState,
  reduceOnPlateau,
} from "@webjax/optax";
import { saveCheckpoint } from "../checkpoint/index.js";
import { batches } from "../data/batches.js";
import { trainValidationSplit } from "../data/split.js";
import type { Module, Variables } from "../module.js";
import { type EarlyStopping, type EarlyStoppingState, monitorMode, restoredWeights } from "./early-stopping.js";
import { checkClassLabels, checkFitArguments } from "./fit-checks.js";
import { defaultProgress, makeReporter, type ProgressInfo, type ProgressOption, yieldToEventLoop } from "./progress.js";
import {
  type LossFn,
  type LossName,
  type MetricFn,
  makeEvalStep,
  makeTrainStep,
  resolveLoss,
  resolveMetrics,
  type TrainCarry,
  withConstraints,
  zeroSums,
} from "./steps.js";

/** Inputs and targets: arrays with a common leading example axis. */
export interface Dataset {
  readonly x: Array;
  readonly y: Array;
}

/**
 * What callbacks see at an epoch's end. `variables` and `optState` are copies made on first
 * access (the next step donates, so reuses, the live buffers): keep them as long as you like.
 */
export interface EpochContext {
  readonly variables: Variables;
  readonly optState: PyTree;
  readonly history: History;
}

/** Per-epoch logs, Keras' names: `loss`, metrics, `val_loss`, `val_<metric>`, `learning_rate`, and `epoch`. */
export type History = Record<string, number[]>;

/** Options of `fit`. */
export interface FitOptions {
  readonly optimizer: GradientTransformation;
  /** A Keras loss name (outputs are logits) or `(output, target) → scalar`. */
  readonly loss: LossName | LossFn;
  readonly epochs: number;
  /** Default 32, as Keras. */
  readonly batchSize?: number;
  /** The PRNG key of the shuffles and of dropout. Epoch e is a function of (key, e) alone. */
  readonly key: Array;
  /** `["accuracy"]` (Keras' accuracy: argmax, or thresholded logits for one output unit) or `{ name: fn }`. */
  readonly metrics?: ReadonlyArray<"accuracy" | "acc"> | Readonly<Record<string, MetricFn>>;
  readonly validationData?: Dataset;
  /** The last fraction of the data held out for validation (Keras' `validation_split`). */
  readonly validationSplit?: number;
  /** Shuffle each epoch (default true). */
  readonly shuffle?: boolean;
  /** Start at this epoch (resuming: with `optState`, the run continues as if never stopped). */
  readonly initialEpoch?: number;
  /** The optimiser state to resume from (default `optimizer.init(params)`). */
  readonly optState?: PyTree;
  /** The reduce-on-plateau state to resume from (a checkpoint's `plateauState`). */
  readonly plateauState?: PyTree;
  readonly earlyStopping?: EarlyStopping;
  /** Keras' ReduceLROnPlateau through optax's reduceOnPlateau, fed `monitor` once per epoch. */
  readonly reduceOnPlateau?: ReduceOnPlateauOptions & { readonly monitor?: string };
  /** Save `{ params, state, optState, epoch, key }` after each epoch (or only on improvement). */
  readonly checkpoint?: { readonly path: string; readonly saveBestOnly?: boolean; readonly monitor?: string };
  readonly progress?: ProgressOption;
  /** Return `"stop"` to end training. */
  readonly onEpochEnd?: (epoch: number, logs: Record<string, number>, ctx: EpochContext) => unknown;
  readonly onBatchEnd?: (epoch: number, batch: number) => unknown;
}

/** What `fit` returns. */
export interface FitResult {
  /** The final variables (the best ones when early stopping restores them). */
  readonly variables: Variables;
  readonly optState: PyTree;
  readonly history: History;
  /** Epochs run in this call. */
  readonly epochsRun: number;
  /** The early-stopping state at the end, when early stopping was on. */
  readonly earlyStopping?: EarlyStoppingState;
}

const copyTree = <T>(t: T): T => tree.map((x: unknown) => np.copy(x as Array), t as PyTree) as T;

async function readSums(sums: Record<string, Array>, prefix = ""): Promise<Record<string, number>> {
  // Keras' order: the loss, then the metrics.
  const keys = ["loss", ...Object.keys(sums).filter((k) => k !== "count" && k !== "loss")];
  const [count, ...vals] = await Promise.all([
    (sums.count as Array).item(),
    ...keys.map((k) => (sums[k] as Array).item()),
  ]);
  return Object.fromEntries(keys.map((k, i) => [`${prefix}${k}`, (vals[i] as number) / count]));
}

/** The learning rate an `injectHyperparams` optimiser carries, if any. */
async function learningRateOf(optState: PyTree, scale: Array): Promise<number | undefined> {
  const hit = tree.leavesWithPath(optState).find(([p]) => /hyperparams\/(learningRate|learning_rate)$/.test(p));
  if (!hit) return undefined;
  return (await (hit[1] as Array).item()) * (await scale.item());
}

/**
 * Trains `model` from `variables` on `data`; see `FitOptions`.
 *
 * ```ts
 * const { variables: trained, history } = await nn.fit(model, vars, { x, y }, {
 *   optimizer: optax.nadam(1e-3), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"],
 *   epochs: 10, key: random.key(1), validationSplit: 0.1,
 *   earlyStopping: nn.earlyStopping({ patience: 3, restoreBestWeights: true }),
 * });
 * ```
 */
export async function fit(model: Module, variables: Variables, data: Dataset, opts: FitOptions): Promise<FitResult> {
  checkFitArguments(variables, data, opts as unknown as Record<string, unknown>);
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1)
    throw new WebjaxError(`fit: epochs must be a positive integer, got ${opts.epochs}`);
  if (opts.validationData && opts.validationSplit !== undefined) {
    throw new WebjaxError("fit: pass validationData or validationSplit, not both");
  }
  const [train, validation] =
    opts.validationSplit !== undefined && opts.validationSplit !== 0
      ? trainValidationSplit(data, { validationFraction: opts.validationSplit })
      : [data, opts.validationData];
  const loss = resolveLoss(opts.loss);
  if (typeof opts.loss === "string" && opts.loss.replace(/_/g, "").toLowerCase() === "sparsecategoricalcrossentropy") {
    await checkClassLabels(model, variables, train.x, train.y, "training");
    if (validation) await checkClassLabels(model, variables, validation.x, validation.y, "validation");
  }
  if (opts.checkpoint) await prepareCheckpointDir(opts.checkpoint.path);
  const metrics = resolveMetrics(opts.metrics);
  const tx = withConstraints(model, opts.optimizer);
  const trainStep = makeTrainStep(model, tx, loss, metrics);
  const evalStep = makeEvalStep(model, loss, metrics);
  const batchSize = opts.batchSize ?? 32;
  const [dataKey, dropKey] = [random.foldIn(opts.key, 0), random.foldIn(opts.key, 1)];
  const ds = batches(train, { batchSize, shuffle: opts.shuffle ?? true, key: dataKey });
  const names = Object.keys(metrics);
  const plateau = opts.reduceOnPlateau ? reduceOnPlateau(opts.reduceOnPlateau) : undefined;
  let plateauState = plateau
    ? ((opts.plateauState as ReduceOnPlateauState | undefined) ?? plateau.init({}))
    : undefined;
  const es = opts.earlyStopping;
  let esState = es?.init();
  const progress = opts.progress ?? defaultProgress();
  const reporter = await makeReporter(progress);
  // Mid-epoch reports read the running sums (a sync with the device): only a bar or a callback wants them.
  const reportsMidEpoch = progress === "bar" || typeof progress === "function";
  const history: History = {};
  let carry: TrainCarry = {
    params: copyTree(variables.params),
    state: copyTree(variables.state),
    optState: opts.optState === undefined ? (tx.init(variables.params) as PyTree) : copyTree(opts.optState),
    sums: zeroSums(names),
  };
  const first = opts.initialEpoch ?? 0;
  const ckMonitor = opts.checkpoint?.monitor ?? (validation ? "val_loss" : "loss");
  const ckSign = opts.checkpoint?.saveBestOnly && monitorMode(ckMonitor) === "max" ? -1 : 1;
  let bestCheckpoint = Number.POSITIVE_INFINITY;
  let epochsRun = 0;
  try {
    for (let epoch = first; epoch < opts.epochs; epoch++) {
      const t0 = performance.now();
      let lastYield = t0;
      let lastReport = t0;
      reporter.start(epoch, opts.epochs, ds.numBatches);
      const epochKey = random.foldIn(dropKey, epoch);
      const lrScale = plateauState ? plateauState.scale : np.ones([], { dtype: "float32" });
      let b = 0;
      for (const batch of ds.epoch(epoch)) {
        carry = trainStep(carry, batch.x, batch.y, random.foldIn(epochKey, b), lrScale);
        opts.onBatchEnd && (await opts.onBatchEnd(epoch, b));
        b++;
        const now = performance.now();
        if (reportsMidEpoch && now - lastReport > 250 && b < ds.numBatches) {
          lastReport = now;
          const rate = (b * 1000) / (now - t0);
          const [logs, lr] = [await readSums(carry.sums), await learningRateOf(carry.optState, lrScale)];
          reporter.update(progressInfo(epoch, opts.epochs, b, ds.numBatches, logs, rate, false, lr));
        }
        if (now - lastYield > 16) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
      const logs = await readSums(carry.sums);
      carry = { ...carry, sums: zeroSums(names) };
      const vars: Variables = { params: carry.params, state: carry.state };
      if (validation) {
        let sums = zeroSums(names);
        for (const vb of batches(validation, { batchSize })) sums = evalStep(vars, sums, vb.x, vb.y);
        Object.assign(logs, await readSums(sums, "val_"));
      }
      const lr = await learningRateOf(carry.optState, lrScale);
      if (lr !== undefined) logs.learning_rate = lr;
      for (const [k, v] of Object.entries({ ...logs, epoch })) {
        const list = history[k] ?? [];
        list.push(v);
        history[k] = list;
      }
      epochsRun++;
      const seconds = (performance.now() - t0) / 1000;
      reporter.end(
        progressInfo(epoch, opts.epochs, ds.numBatches, ds.numBatches, logs, ds.numBatches / seconds, true, lr),
      );
      if (plateau && plateauState) {
        const name = opts.reduceOnPlateau?.monitor ?? (validation ? "val_loss" : "loss");
        // optax's reduce-on-plateau minimises: a metric that should rise is fed negated.
        const value = monitored(logs, name, "reduceOnPlateau") * (monitorMode(name) === "max" ? -1 : 1);
        plateauState = plateau.update({}, plateauState, {}, { value })[1];
      }
      if (opts.checkpoint) {
        const c = opts.checkpoint;
        const value = c.saveBestOnly ? ckSign * monitored(logs, ckMonitor, "checkpoint") : 0;
        if (!c.saveBestOnly || value < bestCheckpoint) {
          bestCheckpoint = value;
          await saveCheckpoint(c.path, {
            params: carry.params,
            state: carry.state,
            optState: carry.optState,
            epoch: epoch + 1,
            key: opts.key,
            ...(plateauState ? { plateauState } : {}),
          });
        }
      }
      let stop = false;
      if (es && esState) {
        // The best weights are kept by reference: give early stopping a copy the next step cannot donate.
        const weights = es.options.restoreBestWeights ? copyTree(vars) : undefined;
        esState = es.update(esState, { epoch, logs, ...(weights ? { weights } : {}) });
        stop = esState.stop;
      }
      if (
        opts.onEpochEnd &&
        (await opts.onEpochEnd(epoch, logs, epochContext(vars, carry.optState, history))) === "stop"
      )
        stop = true;
      if (stop) break;
    }
  } finally {
    reporter.close();
  }
  const current: Variables = { params: carry.params, state: carry.state };
  const final = esState ? (restoredWeights(esState, current) as Variables) : current;
  return {
    variables: final,
    optState: carry.optState,
    history,
    epochsRun,
    ...(esState ? { earlyStopping: esState } : {}),
  };
}

/** The callbacks' view of the carry: copies on first access, so the next step's donation cannot poison them. */
function epochContext(vars: Variables, optState: PyTree, history: History): EpochContext {
  let v: Variables | undefined;
  let o: PyTree | undefined;
  return {
    get variables() {
      v ??= copyTree(vars);
      return v;
    },
    get optState() {
      o ??= copyTree(optState);
      return o;
    },
    history,
  };
}

/** Creates a checkpoint's folder before training, so a bad path fails before the first epoch. */
async function prepareCheckpointDir(path: string): Promise<void> {
  if (typeof process === "undefined" || process.versions?.node === undefined) return;
  const name = "node:fs/promises";
  const fs = (await import(/* @vite-ignore */ name)) as typeof import("node:fs/promises");
  const dir = path.replace(/[\\/][^\\/]*$/, "");
  if (dir !== path && dir !== "") await fs.mkdir(dir, { recursive: true });
}

function monitored(logs: Record<string, number>, name: string, what: string): number {
  const v = logs[name];
  if (v === undefined)
    throw new WebjaxError(
      `fit: ${what} monitors ${JSON.stringify(name)}, but the logs hold ${Object.keys(logs).join(", ")}`,
    );
  return v;
}

function progressInfo(
  epoch: number,
  epochs: number,
  batch: number,
  batchCount: number,
  logs: Record<string, number>,
  rate: number,
  epochEnd: boolean,
  learningRate?: number,
): ProgressInfo {
  return {
    epoch,
    epochs,
    batch,
    batches: batchCount,
    logs,
    stepsPerSecond: rate,
    etaSeconds: rate > 0 ? (batchCount - batch) / rate : Number.POSITIVE_INFINITY,
    epochEnd,
    ...(learningRate === undefined ? {} : { learningRate }),
  };
}
